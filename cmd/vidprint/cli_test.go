package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vidprint/vidprint/internal/assets"
	"github.com/vidprint/vidprint/internal/testutil"
	"github.com/vidprint/vidprint/internal/vprint"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vidprint-cli")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "vidprint")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build vidprint: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

// cacheDirs gives each test its own print cache (VIDPRINT_CACHE), shared
// by all its runs and removed with it.
var cacheDirs sync.Map

func testCache(t *testing.T) string {
	if d, ok := cacheDirs.Load(t); ok {
		return d.(string)
	}
	d := t.TempDir()
	cacheDirs.Store(t, d)
	return d
}

func run(t *testing.T, dir string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "VIDPRINT_CACHE="+testCache(t))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{stdout.String(), stderr.String(), code}
}

// needModel skips or fails when the runtime or the default model is absent.
func needModel(t *testing.T) {
	t.Helper()
	testutil.FFmpeg(t)
	testutil.ORTLibrary(t)
	testutil.File(t, filepath.Join(assets.Default().ModelsDir(), "mobilenetv3-small-qvac.onnx"))
}

func TestEmbedRealFootage(t *testing.T) {
	needModel(t)
	video := testutil.Footage(t, "Megamind.avi")
	dir := t.TempDir()
	r := run(t, dir, "embed", video, "-o", "mm.vprint")
	if r.code != 0 {
		t.Fatalf("embed exit %d: %s", r.code, r.stderr)
	}
	if r.stderr != "" {
		t.Errorf("progress must be silent off a terminal, stderr: %q", r.stderr)
	}
	r = run(t, dir, "info", "--json", "mm.vprint")
	if r.code != 0 {
		t.Fatalf("info exit %d: %s", r.code, r.stderr)
	}
	var info map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &info); err != nil {
		t.Fatalf("info --json: %v\n%s", err, r.stdout)
	}
	dur := info["duration_s"].(float64)
	frames := info["frames"].(float64)
	if math.Abs(frames-dur*5) > 1.5 || info["dim"].(float64) != 1024 || info["fps"].(float64) != 5 ||
		info["model"] != "mobilenetv3-small-qvac" || info["regions"].(float64) != 4 {
		t.Fatalf("info = %v", info)
	}
	p, err := vprint.ReadFile(filepath.Join(dir, "mm.vprint"))
	if err != nil {
		t.Fatal(err)
	}
	// Megamind.avi holds five shots: features must change across the video
	// and stay close within a shot.
	first, last := p.Row(0), p.Row(p.Frames()-1)
	if cos(first, last) > 0.95 {
		t.Errorf("first and last frame features nearly equal (cos %.3f): the model sees nothing", cos(first, last))
	}
	if c := cos(p.Row(1), p.Row(2)); c < 0.8 {
		t.Errorf("adjacent frames differ too much (cos %.3f)", c)
	}
	// Deterministic: the same video gives the same print.
	r = run(t, dir, "embed", video, "-o", "again.vprint", "--quiet")
	q, err := vprint.ReadFile(filepath.Join(dir, "again.vprint"))
	if r.code != 0 || err != nil {
		t.Fatalf("second embed: %d %s %v", r.code, r.stderr, err)
	}
	for i := range p.Features {
		if p.Features[i] != q.Features[i] {
			t.Fatalf("feature %d differs between runs: %v vs %v", i, p.Features[i], q.Features[i])
		}
	}
}

func cos(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}

func TestEmbedOutputsAndExport(t *testing.T) {
	needModel(t)
	dir := t.TempDir()
	testutil.TestVideo(t, dir, "a.mp4", 320, 240, "25", 2)
	testutil.TestVideo(t, dir, "b.mp4", 320, 240, "30", 1)
	os.Mkdir(filepath.Join(dir, "prints"), 0o755)
	r := run(t, dir, "embed", "a.mp4", "b.mp4", "-o", "prints", "--output", "pooled")
	if r.code != 0 {
		t.Fatalf("embed: %d %s", r.code, r.stderr)
	}
	for name, frames := range map[string]int{"a": 10, "b": 5} {
		p, err := vprint.ReadFile(filepath.Join(dir, "prints", name+".vprint"))
		if err != nil {
			t.Fatal(err)
		}
		if p.Frames() != frames || p.Dim != 576 || p.Model.Output != "pooled" {
			t.Errorf("%s: %d frames x %d (%s), want %d x 576 pooled", name, p.Frames(), p.Dim, p.Model.Output, frames)
		}
	}
	for _, format := range []string{"npy", "npz", "csv"} {
		r = run(t, dir, "export", "prints/a.vprint", "--format", format, "-o", "a."+format)
		if r.code != 0 {
			t.Fatalf("export %s: %d %s", format, r.code, r.stderr)
		}
	}
	csv, _ := os.ReadFile(filepath.Join(dir, "a.csv"))
	lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
	if len(lines) != 11 || !strings.HasPrefix(lines[0], "time_s,f0,f1,") || !strings.HasPrefix(lines[2], "0.2,") {
		t.Errorf("csv has %d lines, header %.40q, row 2 %.20q", len(lines), lines[0], lines[2])
	}
	if _, err := os.Stat(filepath.Join(dir, "a_timestamps.npy")); err != nil {
		t.Errorf("npy export wrote no timestamps: %v", err)
	}
	// The print has regions (embed's default): exported beside the rest.
	regions, err := os.ReadFile(filepath.Join(dir, "a_regions.npy"))
	if err != nil || !bytes.Contains(regions[:min(len(regions), 128)], []byte("'shape': (10, 4, 576)")) {
		t.Errorf("npy export's regions: %v, header %.100q", err, regions)
	}
	npz, _ := os.ReadFile(filepath.Join(dir, "a.npz"))
	if !bytes.Contains(npz, []byte("regions.npy")) {
		t.Error("npz export holds no regions")
	}
}

// Each bad input: a documented exit code, one line naming the file, and
// no output left behind.
func TestEmbedBadInput(t *testing.T) {
	needModel(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("hello\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "empty.mp4"), nil, 0o644)
	os.Mkdir(filepath.Join(dir, "adir"), 0o755)
	testutil.FFmpegGen(t, dir, "still.jpg", "-f", "lavfi", "-i", "testsrc2=size=160x120", "-frames:v", "1")
	testutil.FFmpegGen(t, dir, "tone.m4a", "-f", "lavfi", "-i", "sine=duration=1")
	full := testutil.FFmpegGen(t, dir, "full.mp4", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25",
		"-t", "6", "-c:v", "libx264", "-preset", "ultrafast", "-movflags", "+faststart")
	b, _ := os.ReadFile(full)
	os.WriteFile(filepath.Join(dir, "truncated.mp4"), b[:len(b)/3], 0o644)
	ts := testutil.FFmpegGen(t, dir, "clip.ts", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25",
		"-t", "10", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25")
	b, _ = os.ReadFile(ts)
	for i := len(b) * 2 / 5; i < len(b)*3/5; i++ {
		b[i] = byte(i * 7)
	}
	os.WriteFile(filepath.Join(dir, "broken.ts"), b, 0o644)

	tests := []struct {
		name, file string
		code       int
		says       string
	}{
		{"missing", "nope.mp4", exitInput, "no such file"},
		{"directory", "adir", exitInput, "is a directory"},
		{"text", "notes.txt", exitInput, "not a video"},
		{"jpeg", "still.jpg", exitInput, "still image"},
		{"audio only", "tone.m4a", exitInput, "no video stream"},
		{"zero length", "empty.mp4", exitInput, "empty file"},
		{"truncated", "truncated.mp4", exitInput, "truncated"},
		{"fails midway", "broken.ts", exitInput, "decoding failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, dir, "embed", tt.file, "-o", "out.vprint")
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %q", r.code, tt.code, r.stderr)
			}
			msg := strings.TrimSuffix(r.stderr, "\n")
			if strings.Contains(msg, "\n") || !strings.Contains(msg, tt.file) || !strings.Contains(msg, tt.says) {
				t.Fatalf("stderr %q: want one line naming %s and saying %q", r.stderr, tt.file, tt.says)
			}
			assertNoOutput(t, dir, "out.vprint")
		})
	}
}

func assertNoOutput(t *testing.T, dir, name string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
		t.Fatalf("%s was written", name)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Fatalf("temporary file %s left behind", e.Name())
		}
	}
}

func TestEmbedShortVideosAndNames(t *testing.T) {
	needModel(t)
	dir := t.TempDir()
	testutil.FFmpegGen(t, dir, "one frame.mp4", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30", "-frames:v", "1")
	testutil.TestVideo(t, dir, "-dash ünï 映像.mp4", 160, 120, "30", 0.1)
	testutil.TestVideo(t, dir, `back\slash.mp4`, 160, 120, "30", 0.1)
	for _, name := range []string{"one frame.mp4", "-dash ünï 映像.mp4", `back\slash.mp4`} {
		r := run(t, dir, "embed", "-o", "short.vprint", "--", name)
		if r.code != 0 {
			t.Fatalf("%s: exit %d %s", name, r.code, r.stderr)
		}
		p, err := vprint.ReadFile(filepath.Join(dir, "short.vprint"))
		if err != nil || p.Frames() != 1 {
			t.Fatalf("%s: want a valid 1-row print, got %v %v", name, p, err)
		}
		if p.Source.Name != name {
			t.Errorf("source name %q, want %q", p.Source.Name, name)
		}
	}
}

func TestEmbedUnwritableOutput(t *testing.T) {
	needModel(t)
	dir := t.TempDir()
	testutil.TestVideo(t, dir, "a.mp4", 160, 120, "10", 1)
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o555)
	target := filepath.Join(ro, "a.vprint")
	if os.Geteuid() == 0 {
		target = "/proc/a.vprint" // root writes anywhere but here
	}
	start := time.Now()
	r := run(t, dir, "embed", "a.mp4", "-o", target)
	if r.code != exitOutput || !strings.Contains(r.stderr, filepath.Dir(target)) {
		t.Fatalf("exit %d, stderr %q; want %d naming the directory", r.code, r.stderr, exitOutput)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("the unwritable output was found only after the work")
	}
}

// TestEmbedInterrupt: Ctrl-C and SIGTERM end a run with the shell's code
// for each (130, 143), saying so, and nothing half-written.
func TestEmbedInterrupt(t *testing.T) {
	needModel(t)
	dir := t.TempDir()
	// An hour at one frame per second: quick to make, 18000 samples to embed.
	testutil.TestVideo(t, dir, "long.mp4", 320, 240, "1", 3600)
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, exitInterrupted}, {syscall.SIGTERM, exitTerminated}} {
		cmd := exec.Command(binary, "embed", "long.mp4", "-o", "long.vprint")
		cmd.Dir = dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		cmd.Process.Signal(tc.sig)
		timer := time.AfterFunc(10*time.Second, func() { cmd.Process.Kill() })
		err := cmd.Wait()
		timer.Stop()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != tc.code {
			t.Fatalf("want exit %d after %v, got %v (stderr %q)", tc.code, tc.sig, err, stderr.String())
		}
		if !strings.Contains(stderr.String(), "interrupted") {
			t.Errorf("stderr %q does not say interrupted", stderr.String())
		}
		assertNoOutput(t, dir, "long.vprint")
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"embed"},
		{"embed", "x.mp4", "--fps", "0"},
		{"embed", "x.mp4", "--region-every", "-1"},
		{"embed", "x.mp4", "--bogus"},
		{"export", "x.vprint", "--format", "xls"},
		{"nosuchcommand"},
	} {
		r := run(t, dir, args...)
		if r.code != exitUsage {
			t.Errorf("%v: exit %d, want %d (stderr %q)", args, r.code, exitUsage, r.stderr)
		}
	}
}

func TestInfoBadPrint(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bad.vprint"), []byte("VIDPRNT\x00garbage"), 0o644)
	for _, f := range []string{"bad.vprint", "missing.vprint"} {
		r := run(t, dir, "info", f)
		if r.code != exitInput || !strings.Contains(r.stderr, f) {
			t.Errorf("info %s: exit %d, stderr %q; want %d naming the file", f, r.code, r.stderr, exitInput)
		}
	}
}

func TestModelsList(t *testing.T) {
	r := run(t, t.TempDir(), "models")
	if r.code != 0 || !strings.Contains(r.stdout, "mobilenetv3-small-qvac") || !strings.Contains(r.stdout, "mobilenetv3-large-imagenet") {
		t.Fatalf("models: %d %q", r.code, r.stdout)
	}
}

// The whole chain (ffmpeg's planar frames, preprocessing, model) keeps the
// colours right: videos made of the package's test photos classify as the
// package says.
func TestEmbedClassifiesTestPhotos(t *testing.T) {
	needModel(t)
	dir := t.TempDir()
	images := assets.Default().QvacTestImages()
	for name, want := range map[string]int{"meal_1": 0, "report_1": 1, "other_2": 2} {
		img := testutil.File(t, filepath.Join(images, name+".jpg"))
		testutil.FFmpegGen(t, dir, name+".mp4", "-loop", "1", "-i", img, "-t", "1", "-r", "10",
			"-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "12", "-pix_fmt", "yuv444p")
		r := run(t, dir, "embed", name+".mp4", "--output", "logits", "-o", name+".vprint")
		if r.code != 0 {
			t.Fatalf("%s: %d %s", name, r.code, r.stderr)
		}
		p, err := vprint.ReadFile(filepath.Join(dir, name+".vprint"))
		if err != nil {
			t.Fatal(err)
		}
		logits := p.Row(0)
		best := 0
		for c := range logits {
			if logits[c] > logits[best] {
				best = c
			}
		}
		if best != want {
			t.Errorf("%s: logits %v, argmax %d, want %d (food, report, other)", name, logits, best, want)
		}
	}
}

// With several videos, a bad one is reported and skipped; the rest are
// written and the exit code is the bad one's.
func TestEmbedSeveralWithOneBad(t *testing.T) {
	needModel(t)
	dir := t.TempDir()
	testutil.TestVideo(t, dir, "good.mp4", 160, 120, "10", 1)
	os.WriteFile(filepath.Join(dir, "bad.mp4"), []byte("not a video"), 0o644)
	os.Mkdir(filepath.Join(dir, "out"), 0o755)
	r := run(t, dir, "embed", "bad.mp4", "good.mp4", "-o", "out")
	if r.code != exitInput || !strings.Contains(r.stderr, "bad.mp4") || !strings.Contains(r.stderr, "1 of 2 videos failed") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := vprint.ReadFile(filepath.Join(dir, "out", "good.vprint")); err != nil {
		t.Fatalf("the good video's print: %v", err)
	}
	assertNoOutput(t, filepath.Join(dir, "out"), "bad.vprint")
}

// Outputs that cannot work are refused before any work.
func TestEmbedRefusesBadOutputs(t *testing.T) {
	needModel(t)
	dir := t.TempDir()
	testutil.TestVideo(t, dir, "v.mp4", 160, 120, "10", 1)
	os.Mkdir(filepath.Join(dir, "v.vprint"), 0o755)
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"embed", "v.mp4"}, exitOutput},               // v.vprint is a directory
		{[]string{"embed", "v.mp4", "-o", "v.mp4"}, exitUsage}, // would overwrite the video
	} {
		r := run(t, dir, tc.args...)
		if r.code != tc.code {
			t.Errorf("%v: exit %d, want %d (%s)", tc.args, r.code, tc.code, r.stderr)
		}
	}
	if st, err := os.Stat(filepath.Join(dir, "v.mp4")); err != nil || st.Size() < 1000 {
		t.Fatalf("the video was damaged: %v", err)
	}
}

// A command that fails still writes its CPU profile.
func TestCPUProfileOfAFailingCommand(t *testing.T) {
	dir := t.TempDir()
	r := run(t, dir, "info", "missing.vprint", "--cpuprofile", "cpu.prof")
	if r.code == 0 {
		t.Fatalf("info of a missing print succeeded: %q", r.stdout)
	}
	b, err := os.ReadFile(filepath.Join(dir, "cpu.prof"))
	if err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b { // a gzipped profile
		t.Fatalf("profile %d bytes (%v), want a gzipped pprof profile", len(b), err)
	}
}
