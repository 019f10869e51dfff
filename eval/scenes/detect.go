package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// method is one scene detector under test.
type method struct {
	Name string
	// unavailable says why the method cannot run at all; empty if it can.
	unavailable string
	detect      func(video string) ([]detection, error)
}

// vidprintMethod runs `vidprint scenes --json`. While the command does not
// exist yet, the method reports itself unavailable instead of failing.
func vidprintMethod(bin string) method {
	m := method{Name: "vidprint scenes"}
	if _, err := exec.LookPath(bin); err != nil {
		m.unavailable = fmt.Sprintf("%s not found", bin)
		return m
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "scenes", "--help")
	cmd.Stderr = &stderr
	if out, err := cmd.Output(); err != nil || !strings.Contains(string(out)+stderr.String(), "--json") {
		m.unavailable = "vidprint scenes not available"
		return m
	}
	m.detect = func(video string) ([]detection, error) {
		var stderr bytes.Buffer
		cmd := exec.Command(bin, "--quiet", "scenes", "--json", filepath.Base(video))
		// vidprint keeps each video's print in its working directory: keep
		// them beside the videos, where later runs reuse them.
		cmd.Dir = filepath.Dir(video)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("%s scenes %s: %w: %s", bin, video, err, tail(stderr.String(), 400))
		}
		return parseVidprint(out)
	}
	return m
}

// vidprintJSON is the part of `vidprint scenes --json` the eval reads.
type vidprintJSON struct {
	Scenes []struct {
		Start float64 `json:"start_s"`
		End   float64 `json:"end_s"`
	} `json:"scenes"`
	Cuts *[]detection `json:"cuts"`
}

func parseVidprint(b []byte) ([]detection, error) {
	var j vidprintJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("parse vidprint scenes output: %w", err)
	}
	// A missing "cuts" is a schema change, not "no cuts": fail loudly.
	if j.Cuts == nil {
		return nil, errors.New(`parse vidprint scenes output: no "cuts" array`)
	}
	return *j.Cuts, nil
}

// ffmpegMethod is the baseline: ffmpeg's scene score above a threshold,
// each selected frame being one cut.
func ffmpegMethod(threshold float64) method {
	th := strconv.FormatFloat(threshold, 'f', -1, 64)
	m := method{Name: "ffmpeg scene>" + th}
	m.detect = func(video string) ([]detection, error) {
		cmd := exec.Command("ffmpeg", "-hide_banner", "-nostdin", "-nostats", "-i", video,
			"-vf", "select='gt(scene,"+th+")',showinfo", "-an", "-f", "null", "-")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("ffmpeg scene filter on %s: %w: %s", video, err, tail(stderr.String(), 400))
		}
		return parseShowinfo(stderr.Bytes())
	}
	return m
}

var ptsTime = regexp.MustCompile(`pts_time:\s*([-0-9.eE+]+)`)

// parseShowinfo reads the pts_time of each frame showinfo printed.
func parseShowinfo(b []byte) ([]detection, error) {
	var dets []detection
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, "Parsed_showinfo") {
			continue
		}
		mm := ptsTime.FindStringSubmatch(line)
		if mm == nil {
			continue // the stream summary lines carry no pts_time
		}
		t, err := strconv.ParseFloat(mm[1], 64)
		if err != nil {
			return nil, fmt.Errorf("showinfo pts_time %q: %w", mm[1], err)
		}
		dets = append(dets, detection{Time: t})
	}
	return dets, sc.Err()
}
