package match

import (
	"context"
	"math"
)

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
		ms = append(ms, r.scored(m, typical, opts))
	}
	r.settle(ms, opts.Threshold, true).into(&res)
	return res, nil
}
