package search

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/vidprint/vidprint/internal/library"
	"github.com/vidprint/vidprint/internal/locate"
	"github.com/vidprint/vidprint/internal/match"
	"github.com/vidprint/vidprint/internal/view"
)

// Shared is a stretch of video A that also occurs in video B.
type Shared struct {
	A, B             library.Video
	AStart, AEnd     float64 // seconds of A
	BStart, BEnd     float64 // seconds of B
	Score, Speed     float64
	Similarity       float64
	ALength, BLength float64 // AEnd-AStart and BEnd-BStart
}

// Report is what Dedup found.
type Report struct {
	// Groups are sets of near-duplicate videos: each shares most of its
	// length with another in the group. Largest first.
	Groups [][]library.Video
	// Shared lists every stretch two videos share, longest first.
	Shared []Shared
}

// DedupOptions tune Dedup. Zero fields mean the defaults.
type DedupOptions struct {
	Match match.Options
	// MinShared is the shortest shared stretch reported, in seconds.
	MinShared float64
	// Cover is the share of each video's length that two videos must
	// share to count as near-duplicates.
	Cover float64
	// Neighbours is how many windows of other videos each window recalls.
	Neighbours int
	// Progress, when set, is called after each video.
	Progress func(done, total int)
}

// Dedup defaults.
const (
	DefaultMinShared = 3.0
	DefaultCover     = 0.8
	// voteFloor is the lowest window similarity that votes for a shared
	// stretch; the alignment decides afterwards.
	voteFloor = 0.5
	// runGap is how many windows a shared stretch may skip (a cut that
	// one copy kept and the other trimmed, a burnt-in caption).
	runGap = 3
)

// DefaultDedupOptions are locate's decision with the dedup defaults.
func DefaultDedupOptions() DedupOptions {
	return DedupOptions{Match: match.DefaultOptions(), MinShared: DefaultMinShared, Cover: DefaultCover, Neighbours: DefaultNeighbours}
}

// Dedup finds what the library's videos share. Every window of every video
// asks the index for similar windows of other videos; windows that agree
// on one offset between two videos (a diagonal) form a candidate stretch,
// which the alignment of locate then verifies and bounds.
func Dedup(ctx context.Context, b Backend, opts DedupOptions) (Report, error) {
	if opts.MinShared <= 0 {
		opts.MinShared = DefaultMinShared
	}
	// A shorter MinShared than locate's shortest match must reach the
	// alignment too.
	if opts.Match.MinDuration == 0 || opts.Match.MinDuration > opts.MinShared {
		opts.Match.MinDuration = min(opts.MinShared, match.DefaultMinDuration)
	}
	if opts.Cover <= 0 {
		opts.Cover = DefaultCover
	}
	if opts.Neighbours <= 0 {
		opts.Neighbours = DefaultNeighbours
	}
	if len(opts.Match.Speeds) == 0 {
		opts.Match.Speeds = match.DefaultSpeeds
	}
	fps := b.Meta().FPS
	minWindows := max(1, int(math.Ceil(opts.MinShared*fps/match.Window)))
	ids := b.IDs()
	var rep Report
	for done, a := range ids {
		if err := ctx.Err(); err != nil {
			return Report{}, err
		}
		shared, err := sharedWith(ctx, b, a, minWindows, opts)
		if err != nil {
			return Report{}, err
		}
		rep.Shared = append(rep.Shared, shared...)
		if opts.Progress != nil {
			opts.Progress(done+1, len(ids))
		}
	}
	sort.SliceStable(rep.Shared, func(i, j int) bool { return rep.Shared[i].ALength > rep.Shared[j].ALength })
	rep.Groups = groups(rep.Shared, opts.Cover)
	return rep, nil
}

// sharedWith finds the stretches video a shares with videos of larger ID
// (each pair is examined once).
func sharedWith(ctx context.Context, b Backend, a int64, minWindows int, opts DedupOptions) ([]Shared, error) {
	frames := b.Frames(a)
	if frames == 0 {
		return nil, nil
	}
	// Whole frames only: dedup compares whole videos' frames.
	segA, err := b.Segment(ctx, a, 0, frames, false)
	if err != nil {
		return nil, err
	}
	w := WindowVectors(b.Sketch(), segA.Rows, segA.Dim, b.Mean())
	vecs := make([][]float32, len(w)/IndexDim)
	for i := range vecs {
		vecs[i] = w[i*IndexDim : (i+1)*IndexDim]
	}
	hits, err := b.Nearest(ctx, vecs, opts.Neighbours, a)
	if err != nil {
		return nil, err
	}
	type diagonal struct {
		video int64
		d     int // window of b less window of a
	}
	windows := map[diagonal][]int{}
	for i, hs := range hits {
		for _, h := range hs {
			if h.Video <= a || h.Score < voteFloor {
				continue
			}
			k := diagonal{h.Video, h.Window - i}
			windows[k] = append(windows[k], i)
		}
	}
	// Neighbouring diagonals are one offset seen through window phase: merge
	// them, then split each into runs of windows.
	keys := make([]diagonal, 0, len(windows))
	for k := range windows {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].video != keys[j].video {
			return keys[i].video < keys[j].video
		}
		return keys[i].d < keys[j].d
	})
	type run struct {
		video       int64
		d           int
		first, last int // windows of a
		count       int
	}
	var runs []run
	for i := 0; i < len(keys); {
		j := i + 1
		for j < len(keys) && keys[j].video == keys[i].video && keys[j].d-keys[j-1].d <= 1 {
			j++
		}
		var ws []int
		best, bestN := keys[i].d, 0
		for _, k := range keys[i:j] {
			ws = append(ws, windows[k]...)
			if len(windows[k]) > bestN {
				best, bestN = k.d, len(windows[k])
			}
		}
		sort.Ints(ws)
		start := 0
		for p := 1; p <= len(ws); p++ {
			if p == len(ws) || ws[p]-ws[p-1] > runGap {
				distinct := 1
				for q := start + 1; q < p; q++ {
					if ws[q] != ws[q-1] {
						distinct++
					}
				}
				if distinct >= minWindows {
					runs = append(runs, run{keys[i].video, best, ws[start], ws[p-1], distinct})
				}
				start = p
			}
		}
		i = j
	}
	fps := b.Meta().FPS
	pad := int(math.Ceil(DefaultContext * fps))
	var out []Shared
	for _, r := range runs {
		lo, hi := r.first*match.Window, min(frames, (r.last+1)*match.Window)
		clip := segA.Rows[lo*segA.Dim : hi*segA.Dim]
		times := segA.Times[lo:hi]
		blo := (r.first+r.d)*match.Window - pad
		bhi := (r.last+1+r.d)*match.Window + pad
		segB, err := b.Segment(ctx, r.video, max(0, blo), min(b.Frames(r.video), bhi), false)
		if err != nil {
			return nil, err
		}
		q := locate.Query{Times: times, Views: []match.View{{Name: view.Full, Features: clip}}}
		res, err := locate.Locate(ctx, segB.Target(fps), q, locate.Options{Match: opts.Match})
		if err != nil {
			return nil, fmt.Errorf("video %d: %w", segB.Video.ID, err)
		}
		for _, m := range res.Matches {
			if m.ClipEnd-m.ClipStart < opts.MinShared {
				continue
			}
			out = append(out, Shared{A: segA.Video, B: segB.Video, AStart: m.ClipStart, AEnd: m.ClipEnd,
				BStart: m.VideoStart, BEnd: m.VideoEnd, Score: m.Score, Speed: m.Speed, Similarity: m.Similarity,
				ALength: m.ClipEnd - m.ClipStart, BLength: m.VideoEnd - m.VideoStart})
		}
	}
	return dedupeShared(out), nil
}

// dedupeShared drops stretches that overlap a better one of the same pair
// (runs split by a gap can be verified into one stretch twice).
func dedupeShared(in []Shared) []Shared {
	sort.SliceStable(in, func(i, j int) bool { return in[i].Score > in[j].Score })
	var out []Shared
	for _, s := range in {
		dup := false
		for _, t := range out {
			if s.B.ID == t.B.ID && s.AStart < t.AEnd && t.AStart < s.AEnd {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, s)
		}
	}
	return out
}

// groups joins videos whose shared stretches cover at least cover of both
// lengths, transitively.
func groups(shared []Shared, cover float64) [][]library.Video {
	type pair struct{ a, b int64 }
	covered := map[pair][2]float64{}
	videos := map[int64]library.Video{}
	for _, s := range shared {
		k := pair{s.A.ID, s.B.ID}
		c := covered[k]
		c[0] += s.ALength
		c[1] += s.BLength
		covered[k] = c
		videos[s.A.ID], videos[s.B.ID] = s.A, s.B
	}
	parent := map[int64]int64{}
	var find func(int64) int64
	find = func(x int64) int64 {
		p, ok := parent[x]
		if !ok || p == x {
			return x
		}
		r := find(p)
		parent[x] = r
		return r
	}
	for k, c := range covered {
		a, b := videos[k.a], videos[k.b]
		if a.DurationS > 0 && b.DurationS > 0 && c[0] >= cover*a.DurationS && c[1] >= cover*b.DurationS {
			ra, rb := find(k.a), find(k.b)
			if ra != rb {
				parent[max(ra, rb)] = min(ra, rb)
			}
		}
	}
	members := map[int64][]library.Video{}
	for id := range parent {
		r := find(id)
		members[r] = append(members[r], videos[id])
	}
	var out [][]library.Video
	for r, vs := range members {
		vs = append(vs, videos[r])
		seen := map[int64]bool{}
		var uniq []library.Video
		for _, v := range vs {
			if !seen[v.ID] {
				seen[v.ID] = true
				uniq = append(uniq, v)
			}
		}
		if len(uniq) < 2 {
			continue
		}
		sort.Slice(uniq, func(i, j int) bool { return uniq[i].ID < uniq[j].ID })
		out = append(out, uniq)
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i]) != len(out[j]) {
			return len(out[i]) > len(out[j])
		}
		return out[i][0].ID < out[j][0].ID
	})
	return out
}
