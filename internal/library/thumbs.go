package library

import (
	"fmt"

	"github.com/vidprint/vidprint/internal/vprint"
)

// ThumbsBefore is how many of a video's thumbnails, one every every rows
// from row 0, belong to rows before row.
func ThumbsBefore(row, every int) int { return (row + every - 1) / every }

// SliceThumbs returns the thumbnails of rows [lo, hi) of a video whose
// thumbnails are t, aliasing t.Pixels: those of the rows r in range with
// r%t.Every == 0, in order, the first being row ceil(lo/Every)*Every's.
// A video without thumbnails gives the zero value.
func SliceThumbs(t vprint.Thumbs, lo, hi int) vprint.Thumbs {
	if t.Width == 0 || t.Every < 1 {
		return vprint.Thumbs{}
	}
	n := t.Width * t.Height
	k0, k1 := ThumbsBefore(lo, t.Every), ThumbsBefore(hi, t.Every)
	t.Pixels = t.Pixels[k0*n : k1*n : k1*n]
	return t
}

// CheckThumbs tells whether t holds the thumbnails of a print of n rows;
// none (zero Width, no pixels) always fit.
func CheckThumbs(t vprint.Thumbs, n int) error {
	switch {
	case t.Width == 0 && len(t.Pixels) == 0:
		return nil
	case t.Width < 1 || t.Width > vprint.MaxThumbSide || t.Height < 1 || t.Height > vprint.MaxThumbSide:
		return fmt.Errorf("thumbnails of %dx%d pixels, want 1 to %d a side", t.Width, t.Height, vprint.MaxThumbSide)
	case t.Every < 1 || t.Every > vprint.MaxFrames:
		return fmt.Errorf("a thumbnail every %d rows", t.Every)
	case n < 0 || n > vprint.MaxFrames || len(t.Pixels) != t.Count(n)*t.Width*t.Height:
		return fmt.Errorf("thumbnails hold %d bytes, want %d of %dx%d for %d frames", len(t.Pixels), t.Count(n), t.Width, t.Height, n)
	}
	return nil
}
