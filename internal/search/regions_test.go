package search

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vidprint/vidprint/internal/library"
	"github.com/vidprint/vidprint/internal/library/rowcodec"
	"github.com/vidprint/vidprint/internal/locate"
	"github.com/vidprint/vidprint/internal/match"
	"github.com/vidprint/vidprint/internal/synth"
	"github.com/vidprint/vidprint/internal/view"
	"github.com/vidprint/vidprint/internal/vprint"
)

// TestSearchRegions checks that a library stores region features and
// searches them: in still footage where only a part of the frame moves,
// a clip is placed by its quarters, and only when the library keeps them
// and the query brings its region view.
func TestSearchRegions(t *testing.T) {
	const dim, n, videos, clipN = 256, 600, 3, 75
	rng := rand.New(rand.NewPCG(11, 12))
	base := synth.Base(rng, 4*dim) // the quarters' features
	type video struct{ whole, quarters []float32 }
	vs := make([]video, videos)
	for i := range vs {
		vs[i] = video{synth.Still(rng, n, dim), synth.Video(rng, base, n, 4*dim)}
	}
	const target, from = 1, 300
	// The clip's still frame is the target's, with fresh noise.
	still := match.RowMean(vs[target].whole, dim)
	clipWhole := make([]float32, clipN*dim)
	for i := range clipWhole {
		clipWhole[i] = still[i%dim] + float32(0.02*rng.NormFloat64())
	}
	clipQuarters := synth.Clip(rng, vs[target].quarters, 4*dim, from, clipN, 1, 0.1)

	// A picture-in-picture's host: its frame's quarters show something
	// else; the clip's quarters are the inset's.
	hostQuarters := synth.Video(rng, base, clipN, 4*dim)

	for _, tc := range []struct {
		name          string
		codec         string
		regionView    view.Name // the region view that holds the clip's quarters
		wantFound     bool
		wantRegionHit bool
	}{
		{"regions on both sides", rowcodec.CodecProjected, view.Regions, true, true},
		{"the inset's regions after the host's", rowcodec.CodecProjected, view.InsetRegions, true, true},
		{"no region view", rowcodec.CodecProjected, "", false, false},
		{"a library without regions", rowcodec.CodecHalf, view.Regions, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			meta, codec := synthMeta(t, dim, tc.codec)
			rc, err := rowcodec.NewRegionCodec(meta)
			if err != nil {
				t.Fatal(err)
			}
			if (rc != nil) != (tc.codec == rowcodec.CodecProjected) {
				t.Fatalf("codec %s: region codec %v", tc.codec, rc)
			}
			var entries []library.Entry
			for i, v := range vs {
				p := &vprint.Print{Dim: dim, FPS: 5, Timestamps: synth.Times(n, 5), Features: v.whole, Regions: 4, RegionFeatures: v.quarters}
				e := rowcodec.NewEntry(codec, library.Video{ID: int64(i + 1), Path: fmt.Sprintf("video-%d.mp4", i+1)}, p)
				e.Regions = rowcodec.NewRegions(rc, p)
				if (e.RegionCodes != nil) != (rc != nil) {
					t.Fatalf("region codes %d bytes with region codec %v", len(e.RegionCodes), rc)
				}
				entries = append(entries, e)
			}
			b, err := NewMemory(context.Background(), meta, entries)
			if err != nil {
				t.Fatal(err)
			}
			for _, regions := range []bool{true, false} {
				seg, err := b.Segment(context.Background(), target+1, 10, 20, regions)
				if err != nil || len(seg.Rows) != 10*codec.Dim() || (seg.Regions != nil) != (regions && rc != nil) {
					t.Fatalf("segment with regions %v: %v, %d rows' values, %d region values", regions, err, len(seg.Rows), len(seg.Regions))
				}
			}
			views := []match.View{{Name: "full", Features: clipWhole}}
			switch tc.regionView {
			case view.Regions:
				views = append(views, match.View{Name: view.Regions, Regions: true, Features: clipQuarters})
			case view.InsetRegions:
				views = append(views, match.View{Name: view.Regions, Regions: true, Features: hostQuarters},
					match.View{Name: view.InsetRegions, Regions: true, Features: clipQuarters})
			}
			res, err := Search(context.Background(), b, locate.Query{Times: synth.Times(clipN, 5), Views: views}, DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			found, regionHit := false, false
			for _, m := range res.Matches {
				if m.Video.ID == target+1 && math.Abs(m.VideoStart-m.ClipStart*m.Speed-from/5.0) <= 0.2 {
					found = true
					regionHit = regionHit || m.View == tc.regionView || m.View == tc.regionView+"/own"
				}
			}
			if found != tc.wantFound || regionHit != tc.wantRegionHit {
				t.Errorf("found at %g s: %v (want %v), through the regions: %v (want %v); matches %+v",
					from/5.0, found, tc.wantFound, regionHit, tc.wantRegionHit, res.Matches)
			}
		})
	}
}

// TestProjectorKeepsPictures: a view's pictures, for the pixel check,
// reach the alignment with its projected features, region views' too.
func TestProjectorKeepsPictures(t *testing.T) {
	const dim, n, clipN = 256, 50, 10
	rng := rand.New(rand.NewPCG(5, 6))
	meta, codec := synthMeta(t, dim, rowcodec.CodecProjected)
	rc, err := rowcodec.NewRegionCodec(meta)
	if err != nil {
		t.Fatal(err)
	}
	p := &vprint.Print{Dim: dim, FPS: 5, Timestamps: synth.Times(n, 5), Features: synth.Still(rng, n, dim),
		Regions: 4, RegionFeatures: synth.Still(rng, n, 4*dim)}
	e := rowcodec.NewEntry(codec, library.Video{ID: 1, Path: "video.mp4"}, p)
	e.Regions = rowcodec.NewRegions(rc, p)
	b, err := NewMemory(context.Background(), meta, []library.Entry{e})
	if err != nil {
		t.Fatal(err)
	}
	pictures := func(seed byte) []byte {
		px := make([]byte, clipN*6*4)
		for i := range px {
			px[i] = byte(i) + seed
		}
		return px
	}
	q := locate.Query{Times: synth.Times(clipN, 5), Views: []match.View{
		{Name: "full", Features: synth.Still(rng, clipN, dim), Pixels: pictures(1), PixelWidth: 6, PixelHeight: 4},
		{Name: view.Regions, Features: synth.Still(rng, clipN, 4*dim), Regions: true, Pixels: pictures(2), PixelWidth: 6, PixelHeight: 4},
	}}
	pr, err := newProjector(b, q)
	if err != nil {
		t.Fatal(err)
	}
	views, err := pr.views(context.Background(), pr.all())
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range append(views, pr.regionViews()...) {
		want := q.Views[0]
		if v.Regions {
			want = q.Views[1]
		}
		if v.Features == nil || string(v.Pixels) != string(want.Pixels) || v.PixelWidth != 6 || v.PixelHeight != 4 {
			t.Errorf("view %s: %d features, %d pixel bytes of %dx%d; want the clip's %d bytes of 6x4", v.Name, len(v.Features), len(v.Pixels), v.PixelWidth, v.PixelHeight, len(want.Pixels))
		}
	}
}
