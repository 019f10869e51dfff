package vecmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestDot(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 7, 8, 9, 128, 1027} {
		a, b := make([]float32, n), make([]float32, n+3)
		var want float64
		for i := range a {
			a[i], b[i] = rng.Float32()-0.5, rng.Float32()-0.5
			want += float64(a[i]) * float64(b[i])
		}
		if got := Dot(a, b); math.Abs(float64(got)-want) > 1e-4 {
			t.Errorf("n=%d: Dot %g, want %g", n, got, want)
		}
	}
}

func TestUnit(t *testing.T) {
	v := []float32{3, 4}
	Unit(v, 25)
	if v[0] != 0.6 || v[1] != 0.8 {
		t.Errorf("Unit(3, 4) = %v", v)
	}
	z := []float32{1e-7, 0}
	Unit(z, 1e-14)
	if z[0] != 0 || z[1] != 0 {
		t.Errorf("a vector of no length became %v", z)
	}
}

// TestCountSketch: the sketch is linear, keeps dot products about, and
// the identity keeps vectors as they are.
func TestCountSketch(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	state := uint64(1)
	s := NewCountSketch(1024, 128, func() uint64 { state = state*6364136223846793005 + 1442695040888963407; return state })
	if s.In() != 1024 || s.Out != 128 {
		t.Fatalf("sketch of %d to %d", s.In(), s.Out)
	}
	a, b := make([]float32, 1024), make([]float32, 1024)
	for i := range a {
		a[i] = float32(rng.NormFloat64())
		b[i] = a[i] + 0.5*float32(rng.NormFloat64())
	}
	sa, sb, sab := make([]float32, 128), make([]float32, 128), make([]float32, 128)
	s.Add(sa, a)
	s.Add(sb, b)
	s.Add(sab, a)
	s.Add(sab, b)
	for d := range sab {
		if math.Abs(float64(sab[d]-sa[d]-sb[d])) > 1e-4 {
			t.Fatalf("not linear at %d", d)
		}
	}
	cos := func(x, y []float32) float64 {
		return float64(Dot(x, y)) / math.Sqrt(float64(Dot(x, x))*float64(Dot(y, y)))
	}
	if full, sketched := cos(a, b), cos(sa, sb); math.Abs(full-sketched) > 0.1 {
		t.Errorf("cosine %.3f, sketched %.3f", full, sketched)
	}
	id := IdentitySketch(3)
	out := make([]float32, 3)
	id.Add(out, []float32{1, 2, 3})
	if out[0] != 1 || out[1] != 2 || out[2] != 3 {
		t.Errorf("identity gave %v", out)
	}
}
