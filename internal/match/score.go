package match

import (
	"math"
	"slices"
)

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
// other takes of the same scene for a point of copies. docs/locate.md
// ("Decision", "Tuning") gives the weights and the calibrated threshold,
// and how they were set.
const (
	speedCost      = 0.5
	lengthGain     = 1.0 / 30
	MinConsistency = 0.3
	// MinLead: a copy leads or nearly ties (copies' lowest lead is about
	// -0.03), while another take of the same room, or an end card that
	// resembles a phone clip, trails by more (docs/locate.md, "Decision").
	MinLead = -0.04
	// briefDuration: a shorter stretch has too little motion for Local and
	// Consistency to measure.
	briefDuration = 2.0
)

// scored is m prescored, with its bound: prescore's changes to m are made
// before m is copied. o has its defaults (withDefaults).
func (r *Reference) scored(m Match, typical float64, o Options) refined {
	upper := r.prescore(&m, typical, o.BriefSimilarity, o.Calibration.Threshold)
	return refined{m, upper}
}

// prescore sets the measures but consistency, the costly one, and returns
// the score a perfect consistency would give: the bound that tells whether
// computing it can matter. A brief clip's score is final: its similarity,
// shifted so that briefSimilarity scores the calibrated threshold.
func (r *Reference) prescore(m *Match, typical, briefSimilarity, threshold float64) float64 {
	m.Similarity = m.Score
	m.Prominence = m.Similarity - typical
	if float64(m.Samples) < briefDuration*r.fps {
		// A clip of a frame or two: Local and Consistency need motion
		// to measure, so the score rests on Similarity alone.
		m.brief = true
		return m.Similarity - (briefSimilarity - threshold)
	}
	base := -speedCost*math.Abs(m.fitSpeed-1) + lengthGain*math.Log(float64(m.Samples)/r.fps/briefDuration)
	return (m.Similarity+m.Local+1)/3 + base
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
