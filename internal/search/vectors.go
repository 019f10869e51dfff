package search

import (
	"math"

	"github.com/vidprint/vidprint/internal/match"
)

// IndexDim is the length of an index vector. A count sketch to 128
// dimensions keeps cosines between windows to within a few hundredths,
// enough to propose candidates that the exact stage then checks, at an
// eighth of the memory and time of full rows.
const IndexDim = 128

// Sketch is a count sketch: each input dimension adds, with a sign, into
// one output dimension. It is linear, so it commutes with pooling and
// centring, and costs one add per input value.
type Sketch struct {
	in     int
	bucket []int32
	sign   []float32
}

// NewSketch makes the sketch for in-dimensional rows. It depends only on
// in, so every process and every backend projects alike.
func NewSketch(in int) *Sketch {
	s := &Sketch{in: in, bucket: make([]int32, in), sign: make([]float32, in)}
	// splitmix64: a fixed, well-mixed sequence without a random source.
	x := uint64(0x9e3779b97f4a7c15)
	for d := range in {
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		z ^= z >> 31
		s.bucket[d] = int32(z % IndexDim)
		s.sign[d] = 1
		if z>>63 == 1 {
			s.sign[d] = -1
		}
	}
	return s
}

// apply adds the sketch of src into dst (IndexDim values).
func (s *Sketch) apply(dst, src []float32) {
	for d, v := range src[:s.in] {
		dst[s.bucket[d]] += s.sign[d] * v
	}
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
	s.apply(centre, mean)
	for w := range windows {
		v := out[w*IndexDim : (w+1)*IndexDim]
		s.apply(v, pooled[w*dim:(w+1)*dim])
		var ss float64
		for d := range v {
			v[d] -= centre[d]
			ss += float64(v[d]) * float64(v[d])
		}
		unit(v, ss)
	}
	return out
}

func unit(v []float32, ss float64) {
	if ss < 1e-12 {
		clear(v)
		return
	}
	inv := float32(1 / math.Sqrt(ss))
	for d := range v {
		v[d] *= inv
	}
}

func dot(a, b []float32) float32 {
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
	return s0 + s1 + s2 + s3
}
