package search

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/vidprint/vidprint/internal/library/rowcodec"

	"github.com/vidprint/vidprint/internal/library"
	"github.com/vidprint/vidprint/internal/match"
)

// Local is the Backend of a library on this machine: an IVF index of
// window vectors in memory, and prints read from the store when a
// candidate needs verifying (or all held in memory, for NewMemory).
type Local struct {
	meta        library.Meta
	codec       rowcodec.Codec
	regionCodec rowcodec.Codec // nil: no regions
	sketch      *Sketch
	index       *windowIndex
	videos      map[int64]library.Video
	ids         []int64
	store       library.Store // nil when every entry is in entries from the start

	mu      sync.Mutex
	entries map[int64]library.Entry
	// Probe is how many IVF cells a query vector scans.
	Probe int
	// CacheErr says why Open could not save the window index (a read-only
	// library, say): searches are unaffected, but the next Open builds the
	// index again.
	CacheErr error
}

// DefaultProbe is the cells scanned per query vector; many query windows
// vote on each alignment, so a modest probe keeps recall
// (docs/performance.md, "Library search at scale").
const DefaultProbe = 8

// indexFile is the window index's file in a store that keeps derived
// files (library.Cache).
const indexFile = "windows.idx"

// Open prepares a library for searching, with its window index kept where
// the store keeps derived files (library.Cache), or in memory only.
func Open(ctx context.Context, st library.Store) (*Local, error) {
	path := ""
	if c, ok := st.(library.Cache); ok {
		path = c.CachePath(indexFile)
	}
	return OpenIndex(ctx, st, path)
}

// OpenIndex prepares a library for searching. The window index is read
// from indexPath when it is there and current (the store's generation),
// and is otherwise built from every print and saved there; prints are then
// read only where candidates point. An empty indexPath keeps the index in
// memory only. Failing to save the index is not an error: see CacheErr.
func OpenIndex(ctx context.Context, st library.Store, indexPath string) (*Local, error) {
	meta, err := st.Meta(ctx)
	if err != nil {
		return nil, err
	}
	codec, regionCodec, err := rowcodec.ForMeta(meta)
	if err != nil {
		return nil, err
	}
	gen, err := st.Generation(ctx)
	if err != nil {
		return nil, err
	}
	videos, err := st.Videos(ctx)
	if err != nil {
		return nil, err
	}
	l := &Local{meta: meta, codec: codec, regionCodec: regionCodec, sketch: NewSketch(codec.Dim()), videos: map[int64]library.Video{}, store: st, entries: map[int64]library.Entry{}, Probe: DefaultProbe}
	for _, v := range videos {
		l.videos[v.ID] = v
		l.ids = append(l.ids, v.ID)
	}
	if indexPath != "" {
		// A missing, stale or damaged file is only a cache: it is brought
		// up to date or built again.
		if x, err := readIndex(indexPath, codec); err == nil {
			if x.generation == gen && x.covers(l.ids) {
				l.index = x
				return l, nil
			}
			ok, err := l.update(ctx, x)
			if err != nil {
				return nil, err
			}
			if ok {
				x.generation = gen
				l.index = x
				if err := writeIndex(indexPath, x, codec); err != nil {
					l.CacheErr = fmt.Errorf("save the search index: %w", err)
				}
				return l, nil
			}
		}
	}
	entries := make([]library.Entry, 0, len(videos))
	for _, v := range videos {
		e, err := st.Entry(ctx, v.ID)
		if err != nil {
			return nil, fmt.Errorf("read video %d (%s): %w", v.ID, v.Path, err)
		}
		entries = append(entries, e)
	}
	if l.index, err = buildWindowIndex(ctx, codec, l.sketch, entries); err != nil {
		return nil, err
	}
	l.index.generation = gen
	if indexPath != "" {
		if err := writeIndex(indexPath, l.index, codec); err != nil {
			l.CacheErr = fmt.Errorf("save the search index: %w", err)
		}
	}
	return l, nil
}

// NewMemory indexes entries encoded with meta's codec and keeps them all in
// memory: for tests and benchmarks.
func NewMemory(ctx context.Context, meta library.Meta, entries []library.Entry) (*Local, error) {
	codec, regionCodec, err := rowcodec.ForMeta(meta)
	if err != nil {
		return nil, err
	}
	l := &Local{meta: meta, codec: codec, regionCodec: regionCodec, sketch: NewSketch(codec.Dim()), videos: map[int64]library.Video{}, entries: map[int64]library.Entry{}, Probe: DefaultProbe}
	for _, e := range entries {
		if err := rowcodec.CheckRegions(regionCodec, e.Regions, len(e.Timestamps)); err != nil {
			return nil, fmt.Errorf("video %d: %w", e.ID, err)
		}
		if err := library.CheckThumbs(e.Thumbs, len(e.Timestamps)); err != nil {
			return nil, fmt.Errorf("video %d: %w", e.ID, err)
		}
		l.videos[e.ID] = e.Video
		l.ids = append(l.ids, e.ID)
		l.entries[e.ID] = e
	}
	if l.index, err = buildWindowIndex(ctx, codec, l.sketch, entries); err != nil {
		return nil, err
	}
	return l, nil
}

// windowIndex is the IVF index of every window of every video, with the
// library mean its vectors are centred by.
type windowIndex struct {
	generation int64
	mean       []float32
	videoIDs   []int64 // windowRef.video indexes this
	*ivf
}

// covers tells whether the index holds exactly the videos ids.
func (x *windowIndex) covers(ids []int64) bool {
	if len(ids) != len(x.videoIDs) {
		return false
	}
	have := make(map[int64]bool, len(ids))
	for _, id := range x.videoIDs {
		have[id] = true
	}
	for _, id := range ids {
		if !have[id] {
			return false
		}
	}
	return true
}

// regrowth is how far an index may grow past what its cells were trained
// on before it is built again: beyond it, cells fill unevenly and the
// library mean drifts from the one its vectors are centred by.
const regrowth = 2

// update brings an index built for other videos up to date in place: the
// windows of removed videos are dropped and those of new videos filed under
// the existing cells, so adding an hour to a large library does not train
// its cells again. It reports false when the index must be built again.
func (l *Local) update(ctx context.Context, x *windowIndex) (bool, error) {
	present := make(map[int64]bool, len(l.ids))
	for _, id := range l.ids {
		present[id] = true
	}
	indexed := make(map[int64]bool, len(x.videoIDs))
	renumber := make([]int32, len(x.videoIDs))
	var kept []int64
	for i, id := range x.videoIDs {
		indexed[id] = true
		renumber[i] = -1
		if present[id] {
			renumber[i] = int32(len(kept))
			kept = append(kept, id)
		}
	}
	var added []int64
	windows := 0
	for _, id := range l.ids {
		if !indexed[id] {
			added = append(added, id)
			windows += (l.videos[id].Frames + match.Window - 1) / match.Window
		}
	}
	total := len(x.refs) + windows
	if total > regrowth*x.trained || cellsFor(total) > 1 && len(x.start) == 2 {
		return false, nil
	}
	x.drop(func(r windowRef) bool { return renumber[r.video] >= 0 }, func(v int32) int32 { return renumber[v] })
	x.videoIDs = kept
	dim := l.codec.Dim()
	var vecs []float32
	var refs []windowRef
	for _, id := range added {
		e, err := l.store.Entry(ctx, id)
		if err != nil {
			return false, fmt.Errorf("read video %d: %w", id, err)
		}
		rows := make([]float32, len(e.Timestamps)*dim)
		rowcodec.DecodeRows(l.codec, rows, e.Codes, 0, len(e.Timestamps))
		w := WindowVectors(l.sketch, rows, dim, x.mean)
		video := int32(len(x.videoIDs))
		x.videoIDs = append(x.videoIDs, id)
		for i := range len(w) / IndexDim {
			refs = append(refs, windowRef{video, int32(i)})
		}
		vecs = append(vecs, w...)
	}
	if err := x.file(ctx, vecs, refs); err != nil {
		return false, err
	}
	return true, nil
}

func buildWindowIndex(ctx context.Context, codec rowcodec.Codec, sketch *Sketch, entries []library.Entry) (*windowIndex, error) {
	dim := codec.Dim()
	x := &windowIndex{videoIDs: make([]int64, len(entries))}
	// The library's mean, weighted by frames.
	sum := make([]float64, dim)
	var frames int
	for i, e := range entries {
		if len(e.Codes) != len(e.Timestamps)*codec.RowBytes() || len(e.Mean) != dim {
			return nil, fmt.Errorf("video %d (%s): print does not match codec %s", e.ID, e.Path, codec.Name())
		}
		x.videoIDs[i] = e.ID
		n := len(e.Timestamps)
		frames += n
		for d, v := range e.Mean {
			sum[d] += float64(v) * float64(n)
		}
	}
	x.mean = make([]float32, dim)
	for d := range sum {
		x.mean[d] = float32(sum[d] / float64(max(frames, 1)))
	}
	// Window vectors, one video per task.
	perVideo := make([][]float32, len(entries))
	if err := parallel(ctx, len(entries), func(i int) {
		e := entries[i]
		rows := make([]float32, len(e.Timestamps)*dim)
		rowcodec.DecodeRows(codec, rows, e.Codes, 0, len(e.Timestamps))
		perVideo[i] = WindowVectors(sketch, rows, dim, x.mean)
	}); err != nil {
		return nil, err
	}
	var total int
	for _, v := range perVideo {
		total += len(v) / IndexDim
	}
	vecs := make([]float32, 0, total*IndexDim)
	refs := make([]windowRef, 0, total)
	for i, v := range perVideo {
		vecs = append(vecs, v...)
		for w := range len(v) / IndexDim {
			refs = append(refs, windowRef{int32(i), int32(w)})
		}
		perVideo[i] = nil
	}
	var err error
	x.ivf, err = buildIVF(ctx, vecs, refs, IndexDim)
	return x, err
}

func (l *Local) Meta() library.Meta    { return l.meta }
func (l *Local) Codec() rowcodec.Codec { return l.codec }

// RegionCodec is nil when the library keeps no regions.
func (l *Local) RegionCodec() rowcodec.Codec { return l.regionCodec }
func (l *Local) Mean() []float32             { return l.index.mean }
func (l *Local) Sketch() *Sketch             { return l.sketch }
func (l *Local) IDs() []int64                { return append([]int64(nil), l.ids...) }

func (l *Local) Video(id int64) (library.Video, bool) {
	v, ok := l.videos[id]
	return v, ok
}

func (l *Local) Frames(id int64) int { return l.videos[id].Frames }

// Nearest searches the IVF index, one query vector per goroutine slot.
func (l *Local) Nearest(ctx context.Context, queries [][]float32, k int, except int64) ([][]Hit, error) {
	skip := int32(-1)
	for i, id := range l.index.videoIDs {
		if id == except {
			skip = int32(i)
		}
	}
	out := make([][]Hit, len(queries))
	err := parallel(ctx, len(queries), func(qi int) {
		top := l.index.search(queries[qi], l.Probe, k, skip)
		hits := make([]Hit, len(top))
		for j, s := range top {
			ref := l.index.refs[s.i]
			hits[j] = Hit{Video: l.index.videoIDs[ref.video], Window: int(ref.window), Score: s.score}
		}
		out[qi] = hits
	})
	return out, err
}

// parallel calls f(0) ... f(n-1) from one goroutine per core and stops
// handing out work when ctx ends.
func parallel(ctx context.Context, n int, f func(i int)) error {
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(n, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return ctx.Err()
}

// Segment decodes rows [lo, hi) of a video: from memory when its print is
// there, otherwise read from the store, those rows only.
func (l *Local) Segment(ctx context.Context, id int64, lo, hi int, regions bool) (Segment, error) {
	l.mu.Lock()
	e, cached := l.entries[id]
	l.mu.Unlock()
	var r library.RowRange
	switch {
	case cached:
		lo, hi = max(0, lo), min(len(e.Timestamps), hi)
		if lo < hi {
			rb := l.codec.RowBytes()
			r = library.RowRange{Video: e.Video, Lo: lo, Timestamps: e.Timestamps[lo:hi], Codes: e.Codes[lo*rb : hi*rb], Mean: e.Mean,
				Thumbs: library.SliceThumbs(e.Thumbs, lo, hi)}
			if regions && e.RegionCodes != nil && l.regionCodec != nil {
				rrb := l.regionCodec.RowBytes()
				r.Regions = library.Regions{RegionCodes: e.RegionCodes[lo*rrb : hi*rrb], RegionMean: e.RegionMean}
			}
		}
	case l.store != nil:
		var err error
		if r, err = l.store.Rows(ctx, id, max(0, lo), max(0, hi), regions && l.regionCodec != nil); err != nil {
			return Segment{}, err
		}
	default:
		return Segment{}, fmt.Errorf("video %d: %w", id, library.ErrNotFound)
	}
	n := len(r.Timestamps)
	if n == 0 {
		return Segment{}, fmt.Errorf("video %d: no rows in [%d, %d)", id, lo, hi)
	}
	dim := l.codec.Dim()
	rows := make([]float32, n*dim)
	rowcodec.DecodeRows(l.codec, rows, r.Codes, 0, n)
	seg := Segment{Video: r.Video, Lo: r.Lo, Times: r.Timestamps, Rows: rows, Dim: dim, Mean: r.Mean}
	if t := r.Thumbs; t.Width != 0 {
		seg.Thumbs, seg.ThumbWidth, seg.ThumbHeight, seg.ThumbEvery = t.Pixels, t.Width, t.Height, t.Every
	}
	if r.RegionCodes != nil && l.regionCodec != nil {
		seg.RegionDim = l.regionCodec.Dim()
		seg.Regions = make([]float32, n*seg.RegionDim)
		rowcodec.DecodeRows(l.regionCodec, seg.Regions, r.RegionCodes, 0, n)
		seg.RegionMean = r.RegionMean
	}
	return seg, nil
}
