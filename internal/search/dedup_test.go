package search

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vidprint/vidprint/internal/library"
	"github.com/vidprint/vidprint/internal/library/rowcodec"
	"github.com/vidprint/vidprint/internal/synth"
	"github.com/vidprint/vidprint/internal/vprint"
)

func TestDedupFindsCopiesAndSharedStretches(t *testing.T) {
	const dim = 128
	rng := rand.New(rand.NewPCG(4, 4))
	base := synth.Base(rng, dim)
	x := synth.Video(rng, base, 1500, dim)                               // 5 min
	xCopy := synth.Clip(rng, x, dim, 0, 1500, 1, 0.1)                    // re-encoded whole
	y := append(synth.Video(rng, base, 500, dim), x[600*dim:700*dim]...) // 20 s of x at 100 s, at y's 100 s
	y = append(y, synth.Video(rng, base, 500, dim)...)
	z := synth.Video(rng, base, 1200, dim)
	meta := library.Meta{Model: vprint.Model{ID: "synthetic"}, Dim: dim, FPS: 5, Codec: rowcodec.CodecHalf}
	codec, _ := rowcodec.NewCodec(meta)
	var entries []library.Entry
	for i, f := range [][]float32{x, xCopy, y, z} {
		n := len(f) / dim
		p := &vprint.Print{Dim: dim, FPS: 5, Timestamps: synth.Times(n, 5), Features: f}
		entries = append(entries, rowcodec.NewEntry(codec, library.Video{ID: int64(i + 1), DurationS: float64(n) / 5}, p))
	}
	b, err := NewMemory(context.Background(), meta, entries)
	if err != nil {
		t.Fatal(err)
	}
	var calls int
	opts := DefaultDedupOptions()
	opts.Progress = func(done, total int) { calls++ }
	rep, err := Dedup(context.Background(), b, opts)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 4 {
		t.Errorf("progress called %d times, want 4", calls)
	}
	if len(rep.Groups) != 1 || len(rep.Groups[0]) != 2 || rep.Groups[0][0].ID != 1 || rep.Groups[0][1].ID != 2 {
		t.Errorf("groups %v, want one group of videos 1 and 2", groupIDs(rep.Groups))
	}
	// y shares x's 120-140 s at its own 100-120 s, with x and its copy.
	for _, a := range []int64{1, 2} {
		found := false
		for _, s := range rep.Shared {
			if s.A.ID == a && s.B.ID == 3 {
				found = true
				if math.Abs(s.AStart-120) > 1 || math.Abs(s.AEnd-140) > 1 || math.Abs(s.BStart-100) > 1 || math.Abs(s.BEnd-120) > 1 {
					t.Errorf("video %d in 3: %.1f-%.1f s at %.1f-%.1f s, want 120-140 at 100-120", a, s.AStart, s.AEnd, s.BStart, s.BEnd)
				}
			}
		}
		if !found {
			t.Errorf("the stretch video %d shares with video 3 was not found", a)
		}
	}
	for _, s := range rep.Shared {
		if s.A.ID == 4 || s.B.ID == 4 {
			t.Errorf("unrelated video 4 shares %.1f-%.1f s with video %d", s.AStart, s.AEnd, s.B.ID)
		}
	}
}

func groupIDs(gs [][]library.Video) [][]int64 {
	var out [][]int64
	for _, g := range gs {
		var ids []int64
		for _, v := range g {
			ids = append(ids, v.ID)
		}
		out = append(out, ids)
	}
	return out
}
