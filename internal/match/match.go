// Package match locates a clip in a video by sliding the clip's print along
// the video's print until the two line up.
//
// The search runs in two stages. A coarse stage pools both prints into
// 1-second rows, sketches them to fewer dimensions and scores every start
// second, every view of the clip and every playback speed. The best
// alignments are then scored exactly, sample by sample, at every nearby
// start sample, and the stretch of the clip that matches is cut out of the
// per-sample similarities. README.md ("Locate") describes the method and how
// the threshold was set.
package match

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
)

// Options tune Locate. Zero fields other than Threshold mean the defaults.
type Options struct {
	// Threshold is the lowest score reported as a match; DefaultOptions
	// sets DefaultThreshold. A negative threshold reports every candidate.
	Threshold float64
	// Speeds are the clip playback speeds tried, relative to the video
	// (default DefaultSpeeds). 1.25 means the clip plays 1.25x faster.
	Speeds []float64
	// MinDuration is the shortest stretch of clip, in seconds, that counts
	// as a match (default DefaultMinDuration; capped by the clip's and the
	// video's length).
	MinDuration float64
	// Workers bounds the goroutines of the coarse scores and of the exact
	// stage (default GOMAXPROCS).
	Workers int
	// Candidates bounds the coarse alignments scored exactly (default 40).
	Candidates int
	// EveryView also scores each view's best coarse alignment exactly,
	// where none of the view's is among the Candidates. A library's
	// projected rows rank alignments less surely, and the one view that
	// sees a cropped or grey copy can rank its right alignment below 40
	// of views that see nothing; search sets it. In locate's float rows
	// it found one clip more on the evaluation's seeds 2 and 3 and let
	// three room takes more through, so locate leaves it off.
	EveryView bool
	// BriefSimilarity is the similarity at which a match shorter than
	// 2 s, such as a single image's, scores DefaultThreshold
	// (default DefaultBriefSimilarity). It depends on the mean the video is
	// centred by: ImageSimilarity goes with a typical row.
	BriefSimilarity float64
}

// DefaultOptions are the settings the README's evaluation measured.
func DefaultOptions() Options {
	return Options{Threshold: DefaultThreshold, Speeds: DefaultSpeeds, MinDuration: DefaultMinDuration}
}

// Defaults. DefaultThreshold was set on the evaluation's development seed
// (eval/locate) and checked on its report seed.
const (
	DefaultThreshold = 0.37
	// DefaultMinDuration: on the development set, 2 s stretches at a
	// video's edge or of another take passed as often as copies' did
	// (99.45% of negatives rejected); from 3 s, 99.70%, every positive kept
	// (none matched less than 4 s of clip).
	DefaultMinDuration = 3.0
	// DefaultBriefSimilarity is where the evaluation's still images were
	// told from unrelated frames, each side centred by the video's mean.
	DefaultBriefSimilarity = 0.6
)

// ImageSimilarity is the similarity at which a single image scores the
// default threshold, both sides centred by the model's typical row (see
// model.TypicalRow), as search and locate compare one. On the
// evaluation's development seed (eval/locate -seed 2 -images 120) the
// images of unrelated videos scored up to 0.62, and those whose video came
// first from 0.70 (0.65 and 0.71 centred by the library's mean, on which
// it was set).
const ImageSimilarity = 0.68

// ImageViews keeps the whole-frame views (plain and mirrored) of a
// one-sample query. A single image has no motion to confirm where it
// lies, and a quarter of it resembles some frame of a large library by
// chance: on the evaluation's still images, window views put most of the
// false matches first (eval/locate's image section). Without either, it
// keeps them all.
func ImageViews(views []View) []View {
	var out []View
	for _, v := range views {
		if v.Name == "full" || v.Name == "flip" {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return views
	}
	return out
}

// DefaultSpeeds covers the 0.8x to 1.25x speed changes of re-uploads in
// steps whose drift over a 20 s clip stays within a pooled window.
var DefaultSpeeds = []float64{0.8, 0.85, 0.9, 0.95, 1, 1.05, 1.1, 1.15, 1.2, 1.25}

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
	Speed      float64 // clip speed relative to the video
	View       string  // the clip view that matched best
	Samples    int     // clip samples in the matched stretch
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

// candidate is a coarse alignment: view, speed and start window.
type candidate struct {
	view  int
	speed float64
	start int // reference window of the clip's first window
	score float64
}

const (
	// perRegion bounds the candidates kept around one start (views and
	// speeds agree there); maxCandidates bounds those scored exactly.
	perRegion     = 5
	maxCandidates = 40
)

// Locate finds the clip q in the reference r.
func Locate(ctx context.Context, r *Reference, q *Query, opts Options) (Result, error) {
	return r.locate(ctx, q, opts, true)
}

// RegionMinDuration is the shortest stretch, in seconds, that region
// features (Reference.AddRegions) report as a match. On the evaluation's
// development seed, two-second stretches of one person in one room matched
// the other take of the scene through its quarters (20 of 55 hard
// negatives, against 5 with whole frames); from about three seconds on they
// did no longer.
const RegionMinDuration = 4.0

// regionCandidates bounds the region search's exact stage: its rows are
// four times as long. On the development seed 12 lost two clips of 40's
// results, 24 none.
const regionCandidates = 24

// confidentScore is a whole-frame match's score beyond which the region
// search is skipped, for speed: most clips that are there stop at it. On
// the development seed a cut-off of 0.6 lost a clip (a wrong whole-frame
// match of 0.605 that the regions outscored at the right place), 0.7 none.
const confidentScore = 0.7

// locate is Locate; prune skips the consistency of candidates distinct
// will drop (see settle), which only a test turns off. With regions on both
// sides and no confident whole-frame match, a second search runs on them,
// and its matches of at least RegionMinDuration join the whole-frame ones.
func (r *Reference) locate(ctx context.Context, q *Query, opts Options, prune bool) (Result, error) {
	opts = withDefaults(opts)
	res, err := r.locateViews(ctx, q, opts, prune)
	if err != nil || r.regions == nil || q.regions == nil {
		return res, err
	}
	minRegion := int(math.Ceil(RegionMinDuration * r.fps))
	if q.n < minRegion || r.n < minRegion {
		return res, nil
	}
	for _, m := range res.Matches {
		if m.Score >= confidentScore && Accepted(m, opts.Threshold) {
			return res, nil
		}
	}
	ro := opts
	ro.MinDuration = max(opts.MinDuration, RegionMinDuration)
	ro.Candidates = min(ro.Candidates, regionCandidates)
	more, err := r.regions.locateViews(ctx, q.regions, ro, prune)
	if err != nil {
		return Result{}, err
	}
	found := res.Matches
	for _, m := range more.Matches {
		if m.Samples >= minRegion {
			found = append(found, m)
		}
	}
	res.Matches = distinct(found)
	if b := more.Best; b.Samples >= minRegion && (res.Best.Samples == 0 || b.Score > res.Best.Score) {
		res.Best = b
	}
	return res, nil
}

func (r *Reference) locateViews(ctx context.Context, q *Query, opts Options, prune bool) (Result, error) {
	coarse, err := coarseScores(ctx, r, q, opts.Workers)
	if err != nil {
		return Result{}, err
	}
	res := Result{CurveStep: Window / r.fps}
	cands, curve := coarseCandidates(r, q, coarse, opts.Speeds, opts.Candidates, opts.EveryView)
	res.Curve = curve

	typical := median(curve)
	minSamples := r.minSamples(q, opts.MinDuration)
	ms, err := r.refineAll(ctx, q, cands, minSamples, opts, typical)
	if err != nil {
		return Result{}, err
	}
	r.settle(ms, opts.Threshold, prune).into(&res)
	return res, nil
}

// refineAll refines the candidates on opts.Workers goroutines, the exact
// stage's cost, and returns those that align, in the candidates' order.
func (r *Reference) refineAll(ctx context.Context, q *Query, cands []candidate, minSamples int, opts Options, typical float64) ([]refined, error) {
	slowest, fastest := slices.Min(opts.Speeds), slices.Max(opts.Speeds)
	out := make([]refined, len(cands))
	ok := make([]bool, len(cands))
	eachParallel(opts.Workers, len(cands), func(_, k int) {
		if ctx.Err() != nil {
			return
		}
		m, aligned := r.refine(q, cands[k], minSamples, slowest, fastest)
		if aligned {
			out[k], ok[k] = r.scored(m, typical, opts.BriefSimilarity), true
		}
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ms := out[:0]
	for k, x := range out {
		if ok[k] {
			ms = append(ms, x)
		}
	}
	return ms, nil
}

// refined is an exactly scored alignment before its consistency.
type refined struct {
	m     Match
	upper float64 // the score with a perfect consistency (see prescore)
}

// settle completes the scores, best first, so that with prune a candidate
// repeating a better match (the same stretch through another view, speed or
// start), which distinct drops, is seen to be one before its consistency is
// computed.
func (r *Reference) settle(ms []refined, threshold float64, prune bool) *tally {
	slices.SortStableFunc(ms, func(a, b refined) int { return cmp.Compare(b.upper, a.upper) })
	t := &tally{}
	rescues := 0
	stillSims := map[*queryView][]float64{}
	for _, x := range ms {
		m := x.m
		m.Score = x.upper
		// With pictures on both sides, an alignment just below the
		// threshold may still be settled by them: the best few such.
		lowest := threshold
		if r.thumbs != nil && m.view.pixels != nil && rescues < maxRescues {
			lowest -= PixelBelow
		}
		if !m.brief {
			if (threshold < 0 || x.upper >= lowest) && !(prune && t.outdone(m, x.upper)) {
				m.Consistency, m.Lead = r.consistency(m.view, m.start, m.fitSpeed, m.a, m.b)
				if threshold >= 0 && x.upper < threshold {
					rescues++
				}
			}
			m.Score -= (1 - m.Consistency) / 3
		}
		if threshold >= 0 && m.Score >= threshold-PixelBelow && m.Score < threshold+PixelAbove && !(prune && t.outdone(m, m.Score)) {
			if p := r.pixelAgreement(m.view, m.start, m.fitSpeed, m.a, m.b); !math.IsNaN(p) {
				m.Pixels, m.pixelChecked = p, true
			}
		}
		if Accepted(m, threshold) {
			// Only what is reported: steadying costs up to a few
			// thousand similarities outside the refinement's band.
			r.steady(&m)
			if m.view != nil && len(m.view.rows) == r.dim {
				// A still image: where its frame lies, and how surely.
				// Its similarity with every sample depends on the view
				// only, not on the match.
				sims, ok := stillSims[m.view]
				if !ok {
					sims = make([]float64, r.n)
					for j := range sims {
						sims[j] = float64(r.sim(m.view, 0, j))
					}
					stillSims[m.view] = sims
				}
				r.alike(&m, sims)
				r.placeStill(&m, sims)
			}
		}
		t.add(m, threshold)
	}
	return t
}

// maxRescues bounds the alignments scoring under the threshold, best
// first, whose consistency is computed so that the pixel check may take
// them: each costs as much as a match, and the right one of a copy that
// only its pictures can tell ranks among the first.
const maxRescues = 4

// AlikeMargin is how much less similar than a still image's match another
// video sample may be and still count as alike (Match.AlikeStart). On the
// evaluation's development images, the samples within 0.03 of the best
// held the true time (±1 s) for 97 of 120 images, where the best alone did
// for 68; their median span was 3.4 s, and the whole video for the tree.
const AlikeMargin = 0.03

// alike sets a one-sample match's AlikeStart and AlikeEnd from every
// video sample's similarity through the matched view (sims).
func (r *Reference) alike(m *Match, sims []float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for j, s := range sims {
		if s >= m.Similarity-AlikeMargin {
			lo, hi = min(lo, r.times[j]), max(hi, r.times[j])
		}
	}
	if lo <= hi {
		m.AlikeStart, m.AlikeEnd = lo, hi
	}
}

// tally keeps the accepted matches and the best alignment as candidates
// are scored.
type tally struct {
	found []Match
	best  Match // Samples is 0 until one is scored
}

func (t *tally) add(m Match, threshold float64) {
	if t.best.Samples == 0 || m.Score > t.best.Score {
		t.best = m
	}
	if Accepted(m, threshold) {
		t.found = append(t.found, m)
	}
}

// outdone reports whether m, whose score is at most upper, is sure to be
// dropped by distinct: a match distinct keeps covers the same stretch with
// a score m cannot beat. Every candidate still to come scores at most
// upper, and loses a tie to one found before it, so the found matches
// scoring at least upper are kept or dropped already.
func (t *tally) outdone(m Match, upper float64) bool {
	var settled []Match
	for _, k := range t.found {
		if k.Score >= upper {
			settled = append(settled, k)
		}
	}
	for _, k := range distinct(settled) {
		if repeats(m, k) {
			return true
		}
	}
	return false
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

func (t *tally) into(res *Result) {
	res.Best = t.best
	res.Matches = distinct(t.found)
}

// localPeaks calls emit with every finite score that is a local peak: not
// below its left neighbour and above its right one.
func localPeaks(scores []float64, emit func(i int, score float64)) {
	for i, sc := range scores {
		if math.IsInf(sc, -1) || (i > 0 && scores[i-1] > sc) || (i+1 < len(scores) && scores[i+1] >= sc) {
			continue
		}
		emit(i, sc)
	}
}

// The decision. Three measures of an alignment complement each other:
// Similarity (samples centred by the video's mean) is high for any faithful
// copy, even of still footage; Local (each side centred by its own mean
// over the stretch) ignores what a copy adds to every frame (grey, a tint,
// a caption) but needs motion; Consistency, the share of samples whose best
// video sample nearby is the aligned one, tells a copy, which follows the
// video frame by frame, from another take of the same scene. Score is
// their mean, less speedCost per unit of speed change (in still footage a
// wrong speed fits noise about as well as the right one), plus lengthGain
// per e-fold of matched length beyond briefDuration (a long stretch
// rarely lines up by chance). It ranks alignments and is compared with the
// threshold; a match also needs MinConsistency, which turns away most
// other takes of the same scene for a point of copies. The weights and
// DefaultThreshold were set on the evaluation's development seed
// (eval/locate -seed 2, 99.5% of negatives rejected) and checked on its
// report seed.
const (
	speedCost      = 0.5
	lengthGain     = 1.0 / 30
	MinConsistency = 0.3
	// MinLead: on the development set (eval/locate -seed 2, in process)
	// the copies' lowest lead was -0.031, and 4 of the 6 false positives
	// left after the 3 s minimum, another room take and the minions end
	// card, led by -0.043 or less: 99.70% -> 99.90% of negatives rejected,
	// every positive kept.
	MinLead = -0.04
	// briefDuration: a shorter stretch has too little motion for Local and
	// Consistency to measure.
	briefDuration = 2.0
)

// scored is m prescored, with its bound: prescore's changes to m are made
// before m is copied.
func (r *Reference) scored(m Match, typical, briefSimilarity float64) refined {
	upper := r.prescore(&m, typical, briefSimilarity)
	return refined{m, upper}
}

// prescore sets the measures but consistency, the costly one, and returns
// the score a perfect consistency would give: the bound that tells whether
// computing it can matter. A brief clip's score is final: its similarity,
// shifted so that briefSimilarity scores DefaultThreshold.
func (r *Reference) prescore(m *Match, typical, briefSimilarity float64) float64 {
	m.Similarity = m.Score
	m.Prominence = m.Similarity - typical
	if float64(m.Samples) < briefDuration*r.fps {
		// A clip of a frame or two: Local and Consistency need motion
		// to measure, so the score rests on Similarity alone.
		m.brief = true
		return m.Similarity - (briefSimilarity - DefaultThreshold)
	}
	base := -speedCost*math.Abs(m.fitSpeed-1) + lengthGain*math.Log(float64(m.Samples)/r.fps/briefDuration)
	return (m.Similarity+m.Local+1)/3 + base
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

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func withDefaults(o Options) Options {
	if len(o.Speeds) == 0 {
		o.Speeds = DefaultSpeeds
	}
	if o.MinDuration <= 0 {
		o.MinDuration = DefaultMinDuration
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Candidates <= 0 {
		o.Candidates = maxCandidates
	}
	if o.BriefSimilarity <= 0 {
		o.BriefSimilarity = DefaultBriefSimilarity
	}
	return o
}

// minSamples is the shortest matched stretch, capped by both lengths.
func (r *Reference) minSamples(q *Query, seconds float64) int {
	n := int(math.Round(seconds * r.fps))
	return max(1, min(n, q.n, r.n))
}

// coarseScores returns, per view, the cosines of every clip window with
// every reference window (clip windows x reference windows, row-major).
// Work is split by blocks of reference windows, each small enough to stay
// in cache while every clip window of every view is compared with it; the
// reference is then read from memory once.
func coarseScores(ctx context.Context, r *Reference, q *Query, workers int) ([][]float32, error) {
	dim := r.sketcher.dim
	qw := (q.n + Window - 1) / Window
	nw := r.nCoarse
	out := make([][]float32, len(q.views))
	for v := range out {
		out[v] = make([]float32, qw*nw)
	}
	const block = 64 // reference windows: 32 KiB at 128 dimensions
	blocks := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, (nw+block-1)/block) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for lo := range blocks {
				hi := min(lo+block, nw)
				for v := range q.views {
					qc := q.views[v].coarse
					for m := range qw {
						qrow := qc[m*dim : (m+1)*dim]
						dst := out[v][m*nw : (m+1)*nw]
						for w := lo; w < hi; w++ {
							dst[w] = dot(qrow, r.coarse[w*dim:(w+1)*dim])
						}
					}
				}
			}
		}()
	}
	var err error
	for lo := 0; lo < nw; lo += block {
		select {
		case blocks <- lo:
			continue
		case <-ctx.Done():
			err = ctx.Err()
		}
		break
	}
	close(blocks)
	wg.Wait()
	return out, err
}

// coarseCandidates slides every view at every speed along the reference's
// windows and keeps the best alignments, a few per region of the video,
// and with everyView each view's best (Options.EveryView). It also returns
// the similarity curve.
func coarseCandidates(r *Reference, q *Query, coarse [][]float32, speeds []float64, limit int, everyView bool) ([]candidate, []float64) {
	qw := (q.n + Window - 1) / Window
	nw := r.nCoarse
	// An alignment must overlap this many windows, unless the clip or the
	// video is shorter: a one-window overlap at the edge is mostly noise.
	minOverlap := min(qw, nw, 3)
	// Speeds nearest 1 first: a short clip cannot tell nearby speeds
	// apart, and then the plainest explanation wins.
	speeds = slices.Clone(speeds)
	slices.SortStableFunc(speeds, func(a, b float64) int { return cmp.Compare(math.Abs(a-1), math.Abs(b-1)) })
	// The clip's first window at reference window `start` puts its window
	// m at start + offsets[m]. Speeds whose offsets repeat those of a speed
	// nearer 1 give the same alignments and are dropped, once for all views.
	type speedOffsets struct {
		speed   float64
		offsets []int
	}
	var plans []speedOffsets
	for _, s := range speeds {
		offsets := make([]int, qw)
		for m := range offsets {
			offsets[m] = int(math.Round(float64(m) * s))
		}
		if !slices.ContainsFunc(plans, func(p speedOffsets) bool { return slices.Equal(p.offsets, offsets) }) {
			plans = append(plans, speedOffsets{s, offsets})
		}
	}
	// Views are slid on parallel workers, each with its own curve and
	// best candidates, merged below.
	workers := min(runtime.GOMAXPROCS(0), len(q.views))
	curves := make([][]float64, workers)
	tops := make([]*topCandidates, workers)
	scoreBufs := make([][]float64, workers)
	eachParallel(workers, len(q.views), func(k, v int) {
		if curves[k] == nil {
			curves[k] = make([]float64, nw)
			for i := range curves[k] {
				curves[k][i] = math.Inf(-1)
			}
			tops[k] = &topCandidates{limit: 16 * limit}
		}
		curve, top, scores := curves[k], tops[k], scoreBufs[k]
		cs := coarse[v]
		for _, plan := range plans {
			s, offsets := plan.speed, plan.offsets
			last := offsets[qw-1]
			lo := -last
			scores = scores[:0]
			for start := lo; start < nw; start++ {
				var sum float32
				n := 0
				if start >= 0 && start+last < nw { // the whole clip inside
					for m, off := range offsets {
						sum += cs[m*nw+start+off]
					}
					n = qw
				} else {
					for m, off := range offsets {
						if w := start + off; w >= 0 && w < nw {
							sum += cs[m*nw+w]
							n++
						}
					}
				}
				sc := math.Inf(-1)
				if n >= minOverlap {
					sc = float64(sum) / float64(n)
				}
				scores = append(scores, sc)
				if start >= 0 && sc > curve[start] {
					curve[start] = sc
				}
			}
			localPeaks(scores, func(i int, sc float64) {
				top.add(candidate{view: v, speed: s, start: lo + i, score: sc})
			})
		}
		scoreBufs[k] = scores
	})
	// A worker that got no view left its curve and best nil.
	curve := make([]float64, nw)
	for i := range curve {
		curve[i] = math.Inf(-1)
	}
	for _, c := range curves {
		for i, x := range c {
			curve[i] = max(curve[i], x)
		}
	}
	for i, c := range curve {
		if math.IsInf(c, -1) {
			curve[i] = 0
		}
	}
	// The merged best, in an order that does not depend on which worker
	// slid which view.
	var all []candidate
	for _, t := range tops {
		if t != nil {
			all = append(all, t.heap...)
		}
	}
	slices.SortFunc(all, compareCandidates)
	all = all[:min(len(all), 16*limit)]
	var kept []candidate
	for _, c := range all {
		near := 0
		for _, k := range kept {
			if abs(k.start-c.start) <= 1 {
				near++
			}
		}
		if near >= perRegion {
			continue
		}
		kept = append(kept, c)
		if len(kept) == limit {
			break
		}
	}
	if everyView {
		for v := range q.views {
			if slices.ContainsFunc(kept, func(c candidate) bool { return c.view == v }) {
				continue
			}
			if i := slices.IndexFunc(all, func(c candidate) bool { return c.view == v }); i >= 0 {
				kept = append(kept, all[i])
			}
		}
	}
	return kept, curve
}

// topCandidates keeps the best limit candidates, in the order of
// compareCandidates, in a heap whose root is the worst kept. That order is
// total, so the candidates kept do not depend on the order they come in:
// workers that each keep their best keep, together, the best of all.
type topCandidates struct {
	limit int
	heap  []candidate
}

// worse reports whether a ranks after b.
func worse(a, b candidate) bool { return compareCandidates(a, b) > 0 }

func (t *topCandidates) add(c candidate) {
	h := t.heap
	if len(h) == t.limit {
		if !worse(h[0], c) {
			return
		}
		h[0] = c
	} else {
		h = append(h, c)
		for i := len(h) - 1; i > 0; { // sift up
			p := (i - 1) / 2
			if !worse(h[i], h[p]) {
				break
			}
			h[p], h[i] = h[i], h[p]
			i = p
		}
		t.heap = h
		return
	}
	for i := 0; ; { // sift down
		l, small := 2*i+1, i
		if l < len(h) && worse(h[l], h[small]) {
			small = l
		}
		if l+1 < len(h) && worse(h[l+1], h[small]) {
			small = l + 1
		}
		if small == i {
			break
		}
		h[i], h[small] = h[small], h[i]
		i = small
	}
}

// sorted returns the kept candidates, best first.
func (t *topCandidates) sorted() []candidate {
	out := slices.Clone(t.heap)
	slices.SortFunc(out, compareCandidates)
	return out
}

// compareCandidates orders candidates best first; ties go to the earlier
// view, the speed nearer 1 (the slower of two as near), then the earlier
// start, so that the order is the same however the candidates were
// gathered.
func compareCandidates(a, b candidate) int {
	return cmp.Or(
		cmp.Compare(b.score, a.score),
		cmp.Compare(a.view, b.view),
		cmp.Compare(math.Abs(a.speed-1), math.Abs(b.speed-1)),
		cmp.Compare(a.speed, b.speed),
		cmp.Compare(a.start, b.start),
	)
}

// refine scores a coarse candidate exactly: every start sample within a
// window of it, at its speed and the speeds halfway to its neighbours, then
// cuts out the stretch of the clip that matches.
func (r *Reference) refine(q *Query, c candidate, minSamples int, slowest, fastest float64) (Match, bool) {
	// Speeds within a coarse step either side, nearest the candidate's
	// first: on a tie the earlier wins, and a short clip cannot tell
	// nearby speeds apart.
	speeds := []float64{c.speed}
	for k := 1; k <= 2; k++ {
		for _, s := range []float64{c.speed - float64(k)*speedStep, c.speed + float64(k)*speedStep} {
			if s >= slowest-speedStep && s <= fastest+speedStep {
				speeds = append(speeds, s)
			}
		}
	}
	bestScore, bestStart, bestSpeed := math.Inf(-1), 0, c.speed
	center := c.start * Window
	sim := r.band(q, c.view, center-Window, center+Window, slices.Min(speeds), slices.Max(speeds))
	for _, s := range speeds {
		for start := center - Window; start <= center+Window; start++ {
			var sum float64
			n := 0
			for i := range q.n {
				j := start + int(math.Round(float64(i)*s))
				if j < 0 || j >= r.n {
					continue
				}
				sum += float64(sim(i, j))
				n++
			}
			if n < minSamples {
				continue
			}
			// A speed change must earn its place: in nearly still footage
			// a wrong speed fits noise about as well as the right one.
			if sc := sum/float64(n) - speedPenalty*math.Abs(s-1); sc > bestScore {
				bestScore, bestStart, bestSpeed = sc, start, s
			}
		}
	}
	if math.IsInf(bestScore, -1) {
		return Match{}, false
	}
	return r.extract(q, c.view, bestStart, bestSpeed, minSamples, sim), true
}

// steadyTolerance is how much lower a stretch's mean similarity may be at a
// speed nearer 1 for that speed to be reported instead. 0.01 and 0.02 gave
// the same results on the evaluation's development seed.
const steadyTolerance = 0.01

// steady reports the speed nearest 1 that fits the matched stretch about
// as well as the fitted one, pivoting on the stretch's middle, when the
// stretch is only part of the aligned clip. The speed is fitted to the
// whole clip, also where it does not match (a part from
// elsewhere, or hidden by an overlay), and in nearly still footage a wrong
// speed fits about as well as the right one; either way a wrong speed moves
// the start the match implies for the clip. The score stays that of the
// fitted alignment, so this changes what is reported, not what is found.
func (r *Reference) steady(m *Match) {
	if !m.partial {
		return // the speed was fitted to the stretch itself
	}
	mid := (m.a + m.b) / 2
	pivot := m.start + int(math.Round(float64(mid)*m.fitSpeed))
	// Steps of speedStep toward 1 from the fitted speed, the last one
	// exactly 1.
	toward := math.Copysign(speedStep, 1-m.fitSpeed)
	for k := 1; math.Abs(m.fitSpeed-1) > 1e-9; k++ {
		s := m.fitSpeed + float64(k)*toward
		last := math.Abs(s-1) < speedStep/2 || (s-1)*(m.fitSpeed-1) < 0
		if last {
			s = 1
		}
		best, bestA, bestB := math.Inf(-1), 0, 0
		for d := -1; d <= 1; d++ {
			start := pivot - int(math.Round(float64(mid)*s)) + d
			ja, jb := start+int(math.Round(float64(m.a)*s)), start+int(math.Round(float64(m.b)*s))
			if ja < 0 || jb >= r.n {
				continue
			}
			var sum float64
			for i := m.a; i <= m.b; i++ {
				sum += float64(r.sim(m.view, i, start+int(math.Round(float64(i)*s))))
			}
			if mean := sum / float64(m.b-m.a+1); mean > best {
				best, bestA, bestB = mean, ja, jb
			}
		}
		if !math.IsInf(best, -1) && best >= m.Similarity-steadyTolerance {
			m.VideoStart, m.VideoEnd, m.Speed = r.times[bestA], r.times[bestB]+1/r.fps, s
		}
		if last {
			break
		}
	}
}

// band returns a memoised similarity of clip sample i and reference sample
// j for the alignments starting in [lo, hi] at speeds in [slow, fast]: a
// dense band of the similarity matrix, filled as it is read.
func (r *Reference) band(q *Query, view, lo, hi int, slow, fast float64) func(i, j int) float32 {
	v := &q.views[view]
	first := make([]int, q.n)
	offset := make([]int, q.n+1)
	for i := range q.n {
		first[i] = lo + int(math.Round(float64(i)*slow))
		last := hi + int(math.Round(float64(i)*fast))
		offset[i+1] = offset[i] + last - first[i] + 1
	}
	cache := make([]float32, offset[q.n])
	nan := float32(math.NaN())
	for k := range cache {
		cache[k] = nan
	}
	return func(i, j int) float32 {
		k := offset[i] + j - first[i]
		if k < offset[i] || k >= offset[i+1] { // outside the band
			return r.sim(v, i, j)
		}
		if x := cache[k]; x == x {
			return x
		}
		x := r.sim(v, i, j)
		cache[k] = x
		return x
	}
}

// speedStep is the refinement's step between speeds, and steady's.
const speedStep = 0.025

// stretchFloor is the per-sample similarity above which a sample counts
// toward a matched stretch: half the default threshold, so that a stretch
// may bridge a few poor samples (a flash, a caption) but not a different
// shot. It does not move with Options.Threshold, so that the threshold
// only decides what is reported.
const stretchFloor = 0.15

// speedPenalty is subtracted from an alignment's mean similarity per unit
// of speed change when the refinement picks its start and speed.
const speedPenalty = 0.2

// extract cuts the matching stretch out of the per-sample similarities of
// one alignment: the stretch with the largest total excess over
// stretchFloor, so that a clip only partly from the video reports only
// that part.
func (r *Reference) extract(q *Query, view, start int, speed float64, minSamples int, sim func(i, j int) float32) Match {
	first, last := -1, -1
	xs := make([]float64, q.n)
	for i := range q.n {
		j := start + int(math.Round(float64(i)*speed))
		if j < 0 || j >= r.n {
			xs[i] = math.NaN()
			continue
		}
		xs[i] = float64(sim(i, j))
		if first < 0 {
			first = i
		}
		last = i
	}
	a, b := bestStretch(xs[first:last+1], stretchFloor, minSamples)
	a, b = a+first, b+first
	var sum float64
	for i := a; i <= b; i++ {
		sum += xs[i]
	}
	n := b - a + 1
	ja := start + int(math.Round(float64(a)*speed))
	jb := start + int(math.Round(float64(b)*speed))
	step := 1 / r.fps
	return Match{
		VideoStart: r.times[ja], VideoEnd: r.times[jb] + step,
		ClipStart: q.times[a], ClipEnd: q.times[b] + step,
		Score: sum / float64(n), Speed: speed, View: q.views[view].name, Samples: n,
		Local: r.local(&q.views[view], start, speed, a, b),
		view:  &q.views[view], start: start, a: a, b: b, fitSpeed: speed,
		partial: a > first || b < last, fitStart: r.times[ja], fitEnd: r.times[jb] + step,
	}
}

// consistency is the share of clip samples a..b whose most similar video
// sample within consistencyWindow of the aligned one is the aligned one or
// its neighbour, each side centred by its own mean over the stretch. A copy
// follows the video frame by frame; another take of the same scene
// resembles it, but its best frames fall anywhere. It also returns the
// lead (Match.Lead): the mean of the aligned samples' cosine less the best
// of the others', each clip sample's deviation scaled to unit length.
func (r *Reference) consistency(v *queryView, start int, speed float64, a, b int) (float64, float64) {
	dim := r.dim
	xm, ym := make([]float32, dim), make([]float32, dim)
	k := 0
	for i := a; i <= b; i++ {
		j := start + int(math.Round(float64(i)*speed))
		if j < 0 || j >= r.n {
			continue
		}
		add(xm, v.raw[i*dim:(i+1)*dim])
		add(ym, r.raw[j*dim:(j+1)*dim])
		k++
	}
	if k == 0 {
		return 0, 0
	}
	inv := 1 / float32(k)
	for d := range xm {
		xm[d] *= inv
		ym[d] *= inv
	}
	lo, hi := max(0, start+int(math.Round(float64(a)*speed))-consistencyWindow), min(r.n-1, start+int(math.Round(float64(b)*speed))+consistencyWindow)
	// Each video sample's deviation, and its length, once.
	dev := make([]float32, (hi-lo+1)*dim)
	norm := make([]float64, hi-lo+1)
	for j := lo; j <= hi; j++ {
		row := dev[(j-lo)*dim : (j-lo+1)*dim]
		var ss float64
		for d, y := range r.raw[j*dim : (j+1)*dim] {
			row[d] = y - ym[d]
			ss += float64(row[d]) * float64(row[d])
		}
		norm[j-lo] = math.Sqrt(ss)
	}
	x := make([]float32, dim)
	hits, total := 0, 0
	msum, mn := 0.0, 0
	for i := a; i <= b; i++ {
		ji := start + int(math.Round(float64(i)*speed))
		if ji < 0 || ji >= r.n {
			continue
		}
		var xs float64
		for d, xv := range v.raw[i*dim : (i+1)*dim] {
			x[d] = xv - xm[d]
			xs += float64(x[d]) * float64(x[d])
		}
		best, bestJ := math.Inf(-1), -1
		near, far := math.Inf(-1), math.Inf(-1)
		xn := math.Sqrt(xs) + 1e-12
		for j := max(lo, ji-consistencyWindow); j <= min(hi, ji+consistencyWindow); j++ {
			if norm[j-lo] == 0 {
				continue
			}
			c := float64(dot(x, dev[(j-lo)*dim:(j-lo+1)*dim])) / norm[j-lo]
			if c > best {
				best, bestJ = c, j
			}
			if j >= ji-1 && j <= ji+1 {
				near = max(near, c/xn)
			} else {
				far = max(far, c/xn)
			}
		}
		if !math.IsInf(near, -1) && !math.IsInf(far, -1) {
			msum += near - far
			mn++
		}
		total++
		if bestJ >= ji-1 && bestJ <= ji+1 {
			hits++
		}
	}
	if total == 0 {
		return 0, 0
	}
	return float64(hits) / float64(total), msum / float64(max(mn, 1))
}

// consistencyWindow is how far, in samples, consistency looks either side.
const consistencyWindow = 25

// local is the mean cosine of clip samples a..b and their aligned video
// samples, each side centred by its own mean over the stretch.
func (r *Reference) local(v *queryView, start int, speed float64, a, b int) float64 {
	dim := r.dim
	xm := make([]float32, dim)
	ym := make([]float32, dim)
	js := make([]int, 0, b-a+1)
	for i := a; i <= b; i++ {
		j := start + int(math.Round(float64(i)*speed))
		if j < 0 || j >= r.n {
			continue
		}
		js = append(js, j)
		add(xm, v.raw[i*dim:(i+1)*dim])
		add(ym, r.raw[j*dim:(j+1)*dim])
	}
	if len(js) < 2 {
		return 0
	}
	inv := 1 / float32(len(js))
	for d := range xm {
		xm[d] *= inv
		ym[d] *= inv
	}
	var sum float64
	k := 0
	for i := a; i <= b; i++ {
		j := start + int(math.Round(float64(i)*speed))
		if j < 0 || j >= r.n {
			continue
		}
		x, y := v.raw[i*dim:(i+1)*dim], r.raw[j*dim:(j+1)*dim]
		var xy, xx, yy float64
		for d := range x {
			dx, dy := float64(x[d]-xm[d]), float64(y[d]-ym[d])
			xy += dx * dy
			xx += dx * dx
			yy += dy * dy
		}
		if xx > 0 && yy > 0 {
			sum += xy / math.Sqrt(xx*yy)
		}
		k++
	}
	return sum / float64(k)
}

// bestStretch returns the contiguous stretch [a, b] of at least minLen
// samples that maximises the sum of (x - floor). Missing samples (NaN) count
// as not matching.
func bestStretch(xs []float64, floor float64, minLen int) (int, int) {
	minLen = min(minLen, len(xs))
	// Prefix sums make every stretch's total one subtraction; the best
	// start for each end is the smallest prefix at least minLen earlier.
	prefix := make([]float64, len(xs)+1)
	for i, x := range xs {
		if math.IsNaN(x) {
			x = 0
		}
		prefix[i+1] = prefix[i] + x - floor
	}
	bestA, bestB, best := 0, minLen-1, math.Inf(-1)
	minIdx := 0
	for end := minLen; end <= len(xs); end++ {
		if cand := end - minLen; prefix[cand] < prefix[minIdx] {
			minIdx = cand
		}
		if v := prefix[end] - prefix[minIdx]; v > best {
			best, bestA, bestB = v, minIdx, end-1
		}
	}
	return bestA, bestB
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

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// Exhaustive is Locate without the coarse stage: every view, speed and
// start sample is scored exactly, and the best alignments go through the
// same extraction. It is what the coarse stage's recall is measured
// against, at about a hundred times the cost. It leaves region features
// (Reference.AddRegions) out.
func Exhaustive(ctx context.Context, r *Reference, q *Query, opts Options) (Result, error) {
	opts = withDefaults(opts)
	minSamples := r.minSamples(q, opts.MinDuration)
	res := Result{CurveStep: Window / r.fps}
	top := &topCandidates{limit: 4 * maxCandidates}
	sims := make([][]float32, len(q.views))
	var scores []float64
	for v := range q.views {
		view := &q.views[v]
		// Every similarity of the view: clip samples x reference samples.
		sims[v] = make([]float32, q.n*r.n)
		for i := range q.n {
			if err := ctx.Err(); err != nil {
				return Result{}, err
			}
			row := sims[v][i*r.n : (i+1)*r.n]
			for j := range row {
				row[j] = r.sim(view, i, j)
			}
		}
		for _, s := range opts.Speeds {
			lo := -int(math.Round(float64(q.n-1) * s))
			scores = scores[:0]
			for start := lo; start < r.n; start++ {
				var sum float64
				n := 0
				for i := range q.n {
					if j := start + int(math.Round(float64(i)*s)); j >= 0 && j < r.n {
						sum += float64(sims[v][i*r.n+j])
						n++
					}
				}
				sc := math.Inf(-1)
				if n >= minSamples {
					sc = sum / float64(n)
				}
				scores = append(scores, sc)
			}
			localPeaks(scores, func(k int, sc float64) {
				top.add(candidate{view: v, speed: s, start: lo + k, score: sc})
			})
		}
	}
	// The typical score, for the prominence, is the coarse stage's.
	coarse, err := coarseScores(ctx, r, q, opts.Workers)
	if err != nil {
		return Result{}, err
	}
	_, res.Curve = coarseCandidates(r, q, coarse, opts.Speeds, opts.Candidates, false)
	typical := median(res.Curve)
	var ms []refined
	for _, c := range top.sorted() {
		m := r.extract(q, c.view, c.start, c.speed, minSamples,
			func(i, j int) float32 { return sims[c.view][i*r.n+j] })
		ms = append(ms, r.scored(m, typical, opts.BriefSimilarity))
	}
	r.settle(ms, opts.Threshold, true).into(&res)
	return res, nil
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
