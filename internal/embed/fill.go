package embed

import (
	"math"

	"github.com/vidprint/vidprint/internal/vecmath"
)

// filler completes rows whose later parts (the specs after the first) were
// not embedded: each takes them from the nearer embedded row before or
// after it, nearer by the cosine of the first part, which every row has.
// The nearer row is in the same shot across a cut, and the closer frame
// in a pan. Rows pass through in order, held back only until the next
// embedded row arrives.
type filler struct {
	every, dim, rowLen int
	emit               func(ts float64, features []float32, extra any) error
	prev               []float32 // the last embedded row; nil before one
	held               []heldRow
	free               [][]float32
}

type heldRow struct {
	ts    float64
	row   []float32
	extra any
}

func newFiller(every, dim, rowLen int, emit func(float64, []float32, any) error) *filler {
	return &filler{every: every, dim: dim, rowLen: rowLen, emit: emit}
}

// push takes one row in order; whole says all its parts were embedded.
// Rows are copied where held.
func (f *filler) push(ts float64, row []float32, extra any, whole bool) error {
	if f.every <= 1 || f.rowLen == f.dim {
		return f.emit(ts, row, extra)
	}
	if !whole {
		var buf []float32
		if n := len(f.free); n > 0 {
			buf, f.free = f.free[n-1], f.free[:n-1]
		} else {
			buf = make([]float32, f.rowLen)
		}
		copy(buf, row)
		f.held = append(f.held, heldRow{ts, buf, extra})
		return nil
	}
	if err := f.release(row); err != nil {
		return err
	}
	if err := f.emit(ts, row, extra); err != nil {
		return err
	}
	if f.prev == nil {
		f.prev = make([]float32, f.rowLen)
	}
	copy(f.prev, row)
	return nil
}

// flush emits the rows still held, after the last embedded row.
func (f *filler) flush() error { return f.release(nil) }

// release fills and emits the held rows, which lie between f.prev and next
// (either may be nil).
func (f *filler) release(next []float32) error {
	for _, h := range f.held {
		from := f.prev
		if from == nil || (next != nil && cosine(h.row[:f.dim], next[:f.dim]) > cosine(h.row[:f.dim], from[:f.dim])) {
			from = next
		}
		if from != nil {
			copy(h.row[f.dim:], from[f.dim:])
		} else {
			clear(h.row[f.dim:])
		}
		if err := f.emit(h.ts, h.row, h.extra); err != nil {
			return err
		}
		f.free = append(f.free, h.row)
	}
	f.held = f.held[:0]
	return nil
}

func cosine(a, b []float32) float64 {
	ab, aa, bb := vecmath.Dot(a, b), vecmath.Dot(a, a), vecmath.Dot(b, b)
	if aa == 0 || bb == 0 {
		return 0
	}
	return float64(ab) / math.Sqrt(float64(aa)*float64(bb))
}
