package embed

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/vidprint/vidprint/internal/testutil"
)

// TestViewsInset embeds a picture-in-picture video through the query views
// with a model that sees mean colours: the inset view must see what the
// inset video alone shows, and a video without an inset gets no inset view.
func TestViewsInset(t *testing.T) {
	dir := t.TempDir()
	const fg = "testsrc2=s=320x240:rate=25"
	alone := testutil.FFmpegGen(t, dir, "alone.mp4", "-f", "lavfi", "-i", fg, "-t", "3",
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p")
	pip := testutil.FFmpegGen(t, dir, "pip.mp4", "-f", "lavfi", "-i", "mandelbrot=s=320x240:rate=25",
		"-f", "lavfi", "-i", fg, "-filter_complex", "[1:v]scale=160:120[in];[0:v][in]overlay=x=100:y=60",
		"-t", "3", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p")
	pool := Ready(&fakeModel{side: 224, delay: 1})

	views := func(path string) map[string][]float32 {
		t.Helper()
		_, vs, err := Views(context.Background(), path, pool, Options{}, QueryViews())
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]float32{}
		for _, v := range vs {
			out[v.Name] = v.Features
		}
		return out
	}
	ref := views(alone)["full"]
	if _, ok := views(alone)["inset"]; ok {
		t.Errorf("%s has no inset, but got an inset view", alone)
	}
	got := views(pip)
	inset, ok := got["inset"]
	if !ok {
		t.Fatalf("no inset view of %s", pip)
	}
	// Mean absolute difference of the mean colours, per sample.
	diff := func(a []float32) float64 {
		var sum float64
		for i := range ref {
			sum += math.Abs(float64(a[i] - ref[i]))
		}
		return sum / float64(len(ref))
	}
	best := math.Inf(1)
	for name, f := range got {
		if name != "inset" && len(f) == len(ref) {
			best = min(best, diff(f))
		}
	}
	t.Logf("inset view %.2f levels from the inset video, closest fixed view %.2f", diff(inset), best)
	if d := diff(inset); d > 6 || d > best/3 {
		t.Errorf("the inset view differs from the inset video by %.1f levels; the closest fixed view by %.1f", d, best)
	}
}

func TestRegionView(t *testing.T) {
	views := []ViewFeatures{{Name: "full", Features: []float32{9, 9, 9, 9}}}
	if _, ok := RegionView(views, 2); ok {
		t.Fatal("a region view without quarters")
	}
	// Two frames of dim 2; quarter q of frame f holds 10q+f.
	for q, spec := range Quarters {
		views = append(views, ViewFeatures{Name: spec.Name, Features: []float32{
			float32(10 * q), float32(10 * q), float32(10*q + 1), float32(10*q + 1)}})
	}
	got, ok := RegionView(views, 2)
	want := []float32{0, 0, 10, 10, 20, 20, 30, 30, 1, 1, 11, 11, 21, 21, 31, 31}
	if !ok || !slices.Equal(got, want) {
		t.Fatalf("RegionView = %v, %v; want %v", got, ok, want)
	}
	views[2].Features = views[2].Features[:2]
	if _, ok := RegionView(views, 2); ok {
		t.Error("quarters of different lengths accepted")
	}
}

// A clip's region view is made of its query views: each quarter must be
// one of them, rectangle for rectangle.
func TestQuartersAreQueryViews(t *testing.T) {
	for _, q := range Quarters {
		if !slices.Contains(QueryViews(), q) {
			t.Errorf("quarter %+v is not a query view", q)
		}
	}
}
