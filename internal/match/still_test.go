package match

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vidprint/vidprint/internal/view"
)

// TestPlaceStill checks that a still image is placed by its pixels where
// its features cannot tell the time: in a shot whose features hold still
// while the picture moves, the image's thumbnail gives the second; where
// the picture holds still too, the span says so, also when the thumbnails
// differ by a grey level; a mirrored image is placed as well; a picture
// that agrees with no thumbnail well enough is left where its features
// put it.
func TestPlaceStill(t *testing.T) {
	const n, every, tw, th, pw, ph = 2000, 5, 16, 12, 48, 36
	rng := rand.New(rand.NewPCG(21, 22))
	video := synthVideo(rng, n, testDim)
	// Samples 1000 to 1049 (200 to 210 s) hold one feature row, with a
	// little noise, as in TestAlikeSpan.
	for i := 1001; i < 1050; i++ {
		for d := range testDim {
			video[i*testDim+d] = video[1000*testDim+d] + float32(0.002*rng.NormFloat64())
		}
	}
	room := scene{}
	// The picture's time at sample j: it moves throughout, or holds still
	// over 200 to 210 s as well.
	moving := func(j int) float64 { return float64(j) / testFPS }
	stillShot := func(j int) float64 {
		if j >= 1000 && j < 1050 {
			return 200
		}
		return moving(j)
	}
	// noisy adds grey-level noise of the given spread to a picture.
	noisy := func(px []byte, spread float64) []byte {
		out := make([]byte, len(px))
		for i, p := range px {
			out[i] = byte(max(0, min(255, math.Round(float64(p)+spread*rng.NormFloat64()))))
		}
		return out
	}
	const truth = 1032.0 / testFPS
	for _, tc := range []struct {
		name         string
		clock        func(j int) float64
		thumbNoise   float64 // grey levels of noise in the thumbnails
		pictures     scene
		pictureNoise float64
		flip         bool
		placed       bool
		start, end   float64 // bounds the alike span must reach, at least
		longest      float64 // the longest span allowed
	}{
		{"moving pictures", moving, 0, room, 0, false, true, truth, truth, 3},
		{"mirrored", moving, 0, room, 0, true, true, truth, truth, 3},
		{"a still shot", stillShot, 0, room, 0, false, true, 200.5, 209.3, 11},
		{"a still shot, thumbnails a grey level apart", stillShot, 0.7, room, 0, false, true, 200.5, 209.3, 11},
		{"a noisy picture", moving, 0, room, 90, false, false, 200.5, 209.3, 11},
		{"another room", moving, 0, scene{texture: 1.5}, 0, false, false, 200.5, 209.3, 11},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var thumbs []byte
			for j := 0; j < n; j += every {
				thumbs = append(thumbs, noisy(room.render(tc.clock(j), 0, 0, 1, 1, tw, th, false), tc.thumbNoise)...)
			}
			ref, err := NewReference(video, times(n, testFPS), testDim, testFPS)
			if err != nil {
				t.Fatal(err)
			}
			if err := ref.AddThumbs(thumbs, tw, th, every, 0); err != nil {
				t.Fatal(err)
			}
			// The image (mirrored or not) is seen as it is and mirrored,
			// both views with the same features, so either may come
			// first.
			clock := tc.clock(1032)
			features := noisyCopy(rng, video, testDim, 1032, 1, 0.02)
			picture := noisy(tc.pictures.render(clock, 0, 0, 1, 1, pw, ph, tc.flip), tc.pictureNoise)
			views := []View{
				{Name: "full", Features: features, Pixels: picture, PixelWidth: pw, PixelHeight: ph},
				{Name: "flip", Features: features, Pixels: mirror(picture, pw), PixelWidth: pw, PixelHeight: ph},
			}
			q, err := ref.NewQuery(times(1, testFPS), views)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Locate(context.Background(), ref, q, DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Matches) == 0 {
				t.Fatalf("not found; best %+v", res.Best)
			}
			m := res.Matches[0]
			if m.PlacedByPixels() != tc.placed {
				t.Fatalf("placed by pixels %v (agreement %.3f), want %v", m.PlacedByPixels(), m.Pixels, tc.placed)
			}
			if m.AlikeStart > tc.start || m.AlikeEnd < tc.end || m.AlikeEnd-m.AlikeStart > tc.longest || m.VideoStart < m.AlikeStart || m.VideoStart > m.AlikeEnd {
				t.Errorf("match at %.1f s, alike %.1f to %.1f s; want it within a span of at most %.0f s from %.1f s or before to %.1f s or after",
					m.VideoStart, m.AlikeStart, m.AlikeEnd, tc.longest, tc.start, tc.end)
			}
			if tc.placed && tc.longest <= 3 && !near(m.VideoStart, truth, 1) {
				t.Errorf("placed at %.1f s, want within 1 s of %.1f s", m.VideoStart, truth)
			}
			if !near(m.VideoEnd-m.VideoStart, 1/testFPS, 1e-9) {
				t.Errorf("from %.2f to %.2f s, want one sample long", m.VideoStart, m.VideoEnd)
			}
			// The view names how the image shows the video, whichever
			// view's features came first.
			if wantView := map[bool]view.Name{false: "full", true: "flip"}[tc.flip]; tc.placed && m.View != wantView {
				t.Errorf("view %s, want %s", m.View, wantView)
			}
			for _, o := range res.Matches[1:] {
				if o.VideoStart >= m.AlikeStart && o.VideoStart <= m.AlikeEnd {
					t.Errorf("another match at %.1f s, within the first's alike span", o.VideoStart)
				}
			}
		})
	}
}

// mirror flips a picture w pixels wide left to right.
func mirror(px []byte, w int) []byte {
	out := make([]byte, len(px))
	for i := range px {
		x, y := i%w, i/w
		out[y*w+w-1-x] = px[i]
	}
	return out
}

// TestRenderWhole checks the whole-frame averaging on sizes that do not
// divide: a flat picture stays flat, and a left-to-right ramp keeps its
// order, reversed when mirrored.
func TestRenderWhole(t *testing.T) {
	const w, h, tw, th = 47, 35, 16, 12
	flat := make([]byte, w*h)
	ramp := make([]byte, w*h)
	for i := range flat {
		flat[i] = 90
		ramp[i] = byte(4 * (i % w))
	}
	for _, v := range renderWhole(flat, w, h, tw, th, false) {
		if !near(v, 90, 1e-9) {
			t.Fatalf("a flat picture rendered to %v", v)
		}
	}
	for _, mirror := range []bool{false, true} {
		out := renderWhole(ramp, w, h, tw, th, mirror)
		if len(out) != tw*th {
			t.Fatalf("%d cells, want %d", len(out), tw*th)
		}
		for x := 1; x < tw; x++ {
			if rising := out[x] > out[x-1]; rising == mirror {
				t.Fatalf("mirror %v: cells %d and %d are %.1f and %.1f", mirror, x-1, x, out[x-1], out[x])
			}
		}
	}
}
