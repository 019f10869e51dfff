package vprint

import (
	"slices"
	"strings"
	"testing"
)

func TestBetween(t *testing.T) {
	p := &Print{Model: Model{ID: "m", SHA256: strings.Repeat("ab", 32), Output: "o"}, Dim: 2, FPS: 5, Regions: 1, Thumbs: Thumbs{Width: 1, Height: 1, Every: 5}}
	for i := range 12 {
		p.Timestamps = append(p.Timestamps, float64(i)/5)
		p.Features = append(p.Features, float32(i), float32(i))
		p.RegionFeatures = append(p.RegionFeatures, float32(-i), float32(-i))
		if i%5 == 0 {
			p.Thumbs.Pixels = append(p.Thumbs.Pixels, byte(i))
		}
	}
	tests := []struct {
		start, end float64
		rows       []float32
		thumbs     []byte
	}{
		{0, 0, []float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, []byte{0, 5, 10}},
		{1, 2, []float32{5, 6, 7, 8, 9}, []byte{5}},
		{0.3, 0.9, []float32{2, 3, 4}, nil}, // not on a thumbnail's row
		{5, 0, nil, nil},
	}
	for _, tt := range tests {
		q := p.Between(tt.start, tt.end)
		var rows []float32
		for i := range q.Frames() {
			rows = append(rows, q.Row(i)[0])
			if q.RegionRow(i)[0] != -q.Row(i)[0] {
				t.Errorf("[%g, %g): row %d's regions do not follow", tt.start, tt.end, i)
			}
		}
		if !slices.Equal(rows, tt.rows) || !slices.Equal(q.Thumbs.Pixels, tt.thumbs) {
			t.Errorf("[%g, %g): rows %v thumbs %v, want %v and %v", tt.start, tt.end, rows, q.Thumbs.Pixels, tt.rows, tt.thumbs)
		}
		if q.Frames() > 0 && q.Validate() != nil {
			t.Errorf("[%g, %g): %v", tt.start, tt.end, q.Validate())
		}
	}
}
