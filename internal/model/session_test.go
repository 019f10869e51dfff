package model

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vidprint/vidprint/internal/assets"
	"github.com/vidprint/vidprint/internal/testutil"
)

// openSession resolves and loads a model, closing it when the test ends.
func openSession(t *testing.T, modelsDir, nameOrPath, output string, batch int) *Session {
	t.Helper()
	initRuntime(t)
	res, err := Resolve(modelsDir, nameOrPath, output)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSession(res, SessionOptions{Threads: 2, Batch: batch})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// defaultSession runs the installed catalogue model.
func defaultSession(t *testing.T, output string, batch int) *Session {
	t.Helper()
	defaultModel(t)
	return openSession(t, assets.Default().ModelsDir(), Default, output, batch)
}

// imageFrames are the qvac package's test photos as planar frames of the
// given size, resized whole with ffmpeg as the decoder does.
func imageFrames(t *testing.T, w, h int) [][]byte {
	t.Helper()
	testutil.FFmpeg(t)
	var frames [][]byte
	for _, name := range []string{"meal_1.jpg", "report_2.jpg", "other_1.jpg", "meal_2.jpg"} {
		path := testutil.File(t, filepath.Join(assets.Default().QvacTestImages(), name))
		cmd := exec.Command("ffmpeg", "-v", "error", "-i", path, "-vf", fmt.Sprintf("scale=%d:%d:flags=bilinear", w, h),
			"-f", "rawvideo", "-pix_fmt", "rgb24", "-")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		rgb, err := cmd.Output()
		if err != nil || len(rgb) != w*h*3 {
			t.Fatalf("ffmpeg %s: %d bytes, %v %s", name, len(rgb), err, stderr.String())
		}
		frames = append(frames, PackRGB(rgb, w, h))
	}
	return frames
}

// noiseFrames are reproducible random frames.
func noiseFrames(n, w, h int, seed uint64) [][]byte {
	rng := rand.New(rand.NewPCG(seed, 7))
	frames := make([][]byte, n)
	for i := range frames {
		frames[i] = make([]byte, w*h*3)
		for j := range frames[i] {
			frames[i][j] = byte(rng.Uint32())
		}
	}
	return frames
}

// embed runs frames through e in batches of at most MaxBatch.
func embedFrames(t *testing.T, e *Session, frames [][]byte) []float32 {
	t.Helper()
	dim := e.Model().Output.Dim
	out := make([]float32, len(frames)*dim)
	for i := 0; i < len(frames); i += e.MaxBatch() {
		j := min(i+e.MaxBatch(), len(frames))
		if err := e.Embed(context.Background(), frames[i:j], out[i*dim:j*dim]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func maxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
}

func maxAbs(a []float32) float64 {
	var m float64
	for _, x := range a {
		m = math.Max(m, math.Abs(float64(x)))
	}
	return m
}

// The pipeline works through the custom path: a model that the converter
// wrote with one output, resolved as custom-<sha12>, gives the features the
// catalogue model gives, since both hold the same weights.
func TestCustomModelMatchesCatalogue(t *testing.T) {
	frames := append(imageFrames(t, 224, 224), noiseFrames(3, 224, 224, 1)...)
	dir := t.TempDir()
	for _, output := range []string{"embedding", "pooled"} {
		t.Run(output, func(t *testing.T) {
			custom := openSession(t, "", convertTo(t, dir, output+".onnx", output), "", 4)
			if id := custom.Model().Spec.ID; !strings.HasPrefix(id, "custom-") {
				t.Fatalf("the single-output model resolved as %s", id)
			}
			want := embedFrames(t, defaultSession(t, output, 4), frames)
			got := embedFrames(t, custom, frames)
			d := maxDiff(got, want)
			t.Logf("%d frames x %d: max |diff| %.2g, max |value| %.3g", len(frames), custom.Model().Output.Dim, d, maxAbs(want))
			if d > 1e-5*max(1, maxAbs(want)) {
				t.Errorf("custom and catalogue %s features differ by %g", output, d)
			}
		})
	}
}

// Every batch size up to MaxBatch works, and a frame's features do not
// depend on the batch it came in.
func TestSessionBatches(t *testing.T) {
	const batch = 4
	s := defaultSession(t, "", batch)
	if s.MaxBatch() != batch {
		t.Fatalf("MaxBatch %d, want %d", s.MaxBatch(), batch)
	}
	frames := append(imageFrames(t, 224, 224)[:2], noiseFrames(2, 224, 224, 2)...)
	dim := s.Model().Output.Dim
	single := make([][]float32, len(frames))
	for i, f := range frames {
		single[i] = make([]float32, dim)
		if err := s.Embed(context.Background(), [][]byte{f}, single[i]); err != nil {
			t.Fatal(err)
		}
	}
	if maxDiff(single[0], single[1]) < 1e-2 {
		t.Fatal("two different photos give the same features")
	}
	for n := 1; n <= batch; n++ {
		out := make([]float32, n*dim)
		if err := s.Embed(context.Background(), frames[:n], out); err != nil {
			t.Fatalf("batch of %d: %v", n, err)
		}
		for i := range n {
			if d := maxDiff(out[i*dim:(i+1)*dim], single[i]); d > 1e-4 {
				t.Errorf("batch of %d, frame %d: differs from its single-frame features by %g", n, i, d)
			}
		}
	}
}

func TestSessionRefuses(t *testing.T) {
	s := defaultSession(t, "", 2)
	size := 224 * 224 * 3
	frame := make([]byte, size)
	dim := s.Model().Output.Dim
	tests := []struct {
		name   string
		frames [][]byte
		out    int
		says   string
	}{
		{"empty batch", nil, 0, "batch of 0 frames, want 1..2"},
		{"batch too large", [][]byte{frame, frame, frame}, 3 * dim, "batch of 3 frames, want 1..2"},
		{"short frame", [][]byte{frame, frame[:size-1]}, 2 * dim, fmt.Sprintf("frame 1 is %d bytes, want %d", size-1, size)},
		{"long frame", [][]byte{append(frame[:size:size], 0)}, dim, fmt.Sprintf("frame 0 is %d bytes", size+1)},
		{"nil frame", [][]byte{nil}, dim, "frame 0 is 0 bytes"},
		{"short output", [][]byte{frame, frame}, 2*dim - 1, fmt.Sprintf("holds %d values, want %d", 2*dim-1, 2*dim)},
		{"long output", [][]byte{frame}, dim + 1, fmt.Sprintf("holds %d values, want %d", dim+1, dim)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Embed(context.Background(), tc.frames, make([]float32, tc.out))
			if err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("err = %v, want %q", err, tc.says)
			}
		})
	}
	// A refused call leaves the session usable.
	if err := s.Embed(context.Background(), [][]byte{frame}, make([]float32, dim)); err != nil {
		t.Fatalf("after refusals: %v", err)
	}
}

func TestSessionCancel(t *testing.T) {
	s := defaultSession(t, "", 16)
	frames := noiseFrames(16, 224, 224, 3)
	dim := s.Model().Output.Dim
	want := embedFrames(t, s, frames[:1])

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, stop := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer stop()
	for _, tc := range []struct {
		ctx  context.Context
		want error
	}{{cancelled, context.Canceled}, {expired, context.DeadlineExceeded}} {
		for range 3 { // the check must not depend on a race with the run
			if err := s.Embed(tc.ctx, frames, make([]float32, len(frames)*dim)); !errors.Is(err, tc.want) {
				t.Fatalf("Embed with a done context: %v, want %v", err, tc.want)
			}
		}
	}

	// Cancelled while running: it stops with the context's error, or
	// finishes, but does not hang.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- s.Embed(ctx, frames, make([]float32, len(frames)*dim)) }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		t.Logf("cancelled after 20ms: returned %v after %v", err, time.Since(start))
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled run: %v, want nil or context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Embed did not return after its context was cancelled")
	}
	// The session still works afterwards and gives the same features.
	if got := embedFrames(t, s, frames[:1]); maxDiff(got, want) != 0 {
		t.Error("features changed after a cancelled run")
	}
}

// Features are bit-identical between runs and between sessions.
func TestSessionDeterministic(t *testing.T) {
	frames := append(imageFrames(t, 224, 224), noiseFrames(4, 224, 224, 4)...)
	a := defaultSession(t, "", 8)
	first, second := embedFrames(t, a, frames), embedFrames(t, a, frames)
	third := embedFrames(t, defaultSession(t, "", 3), frames)
	for i := range first {
		if math.Float32bits(first[i]) != math.Float32bits(second[i]) {
			t.Fatalf("value %d differs between two runs: %v vs %v", i, first[i], second[i])
		}
	}
	if d := maxDiff(first, third); d > 1e-4 {
		t.Errorf("another session with another batch size differs by %g", d)
	}
}

// The lookup-table preprocessing matches (x/255 - mean) / std computed
// directly, with the channels and the NCHW layout in the right places: a
// model that flattens its input returns exactly the tensor it was fed.
func TestSessionPreprocessing(t *testing.T) {
	initRuntime(t)
	const w, h = 5, 3
	path := flattenModel(t, t.TempDir(), "flatten.onnx", -1, h, w)
	s := openSession(t, "", path, "", 4)
	pre := s.Model().Spec.Pre
	if pre.Width != w || pre.Height != h {
		t.Fatalf("contract %dx%d, want %dx%d", pre.Width, pre.Height, w, h)
	}
	// Bytes counting up through the frames put every value in every
	// channel (256 and 3 are coprime); then some noise.
	var frames [][]byte
	for k := 0; k < 3*256; k += w * h * 3 {
		f := make([]byte, w*h*3)
		for j := range f {
			f[j] = byte(k + j)
		}
		frames = append(frames, f)
	}
	frames = append(frames, noiseFrames(3, w, h, 5)...)
	got := embedFrames(t, s, frames)

	mean := [3]float64{0.485, 0.456, 0.406}
	std := [3]float64{0.229, 0.224, 0.225}
	plane := w * h
	for i, f := range frames {
		for c := range 3 {
			for p := range plane {
				r, g, b := Planes(f, w, h)
				in := [3][]byte{r, g, b}[c][p]
				want := (float64(in)/255 - mean[c]) / std[c]
				if v := got[i*3*plane+c*plane+p]; math.Abs(float64(v)-want) > 1e-5 {
					t.Fatalf("frame %d channel %d pixel %d (byte %d): fed %g, want %g", i, c, p, in, v, want)
				}
			}
		}
	}
	for c := range 3 {
		for v := range 256 {
			want := (float64(v)/255 - mean[c]) / std[c]
			if d := math.Abs(float64(s.pre.lut[c][v]) - want); d > 1e-5 {
				t.Errorf("lut[%d][%d] = %g, want %g", c, v, s.pre.lut[c][v], want)
			}
		}
	}
}

// A model exported with a fixed batch of one gets one frame per call.
func TestSessionFixedBatch(t *testing.T) {
	initRuntime(t)
	s := openSession(t, "", flattenModel(t, t.TempDir(), "one.onnx", 1, 4, 4), "", 8)
	if s.MaxBatch() != 1 {
		t.Fatalf("MaxBatch %d for a model with a fixed batch of 1", s.MaxBatch())
	}
	frames := noiseFrames(3, 4, 4, 6)
	if got := embedFrames(t, s, frames); len(got) != 3*48 {
		t.Fatalf("%d values", len(got))
	}
}

func TestNewSessionMissingFile(t *testing.T) {
	initRuntime(t)
	dir := t.TempDir()
	path := flattenModel(t, dir, "gone.onnx", -1, 4, 4)
	res, err := Resolve("", path, "")
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(path)
	if s, err := NewSession(res, SessionOptions{}); err == nil || !strings.Contains(err.Error(), path) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("NewSession on a removed file: %v, want an error naming it", err)
	}
}

// A done context is refused before any work, even when the run itself
// would be too quick for a terminate request to catch it.
func TestSessionDoneContextFastModel(t *testing.T) {
	initRuntime(t)
	s := openSession(t, "", flattenModel(t, t.TempDir(), "fast.onnx", -1, 2, 2), "", 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i := range 200 {
		if err := s.Embed(ctx, noiseFrames(1, 2, 2, 8), make([]float32, 12)); !errors.Is(err, context.Canceled) {
			t.Fatalf("try %d: Embed with a cancelled context returned %v", i, err)
		}
	}
}

// Cancels landing while a run ends must not touch its released run
// options (go test -race sees it; without -race it can crash in C).
func TestSessionCancelRace(t *testing.T) {
	initRuntime(t)
	s := openSession(t, "", flattenModel(t, t.TempDir(), "race.onnx", -1, 8, 8), "", 1)
	frames := noiseFrames(1, 8, 8, 9)
	for i := range 300 {
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			time.Sleep(time.Duration(i%40) * time.Microsecond)
			cancel()
		}()
		if err := s.Embed(ctx, frames, make([]float32, 192)); err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("try %d: %v", i, err)
		}
		cancel()
	}
}

func TestPlanesAndPackRGB(t *testing.T) {
	rgb := []byte{1, 2, 3, 4, 5, 6} // two pixels
	f := PackRGB(rgb, 2, 1)
	if string(f) != string([]byte{2, 5, 3, 6, 1, 4}) { // gbrp: G plane, B plane, R plane
		t.Fatalf("PackRGB = %v", f)
	}
	r, g, b := Planes(f, 2, 1)
	if string(r) != "\x01\x04" || string(g) != "\x02\x05" || string(b) != "\x03\x06" {
		t.Fatalf("Planes = %v %v %v", r, g, b)
	}
}
