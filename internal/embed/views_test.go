package embed

import (
	"context"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/vidprint/vidprint/internal/match"
	"github.com/vidprint/vidprint/internal/testutil"
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
	views := func(path string) map[string][]float32 { return queryViews(t, pool, path) }
	aloneViews := views(alone)
	ref := aloneViews["full"]
	for _, name := range []string{"inset", "inset-00", "inset-22", "inset2", "inset2-00"} {
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
		if !strings.HasPrefix(name, "inset") && len(f) == len(ref) {
			best = min(best, diff(f))
		}
	}
	t.Logf("inset view %.2f levels from the inset video, closest fixed view %.2f", diff(inset), best)
	if d := diff(inset); d > 6 || d > best/3 {
		t.Errorf("the inset view differs from the inset video by %.1f levels; the closest fixed view by %.1f", d, best)
	}
	// Each of the inset's quarters sees the inset video's own quarter, and
	// no other as well.
	for i, iq := range InsetQuarters {
		f, ok := got[iq.Name]
		if !ok {
			t.Fatalf("no view %s of %s", iq.Name, pip)
		}
		own, other := meanAbsDiff(f, aloneViews[Quarters[i].Name]), math.Inf(1)
		for j, q := range Quarters {
			if j != i {
				other = min(other, meanAbsDiff(f, aloneViews[q.Name]))
			}
		}
		t.Logf("%s: %.2f levels from the inset video's %s, %.2f from its closest other quarter", iq.Name, own, Quarters[i].Name, other)
		if own > 6 || own > other/2 {
			t.Errorf("%s differs from the inset video's %s by %.1f levels, from another quarter by %.1f", iq.Name, Quarters[i].Name, own, other)
		}
	}
}

// TestViewsSecondInset embeds the video of TestFindInsetsSecondGuess, where
// FindInsets finds a window of the host's first and the picture second:
// the second rectangle's views must be there, and inset2 must see the
// picture's own video, as inset sees the window.
func TestViewsSecondInset(t *testing.T) {
	dir := t.TempDir()
	enc := []string{"-t", "3", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p"}
	both := testutil.FFmpegGen(t, dir, "both.mp4", append([]string{"-filter_complex", pip(hostWallAndWindow, insetLife, 160, 100)}, enc...)...)
	alone := testutil.FFmpegGen(t, dir, "alone.mp4", append([]string{"-filter_complex", insetLife}, enc...)...)
	pool := Ready(&fakeModel{side: 224, delay: 1})
	views := func(path string) map[string][]float32 { return queryViews(t, pool, path) }
	got, picture := views(both), views(alone)["full"]
	for _, spec := range append([]ViewSpec{{Name: "inset2"}}, SecondInsetQuarters[:]...) {
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

// queryViews embeds path through QueryViews and returns the views by name.
func queryViews(t *testing.T, pool *Pool, path string) map[string][]float32 {
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

// meanAbsDiff is the mean absolute difference of a and b, per value: with
// fakeModel, of the mean colours, per sample.
func meanAbsDiff(a, b []float32) float64 {
	var sum float64
	for i := range b {
		sum += math.Abs(float64(a[i] - b[i]))
	}
	return sum / float64(len(b))
}

// TestMatchViews: the frame's quarters and the inset's make one region view
// each; the inset's quarters are not searched as whole frames.
func TestMatchViews(t *testing.T) {
	row := func(v float32) []float32 { return []float32{v, v, v, v} } // two frames of dim 2
	views := []ViewFeatures{{Name: "full", Features: row(1)}, {Name: "inset", Features: row(2)}}
	for q, spec := range Quarters {
		views = append(views, ViewFeatures{Name: spec.Name, Features: row(float32(10 + q))})
	}
	withInset := slices.Clone(views)
	for q, spec := range InsetQuarters {
		withInset = append(withInset, ViewFeatures{Name: spec.Name, Features: row(float32(20 + q))})
	}
	withTwo := append(slices.Clone(withInset), ViewFeatures{Name: "inset2", Features: row(3)})
	for q, spec := range SecondInsetQuarters {
		withTwo = append(withTwo, ViewFeatures{Name: spec.Name, Features: row(float32(30 + q))})
	}
	tests := []struct {
		name    string
		views   []ViewFeatures
		whole   []string
		regions map[string]float32 // the first value of each region view
	}{
		{"no inset", views, []string{"full", "inset", "window-00", "window-02", "window-20", "window-22"},
			map[string]float32{match.RegionsView: 10}},
		{"inset", withInset, []string{"full", "inset", "window-00", "window-02", "window-20", "window-22"},
			map[string]float32{match.RegionsView: 10, match.InsetRegionsView: 20}},
		{"two insets", withTwo, []string{"full", "inset", "window-00", "window-02", "window-20", "window-22", "inset2"},
			map[string]float32{match.RegionsView: 10, match.InsetRegionsView: 20, match.SecondInsetRegionsView: 30}},
		{"a second inset's quarters only", append(slices.Clone(views), withTwo[len(withInset)+1:]...),
			[]string{"full", "inset", "window-00", "window-02", "window-20", "window-22"},
			map[string]float32{match.RegionsView: 10, match.SecondInsetRegionsView: 30}},
		{"whole frame only", views[:1], []string{"full"}, map[string]float32{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var whole []string
			regions := map[string]float32{}
			for _, v := range MatchViews(tt.views, 2) {
				if v.Regions {
					if len(v.Features) != 2*4*2 {
						t.Errorf("region view %s has %d values, want 16", v.Name, len(v.Features))
					}
					regions[v.Name] = v.Features[0]
				} else {
					whole = append(whole, v.Name)
				}
			}
			if !slices.Equal(whole, tt.whole) {
				t.Errorf("whole-frame views %v, want %v", whole, tt.whole)
			}
			if !maps.Equal(regions, tt.regions) {
				t.Errorf("region views %v, want %v", regions, tt.regions)
			}
		})
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
