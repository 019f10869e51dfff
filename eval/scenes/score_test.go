package main

import (
	"math"
	"strings"
	"testing"
)

func cutAt(t float64) transition {
	return transition{Time: t, Start: t, End: t, Kind: "cut", Type: "cut", Case: caseDifferent}
}

func dissolveAt(start, end float64) transition {
	return transition{Time: (start + end) / 2, Start: start, End: end, Kind: "gradual", Type: "dissolve", Case: caseSamePerson}
}

func dets(ts ...float64) []detection {
	out := make([]detection, len(ts))
	for i, t := range ts {
		out[i] = detection{Time: t}
	}
	return out
}

func TestScore(t *testing.T) {
	tests := []struct {
		name      string
		truths    []transition
		dets      []detection
		videoCase string
		want      map[string]counts
	}{
		{
			name:   "exact and within tolerance",
			truths: []transition{cutAt(5), cutAt(10)},
			dets:   dets(5.0, 10.5),
			want:   map[string]counts{catOverall: {TP: 2}, catType("cut"): {TP: 2}},
		},
		{
			name:   "just outside tolerance is a miss and a false positive",
			truths: []transition{cutAt(5)},
			dets:   dets(5.51),
			want:   map[string]counts{catOverall: {FP: 1, FN: 1}, catType("cut"): {FP: 1, FN: 1}},
		},
		{
			name:   "a second detection of one cut is a false positive",
			truths: []transition{cutAt(5)},
			dets:   dets(4.8, 5.1),
			want:   map[string]counts{catOverall: {TP: 1, FP: 1}},
		},
		{
			name:   "gradual: anywhere in the interval widened by the tolerance",
			truths: []transition{dissolveAt(10, 12), dissolveAt(20, 22)},
			dets:   dets(9.6, 22.4),
			want:   map[string]counts{catOverall: {TP: 2}, catType("dissolve"): {TP: 2}, catCase(caseSamePerson): {TP: 2}},
		},
		{
			name:   "gradual: past the widened interval",
			truths: []transition{dissolveAt(10, 12)},
			dets:   dets(12.6),
			want:   map[string]counts{catOverall: {FP: 1, FN: 1}},
		},
		{
			name:   "closest pair wins so both cuts match",
			truths: []transition{cutAt(5), cutAt(5.8)},
			dets:   dets(5.4, 5.75),
			want:   map[string]counts{catOverall: {TP: 2}},
		},
		{
			name:      "no transitions: every detection is charged to the video's case",
			dets:      dets(3, 40),
			videoCase: caseTalkingHead,
			want:      map[string]counts{catOverall: {FP: 2}, catCase(caseTalkingHead): {FP: 2}},
		},
		{
			name:   "a false positive goes to the nearest transition's type",
			truths: []transition{cutAt(5), dissolveAt(20, 21)},
			dets:   dets(5, 18),
			want:   map[string]counts{catType("cut"): {TP: 1}, catType("dissolve"): {FP: 1, FN: 1}},
		},
		{
			name:   "nothing detected",
			truths: []transition{cutAt(5), dissolveAt(8, 9)},
			want:   map[string]counts{catOverall: {FN: 2}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := score(truth{Transitions: tt.truths}, tt.dets, 0.5, tt.videoCase)
			for cat, want := range tt.want {
				var g counts
				if got[cat] != nil {
					g = *got[cat]
				}
				if g != want {
					t.Errorf("%s: got %+v, want %+v", cat, g, want)
				}
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	c := counts{TP: 3, FP: 1, FN: 2}
	if p, r, f := c.precision(), c.recall(), c.f1(); p != 0.75 || r != 0.6 || math.Abs(f-2.0/3) > 1e-12 {
		t.Errorf("P/R/F1 = %v/%v/%v, want 0.75/0.6/0.667", p, r, f)
	}
	if !math.IsNaN(counts{}.precision()) {
		t.Error("precision with no detections should be undefined")
	}
}

func TestPlan(t *testing.T) {
	v := video{Name: "t",
		Segs:  []segment{seg("vtest", 0, 6), seg("franck", 0, 6), seg("tree", 0, 6), seg("minions", 20, 26)},
		Joins: []join{cut(caseDifferent), dissolve(1, caseDifferent), fade(2, caseDifferent)},
	}
	tr, err := v.plan()
	if err != nil {
		t.Fatal(err)
	}
	// cut at 6; the dissolve overlaps 11..12; the fade switches at 17.
	want := []struct{ time, start, end float64 }{{6, 6, 6}, {11.5, 11, 12}, {17, 16, 18}}
	if len(tr.Transitions) != len(want) {
		t.Fatalf("%d transitions, want %d", len(tr.Transitions), len(want))
	}
	for i, w := range want {
		g := tr.Transitions[i]
		if math.Abs(g.Time-w.time) > 1e-9 || math.Abs(g.Start-w.start) > 1e-9 || math.Abs(g.End-w.end) > 1e-9 {
			t.Errorf("transition %d: %v [%v, %v], want %v [%v, %v]", i, g.Time, g.Start, g.End, w.time, w.start, w.end)
		}
	}
	if tr.Duration != 23 {
		t.Errorf("duration %v, want 23", tr.Duration)
	}
	// Every video of the set must lay out.
	for _, v := range testSet {
		if _, err := v.plan(); err != nil {
			t.Error(err)
		}
	}
}

func TestParseShowinfo(t *testing.T) {
	log := `[Parsed_showinfo_1 @ 0x55] config in time_base: 1/25, frame_rate: 25/1
[Parsed_showinfo_1 @ 0x55] n:   0 pts:    150 pts_time:6       duration:1 pos: 48 fmt:yuv420p
[Parsed_showinfo_1 @ 0x55] n:   1 pts:    340 pts_time:13.6    duration:1 pos: 99 fmt:yuv420p`
	got, err := parseShowinfo([]byte(log))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Time != 6 || got[1].Time != 13.6 {
		t.Errorf("got %+v, want times 6 and 13.6", got)
	}
}

func TestParseVidprint(t *testing.T) {
	got, err := parseVidprint([]byte(`{"scenes":[{"start_s":0,"end_s":6}],"cuts":[{"time_s":6.1,"kind":"cut","strength":0.4}]}`))
	if err != nil || len(got) != 1 || got[0].Time != 6.1 || got[0].Kind != "cut" {
		t.Errorf("got %+v, %v", got, err)
	}
	if _, err := parseVidprint([]byte(`{"scenes":[]}`)); err == nil || !strings.Contains(err.Error(), "cuts") {
		t.Errorf("missing cuts: err = %v, want an error", err)
	}
}
