// Package vecmath holds the vector arithmetic the matcher, the search
// index and the scene detector share: the dot product, scaling to unit
// length, and a count sketch.
package vecmath

import "math"

// Dot is the inner product of a and b[:len(a)], unrolled so that
// independent sums keep the CPU's pipelines busy.
func Dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		s0 += a[i]*b[i] + a[i+4]*b[i+4]
		s1 += a[i+1]*b[i+1] + a[i+5]*b[i+5]
		s2 += a[i+2]*b[i+2] + a[i+6]*b[i+6]
		s3 += a[i+3]*b[i+3] + a[i+7]*b[i+7]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return s0 + s1 + s2 + s3
}

// Unit scales v, whose sum of squares is ss, to unit length; a vector of
// (nearly) zero length becomes zero, which matches nothing.
func Unit(v []float32, ss float64) {
	if ss < 1e-12 {
		clear(v)
		return
	}
	inv := float32(1 / math.Sqrt(ss))
	for d := range v {
		v[d] *= inv
	}
}

// CountSketch maps vectors to Out dimensions: each input dimension adds,
// with a sign, into one output dimension. It is linear, so it commutes
// with pooling and centring, keeps dot products in expectation, and costs
// one add per input value.
type CountSketch struct {
	Out    int
	bucket []int32
	sign   []float32
}

// NewCountSketch sketches in dimensions to out, each input dimension's
// bucket and sign drawn from one value of next: the bucket is the value
// modulo out, the sign its top bit. A fixed next gives the same sketch in
// every process.
func NewCountSketch(in, out int, next func() uint64) *CountSketch {
	s := &CountSketch{Out: out, bucket: make([]int32, in), sign: make([]float32, in)}
	for i := range in {
		v := next()
		s.bucket[i] = int32(v % uint64(out))
		s.sign[i] = 1
		if v>>63 == 1 {
			s.sign[i] = -1
		}
	}
	return s
}

// IdentitySketch passes in dimensions through unchanged (Out is in): for
// vectors no longer than a sketch would make them.
func IdentitySketch(in int) *CountSketch {
	s := &CountSketch{Out: in, bucket: make([]int32, in), sign: make([]float32, in)}
	for i := range in {
		s.bucket[i], s.sign[i] = int32(i), 1
	}
	return s
}

// In is the input dimension.
func (s *CountSketch) In() int { return len(s.bucket) }

// Add adds the sketch of src (In values) into dst (Out values).
func (s *CountSketch) Add(dst, src []float32) {
	for i, v := range src[:len(s.bucket)] {
		dst[s.bucket[i]] += s.sign[i] * v
	}
}
