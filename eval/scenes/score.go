package main

import (
	"math"
	"sort"
)

// detection is one transition a method reported.
type detection struct {
	Time float64 `json:"time_s"`
	Kind string  `json:"kind,omitempty"` // "cut" or "gradual"; empty for the baseline
}

// distance from a detection to a transition: to the instant of a cut, to
// the interval [Start, End] of a gradual one (0 inside it).
func distance(d float64, t transition) float64 {
	if t.Kind != "gradual" {
		return math.Abs(d - t.Time)
	}
	return math.Max(0, math.Max(t.Start-d, d-t.End))
}

// matching pairs detections with transitions one to one.
type matching struct {
	truthOf []int // per detection: the matched transition, or -1
	detOf   []int // per transition: the matched detection, or -1
}

// match pairs each detection with at most one transition within tol.
// Candidate pairs are taken closest first (ties: the detection nearer the
// transition's middle, then earlier), so a second detection of the same
// transition is left over as a false positive.
func match(truths []transition, dets []detection, tol float64) matching {
	type pair struct {
		d, t      int
		dist, mid float64
	}
	var pairs []pair
	for i, d := range dets {
		for j, t := range truths {
			if dist := distance(d.Time, t); dist <= tol+1e-9 {
				pairs = append(pairs, pair{i, j, dist, math.Abs(d.Time - t.Time)})
			}
		}
	}
	sort.SliceStable(pairs, func(a, b int) bool {
		pa, pb := pairs[a], pairs[b]
		if pa.dist != pb.dist {
			return pa.dist < pb.dist
		}
		if pa.mid != pb.mid {
			return pa.mid < pb.mid
		}
		return dets[pa.d].Time < dets[pb.d].Time
	})
	m := matching{truthOf: fill(len(dets), -1), detOf: fill(len(truths), -1)}
	for _, p := range pairs {
		if m.truthOf[p.d] < 0 && m.detOf[p.t] < 0 {
			m.truthOf[p.d], m.detOf[p.t] = p.t, p.d
		}
	}
	return m
}

func fill(n, v int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// counts are true positives, false positives and false negatives.
type counts struct{ TP, FP, FN int }

func (c *counts) add(o counts) { c.TP += o.TP; c.FP += o.FP; c.FN += o.FN }

// precision, recall and F1 are NaN when undefined (nothing detected,
// nothing to find).
func (c counts) precision() float64 { return ratio(c.TP, c.TP+c.FP) }
func (c counts) recall() float64    { return ratio(c.TP, c.TP+c.FN) }
func (c counts) f1() float64        { return ratio(2*c.TP, 2*c.TP+c.FP+c.FN) }

func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// Category keys in a score: overall, by transition type, by hard case.
const catOverall = "overall"

func catType(t string) string { return "type: " + t }
func catCase(c string) string { return "case: " + c }

// score tallies one video into per-category counts. A matched transition
// counts for its type and case; a missed one likewise. An unmatched
// detection is charged to the nearest transition's type and case (a second
// peak on a dissolve counts against dissolves), or to the video's own case
// when it has no transitions (the talking head).
func score(tr truth, dets []detection, tol float64, videoCase string) map[string]*counts {
	out := map[string]*counts{}
	add := func(keys []string, c counts) {
		for _, k := range keys {
			if out[k] == nil {
				out[k] = &counts{}
			}
			out[k].add(c)
		}
	}
	keysOf := func(t transition) []string { return []string{catOverall, catType(t.Type), catCase(t.Case)} }
	m := match(tr.Transitions, dets, tol)
	for j, t := range tr.Transitions {
		if m.detOf[j] >= 0 {
			add(keysOf(t), counts{TP: 1})
		} else {
			add(keysOf(t), counts{FN: 1})
		}
	}
	for i, d := range dets {
		if m.truthOf[i] >= 0 {
			continue
		}
		if len(tr.Transitions) == 0 {
			keys := []string{catOverall}
			if videoCase != "" {
				keys = append(keys, catCase(videoCase))
			}
			add(keys, counts{FP: 1})
			continue
		}
		near := 0
		for j, t := range tr.Transitions {
			if distance(d.Time, t) < distance(d.Time, tr.Transitions[near]) {
				near = j
			}
		}
		add(keysOf(tr.Transitions[near]), counts{FP: 1})
	}
	if out[catOverall] == nil {
		out[catOverall] = &counts{}
	}
	return out
}
