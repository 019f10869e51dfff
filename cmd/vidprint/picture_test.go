package main

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vidprint/vidprint/internal/testutil"
	"github.com/vidprint/vidprint/internal/vprint"
)

func TestPicture(t *testing.T) {
	needModel(t)
	dir := t.TempDir()
	testutil.TestVideo(t, dir, "v.mp4", 160, 120, "10", 3)
	r := run(t, dir, "picture", "v.mp4", "-o", "v.png", "--save-print", "v.vprint")
	if r.code != 0 {
		t.Fatalf("picture of a video: %d %s", r.code, r.stderr)
	}
	f, err := os.Open(filepath.Join(dir, "v.png"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dy() != 1024+22 || b.Dx() < 15 {
		t.Fatalf("picture is %v, want 1024 feature rows plus the axis", b)
	}
	// The video's print was kept in the cache, not beside the video, and
	// is reused: the second run does not make it again.
	cached, _ := filepath.Glob(filepath.Join(testCache(t), "*.vprint"))
	if len(cached) != 1 {
		t.Fatalf("the cache holds %v, want the video's print", cached)
	}
	st, err := os.Stat(cached[0])
	if err != nil {
		t.Fatal(err)
	}
	if p, err := vprint.ReadFile(filepath.Join(dir, "v.vprint")); err != nil || p.Frames() != 15 {
		t.Fatalf("--save-print: %v", err)
	}
	if r = run(t, dir, "picture", "v.mp4", "-o", "v2.png", "--order", "peak", "--colormap", "viridis", "--scenes"); r.code != 0 {
		t.Fatalf("second picture: %d %s", r.code, r.stderr)
	}
	if st2, err := os.Stat(cached[0]); err != nil || !os.SameFile(st, st2) {
		t.Fatal("the kept print was embedded again")
	}
	// The same content under another name is the same print.
	data, _ := os.ReadFile(filepath.Join(dir, "v.mp4"))
	os.WriteFile(filepath.Join(dir, "copy.mp4"), data, 0o644)
	if r = run(t, dir, "picture", "copy.mp4", "-o", "c.png"); r.code != 0 {
		t.Fatalf("picture of a copy: %d %s", r.code, r.stderr)
	}
	if again, _ := filepath.Glob(filepath.Join(testCache(t), "*.vprint")); len(again) != 1 {
		t.Errorf("a copy of the video got its own print: %v", again)
	}
	// Never over the input video, and never over a print that is not this
	// video's.
	if r = run(t, dir, "picture", "v.mp4", "-o", "v.mp4"); r.code != exitUsage {
		t.Errorf("-o the input: exit %d", r.code)
	}
	if st, err := os.Stat(filepath.Join(dir, "v.mp4")); err != nil || st.Size() < 1000 {
		t.Fatal("the video was overwritten")
	}
	testutil.TestVideo(t, dir, "w.mp4", 160, 120, "10", 1)
	os.WriteFile(filepath.Join(dir, "w.vprint"), []byte("my own notes"), 0o644)
	if r = run(t, dir, "picture", "w.mp4", "-o", "w.png", "--save-print", "w.vprint"); r.code != exitOutput {
		t.Fatalf("--save-print over notes: %d %q", r.code, r.stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "w.vprint")); string(b) != "my own notes" {
		t.Fatal("a file that was not a print was replaced")
	}
	// A thumbnail strip under the picture.
	if r = run(t, dir, "picture", "v.mp4", "-o", "t.png", "--thumbs", "3"); r.code != 0 {
		t.Fatalf("--thumbs: %d %s", r.code, r.stderr)
	}
	f, _ = os.Open(filepath.Join(dir, "t.png"))
	cfg, err := png.DecodeConfig(f)
	f.Close()
	if err != nil || cfg.Height != 1024+22+94 {
		t.Fatalf("with thumbnails the picture is %dx%d (%v), want 94 px taller", cfg.Width, cfg.Height, err)
	}
	if r = run(t, dir, "picture", "v.vprint", "-o", "t.png", "--thumbs", "3"); r.code != exitUsage {
		t.Errorf("--thumbs on a print: exit %d", r.code)
	}
	// From the print itself, and without keeping anything.
	if r = run(t, dir, "picture", "v.vprint", "-o", "p.png", "--scale", "zscore", "--max-width", "5"); r.code != 0 {
		t.Fatalf("picture of a print: %d %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "in 5 columns") {
		t.Fatalf("--max-width 5 not applied: %s", r.stdout)
	}
	if r = run(t, dir, "picture", "w.mp4", "--no-cache", "-o", "n.png"); r.code != 0 {
		t.Fatalf("--no-cache: %d %s", r.code, r.stderr)
	}
	if all, _ := filepath.Glob(filepath.Join(testCache(t), "*.vprint")); len(all) != 1 {
		t.Fatalf("--no-cache kept a print: %v", all)
	}
	// cache lists and clears the kept prints.
	if r = run(t, dir, "cache"); r.code != 0 || !strings.Contains(r.stdout, "1 print") {
		t.Errorf("cache: %d %q", r.code, r.stdout)
	}
	if r = run(t, dir, "cache", "clear"); r.code != 0 || !strings.Contains(r.stdout, "removed 1 print") {
		t.Errorf("cache clear: %d %q", r.code, r.stdout)
	}
	if all, _ := filepath.Glob(filepath.Join(testCache(t), "*.vprint")); len(all) != 0 {
		t.Errorf("cache clear left %v", all)
	}
}

func TestPictureBadInput(t *testing.T) {
	needModel(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("hi"), 0o644)
	testutil.FFmpegGen(t, dir, "one.mp4", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30", "-frames:v", "1")
	unwritable := "/proc/x.png"
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"picture", "notes.txt", "-o", "x.png"}, exitInput},
		{[]string{"picture", "one.mp4", "-o", unwritable}, exitOutput},
		{[]string{"picture", "one.mp4", "-o", "x.png", "--scale", "log"}, exitUsage},
		{[]string{"picture", "one.mp4", "--max-width", "0"}, exitUsage},
		{[]string{"picture", "one.mp4"}, 0}, // a 1-frame print is a picture too, one.png
	} {
		r := run(t, dir, tc.args...)
		if r.code != tc.code || (tc.code != 0 && strings.Count(r.stderr, "\n") != 1) {
			t.Errorf("%v: exit %d, stderr %q; want %d", tc.args, r.code, r.stderr, tc.code)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x.png")); err == nil {
		t.Error("a failed run left x.png")
	}
	if _, err := os.Stat(filepath.Join(dir, "one.png")); err != nil {
		t.Errorf("picture without -o wrote no one.png: %v", err)
	}
}
