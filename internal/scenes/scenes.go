// Package scenes finds scene boundaries in a print by multivariate change
// detection on the feature series, not by pixel differences: hard cuts as
// one-sample jumps that stand out from the motion around them, and gradual
// transitions (dissolves, fades) as change between the mean of the frames
// before and after a point. Everything is O(N·D) time and memory.
package scenes

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/vidprint/vidprint/internal/model"
	"github.com/vidprint/vidprint/internal/vecmath"
	"github.com/vidprint/vidprint/internal/vprint"
)

// Kind of a transition.
type Kind string

const (
	Cut     Kind = "cut"
	Gradual Kind = "gradual"
)

// Boundary is one transition: the time of the first frame of the new scene
// and how strongly the series changes there.
type Boundary struct {
	Index    int // first row of the new scene
	TimeS    float64
	Kind     Kind
	Strength float64 // how far above the automatic threshold, >= 1 when detected
}

// Scene is a run of rows between boundaries.
type Scene struct {
	Start, End   int // rows [Start, End)
	StartS, EndS float64
}

// Options tune detection. The zero value gives the documented defaults.
type Options struct {
	// Scenes asks for exactly this many scenes (0: as many as detected).
	Scenes int
	// Sensitivity scales the automatic thresholds; 1 is the default, lower
	// finds fewer boundaries.
	Sensitivity float64
	// Calibration holds the floors of the print's model; nil takes them
	// from the model's catalogue entry, or the default model's where it
	// has none (model.Calibrated tells).
	Calibration *model.SceneCalibration
}

// ErrTooShort is returned when exactly K scenes cannot be had.
var ErrTooShort = errors.New("too few frames")

// Window sizes, in samples at the print's rate (5 fps): the gradual
// detector compares the mean of 1 s before with 1 s after a point; the cut
// detector compares a one-sample jump with the jumps within 1 s around it.
const (
	gradualWindowS = 1.0
	localWindowS   = 1.0
	cutRatio       = 4.0 // a cut's jump over the median jump around it
	noveltyRatio   = 4.0 // a gradual peak over the novelty's median, in MADs
	// gradualOverMotion: a gradual peak over the median one-sample jump
	// around it (measured: dissolves 3 to 4.7, handheld motion 1.2 to 1.4).
	gradualOverMotion = 2.0
)

// Detect finds the boundaries of a print.
func Detect(p *vprint.Print, o Options) ([]Boundary, error) {
	n := p.Frames()
	if o.Sensitivity == 0 {
		o.Sensitivity = 1
	}
	if o.Sensitivity < 0 {
		return nil, fmt.Errorf("sensitivity %g must be positive", o.Sensitivity)
	}
	if o.Scenes < 0 {
		return nil, fmt.Errorf("scene count %d must be positive", o.Scenes)
	}
	if o.Scenes > n {
		return nil, fmt.Errorf("%w: %d scenes asked of %d frames", ErrTooShort, o.Scenes, n)
	}
	if n < 2 {
		return nil, nil // one frame is one scene
	}
	cal := model.LocateCalibration(p.Model.ID).Scenes
	if o.Calibration != nil {
		cal = *o.Calibration
	}
	inv := inverseNorms(p)
	jump := make([]float64, n) // jump[t]: cosine distance from row t-1 to row t
	for t := 1; t < n; t++ {
		jump[t] = 1 - float64(vecmath.Dot(p.Row(t-1), p.Row(t)))*inv[t-1]*inv[t]
	}
	kg := max(1, int(math.Round(gradualWindowS*p.FPS)))
	kl := max(1, int(math.Round(localWindowS*p.FPS)))
	novelty := windowNovelty(p, inv, kg)
	persist := windowNovelty(p, inv, 2*kg)
	scratch := make([]float64, 0, 2*kl)

	var candidates []Boundary
	// Hard cuts: a jump that stands out from the jumps around it.
	for t := 1; t < n; t++ {
		local := neighbourMedian(jump, t, kl, scratch)
		thr := math.Max(cal.MinCutJump, cutRatio*local) / o.Sensitivity
		// A cut changes what is shown for good: the 2 s before and after
		// differ too. A blink or a turn of the head jumps as far, briefly.
		if jump[t] > thr && isLocalMax(jump, t, 1) && persist[t] >= cal.MinPersist {
			candidates = append(candidates, Boundary{Index: t, Kind: Cut, Strength: jump[t] / thr})
		}
	}
	// Gradual transitions: novelty peaks that stand out from the video's
	// own level of change (median + noveltyRatio MADs), away from any cut.
	med, mad := medianMAD(novelty[1:])
	thr := math.Max(cal.MinNovelty, med+noveltyRatio*mad) / o.Sensitivity
	for t := 1; t < n; t++ {
		if novelty[t] <= thr || !isLocalMax(novelty, t, kg) {
			continue
		}
		// Fast motion moves the window means too; a transition moves them
		// well beyond what one sample of the motion around it does.
		if novelty[t] <= gradualOverMotion*neighbourMedian(jump, t, kl, scratch) {
			continue
		}
		if nearCut(candidates, t, kg) {
			continue
		}
		candidates = append(candidates, Boundary{Index: t, Kind: Gradual, Strength: novelty[t] / thr})
	}
	sort.Slice(candidates, func(i, j int) bool { return candidates[i].Index < candidates[j].Index })
	candidates = mergeClose(candidates, kl)

	if o.Scenes > 0 {
		candidates = exactly(candidates, jump, novelty, o.Scenes-1, kl)
	}
	for i := range candidates {
		candidates[i].TimeS = p.Timestamps[candidates[i].Index]
	}
	return candidates, nil
}

// Split turns boundaries into scenes covering the whole print.
func Split(p *vprint.Print, bs []Boundary) []Scene {
	n := p.Frames()
	end := func(i int) float64 {
		if i >= n {
			return p.Timestamps[n-1] + 1/p.FPS
		}
		return p.Timestamps[i]
	}
	var out []Scene
	start := 0
	for _, b := range bs {
		out = append(out, Scene{Start: start, End: b.Index, StartS: end(start), EndS: end(b.Index)})
		start = b.Index
	}
	if n > 0 {
		out = append(out, Scene{Start: start, End: n, StartS: end(start), EndS: end(n)})
	}
	return out
}

// exactly keeps or adds boundaries until there are k: the weakest go
// first; when too few were found, the strongest remaining local maxima of
// the change curves are added.
func exactly(found []Boundary, jump, novelty []float64, k, sep int) []Boundary {
	if len(found) > k {
		byStrength := slices.Clone(found)
		sort.SliceStable(byStrength, func(i, j int) bool { return byStrength[i].Strength > byStrength[j].Strength })
		keep := byStrength[:k]
		sort.Slice(keep, func(i, j int) bool { return keep[i].Index < keep[j].Index })
		return keep
	}
	n := len(jump)
	taken := make([]bool, n)
	for _, b := range found {
		taken[b.Index] = true
	}
	type cand struct {
		t     int
		score float64
		kind  Kind
	}
	var extra []cand
	for t := 1; t < n; t++ {
		if taken[t] {
			continue
		}
		// Combine both curves so that any kind of change can be picked.
		s := math.Max(jump[t], novelty[t])
		kind := Cut
		if novelty[t] > jump[t] {
			kind = Gradual
		}
		extra = append(extra, cand{t, s, kind})
	}
	sort.SliceStable(extra, func(i, j int) bool { return extra[i].score > extra[j].score })
	out := slices.Clone(found)
	for _, c := range extra {
		if len(out) >= k {
			break
		}
		if sep > 0 && nearAny(out, c.t, sep) && len(extra) > 2*k {
			continue // keep added boundaries apart while there is room
		}
		out = append(out, Boundary{Index: c.t, Kind: c.kind, Strength: 0})
	}
	for len(out) < k { // tiny prints: any free row will do
		for t := 1; t < n && len(out) < k; t++ {
			if !nearAny(out, t, 0) {
				out = append(out, Boundary{Index: t, Kind: Cut})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out
}

// mergeClose makes boundaries closer than within samples one transition
// (the way into and out of a short black, say); the strongest stays.
func mergeClose(bs []Boundary, within int) []Boundary {
	var out []Boundary
	groupStart := 0
	for _, b := range bs {
		if n := len(out); n > 0 && b.Index-groupStart < within {
			if b.Strength > out[n-1].Strength {
				out[n-1] = b
			}
			continue
		}
		groupStart = b.Index
		out = append(out, b)
	}
	return out
}

func nearAny(bs []Boundary, t, sep int) bool {
	for _, b := range bs {
		if abs(b.Index-t) <= sep {
			return true
		}
	}
	return false
}

func nearCut(bs []Boundary, t, sep int) bool {
	for _, b := range bs {
		if b.Kind == Cut && abs(b.Index-t) <= sep {
			return true
		}
	}
	return false
}

// inverseNorms are 1/|row|, 0 for a zero row. Rows are not centred on the
// video's mean: in a single-shot video that would leave only the motion,
// and every frame would look new (measured: a static camera's 1 s novelty
// went from 0.04 to 0.89, film cuts' only to 1.2).
func inverseNorms(p *vprint.Print) []float64 {
	inv := make([]float64, p.Frames())
	for i := range inv {
		var s float32
		for _, v := range p.Row(i) {
			s += v * v
		}
		if s > 0 {
			inv[i] = 1 / math.Sqrt(float64(s))
		}
	}
	return inv
}

// windowNovelty[t] is the cosine distance between the mean unit row of
// [t-k, t) and of [t, t+k), windows clipped at the ends. Two running sums
// slide along the print: O(N·D) time, O(D) extra memory.
func windowNovelty(p *vprint.Print, inv []float64, k int) []float64 {
	n, d := p.Frames(), p.Dim
	before := make([]float64, d)
	after := make([]float64, d)
	add := func(sum []float64, i int, w float64) {
		w *= inv[i]
		for f, v := range p.Row(i) {
			sum[f] += w * float64(v)
		}
	}
	for i := 0; i < min(n, k); i++ {
		add(after, i, 1)
	}
	out := make([]float64, n)
	for t := 1; t < n; t++ {
		// Row t-1 moves from after to before; row t+k-1 joins after;
		// row t-k-1 leaves before.
		add(after, t-1, -1)
		add(before, t-1, 1)
		if t+k-1 < n {
			add(after, t+k-1, 1)
		}
		if t-k-1 >= 0 {
			add(before, t-k-1, -1)
		}
		var ab, aa, bb float64
		for f := range before {
			ab += before[f] * after[f]
			aa += before[f] * before[f]
			bb += after[f] * after[f]
		}
		if aa > 1e-12 && bb > 1e-12 {
			out[t] = 1 - ab/math.Sqrt(aa*bb)
		}
	}
	return out
}

// neighbourMedian is the median of xs[t-k..t+k] without xs[t], index 0
// (which has no jump) and zeros: duplicated frames (a slow source sampled
// at 5 fps) say nothing about how much the picture moves.
func neighbourMedian(xs []float64, t, k int, scratch []float64) float64 {
	w := scratch[:0]
	for i := max(1, t-k); i <= min(len(xs)-1, t+k); i++ {
		if i != t && xs[i] > 1e-6 {
			w = append(w, xs[i])
		}
	}
	if len(w) == 0 {
		return 0
	}
	slices.Sort(w)
	return w[len(w)/2]
}

func isLocalMax(xs []float64, t, k int) bool {
	for i := max(1, t-k); i <= min(len(xs)-1, t+k); i++ {
		if xs[i] > xs[t] || (xs[i] == xs[t] && i < t) {
			return false
		}
	}
	return true
}

func medianMAD(xs []float64) (float64, float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	med := s[len(s)/2]
	for i := range s {
		s[i] = math.Abs(s[i] - med)
	}
	slices.Sort(s)
	return med, s[len(s)/2]
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
