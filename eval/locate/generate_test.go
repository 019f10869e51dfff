package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TestGenerate makes one short clip per transformation from lavfi footage
// with real ffmpeg: every filter graph must run, and give the planned length
// and sound (makeClip checks both).
func TestGenerate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ffmpeg")
	}
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	if _, err := os.Stat(fontFile); err != nil {
		t.Skip("fonts-dejavu-core not installed")
	}
	root := t.TempDir()
	data := filepath.Join(root, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	// The source: a moving test pattern with a tone. The host stands in for
	// vtest.avi, the name pip and inset look it up by.
	mustRun(t, "ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=s=160x120:r=25:d=4",
		"-f", "lavfi", "-i", "sine=f=440:d=4", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", filepath.Join(data, "src.mp4"))
	mustRun(t, "ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=s=384x288:r=10:d=4",
		"-c:v", "mpeg4", filepath.Join(data, "vtest.avi"))
	info := map[string]media{}
	for _, f := range []string{"src.mp4", "vtest.avi"} {
		m, err := probeMedia(filepath.Join(data, f))
		if err != nil {
			t.Fatal(err)
		}
		info[f] = m
	}
	if src := info["src.mp4"]; src.Width != 160 || !src.Audio || len(src.Frames) != 100 || info["vtest.avi"].Audio {
		t.Fatalf("probe: %dx%d audio %v, %d frames", src.Width, src.Height, src.Audio, len(src.Frames))
	}

	var clips []clip
	for _, tr := range transforms[:len(transforms)-1] { // bugy needs Megamind_bugy.avi
		c := clip{Name: tr, Ref: "megamind", Transform: tr, SrcFile: "src.mp4", SrcStart: info["src.mp4"].snap(1.3),
			SrcDur: 2, Duration: round6(2 / tempo(tr)), Audio: true}
		if tr == "pip" || tr == "inset" {
			c.Host, c.HostStart = "vtest", 1
		}
		r, _, err := buildRecipe(clipRand(1, "x", tr, 1), c, info)
		if err != nil {
			t.Fatalf("%s: %v", tr, err)
		}
		c.Recipe = r
		clips = append(clips, c)
	}
	g := &generator{data: data, dir: filepath.Join(root, "eval"), log: t.Logf}
	if err := g.ensureClips(9, clips); err != nil {
		t.Fatal(err)
	}

	// The clip's first frame is the source's frame at the truth (1.32 s),
	// not its neighbour.
	at := func(t0 float64) string {
		return fmt.Sprintf("select='gte(t,%.3f)',trim=end_frame=1,setpts=0", t0-0.001)
	}
	same := psnr(t, g.clipPath(9, "none"), filepath.Join(data, "src.mp4"), at(1.32))
	next := psnr(t, g.clipPath(9, "none"), filepath.Join(data, "src.mp4"), at(1.36))
	t.Logf("first frame: %.1f dB against the truth's frame, %.1f against the next", same, next)
	if same < 35 || next > same-5 {
		t.Errorf("first frame: %.1f dB against the truth's frame, %.1f against the next", same, next)
	}

	// A second run makes nothing; a changed recipe remakes only its clip.
	stamp := func(name string) time.Time {
		st, err := os.Stat(g.clipPath(9, name))
		if err != nil {
			t.Fatal(err)
		}
		return st.ModTime()
	}
	before := map[string]time.Time{"none": stamp("none"), "gray": stamp("gray")}
	time.Sleep(20 * time.Millisecond)
	clips[5].Recipe.Graph = "[0:v]hue=s=0.5[v];[0:a]anull[a]" // gray
	if clips[5].Transform != "gray" {
		t.Fatalf("clip 5 is %s", clips[5].Transform)
	}
	if err := g.ensureClips(9, clips); err != nil {
		t.Fatal(err)
	}
	if !stamp("none").Equal(before["none"]) || stamp("gray").Equal(before["gray"]) {
		t.Error("only the changed clip should be made again")
	}
}

var psnrAverage = regexp.MustCompile(`average:([0-9.]+|inf)`)

// psnr compares a's first frame with the frame of b that pick selects.
func psnr(t *testing.T, a, b, pick string) float64 {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-hide_banner", "-nostdin", "-i", a, "-i", b, "-filter_complex",
		"[0:v]trim=end_frame=1,setpts=0[a];[1:v]"+pick+"[b];[a][b]psnr", "-f", "null", "-").CombinedOutput()
	if err != nil {
		t.Fatalf("psnr: %v: %s", err, tail(string(out), 400))
	}
	m := psnrAverage.FindSubmatch(out)
	if m == nil {
		t.Fatalf("psnr: no average in %s", tail(string(out), 400))
	}
	if string(m[1]) == "inf" {
		return 100
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

func mustRun(t *testing.T, name string, args ...string) {
	t.Helper()
	if err := run(name, args...); err != nil {
		t.Fatal(err)
	}
}
