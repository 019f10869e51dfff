// Package compare measures how alike two prints of the same length are,
// row by row: whether two decodings, two encodings or two copies of a video
// give the same print.
package compare

import (
	"fmt"
	"math"

	"github.com/vidprint/vidprint/internal/vprint"
)

// Result summarises a row-by-row comparison.
type Result struct {
	Rows int // rows compared: the shorter print's length
	// MeanCos and MinCos are cosines of aligned rows after subtracting the
	// reference's mean row, which separates frames far better than raw
	// cosine (every ReLU-like feature vector shares a large common part).
	MeanCos, MinCos float64
	// NearestWithin1 is the share of rows whose most similar reference row
	// lies within one sample of the same position.
	NearestWithin1 float64
}

// Rows compares b against the reference a. Prints of different models are
// refused.
func Rows(a, b *vprint.Print) (Result, error) {
	if err := vprint.Compatible(a, b); err != nil {
		return Result{}, err
	}
	n := min(a.Frames(), b.Frames())
	if n == 0 {
		return Result{}, fmt.Errorf("compare: an empty print")
	}
	mean := MeanRow(a)
	ac := centred(a, mean)
	bc := centred(b, mean)
	r := Result{Rows: n, MinCos: 1}
	near := 0
	for i := 0; i < n; i++ {
		c := cos(ac[i], bc[i])
		r.MeanCos += c
		r.MinCos = math.Min(r.MinCos, c)
		best, bestJ := math.Inf(-1), -1
		for j := range ac {
			if s := cos(ac[j], bc[i]); s > best {
				best, bestJ = s, j
			}
		}
		if bestJ >= i-1 && bestJ <= i+1 {
			near++
		}
	}
	r.MeanCos /= float64(n)
	r.NearestWithin1 = float64(near) / float64(n)
	return r, nil
}

// MeanRow is the average feature vector of a print.
func MeanRow(p *vprint.Print) []float64 {
	m := make([]float64, p.Dim)
	for i := 0; i < p.Frames(); i++ {
		for d, v := range p.Row(i) {
			m[d] += float64(v)
		}
	}
	for d := range m {
		m[d] /= float64(max(p.Frames(), 1))
	}
	return m
}

// centred returns unit-length rows with mean subtracted.
func centred(p *vprint.Print, mean []float64) [][]float64 {
	rows := make([][]float64, p.Frames())
	for i := range rows {
		row := make([]float64, p.Dim)
		var norm float64
		for d, v := range p.Row(i) {
			row[d] = float64(v) - mean[d]
			norm += row[d] * row[d]
		}
		if norm > 0 {
			norm = 1 / math.Sqrt(norm)
			for d := range row {
				row[d] *= norm
			}
		}
		rows[i] = row
	}
	return rows
}

// cos of two unit (or zero) vectors; two zero rows count as identical.
func cos(a, b []float64) float64 {
	var s, na, nb float64
	for d := range a {
		s += a[d] * b[d]
		na += a[d] * a[d]
		nb += b[d] * b[d]
	}
	if na == 0 && nb == 0 {
		return 1
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return s
}
