package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/vidprint/vidprint/internal/vprint"
)

// recipeVersion is part of every clip's hash: bump it to rebuild every clip
// when something outside the recipe changes how clips are made.
const recipeVersion = "v1"

// generator makes and caches the clips, the probes and the prints.
type generator struct {
	data string // $VIDPRINT_HOME/data
	dir  string // $VIDPRINT_HOME/eval/locate
	bin  string // vidprint, for embed
	log  func(format string, a ...any)
}

func (g *generator) refsDir() string { return filepath.Join(g.dir, "refs") }
func (g *generator) clipsDir(seed int64) string {
	return filepath.Join(g.dir, strconv.FormatInt(seed, 10))
}
func (g *generator) clipPath(seed int64, name string) string {
	return filepath.Join(g.clipsDir(seed), name+".mp4")
}

// files lists every file of footage the set uses.
func files() []string {
	out := []string{bugyFile}
	for _, r := range references {
		out = append(out, r.File)
	}
	return out
}

// probeAll returns the media of every file, cached under refs/ and probed
// again when a file's size changes.
func (g *generator) probeAll() (map[string]media, error) {
	info := map[string]media{}
	for _, f := range files() {
		path := filepath.Join(g.data, f)
		st, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("%w (run scripts/deps.sh eval)", err)
		}
		cache := filepath.Join(g.refsDir(), f+".probe.json")
		var m media
		if b, err := os.ReadFile(cache); err == nil && json.Unmarshal(b, &m) == nil && m.Size == st.Size() {
			info[f] = m
			continue
		}
		g.log("probing %s", f)
		if m, err = probeMedia(path); err != nil {
			return nil, err
		}
		m.Size = st.Size()
		if err := writeJSON(cache, m); err != nil {
			return nil, err
		}
		info[f] = m
	}
	return info, nil
}

// probeMedia reads a file's size, whether it has sound, and the time of
// every video frame (decoded, so that the times are the ones ffmpeg uses
// when it seeks).
func probeMedia(path string) (media, error) {
	var m media
	out, err := output("ffprobe", "-v", "error", "-show_entries", "stream=codec_type,width,height", "-of", "json", path)
	if err != nil {
		return m, err
	}
	var streams struct {
		Streams []struct {
			Type   string `json:"codec_type"`
			Width  int    `json:"width"`
			Height int    `json:"height"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &streams); err != nil {
		return m, fmt.Errorf("ffprobe %s: %w", path, err)
	}
	for _, s := range streams.Streams {
		switch {
		case s.Type == "video" && m.Width == 0:
			m.Width, m.Height = s.Width, s.Height
		case s.Type == "audio":
			m.Audio = true
		}
	}
	out, err = output("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=best_effort_timestamp_time", "-of", "csv=p=0", path)
	if err != nil {
		return m, err
	}
	m.Frames = parseFrameTimes(out)
	if len(m.Frames) < 2 || m.Width == 0 {
		return m, fmt.Errorf("ffprobe %s: no video frames", path)
	}
	return m, nil
}

// parseFrameTimes reads ffprobe's csv of frame times; a frame without a time
// (N/A) is left out.
func parseFrameTimes(b []byte) []float64 {
	var ts []float64
	for _, line := range strings.Split(string(b), "\n") {
		field, _, _ := strings.Cut(strings.TrimSpace(line), ",")
		if t, err := strconv.ParseFloat(field, 64); err == nil && !math.IsNaN(t) {
			ts = append(ts, t)
		}
	}
	sort.Float64s(ts)
	return ts
}

// manifest is the truth of every clip made for one seed, kept beside the
// clips as manifest.json.
type manifest struct {
	Seed  int64            `json:"seed"`
	Clips map[string]entry `json:"clips"`
}

type entry struct {
	Hash string `json:"hash"`
	Clip clip   `json:"clip"`
}

// hashClip covers the truth and the recipe: a change to either rebuilds.
func hashClip(c clip) string {
	b, _ := json.Marshal(c) // a clip always encodes
	sum := sha256.Sum256(append([]byte(recipeVersion+"\n"), b...))
	return hex.EncodeToString(sum[:8])
}

func readManifest(path string, seed int64) manifest {
	m := manifest{Seed: seed, Clips: map[string]entry{}}
	b, err := os.ReadFile(path)
	if err != nil {
		return m
	}
	var read manifest
	if json.Unmarshal(b, &read) != nil || read.Seed != seed || read.Clips == nil {
		return m // unreadable: every clip is rebuilt
	}
	return read
}

// stale lists the clips that are missing or whose recipe changed.
func (m manifest) stale(clips []clip, path func(string) string) []clip {
	var out []clip
	for _, c := range clips {
		e, ok := m.Clips[c.Name]
		if !ok || e.Hash != hashClip(c) || !exists(path(c.Name)) {
			out = append(out, c)
		}
	}
	return out
}

// ensureClips makes the clips that are missing or changed. The manifest is
// written after each clip, so an interrupted run keeps what it made.
func (g *generator) ensureClips(seed int64, clips []clip) error {
	dir := g.clipsDir(seed)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	mpath := filepath.Join(dir, "manifest.json")
	m := readManifest(mpath, seed)
	todo := m.stale(clips, func(name string) string { return g.clipPath(seed, name) })
	if len(todo) > 0 {
		if _, err := os.Stat(fontFile); err != nil {
			return fmt.Errorf("%s missing: install fonts-dejavu-core (scripts/deps.sh eval)", fontFile)
		}
	}
	for i, c := range todo {
		g.log("generating %d/%d %s (%.1f s from %s at %.2f s%s)", i+1, len(todo), c.Name, c.Duration, c.SrcFile, c.SrcStart, hostNote(c))
		if err := g.makeClip(c, g.clipPath(seed, c.Name)); err != nil {
			return fmt.Errorf("generate %s: %w", c.Name, err)
		}
		m.Clips[c.Name] = entry{Hash: hashClip(c), Clip: c}
		if err := writeJSON(mpath, m); err != nil {
			return err
		}
	}
	return nil
}

func hostNote(c clip) string {
	if c.Host == "" {
		return ""
	}
	return ", host " + c.Host
}

// makeClip runs the recipe and checks the clip's length and sound.
func (g *generator) makeClip(c clip, out string) error {
	tmp := strings.TrimSuffix(out, ".mp4") + ".part.mp4"
	if err := run("ffmpeg", c.Recipe.args(g.data, tmp)...); err != nil {
		os.Remove(tmp)
		return err
	}
	d, audio, err := probeClip(tmp)
	if err != nil {
		os.Remove(tmp)
		return err
	}
	// A wrong length means the window or the filters are not what the truth
	// says (a host that ended early, a filter that dropped the end).
	if math.Abs(d-c.Duration) > 0.3 {
		os.Remove(tmp)
		return fmt.Errorf("the clip lasts %.3f s, the plan says %.3f s", d, c.Duration)
	}
	if audio != c.Audio {
		os.Remove(tmp)
		return fmt.Errorf("the clip has audio %v, the plan says %v", audio, c.Audio)
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	return nil
}

func probeClip(path string) (dur float64, audio bool, err error) {
	out, err := output("ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_type", "-of", "json", path)
	if err != nil {
		return 0, false, err
	}
	var p struct {
		Format  struct{ Duration string } `json:"format"`
		Streams []struct {
			Type string `json:"codec_type"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &p); err != nil {
		return 0, false, fmt.Errorf("ffprobe %s: %w", path, err)
	}
	if dur, err = strconv.ParseFloat(p.Format.Duration, 64); err != nil {
		return 0, false, fmt.Errorf("ffprobe %s: duration %q", path, p.Format.Duration)
	}
	for _, s := range p.Streams {
		audio = audio || s.Type == "audio"
	}
	return dur, audio, nil
}

// refPrintsVersion names the reference prints' cache: bump it when the way
// `vidprint embed` makes a print changes (2: full decoding by default; 3:
// region features; 4: thumbnails; 5: thumbnails from the half-size grey
// plane; 7: region features on every second sample).
const refPrintsVersion = "7"

// ensureRefPrints embeds each reference once into refs-vN/NAME.vprint. A
// print is made again when it is unreadable or of a file of another size.
func (g *generator) ensureRefPrints() (map[string]string, error) {
	dir := g.refsDir() + "-v" + refPrintsVersion
	paths := map[string]string{}
	for _, r := range references {
		out := filepath.Join(dir, r.Name+".vprint")
		paths[r.Name] = out
		src := filepath.Join(g.data, r.File)
		st, err := os.Stat(src)
		if err != nil {
			return nil, fmt.Errorf("%w (run scripts/deps.sh eval)", err)
		}
		if p, err := vprint.ReadFile(out); err == nil && p.Source.Size == st.Size() {
			continue
		}
		g.log("embedding reference %s", r.File)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create %s: %w", dir, err)
		}
		if err := run(g.bin, "embed", "--quiet", "-y", src, "-o", out); err != nil {
			return nil, err
		}
	}
	return paths, nil
}

// ensureClipPrints embeds the clips whose print is missing or older than the
// clip, beside them (NAME.vprint), a batch per vidprint run.
func (g *generator) ensureClipPrints(seed int64, clips []clip) error {
	stamp := filepath.Join(g.clipsDir(seed), ".prints-version")
	current := false
	if b, err := os.ReadFile(stamp); err == nil && string(b) == clipPrintsVersion {
		current = true
	}
	var todo []string
	for _, c := range clips {
		video := g.clipPath(seed, c.Name)
		if !current || !newer(printPath(video), video) {
			todo = append(todo, video)
		}
	}
	const batch = 32
	for i := 0; i < len(todo); i += batch {
		part := todo[i:min(i+batch, len(todo))]
		g.log("embedding clips %d-%d of %d", i+1, i+len(part), len(todo))
		out := g.clipsDir(seed) // several videos: -o names the directory
		if len(part) == 1 {
			out = printPath(part[0])
		}
		// The baseline reads whole frames only.
		if err := run(g.bin, append(append([]string{"embed", "--quiet", "-y", "--regions=false"}, part...), "-o", out)...); err != nil {
			return err
		}
	}
	return os.WriteFile(stamp, []byte(clipPrintsVersion), 0o644)
}

// clipPrintsVersion stamps the clips' prints: bump it when the way
// `vidprint embed` makes a whole-frame row changes (2: frames decoded at
// twice the model's size and averaged over 2x2 blocks).
const clipPrintsVersion = "2"

func printPath(video string) string {
	return strings.TrimSuffix(video, filepath.Ext(video)) + ".vprint"
}

// newer reports whether a exists and is no older than b.
func newer(a, b string) bool {
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && !sa.ModTime().Before(sb.ModTime())
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// writeJSON writes v atomically: a temporary file renamed into place.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	tmp := path + ".part"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	return nil
}

// run runs a command and, when it fails, returns the tail of its stderr.
func run(name string, args ...string) error {
	_, err := output(name, args...)
	return err
}

// output runs a command and returns its stdout; when it fails, the error
// holds the tail of its stderr.
func output(name string, args ...string) ([]byte, error) {
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s: %w: %s", filepath.Base(name), err, tail(stderr.String(), 800))
	}
	return out, nil
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = "..." + s[len(s)-n:]
	}
	return s
}
