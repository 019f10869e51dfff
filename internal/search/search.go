package search

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/vidprint/vidprint/internal/library"
	"github.com/vidprint/vidprint/internal/library/rowcodec"
	"github.com/vidprint/vidprint/internal/locate"
	"github.com/vidprint/vidprint/internal/match"
)

// Options tune Search. Zero fields mean the defaults.
type Options struct {
	// Match decides what is a match, as in locate.
	Match match.Options
	// K bounds the matches returned.
	K int
	// Neighbours is how many indexed windows each query vector recalls.
	Neighbours int
	// Candidates bounds the stretches of video verified by alignment.
	Candidates int
	// Context is the video time, in seconds, verified on each side of a
	// candidate: the alignment judges a match against its surroundings
	// (its prominence), so it needs some.
	Context float64
	// ImageMean is what a single image, and the video it is compared with,
	// are centred by: Meta().Dim values in the model's space, such as the
	// model's typical row (locate.ImageCentre). Nil means the library's
	// mean.
	ImageMean []float32
}

// Defaults; docs/library.md ("Search") describes them, and
// docs/performance.md and docs/evaluation.md measure them.
const (
	DefaultK          = 10
	DefaultNeighbours = 10
	DefaultCandidates = 8
	DefaultContext    = 30.0
)

// pruneVotes: once a span held a match, spans with less than this share of
// its votes are not verified.
const pruneVotes = 0.25

// DefaultOptions are locate's decision with the search defaults. A span is
// verified with as many alignments as locate scores in a whole video:
// fewer (12) lose grey and captioned copies, whose right alignment ranks
// low in the coarse stage and wins only on the exact score (docs/library.md,
// "Verification").
//
// Each view's best alignment is scored too (match.Options.EveryView): in
// the projected rows that finds cropped and grey copies that locate finds
// on float prints, and lets no more negatives through.
func DefaultOptions() Options {
	mo := match.DefaultOptions()
	mo.EveryView = true
	return Options{Match: mo, K: DefaultK, Neighbours: DefaultNeighbours, Candidates: DefaultCandidates, Context: DefaultContext}
}

func withDefaults(o Options) Options {
	if o.K <= 0 {
		o.K = DefaultK
	}
	if o.Neighbours <= 0 {
		o.Neighbours = DefaultNeighbours
	}
	if o.Candidates <= 0 {
		o.Candidates = DefaultCandidates
	}
	if o.Context <= 0 {
		o.Context = DefaultContext
	}
	if len(o.Match.Speeds) == 0 {
		o.Match.Speeds = match.DefaultSpeeds
	}
	return o
}

// Found is a match in one video of the library.
type Found struct {
	Video library.Video
	match.Match
}

// Results is what Search found.
type Results struct {
	// Matches are accepted matches, best first, at most K.
	Matches []Found
	// Best is the closest alignment verified, even when rejected; its
	// Samples is 0 when nothing could be aligned.
	Best Found
	// Verified is how many stretches of video were aligned.
	Verified int
}

// Search finds the videos of the library that contain the clip, and where.
func Search(ctx context.Context, b Backend, q locate.Query, opts Options) (Results, error) {
	opts = withDefaults(opts)
	views, err := newProjector(b, q)
	if err != nil {
		return Results{}, err
	}
	spans, err := candidates(ctx, b, views, opts)
	if err != nil {
		return Results{}, err
	}
	return verify(ctx, b, views, spans, opts)
}

// imageMean is the row a single image is centred by, in the space the
// library's rows decode to (see Options.ImageMean).
func imageMean(b Backend, opts Options) ([]float32, error) {
	raw := opts.ImageMean
	if raw == nil {
		return b.Mean(), nil
	}
	if len(raw) != b.Meta().Dim {
		return nil, fmt.Errorf("search: an image mean of %d values for %d features", len(raw), b.Meta().Dim)
	}
	out := make([]float32, b.Codec().Dim())
	b.Codec().Project(out, raw)
	return out, nil
}

// projector maps a query's views into the space the library's rows decode
// to, each view once and only when needed: projecting is most of a
// search's arithmetic (256 x 1024 per row), and a candidate is verified
// with the views that found it.
type projector struct {
	q     locate.Query // its whole-frame and window views
	codec rowcodec.Codec
	in    int
	done  []match.View // Features nil until projected
	// regions are the clip's region views (match.View.Regions), searched
	// in videos stored with regions; none in a library that keeps none.
	// regionCodec projects them, once, when first needed.
	regions     []match.View
	regionCodec rowcodec.Codec
	projected   []match.View
}

func newProjector(b Backend, q locate.Query) (*projector, error) {
	if q.Image() {
		// A single image is compared with the views match.ImageViews keeps.
		q.Views = match.ImageViews(q.Views)
	}
	n, in := len(q.Times), b.Meta().Dim
	var regions []match.View
	rc := b.RegionCodec()
	whole := slices.DeleteFunc(slices.Clone(q.Views), func(v match.View) bool {
		if v.Regions && rc != nil {
			regions = append(regions, v)
		}
		return v.Regions
	})
	q.Views = whole
	for _, r := range regions {
		if len(r.Features) != n*4*in {
			return nil, fmt.Errorf("search: region view %s has %d values for %d samples of four quarters of %d features", r.Name, len(r.Features), n, in)
		}
	}
	if n == 0 || len(q.Views) == 0 {
		return nil, errors.New("search: an empty query")
	}
	if len(q.Views) > maxViews {
		return nil, fmt.Errorf("search: %d views, at most %d", len(q.Views), maxViews)
	}
	for _, v := range q.Views {
		if len(v.Features) != n*in {
			return nil, fmt.Errorf("search: view %s has %d values for %d samples of %d features", v.Name, len(v.Features), n, in)
		}
	}
	p := &projector{q: q, codec: b.Codec(), in: in, done: make([]match.View, len(q.Views)), regions: regions, regionCodec: rc}
	for i, v := range q.Views {
		// The pictures go with the view, for the pixel check.
		p.done[i] = match.View{Name: v.Name, Pixels: v.Pixels, PixelWidth: v.PixelWidth, PixelHeight: v.PixelHeight}
	}
	return p, nil
}

// maxViews bounds a query's views: spans record theirs in a bit set.
const maxViews = 64

// views returns the projected views named by set (bit i: view i),
// projecting those not done yet in parallel.
func (p *projector) views(ctx context.Context, set uint64) ([]match.View, error) {
	var todo, picked []int
	for i := range p.done {
		if set&(1<<i) == 0 {
			continue
		}
		picked = append(picked, i)
		if p.done[i].Features == nil {
			todo = append(todo, i)
		}
	}
	dim := p.codec.Dim()
	err := parallel(ctx, len(todo), func(j int) {
		i := todo[j]
		out := make([]float32, len(p.q.Times)*dim)
		p.codec.ProjectRows(out, p.q.Views[i].Features)
		p.done[i].Features = out
	})
	if err != nil {
		return nil, err
	}
	out := make([]match.View, len(picked))
	for j, i := range picked {
		out[j] = p.done[i]
	}
	return out, nil
}

func (p *projector) all() uint64 { return 1<<len(p.done) - 1 }

// regionViews are the clip's region views projected by the region codec.
func (p *projector) regionViews() []match.View {
	if p.projected == nil {
		for _, r := range p.regions {
			out := make([]float32, len(p.q.Times)*p.regionCodec.Dim())
			p.regionCodec.ProjectRows(out, r.Features)
			p.projected = append(p.projected, match.View{Name: r.Name, Features: out, Regions: true,
				Pixels: r.Pixels, PixelWidth: r.PixelWidth, PixelHeight: r.PixelHeight})
		}
	}
	return p.projected
}

// pooled projects a view's windows of match.Window samples, pooled first:
// projection is linear, so this is the pooling of the projected rows at a
// fifth of the cost. mean, when set, is subtracted from the raw rows'
// mean first (the clip's own centring).
func (p *projector) pooled(i int) (windows []float32, ownMean []float32) {
	n, in, dim := len(p.q.Times), p.in, p.codec.Dim()
	rows := p.q.Views[i].Features
	count := (n + match.Window - 1) / match.Window
	raw := make([]float32, (count+1)*in) // the windows, then the whole clip's mean
	all := raw[count*in:]
	for w := range count {
		acc := raw[w*in : (w+1)*in]
		lo, hi := w*match.Window, min(n, (w+1)*match.Window)
		for t := lo; t < hi; t++ {
			for d, v := range rows[t*in : (t+1)*in] {
				acc[d] += v
			}
		}
		for d := range acc {
			all[d] += acc[d]
			acc[d] /= float32(hi - lo)
		}
	}
	for d := range all {
		all[d] /= float32(n)
	}
	out := make([]float32, (count+1)*dim)
	p.codec.ProjectRows(out, raw)
	return out[:count*dim], out[count*dim:]
}

// span is a stretch of one video to verify, in rows, with the views whose
// windows voted for it.
type span struct {
	video  int64
	lo, hi int
	votes  float64
	views  uint64
}

// candidates asks the index for the windows nearest each query window, of
// every view, and lets each hit vote for the clip starting where it would
// put the clip's first window, at each speed. The strongest starts, widened
// by the clip's length and Context and merged where they overlap, are the
// spans to verify.
func candidates(ctx context.Context, b Backend, p *projector, opts Options) ([]span, error) {
	times := p.q.Times
	dim := b.Codec().Dim()
	pooled := make([][2][]float32, len(p.done))
	if err := parallel(ctx, len(p.done), func(i int) {
		w, own := p.pooled(i)
		pooled[i] = [2][]float32{w, own}
	}); err != nil {
		return nil, err
	}
	var vecs [][]float32
	var clipWindow, fromView []int // the query window and view of each vector
	addView := func(view int, windows, mean []float32) {
		w := indexVectors(b.Sketch(), windows, dim, mean)
		for i := range len(w) / IndexDim {
			vecs = append(vecs, w[i*IndexDim:(i+1)*IndexDim])
			clipWindow = append(clipWindow, i)
			fromView = append(fromView, view)
		}
	}
	for i, v := range p.done {
		addView(i, pooled[i][0], b.Mean())
		if v.Name.Whole() && len(times) >= 2*match.Window {
			// As in locate: centred by the clip's own mean, a change the
			// whole clip shares (grey, a tint) cancels.
			addView(i, pooled[i][0], pooled[i][1])
		}
	}
	hits, err := b.Nearest(ctx, vecs, opts.Neighbours, 0)
	if err != nil {
		return nil, err
	}
	type start struct {
		video int64
		win   int
	}
	type vote struct {
		start
		clipWin int
	}
	// Each query window gives an alignment its best hit only, whichever
	// view found it, so many views cannot outvote many windows.
	best := map[vote]float32{}
	voters := map[start]uint64{}
	for qi, hs := range hits {
		t := clipWindow[qi]
		for _, h := range hs {
			if h.Score <= 0 {
				continue
			}
			last := math.MinInt
			for _, s := range opts.Match.Speeds {
				w := h.Window - int(math.Round(float64(t)*s))
				if w == last {
					continue
				}
				last = w
				k := vote{start{h.Video, w}, t}
				best[k] = max(best[k], h.Score)
				voters[k.start] |= 1 << fromView[qi]
			}
		}
	}
	total := map[start]float64{}
	for k, s := range best {
		total[k.start] += float64(s)
	}
	type voted struct {
		start
		votes float64
	}
	ranked := make([]voted, 0, len(total))
	for s, v := range total {
		ranked = append(ranked, voted{s, v})
	}
	slices.SortFunc(ranked, func(a, b voted) int {
		if c := cmp.Compare(b.votes, a.votes); c != 0 {
			return c
		}
		if c := cmp.Compare(a.video, b.video); c != 0 {
			return c
		}
		return cmp.Compare(a.win, b.win)
	})
	fps := b.Meta().FPS
	clipRows := int(math.Ceil((times[len(times)-1] - times[0]) * fps * slices.Max(opts.Match.Speeds)))
	pad := int(math.Ceil(opts.Context * fps))
	var spans []span
	for _, s := range ranked {
		if len(spans) == opts.Candidates {
			break
		}
		lo := s.win*match.Window - pad
		hi := s.win*match.Window + clipRows + match.Window + pad
		lo, hi = max(0, lo), min(b.Frames(s.video), hi)
		if lo >= hi {
			continue
		}
		merged := false
		for i := range spans {
			if sp := &spans[i]; sp.video == s.video && lo < sp.hi && sp.lo < hi {
				sp.lo, sp.hi = min(sp.lo, lo), max(sp.hi, hi)
				sp.views |= voters[s.start]
				merged = true
				break
			}
		}
		if !merged {
			spans = append(spans, span{s.video, lo, hi, s.votes, voters[s.start]})
		}
	}
	return spans, nil
}

// verify aligns the clip with each span exactly, as locate does.
func verify(ctx context.Context, b Backend, p *projector, spans []span, opts Options) (Results, error) {
	var res Results
	var found []Found
	accepted := 0.0 // votes of the weakest span that gave a match
	// A single image is compared centred by the model's typical row, not
	// its video's mean: in nearly still footage the video's own mean
	// leaves little but noise, and a small re-compressed image then looks
	// most like the video's blurriest frames (locate.Options.ImageCentre).
	lopts := locate.Options{Match: opts.Match}
	if p.q.Image() {
		var err error
		if lopts.ImageCentre, err = imageMean(b, opts); err != nil {
			return Results{}, err
		}
	}
	for _, sp := range spans {
		if accepted > 0 && sp.votes < pruneVotes*accepted {
			// Far fewer windows point here than at a real match: another
			// copy of the clip would gather about as many.
			continue
		}
		// The views that found the span, and the whole frame always.
		views, err := p.views(ctx, sp.views|1)
		if err != nil {
			return Results{}, err
		}
		seg, r, err := verifySpan(ctx, b, p, sp, views, lopts)
		if err != nil {
			return Results{}, err
		}
		res.Verified++
		if lo, hi, cut := runsPast(b, sp, seg, r.Best, p.q.Times, opts.Context); cut {
			// The best alignment runs past the span's edge: the votes put
			// the clip elsewhere, and only its end (or start) reached in.
			// Verified whole it may be the match (a grey copy whose right
			// start gathered few votes).
			wide := sp
			wide.lo, wide.hi = lo, hi
			if seg, r, err = verifySpan(ctx, b, p, wide, views, lopts); err != nil {
				return Results{}, err
			}
			res.Verified++
		}
		for _, m := range r.Matches {
			found = append(found, Found{seg.Video, m})
		}
		if len(r.Matches) > 0 && sp.votes > 0 {
			accepted = sp.votes
		}
		if r.Best.Samples > 0 && (res.Best.Samples == 0 || r.Best.Score > res.Best.Score) {
			res.Best = Found{seg.Video, r.Best}
		}
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].Score > found[j].Score })
	for _, f := range found {
		if len(res.Matches) == opts.K {
			break
		}
		dup := false
		for _, g := range res.Matches {
			if g.Video.ID == f.Video.ID && (f.VideoStart < g.VideoEnd && g.VideoStart < f.VideoEnd || match.WithinAlike(f.Match, g.Match)) {
				dup = true
				break
			}
		}
		if !dup {
			res.Matches = append(res.Matches, f)
		}
	}
	return res, nil
}

// verifySpan aligns the clip's views with a span of video, with its
// regions where both have them (match.Locate searches them only without a
// confident whole-frame match).
func verifySpan(ctx context.Context, b Backend, p *projector, sp span, views []match.View, lo locate.Options) (Segment, match.Result, error) {
	seg, err := b.Segment(ctx, sp.video, sp.lo, sp.hi, len(p.regions) > 0)
	if err != nil {
		return Segment{}, match.Result{}, err
	}
	if rv := p.regionViews(); len(rv) > 0 && seg.Regions != nil {
		views = append(slices.Clip(views), rv...)
	}
	r, err := locate.Locate(ctx, seg.Target(b.Meta().FPS), locate.Query{Times: p.q.Times, Views: views}, lo)
	if err != nil {
		return Segment{}, match.Result{}, fmt.Errorf("video %d: %w", seg.Video.ID, err)
	}
	return seg, r, nil
}

// runsPast tells whether the alignment m, found in seg (span sp), would
// place part of the clip beyond the span where the video goes on, and if
// so the span, in rows, that holds the whole clip with context seconds
// either side.
func runsPast(b Backend, sp span, seg Segment, m match.Match, times []float64, context float64) (lo, hi int, cut bool) {
	if m.Samples == 0 || len(seg.Times) == 0 || len(times) < 2 {
		return 0, 0, false
	}
	fps := b.Meta().FPS
	start := m.VideoStart - m.ClipStart*m.Speed
	end := start + (times[len(times)-1]-times[0])*m.Speed
	step := 1 / fps
	before := start < seg.Times[0]-step && sp.lo > 0
	after := end > seg.Times[len(seg.Times)-1]+step && sp.hi < b.Frames(sp.video)
	if !before && !after {
		return 0, 0, false
	}
	pad := context * fps
	lo = max(0, min(sp.lo, int(math.Floor(start*fps-pad))))
	hi = min(b.Frames(sp.video), max(sp.hi, int(math.Ceil(end*fps+pad))))
	return lo, hi, true
}

// Exhaustive aligns the clip with every video of the library, whole: what
// Search approximates, and the measure of its recall.
func Exhaustive(ctx context.Context, b Backend, ids []int64, q locate.Query, opts Options) (Results, error) {
	opts = withDefaults(opts)
	p, err := newProjector(b, q)
	if err != nil {
		return Results{}, err
	}
	spans := make([]span, 0, len(ids))
	for _, id := range ids {
		spans = append(spans, span{video: id, lo: 0, hi: b.Frames(id), views: p.all()})
	}
	return verify(ctx, b, p, spans, opts)
}
