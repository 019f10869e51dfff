package match

import (
	"cmp"
	"context"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/vidprint/vidprint/internal/vecmath"
)

// candidate is a coarse alignment: view, speed and start window.
type candidate struct {
	view  int
	speed float64
	start int // reference window of the clip's first window
	score float64
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
	dim := r.sketcher.Out
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
							dst[w] = vecmath.Dot(qrow, r.coarse[w*dim:(w+1)*dim])
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
