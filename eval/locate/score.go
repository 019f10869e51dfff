package main

import (
	"math"
	"sort"
)

const (
	tol       = 0.5  // seconds: a positive is correct within this of the truth
	fineTol   = 0.2  // one sample at 5 fps, reported for "none"
	negReject = 0.99 // a baseline's threshold rejects at least this share of negatives
)

// results holds every method's answer for every clip.
type results struct {
	methods    []method
	clips      []clip
	answers    [][]answer // [clip][method]
	thresholds []float64  // per method; -Inf where the method decides itself
}

func newResults(ms []method) *results {
	r := &results{methods: ms, thresholds: make([]float64, len(ms))}
	for i := range r.thresholds {
		r.thresholds[i] = math.Inf(-1)
	}
	return r
}

func (r *results) add(c clip, ans []answer) {
	r.clips = append(r.clips, c)
	r.answers = append(r.answers, ans)
}

// judged reports whether method mi gave an answer for clip ci that counts:
// it ran, applies to the clip, and the call did not fail.
func (r *results) judged(mi, ci int) bool {
	m := r.methods[mi]
	return m.unavailable == "" && m.applies(r.clips[ci]) && r.answers[ci][mi].Err == ""
}

// negPair is a clip searched in a reference that is not its source.
type negPair struct {
	clip int
	ref  string
	hard bool
}

// negatives lists method mi's negative pairs: each judged clip in every
// reference the method searches but its source and its pip/inset host
// (whose picture the clip does show). A failed call says nothing about
// false positives, so its pairs are left out.
func (r *results) negatives(mi int) []negPair {
	var out []negPair
	for ci, c := range r.clips {
		if !r.judged(mi, ci) {
			continue
		}
		for _, ref := range references {
			if ref.Name == c.Ref || ref.Name == c.Host || !r.methods[mi].searches(ref.Name) {
				continue
			}
			out = append(out, negPair{clip: ci, ref: ref.Name, hard: isHard(c.Ref, ref.Name)})
		}
	}
	return out
}

// calibrateAll sets each baseline's threshold from its own negatives.
func (r *results) calibrateAll() {
	for mi, m := range r.methods {
		if !m.calibrated {
			continue
		}
		var neg []float64
		for _, p := range r.negatives(mi) {
			if h, ok := r.answers[p.clip][mi].Hits[p.ref]; ok {
				neg = append(neg, h.Score)
			}
		}
		r.thresholds[mi] = calibrate(neg, negReject)
	}
}

// calibrate returns the lowest threshold t such that "found when score > t"
// rejects at least the share reject of the negative scores: with n
// negatives, at most floor((1-reject)*n) may score above it. This is
// generous to the baseline: it is tuned on the very negatives it is scored
// on. NaN when there are no negatives.
func calibrate(neg []float64, reject float64) float64 {
	if len(neg) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), neg...)
	sort.Sort(sort.Reverse(sort.Float64Slice(s)))
	allowed := int(math.Floor((1-reject)*float64(len(s)) + 1e-9))
	return s[allowed]
}

// found returns method mi's hit for clip ci in ref when the method reports
// the clip there: vidprint when it listed a match, a baseline when the best
// score is above its threshold.
func (r *results) found(mi, ci int, ref string) (hit, bool) {
	if !r.judged(mi, ci) {
		return hit{}, false
	}
	h, ok := r.answers[ci][mi].Hits[ref]
	if !ok || (r.methods[mi].calibrated && !(h.Score > r.thresholds[mi])) {
		return hit{}, false
	}
	return h, true
}

// correct: the clip is found in its source with the implied start within
// within seconds of the truth.
func (r *results) correct(mi, ci int, within float64) bool {
	c := r.clips[ci]
	h, ok := r.found(mi, ci, c.Ref)
	return ok && startOK(h.Start, c.Start, within)
}

func startOK(got, truth, within float64) bool {
	return math.Abs(got-truth) <= within+1e-9
}

// tally counts n cases and how many went right.
type tally struct{ N, OK int }

func (t tally) share() float64 {
	if t.N == 0 {
		return math.NaN()
	}
	return float64(t.OK) / float64(t.N)
}

// positives counts method mi's positives among the clips keep selects:
// every clip the method applies to, a failed call counted as missed.
func (r *results) positives(mi int, keep func(clip) bool, within float64) tally {
	var t tally
	m := r.methods[mi]
	if m.unavailable != "" {
		return t
	}
	for ci, c := range r.clips {
		if !m.applies(c) || !keep(c) {
			continue
		}
		t.N++
		if r.correct(mi, ci, within) {
			t.OK++
		}
	}
	return t
}

// rejected counts method mi's negatives (hard ones only, or all) and how
// many it rejected.
func (r *results) rejected(mi int, hardOnly bool) tally {
	var t tally
	if r.methods[mi].unavailable != "" {
		return t
	}
	for _, p := range r.negatives(mi) {
		if hardOnly && !p.hard {
			continue
		}
		t.N++
		if _, ok := r.found(mi, p.clip, p.ref); !ok {
			t.OK++
		}
	}
	return t
}

func all(clip) bool { return true }

func ofTransform(t string) func(clip) bool { return func(c clip) bool { return c.Transform == t } }
func ofRef(ref string) func(clip) bool     { return func(c clip) bool { return c.Ref == ref } }
