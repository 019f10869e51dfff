package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vidprint/vidprint/internal/library/sqlite"

	"github.com/vidprint/vidprint/internal/library"
	"github.com/vidprint/vidprint/internal/testutil"
)

type indexVideo struct {
	ID        int64   `json:"id"`
	Path      string  `json:"path"`
	SHA256    string  `json:"sha256"`
	DurationS float64 `json:"duration_s"`
	Frames    int     `json:"frames"`
}

func indexList(t *testing.T, dir, lib string) []indexVideo {
	t.Helper()
	r := run(t, dir, "index", "list", "--library", lib, "--json")
	var vs []indexVideo
	if r.code != 0 {
		t.Fatalf("index list: %d %s", r.code, r.stderr)
	}
	if err := json.Unmarshal([]byte(r.stdout), &vs); err != nil {
		t.Fatalf("index list --json: %v: %q", err, r.stdout)
	}
	return vs
}

// hueVideo makes seconds of testsrc2 turned by a hue, so that every
// video has its own content.
func hueVideo(t *testing.T, dir, name string, hue int, seconds float64) string {
	mkdirT(t, dir)
	return testutil.FFmpegGen(t, dir, name, "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
		"-vf", fmt.Sprintf("hue=h=%d", hue), "-t", ftoa(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")
}

// checkLibrary asserts that a library opens, passes SQLite's integrity
// check and that every video's print reads back whole; it returns the
// videos.
func checkLibrary(t *testing.T, lib string) []library.Video {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, lib)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(lib, sqlite.DBName)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q %v", check, err)
	}
	videos, err := s.Videos(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range videos {
		e, err := s.Entry(ctx, v.ID)
		if err != nil || len(e.Timestamps) != v.Frames || v.Frames == 0 {
			t.Fatalf("video %d (%s): %d timestamps for %d frames, %v", v.ID, v.Path, len(e.Timestamps), v.Frames, err)
		}
	}
	return videos
}

func TestIndexCommands(t *testing.T) {
	needModel(t)
	dir := t.TempDir()
	vids := filepath.Join(dir, "videos")
	for i, sec := range []float64{2, 3, 4} {
		hueVideo(t, vids, fmt.Sprintf("v%d.mp4", i+1), 90*i, sec)
	}
	// A copy under another name, and a file that is no video.
	b, _ := os.ReadFile(filepath.Join(vids, "v1.mp4"))
	if err := os.WriteFile(filepath.Join(vids, "copy.mp4"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(vids, "notes.txt"), []byte("not a video\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	// The non-video is skipped with a warning, the rest indexed, exit 3.
	r := run(t, dir, "index", "add", "--library", "lib", "videos")
	if r.code != 3 || !strings.Contains(r.stderr, "warning: skipped videos/notes.txt") ||
		!strings.Contains(r.stderr, "indexed 3, already there 1, skipped 1 (see warnings above)") {
		t.Fatalf("add with a non-video: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	videos := indexList(t, dir, "lib")
	if len(videos) != 3 {
		t.Fatalf("%d videos listed, want 3: %+v", len(videos), videos)
	}
	seen := map[string]bool{}
	for i, v := range videos {
		want := float64(i + 2)
		if seen[v.SHA256] || math.Abs(float64(v.Frames)-want*5) > 1 || math.Abs(v.DurationS-want) > 0.2 || !filepath.IsAbs(v.Path) {
			t.Errorf("video %+v, want %g s, %g frames, an absolute path, a new hash", v, want, want*5)
		}
		seen[v.SHA256] = true
	}
	checkLibrary(t, filepath.Join(dir, "lib"))

	// Idempotent: the same files again are recognised by content.
	r = run(t, dir, "index", "add", "--library", "lib", "videos/v1.mp4", "videos/v*.mp4", "videos/copy.mp4")
	if r.code != 0 || !strings.Contains(r.stdout, "indexed 0, already there 4, skipped 0") {
		t.Fatalf("add again: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}

	r = run(t, dir, "index", "stats", "--library", "lib", "--json")
	var st statsJSON
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &st) != nil {
		t.Fatalf("stats: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if st.Videos != 3 || math.Abs(st.Hours*3600-9) > 0.3 || st.Frames < 44 || st.Bytes < st.Frames*264 ||
		st.Model != "mobilenetv3-small-qvac" || st.Output != "embedding" || st.Codec != "rp256-i8" || st.Generation != 3 ||
		st.BytesPerHour != nil {
		t.Errorf("stats %+v (9 s of video: no size per hour)", st)
	}
	if r := run(t, dir, "index", "stats", "--library", "lib"); r.code != 0 || !strings.Contains(r.stdout, "videos      3") {
		t.Errorf("stats text: %d %q", r.code, r.stdout)
	}

	// Bad input, each with its exit code and one line naming the problem.
	mkdirT(t, filepath.Join(dir, "stuff"))
	os.WriteFile(filepath.Join(dir, "stuff", "x.txt"), []byte("x"), 0o644)
	bad := []struct {
		name string
		args []string
		code int
		msg  []string
	}{
		{"another model", []string{"index", "add", "--library", "lib", "--model", "mobilenetv3-large-imagenet", "videos/v1.mp4"}, 6,
			[]string{"library lib", "mobilenetv3-small-qvac/embedding", "mobilenetv3-large-imagenet"}},
		{"another output", []string{"index", "add", "--library", "lib", "--output", "pooled", "videos/v1.mp4"}, 6,
			[]string{"library lib", "mobilenetv3-small-qvac/pooled"}},
		{"a directory that is not a library", []string{"index", "list", "--library", "videos"}, 3, []string{"videos: not a vidprint library"}},
		{"adding into a directory of other things", []string{"index", "add", "--library", "stuff", "videos/v1.mp4"}, 3,
			[]string{"stuff: not a vidprint library", "new or empty directory"}},
		{"no --library", []string{"index", "stats"}, 2, []string{"--library DIR is required"}},
		{"remove an unknown video", []string{"index", "remove", "--library", "lib", "99"}, 1, []string{`no video "99"`}},
		{"a missing file only", []string{"index", "add", "--library", "lib", "gone.mp4"}, 3, []string{"skipped gone.mp4", "skipped 1"}},
	}
	for _, tt := range bad {
		r := run(t, dir, tt.args...)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if r.code != tt.code || (tt.name != "a missing file only" && len(lines) != 1) {
			t.Errorf("%s: exit %d, want %d; stderr %q", tt.name, r.code, tt.code, r.stderr)
		}
		for _, m := range tt.msg {
			if !strings.Contains(r.stderr, m) {
				t.Errorf("%s: stderr %q does not say %q", tt.name, r.stderr, m)
			}
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "stuff")); len(entries) != 1 {
		t.Errorf("a failed add wrote into a directory of other things: %v", entries)
	}

	// Remove by id, by path and by hash prefix; nothing when one name is wrong.
	if r := run(t, dir, "index", "remove", "--library", "lib", "1", "nope"); r.code != 1 || len(indexList(t, dir, "lib")) != 3 {
		t.Fatalf("remove with a bad name: %d %s", r.code, r.stderr)
	}
	r = run(t, dir, "index", "remove", "--library", "lib", fmt.Sprint(videos[0].ID), "videos/v2.mp4", videos[2].SHA256[:8])
	if r.code != 0 || strings.Count(r.stdout, "removed video") != 3 {
		t.Fatalf("remove: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if left := indexList(t, dir, "lib"); len(left) != 0 {
		t.Errorf("after remove: %+v", left)
	}
	// Without --model a later add uses the library's.
	if r := run(t, dir, "index", "add", "--library", "lib", "--quiet", "videos/v3.mp4"); r.code != 0 || len(indexList(t, dir, "lib")) != 1 {
		t.Errorf("add after remove: %d %s", r.code, r.stderr)
	}
}

func mkdirT(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

// A killed add leaves a consistent library; running it again continues
// and adds every video exactly once.
func TestIndexKilledAdd(t *testing.T) {
	needModel(t)
	dir := t.TempDir()
	var args []string
	for i := range 6 {
		args = append(args, hueVideo(t, dir, fmt.Sprintf("v%d.mp4", i), 60*i, 30))
	}
	lib := filepath.Join(dir, "lib")
	cmd := exec.Command(binary, append([]string{"index", "add", "--jobs", "1", "--library", lib}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	killed := false
wait:
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); {
		select {
		case <-done:
			break wait
		case <-time.After(20 * time.Millisecond):
		}
		s, err := sqlite.Open(context.Background(), lib)
		if err != nil {
			continue // not created yet
		}
		vs, err := s.Videos(context.Background())
		s.Close()
		if err == nil && len(vs) >= 1 {
			cmd.Process.Kill()
			<-done
			killed = true
			break
		}
	}
	first := checkLibrary(t, lib)
	if !killed {
		t.Logf("the add finished before it could be killed:\n%s", out.String())
	} else if len(first) == len(args) {
		t.Logf("killed only after the last video landed")
	}
	t.Logf("%d of %d videos in the library after the kill", len(first), len(args))

	r := run(t, dir, append([]string{"index", "add", "--library", lib}, args...)...)
	if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("already there %d", len(first))) {
		t.Fatalf("rerun: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	videos := checkLibrary(t, lib)
	seen := map[string]int{}
	for _, v := range videos {
		seen[v.Path]++
	}
	if len(videos) != len(args) || len(seen) != len(args) {
		t.Errorf("%d videos, %d paths after the rerun, want %d each", len(videos), len(seen), len(args))
	}
}

// A disk that fills up mid-add: exit 4, the library keeps every video
// that landed whole and none in part, and a later add completes it.
func TestIndexDiskFull(t *testing.T) {
	needModel(t)
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is missing")
	}
	dir := t.TempDir()
	small := hueVideo(t, dir, "a-small.mp4", 0, 2)
	big := hueVideo(t, dir, "b-big.mp4", 120, 120)
	small2 := hueVideo(t, dir, "c-small.mp4", 240, 2)
	lib := filepath.Join(dir, "lib")
	// The library is made, with the small video, before the limit: it
	// holds the codec's 1 MB projection.
	if r := run(t, dir, "index", "add", "--quiet", "--library", lib, small); r.code != 0 {
		t.Fatalf("first add: %d %s", r.code, r.stderr)
	}
	// bash counts ulimit -f in KiB: no file may grow past 64 KiB, too
	// little for the big video's 600 frames of 264 bytes (158 KB) in the
	// write-ahead log.
	cmd := exec.Command(bash, "-c", `ulimit -f 64 && exec "$@"`, "bash", binary, "index", "add", "--jobs", "1", "--library", lib, big, small2)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 4 {
		t.Fatalf("add on a full disk: %v, want exit 4\n%s\n%s", err, stdout.String(), stderr.String())
	}
	if msg := strings.TrimSpace(stderr.String()); strings.Count(msg, "\n") != 0 || !strings.Contains(msg, "library storage failed") {
		t.Errorf("stderr %q, want one line saying the library storage failed", msg)
	}
	videos := checkLibrary(t, lib)
	if len(videos) != 1 || videos[0].Path != small {
		t.Fatalf("after the full disk: %+v, want only %s", videos, small)
	}
	r := run(t, dir, "index", "add", "--library", lib, small, big, small2)
	if r.code != 0 || !strings.Contains(r.stdout, "indexed 2, already there 1") {
		t.Fatalf("add with room: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if n := len(checkLibrary(t, lib)); n != 3 {
		t.Errorf("%d videos, want 3", n)
	}
}

// Two processes adding overlapping files to one new library at once: both
// succeed and every video is stored once.
func TestIndexTwoProcesses(t *testing.T) {
	needModel(t)
	dir := t.TempDir()
	var args []string
	for i := range 4 {
		args = append(args, hueVideo(t, dir, fmt.Sprintf("v%d.mp4", i), 80*i, 4))
	}
	lib := filepath.Join(dir, "lib")
	reversed := slices.Clone(args)
	slices.Reverse(reversed)
	type res struct {
		out []byte
		err error
	}
	results := make(chan res, 2)
	for _, files := range [][]string{args, reversed} {
		go func() {
			out, err := exec.Command(binary, append([]string{"index", "add", "--library", lib}, files...)...).CombinedOutput()
			results <- res{out, err}
		}()
	}
	indexed := 0
	for range 2 {
		r := <-results
		if r.err != nil {
			t.Fatalf("%v\n%s", r.err, r.out)
		}
		var n, m int
		if _, err := fmt.Sscanf(string(r.out[bytes.LastIndex(r.out, []byte("indexed ")):]), "indexed %d, already there %d", &n, &m); err != nil || n+m != 4 {
			t.Fatalf("summary: %v\n%s", err, r.out)
		}
		indexed += n
	}
	if videos := checkLibrary(t, lib); len(videos) != 4 || indexed != 4 {
		t.Errorf("%d videos, %d reported indexed, want 4 each", len(videos), indexed)
	}
}
