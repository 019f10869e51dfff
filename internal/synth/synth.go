// Package synth makes synthetic prints for tests and benchmarks at scales
// real footage cannot reach here: series shaped like a model's features
// (non-negative, drifting within a shot, jumping at cuts) and copies of
// their stretches, re-timed and noisy like re-encoded clips.
package synth

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/vidprint/vidprint/internal/match"
	"github.com/vidprint/vidprint/internal/view"
)

// Base is what every frame of every synthetic video shares.
func Base(rng *rand.Rand, dim int) []float64 {
	base := make([]float64, dim)
	for d := range base {
		base[d] = rng.Float64()
	}
	return base
}

// Video is n rows of dim features: a state that drifts slowly within a
// shot and is redrawn at a cut, every 5 s on average at 5 fps.
func Video(rng *rand.Rand, base []float64, n, dim int) []float32 {
	out := make([]float32, n*dim)
	state := make([]float64, dim)
	newShot := func() {
		for d := range state {
			state[d] = rng.NormFloat64()
		}
	}
	newShot()
	for i := range n {
		if rng.IntN(25) == 0 {
			newShot()
		}
		row := out[i*dim : (i+1)*dim]
		for d := range state {
			state[d] = 0.97*state[d] + 0.25*rng.NormFloat64()
			row[d] = float32(math.Max(0, base[d]+0.5*state[d]))
		}
	}
	return out
}

// Clip copies n rows of video from row start at speed (the nearest row of
// each sample), with Gaussian noise: a re-encoded, re-timed copy.
func Clip(rng *rand.Rand, video []float32, dim, start, n int, speed, noise float64) []float32 {
	rows := len(video) / dim
	out := make([]float32, n*dim)
	for i := range n {
		j := min(rows-1, start+int(math.Round(float64(i)*speed)))
		for d := range dim {
			out[i*dim+d] = float32(math.Max(0, float64(video[j*dim+d])+noise*rng.NormFloat64()))
		}
	}
	return out
}

// Views are a clip's views: the copy itself as "full" and views-1
// unrelated series standing in for the mirrored and windowed views, which
// cost the same to search.
func Views(rng *rand.Rand, base []float64, clip []float32, n, dim, views int) []match.View {
	vs := []match.View{{Name: "full", Features: clip}}
	for v := 1; v < views; v++ {
		vs = append(vs, match.View{Name: view.Name(fmt.Sprintf("window-%d", v)), Features: Video(rng, base, n, dim)})
	}
	return vs
}

// Still is whole-frame features of still footage: one frame with a little
// independent noise, so that no stretch can be told from another.
func Still(rng *rand.Rand, n, dim int) []float32 {
	base := make([]float64, dim)
	for d := range base {
		base[d] = 1 + rng.Float64()
	}
	out := make([]float32, n*dim)
	for i := range out {
		out[i] = float32(base[i%dim] + 0.02*rng.NormFloat64())
	}
	return out
}

// Quarters are region features for rows of features (n rows of dim): four
// per row, each the row with its features rotated by a quarter turn more,
// so that they differ from one another and follow the row. They cost the
// same to store and search as real quarters.
func Quarters(features []float32, dim int) []float32 {
	n := len(features) / dim
	out := make([]float32, 4*n*dim)
	for i := range n {
		row := features[i*dim : (i+1)*dim]
		for q := range 4 {
			dst := out[(4*i+q)*dim : (4*i+q+1)*dim]
			shift := q * dim / 4
			copy(dst, row[shift:])
			copy(dst[dim-shift:], row[:shift])
		}
	}
	return out
}

// Times are n sample times at fps.
func Times(n int, fps float64) []float64 {
	t := make([]float64, n)
	for i := range t {
		t[i] = float64(i) / fps
	}
	return t
}
