package search

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/vidprint/vidprint/internal/library/sqlite"

	"github.com/vidprint/vidprint/internal/library"
	"github.com/vidprint/vidprint/internal/library/rowcodec"
	"github.com/vidprint/vidprint/internal/locate"
	"github.com/vidprint/vidprint/internal/match"
	"github.com/vidprint/vidprint/internal/synth"
	"github.com/vidprint/vidprint/internal/vprint"
)

// synthLibrary makes videos of the given lengths (in samples), encoded
// with the f16 codec, in parallel. It returns the backend and the raw
// features of each video.
type synthLib struct {
	meta    library.Meta
	entries []library.Entry
	raw     [][]float32
	base    []float64
}

func newSynthLib(t testing.TB, seed uint64, dim int, lengths []int) *synthLib {
	return newSynthLibCodec(t, seed, dim, lengths, rowcodec.CodecHalf)
}

// synthMeta is the Meta and codec of a library of synthetic prints of dim
// features at 5 fps, stored with codecName.
func synthMeta(t testing.TB, dim int, codecName string) (library.Meta, rowcodec.Codec) {
	t.Helper()
	meta, err := rowcodec.NewMeta(library.Meta{Model: vprint.Model{ID: "synthetic"}, Dim: dim, FPS: 5}, codecName)
	if err != nil {
		t.Fatal(err)
	}
	codec, err := rowcodec.NewCodec(meta)
	if err != nil {
		t.Fatal(err)
	}
	return meta, codec
}

func newSynthLibCodec(t testing.TB, seed uint64, dim int, lengths []int, codecName string) *synthLib {
	t.Helper()
	meta, codec := synthMeta(t, dim, codecName)
	base := synth.Base(rand.New(rand.NewPCG(seed, 0)), dim)
	s := &synthLib{meta: meta, entries: make([]library.Entry, len(lengths)), raw: make([][]float32, len(lengths)), base: base}
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				rng := rand.New(rand.NewPCG(seed, uint64(i)+1))
				n := lengths[i]
				f := synth.Video(rng, base, n, dim)
				p := &vprint.Print{Dim: dim, FPS: 5, Timestamps: synth.Times(n, 5), Features: f}
				v := library.Video{ID: int64(i + 1), Path: fmt.Sprintf("video-%03d.mp4", i+1), DurationS: float64(n) / 5}
				s.entries[i] = rowcodec.NewEntry(codec, v, p)
				s.raw[i] = f
			}
		}()
	}
	for i := range lengths {
		next <- i
	}
	close(next)
	wg.Wait()
	return s
}

func (s *synthLib) backend(t testing.TB) *Local {
	t.Helper()
	m, err := NewMemory(context.Background(), s.meta, s.entries)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// stored writes entries to a new library in dir; the caller closes it.
func (s *synthLib) stored(t testing.TB, dir string, entries []library.Entry) library.Store {
	t.Helper()
	st, err := sqlite.Create(context.Background(), dir, s.meta)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		e.SHA256 = sha(e.ID)
		if _, err := st.Add(context.Background(), e); err != nil {
			st.Close()
			t.Fatal(err)
		}
	}
	return st
}

type synthQuery struct {
	video int // index into entries, -1 for a clip from elsewhere
	start float64
	q     locate.Query
}

// queries cuts clips of 15 s from random videos at random offsets and
// speeds, with noise; every fourth is from a video outside the library.
func (s *synthLib) queries(seed uint64, count int, views int, outsiders bool) []synthQuery {
	rng := rand.New(rand.NewPCG(seed, 99))
	dim := s.meta.Dim
	const clipN = 75
	var out []synthQuery
	for i := range count {
		speed := match.DefaultSpeeds[rng.IntN(len(match.DefaultSpeeds))]
		if outsiders && i%4 == 3 {
			other := synth.Video(rng, s.base, 400, dim)
			clip := synth.Clip(rng, other, dim, 50, clipN, speed, 0.1)
			out = append(out, synthQuery{video: -1, q: locate.Query{Times: synth.Times(clipN, 5), Views: synth.Views(rng, s.base, clip, clipN, dim, views)}})
			continue
		}
		v := rng.IntN(len(s.raw))
		rows := len(s.raw[v]) / dim
		need := int(math.Ceil(clipN*speed)) + 1
		start := rng.IntN(rows - need)
		clip := synth.Clip(rng, s.raw[v], dim, start, clipN, speed, 0.1)
		out = append(out, synthQuery{video: v, start: float64(start) / 5, q: locate.Query{Times: synth.Times(clipN, 5), Views: synth.Views(rng, s.base, clip, clipN, dim, views)}})
	}
	return out
}

func TestSearchFindsClipsInSyntheticLibrary(t *testing.T) {
	for _, tc := range []struct {
		codec   string
		dim     int
		videos  int
		queries int
	}{
		{rowcodec.CodecHalf, 256, 40, 24},
		// The projected codec at the model's width: fewer, as encoding
		// projects every row.
		{rowcodec.CodecProjected, 1024, 14, 12},
	} {
		t.Run(tc.codec, func(t *testing.T) {
			testSearchSynthetic(t, tc.codec, tc.dim, tc.videos, tc.queries)
		})
	}
}

func testSearchSynthetic(t *testing.T, codec string, dim, videos, count int) {
	lengths := make([]int, videos)
	rng := rand.New(rand.NewPCG(5, 5))
	for i := range lengths {
		lengths[i] = 600 + rng.IntN(3000) // 2 to 12 minutes
	}
	lib := newSynthLibCodec(t, 7, dim, lengths, codec)
	b := lib.backend(t)
	if cells := len(b.index.start) - 1; cells < 2 {
		t.Fatalf("index of %d windows has %d cell; want an IVF", len(b.index.refs), cells)
	}
	ctx := context.Background()
	ids := make([]int64, len(lib.entries))
	for i, e := range lib.entries {
		ids[i] = e.ID
	}
	queries := lib.queries(11, count, 4, true)
	var found, agree, exhaustiveFound int
	for i, sq := range queries {
		res, err := Search(ctx, b, sq.q, DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		ex, err := Exhaustive(ctx, b, ids, sq.q, DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		if sq.video < 0 {
			if len(res.Matches) > 0 {
				t.Errorf("query %d (outsider): found %s at %.1f s, score %.3f", i, res.Matches[0].Video.Path, res.Matches[0].VideoStart, res.Matches[0].Score)
			}
			continue
		}
		want := lib.entries[sq.video].ID
		if len(res.Matches) > 0 && res.Matches[0].Video.ID == want && math.Abs(res.Matches[0].VideoStart-sq.start) <= 0.5 {
			found++
		} else if len(res.Matches) > 0 {
			t.Logf("query %d: want video %d at %.1f s, got %d at %.1f s", i, want, sq.start, res.Matches[0].Video.ID, res.Matches[0].VideoStart)
		} else {
			t.Logf("query %d: want video %d at %.1f s, got nothing (best %+v)", i, want, sq.start, res.Best.Score)
		}
		if len(ex.Matches) > 0 {
			exhaustiveFound++
			if len(res.Matches) > 0 && res.Matches[0].Video.ID == ex.Matches[0].Video.ID && math.Abs(res.Matches[0].VideoStart-ex.Matches[0].VideoStart) <= 0.5 {
				agree++
			}
		}
	}
	positives := len(queries) * 3 / 4
	if found < positives {
		t.Errorf("found %d of %d clips at the right place", found, positives)
	}
	if agree < exhaustiveFound {
		t.Errorf("search agrees with exhaustive alignment on %d of %d", agree, exhaustiveFound)
	}
}

func TestSearchImageQuery(t *testing.T) {
	lengths := []int{3000, 3000, 3000, 3000}
	lib := newSynthLib(t, 3, 256, lengths)
	b := lib.backend(t)
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range 8 {
		v := rng.IntN(len(lengths))
		row := rng.IntN(lengths[v])
		img := synth.Clip(rng, lib.raw[v], 256, row, 1, 1, 0.05)
		res, err := Search(context.Background(), b, locate.Query{Times: []float64{0}, Views: []match.View{{Name: "full", Features: img}}}, DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Matches) == 0 {
			t.Errorf("image %d from video %d at %.1f s: not found (best %.3f)", i, v+1, float64(row)/5, res.Best.Score)
			continue
		}
		m := res.Matches[0]
		if m.Video.ID != lib.entries[v].ID || math.Abs(m.VideoStart-float64(row)/5) > 1 {
			t.Errorf("image %d: want video %d at %.1f s, got %d at %.1f s", i, v+1, float64(row)/5, m.Video.ID, m.VideoStart)
		}
	}
}

// stillScene draws one scene and returns n rows of it, each with a little
// noise (nearly still footage), and a function that gives another frame
// of it with noise of the given scale.
func stillScene(rng *rand.Rand, base []float64, n, dim int) (frame func(scale float64) []float32, rows []float32) {
	scene := synth.Video(rng, base, 1, dim)
	frame = func(scale float64) []float32 {
		out := make([]float32, dim)
		for d := range out {
			out[d] = scene[d] + float32(scale*rng.NormFloat64())
		}
		return out
	}
	for range n {
		rows = append(rows, frame(0.05)...)
	}
	return frame, rows
}

// A still image of nearly still footage in a library of that video alone,
// whose mean is the video's: little but the image's noise is left, and it
// is not found. Centred by a typical row (Options.ImageMean, as the
// model's catalogue gives one), it is.
func TestSearchImageOfStillFootageAlone(t *testing.T) {
	const dim, n = 256, 500
	rng := rand.New(rand.NewPCG(7, 7))
	base := synth.Base(rng, dim)
	frame, still := stillScene(rng, base, n, dim)
	// What the model typically sees: the mean of other footage.
	typical := match.RowMean(synth.Video(rng, base, 2000, dim), dim)
	for _, codecName := range []string{rowcodec.CodecHalf, rowcodec.CodecProjected} {
		meta, codec := synthMeta(t, dim, codecName)
		p := &vprint.Print{Dim: dim, FPS: 5, Timestamps: synth.Times(n, 5), Features: still}
		b, err := NewMemory(context.Background(), meta, []library.Entry{rowcodec.NewEntry(codec, library.Video{ID: 1, Path: "still.mp4"}, p)})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name      string
			mean      []float32
			wantFound bool
		}{
			{"centred by the video's mean", nil, false},
			{"centred by a typical row", typical, true},
		} {
			opts := DefaultOptions()
			opts.ImageMean = tc.mean
			found := 0
			for range 5 {
				res, err := Search(context.Background(), b, locate.Query{Times: []float64{0}, Views: []match.View{{Name: "full", Features: frame(0.1)}}}, opts)
				if err != nil {
					t.Fatal(err)
				}
				found += min(1, len(res.Matches))
			}
			if (found == 5) != tc.wantFound || (found == 0) == tc.wantFound {
				t.Errorf("%s, %s: %d of 5 images found, want all: %v", codecName, tc.name, found, tc.wantFound)
			}
		}
		opts := DefaultOptions()
		opts.ImageMean = typical[:dim-1]
		if _, err := Search(context.Background(), b, locate.Query{Times: []float64{0}, Views: []match.View{{Name: "full", Features: frame(0.1)}}}, opts); err == nil {
			t.Errorf("%s: an image mean of %d values for %d features was taken", codecName, dim-1, dim)
		}
	}
}

// A still image of nearly still footage: centred by its video's own mean,
// little but the image's noise is left and it is not found; centred by the
// library's mean it is (the synthetic model has no typical row, so the
// library's mean is what an image is centred by here).
func TestSearchImageOfStillFootage(t *testing.T) {
	const dim, n = 64, 500
	lib := newSynthLib(t, 5, dim, []int{2000, 2000})
	codec, err := rowcodec.NewCodec(lib.meta)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	noise, still := stillScene(rng, lib.base, n, dim)
	p := &vprint.Print{Dim: dim, FPS: 5, Timestamps: synth.Times(n, 5), Features: still}
	v := library.Video{ID: 3, Path: "still.mp4", DurationS: n / 5}
	lib.entries = append(lib.entries, rowcodec.NewEntry(codec, v, p))
	b := lib.backend(t)
	for i := range 5 {
		img := noise(0.1)
		res, err := Search(context.Background(), b, locate.Query{Times: []float64{0}, Views: []match.View{{Name: "full", Features: img}}}, DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Matches) == 0 || res.Matches[0].Video.ID != v.ID {
			t.Errorf("image %d of the still video: got %+v (best %.3f in video %d)", i, res.Matches, res.Best.Score, res.Best.Video.ID)
		}
	}
}

func TestSearchCancelled(t *testing.T) {
	lib := newSynthLib(t, 3, 64, []int{2000})
	b := lib.backend(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	q := lib.queries(1, 1, 2, false)[0].q
	if _, err := Search(ctx, b, q, DefaultOptions()); err == nil {
		t.Fatal("a cancelled search returned no error")
	}
}

// BenchmarkSearch searches 15 s clips with 11 views in synthetic libraries
// of 1, 10 and 100 hours of 1024-feature prints (videos of 30 to 90
// minutes). It reports p50 and p95 per search and recall against
// exhaustive alignment, measured on a sample of the clips.
func BenchmarkSearch(b *testing.B) {
	for _, hours := range []float64{1, 10, 100} {
		b.Run(fmt.Sprintf("%gh", hours), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(2, 2))
			var lengths []int
			for total := 0; total < int(hours*3600*5); {
				n := min(int(hours*3600*5)-total, (30+rng.IntN(61))*60*5)
				lengths = append(lengths, n)
				total += n
			}
			t0 := time.Now()
			lib := newSynthLib(b, 9, benchDim, lengths)
			made := time.Since(t0)
			t0 = time.Now()
			back := lib.backend(b)
			indexed := time.Since(t0)
			queries := lib.queries(3, 20, 11, false)
			ctx := context.Background()
			var times []time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				sq := queries[i%len(queries)]
				t := time.Now()
				if _, err := Search(ctx, back, sq.q, DefaultOptions()); err != nil {
					b.Fatal(err)
				}
				times = append(times, time.Since(t))
			}
			b.StopTimer()
			slicesSort(times)
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(times[len(times)*95/100].Microseconds())/1000, "p95-ms")
			b.Logf("%g h: %d videos, made in %v, indexed in %v (%d cells)", hours, len(lengths), made.Round(time.Millisecond), indexed.Round(time.Millisecond), len(back.index.start)-1)
		})
	}
}

func slicesSort(d []time.Duration) {
	for i := 1; i < len(d); i++ {
		for j := i; j > 0 && d[j] < d[j-1]; j-- {
			d[j], d[j-1] = d[j-1], d[j]
		}
	}
}

// benchDim is the decoded row length the benchmark's codec gives.
const benchDim = 256

// BenchmarkSearchProjected is one search of a 15 s clip with 11 views in a
// 2-hour library of the default codec at the model's 1024 features: the
// query's projection included.
func BenchmarkSearchProjected(b *testing.B) {
	lib := newSynthLibCodec(b, 9, 1024, []int{18000, 18000}, rowcodec.DefaultCodec)
	back := lib.backend(b)
	queries := lib.queries(3, 10, 11, false)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Search(context.Background(), back, queries[i%len(queries)].q, DefaultOptions()); err != nil {
			b.Fatal(err)
		}
	}
}

// TestVerifyWidensACutSpan verifies a span that holds only the last
// seconds of a clip's place, as when the votes put the clip elsewhere and
// only its end reaches in: the match is verified again whole, on a span
// that holds the clip.
func TestVerifyWidensACutSpan(t *testing.T) {
	const dim, clipN, at = 256, 75, 300 // the clip: rows 300 to 374 (60 to 75 s)
	lib := newSynthLib(t, 3, dim, []int{900})
	b := lib.backend(t)
	rng := rand.New(rand.NewPCG(3, 1))
	clip := synth.Clip(rng, lib.raw[0], dim, at, clipN, 1, 0.1)
	q := locate.Query{Times: synth.Times(clipN, 5), Views: synth.Views(rng, lib.base, clip, clipN, dim, 1)}
	p, err := newProjector(b, q)
	if err != nil {
		t.Fatal(err)
	}
	opts := withDefaults(DefaultOptions())
	for _, tc := range []struct {
		name     string
		lo, hi   int
		verified int
	}{
		{"whole", 200, 500, 1},
		{"end only", 355, 600, 2},
		{"start only", 100, 320, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := verify(context.Background(), b, p, []span{{video: lib.entries[0].ID, lo: tc.lo, hi: tc.hi, views: p.all()}}, opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.Verified != tc.verified {
				t.Errorf("verified %d spans, want %d", res.Verified, tc.verified)
			}
			if len(res.Matches) == 0 {
				t.Fatalf("nothing found; best %+v", res.Best.Match)
			}
			m := res.Matches[0]
			if start := m.VideoStart - m.ClipStart*m.Speed; math.Abs(start-at/5.0) > 0.5 || m.Samples < clipN-5 {
				t.Errorf("found at %.1f s over %d samples, want %.1f s over about %d", start, m.Samples, at/5.0, clipN)
			}
		})
	}
}

// TestSegmentThumbs reads a video's thumbnails with its rows, from memory
// and from a library, for segments starting anywhere.
func TestSegmentThumbs(t *testing.T) {
	ctx := context.Background()
	const dim, n, w, h, every = 16, sqlite.ChunkRows + 50, 16, 12, 5
	lib := newSynthLib(t, 3, dim, []int{n, 60})
	pixel := func(r, i int) byte { return byte(r*13 + i*7) }
	th := &lib.entries[0].Thumbs // the second video keeps none
	*th = vprint.Thumbs{Width: w, Height: h, Every: every}
	for r := 0; r < n; r += every {
		for i := range w * h {
			th.Pixels = append(th.Pixels, pixel(r, i))
		}
	}
	st := lib.stored(t, t.TempDir(), lib.entries)
	defer st.Close()
	stored, err := OpenIndex(ctx, st, "")
	if err != nil {
		t.Fatal(err)
	}
	backends := map[string]Backend{"memory": lib.backend(t), "store": stored}
	tests := []struct {
		lo, hi, wantLo int
		wantRows       []int // rows with a thumbnail
	}{
		{7, 47, 7, []int{10, 15, 20, 25, 30, 35, 40, 45}},
		{-3, 6, 0, []int{0, 5}},
		{sqlite.ChunkRows - 2, sqlite.ChunkRows + 6, sqlite.ChunkRows - 2, []int{sqlite.ChunkRows, sqlite.ChunkRows + 5}},
		{sqlite.ChunkRows + 1, sqlite.ChunkRows + 4, sqlite.ChunkRows + 1, nil},
		{n - 3, n + 20, n - 3, nil},
		{n - 5, n, n - 5, []int{n - 5}},
	}
	for name, b := range backends {
		for _, tt := range tests {
			seg, err := b.Segment(ctx, lib.entries[0].ID, tt.lo, tt.hi, false)
			if err != nil {
				t.Fatalf("%s: rows [%d, %d): %v", name, tt.lo, tt.hi, err)
			}
			var want []byte
			for _, r := range tt.wantRows {
				for i := range w * h {
					want = append(want, pixel(r, i))
				}
			}
			if seg.Lo != tt.wantLo || seg.ThumbWidth != w || seg.ThumbHeight != h || seg.ThumbEvery != every || string(seg.Thumbs) != string(want) {
				t.Errorf("%s: rows [%d, %d): lo %d, %dx%d every %d, %d bytes; want lo %d, %dx%d every %d, %d bytes", name, tt.lo, tt.hi,
					seg.Lo, seg.ThumbWidth, seg.ThumbHeight, seg.ThumbEvery, len(seg.Thumbs), tt.wantLo, w, h, every, len(want))
			}
			if len(tt.wantRows) > 0 && seg.Lo+seg.firstThumb() != tt.wantRows[0] {
				t.Errorf("%s: rows [%d, %d): the first thumbnail is row %d's, want %d's", name, tt.lo, tt.hi, seg.Lo+seg.firstThumb(), tt.wantRows[0])
			}
		}
		seg, err := b.Segment(ctx, lib.entries[1].ID, 3, 40, false)
		if err != nil || seg.Thumbs != nil || seg.ThumbWidth != 0 || seg.ThumbHeight != 0 || seg.ThumbEvery != 0 {
			t.Errorf("%s: a video without thumbnails: %v, %d bytes, %dx%d every %d", name, err, len(seg.Thumbs), seg.ThumbWidth, seg.ThumbHeight, seg.ThumbEvery)
		}
	}
}
