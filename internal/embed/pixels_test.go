package embed

import (
	"context"
	"math"
	"testing"

	"github.com/vidprint/vidprint/internal/view"
	"github.com/vidprint/vidprint/internal/vprint"
)

// TestThumbnails: a print keeps a thumbnail a second, of the whole frame,
// in BT.601 luma.
func TestThumbnails(t *testing.T) {
	video := quartersVideo(t, "2.2")
	p, err := ToPrint(context.Background(), video, Ready(&fakeModel{batch: 2}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	th := p.Thumbs
	if th.Width != vprint.ThumbWidth || th.Height != vprint.ThumbHeight || th.Every != 5 || p.Frames() != 11 || th.Count(p.Frames()) != 3 ||
		len(th.Pixels) != 3*vprint.ThumbWidth*vprint.ThumbHeight {
		t.Fatalf("%dx%d every %d, %d bytes for %d frames", th.Width, th.Height, th.Every, len(th.Pixels), p.Frames())
	}
	// Quarter by quarter, a pixel away from the edges: red, lime, blue
	// and white in BT.601 luma.
	want := [4]float64{76, 150, 29, 255}
	for k := range th.Count(p.Frames()) {
		pic := th.Thumb(k)
		for q, luma := range want {
			x := 1 + (q%2)*vprint.ThumbWidth/2
			y := 1 + (q/2)*vprint.ThumbHeight/2
			for _, at := range [][2]int{{x, y}, {x + vprint.ThumbWidth/2 - 3, y + vprint.ThumbHeight/2 - 3}} {
				if got := float64(pic[at[1]*vprint.ThumbWidth+at[0]]); math.Abs(got-luma) > 8 {
					t.Fatalf("thumbnail %d, quarter %d, pixel %v: %v, want about %v", k, q, at, got, luma)
				}
			}
		}
	}
}

// TestViewPixels: each view's pictures show what it sees (the inset's, the
// inset video alone; flip, the frame mirrored), ViewPixels gives the same
// pictures as Views without running the model.
func TestViewPixels(t *testing.T) {
	alone, pip := pipVideos(t, "2")
	ctx := context.Background()
	fake := &fakeModel{side: 224, delay: 1}
	pool := Ready(fake)
	pixels := func(path string, embedToo bool) (int, map[view.Name][]byte, []ViewFeatures) {
		t.Helper()
		get := ViewPixels
		if embedToo {
			get = Views
		}
		times, vs, err := get(ctx, path, pool, Options{}, view.Query())
		if err != nil {
			t.Fatal(err)
		}
		out := map[view.Name][]byte{}
		for _, v := range vs {
			if len(v.Pixels) != len(times)*PixelWidth*PixelHeight {
				t.Fatalf("%s: %d pixel bytes for %d samples", v.Name, len(v.Pixels), len(times))
			}
			if embedToo != (v.Features != nil) {
				t.Fatalf("%s: features %v with the model %v", v.Name, v.Features != nil, embedToo)
			}
			out[v.Name] = v.Pixels
		}
		return len(times), out, vs
	}
	_, own, _ := pixels(alone, false)
	_, got, _ := pixels(pip, false)
	if calls := fake.calls.Load(); calls != 0 {
		t.Fatalf("ViewPixels ran the model %d times", calls)
	}
	diff := func(a, b []byte) float64 {
		var sum float64
		for i := range a {
			sum += math.Abs(float64(a[i]) - float64(b[i]))
		}
		return sum / float64(len(a))
	}
	if d, far := diff(got["inset"], own["full"]), diff(got["full"], own["full"]); d > 8 || d > far/3 {
		t.Errorf("the inset's pictures are %.1f levels from the inset video's, the whole frame's %.1f", d, far)
	}
	mirrored := make([]byte, len(got["full"]))
	for i := range mirrored {
		x := i % PixelWidth
		mirrored[i] = got["full"][i-x+PixelWidth-1-x]
	}
	if d := diff(got["flip"], mirrored); d > 0.5 {
		t.Errorf("flip's pictures are %.2f levels from the whole frame's mirrored", d)
	}
	_, embedded, _ := pixels(pip, true)
	for name, px := range got {
		if string(embedded[name]) != string(px) {
			t.Errorf("%s: Views and ViewPixels give different pictures", name)
		}
	}

}
