package search

import (
	"github.com/vidprint/vidprint/internal/match"
	"github.com/vidprint/vidprint/internal/vecmath"
)

// IndexDim is the length of an index vector. A count sketch to 128
// dimensions keeps cosines between windows to within a few hundredths,
// enough to propose candidates that the exact stage then checks, at an
// eighth of the memory and time of full rows.
const IndexDim = 128

// Sketch is the count sketch (vecmath.CountSketch) from decoded rows to
// index vectors.
type Sketch = vecmath.CountSketch

// NewSketch makes the sketch for in-dimensional rows. It depends only on
// in, so every process and every backend projects alike.
func NewSketch(in int) *Sketch {
	// splitmix64: a fixed, well-mixed sequence without a random source.
	x := uint64(0x9e3779b97f4a7c15)
	return vecmath.NewCountSketch(in, IndexDim, func() uint64 {
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		return z ^ z>>31
	})
}

// WindowVectors pools rows (n rows of dim) into windows of match.Window
// rows, centres each window's mean by mean, sketches it and scales it to
// unit length: one index vector per window, row-major. The last window may
// be shorter.
func WindowVectors(s *Sketch, rows []float32, dim int, mean []float32) []float32 {
	n := len(rows) / dim
	windows := (n + match.Window - 1) / match.Window
	pooled := make([]float32, windows*dim)
	for w := range windows {
		acc := pooled[w*dim : (w+1)*dim]
		lo, hi := w*match.Window, min(n, (w+1)*match.Window)
		for i := lo; i < hi; i++ {
			for d, v := range rows[i*dim : (i+1)*dim] {
				acc[d] += v
			}
		}
		inv := 1 / float32(hi-lo)
		for d := range acc {
			acc[d] *= inv
		}
	}
	return indexVectors(s, pooled, dim, mean)
}

// indexVectors centres each pooled window (rows of dim) by mean, sketches
// it and scales it to unit length.
func indexVectors(s *Sketch, pooled []float32, dim int, mean []float32) []float32 {
	windows := len(pooled) / dim
	out := make([]float32, windows*IndexDim)
	centre := make([]float32, IndexDim)
	s.Add(centre, mean)
	for w := range windows {
		v := out[w*IndexDim : (w+1)*IndexDim]
		s.Add(v, pooled[w*dim:(w+1)*dim])
		var ss float64
		for d := range v {
			v[d] -= centre[d]
			ss += float64(v[d]) * float64(v[d])
		}
		vecmath.Unit(v, ss)
	}
	return out
}
