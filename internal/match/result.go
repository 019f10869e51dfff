package match

import (
	"fmt"
	"math"
	"slices"

	"github.com/vidprint/vidprint/internal/view"
)

// Match is one occurrence of (a stretch of) the clip in the video.
type Match struct {
	// VideoStart and VideoEnd are seconds of video time, ClipStart and
	// ClipEnd of clip time. With Speed they are what is reported: for a
	// stretch that is only part of the clip, the speed nearest 1 that fits
	// it about as well (see steady), while the measures below are of the
	// fitted alignment.
	VideoStart, VideoEnd float64
	ClipStart, ClipEnd   float64
	// Score combines Similarity, Local and Consistency (see prescore and
	// settle); it ranks alignments and decides what counts as a match.
	Score float64
	// Similarity is the mean cosine of the matched samples, centred by the
	// reference's mean: the video's, or the one it was given
	// (NewSegmentReference).
	Similarity float64
	// Prominence is Similarity less the video's typical coarse score.
	Prominence float64
	Speed      float64   // clip speed relative to the video
	View       view.Name // the clip view that matched best
	Samples    int       // clip samples in the matched stretch
	// Consistency is the share of matched samples whose best video sample
	// nearby is the aligned one (see consistency); 0 where the score could
	// not reach the threshold without it, or where a better match covers
	// the same stretch (Matches then leave the alignment out).
	Consistency float64
	// AlikeStart and AlikeEnd, for a one-sample clip (a still image), are
	// the first and last video times that look about as alike as the
	// match: those of the thumbnails that tie with the best where pixels
	// placed it (see placeStill), else of the samples whose similarity is
	// within AlikeMargin of the match's. In nearly still footage many
	// frames look alike, and a wide span says the time cannot be told.
	// Zero for longer clips.
	AlikeStart, AlikeEnd float64
	// Lead is by how much, on average, each matched sample's aligned video
	// sample (or a neighbour) is more like it than any other video sample
	// within consistency's reach, in cosines centred as for Local: a copy
	// leads, another take of the same scene does not.
	Lead        float64
	view        *queryView
	start, a, b int
	fitSpeed    float64 // the speed scored; Speed may report a steadier one (see steady)
	partial     bool    // the stretch leaves out clip samples the alignment covers
	// fitStart and fitEnd are the video times of the fitted alignment,
	// which distinct compares: steady may move VideoStart and VideoEnd.
	fitStart, fitEnd float64
	brief            bool // scored on Similarity alone (see prescore)
	// Local is the mean cosine of the matched samples after subtracting
	// each side's own mean over the stretch: blind to what the whole clip
	// shares (a tint, a caption, grey), it measures whether the clip
	// changes as the video does.
	Local float64
	// Pixels is the pixel agreement of a borderline alignment (see
	// PixelAgreement), which then decides it, or of a still image with the
	// thumbnail that placed it (see StillPixelFloor); 0 where neither.
	Pixels         float64
	pixelChecked   bool
	placedByPixels bool
}

// Result is what Locate found.
type Result struct {
	// Matches are the occurrences at or above the threshold, best first.
	Matches []Match
	// Best is the best alignment found, even below the threshold, so that
	// "not found" can say how close it came. Samples is 0 when the clip
	// could not be aligned at all.
	Best Match
	// Curve is, for each second of the video, the best coarse score of a
	// clip aligned to start there: the similarity curve.
	Curve []float64
	// CurveStep is the video time between points of Curve.
	CurveStep float64
}

// repeats reports whether m covers the same stretch of video and of clip
// as k, by their fitted alignments, or is a still image's match within
// k's alike span.
func repeats(m, k Match) bool {
	return overlap(m.fitStart, m.fitEnd, k.fitStart, k.fitEnd) > 0.5 &&
		overlap(m.ClipStart, m.ClipEnd, k.ClipStart, k.ClipEnd) > 0.5 || WithinAlike(m, k)
}

// WithinAlike reports whether m and k are matches of one still image and
// m lies within k's alike span: another frame of the picture k found, with
// nothing to add.
func WithinAlike(m, k Match) bool {
	return m.Samples == 1 && k.Samples == 1 && k.AlikeStart <= m.VideoStart && m.VideoStart <= k.AlikeEnd
}

// PlacedByPixels tells whether a still image's match was placed in time by
// its pixels (see StillPixelFloor and Pixels) rather than its features.
func (m Match) PlacedByPixels() bool { return m.placedByPixels }

// PixelChecked tells whether the pixel check decided m (see Pixels).
func (m Match) PixelChecked() bool { return m.pixelChecked }

// Accepted applies the threshold; a negative threshold accepts everything.
func Accepted(m Match, threshold float64) bool {
	switch {
	case threshold < 0:
		return true
	case m.pixelChecked && m.Score >= threshold-PixelBelow && m.Score < threshold+PixelAbove:
		return m.Pixels >= PixelAgreement
	}
	return m.Score >= threshold && (m.brief || m.Consistency >= MinConsistency && m.Lead >= MinLead)
}

// distinct drops matches that repeat a better one: the same stretch of
// video and of clip found through another view, speed or start.
func distinct(ms []Match) []Match {
	slices.SortStableFunc(ms, func(a, b Match) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return 0
	})
	var out []Match
	for _, m := range ms {
		dup := false
		for _, k := range out {
			if repeats(m, k) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, m)
		}
	}
	return out
}

// overlap is the share of the shorter interval that the two intervals share.
func overlap(a0, a1, b0, b1 float64) float64 {
	shorter := math.Min(a1-a0, b1-b0)
	if shorter <= 0 {
		return 0
	}
	return math.Max(0, math.Min(a1, b1)-math.Max(a0, b0)) / shorter
}

// Why says why an alignment is not a match, for people.
func Why(m Match, threshold float64) string {
	switch {
	case Accepted(m, threshold):
		return "a match"
	case m.PixelChecked():
		return fmt.Sprintf("a borderline score (%.2f), and its pixels agree with the video's thumbnails by only %.3f (a copy's agree by %.2f or more): another take of the scene, not a copy",
			m.Score, m.Pixels, PixelAgreement)
	case m.Score >= threshold && m.Consistency < MinConsistency:
		return fmt.Sprintf("it follows the video frame by frame on only %.0f%% of its samples (a match needs %.0f%%)", 100*m.Consistency, 100*MinConsistency)
	case m.Score >= threshold:
		return fmt.Sprintf("its aligned frames are no more like it than others nearby (lead %.3f, a match needs %.2f): another take of the scene, not a copy", m.Lead, MinLead)
	case m.brief:
		return fmt.Sprintf("score %.2f is below the threshold %.2f (similarity %.2f: a match under %g s, such as a single image's, is judged by its similarity alone)",
			m.Score, threshold, m.Similarity, briefDuration)
	}
	return fmt.Sprintf("score %.2f is below the threshold %.2f (similarity %.2f, local correlation %.2f, frame-by-frame consistency %.0f%%)",
		m.Score, threshold, m.Similarity, m.Local, 100*m.Consistency)
}
