package main

import (
	"math"
	"strings"
	"testing"
)

func TestCalibrate(t *testing.T) {
	// 100 negatives 0.00 .. 0.99: one may pass, so the threshold is the
	// second highest and only 0.99 is above it.
	var neg []float64
	for i := range 100 {
		neg = append(neg, float64(i)/100)
	}
	if got := calibrate(neg, 0.99); got != 0.98 {
		t.Errorf("100 negatives: threshold %v, want 0.98", got)
	}
	// Under 100 negatives none may pass: the threshold is the highest.
	if got := calibrate(neg[:50], 0.99); got != 0.49 {
		t.Errorf("50 negatives: threshold %v, want 0.49", got)
	}
	// Ties at the threshold are all rejected ("found" is strictly above).
	tied := append([]float64{0.9, 0.9, 0.9}, neg...)
	th := calibrate(tied, 0.99)
	above := 0
	for _, s := range tied {
		if s > th {
			above++
		}
	}
	if above > 1 {
		t.Errorf("tied: %d of %d negatives above %v, want at most 1", above, len(tied), th)
	}
	if !math.IsNaN(calibrate(nil, 0.99)) {
		t.Error("no negatives should give no threshold")
	}
}

func TestStartOK(t *testing.T) {
	for _, tt := range []struct {
		got, truth float64
		want       bool
	}{
		{10.5, 10, true}, {9.5, 10, true}, {10.51, 10, false}, {9.49, 10, false}, {10, 10, true},
	} {
		if startOK(tt.got, tt.truth, tol) != tt.want {
			t.Errorf("startOK(%v, %v) = %v", tt.got, tt.truth, !tt.want)
		}
	}
}

// fakeMethods: a self-deciding method, a calibrated one, and one that
// judges only clips with sound in references with sound.
func fakeMethods() []method {
	return []method{
		{Name: "v", Key: "v", applies: always[clip], searches: always[string]},
		{Name: "p", Key: "p", calibrated: true, applies: always[clip], searches: always[string]},
		{Name: "c", Key: "c", calibrated: true, applies: func(c clip) bool { return c.Audio },
			searches: func(ref string) bool { return ref == "minions" || ref == "motion" || ref == "megamind" }},
	}
}

// baseHits scores every reference low, as a baseline does.
func baseHits(score float64) map[string]hit {
	h := map[string]hit{}
	for _, r := range references {
		h[r.Name] = hit{Score: score, Start: 3}
	}
	return h
}

func with(h map[string]hit, ref string, x hit) map[string]hit {
	h[ref] = x
	return h
}

func TestResults(t *testing.T) {
	r := newResults(fakeMethods())
	// 1: found everywhere right; v also reports a false positive in cap13.
	r.add(clip{Name: "a", Ref: "cap12", Transform: "none", Start: 10}, []answer{
		{Hits: map[string]hit{"cap12": {Score: 0.9, Start: 10.3}, "cap13": {Score: 0.5, Start: 1}}},
		{Hits: with(baseHits(0.2), "cap12", hit{Score: 0.9, Start: 10.25})},
		{},
	})
	// 2: pip on franck: v finds it in its host too, which is not charged;
	// p's best in the source is 0.6 s off.
	r.add(clip{Name: "b", Ref: "minions", Transform: "pip", Start: 20, Host: "franck", Audio: true}, []answer{
		{Hits: map[string]hit{"minions": {Score: 0.8, Start: 20.5}, "franck": {Score: 0.7, Start: 4}}},
		{Hits: with(with(baseHits(0.3), "minions", hit{Score: 0.9, Start: 20.6}), "franck", hit{Score: 0.99})},
		{Hits: map[string]hit{"minions": {Score: 0.95, Start: 20}, "motion": {Score: 0.5}, "megamind": {Score: 0.55}}},
	})
	// 3: v failed: its positive is missed, its negatives are left out.
	r.add(clip{Name: "c", Ref: "vtest", Transform: "none", Start: 5}, []answer{
		{Err: "exit 10"},
		{Hits: with(baseHits(0.4), "vtest", hit{Score: 0.85, Start: 5.1})},
		{},
	})
	r.calibrateAll()

	// p's negatives: 8 + 7 (host left out) + 8 scores; the highest, 0.4,
	// is the threshold (fewer than 100).
	if got := r.thresholds[1]; got != 0.4 {
		t.Errorf("p threshold %v, want 0.4", got)
	}
	if got := r.thresholds[2]; got != 0.55 {
		t.Errorf("c threshold %v, want 0.55", got)
	}
	if !math.IsInf(r.thresholds[0], -1) {
		t.Errorf("v must not be calibrated, threshold %v", r.thresholds[0])
	}

	check := func(what string, got, want tally) {
		t.Helper()
		if got != want {
			t.Errorf("%s: %+v, want %+v", what, got, want)
		}
	}
	check("v positives", r.positives(0, all, tol), tally{N: 3, OK: 2})
	check("p positives", r.positives(1, all, tol), tally{N: 3, OK: 2})
	check("p positives of none", r.positives(1, ofTransform("none"), tol), tally{N: 2, OK: 2})
	check("p within 0.2 s", r.positives(1, ofTransform("none"), fineTol), tally{N: 2, OK: 1})
	check("c positives", r.positives(2, all, tol), tally{N: 1, OK: 1})
	check("v negatives", r.rejected(0, false), tally{N: 15, OK: 14})
	check("v hard negatives", r.rejected(0, true), tally{N: 1, OK: 0})
	check("p negatives", r.rejected(1, false), tally{N: 23, OK: 23})
	check("c negatives", r.rejected(2, false), tally{N: 2, OK: 2})
	check("c hard negatives", r.rejected(2, true), tally{})

	report := r.markdown(runInfo{seed: 7, perPair: 1})
	for _, want := range []string{"Seed 7", "| v | 66.7% (2/3) | 93.3% (14/15) | 0.0% (0/1) | its own |",
		"| p | 66.7% (2/3) | 100.0% (23/23) |", "| 0.400 |", "a in cap13 at 1.0 s", "v failed on 1 clips", "- c: exit 10"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
}

func TestParseLocate(t *testing.T) {
	byArg := map[string]string{"/r/minions.vprint": "minions", "/r/franck.vprint": "franck"}
	out := `{"found":true,"matches":[
		{"video":"/r/minions.vprint","video_start_s":30,"video_end_s":40,"clip_start_s":2,"clip_end_s":10,"score":0.7,"speed":1.25,"view":"full"},
		{"video":"/r/minions.vprint","video_start_s":12.4,"video_end_s":27.2,"clip_start_s":0,"clip_end_s":14.8,"score":0.83,"speed":1.0,"view":"full"},
		{"video":"/r/franck.vprint","video_start_s":5,"clip_start_s":4,"score":0.5}]}`
	hits, note, err := parseLocate([]byte(out), 0, byArg)
	if err != nil || note != "" {
		t.Fatalf("err %v, note %q", err, note)
	}
	// The best-scoring match in minions wins; franck's has no speed: 1.
	if h := hits["minions"]; h.Start != 12.4 || h.Score != 0.83 {
		t.Errorf("minions: %+v, want the 0.83 match at 12.4", h)
	}
	if h := hits["franck"]; h.Start != 1 || h.Speed != 1 {
		t.Errorf("franck: %+v, want start 5-4*1 = 1", h)
	}
	// Implied start with a speed: 30 - 2*1.25.
	hits, _, _ = parseLocate([]byte(`{"found":true,"matches":[{"video":"/r/minions.vprint","video_start_s":30,"clip_start_s":2,"score":0.7,"speed":1.25}]}`), 0, byArg)
	if h := hits["minions"]; h.Start != 27.5 {
		t.Errorf("with speed 1.25: start %v, want 27.5", h.Start)
	}
	if hits, note, err := parseLocate([]byte(`{"found":false,"matches":[]}`), 1, byArg); err != nil || note != "" || len(hits) != 0 {
		t.Errorf("not found: hits %v, note %q, err %v", hits, note, err)
	}
	if _, note, _ := parseLocate([]byte(`{"found":false,"matches":[]}`), 0, byArg); note == "" {
		t.Error("exit 0 with nothing found should be noted")
	}
	for _, bad := range []string{
		`{"matches":[]}`,
		`{"found":true}`,
		`{"found":true,"matches":[{"video":"/r/minions.vprint","clip_start_s":0,"score":1}]}`,
		`{"found":true,"matches":[{"video":"other.vprint","video_start_s":1,"clip_start_s":0,"score":1}]}`,
		`not json`,
	} {
		if _, _, err := parseLocate([]byte(bad), 0, byArg); err == nil {
			t.Errorf("%s: want an error", bad)
		}
	}
}
