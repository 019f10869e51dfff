package main

import (
	"fmt"
	"math"
	"time"

	"github.com/vidprint/vidprint/internal/vprint"
)

// series is a print's rows scaled to unit length, with their times.
type series struct {
	times []float64
	rows  [][]float32
	print *vprint.Print // for the model check
}

func readSeries(path string) (series, error) {
	p, err := vprint.ReadFile(path)
	if err != nil {
		return series{}, err
	}
	s := series{times: p.Timestamps, print: p}
	for i := range p.Frames() {
		row := p.Row(i)
		var n float64
		for _, x := range row {
			n += float64(x) * float64(x)
		}
		u := make([]float32, len(row))
		if n > 0 { // an all-zero row stays zero: cosine 0 with anything
			inv := float32(1 / math.Sqrt(n))
			for k, x := range row {
				u[k] = x * inv
			}
		}
		s.rows = append(s.rows, u)
	}
	return s, nil
}

// plainMethod is the first baseline: the clip's print slid over each
// reference's print, every offset scored by the mean raw cosine of the rows
// it pairs, the best offset kept.
func plainMethod(bin string, refPrints map[string]string) method {
	m := method{Name: "plain cosine", Key: "plain", calibrated: true, applies: always[clip], searches: always[string]}
	if refPrints == nil {
		m.unavailable = fmt.Sprintf("no prints (%s not found)", bin)
		return m
	}
	refs := map[string]series{} // read once, on first use
	m.locate = func(c clip, video string) answer {
		t0 := time.Now()
		cl, err := readSeries(printPath(video))
		if err != nil {
			return answer{Err: err.Error()}
		}
		a := answer{Hits: map[string]hit{}}
		for _, r := range references {
			ref, ok := refs[r.Name]
			if !ok {
				if ref, err = readSeries(refPrints[r.Name]); err != nil {
					return answer{Err: err.Error()}
				}
				refs[r.Name] = ref
			}
			if err := vprint.Compatible(cl.print, ref.print); err != nil {
				return answer{Err: fmt.Sprintf("%v (delete the cached prints to embed them again)", err)}
			}
			if score, start, ok := slide(cl, ref); ok {
				a.Hits[r.Name] = hit{Score: score, Start: start, Speed: 1}
			}
		}
		a.Seconds = time.Since(t0).Seconds()
		return a
	}
	return m
}

// slide returns the best offset of clip in video by mean cosine: every
// offset that keeps the clip inside the video, or, when the clip is longer,
// every offset that keeps the video inside the clip. start is the video time
// of the clip's first row at the best offset.
func slide(clip, video series) (score, start float64, ok bool) {
	nc, nv := len(clip.rows), len(video.rows)
	if nc == 0 || nv == 0 {
		return 0, 0, false
	}
	// All pairwise cosines once; each offset is then a diagonal sum.
	sim := make([][]float64, nc)
	for i, a := range clip.rows {
		sim[i] = make([]float64, nv)
		for j, b := range video.rows {
			sim[i][j] = dot(a, b)
		}
	}
	n := min(nc, nv)
	best, bestOff := math.Inf(-1), 0
	for off := min(0, nv-nc); off <= max(0, nv-nc); off++ {
		// Clip row i pairs with video row i+off.
		var sum float64
		for i := max(0, -off); i < max(0, -off)+n; i++ {
			sum += sim[i][i+off]
		}
		if mean := sum / float64(n); mean > best {
			best, bestOff = mean, off
		}
	}
	return best, video.times[max(bestOff, 0)] - clip.times[max(-bestOff, 0)], true
}

func dot(a, b []float32) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return float64(s0 + s1 + s2 + s3)
}
