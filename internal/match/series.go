package match

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/vidprint/vidprint/internal/vecmath"
	"github.com/vidprint/vidprint/internal/view"
)

// Window is the number of samples (1 s at 5 fps) pooled into one row of the
// coarse search. Features change slowly within a second, so pooled rows
// keep what aligns two videos at a fifth of the cost, and pooling also
// averages away per-frame noise from re-encoding.
const Window = 5

// Reference is a video's print prepared for locating clips in it.
type Reference struct {
	dim   int
	n     int       // samples
	times []float64 // seconds, one per sample
	fps   float64
	// raw are the print's features. Rows are centred by mean and scaled to
	// unit length only when the exact stage reads them (see sim), which
	// saves a pass over a long print.
	raw  []float32
	mean []float32
	// norm holds |row - mean| as float32 bits, or noNorm until first
	// needed. Candidates are refined in parallel and may fill it at once;
	// atomics make that safe, and every writer stores the same value.
	norm []atomic.Uint32
	// coarse holds one sketched, centred, unit-length row per Window
	// samples.
	coarse   []float32
	nCoarse  int
	sketcher *vecmath.CountSketch
	// regions, when set, are features of parts of each frame (see
	// AddRegions), searched as a second reference.
	regions *Reference
	// thumbs, when set, are pictures of some samples (see AddThumbs),
	// shared with regions.
	thumbs *thumbs
}

// AddRegions gives the reference region features: for every sample, the
// features of a few parts of its frame (such as its four quarters),
// concatenated, width values a sample, row-major like the features. Their
// width need not be a multiple of the whole frame's: a library stores them
// projected to fewer dimensions than its whole-frame rows. They keep what
// whole-frame features lose in a cropped copy or in still footage, where a
// small motion changes one part of the frame; Locate searches them with the
// clip's region views (View.Regions), which must have the same width. A
// segment reference's regions are centred by regionMean, the whole video's
// mean region row; nil centres them by their own mean.
func (r *Reference) AddRegions(features []float32, width int, regionMean []float32) error {
	if width < 1 {
		return fmt.Errorf("reference regions: width %d", width)
	}
	if regionMean != nil && len(regionMean) != width {
		return fmt.Errorf("reference regions: mean of %d values for rows of %d", len(regionMean), width)
	}
	rr, err := newReference(features, r.times, width, r.fps, regionMean)
	if err != nil {
		return fmt.Errorf("regions: %w", err)
	}
	rr.thumbs = r.thumbs
	r.regions = rr
	return nil
}

// Regions reports whether the reference has region features.
func (r *Reference) Regions() bool { return r.regions != nil }

// NewReference prepares a reference from row-major features (n rows of dim)
// sampled at fps, with one timestamp per row. The features are centred by
// their own mean: what every frame of the video shares says nothing about
// where a clip lies in it, and removing it spreads cosines between frames
// of one video over a range that separates them (docs/locate.md,
// "Search"). The Reference keeps features; they must not change while it
// is in use.
func NewReference(features []float32, times []float64, dim int, fps float64) (*Reference, error) {
	return newReference(features, times, dim, fps, nil)
}

// NewSegmentReference prepares part of a longer video, centred by the whole
// video's mean (dim values), so that its similarities are those a
// Reference of the whole video would give. A library verifies candidates
// this way without reading whole videos.
func NewSegmentReference(features []float32, times []float64, dim int, fps float64, mean []float32) (*Reference, error) {
	if len(mean) != dim {
		return nil, fmt.Errorf("reference: mean of %d values for dimension %d", len(mean), dim)
	}
	return newReference(features, times, dim, fps, mean)
}

func newReference(features []float32, times []float64, dim int, fps float64, mean []float32) (*Reference, error) {
	if err := checkRows(features, times, dim); err != nil {
		return nil, fmt.Errorf("reference: %w", err)
	}
	if !(fps > 0) {
		return nil, fmt.Errorf("reference: fps %g", fps)
	}
	n := len(times)
	r := &Reference{dim: dim, n: n, times: times, fps: fps, raw: features, sketcher: newSketcher(dim)}
	// One pass: every window's sum, sketched, and the mean. Sketching is
	// linear, so the mean's sketch can be subtracted afterwards.
	r.nCoarse = (n + Window - 1) / Window
	sd := r.sketcher.Out
	r.coarse = make([]float32, r.nCoarse*sd)
	// The windows are split between cores; each sums its own share of the
	// mean.
	parts := max(1, min(runtime.GOMAXPROCS(0), r.nCoarse/64))
	totals := make([][]float64, parts)
	var wg sync.WaitGroup
	for p := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			total := make([]float64, dim)
			acc := make([]float32, dim)
			for w := p * r.nCoarse / parts; w < (p+1)*r.nCoarse/parts; w++ {
				lo, hi := w*Window, min(n, (w+1)*Window)
				copy(acc, features[lo*dim:(lo+1)*dim])
				for i := lo + 1; i < hi; i++ {
					add(acc, features[i*dim:(i+1)*dim])
				}
				for d, v := range acc {
					total[d] += float64(v)
				}
				inv := 1 / float32(hi-lo)
				for d := range acc {
					acc[d] *= inv
				}
				sketch(r.sketcher, r.coarse[w*sd:(w+1)*sd], acc)
			}
			totals[p] = total
		}()
	}
	wg.Wait()
	total := totals[0]
	for _, t := range totals[1:] {
		for d, v := range t {
			total[d] += v
		}
	}
	r.mean = mean
	if r.mean == nil {
		r.mean = make([]float32, dim)
		for d, v := range total {
			r.mean[d] = float32(v / float64(n))
		}
	}
	meanSketch := make([]float32, sd)
	sketch(r.sketcher, meanSketch, r.mean)
	for w := range r.nCoarse {
		row := r.coarse[w*sd : (w+1)*sd]
		var ss float64
		for d := range row {
			row[d] -= meanSketch[d]
			ss += float64(row[d]) * float64(row[d])
		}
		vecmath.Unit(row, ss)
	}
	r.norm = make([]atomic.Uint32, n)
	for i := range r.norm {
		r.norm[i].Store(noNorm)
	}
	return r, nil
}

// noNorm marks a norm not yet computed: math.Float32bits(-1), which no
// norm has.
const noNorm uint32 = 0xbf800000

// rowNorm is |row j - mean|, computed once. It is safe for concurrent use.
func (r *Reference) rowNorm(j int) float32 {
	if b := r.norm[j].Load(); b != noNorm {
		return math.Float32frombits(b)
	}
	var ss float64
	for d, v := range r.raw[j*r.dim : (j+1)*r.dim] {
		c := float64(v - r.mean[d])
		ss += c * c
	}
	v := float32(math.Sqrt(ss))
	r.norm[j].Store(math.Float32bits(v))
	return v
}

func add(dst, src []float32) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] += src[i]
	}
}

// Query is a clip's print, seen through one or more views (the whole frame,
// the whole frame mirrored, sub-windows...), prepared against a Reference.
type Query struct {
	n     int
	times []float64
	views []queryView
	// regions are the clip's region views, prepared against the
	// reference's regions; nil when either side has none.
	regions *Query
}

type queryView struct {
	name view.Name
	raw  []float32 // the view's features
	rows []float32 // centred by the reference's mean, unit length
	// meanDot[i] is row i's dot product with the reference's mean, which
	// turns a dot product with a raw reference row into one with the
	// centred row.
	meanDot []float32
	coarse  []float32
	// pixels are the view's pictures, pw x ph bytes a sample; nil for none.
	pixels []byte
	pw, ph int
}

// View is one way of looking at every frame of a clip: features of the same
// shape as the clip's print, one row per sample.
type View struct {
	Name     view.Name
	Features []float32
	// Regions marks region features (see Reference.AddRegions), matched
	// against the reference's regions; a reference without them ignores
	// the view.
	Regions bool
	// Pixels, when set, are small greyscale pictures of what the view
	// sees, PixelWidth x PixelHeight bytes of luma a sample, for the
	// pixel check of borderline alignments (see AddThumbs).
	Pixels                  []byte
	PixelWidth, PixelHeight int
}

// NewQuery prepares a clip's views for matching against ref: it centres them
// by the reference's mean, so that query and reference rows live in the same
// space, and pools them as the reference is pooled.
func (r *Reference) NewQuery(times []float64, views []View) (*Query, error) {
	if len(views) == 0 {
		return nil, fmt.Errorf("query: no views")
	}
	q := &Query{n: len(times), times: times}
	var regionViews []View
	// What each query view is centred by; the views are prepared in
	// parallel below.
	type job struct {
		name view.Name
		view View
		mean []float32 // nil: the clip's own
	}
	var jobs []job
	for _, v := range views {
		if v.Pixels != nil && (v.PixelWidth < 1 || v.PixelHeight < 1 || len(v.Pixels) != q.n*v.PixelWidth*v.PixelHeight) {
			return nil, fmt.Errorf("query view %s: %d pixel bytes for %d samples of %dx%d", v.Name, len(v.Pixels), q.n, v.PixelWidth, v.PixelHeight)
		}
		if v.Regions {
			v.Regions = false // a whole-frame view of the reference's regions
			regionViews = append(regionViews, v)
			continue
		}
		if err := checkRows(v.Features, times, r.dim); err != nil {
			return nil, fmt.Errorf("query view %s: %w", v.Name, err)
		}
		jobs = append(jobs, job{v.Name, v, r.mean})
		if v.Name.SelfCentred() && q.n >= 2*Window {
			// The same view centred by the clip's own mean: a change that
			// the whole clip shares (grey, a tint, a caption) then cancels.
			jobs = append(jobs, job{v.Name.Own(), v, nil})
		}
	}
	if len(jobs) == 0 {
		return nil, fmt.Errorf("query: no whole-frame or window views")
	}
	q.views = make([]queryView, len(jobs))
	eachParallel(runtime.GOMAXPROCS(0), len(jobs), func(_, k int) {
		j := jobs[k]
		if j.mean == nil {
			j.mean = RowMean(j.view.Features, r.dim)
		}
		q.views[k] = r.queryView(j.name, j.view.Features, j.mean)
		q.views[k].pixels, q.views[k].pw, q.views[k].ph = j.view.Pixels, j.view.PixelWidth, j.view.PixelHeight
	})
	if r.regions != nil && len(regionViews) > 0 {
		rq, err := r.regions.NewQuery(times, regionViews)
		if err != nil {
			return nil, fmt.Errorf("query regions: %w", err)
		}
		q.regions = rq
	}
	return q, nil
}

// RowMean is the mean of the rows of features (rows of dim values).
func RowMean(features []float32, dim int) []float32 {
	n := len(features) / dim
	sum := make([]float64, dim)
	for i := range n {
		for d, v := range features[i*dim : (i+1)*dim] {
			sum[d] += float64(v)
		}
	}
	mean := make([]float32, dim)
	for d := range sum {
		mean[d] = float32(sum[d] / float64(n))
	}
	return mean
}

// queryView centres a view's rows by mean and pools them as the reference
// is pooled. Exact similarities (sim) are always taken against reference
// rows centred by the reference's mean.
func (r *Reference) queryView(name view.Name, features, mean []float32) queryView {
	n := len(features) / r.dim
	sd := r.sketcher.Out
	qv := queryView{name: name, raw: features, rows: centredUnit(features, r.dim, mean), meanDot: make([]float32, n)}
	for i := range n {
		qv.meanDot[i] = vecmath.Dot(qv.rows[i*r.dim:(i+1)*r.dim], r.mean)
	}
	groups := (n + Window - 1) / Window
	qv.coarse = make([]float32, groups*sd)
	acc := make([]float32, r.dim)
	for g := range groups {
		lo, hi := g*Window, min(n, (g+1)*Window)
		clear(acc)
		for i := lo; i < hi; i++ {
			add(acc, features[i*r.dim:(i+1)*r.dim])
		}
		inv := 1 / float32(hi-lo)
		for d := range acc {
			acc[d] = acc[d]*inv - mean[d]
		}
		row := qv.coarse[g*sd : (g+1)*sd]
		sketch(r.sketcher, row, acc)
		var ss float64
		for _, x := range row {
			ss += float64(x) * float64(x)
		}
		vecmath.Unit(row, ss)
	}
	return qv
}

// sim is the cosine of query view row i and reference row j, both centred.
func (r *Reference) sim(v *queryView, i, j int) float32 {
	n := r.rowNorm(j)
	if n < 1e-6 {
		return 0
	}
	return (vecmath.Dot(v.rows[i*r.dim:(i+1)*r.dim], r.raw[j*r.dim:(j+1)*r.dim]) - v.meanDot[i]) / n
}

func checkRows(features []float32, times []float64, dim int) error {
	if dim <= 0 {
		return fmt.Errorf("dimension %d", dim)
	}
	if len(times) == 0 {
		return fmt.Errorf("no rows")
	}
	if len(features) != len(times)*dim {
		return fmt.Errorf("%d values for %d rows of %d", len(features), len(times), dim)
	}
	return nil
}

// centredUnit returns the rows minus mean, each scaled to unit length. A row
// equal to the mean stays zero: it matches nothing.
func centredUnit(features []float32, dim int, mean []float32) []float32 {
	out := make([]float32, len(features))
	for off := 0; off < len(features); off += dim {
		row := out[off : off+dim]
		var ss float64
		for d, v := range features[off : off+dim] {
			c := v - mean[d]
			row[d] = c
			ss += float64(c) * float64(c)
		}
		vecmath.Unit(row, ss)
	}
	return out
}

// sketchDim is the coarse search's dimension. It keeps the cosine error of
// one pair of pooled rows at about 0.1, small beside the gap between
// matching and unrelated windows once averaged along a clip.
const sketchDim = 128

// newSketcher is the coarse stage's count sketch of rows of in features:
// the identity where in is no more than sketchDim. A fixed seed gives the
// same sketch for the same input, so that results are reproducible.
func newSketcher(in int) *vecmath.CountSketch {
	if in <= sketchDim {
		return vecmath.IdentitySketch(in)
	}
	state := uint64(0x9E3779B97F4A7C15)
	return vecmath.NewCountSketch(in, sketchDim, func() uint64 {
		state ^= state << 13
		state ^= state >> 7
		state ^= state << 17
		return state
	})
}

// sketch writes the sketch of src into dst.
func sketch(s *vecmath.CountSketch, dst, src []float32) {
	clear(dst)
	s.Add(dst, src)
}
