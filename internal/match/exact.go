package match

import (
	"math"
	"slices"
)

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
// speed nearer 1 for that speed to be reported instead. 0.02 gives the
// same results.
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

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
