package library

import (
	"bytes"
	"testing"

	"github.com/vidprint/vidprint/internal/vprint"
)

func TestSliceThumbs(t *testing.T) {
	const w, h, every, frames = 2, 1, 5, 23 // rows 0, 5, 10, 15, 20
	pixel := func(r, i int) byte { return byte(101 + r*13 + i*7) }
	all := vprint.Thumbs{Width: w, Height: h, Every: every}
	for r := 0; r < frames; r += every {
		for i := range w * h {
			all.Pixels = append(all.Pixels, pixel(r, i))
		}
	}
	for _, r := range [][2]int{{0, frames}, {0, 1}, {1, 5}, {1, 6}, {3, 17}, {5, 10}, {21, 23}, {20, 20}, {7, 7}} {
		var want []byte
		for row := r[0]; row < r[1]; row++ {
			if row%every == 0 {
				for i := range w * h {
					want = append(want, pixel(row, i))
				}
			}
		}
		got := SliceThumbs(all, r[0], r[1])
		if !bytes.Equal(got.Pixels, want) || got.Width != w || got.Every != every {
			t.Errorf("rows %v: %v, want %v", r, got.Pixels, want)
		}
	}
	if got := SliceThumbs(vprint.Thumbs{}, 0, 10); got.Width != 0 || got.Pixels != nil {
		t.Errorf("no thumbnails sliced: %+v", got)
	}
}
