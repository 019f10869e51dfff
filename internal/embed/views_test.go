package embed

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/vidprint/vidprint/internal/testutil"
	"github.com/vidprint/vidprint/internal/view"
)

// pipVideos are seconds of a test pattern alone, and the same at half size
// over a fractal: a picture-in-picture.
func pipVideos(t *testing.T, seconds string) (alone, pip string) {
	dir := t.TempDir()
	const fg = "testsrc2=s=320x240:rate=25"
	alone = testutil.FFmpegGen(t, dir, "alone.mp4", "-f", "lavfi", "-i", fg, "-t", seconds,
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p")
	pip = testutil.FFmpegGen(t, dir, "pip.mp4", "-f", "lavfi", "-i", "mandelbrot=s=320x240:rate=25",
		"-f", "lavfi", "-i", fg, "-filter_complex", "[1:v]scale=160:120[in];[0:v][in]overlay=x=100:y=60",
		"-t", seconds, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p")
	return alone, pip
}

// TestViewsInset embeds a picture-in-picture video through the query views
// with a model that sees mean colours: the inset view must see what the
// inset video alone shows, and a video without an inset gets no inset view.
func TestViewsInset(t *testing.T) {
	alone, pip := pipVideos(t, "3")
	pool := Ready(&fakeModel{side: 224, delay: 1})
	views := func(path string) map[view.Name][]float32 { return queryViews(t, pool, path) }
	aloneViews := views(alone)
	ref := aloneViews["full"]
	for _, name := range []view.Name{"inset", "inset-00", "inset-22", "inset2", "inset2-00"} {
		if _, ok := aloneViews[name]; ok {
			t.Errorf("%s has no inset, but got view %s", alone, name)
		}
	}
	got := views(pip)
	inset, ok := got["inset"]
	if !ok {
		t.Fatalf("no inset view of %s", pip)
	}
	diff := func(a []float32) float64 { return meanAbsDiff(a, ref) }
	best := math.Inf(1)
	for name, f := range got {
		if !strings.HasPrefix(string(name), "inset") && len(f) == len(ref) {
			best = min(best, diff(f))
		}
	}
	t.Logf("inset view %.2f levels from the inset video, closest fixed view %.2f", diff(inset), best)
	if d := diff(inset); d > 6 || d > best/3 {
		t.Errorf("the inset view differs from the inset video by %.1f levels; the closest fixed view by %.1f", d, best)
	}
	// Each of the inset's quarters sees the inset video's own quarter, and
	// no other as well.
	for i, iq := range view.InsetQuarters {
		f, ok := got[iq.Name]
		if !ok {
			t.Fatalf("no view %s of %s", iq.Name, pip)
		}
		own, other := meanAbsDiff(f, aloneViews[view.Quarters[i].Name]), math.Inf(1)
		for j, q := range view.Quarters {
			if j != i {
				other = min(other, meanAbsDiff(f, aloneViews[q.Name]))
			}
		}
		t.Logf("%s: %.2f levels from the inset video's %s, %.2f from its closest other quarter", iq.Name, own, view.Quarters[i].Name, other)
		if own > 6 || own > other/2 {
			t.Errorf("%s differs from the inset video's %s by %.1f levels, from another quarter by %.1f", iq.Name, view.Quarters[i].Name, own, other)
		}
	}
}

// TestViewsSecondInset embeds the video of inset's TestFindInsetsSecondGuess,
// where inset.FindAll finds a window of the host's first and the picture second:
// the second rectangle's views must be there, and inset2 must see the
// picture's own video, as inset sees the window.
func TestViewsSecondInset(t *testing.T) {
	dir := t.TempDir()
	enc := []string{"-t", "3", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p"}
	both := testutil.FFmpegGen(t, dir, "both.mp4", append([]string{"-filter_complex", testutil.Overlay(testutil.HostWallAndWindow, testutil.InsetLife, 160, 100)}, enc...)...)
	alone := testutil.FFmpegGen(t, dir, "alone.mp4", append([]string{"-filter_complex", testutil.InsetLife}, enc...)...)
	pool := Ready(&fakeModel{side: 224, delay: 1})
	views := func(path string) map[view.Name][]float32 { return queryViews(t, pool, path) }
	got, picture := views(both), views(alone)["full"]
	for _, spec := range append([]view.Spec{{Name: "inset2"}}, view.SecondInsetQuarters[:]...) {
		if _, ok := got[spec.Name]; !ok {
			t.Fatalf("no view %s of %s", spec.Name, both)
		}
	}
	diff := func(a []float32) float64 { return meanAbsDiff(a, picture) }
	t.Logf("the picture's video: %.2f levels from inset2, %.2f from inset", diff(got["inset2"]), diff(got["inset"]))
	if d := diff(got["inset2"]); d > 6 || d > diff(got["inset"])/3 {
		t.Errorf("inset2 differs from the picture's video by %.1f levels, inset by %.1f", d, diff(got["inset"]))
	}
}

// queryViews embeds path through view.Query and returns the views by name.
func queryViews(t *testing.T, pool *Pool, path string) map[view.Name][]float32 {
	t.Helper()
	_, vs, err := Views(context.Background(), path, pool, Options{}, view.Query())
	if err != nil {
		t.Fatal(err)
	}
	out := map[view.Name][]float32{}
	for _, v := range vs {
		out[v.Name] = v.Features
	}
	return out
}

// meanAbsDiff is the mean absolute difference of a and b, per value: with
// fakeModel, of the mean colours, per sample.
func meanAbsDiff(a, b []float32) float64 {
	var sum float64
	for i := range b {
		sum += math.Abs(float64(a[i] - b[i]))
	}
	return sum / float64(len(b))
}

// The fast paths give the bytes the general bilinear path gives.
func TestSamplerFastPaths(t *testing.T) {
	const srcW, srcH, dstW, dstH = 448, 448, 224, 224
	src := make([]byte, 3*srcW*srcH)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range src {
		src[i] = byte(rng.IntN(256))
	}
	for _, tc := range []struct {
		spec view.Spec
		kind sampleKind
	}{
		{view.Spec{W: 1, H: 1}, halve},
		{view.Spec{W: 1, H: 1, Flip: true}, halve},
		{view.Spec{X: 0.25, W: 0.5, H: 0.5, Flip: true}, bilinear},
		{view.Quarters[0], copyRect},
		{view.Quarters[3], copyRect},
		{view.Spec{X: 0.25, Y: 0.5, W: 0.5, H: 0.5}, copyRect},
		{view.Spec{X: 0.1, Y: 0.2, W: 0.3, H: 0.4}, bilinear},
	} {
		s := newSampler(tc.spec, srcW, srcH, dstW, dstH)
		if s.kind != tc.kind {
			t.Errorf("%+v: kind %d, want %d", tc.spec, s.kind, tc.kind)
		}
		fast, slow := make([]byte, 3*dstW*dstH), make([]byte, 3*dstW*dstH)
		s.sample(fast, src)
		s.bilinear(slow, src)
		if !bytes.Equal(fast, slow) {
			t.Errorf("%+v: the fast path differs from bilinear", tc.spec)
		}
	}
}

// With ViewEvery 2, a clip's views after the whole frame are embedded on
// every second sample; the samples between take those of a neighbour, and
// the whole frame is embedded on every sample.
func TestViewEvery(t *testing.T) {
	video := quartersVideo(t, "2")
	specs := []view.Spec{{Name: view.Full, W: 1, H: 1}, view.Quarters[0], view.Quarters[3]}
	run := func(every int) ([]ViewFeatures, int32) {
		fake := &fakeModel{batch: 4, side: 224, delay: 1}
		_, views, err := Views(context.Background(), video, Ready(fake), Options{ViewEvery: every}, specs)
		if err != nil {
			t.Fatal(err)
		}
		return views, fake.inputs.Load()
	}
	sparse, n := run(2)
	dense, all := run(1)
	if want := int32(10 + 2*5); n != want {
		t.Errorf("%d inputs embedded, want %d", n, want)
	}
	if want := int32(3 * 10); all != want {
		t.Errorf("%d inputs embedded with ViewEvery 1, want %d", all, want)
	}
	const dim = 3
	row := func(f []float32, i int) []float32 { return f[i*dim : (i+1)*dim] }
	if !slices.Equal(sparse[0].Features, dense[0].Features) {
		t.Error("the whole frame differs")
	}
	for v := 1; v < len(specs); v++ {
		for i := range 10 {
			got := row(sparse[v].Features, i)
			ok := slices.Equal(got, row(dense[v].Features, i))
			if i%2 == 1 {
				ok = slices.Equal(got, row(dense[v].Features, i-1)) ||
					(i+1 < 10 && slices.Equal(got, row(dense[v].Features, i+1)))
			}
			if !ok {
				t.Errorf("view %s row %d: %v is neither its own embedded row nor a neighbour's", specs[v].Name, i, got)
			}
		}
	}
}
