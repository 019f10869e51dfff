package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// timeFlag is a flag of video time: seconds ("90", "90.5") or a timecode
// ("1:30", "00:01:30.500"), as ffmpeg and PySceneDetect take them.
type timeFlag float64

func (t *timeFlag) String() string {
	if *t == 0 {
		return ""
	}
	return timecode(float64(*t))
}

func (t *timeFlag) Type() string { return "TIME" }

func (t *timeFlag) Set(s string) error {
	v, err := parseTime(s)
	if err != nil {
		return err
	}
	*t = timeFlag(v)
	return nil
}

// parseTime reads seconds or [[HH:]MM:]SS[.mmm].
func parseTime(s string) (float64, error) {
	parts := strings.Split(strings.TrimSpace(s), ":")
	if len(parts) > 3 || s == "" {
		return 0, fmt.Errorf("%q is not a time (seconds, or HH:MM:SS.mmm)", s)
	}
	var total float64
	for i, p := range parts {
		v, err := strconv.ParseFloat(p, 64)
		last := i == len(parts)-1
		if err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) || !last && (v != math.Trunc(v) || strings.Contains(p, ".")) ||
			i > 0 && v >= 60 {
			return 0, fmt.Errorf("%q is not a time (seconds, or HH:MM:SS.mmm)", s)
		}
		total = total*60 + v
	}
	return total, nil
}
