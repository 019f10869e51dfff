package locate

import (
	"maps"
	"slices"
	"testing"

	"github.com/vidprint/vidprint/internal/embed"
	"github.com/vidprint/vidprint/internal/view"
)

// TestViews: the frame's quarters and the inset's make one region view
// each; the inset's quarters are not searched as whole frames.
func TestViews(t *testing.T) {
	row := func(v float32) []float32 { return []float32{v, v, v, v} } // two frames of dim 2
	views := []embed.ViewFeatures{{Name: "full", Features: row(1)}, {Name: "inset", Features: row(2)}}
	for q, spec := range view.Quarters {
		views = append(views, embed.ViewFeatures{Name: spec.Name, Features: row(float32(10 + q))})
	}
	withInset := slices.Clone(views)
	for q, spec := range view.InsetQuarters {
		withInset = append(withInset, embed.ViewFeatures{Name: spec.Name, Features: row(float32(20 + q))})
	}
	withTwo := append(slices.Clone(withInset), embed.ViewFeatures{Name: "inset2", Features: row(3)})
	for q, spec := range view.SecondInsetQuarters {
		withTwo = append(withTwo, embed.ViewFeatures{Name: spec.Name, Features: row(float32(30 + q))})
	}
	tests := []struct {
		name    string
		views   []embed.ViewFeatures
		whole   []view.Name
		regions map[view.Name]float32 // the first value of each region view
	}{
		{"no inset", views, []view.Name{"full", "inset", "window-00", "window-02", "window-20", "window-22"},
			map[view.Name]float32{view.Regions: 10}},
		{"inset", withInset, []view.Name{"full", "inset", "window-00", "window-02", "window-20", "window-22"},
			map[view.Name]float32{view.Regions: 10, view.InsetRegions: 20}},
		{"two insets", withTwo, []view.Name{"full", "inset", "window-00", "window-02", "window-20", "window-22", "inset2"},
			map[view.Name]float32{view.Regions: 10, view.InsetRegions: 20, view.SecondInsetRegions: 30}},
		{"a second inset's quarters only", append(slices.Clone(views), withTwo[len(withInset)+1:]...),
			[]view.Name{"full", "inset", "window-00", "window-02", "window-20", "window-22"},
			map[view.Name]float32{view.Regions: 10, view.SecondInsetRegions: 30}},
		{"whole frame only", views[:1], []view.Name{"full"}, map[view.Name]float32{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var whole []view.Name
			regions := map[view.Name]float32{}
			for _, v := range Views(tt.views, 2) {
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
	views := []embed.ViewFeatures{{Name: "full", Features: []float32{9, 9, 9, 9}}}
	if _, ok := RegionView(views, 2); ok {
		t.Fatal("a region view without quarters")
	}
	// Two frames of dim 2; quarter q of frame f holds 10q+f.
	for q, spec := range view.Quarters {
		views = append(views, embed.ViewFeatures{Name: spec.Name, Features: []float32{
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

// TestViewsPictures: every view keeps its pictures, and a region view
// takes those of the view whose quarters it is; pictures of the wrong
// length are left out.
func TestViewsPictures(t *testing.T) {
	const frames = 2
	pp := frames * embed.PixelWidth * embed.PixelHeight
	picture := func(v byte) []byte { return slices.Repeat([]byte{v}, pp) }
	row := []float32{1, 2, 3, 4}
	views := []embed.ViewFeatures{
		{Name: view.Full, Features: row, Pixels: picture(1)},
		{Name: view.Inset, Features: row, Pixels: picture(2)},
		{Name: "window-11", Features: row, Pixels: picture(3)[:pp-1]},
	}
	for _, q := range append(view.Quarters[:], view.InsetQuarters[:]...) {
		views = append(views, embed.ViewFeatures{Name: q.Name, Features: row, Pixels: picture(9)})
	}
	want := map[view.Name]byte{view.Full: 1, view.Inset: 2, view.Regions: 1, view.InsetRegions: 2, "window-00": 9}
	seen := 0
	for _, v := range Views(views, frames) {
		if v.Name == "window-11" && v.Pixels != nil {
			t.Errorf("window-11 kept pictures of %d bytes for %d", len(v.Pixels), pp)
		}
		w, ok := want[v.Name]
		if !ok {
			continue
		}
		seen++
		if v.PixelWidth != embed.PixelWidth || v.PixelHeight != embed.PixelHeight || len(v.Pixels) != pp || v.Pixels[0] != w {
			t.Errorf("%s: %dx%d pictures of %d bytes starting %v, want %d", v.Name, v.PixelWidth, v.PixelHeight, len(v.Pixels), v.Pixels[:min(1, len(v.Pixels))], w)
		}
	}
	if seen != len(want) {
		t.Errorf("saw %d of the views %v", seen, want)
	}
}
