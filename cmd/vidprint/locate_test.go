package main

import (
	"encoding/json"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vidprint/vidprint/internal/testutil"
)

// locateOut is what locate and search print with --json.
type locateOut = locateJSON

func runLocateJSON(t *testing.T, dir string, args ...string) (locateOut, result) {
	t.Helper()
	r := run(t, dir, append([]string{"locate", "--json", "--quiet"}, args...)...)
	var out locateOut
	if r.code == 0 || r.code == 1 {
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatalf("locate %v: %v: %q", args, err, r.stdout)
		}
	}
	return out, r
}

// cut re-encodes seconds [from, from+length) of src, through an optional
// filter.
func cut(t *testing.T, dir, name, src string, from, length float64, filter string) string {
	args := []string{"-ss", ftoa(from), "-i", src, "-t", ftoa(length)}
	if filter != "" {
		args = append(args, "-vf", filter)
	}
	return testutil.FFmpegGen(t, dir, name, append(args, "-an", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "23")...)
}

func ftoa(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

func TestLocateRealFootage(t *testing.T) {
	needModel(t)
	dir := t.TempDir()
	vtest := testutil.Footage(t, "vtest.avi")
	cut(t, dir, "clip.mp4", vtest, 31.2, 10, "")
	// A smaller, mirrored, darker copy: the flipped view must find it.
	cut(t, dir, "mirrored.mp4", vtest, 52.4, 8, "hflip,scale=iw/2:-2,eq=brightness=-0.1")
	cut(t, dir, "other.mp4", testutil.Footage(t, "tree.avi"), 5, 10, "")

	out, r := runLocateJSON(t, dir, "clip.mp4", vtest, "--picture", "align.png")
	if r.code != 0 || !out.Found || len(out.Matches) == 0 {
		t.Fatalf("clip not found: %d %s %s", r.code, r.stdout, r.stderr)
	}
	m := out.Matches[0]
	// Within one sample for an unmodified clip.
	if math.Abs(m.VideoStart-31.2) > 0.2+1e-9 || m.ClipStart != 0 || math.Abs(m.ClipEnd-10) > 0.2+1e-9 ||
		math.Abs(m.VideoEnd-41.2) > 0.4 || m.Video != vtest || m.Speed != 1 || m.Score < 0.5 {
		t.Errorf("match %+v, want video 31.2-41.2 s, clip 0-10 s", m)
	}
	f, err := os.Open(filepath.Join(dir, "align.png"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil || img.Bounds().Dy() < 3*1024 {
		t.Fatalf("alignment picture: %v %v", err, img.Bounds())
	}

	// The video's print was kept in the cache; the rest uses a copy.
	cached, _ := filepath.Glob(filepath.Join(testCache(t), "*.vprint"))
	if len(cached) != 1 {
		t.Fatalf("the cache holds %v, want vtest.avi's print", cached)
	}
	data, _ := os.ReadFile(cached[0])
	os.WriteFile(filepath.Join(dir, "vtest.vprint"), data, 0o644)
	out, r = runLocateJSON(t, dir, "mirrored.mp4", "vtest.vprint")
	if r.code != 0 || len(out.Matches) == 0 || math.Abs(out.Matches[0].VideoStart-52.4) > 0.5 {
		t.Fatalf("mirrored copy: %d %+v %s", r.code, out, r.stderr)
	}
	if v := out.Matches[0].View; v != "flip" {
		t.Errorf("mirrored copy matched through view %q, want flip", v)
	}

	// Not there: exit 1, found false, and the text output says so.
	out, r = runLocateJSON(t, dir, "other.mp4", "vtest.vprint")
	if r.code != 1 || out.Found || len(out.Matches) != 0 {
		t.Fatalf("unrelated clip: %d %+v", r.code, out)
	}
	r = run(t, dir, "locate", "--quiet", "other.mp4", "vtest.vprint")
	if r.code != 1 || !strings.Contains(r.stdout, "not found in vtest.vprint") || r.stderr != "" {
		t.Errorf("unrelated clip, text: %d %q %q", r.code, r.stdout, r.stderr)
	}

	// A clip given as a print is matched whole-frame.
	if r := run(t, dir, "embed", "--quiet", "clip.mp4"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	out, r = runLocateJSON(t, dir, "clip.vprint", "vtest.vprint")
	if r.code != 0 || len(out.Matches) == 0 || math.Abs(out.Matches[0].VideoStart-31.2) > 0.2+1e-9 || out.Matches[0].View != "full" {
		t.Fatalf("clip print: %d %+v %s", r.code, out, r.stderr)
	}

	// Several videos: each match names its video.
	out, r = runLocateJSON(t, dir, "clip.mp4", "other.mp4", "vtest.vprint")
	if r.code != 0 || len(out.Matches) != 1 || out.Matches[0].Video != "vtest.vprint" {
		t.Fatalf("two videos: %d %+v", r.code, out)
	}
}

// TestLocateCroppedStillFootage: a cropped copy of nearly still footage
// (a tree in the wind) is found through the video print's quarters, and
// not without them.
func TestLocateCroppedStillFootage(t *testing.T) {
	needModel(t)
	dir := t.TempDir()
	tree := testutil.Footage(t, "tree.avi")
	cut(t, dir, "cropped.mp4", tree, 5, 10, "crop=iw*0.9:ih*0.9:16:0")
	if r := run(t, dir, "embed", "--quiet", tree, "-o", "tree.vprint"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if r := run(t, dir, "embed", "--quiet", "--regions=false", tree, "-o", "plain.vprint"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	out, r := runLocateJSON(t, dir, "cropped.mp4", "tree.vprint")
	if r.code != 0 || len(out.Matches) == 0 {
		t.Fatalf("cropped copy: %d %+v %s", r.code, out, r.stderr)
	}
	m := out.Matches[0]
	if start := m.VideoStart - m.ClipStart*m.Speed; math.Abs(start-5) > 0.5 || !strings.HasPrefix(m.View, "regions") {
		t.Errorf("cropped copy: %+v, want a start at 5 s through the regions", m)
	}
	if out, r := runLocateJSON(t, dir, "cropped.mp4", "plain.vprint"); r.code != 1 || out.Found {
		t.Errorf("without regions: %d %+v (found: the test no longer shows what regions add)", r.code, out)
	}
}

func TestLocateEdgeCases(t *testing.T) {
	needModel(t)
	dir := t.TempDir()
	megamind := testutil.Footage(t, "Megamind.avi")
	if r := run(t, dir, "embed", "--quiet", megamind, "-o", "megamind.vprint"); r.code != 0 {
		t.Fatal(r.stderr)
	}

	// A clip longer than the video: 4 s of other footage, the whole
	// video, 4 s more. The overlap is reported on both time lines.
	testutil.FFmpegGen(t, dir, "longer.mp4",
		"-f", "lavfi", "-t", "4", "-i", "testsrc2=size=720x528:rate=24",
		"-i", megamind,
		"-f", "lavfi", "-t", "4", "-i", "mandelbrot=size=720x528:rate=24",
		"-filter_complex", "[1:v]fps=24,setsar=1[m];[0:v][m][2:v]concat=n=3:v=1:a=0,format=yuv420p",
		"-c:v", "libx264", "-preset", "ultrafast", "-crf", "23")
	out, r := runLocateJSON(t, dir, "longer.mp4", "megamind.vprint")
	if r.code != 0 || len(out.Matches) == 0 {
		t.Fatalf("longer clip: %d %+v %s", r.code, out, r.stderr)
	}
	m := out.Matches[0]
	if math.Abs(m.ClipStart-4) > 0.5 || math.Abs(m.ClipEnd-15.2) > 1 || m.VideoStart > 0.5 || m.VideoEnd < 10 {
		t.Errorf("longer clip: %+v, want clip 4-15.2 s = video 0-11.2 s", m)
	}

	// One frame, as a one-frame video and as a still image.
	testutil.FFmpegGen(t, dir, "frame.mp4", "-ss", "6.5", "-i", megamind, "-frames:v", "1", "-an", "-c:v", "libx264")
	testutil.FFmpegGen(t, dir, "frame.jpg", "-ss", "6.5", "-i", megamind, "-frames:v", "1", "-q:v", "4")
	for _, clip := range []string{"frame.mp4", "frame.jpg"} {
		out, r := runLocateJSON(t, dir, clip, "megamind.vprint")
		if r.code != 0 || len(out.Matches) == 0 || math.Abs(out.Matches[0].VideoStart-6.5) > 0.5 {
			t.Errorf("%s: %d %+v %s", clip, r.code, out, r.stderr)
		} else if m := out.Matches[0]; m.AlikeStart == nil || *m.AlikeStart > m.VideoStart || *m.AlikeEnd < m.VideoStart || *m.AlikeEnd-*m.AlikeStart > 3 {
			// Megamind moves: the alike frames are few.
			t.Errorf("%s: alike span %v to %v around %.1f s, want one of a few seconds at most", clip, m.AlikeStart, m.AlikeEnd, m.VideoStart)
		}
	}
}

func TestLocateBadInput(t *testing.T) {
	needModel(t)
	dir := t.TempDir()
	megamind := testutil.Footage(t, "Megamind.avi")
	if r := run(t, dir, "embed", "--quiet", megamind, "-o", "megamind.vprint"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if r := run(t, dir, "embed", "--quiet", "--output", "pooled", megamind, "-o", "pooled.vprint"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if r := run(t, dir, "embed", "--quiet", "--fps", "10", megamind, "-o", "fps10.vprint"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a video\n"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"prints of different models", []string{"megamind.vprint", "pooled.vprint"}, exitIncompatible, "cannot be compared"},
		{"prints sampled at different rates", []string{"megamind.vprint", "fps10.vprint"}, exitIncompatible, "10 fps"},
		{"missing clip", []string{"nope.mp4", "megamind.vprint"}, exitInput, "nope.mp4"},
		{"text clip", []string{"notes.txt", "megamind.vprint"}, exitInput, "notes.txt"},
		{"text video", []string{"megamind.vprint", "notes.txt"}, exitInput, "notes.txt"},
		{"one argument", []string{"megamind.vprint"}, exitUsage, "locate"},
		{"picture with two videos", []string{"megamind.vprint", "megamind.vprint", "megamind.vprint", "--picture", "x.png"}, exitUsage, "--picture"},
		{"picture into a missing directory", []string{"megamind.vprint", "megamind.vprint", "--picture", "no/such/x.png"}, exitOutput, "no/such"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, dir, append([]string{"locate", "--quiet"}, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.msg) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
				t.Errorf("exit %d, stderr %q; want exit %d naming %q on one line", r.code, r.stderr, tc.code, tc.msg)
			}
		})
	}
}
