package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"os/exec"
	"path/filepath"
	"time"
)

// itemSeconds is the time between Chromaprint's raw items: it hops 4096-2731
// = 1365 samples at 11025 Hz (a 150 s file gives 1190 items, 19 fewer than
// its frames for the filter span).
const itemSeconds = 1365.0 / 11025

// fingerprint is a raw Chromaprint fingerprint: one 32-bit item per hop.
type fingerprint []uint32

// fpcalc fingerprints the whole of a file's audio (-length 0: no 120 s cap).
// fpcalc exits non-zero over a harmless "Error decoding audio frame (End of
// file)" at the end of some files, so its output is what counts.
func fpcalc(path string) (fingerprint, error) {
	var stderr bytes.Buffer
	cmd := exec.Command("fpcalc", "-raw", "-json", "-length", "0", path)
	cmd.Stderr = &stderr
	out, runErr := cmd.Output()
	var j struct {
		Fingerprint fingerprint `json:"fingerprint"`
	}
	if err := json.Unmarshal(out, &j); err != nil || len(j.Fingerprint) == 0 {
		return nil, fmt.Errorf("fpcalc %s: %v: %s", filepath.Base(path), runErr, tail(stderr.String(), 300))
	}
	return j.Fingerprint, nil
}

// chromaprintMethod is the second baseline: the clip's audio fingerprint
// slid over each reference's, scored by 1 - bit error rate. It judges only
// clips with sound, in references with sound.
func chromaprintMethod(data string, info map[string]media) method {
	hasAudio := func(ref string) bool { return info[refFile(ref)].Audio }
	m := method{Name: "chromaprint", Key: "chromaprint", calibrated: true,
		applies: func(c clip) bool { return c.Audio }, searches: hasAudio}
	if _, err := exec.LookPath("fpcalc"); err != nil {
		m.unavailable = "fpcalc not found (apt-get install libchromaprint-tools)"
		return m
	}
	refs := map[string]fingerprint{} // made once, on first use
	m.locate = func(c clip, video string) answer {
		t0 := time.Now()
		fp, err := fpcalc(video)
		if err != nil {
			return answer{Err: err.Error()}
		}
		a := answer{Hits: map[string]hit{}}
		for _, r := range references {
			if !hasAudio(r.Name) {
				continue
			}
			ref, ok := refs[r.Name]
			if !ok {
				if ref, err = fpcalc(filepath.Join(data, r.File)); err != nil {
					return answer{Err: err.Error()}
				}
				refs[r.Name] = ref
			}
			if score, off := slideBits(fp, ref); !math.IsInf(score, 0) {
				a.Hits[r.Name] = hit{Score: score, Start: float64(off) * itemSeconds, Speed: 1}
			}
		}
		a.Seconds = time.Since(t0).Seconds()
		return a
	}
	return m
}

// slideBits returns the best offset (in items) of clip in ref and its score,
// 1 - the bit error rate over the overlap. Offsets are those of slide: the
// clip inside the reference, or the reference inside a longer clip
// (negative offsets).
func slideBits(clip, ref fingerprint) (score float64, offset int) {
	nc, nr := len(clip), len(ref)
	n := min(nc, nr)
	if n == 0 {
		return math.Inf(-1), 0
	}
	best, bestOff := math.Inf(-1), 0
	for off := min(0, nr-nc); off <= max(0, nr-nc); off++ {
		errs := 0
		for i := max(0, -off); i < max(0, -off)+n; i++ {
			errs += bits.OnesCount32(clip[i] ^ ref[i+off])
		}
		if s := 1 - float64(errs)/float64(32*n); s > best {
			best, bestOff = s, off
		}
	}
	return best, bestOff
}
