package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// hit is a method's best answer for a clip in one reference.
type hit struct {
	Score float64 `json:"score"`
	Start float64 `json:"start_s"` // where the clip starts in the reference
	Speed float64 `json:"speed,omitempty"`
}

// answer is one method's result for one clip.
type answer struct {
	// Hits holds the best hit per reference name. For vidprint locate a
	// reference is present only when locate reported a match in it; the
	// baselines score every reference they searched, and a threshold decides.
	Hits    map[string]hit  `json:"hits,omitempty"`
	Err     string          `json:"error,omitempty"` // the call failed: positives missed, negatives not counted
	Note    string          `json:"note,omitempty"`  // a contract slip that did not stop scoring
	Seconds float64         `json:"seconds"`
	Exit    *int            `json:"exit,omitempty"`   // vidprint's exit code
	Raw     json.RawMessage `json:"output,omitempty"` // vidprint's stdout, for -keep
}

// method is one way to locate clips.
type method struct {
	Name string
	Key  string // in cases.jsonl
	// unavailable says why the method cannot run at all; empty if it can.
	unavailable string
	// calibrated: a hit counts as found only above a threshold chosen on
	// the negatives (the baselines); vidprint locate decides itself.
	calibrated bool
	applies    func(c clip) bool     // whether the method can judge the clip
	searches   func(ref string) bool // whether the method searches the reference
	locate     func(c clip, video string) answer
}

func always[T any](T) bool { return true }

// locateJSON is the part of `vidprint locate --json` the eval reads.
type locateJSON struct {
	Found   *bool          `json:"found"`
	Matches *[]locateMatch `json:"matches"`
}

type locateMatch struct {
	Video      string   `json:"video"`
	VideoStart *float64 `json:"video_start_s"`
	ClipStart  *float64 `json:"clip_start_s"`
	Score      *float64 `json:"score"`
	Speed      *float64 `json:"speed"`
}

// vidprintMethod runs `vidprint locate --json --quiet [flags] CLIP REF...`
// with every reference print. While the command does not exist, the method
// reports itself unavailable instead of failing. The clip is given as its
// video, as a user would: locate then embeds it with every query view
// (mirrored, windows for picture-in-picture), which it cannot do from a
// print. With clipPrint it gets the eval's print of the clip: faster, whole
// frame only.
func vidprintMethod(bin string, refPrints map[string]string, flags []string, clipPrint bool) method {
	m := method{Name: "vidprint locate", Key: "vidprint", applies: always[clip], searches: always[string]}
	if _, err := exec.LookPath(bin); err != nil {
		m.unavailable = fmt.Sprintf("%s not found", bin)
		return m
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "locate", "--help")
	cmd.Stderr = &stderr
	if out, err := cmd.Output(); err != nil || !strings.Contains(string(out)+stderr.String(), "--json") {
		m.unavailable = "vidprint locate not available"
		return m
	}
	// References in a fixed order; locate names a match's video by its
	// argument, which maps back to the reference.
	var refArgs []string
	byArg := map[string]string{}
	for _, r := range references {
		refArgs = append(refArgs, refPrints[r.Name])
		byArg[refPrints[r.Name]] = r.Name
	}
	m.locate = func(c clip, video string) answer {
		clipArg := video
		if clipPrint {
			clipArg = printPath(video)
		}
		args := append(append([]string{"locate", "--json", "--quiet"}, flags...), clipArg)
		args = append(args, refArgs...)
		cmd := exec.Command(bin, args...)
		// A video given to locate may leave its print in the working
		// directory: a fresh one per call, so that no call reuses another's.
		dir, err := os.MkdirTemp("", "eval-locate-")
		if err != nil {
			return answer{Err: err.Error()}
		}
		defer os.RemoveAll(dir)
		cmd.Dir = dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		t0 := time.Now()
		out, err := cmd.Output()
		a := answer{Seconds: time.Since(t0).Seconds()}
		code := 0
		var exit *exec.ExitError
		switch {
		case errors.As(err, &exit):
			code = exit.ExitCode()
		case err != nil:
			a.Err = err.Error()
			return a
		}
		a.Exit = &code
		if code != 0 && code != 1 {
			a.Err = fmt.Sprintf("exit %d: %s", code, tail(stderr.String(), 400))
			return a
		}
		if json.Valid(out) {
			a.Raw = json.RawMessage(bytes.TrimSpace(out))
		}
		a.Hits, a.Note, err = parseLocate(out, code, byArg)
		if err != nil {
			a.Err = err.Error()
		}
		return a
	}
	return m
}

// parseLocate reads locate's JSON: the best-scoring match per reference and
// its implied start, video_start_s - clip_start_s*speed. A missing field is
// a schema change and an error, not "no match"; an exit code that disagrees
// with "found" is a note.
func parseLocate(out []byte, exit int, byArg map[string]string) (map[string]hit, string, error) {
	var j locateJSON
	if err := json.Unmarshal(out, &j); err != nil {
		return nil, "", fmt.Errorf("parse locate output: %w", err)
	}
	if j.Found == nil || j.Matches == nil {
		return nil, "", errors.New(`parse locate output: no "found" or no "matches"`)
	}
	hits := map[string]hit{}
	for i, mt := range *j.Matches {
		if mt.VideoStart == nil || mt.ClipStart == nil || mt.Score == nil {
			return nil, "", fmt.Errorf("parse locate output: match %d lacks video_start_s, clip_start_s or score", i)
		}
		ref, ok := byArg[mt.Video]
		if !ok {
			return nil, "", fmt.Errorf("parse locate output: match %d names %q, not one of the videos given", i, mt.Video)
		}
		speed := 1.0
		if mt.Speed != nil && *mt.Speed > 0 {
			speed = *mt.Speed
		}
		h := hit{Score: *mt.Score, Start: *mt.VideoStart - *mt.ClipStart*speed, Speed: speed}
		if old, ok := hits[ref]; !ok || h.Score > old.Score {
			hits[ref] = h
		}
	}
	var note string
	if found := len(*j.Matches) > 0; *j.Found != found || (exit == 0) != found {
		note = fmt.Sprintf("exit %d, found %v, %d matches", exit, *j.Found, len(*j.Matches))
	}
	return hits, note, nil
}
