package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// normFilter brings every source to one size, rate and pixel format, so
// that concat and xfade accept any pair. Sources keep their aspect ratio
// and are padded with black.
const normFilter = "fps=25,scale=640:360:force_original_aspect_ratio=decrease,pad=640:360:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p"

// encodeArgs is the encoder for normalised sources and test videos alike.
var encodeArgs = []string{"-an", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "20", "-pix_fmt", "yuv420p"}

// normVersion names the cached normalised sources; bump it when normFilter
// or encodeArgs change.
const normVersion = "v1"

// generator builds the test videos under dir, reusing what is there.
type generator struct {
	data string // $VIDPRINT_HOME/data
	dir  string // $VIDPRINT_HOME/eval/scenes
	log  func(format string, a ...any)
}

// ensure returns the video's path and ground truth, building the video when
// it is missing or its recipe changed.
func (g *generator) ensure(v video) (string, truth, error) {
	t, err := v.plan()
	if err != nil {
		return "", truth{}, err
	}
	path := filepath.Join(g.dir, v.Name+".mp4")
	truthPath := filepath.Join(g.dir, v.Name+".json")
	if cached, err := readTruth(truthPath); err == nil && cached.Spec == t.Spec && exists(path) {
		return path, t, nil
	}
	if err := os.MkdirAll(g.dir, 0o755); err != nil {
		return "", truth{}, fmt.Errorf("create %s: %w", g.dir, err)
	}
	g.log("generating %s (%d segments, %d transitions)", v.Name, len(v.Segs), len(t.Transitions))
	if err := g.build(v, path); err != nil {
		return "", truth{}, fmt.Errorf("generate %s: %w", v.Name, err)
	}
	// A length that differs from the plan means the truth is wrong too.
	got, err := probeDuration(path)
	if err != nil {
		return "", truth{}, err
	}
	if math.Abs(got-t.Duration) > 1.5/fps {
		return "", truth{}, fmt.Errorf("generate %s: video lasts %.3f s, the plan says %.3f s", v.Name, got, t.Duration)
	}
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return "", truth{}, fmt.Errorf("encode truth of %s: %w", v.Name, err)
	}
	// The truth is written last: it marks the video as complete.
	if err := os.WriteFile(truthPath, append(b, '\n'), 0o644); err != nil {
		return "", truth{}, fmt.Errorf("write %s: %w", truthPath, err)
	}
	return path, t, nil
}

// build joins the segments in one ffmpeg run: trim each, then fold them
// left to right with concat (cuts) or xfade (dissolves, fades).
func (g *generator) build(v video, out string) error {
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "error", "-y"}
	var graph []string
	for i, s := range v.Segs {
		norm, err := g.normalised(s.Src)
		if err != nil {
			return err
		}
		// Seeking on the input is frame-accurate for these H.264 files and
		// saves decoding up to 170 s of franck.mp4 for a late window.
		args = append(args, "-ss", ffsec(s.From), "-i", norm)
		n := frames(s.To - s.From)
		chain := fmt.Sprintf("[%d:v]trim=end_frame=%d,setpts=PTS-STARTPTS,settb=1/%d", i, n, fps)
		// A fade through black is a fade out on this segment and a fade in
		// on the next, joined by concat.
		if i > 0 && v.Joins[i-1].Type == "fade" {
			_, in := fadeHalves(v.Joins[i-1].Dur)
			chain += fmt.Sprintf(",fade=t=in:start_frame=0:nb_frames=%d", in)
		}
		if i < len(v.Joins) && v.Joins[i].Type == "fade" {
			out, _ := fadeHalves(v.Joins[i].Dur)
			chain += fmt.Sprintf(",fade=t=out:start_frame=%d:nb_frames=%d", n-out, out)
		}
		graph = append(graph, fmt.Sprintf("%s[s%d]", chain, i))
	}
	acc := "s0"
	length := frames(v.Segs[0].To - v.Segs[0].From)
	for i, j := range v.Joins {
		next := fmt.Sprintf("s%d", i+1)
		res := fmt.Sprintf("j%d", i)
		n := frames(v.Segs[i+1].To - v.Segs[i+1].From)
		switch j.Type {
		case "cut", "fade":
			graph = append(graph, fmt.Sprintf("[%s][%s]concat=n=2:v=1:a=0,settb=1/%d[%s]", acc, next, fps, res))
			length += n
		case "dissolve":
			// Not xfade's fadeblack for fades: it reaches black after a fifth
			// of its length, so its middle is not the darkest frame.
			d := frames(j.Dur)
			graph = append(graph, fmt.Sprintf("[%s][%s]xfade=transition=fade:duration=%s:offset=%s,settb=1/%d[%s]",
				acc, next, ffsec(secs(d)), ffsec(secs(length-d)), fps, res))
			length += n - d
		default:
			return fmt.Errorf("unknown join type %q", j.Type)
		}
		acc = res
	}
	if len(v.Joins) == 0 {
		graph = append(graph, "[s0]null[j]")
		acc = "j"
	}
	tmp := out + ".part.mp4"
	args = append(args, "-filter_complex", strings.Join(graph, ";"), "-map", "["+acc+"]")
	args = append(args, encodeArgs...)
	args = append(args, "-r", strconv.Itoa(fps), "-movflags", "+faststart", tmp)
	if err := run("ffmpeg", args...); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	return nil
}

// normalised returns the source re-encoded at the common size and rate,
// made once and cached.
func (g *generator) normalised(key string) (string, error) {
	src := sources[key]
	out := filepath.Join(g.dir, "src", key+"."+normVersion+".mp4")
	if exists(out) {
		return out, nil
	}
	in := filepath.Join(g.data, src.file)
	if !exists(in) {
		return "", fmt.Errorf("%s missing (run scripts/deps.sh eval)", in)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", filepath.Dir(out), err)
	}
	g.log("normalising %s", src.file)
	filter := normFilter
	if src.retime {
		filter = fmt.Sprintf("setpts=N/(%d*TB),", fps) + filter
	}
	tmp := out + ".part.mp4"
	args := append([]string{"-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", in, "-vf", filter}, encodeArgs...)
	if err := run("ffmpeg", append(args, tmp)...); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("normalise %s: %w", in, err)
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", fmt.Errorf("rename %s: %w", tmp, err)
	}
	return out, nil
}

func ffsec(s float64) string { return strconv.FormatFloat(s, 'f', 3, 64) }

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func readTruth(path string) (truth, error) {
	var t truth
	b, err := os.ReadFile(path)
	if err != nil {
		return t, err
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return t, fmt.Errorf("parse %s: %w", path, err)
	}
	return t, nil
}

func probeDuration(path string) (float64, error) {
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-count_packets",
		"-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", path).Output()
	if err != nil {
		return 0, fmt.Errorf("ffprobe %s: %w", path, err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(string(out)), ",")))
	if err != nil {
		return 0, fmt.Errorf("ffprobe %s: frame count %q: %w", path, out, err)
	}
	return secs(n), nil
}

// run runs a command and, when it fails, returns the tail of its stderr.
func run(name string, args ...string) error {
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", name, err, tail(stderr.String(), 800))
	}
	return nil
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = "..." + s[len(s)-n:]
	}
	return s
}
