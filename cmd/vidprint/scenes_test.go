package main

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	stdhtml "html"
	"image"
	"image/jpeg"
	_ "image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/vidprint/vidprint/internal/testutil"
)

// Three shots of different sources joined by hard cuts at 4 s and 8 s.
func threeShots(t *testing.T, dir string) string {
	return testutil.FFmpegGen(t, dir, "shots.mp4",
		"-f", "lavfi", "-t", "4", "-i", "testsrc2=size=320x240:rate=25",
		"-f", "lavfi", "-t", "4", "-i", "mandelbrot=size=320x240:rate=25",
		"-f", "lavfi", "-t", "4", "-i", "smptehdbars=size=320x240:rate=25",
		"-filter_complex", "[0:v][1:v][2:v]concat=n=3:v=1:a=0,format=yuv420p",
		"-c:v", "libx264", "-preset", "ultrafast", "-g", "25") // a keyframe each second
}

func TestScenes(t *testing.T) {
	needModel(t)
	dir := t.TempDir()
	threeShots(t, dir)
	r := run(t, dir, "scenes", "--json", "shots.mp4", "--save-print", "shots.vprint")
	if r.code != 0 {
		t.Fatalf("scenes: %d %s", r.code, r.stderr)
	}
	var got struct {
		Scenes []struct{ StartS, EndS float64 } `json:"scenes"`
		Cuts   []struct {
			TimeS float64 `json:"time_s"`
			Kind  string  `json:"kind"`
		} `json:"cuts"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	if len(got.Cuts) != 2 || math.Abs(got.Cuts[0].TimeS-4) > 0.5 || math.Abs(got.Cuts[1].TimeS-8) > 0.5 ||
		got.Cuts[0].Kind != "cut" || len(got.Scenes) != 3 {
		t.Fatalf("want cuts at 4 and 8 s, got %s", r.stdout)
	}
	// PySceneDetect's columns, one row per scene.
	r = run(t, dir, "scenes", "--csv", "shots.vprint")
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if r.code != 0 || err != nil || len(rows) != 4 || rows[0][0] != "Scene Number" || rows[0][9] != "Length (seconds)" {
		t.Fatalf("csv: %d %v %q", r.code, err, r.stdout)
	}
	// Exactly K scenes, and the table.
	for _, k := range []string{"1", "2", "5"} {
		r = run(t, dir, "scenes", "shots.vprint", "-n", k, "--json")
		json.Unmarshal([]byte(r.stdout), &got)
		if r.code != 0 || len(got.Scenes) != atoi(k) {
			t.Errorf("-n %s: %d scenes (%s)", k, len(got.Scenes), r.stderr)
		}
	}
	r = run(t, dir, "scenes", "shots.vprint")
	if r.code != 0 || !strings.Contains(r.stdout, "00:00:04") {
		t.Errorf("table: %q", r.stdout)
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestScenesBadInput(t *testing.T) {
	needModel(t)
	dir := t.TempDir()
	testutil.FFmpegGen(t, dir, "one.mp4", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30", "-frames:v", "1")
	testutil.TestVideo(t, dir, "two.mp4", 160, 120, "25", 0.4) // two samples
	testutil.FFmpegGen(t, dir, "gray.mp4", "-f", "lavfi", "-i", "color=gray:size=160x120:rate=25", "-t", "5",
		"-c:v", "libx264", "-preset", "ultrafast")
	gguf := testutil.QvacGGUF(t)
	if r := run(t, dir, "models", "convert", gguf, "--outputs", "embedding", "-o", "custom.onnx"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if r := run(t, dir, "embed", "gray.mp4", "--model", "custom.onnx", "-o", "custom.vprint"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644)
	for _, tc := range []struct {
		args   []string
		code   int
		scenes int
	}{
		{[]string{"scenes", "--json", "one.mp4", "--save-print", "one.vprint"}, 0, 1}, // one frame: one scene
		{[]string{"scenes", "--json", "gray.mp4"}, 0, 1},                              // a constant video is one scene
		{[]string{"scenes", "--json", "one.vprint", "-n", "2"}, exitUsage, 0},
		{[]string{"scenes", "--json", "two.mp4", "-n", "2", "--save-print", "two.vprint"}, 0, 2}, // two frames, two scenes
		{[]string{"scenes", "--json", "two.vprint", "-n", "3"}, exitUsage, 0},
		{[]string{"picture", "two.vprint", "-o", "two.png"}, 0, 0},
		{[]string{"summary", "two.mp4", "-n", "2", "-o", "twosum"}, 0, 0},
		{[]string{"scenes", "custom.vprint"}, exitIncompatible, 0},
		{[]string{"scenes", "notes.txt"}, exitInput, 0},
		{[]string{"scenes", "--json", "--csv", "one.vprint"}, exitUsage, 0},
	} {
		r := run(t, dir, tc.args...)
		if r.code != tc.code {
			t.Errorf("%v: exit %d, want %d (%s)", tc.args, r.code, tc.code, r.stderr)
			continue
		}
		if tc.code != 0 && strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%v: stderr %q is not one line", tc.args, r.stderr)
		}
		if tc.scenes > 0 && strings.Count(r.stdout, "start_s") != tc.scenes {
			t.Errorf("%v: %s, want %d scene(s)", tc.args, r.stdout, tc.scenes)
		}
	}
}

func TestSplit(t *testing.T) {
	needModel(t)
	dir := t.TempDir()
	threeShots(t, dir)
	os.Mkdir(filepath.Join(dir, "parts"), 0o755)
	r := run(t, dir, "split", "shots.mp4", "-o", "parts", "--save-print", "shots.vprint")
	if r.code != 0 {
		t.Fatalf("split: %d %s", r.code, r.stderr)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "parts"))
	if len(entries) != 3 {
		t.Fatalf("%d files, want 3: %v", len(entries), entries)
	}
	var total float64
	for i, e := range entries {
		if want := "shots-Scene-00" + string(rune('1'+i)) + ".mp4"; e.Name() != want {
			t.Errorf("file %d is %s, want %s", i, e.Name(), want)
		}
		out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
			filepath.Join(dir, "parts", e.Name())).Output()
		if err != nil {
			t.Fatal(err)
		}
		d, _ := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
		total += d
	}
	// Pieces start on keyframes, so they may overlap a little; together
	// they cover the 12 s video.
	if total < 11.5 || total > 14 {
		t.Errorf("pieces last %.2f s in all, want about 12", total)
	}
	if r := run(t, dir, "split", "shots.vprint"); r.code != exitUsage {
		t.Errorf("split of a print: exit %d", r.code)
	}
	// Re-encoded, each piece holds its scene exactly: 4 s each.
	if r := run(t, dir, "split", "-q", "shots.mp4", "--accurate", "-o", "exact"); r.code != 0 {
		t.Fatalf("split --accurate: %d %s", r.code, r.stderr)
	}
	for i := 1; i <= 3; i++ {
		out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames", "-show_entries", "stream=nb_read_frames",
			"-of", "csv=p=0", filepath.Join(dir, "exact", fmt.Sprintf("shots-Scene-%03d.mp4", i))).Output()
		if err != nil {
			t.Fatal(err)
		}
		// threeShots is 25 fps: 100 frames a scene.
		if n, _ := strconv.Atoi(strings.TrimSpace(string(out))); n < 98 || n > 102 {
			t.Errorf("accurate piece %d holds %d frames, want about 100", i, n)
		}
	}
}

func TestSummary(t *testing.T) {
	needModel(t)
	dir := t.TempDir()
	threeShots(t, dir)
	r := run(t, dir, "summary", "shots.mp4", "-n", "3", "-o", "sum", "--save-print", "shots.vprint")
	if r.code != 0 {
		t.Fatalf("summary: %d %s", r.code, r.stderr)
	}
	var index struct {
		Keyframes []struct {
			TimeS       float64 `json:"time_s"`
			File        string  `json:"file"`
			SceneStartS float64 `json:"scene_start_s"`
			SceneEndS   float64 `json:"scene_end_s"`
		} `json:"keyframes"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "sum", "index.json"))
	if err != nil || json.Unmarshal(b, &index) != nil || len(index.Keyframes) != 3 {
		t.Fatalf("index.json: %v %s", err, b)
	}
	for i, k := range index.Keyframes {
		// One keyframe per shot, midway through it, decoded at the
		// video's own 320x240.
		if k.TimeS < float64(4*i)+1 || k.TimeS > float64(4*i)+3 || k.TimeS < k.SceneStartS || k.TimeS >= k.SceneEndS {
			t.Errorf("keyframe %d at %.1f s, scene %.1f..%.1f", i, k.TimeS, k.SceneStartS, k.SceneEndS)
		}
		f, err := os.Open(filepath.Join(dir, "sum", k.File))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := jpeg.DecodeConfig(f)
		f.Close()
		if err != nil || cfg.Width != 320 || cfg.Height != 240 {
			t.Errorf("%s: %dx%d %v, want the full 320x240 frame", k.File, cfg.Width, cfg.Height, err)
		}
	}
	html, _ := os.ReadFile(filepath.Join(dir, "sum", "index.html"))
	if strings.Count(string(html), "data:image/jpeg;base64,") != 3 || strings.Count(string(html), "data:image/png;base64,") != 1 {
		t.Errorf("index.html does not inline the picture and 3 keyframes")
	}
	// Each inline image decodes, as a browser would read the attribute.
	for _, m := range regexp.MustCompile(`src="data:image/(png|jpeg);base64,([^"]*)"`).FindAllStringSubmatch(string(html), -1) {
		data, err := base64.StdEncoding.DecodeString(stdhtml.UnescapeString(m[2]))
		if err != nil {
			t.Fatalf("inline %s: %v", m[1], err)
		}
		if _, _, err := image.DecodeConfig(bytes.NewReader(data)); err != nil {
			t.Fatalf("inline %s does not decode: %v", m[1], err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "sum", "contact.jpg")); err != nil {
		t.Error(err)
	}
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"summary", "shots.mp4", "-n", "1000", "-o", "x"}, exitUsage},
		{[]string{"summary", "shots.vprint", "-o", "x"}, exitUsage},
		{[]string{"summary", "shots.mp4", "-o", "/proc/sum"}, exitOutput},
		{[]string{"summary", "shots.mp4", "-n", "-1"}, exitUsage},
	} {
		if r := run(t, dir, tc.args...); r.code != tc.code {
			t.Errorf("%v: exit %d, want %d (%s)", tc.args, r.code, tc.code, r.stderr)
		}
	}
}
