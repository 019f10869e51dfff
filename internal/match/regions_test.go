package match

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/vidprint/vidprint/internal/view"
)

// stillFrame is whole-frame features of still footage: the same frame
// with a little independent noise, so that no stretch of it can be told
// from another. It is synth.Still, which this package's tests cannot
// import (synth imports match).
func stillFrame(rng *rand.Rand, n, dim int) []float32 {
	base := make([]float64, dim)
	for d := range base {
		base[d] = 1 + rng.Float64()
	}
	out := make([]float32, n*dim)
	for i := range out {
		out[i] = float32(base[i%dim] + 0.02*rng.NormFloat64())
	}
	return out
}

// TestRegions checks that region features find a clip whose whole-frame
// features cannot place it (still footage in which only a part of the
// frame moves), only with regions on both sides, and only for stretches
// of at least RegionMinDuration.
func TestRegions(t *testing.T) {
	const n, dim, regions, fps = 600, 32, 4, 5.0
	rng := rand.New(rand.NewPCG(3, 4))
	full := stillFrame(rng, n, dim)
	moving := synthVideo(rng, n, regions*dim)
	ts := times(n, fps)

	for _, tc := range []struct {
		name            string
		from, clipN     int
		refRegions      bool
		queryRegions    bool
		wantFound       bool
		wantRegionMatch bool
	}{
		{"whole frames only", 300, 75, false, false, false, false},
		{"regions on the clip only", 300, 75, false, true, false, false},
		{"regions on the video only", 300, 75, true, false, false, false},
		{"regions on both sides", 300, 75, true, true, true, true},
		{"a clip shorter than RegionMinDuration", 300, 15, true, true, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref, err := NewReference(full, ts, dim, fps)
			if err != nil {
				t.Fatal(err)
			}
			if tc.refRegions {
				if err := ref.AddRegions(moving, regions*dim, nil); err != nil {
					t.Fatal(err)
				}
			}
			// The clip's whole frames are the still frame with fresh noise;
			// its regions a noisy copy of the video's.
			views := []View{{Name: "full", Features: stillFrame(rand.New(rand.NewPCG(5, 6)), tc.clipN, dim)}}
			if tc.queryRegions {
				views = append(views, View{Name: view.Regions, Regions: true,
					Features: noisyCopy(rng, moving, regions*dim, tc.from, tc.clipN, 0.1)})
			}
			q, err := ref.NewQuery(times(tc.clipN, fps), views)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Locate(context.Background(), ref, q, DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			found := false
			regionMatch := false
			for _, m := range res.Matches {
				if math.Abs(m.VideoStart-m.ClipStart*m.Speed-float64(tc.from)/fps) <= 0.2 {
					found = true
				}
				if strings.HasPrefix(string(m.View), string(view.Regions)) {
					regionMatch = true
					if m.Samples < int(RegionMinDuration*fps) {
						t.Errorf("region match of %d samples, under RegionMinDuration", m.Samples)
					}
				}
			}
			if found != tc.wantFound || regionMatch != tc.wantRegionMatch {
				t.Errorf("found at %.1f s: %v (want %v), a region match: %v (want %v); matches %+v",
					float64(tc.from)/fps, found, tc.wantFound, regionMatch, tc.wantRegionMatch, res.Matches)
			}
		})
	}
}

func TestAddRegionsChecks(t *testing.T) {
	ref, err := NewReference(make([]float32, 10*4), times(10, 5), 4, 5)
	if err != nil {
		t.Fatal(err)
	}
	if err := ref.AddRegions(make([]float32, 10*8), 0, nil); err == nil {
		t.Error("width 0 accepted")
	}
	if err := ref.AddRegions(make([]float32, 10*8-1), 8, nil); err == nil {
		t.Error("short region features accepted")
	}
	if err := ref.AddRegions(make([]float32, 10*8), 8, make([]float32, 4)); err == nil {
		t.Error("a region mean of the wrong length accepted")
	}
	if ref.Regions() {
		t.Error("failed AddRegions left regions")
	}
	// Region rows need not be a multiple of the whole frame's.
	if err := ref.AddRegions(make([]float32, 10*6), 6, nil); err != nil || !ref.Regions() {
		t.Errorf("AddRegions: %v", err)
	}
}
