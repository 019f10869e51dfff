package decode

import (
	"slices"
	"strings"
	"testing"
)

// TestArgsRange: a stretch seeks on the input keeping the video's times,
// and trims half a sample before its end; none leaves the command line
// as it was.
func TestArgsRange(t *testing.T) {
	base := Options{FPS: 5, Width: 448, Height: 448}
	plain := strings.Join(Args("v.mp4", base), " ")
	if strings.Contains(plain, "-ss") || strings.Contains(plain, "trim") || strings.Contains(plain, "copyts") {
		t.Errorf("a whole video's command line seeks or trims: %s", plain)
	}
	o := base
	o.Start, o.End = 3, 8
	args := Args("v.mp4", o)
	i := slices.Index(args, "-ss")
	if i < 0 || args[i+1] != "3" || !slices.Contains(args, "-copyts") || !slices.Contains(args, "-start_at_zero") || i > slices.Index(args, "-i") {
		t.Errorf("no input seek to 3 s keeping times: %v", args)
	}
	if vf := args[slices.Index(args, "-vf")+1]; !strings.HasPrefix(vf, "trim=end=7.9,fps=5") {
		t.Errorf("filter %q, want a trim before 7.9 s first", vf)
	}
	for _, bad := range [][2]float64{{8, 3}, {3, 3}, {-1, 0}, {0, -2}} {
		o := base
		o.Start, o.End = bad[0], bad[1]
		if o.validate() == nil {
			t.Errorf("stretch %v accepted", bad)
		}
	}
}
