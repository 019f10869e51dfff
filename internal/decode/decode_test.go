package decode

import (
	"context"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vidprint/vidprint/internal/testutil"
)

var small = Options{FPS: 5, Width: 32, Height: 32}

// readAll decodes every sample of path.
func readAll(t *testing.T, path string, opts Options) ([]float64, [][]byte, error) {
	t.Helper()
	ctx := context.Background()
	r, err := Open(ctx, path, opts)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	var times []float64
	var frames [][]byte
	for {
		buf := make([]byte, opts.FrameBytes())
		ts, err := r.Next(buf)
		if err == io.EOF {
			return times, frames, nil
		}
		if err != nil {
			return times, frames, err
		}
		times = append(times, ts)
		frames = append(frames, buf)
	}
}

func TestSamplesFollowVideoTime(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		rate    string
		seconds float64
		want    int
	}{
		{"10 fps screencast rate", "10", 3, 15},
		{"23.976 fps film", "24000/1001", 4, 20},
		{"30 fps", "30", 2, 10},
		{"60 fps", "60", 1, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := testutil.TestVideo(t, dir, tt.name+".mp4", 160, 120, tt.rate, tt.seconds)
			times, _, err := readAll(t, path, small)
			if err != nil {
				t.Fatal(err)
			}
			info, _ := Probe(context.Background(), path)
			if want := ExpectedFrames(info, 5); want != tt.want && want != tt.want+1 {
				t.Fatalf("probe expects %d samples, the test %d", want, tt.want)
			} else {
				tt.want = want
			}
			if len(times) != tt.want {
				t.Fatalf("got %d samples, want %d (%v)", len(times), tt.want, times)
			}
			for i, ts := range times {
				// a sample may sit up to half a source frame off the grid
				if math.Abs(ts-float64(i)*0.2) > 0.021 {
					t.Errorf("sample %d at %.4f s, want %.1f s", i, ts, float64(i)*0.2)
				}
			}
		})
	}
}

func TestVariableFrameRate(t *testing.T) {
	dir := t.TempDir()
	// Keep a frame-dependent, irregular subset of a 30 fps source: a VFR
	// file like a phone's, 4 s long.
	path := testutil.FFmpegGen(t, dir, "vfr.mkv", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30",
		"-t", "4", "-vf", "select='not(eq(mod(n,7),3))*not(between(n,40,55))'", "-fps_mode", "vfr",
		"-c:v", "libx264", "-preset", "ultrafast")
	times, _, err := readAll(t, path, small)
	if err != nil {
		t.Fatal(err)
	}
	if len(times) < 19 || len(times) > 20 {
		t.Fatalf("4 s of VFR video gave %d samples, want 19..20: %v", len(times), times)
	}
	for i := 1; i < len(times); i++ {
		if d := times[i] - times[i-1]; math.Abs(d-0.2) > 0.001 {
			t.Errorf("samples %d and %d are %.3f s apart, want 0.2", i-1, i, d)
		}
	}
}

func TestShortVideosGiveOneSample(t *testing.T) {
	dir := t.TempDir()
	one := testutil.FFmpegGen(t, dir, "one.mp4", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30", "-frames:v", "1")
	short := testutil.TestVideo(t, dir, "short.mp4", 160, 120, "30", 0.1)
	for _, path := range []string{one, short} {
		times, _, err := readAll(t, path, small)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(times) != 1 || times[0] != 0 {
			t.Fatalf("%s: samples at %v, want one at 0", filepath.Base(path), times)
		}
	}
}

// A frame whose left half is red and right half blue, rotated 90 degrees
// by metadata, must come out split top and bottom.
func TestRotationIsHonoured(t *testing.T) {
	dir := t.TempDir()
	src := testutil.FFmpegGen(t, dir, "split.mp4", "-f", "lavfi",
		"-i", "color=red:size=320x240:rate=10,drawbox=x=160:y=0:w=160:h=240:color=blue:t=fill",
		"-t", "1", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p")
	rotated := testutil.FFmpegGen(t, dir, "rotated.mp4", "-i", src, "-c", "copy", "-metadata:s:v:0", "rotate=90")
	info, err := Probe(context.Background(), rotated)
	if err != nil {
		t.Fatal(err)
	}
	if info.Width != 240 || info.Height != 320 || info.Rotation != 90 {
		t.Fatalf("probe says %dx%d rotated %d, want 240x320 rotated 90", info.Width, info.Height, info.Rotation)
	}
	_, frames, err := readAll(t, rotated, small)
	if err != nil {
		t.Fatal(err)
	}
	// Frames are planar G, B, R (ffmpeg's gbrp).
	px := func(f []byte, x, y int) (int, int, int) {
		n, i := small.Width*small.Height, y*small.Width+x
		return int(f[2*n+i]), int(f[i]), int(f[n+i])
	}
	f := frames[0]
	tr, _, tb := px(f, 16, 4)
	br, _, bb := px(f, 16, 28)
	if (tr > 128) == (br > 128) || (tb > 128) == (bb > 128) {
		t.Fatalf("top (r=%d b=%d) and bottom (r=%d b=%d) should differ after rotation", tr, tb, br, bb)
	}
	lr, _, _ := px(f, 4, 16)
	rr, _, _ := px(f, 28, 16)
	if (lr > 128) != (rr > 128) {
		t.Fatalf("left and right still differ (r=%d vs %d): rotation ignored", lr, rr)
	}
}

// The whole frame is resized, never cropped: a thin white bar at the very
// left edge must survive.
func TestWholeFrameNoCrop(t *testing.T) {
	dir := t.TempDir()
	path := testutil.FFmpegGen(t, dir, "bar.mp4", "-f", "lavfi",
		"-i", "color=black:size=640x360:rate=10,drawbox=x=0:y=0:w=24:h=360:color=white:t=fill",
		"-t", "1", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p")
	_, frames, err := readAll(t, path, small)
	if err != nil {
		t.Fatal(err)
	}
	f := frames[0]
	left := f[16*small.Width+0] // green plane: white is bright in every plane
	mid := f[16*small.Width+16]
	if left < 150 || mid > 40 {
		t.Fatalf("left edge %d, middle %d: want the white bar kept at the left", left, mid)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("this is not a video\n"), 0o644)
	empty := filepath.Join(dir, "empty.mp4")
	os.WriteFile(empty, nil, 0o644)
	jpeg := testutil.FFmpegGen(t, dir, "still.jpg", "-f", "lavfi", "-i", "testsrc2=size=160x120", "-frames:v", "1")
	jpegAsMP4 := filepath.Join(dir, "disguised.mp4")
	b, _ := os.ReadFile(jpeg)
	os.WriteFile(jpegAsMP4, b, 0o644)
	audio := testutil.FFmpegGen(t, dir, "tone.m4a", "-f", "lavfi", "-i", "sine=frequency=440:duration=1")
	full := testutil.FFmpegGen(t, dir, "full.mp4", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25",
		"-t", "6", "-c:v", "libx264", "-preset", "ultrafast", "-movflags", "+faststart")
	b, _ = os.ReadFile(full)
	truncated := filepath.Join(dir, "truncated.mp4")
	os.WriteFile(truncated, b[:len(b)/3], 0o644)
	noIndex := filepath.Join(dir, "noindex.mp4") // moov at the end, cut off
	plain := testutil.FFmpegGen(t, dir, "plain.mp4", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25",
		"-t", "6", "-c:v", "libx264", "-preset", "ultrafast")
	b, _ = os.ReadFile(plain)
	os.WriteFile(noIndex, b[:len(b)/2], 0o644)

	tests := []struct {
		name string
		path string
		want error
	}{
		{"missing", filepath.Join(dir, "nope.mp4"), ErrNotFound},
		{"directory", dir, ErrDirectory},
		{"zero length", empty, ErrEmpty},
		{"text file", text, ErrNotVideo},
		{"jpeg", jpeg, ErrStillImage},
		{"jpeg named .mp4", jpegAsMP4, ErrStillImage},
		{"audio only", audio, ErrNoVideo},
		{"truncated, index at the front", truncated, ErrTruncated},
		{"truncated, index lost", noIndex, ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := readAll(t, tt.path, small)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if tt.path != "" && !containsPath(err, tt.path) {
				t.Fatalf("error %q does not name the file", err)
			}
		})
	}
	t.Run("partial keeps the decodable start", func(t *testing.T) {
		opts := small
		opts.Partial = true
		times, _, err := readAll(t, truncated, opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(times) == 0 || len(times) >= 30 {
			t.Fatalf("got %d samples of a truncated 6 s video, want some but not all", len(times))
		}
	})
}

// A transport stream whose middle is overwritten decodes its start and
// end; the damage must not pass silently as a whole video.
func TestDecodingFailsMidway(t *testing.T) {
	dir := t.TempDir()
	ts := testutil.FFmpegGen(t, dir, "clip.ts", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25",
		"-t", "10", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25")
	b, _ := os.ReadFile(ts)
	for i := len(b) * 2 / 5; i < len(b)*3/5; i++ {
		b[i] = byte(i * 7)
	}
	broken := filepath.Join(dir, "broken.ts")
	os.WriteFile(broken, b, 0o644)
	_, _, err := readAll(t, broken, small)
	if !errors.Is(err, ErrDecode) {
		t.Fatalf("got %v, want a decode error", err)
	}
	opts := small
	opts.Partial = true
	times, _, err := readAll(t, broken, opts)
	if err != nil || len(times) < 40 {
		t.Fatalf("--partial: %d samples, %v; want the decodable frames", len(times), err)
	}
}

func TestAwkwardFileNames(t *testing.T) {
	dir := t.TempDir()
	src := testutil.TestVideo(t, dir, "src.mp4", 160, 120, "10", 1)
	b, _ := os.ReadFile(src)
	for _, name := range []string{"with space.mp4", "ünïcödé 映像.mp4", "-leading-dash.mp4", "colon:name.mp4", "100%.mp4"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			// Relative, as a user would type it.
			wd, _ := os.Getwd()
			os.Chdir(dir)
			defer os.Chdir(wd)
			times, _, err := readAll(t, name, small)
			if err != nil {
				t.Fatal(err)
			}
			if len(times) != 5 {
				t.Fatalf("got %d samples, want 5", len(times))
			}
		})
	}
}

func TestCancel(t *testing.T) {
	dir := t.TempDir()
	path := testutil.TestVideo(t, dir, "long.mp4", 320, 240, "25", 20)
	ctx, cancel := context.WithCancel(context.Background())
	r, err := Open(ctx, path, small)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	buf := make([]byte, small.FrameBytes())
	if _, err := r.Next(buf); err != nil {
		t.Fatal(err)
	}
	cancel()
	for {
		_, err = r.Next(buf)
		if err != nil {
			break
		}
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("after cancel got %v, want context.Canceled", err)
	}
}

func TestRealFootage(t *testing.T) {
	path := testutil.Footage(t, "Megamind.avi")
	info, err := Probe(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Width != 720 || info.Height != 528 || !info.HasAudio {
		t.Fatalf("Megamind.avi probed as %+v", info)
	}
	times, _, err := readAll(t, path, small)
	if err != nil {
		t.Fatal(err)
	}
	want := ExpectedFrames(info, 5)
	if len(times) < want-1 || len(times) > want+1 {
		t.Fatalf("%.2f s gave %d samples, want about %d", info.DurationS, len(times), want)
	}
}

func containsPath(err error, path string) bool {
	return err != nil && strings.Contains(err.Error(), path)
}

// Odd but valid containers: cover art ahead of the video, an animated GIF,
// and a Matroska file whose audio outlasts its video.
func TestOddContainers(t *testing.T) {
	dir := t.TempDir()
	video := testutil.TestVideo(t, dir, "v.mp4", 160, 120, "25", 3)
	cover := testutil.FFmpegGen(t, dir, "cover.jpg", "-f", "lavfi", "-i", "color=red:size=64x64", "-frames:v", "1")
	withCover := testutil.FFmpegGen(t, dir, "cover.mp4", "-i", cover, "-i", video, "-map", "0", "-map", "1",
		"-c", "copy", "-disposition:v:0", "attached_pic")
	gif := testutil.FFmpegGen(t, dir, "anim.gif", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10", "-t", "2")
	longAudio := testutil.FFmpegGen(t, dir, "long-audio.mkv", "-f", "lavfi", "-t", "3", "-i", "testsrc2=size=160x120:rate=25",
		"-f", "lavfi", "-i", "sine=duration=8", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac")
	for _, tt := range []struct {
		path string
		want int
	}{{withCover, 15}, {gif, 10}, {longAudio, 15}} {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			times, _, err := readAll(t, tt.path, small)
			if err != nil {
				t.Fatal(err)
			}
			// A sample exactly at the end of the last frame may or may not
			// come out, depending on the container's rounding.
			if len(times) != tt.want && len(times) != tt.want+1 {
				t.Fatalf("%d samples, want %d", len(times), tt.want)
			}
		})
	}
}

func TestLogSource(t *testing.T) {
	for line, want := range map[string]string{
		"[h264 @ 0x55d] [error] error while decoding MB 4 4":           "h264",
		"[mpegts @ 0x1] [error] Packet corrupt (stream = 1, dts = 5).": "mpegts",
		"[error] Error while decoding stream #0:0: Invalid data found": "",
		"[Parsed_showinfo_3 @ 0x1] [info] n: 1":                        "Parsed_showinfo_3",
		"[weird] [error] x":                                            "",
	} {
		if got := logSource(line); got != want {
			t.Errorf("logSource(%q) = %q, want %q", line, got, want)
		}
	}
}
