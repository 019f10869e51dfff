package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vidprint/vidprint/internal/testutil"
	"github.com/vidprint/vidprint/internal/vprint"
)

// embedFootage embeds a packaged video into dir/name and returns its
// path, failing the test if it cannot.
func embedFootage(t *testing.T, dir, video, name string, args ...string) string {
	t.Helper()
	r := run(t, dir, append([]string{"embed", "-q", testutil.Footage(t, video), "-o", name}, args...)...)
	if r.code != 0 {
		t.Fatalf("embed %s: exit %d: %s", video, r.code, r.stderr)
	}
	return filepath.Join(dir, name)
}

// TestOutputsAreNotReplaced: no command writes over its own input, and a
// file that exists is replaced only when it is the command's own kind of
// output, or with -y; --no-overwrite never replaces one.
func TestOutputsAreNotReplaced(t *testing.T) {
	needModel(t)
	dir := t.TempDir()
	embedFootage(t, dir, "Megamind.avi", "mm.vprint")
	testutil.TestVideo(t, dir, "clip.mp4", 160, 120, "10", 2)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("my notes\n"), 0o644)
	clip, _ := os.ReadFile(filepath.Join(dir, "clip.mp4"))
	tests := []struct {
		name string
		args []string
		code int
		kept string // a file that must be unchanged, "" for none
	}{
		{"export over its own input", []string{"export", "mm.vprint", "--format", "csv", "-o", "mm.vprint"}, exitUsage, "mm.vprint"},
		{"a picture over a video", []string{"picture", "mm.vprint", "-o", "clip.mp4"}, exitOutput, "clip.mp4"},
		{"a picture over its own input", []string{"picture", "mm.vprint", "-o", "mm.vprint"}, exitUsage, "mm.vprint"},
		{"a CSV over notes", []string{"export", "mm.vprint", "--format", "csv", "-o", "notes.txt"}, exitOutput, "notes.txt"},
		{"a print over notes", []string{"embed", "clip.mp4", "-o", "notes.txt"}, exitOutput, "notes.txt"},
		{"a picture", []string{"picture", "mm.vprint", "-o", "mm.png"}, 0, ""},
		{"the same picture again", []string{"picture", "mm.vprint", "-o", "mm.png"}, 0, ""},
		{"never", []string{"picture", "mm.vprint", "-o", "mm.png", "--no-overwrite"}, exitOutput, "mm.png"},
		{"-y and never", []string{"picture", "mm.vprint", "-o", "x.png", "-y", "--no-overwrite"}, exitUsage, ""},
		{"a CSV", []string{"export", "mm.vprint", "--format", "csv", "-o", "mm.csv"}, 0, ""},
		{"the same CSV again", []string{"export", "mm.vprint", "--format", "csv", "-o", "mm.csv"}, 0, ""},
		{"-y over notes", []string{"export", "mm.vprint", "--format", "csv", "-o", "notes.txt", "-y"}, 0, ""},
	}
	for _, tt := range tests {
		var before []byte
		if tt.kept != "" {
			before, _ = os.ReadFile(filepath.Join(dir, tt.kept))
		}
		r := run(t, dir, tt.args...)
		if r.code != tt.code {
			t.Errorf("%s: exit %d, want %d (%s)", tt.name, r.code, tt.code, r.stderr)
		}
		if tt.code != 0 && !strings.Contains(r.stderr, tt.args[0]+":") {
			t.Errorf("%s: %q does not name the command %s", tt.name, r.stderr, tt.args[0])
		}
		if tt.kept != "" {
			if after, _ := os.ReadFile(filepath.Join(dir, tt.kept)); !bytes.Equal(before, after) {
				t.Errorf("%s: %s was changed", tt.name, tt.kept)
			}
		}
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "clip.mp4")); !bytes.Equal(got, clip) {
		t.Error("the video was changed")
	}
	if _, err := vprint.ReadFile(filepath.Join(dir, "mm.vprint")); err != nil {
		t.Errorf("the print was damaged: %v", err)
	}
}

// TestSplitKeepsExistingPieces: split refuses to write over a file in its
// way, before writing any piece, unless -y.
func TestSplitKeepsExistingPieces(t *testing.T) {
	needModel(t)
	dir := t.TempDir()
	video := filepath.Join(dir, "mm.avi")
	data, err := os.ReadFile(testutil.Footage(t, "Megamind.avi"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(video, data, 0o644)
	out := filepath.Join(dir, "pieces")
	os.Mkdir(out, 0o755)
	mine := filepath.Join(out, "mm-Scene-002.avi")
	os.WriteFile(mine, []byte("someone's file"), 0o644)
	r := run(t, dir, "split", "mm.avi", "-o", "pieces")
	if r.code != exitOutput || !strings.Contains(r.stderr, "mm-Scene-002.avi") {
		t.Fatalf("split over a file: exit %d, %q; want %d naming it", r.code, r.stderr, exitOutput)
	}
	if got, _ := os.ReadFile(mine); string(got) != "someone's file" {
		t.Error("the file in the way was replaced")
	}
	if _, err := os.Stat(filepath.Join(out, "mm-Scene-001.avi")); err == nil {
		t.Error("a piece was written before the refusal")
	}
	if r := run(t, dir, "split", "mm.avi", "-o", "pieces", "-y"); r.code != 0 {
		t.Fatalf("split -y: exit %d: %s", r.code, r.stderr)
	}
	if got, _ := os.ReadFile(mine); string(got) == "someone's file" {
		t.Error("split -y left the file in the way")
	}
}

// TestTruncatedVideos: the first half of an AVI (its header declares the
// whole) and of an MP4 whose index comes last are refused as truncated;
// --partial keeps what decodes of the AVI.
func TestTruncatedVideos(t *testing.T) {
	needModel(t)
	dir := t.TempDir()
	avi, err := os.ReadFile(testutil.Footage(t, "Megamind.avi"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "half.avi"), avi[:len(avi)/2], 0o644)
	mp4 := testutil.TestVideo(t, dir, "whole.mp4", 320, 240, "25", 6)
	data, _ := os.ReadFile(mp4)
	os.WriteFile(filepath.Join(dir, "half.mp4"), data[:len(data)/2], 0o644)
	for _, f := range []string{"half.avi", "half.mp4"} {
		r := run(t, dir, "embed", f, "-o", f+".vprint")
		if r.code != exitInput || !strings.Contains(r.stderr, "truncated") || !strings.Contains(r.stderr, f) {
			t.Errorf("embed %s: exit %d, %q; want %d saying it is truncated", f, r.code, r.stderr, exitInput)
		}
		assertNoOutput(t, dir, f+".vprint")
	}
	r := run(t, dir, "embed", "half.avi", "-o", "partial.vprint", "--partial")
	if r.code != 0 {
		t.Fatalf("embed --partial: exit %d: %s", r.code, r.stderr)
	}
	if p, err := vprint.ReadFile(filepath.Join(dir, "partial.vprint")); err != nil || p.Frames() < 20 || p.Frames() > 35 {
		t.Errorf("the partial print: %v", err)
	}
}

// TestCompareRefusesOtherRates: prints sampled at different rates do not
// align (exit 6); prints of different videos are compared with a warning.
func TestCompareRefusesOtherRates(t *testing.T) {
	needModel(t)
	dir := t.TempDir()
	embedFootage(t, dir, "Megamind.avi", "mm5.vprint")
	embedFootage(t, dir, "Megamind.avi", "mm2.vprint", "--fps", "2", "--regions=false")
	embedFootage(t, dir, "vtest.avi", "vt.vprint", "--regions=false")
	if r := run(t, dir, "compare", "mm5.vprint", "mm2.vprint"); r.code != exitIncompatible || !strings.Contains(r.stderr, "fps") {
		t.Errorf("compare at 5 and 2 fps: exit %d, %q; want %d", r.code, r.stderr, exitIncompatible)
	}
	r := run(t, dir, "compare", "mm5.vprint", "vt.vprint")
	if r.code != 0 || !strings.Contains(r.stderr, "different videos") {
		t.Errorf("compare of two videos: exit %d, %q; want 0 with a warning", r.code, r.stderr)
	}
	if r := run(t, dir, "compare", "mm5.vprint", "mm5.vprint"); r.code != 0 || r.stderr != "" {
		t.Errorf("compare with itself: exit %d, %q", r.code, r.stderr)
	}
}

// TestUsageMessages: a mistyped subcommand is an error (exit 2), and
// every usage error points to the help of the command that ran.
func TestUsageMessages(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"index", "lst", "--library", "x"}, `unknown command "lst" for "vidprint index"`},
		{[]string{"index", "list", "--library", "x", "extra"}, "see vidprint index list --help"},
		{[]string{"index", "list", "--bogus"}, "see vidprint index list --help"},
		{[]string{"models", "lst"}, "see vidprint models --help"},
		{[]string{"--bogus"}, "see vidprint --help"},
		{[]string{"nosuchcommand"}, "unknown command"},
	}
	for _, tt := range tests {
		r := run(t, dir, tt.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) || strings.Contains(r.stderr, "vidprint vidprint") {
			t.Errorf("%v: exit %d, %q; want %d with %q", tt.args, r.code, r.stderr, exitUsage, tt.want)
		}
	}
}

// TestThresholdValidated: --threshold must be a number a score can meet.
func TestThresholdValidated(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"locate", "a.mp4", "b.vprint"},
		{"search", "--library", "lib", "a.mp4"},
		{"dedup", "--library", "lib"},
	} {
		for _, bad := range []string{"NaN", "5", "Inf", "-Inf"} {
			r := run(t, dir, append(args, "--threshold", bad)...)
			if r.code != exitUsage || !strings.Contains(r.stderr, "--threshold") {
				t.Errorf("%s --threshold %s: exit %d, %q; want %d", args[0], bad, r.code, r.stderr, exitUsage)
			}
		}
	}
}

// TestSummaryLeavesNoEmptyDirectory: a summary that fails leaves no
// directory it made behind.
func TestSummaryLeavesNoEmptyDirectory(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a video"), 0o644)
	r := run(t, dir, "summary", "notes.txt", "-o", "out")
	if r.code != exitInput {
		t.Errorf("summary of a text file: exit %d, want %d (%s)", r.code, exitInput, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); !os.IsNotExist(err) {
		t.Errorf("summary left its output directory: %v", err)
	}
	// A directory that was there stays.
	os.Mkdir(filepath.Join(dir, "mine"), 0o755)
	run(t, dir, "summary", "notes.txt", "-o", "mine")
	if _, err := os.Stat(filepath.Join(dir, "mine")); err != nil {
		t.Errorf("summary removed a directory it did not make: %v", err)
	}
}

// TestInfoOfVideosAndSeveralPrints: info says a video is a video and how
// to make its print, and describes the good prints of a list with a bad
// one in it.
func TestInfoOfVideosAndSeveralPrints(t *testing.T) {
	needModel(t)
	dir := t.TempDir()
	embedFootage(t, dir, "Megamind.avi", "good.vprint", "--regions=false")
	video := testutil.Footage(t, "Megamind.avi")
	r := run(t, dir, "info", video)
	if r.code != exitInput || !strings.Contains(r.stderr, "is a video, not a print") || !strings.Contains(r.stderr, "vidprint embed") {
		t.Errorf("info of a video: exit %d, %q", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "magic") {
		t.Errorf("info of a video speaks of magic: %q", r.stderr)
	}
	r = run(t, dir, "info", "good.vprint", video, "missing.vprint")
	if r.code != exitInput || !strings.Contains(r.stdout, "good.vprint") || !strings.Contains(r.stdout, "frames") ||
		!strings.Contains(r.stderr, "missing.vprint") {
		t.Errorf("info of a good print among bad ones: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if r := run(t, dir, "info", "--json", "good.vprint", "missing.vprint"); r.code != exitInput || !strings.Contains(r.stdout, `"good.vprint"`) {
		t.Errorf("info --json of a good and a missing print: exit %d, stdout %q", r.code, r.stdout)
	}
}

// TestVersion: --version names every part vidprint runs with.
func TestVersion(t *testing.T) {
	needModel(t)
	r := run(t, t.TempDir(), "--version")
	if r.code != 0 {
		t.Fatalf("--version: exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"vidprint ", "go go1.", "ONNX Runtime 1.", "ffmpeg ", "model mobilenetv3-small-qvac", "installed"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--version does not say %q:\n%s", want, r.stdout)
		}
	}
	if r := run(t, t.TempDir(), "completion", "bash"); r.code != 0 || !strings.Contains(r.stdout, "vidprint") {
		t.Errorf("completion bash: exit %d", r.code)
	}
}

// TestDefaultOutputs: without -o, every command writes into the current
// directory, named after its input.
func TestDefaultOutputs(t *testing.T) {
	needModel(t)
	dir := t.TempDir()
	embedFootage(t, dir, "Megamind.avi", "mm.vprint", "--regions=false")
	video := testutil.Footage(t, "Megamind.avi")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"picture", "mm.vprint"}, "mm.png"},
		{[]string{"export", "mm.vprint"}, "mm.npz"},
		{[]string{"summary", "-q", video, "-n", "2"}, "Megamind-summary/index.html"},
		{[]string{"embed", "-q", video}, "Megamind.vprint"},
	} {
		if r := run(t, dir, tc.args...); r.code != 0 {
			t.Errorf("%v: exit %d: %s", tc.args, r.code, r.stderr)
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, tc.want)); err != nil {
			t.Errorf("%v did not write %s: %v", tc.args, tc.want, err)
		}
	}
	// -n means the scene count in summary as in scenes and split; the old
	// long name still works.
	if r := run(t, dir, "summary", "-q", video, "--frames", "3", "-o", "three"); r.code != 0 || !strings.Contains(r.stdout, "3 keyframes") {
		t.Errorf("summary --frames 3: exit %d, %q", r.code, r.stdout)
	}
}

// TestIndexAddPrints: index add takes prints made earlier as their
// videos, without embedding again; the video itself is then already
// there; a print of another rate is skipped.
func TestIndexAddPrints(t *testing.T) {
	needModel(t)
	dir := t.TempDir()
	embedFootage(t, dir, "Megamind.avi", "mm.vprint")
	embedFootage(t, dir, "vtest.avi", "vt2.vprint", "--fps", "2", "--regions=false")
	r := run(t, dir, "index", "add", "--json", "-q", "--library", "lib", "mm.vprint", "vt2.vprint")
	if r.code != exitInput || !strings.Contains(r.stdout, `"status":"added"`) || !strings.Contains(r.stdout, `"status":"skipped"`) {
		t.Fatalf("index add of two prints: exit %d, %q, %q", r.code, r.stdout, r.stderr)
	}
	r = run(t, dir, "index", "add", "--json", "-q", "--library", "lib", testutil.Footage(t, "Megamind.avi"))
	if r.code != 0 || !strings.Contains(r.stdout, `"status":"present"`) {
		t.Errorf("index add of the print's video: exit %d, %q", r.code, r.stdout)
	}
	r = run(t, dir, "search", "--json", "-q", "--library", "lib", "mm.vprint")
	if r.code != 0 || !strings.Contains(r.stdout, `"found":true`) {
		t.Errorf("search of the print in its library: exit %d, %q, %q", r.code, r.stdout, r.stderr)
	}
}

// TestStandardInput: "-" reads a video from standard input, as ffmpeg's
// -i - does: embed names its print stdin.vprint, and locate finds a clip
// piped to it.
func TestStandardInput(t *testing.T) {
	needModel(t)
	dir := t.TempDir()
	video := testutil.Footage(t, "Megamind.avi")
	piped := func(input string, args ...string) result {
		t.Helper()
		f, err := os.Open(input)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cmd := exec.Command(binary, args...)
		cmd.Dir, cmd.Stdin = dir, f
		cmd.Env = append(os.Environ(), "VIDPRINT_CACHE="+testCache(t))
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err = cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		return result{stdout.String(), stderr.String(), code}
	}
	if r := piped(video, "embed", "-q", "-"); r.code != 0 {
		t.Fatalf("embed -: exit %d: %s", r.code, r.stderr)
	}
	p, err := vprint.ReadFile(filepath.Join(dir, "stdin.vprint"))
	if err != nil || p.Frames() != 57 || p.Source.Name != "stdin" {
		t.Fatalf("the print of standard input: %v", err)
	}
	clip := testutil.FFmpegGen(t, dir, "clip.mkv", "-ss", "3", "-i", video, "-t", "5", "-an")
	r := piped(clip, "locate", "--json", "-q", "-", "stdin.vprint")
	if r.code != 0 || !strings.Contains(r.stdout, `"video_start_s":3`) {
		t.Errorf("locate -: exit %d, %q, %q", r.code, r.stdout, r.stderr)
	}
	if r := run(t, dir, "embed", "-", "-"); r.code != exitUsage {
		t.Errorf("embed - -: exit %d, want %d", r.code, exitUsage)
	}
}

// TestTimeRange: --start and --end keep the samples in [start, end), at
// the video's own times, in embed and in scenes (of a video or a print).
func TestTimeRange(t *testing.T) {
	needModel(t)
	dir := t.TempDir()
	video := testutil.Footage(t, "Megamind.avi")
	for _, tc := range []struct {
		start, end    string
		frames        int
		first, last   float64
		wantUsageCode bool
	}{
		{"3", "8", 25, 3, 7.8, false},
		{"3.1", "0:08", 24, 3.2, 7.8, false},
		{"00:00:10", "", 7, 10, 11.2, false},
		{"8", "3", 0, 0, 0, true},
	} {
		args := []string{"embed", "-q", "-y", video, "-o", "part.vprint", "--start", tc.start}
		if tc.end != "" {
			args = append(args, "--end", tc.end)
		}
		r := run(t, dir, args...)
		if tc.wantUsageCode {
			if r.code != exitUsage {
				t.Errorf("%v: exit %d, want %d", args, r.code, exitUsage)
			}
			continue
		}
		p, err := vprint.ReadFile(filepath.Join(dir, "part.vprint"))
		if r.code != 0 || err != nil || p.Frames() != tc.frames || p.Timestamps[0] != tc.first || p.Timestamps[p.Frames()-1] != tc.last {
			t.Errorf("%v: exit %d, %v; want %d frames from %g to %g s", args, r.code, err, tc.frames, tc.first, tc.last)
		}
	}
	embedFootage(t, dir, "Megamind.avi", "mm.vprint", "--regions=false")
	for _, input := range []string{"mm.vprint", video} {
		r := run(t, dir, "scenes", "--json", "-q", input, "--start", "2", "--end", "9")
		var got struct {
			Scenes []struct {
				StartS float64 `json:"start_s"`
				EndS   float64 `json:"end_s"`
			} `json:"scenes"`
		}
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &got) != nil || len(got.Scenes) == 0 ||
			got.Scenes[0].StartS != 2 || got.Scenes[len(got.Scenes)-1].EndS > 9.01 {
			t.Errorf("scenes %s from 2 to 9 s: exit %d, %s", input, r.code, r.stdout)
		}
	}
}

// TestTimings: --timings reports locate's phases, which add up to its
// total, for make bench.
func TestTimings(t *testing.T) {
	needModel(t)
	dir := t.TempDir()
	embedFootage(t, dir, "Megamind.avi", "mm.vprint", "--regions=false")
	r := run(t, dir, "locate", "-q", "--timings", "mm.vprint", "mm.vprint")
	var got struct {
		Timings map[string]float64 `json:"timings"`
	}
	at := strings.Index(r.stderr, `{"timings"`)
	if r.code != 0 || at < 0 || json.Unmarshal([]byte(r.stderr[at:]), &got) != nil {
		t.Fatalf("locate --timings: exit %d, stderr %q", r.code, r.stderr)
	}
	var sum float64
	for _, phase := range []string{"prints_s", "embed_s", "match_s"} {
		v, ok := got.Timings[phase]
		if !ok || v < 0 {
			t.Errorf("no %s in %v", phase, got.Timings)
		}
		sum += v
	}
	if d := sum - got.Timings["total_s"]; d > 1e-6 || d < -1e-6 {
		t.Errorf("phases add up to %g, total %g", sum, got.Timings["total_s"])
	}
}
