package embed

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vidprint/vidprint/internal/decode"
	"github.com/vidprint/vidprint/internal/model"
	"github.com/vidprint/vidprint/internal/testutil"
)

// fakeModel "embeds" a frame as its mean red, green and blue, after a
// random delay so that workers finish out of order.
type fakeModel struct {
	batch   int
	calls   atomic.Int32
	failAt  int32         // fail on this call (1-based); 0 never
	delay   time.Duration // per frame; 0 means a random few milliseconds
	maxSeen atomic.Int32
	inputs  atomic.Int32 // frames embedded, over every call
	side    int          // the input's width and height; 0 means 16
}

func (f *fakeModel) Model() model.Resolved {
	side := f.side
	if side == 0 {
		side = 16
	}
	return model.Resolved{
		Spec: model.Spec{ID: "fake", Pre: model.Preprocess{Width: side, Height: side,
			Scale: 1, Std: [3]float32{1, 1, 1}}},
		SHA256: "0000000000000000000000000000000000000000000000000000000000000000",
		Output: model.Output{Name: "rgb", Dim: 3},
	}
}
func (f *fakeModel) MaxBatch() int { return f.batch }
func (f *fakeModel) Close() error  { return nil }
func (f *fakeModel) EmbedTensor(ctx context.Context, input []float32, n int, out []float32) error {
	calls := f.calls.Add(1)
	f.inputs.Add(int32(n))
	if int32(n) > f.maxSeen.Load() {
		f.maxSeen.Store(int32(n))
	}
	if calls == f.failAt {
		return errors.New("model exploded")
	}
	if f.delay > 0 {
		time.Sleep(f.delay * time.Duration(n))
	} else {
		time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond)
	}
	per := len(input) / n
	plane := per / 3
	for i := range n {
		for c := range 3 {
			var sum float32
			for _, v := range input[i*per+c*plane : i*per+(c+1)*plane] {
				sum += v
			}
			out[i*3+c] = sum / float32(plane)
		}
	}
	return ctx.Err()
}

// A video that fades from black to white: each sample's brightness tells
// its time, so rows out of order would show.
func fadeVideo(t *testing.T) string {
	return testutil.FFmpegGen(t, t.TempDir(), "fade.mp4", "-f", "lavfi",
		"-i", "color=white:size=64x64:rate=25,fade=in:st=0:d=8", "-t", "8",
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p")
}

func TestRowsStayInOrderAcrossWorkers(t *testing.T) {
	video := fadeVideo(t)
	for _, tc := range []struct{ workers, batch int }{{1, 1}, {3, 1}, {2, 4}, {4, 8}} {
		embs := make([]model.Embedder, tc.workers)
		fakes := make([]*fakeModel, tc.workers)
		for i := range embs {
			fakes[i] = &fakeModel{batch: tc.batch}
			embs[i] = fakes[i]
		}
		var progressed int
		// With regions, so that every worker runs (sessions).
		p, err := ToPrint(context.Background(), video, Ready(embs...), Options{Regions: true, Progress: func(done, total int) { progressed = done }})
		if err != nil {
			t.Fatal(err)
		}
		if p.Frames() != 40 || progressed != 40 || p.Dim != 3 || p.Model.ID != "fake" {
			t.Fatalf("workers=%d batch=%d: %d frames (progress %d), dim %d", tc.workers, tc.batch, p.Frames(), progressed, p.Dim)
		}
		for i := 1; i < p.Frames(); i++ {
			if p.Timestamps[i] <= p.Timestamps[i-1] || p.Row(i)[0] < p.Row(i - 1)[0] {
				t.Fatalf("workers=%d batch=%d: row %d (t=%.1f, %.1f) out of order after (t=%.1f, %.1f)", tc.workers, tc.batch,
					i, p.Timestamps[i], p.Row(i)[0], p.Timestamps[i-1], p.Row(i - 1)[0])
			}
		}
		for _, f := range fakes {
			if int(f.maxSeen.Load()) > tc.batch {
				t.Fatalf("a batch of %d exceeds the limit %d", f.maxSeen.Load(), tc.batch)
			}
		}
		if p.Source.Name != "fade.mp4" || p.Source.Size == 0 || len(p.Source.SHA256) != 64 || p.Source.Width != 64 {
			t.Fatalf("source = %+v", p.Source)
		}
	}
}

func TestModelErrorStopsTheRun(t *testing.T) {
	video := fadeVideo(t)
	embs := []model.Embedder{&fakeModel{batch: 1, failAt: 5}, &fakeModel{batch: 1}}
	done := make(chan error, 1)
	go func() {
		_, err := ToPrint(context.Background(), video, Ready(embs...), Options{})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || err.Error() != "model exploded" {
			t.Fatalf("got %v, want the model's error", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a failing model hung the pipeline")
	}
}

func TestCancelStopsTheRun(t *testing.T) {
	video := testutil.TestVideo(t, t.TempDir(), "long.mp4", 320, 240, "25", 60)
	ctx, cancel := context.WithCancel(context.Background())
	embs := []model.Embedder{&fakeModel{batch: 2}, &fakeModel{batch: 2}}
	done := make(chan error, 1)
	go func() {
		_, err := ToPrint(ctx, video, Ready(embs...), Options{Progress: func(done, total int) {
			if done >= 10 {
				cancel()
			}
		}})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("cancel did not stop the pipeline")
	}
}

func TestBadVideoIsReportedBeforeWork(t *testing.T) {
	f := &fakeModel{batch: 1}
	_, err := ToPrint(context.Background(), "/nonexistent/x.mp4", Ready(f), Options{})
	if !errors.Is(err, decode.ErrNotFound) || f.calls.Load() != 0 {
		t.Fatalf("got %v after %d model calls", err, f.calls.Load())
	}
}

// A second session loads only while frames wait for the model.
func TestPoolGrowsOnlyWhenTheModelIsTheBottleneck(t *testing.T) {
	video := fadeVideo(t)
	for _, tc := range []struct {
		name      string
		delay     time.Duration
		wantGrown bool
	}{
		{"fast model", time.Nanosecond, false},
		{"slow model", 30 * time.Millisecond, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var made atomic.Int32
			res := (&fakeModel{}).Model()
			pool := newPool(res, model.SessionOptions{Batch: 1}, 3, func() (model.Embedder, error) {
				made.Add(1)
				return &fakeModel{batch: 1, delay: tc.delay}, nil
			})
			defer pool.Close()
			p, err := ToPrint(context.Background(), video, pool, Options{Regions: true})
			if err != nil {
				t.Fatal(err)
			}
			if p.Frames() != 40 {
				t.Fatalf("%d frames", p.Frames())
			}
			if grown := made.Load() > 1; grown != tc.wantGrown {
				t.Fatalf("%d sessions loaded; want growth %v", made.Load(), tc.wantGrown)
			}
		})
	}
}

func TestSessions(t *testing.T) {
	for _, tc := range []struct {
		name                       string
		infer                      bool
		size, inputs, every, cores int
		want                       int
	}{
		{"whole frame on two cores: a core for ffmpeg", true, 2, 1, 1, 2, 1},
		{"whole frame on eight cores", true, 8, 1, 1, 8, 7},
		{"whole frame, a smaller pool", true, 4, 1, 1, 8, 4},
		{"one core", true, 2, 1, 1, 1, 1},
		{"quarters every second sample: 3 a sample", true, 2, 5, 2, 2, 2},
		{"quarters every sample", true, 2, 5, 1, 2, 2},
		{"one more view every second sample: 1.5 a sample", true, 2, 2, 2, 2, 1},
		{"a clip's views", true, 2, 11, 2, 2, 2},
		{"no model", false, 2, 0, 1, 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := pass{infer: tc.infer, every: tc.every}
			if got := p.sessions(tc.size, tc.inputs, tc.cores); got != tc.want {
				t.Errorf("sessions(%d, %d, %d) = %d, want %d", tc.size, tc.inputs, tc.cores, got, tc.want)
			}
		})
	}
}

type failingSink struct{ after int }

func (f *failingSink) Append(float64, []float32, []float32, []byte) error {
	if f.after--; f.after < 0 {
		return errors.New("disk full")
	}
	return nil
}

func TestSinkErrorStopsTheRun(t *testing.T) {
	video := fadeVideo(t)
	done := make(chan error, 1)
	go func() {
		_, err := Video(context.Background(), video, Ready(&fakeModel{batch: 1}), Options{}, &failingSink{after: 5})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || err.Error() != "disk full" {
			t.Fatalf("got %v, want the sink's error", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a failing sink hung the pipeline")
	}
}

func TestSessionThatFailsToLoad(t *testing.T) {
	video := fadeVideo(t)
	pool := newPool((&fakeModel{}).Model(), model.SessionOptions{Batch: 1}, 2, func() (model.Embedder, error) {
		return nil, errors.New("no such model")
	})
	defer pool.Close()
	if _, err := ToPrint(context.Background(), video, pool, Options{}); err == nil || err.Error() != "no such model" {
		t.Fatalf("got %v, want the load error", err)
	}
}

// TestRegions embeds a video whose quarters are red, lime, blue and white
// with a model that returns mean colours: each region row must be its
// quarter's colour and the whole frame their mean, with batches split to
// what the session takes.
// quartersVideo is seconds of a frame whose quarters are red, lime, blue
// and white.
func quartersVideo(t *testing.T, seconds string) string {
	return testutil.FFmpegGen(t, t.TempDir(), "quarters.mp4",
		"-f", "lavfi", "-i", "color=red:size=32x32:rate=25",
		"-f", "lavfi", "-i", "color=lime:size=32x32:rate=25",
		"-f", "lavfi", "-i", "color=blue:size=32x32:rate=25",
		"-f", "lavfi", "-i", "color=white:size=32x32:rate=25",
		"-filter_complex", "[0][1][2][3]xstack=inputs=4:layout=0_0|w0_0|0_h0|w0_h0", "-t", seconds,
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p")
}

func TestRegions(t *testing.T) {
	video := quartersVideo(t, "2")
	fake := &fakeModel{batch: 3}
	p, err := ToPrint(context.Background(), video, Ready(fake), Options{Regions: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.Regions != 4 || p.Frames() != 10 || len(p.RegionFeatures) != p.Frames()*4*3 {
		t.Fatalf("%d regions, %d frames, %d region features", p.Regions, p.Frames(), len(p.RegionFeatures))
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	want := [4][3]float32{{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 255}}
	near := func(got []float32, want [3]float32) bool {
		for c := range 3 {
			if d := got[c] - want[c]; d > 12 || d < -12 {
				return false
			}
		}
		return true
	}
	for i := range p.Frames() {
		row := p.RegionRow(i)
		for q, colour := range want {
			if !near(row[q*3:(q+1)*3], colour) {
				t.Fatalf("row %d quarter %d: %v, want about %v", i, q, row[q*3:(q+1)*3], colour)
			}
		}
		if mean := [3]float32{127.5, 127.5, 127.5}; !near(p.Row(i), mean) {
			t.Fatalf("row %d whole frame: %v, want about %v", i, p.Row(i), mean)
		}
	}
	if n := fake.maxSeen.Load(); n > 3 {
		t.Errorf("a batch of %d inputs, the session takes 3", n)
	}

	plain, err := ToPrint(context.Background(), video, Ready(&fakeModel{batch: 3}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if plain.Regions != 0 || plain.RegionFeatures != nil || plain.Frames() != p.Frames() {
		t.Errorf("without Options.Regions: %d regions, %d region features", plain.Regions, len(plain.RegionFeatures))
	}
	// The whole frame is embedded alike with and without regions.
	if !slices.Equal(plain.Features, p.Features) {
		t.Error("whole-frame rows differ with and without regions")
	}
}

// With RegionEvery 5, quarters are embedded one a second; each row between
// takes the quarters of the nearer embedded row, and the embedded rows are
// those every sample would give.
func TestRegionEvery(t *testing.T) {
	// The top-left quarter turns from red to blue at 1.3 s: the rows of
	// 1.4 and 1.6 s (between the embedded 1.0 and 2.0 s) must take 2.0 s's
	// blue, those of 1.2 s and before 1.0 s's red.
	video := testutil.FFmpegGen(t, t.TempDir(), "change.mp4",
		"-f", "lavfi", "-i", "color=red:size=32x32:rate=25:duration=1.3",
		"-f", "lavfi", "-i", "color=blue:size=32x32:rate=25:duration=1.7",
		"-filter_complex", "[0][1]concat=n=2,pad=64:64:0:0:white", "-t", "3",
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p")
	sparse := &fakeModel{batch: 4}
	p, err := ToPrint(context.Background(), video, Ready(sparse), Options{Regions: true, RegionEvery: 5})
	if err != nil {
		t.Fatal(err)
	}
	dense := &fakeModel{batch: 4}
	all, err := ToPrint(context.Background(), video, Ready(dense), Options{Regions: true, RegionEvery: 1})
	if err != nil {
		t.Fatal(err)
	}
	if p.Frames() != 15 || all.Frames() != 15 {
		t.Fatalf("%d and %d frames, want 15", p.Frames(), all.Frames())
	}
	if got, want := sparse.inputs.Load(), int32(15+3*4); got != want {
		t.Errorf("%d inputs embedded one a second, want %d", got, want)
	}
	if got, want := dense.inputs.Load(), int32(15*5); got != want {
		t.Errorf("%d inputs embedded every sample, want %d", got, want)
	}
	if !slices.Equal(p.Features, all.Features) {
		t.Error("whole-frame rows differ")
	}
	for i := range p.Frames() {
		from := i
		if i%5 != 0 {
			from = 5 * (i / 5)
			if i%5 >= 2 && i >= 5 && i < 10 {
				from = 10 // past the change, nearer 2.0 s
			}
		}
		if !slices.Equal(p.RegionRow(i), all.RegionRow(from)) {
			t.Errorf("row %d (%.1f s): quarters %v, want row %d's %v", i, p.Timestamps[i], p.RegionRow(i)[:3], from, all.RegionRow(from)[:3])
		}
	}
}
