package match

import (
	"cmp"
	"context"
	"math"
	"slices"
)

// Locate finds the clip q in the reference r.
func Locate(ctx context.Context, r *Reference, q *Query, opts Options) (Result, error) {
	return r.locate(ctx, q, opts, true)
}

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
			out[k], ok[k] = r.scored(m, typical, opts), true
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
// video sample may be and still count as alike (Match.AlikeStart). The
// samples within it of the best hold the true time (±1 s) far more often
// than the best alone, over a few seconds in most footage and over the
// whole video in footage that barely changes (docs/locate.md, "Still
// images").
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

func (t *tally) into(res *Result) {
	res.Best = t.best
	res.Matches = distinct(t.found)
}
