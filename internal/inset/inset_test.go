package inset

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os/exec"
	"testing"

	"github.com/vidprint/vidprint/internal/testutil"
)

// The size our decoder gives the model's input: the aspect is squashed.
const insetTestSize = 224

// insetFrames renders a lavfi filter graph, whose last output is the
// video, for seconds at 5 samples a second, scaled to 224x224 as our
// decoder does, and returns its luma frames.
func insetFrames(t testing.TB, graph string, seconds float64) [][]byte {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg is not on PATH")
	}
	s := insetTestSize
	graph += fmt.Sprintf(",fps=5,scale=%d:%d:flags=bilinear,format=gray", s, s)
	cmd := exec.Command("ffmpeg", "-v", "error", "-nostdin", "-filter_complex", graph,
		"-t", fmt.Sprint(seconds), "-f", "rawvideo", "-")
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ffmpeg %q: %v: %s", graph, err, stderr.String())
	}
	var frames [][]byte
	for b := out.Bytes(); len(b) >= s*s; b = b[s*s:] {
		frames = append(frames, b[:s*s])
	}
	if want := int(seconds * 5); len(frames) < want {
		t.Fatalf("ffmpeg %q gave %d frames, want %d", graph, len(frames), want)
	}
	return frames
}

// Hosts, 640 wide as in our evaluation, each changing by itself. Sources
// with a seed have it fixed, so that runs agree.
const (
	hostLife = "life=s=640x360:mold=10:r=5:ratio=0.1:seed=1:death_color=#C83232:life_color=#00ff00"
	// testsrc2's bars stand still, but its other elements move.
	hostTestsrc2 = "testsrc2=s=640x360:r=5"
	// mandelbrot zooms in slowly: nearly still.
	hostMandelbrot    = "mandelbrot=s=640x360:r=5"
	hostGray          = testutil.HostGray
	hostWallAndWindow = testutil.HostWallAndWindow
)

// Insets: other moving sources, scaled to 320 wide.
const (
	insetMandelbrot = "mandelbrot=s=480x270:r=5:start_scale=2,scale=320:180"
	insetLife       = testutil.InsetLife
	insetTestsrc2   = "testsrc2=s=480x270:r=5,scale=320:180"
)

// pip overlays inset on host at x, y. overlay puts a yuv420p picture at
// even places, so the cases use those.
func pip(host, inset string, x, y int) string { return testutil.Overlay(host, inset, x, y) }

func TestFindInsetPictureInPicture(t *testing.T) {
	cases := []struct {
		name         string
		host, inset  string
		fw, fh, x, y int // the inset's size and place on the 640x360 host
	}{
		{"life-host/middle", hostLife, insetMandelbrot, 320, 180, 160, 90},
		{"life-host/near-top-left", hostLife, insetTestsrc2, 320, 180, 18, 10},
		{"life-host/left-edge", hostLife, insetTestsrc2, 320, 180, 0, 100},
		// testsrc2's bars have long edges at multiples of 640/6, and a
		// side along one is lost (see Find): these sides avoid them.
		{"testsrc2-host/near-bottom-right", hostTestsrc2, insetLife, 320, 240, 300, 112},
		{"testsrc2-host/bottom-edge", hostTestsrc2, insetLife, 320, 240, 150, 120},
		{"mandelbrot-host/top-edge", hostMandelbrot, insetLife, 320, 240, 234, 0},
		{"mandelbrot-host/off-centre", hostMandelbrot, insetLife, 320, 240, 96, 104},
		{"still-host/life", hostGray, insetLife, 320, 240, 282, 38},
		{"still-host/testsrc2", hostGray, insetTestsrc2, 320, 180, 50, 152},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			frames := insetFrames(t, pip(tc.host, tc.inset, tc.x, tc.y), 3)
			want := Rect{X: float64(tc.x) / 640, Y: float64(tc.y) / 360,
				W: float64(tc.fw) / 640, H: float64(tc.fh) / 360}
			got, ok := Find(frames, insetTestSize, insetTestSize)
			t.Logf("want %s, got %s (%v)", fmtInset(want), fmtInset(got), ok)
			if !ok {
				t.Fatalf("no inset found; want %s", fmtInset(want))
			}
			checkInset(t, got, want)
		})
	}
}

// TestFindInsetHostEdgeInLine places a picture whose right side runs on,
// upward, into a straight edge of the host's, which meets a host line
// above the picture: the rectangle of host line, run-on edges and the
// picture's lower part scores, while the picture's own right side seems to
// continue past its corner. Find must still give the picture.
func TestFindInsetHostEdgeInLine(t *testing.T) {
	host := hostGray + ",drawbox=x=479:y=30:w=3:h=72:color=white:t=fill,drawbox=x=160:y=30:w=322:h=3:color=white:t=fill"
	frames := insetFrames(t, pip(host, insetLife, 160, 100), 3)
	want := Rect{X: 160.0 / 640, Y: 100.0 / 360, W: 320.0 / 640, H: 240.0 / 360}
	got, ok := Find(frames, insetTestSize, insetTestSize)
	t.Logf("want %s, got %s (%v)", fmtInset(want), fmtInset(got), ok)
	if !ok {
		t.Fatalf("no inset found; want %s", fmtInset(want))
	}
	checkInset(t, got, want)
}

// TestFindInsetSideRunsOn places a picture whose left side runs on, up to
// the frame's top, into a straight edge of the host's (a window frame's, a
// dark wall's): that side continues past one of its corners, and no
// rectangle of the host's stands in for the picture.
func TestFindInsetSideRunsOn(t *testing.T) {
	cases := []struct{ name, host string }{
		{"wall/still", hostGray + ",drawbox=x=0:y=0:w=160:h=100:color=black:t=fill"},
		{"bar/still", hostGray + ",drawbox=x=158:y=0:w=4:h=100:color=white:t=fill"},
		{"bar/life", hostLife + ",drawbox=x=156:y=0:w=4:h=100:color=white:t=fill"},
		{"bar/mandelbrot", hostMandelbrot + ",drawbox=x=156:y=0:w=4:h=100:color=white:t=fill"},
	}
	want := Rect{X: 160.0 / 640, Y: 100.0 / 360, W: 320.0 / 640, H: 240.0 / 360}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			frames := insetFrames(t, pip(tc.host, insetLife, 160, 100), 3)
			got, ok := Find(frames, insetTestSize, insetTestSize)
			t.Logf("want %s, got %s (%v)", fmtInset(want), fmtInset(got), ok)
			if !ok {
				t.Fatalf("no inset found; want %s", fmtInset(want))
			}
			checkInset(t, got, want)
		})
	}
}

// TestFindInsetsSecondGuess adds, beside a picture whose left side runs on
// into a dark wall of the host's (as in TestFindInsetSideRunsOn), a
// window of the host's, outlined in 7 frames of 10, whose sides stop at
// their corners: the strict scan takes the window, and only the lenient
// one the picture. FindAll must give both, the strict scan's first.
func TestFindInsetsSecondGuess(t *testing.T) {
	frames := insetFrames(t, pip(hostWallAndWindow, insetLife, 160, 100), 3)
	window := Rect{X: 496.0 / 640, Y: 40.0 / 360, W: 136.0 / 640, H: 160.0 / 360}
	picture := Rect{X: 160.0 / 640, Y: 100.0 / 360, W: 320.0 / 640, H: 240.0 / 360}
	got := FindAll(frames, insetTestSize, insetTestSize)
	for _, r := range got {
		t.Logf("got %s", fmtInset(r))
	}
	if len(got) != 2 {
		t.Fatalf("%d rectangles, want the window %s and the picture %s", len(got), fmtInset(window), fmtInset(picture))
	}
	checkInset(t, got[0], window)
	checkInset(t, got[1], picture)
	if first, ok := Find(frames, insetTestSize, insetTestSize); !ok || first != got[0] {
		t.Errorf("Find gives %s (%v), want FindAll's first, %s", fmtInset(first), ok, fmtInset(got[0]))
	}
}

// checkInset fails unless each side of got is within 0.03 of want's.
func checkInset(t *testing.T, got, want Rect) {
	t.Helper()
	for _, s := range []struct {
		name      string
		got, want float64
	}{
		{"left", got.X, want.X}, {"right", got.X + got.W, want.X + want.W},
		{"top", got.Y, want.Y}, {"bottom", got.Y + got.H, want.Y + want.H},
	} {
		if math.Abs(s.got-s.want) > 0.03 {
			t.Errorf("%s side at %.3f, want %.3f", s.name, s.got, s.want)
		}
	}
}

func TestFindInsetNone(t *testing.T) {
	cases := []struct{ name, graph string }{
		{"testsrc2", hostTestsrc2},
		{"mandelbrot", hostMandelbrot},
		{"life", hostLife},
		{"cellauto", "cellauto=s=640x360:r=5:seed=4"},
		{"sierpinski", "sierpinski=s=640x360:r=5:seed=5"},
		{"still-noise", hostGray},
		// A still scene with a window frame: a persistent rectangle, but
		// nothing moves in or around it.
		{"still-window", "color=c=0x405060:s=640x360:r=5," +
			"drawbox=x=150:y=90:w=300:h=180:color=white:t=6,noise=alls=8:allf=t"},
		// Letterboxed: black bars above and below full-width content.
		{"letterboxed-testsrc2", "testsrc2=s=640x270:r=5,pad=640:360:0:45"},
		{"letterboxed-mandelbrot", "mandelbrot=s=640x240:r=5,pad=640:360:0:60"},
		// Pillarboxed: bars left and right.
		{"pillarboxed-life", "life=s=400x360:mold=10:r=5:ratio=0.1:seed=3,pad=640:360:120:0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			frames := insetFrames(t, tc.graph, 3)
			if got, ok := Find(frames, insetTestSize, insetTestSize); ok {
				t.Errorf("found an inset %s in a video without one", fmtInset(got))
			}
		})
	}
}

// TestFindInsetBlocks needs no ffmpeg: a host and an inset of random
// blocks, each redrawn at a random offset every frame, so that neither has
// a persistent edge of its own.
func TestFindInsetBlocks(t *testing.T) {
	const w, h = 160, 120
	rng := rand.New(rand.NewPCG(1, 2))
	draw := func(f []byte, x0, y0, x1, y1 int) {
		ox, oy := rng.IntN(8), rng.IntN(8)
		vals := make([]byte, 64*64)
		for i := range vals {
			vals[i] = byte(rng.IntN(256))
		}
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				f[y*w+x] = vals[((y+oy)/8)*64+(x+ox)/8]
			}
		}
	}
	want := Rect{X: 37.0 / w, Y: 29.0 / h, W: 70.0 / w, H: 50.0 / h}
	var frames, hosts [][]byte
	for range 20 {
		f := make([]byte, w*h)
		draw(f, 0, 0, w, h)
		hosts = append(hosts, bytes.Clone(f))
		draw(f, 37, 29, 37+70, 29+50)
		frames = append(frames, f)
	}
	got, ok := Find(frames, w, h)
	t.Logf("want %s, got %s (%v)", fmtInset(want), fmtInset(got), ok)
	if !ok {
		t.Fatal("no inset found")
	}
	checkInset(t, got, want)
	if got, ok := Find(hosts, w, h); ok {
		t.Errorf("found an inset %s in the host alone", fmtInset(got))
	}
}

// Find must neither panic nor find anything without frames to go by.
func TestFindInsetDegenerate(t *testing.T) {
	frame := func(w, h int, v byte) []byte { return bytes.Repeat([]byte{v}, max(w*h, 0)) }
	cases := []struct {
		name   string
		frames [][]byte
		w, h   int
	}{
		{"no frames", nil, 224, 224},
		{"one frame", [][]byte{frame(224, 224, 7)}, 224, 224},
		{"flat frames", [][]byte{frame(224, 224, 7), frame(224, 224, 9), frame(224, 224, 200)}, 224, 224},
		{"short frames", [][]byte{frame(10, 10, 7), frame(10, 10, 9)}, 224, 224},
		{"nil frames", [][]byte{nil, nil, nil}, 224, 224},
		{"one whole frame among short ones", [][]byte{frame(224, 224, 7), frame(3, 3, 9)}, 224, 224},
		{"tiny", [][]byte{frame(3, 2, 7), frame(3, 2, 90)}, 3, 2},
		{"narrow", [][]byte{frame(4, 400, 7), frame(4, 400, 90)}, 4, 400},
		{"one pixel", [][]byte{{1}, {200}}, 1, 1},
		{"zero size", [][]byte{{}, {}}, 0, 0},
		{"negative size", [][]byte{{}, {}}, -5, 7},
		{"huge size", [][]byte{{}, {}}, 1 << 40, 1 << 40},
	}
	for _, tc := range cases {
		if got, ok := Find(tc.frames, tc.w, tc.h); ok {
			t.Errorf("%s: found %s", tc.name, fmtInset(got))
		}
	}
}

// BenchmarkFind times 15 seconds' samples (75 frames) of 224x224.
func BenchmarkFind(b *testing.B) {
	frames := insetFrames(b, pip(hostLife, insetMandelbrot, 160, 90), 15)
	for b.Loop() {
		if _, ok := Find(frames, insetTestSize, insetTestSize); !ok {
			b.Fatal("no inset found")
		}
	}
}

func fmtInset(r Rect) string {
	return fmt.Sprintf("x %.3f..%.3f y %.3f..%.3f", r.X, r.X+r.W, r.Y, r.Y+r.H)
}
