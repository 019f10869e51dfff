package codec

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestSymEigen(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 5, 40} {
		a := make([]float64, n*n)
		for i := range n {
			for j := 0; j <= i; j++ {
				x := r.NormFloat64()
				a[i*n+j], a[j*n+i] = x, x
			}
		}
		if n == 5 { // repeated eigenvalues: a diagonal with a zero block
			clear(a)
			for i := range n {
				a[i*n+i] = float64(i / 2)
			}
		}
		d, v := symEigen(a, n)
		for j := range n {
			if j > 0 && d[j] < d[j-1] {
				t.Fatalf("n %d: eigenvalues not ascending: %v", n, d)
			}
			for i := range n { // (A v)_i = d_j v_i
				var s float64
				for k := range n {
					s += a[i*n+k] * v[k*n+j]
				}
				if math.Abs(s-d[j]*v[i*n+j]) > 1e-9 {
					t.Fatalf("n %d: A v != d v at eigenpair %d", n, j)
				}
			}
			for k := range n { // orthonormal columns
				var s float64
				for i := range n {
					s += v[i*n+j] * v[i*n+k]
				}
				want := 0.0
				if j == k {
					want = 1
				}
				if math.Abs(s-want) > 1e-9 {
					t.Fatalf("n %d: columns %d and %d: dot %g", n, j, k, s)
				}
			}
		}
	}
}

// FitPCA finds a planted low-dimensional structure, ignores per-video
// offsets, and keeps all the variance of that structure.
func TestFitPCA(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const dim, k = 32, 3
	dirs := RandomOrthogonal(k, dim, 9)
	var videos []Series
	for v := range 4 {
		offset := make([]float32, dim)
		for d := range offset {
			offset[d] = float32(10 * r.NormFloat64()) // per-video mean: must not matter
		}
		s := Series{Dim: dim}
		for range 200 {
			row := append([]float32(nil), offset...)
			for j := range k {
				a := float32(float64(k-j) * r.NormFloat64())
				for d := range row {
					row[d] += a * dirs[j*dim+d]
				}
			}
			for d := range row {
				row[d] += float32(0.01 * r.NormFloat64())
			}
			s.Rows = append(s.Rows, row...)
		}
		_ = v
		videos = append(videos, s)
	}
	basis, eigen, err := FitPCA(videos, k)
	if err != nil {
		t.Fatal(err)
	}
	if !(eigen[0] > eigen[1] && eigen[1] > eigen[2] && eigen[3] < 0.01) {
		t.Errorf("eigenvalues %v", eigen[:5])
	}
	if kept := VarianceKept(videos, basis, k); kept < 0.99 {
		t.Errorf("variance kept %.4f", kept)
	}
	for j := range k { // the basis spans the planted directions
		var ss float64
		for i := range k {
			var dot float64
			for d := range dim {
				dot += float64(basis[j*dim+d] * dirs[i*dim+d])
			}
			ss += dot * dot
		}
		if ss < 0.99 {
			t.Errorf("basis row %d: %.4f of its length in the planted span", j, ss)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const dim = 64
	rows := make([]float32, 50*dim)
	for i := range rows {
		rows[i] = float32(r.NormFloat64())
	}
	for _, q := range []string{QuantNone, QuantRow8, QuantDim8, QuantDim4} {
		for _, k := range []int{dim, 15} {
			c := &Codec{In: dim, K: k, Quant: q}
			if k != dim {
				c.Basis = RandomOrthogonal(k, dim, 1)
			}
			if q == QuantDim8 || q == QuantDim4 {
				c.FitRanges([]Series{{Dim: dim, Rows: rows}}, 4)
			}
			if err := c.check(); err != nil {
				t.Fatal(err)
			}
			got := c.Stored(rows)
			want := c.Query(rows)
			tol := map[string]float64{QuantNone: 0, QuantRow8: 0.02, QuantDim8: 0.02, QuantDim4: 0.4}[q]
			for i := range want {
				if math.Abs(float64(got[i]-want[i])) > tol {
					t.Fatalf("%s k %d: value %d: %g, want %g", q, k, i, got[i], want[i])
				}
			}
			if n := len(c.Encode(rows[:dim])); n != c.BytesPerRow() {
				t.Errorf("%s: %d bytes, want %d", q, n, c.BytesPerRow())
			}
		}
	}
}
