package summary

import (
	"image"
	"testing"
)

func TestUniqueNames(t *testing.T) {
	frames := []Keyframe{{TimeS: 1.2, Row: 6}, {TimeS: 1.2, Row: 7}, {TimeS: 62.4, Row: 312}}
	UniqueNames(frames)
	if frames[0].File != "t0000m01.200s.jpg" || frames[1].File != "t0000m01.200s-r7.jpg" || frames[2].File != "t0001m02.400s.jpg" {
		t.Fatalf("names %q %q %q", frames[0].File, frames[1].File, frames[2].File)
	}
}

func TestSheetStaysWithinJPEGLimits(t *testing.T) {
	thumb := image.NewRGBA(image.Rect(0, 0, 200, 112))
	for _, n := range []int{1, 7, 1500} {
		frames := make([]Keyframe, n)
		for i := range frames {
			frames[i].Image = thumb
		}
		b := ContactSheet(frames, 200, SheetColumns(n)).Bounds()
		if b.Dx() > 65535 || b.Dy() > 65535 || b.Dx() < 200 {
			t.Fatalf("%d keyframes: sheet %v", n, b)
		}
	}
}
