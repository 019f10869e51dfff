package embed

import (
	"slices"
	"testing"
)

func TestFiller(t *testing.T) {
	// Rows of dim 2 and one region of 1 value: [whole x, whole y, region].
	type in struct {
		row   []float32
		whole bool
	}
	for _, tc := range []struct {
		name  string
		every int
		rows  []in
		want  [][]float32
	}{
		{"every sample passes through", 1,
			[]in{{[]float32{1, 0, 7}, true}, {[]float32{0, 1, 8}, true}},
			[][]float32{{1, 0, 7}, {0, 1, 8}}},
		{"the nearer neighbour by the whole frame", 3,
			[]in{{[]float32{1, 0, 7}, true}, {[]float32{0.9, 0.1, 0}, false}, {[]float32{0.1, 0.9, 0}, false}, {[]float32{0, 1, 8}, true}},
			[][]float32{{1, 0, 7}, {0.9, 0.1, 7}, {0.1, 0.9, 8}, {0, 1, 8}}},
		{"a cut: the next row's shot", 3,
			[]in{{[]float32{1, 0, 7}, true}, {[]float32{0, 1, 0}, false}, {[]float32{0, 1, 0}, false}, {[]float32{0, 1, 8}, true}},
			[][]float32{{1, 0, 7}, {0, 1, 8}, {0, 1, 8}, {0, 1, 8}}},
		{"rows after the last embedded one take it", 3,
			[]in{{[]float32{1, 0, 7}, true}, {[]float32{0, 1, 0}, false}},
			[][]float32{{1, 0, 7}, {0, 1, 7}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got [][]float32
			f := newFiller(tc.every, 2, 3, func(_ float64, row []float32, _ any) error {
				got = append(got, slices.Clone(row))
				return nil
			})
			for i, r := range tc.rows {
				if err := f.push(float64(i), slices.Clone(r.row), nil, r.whole); err != nil {
					t.Fatal(err)
				}
			}
			if err := f.flush(); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%d rows, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if !slices.Equal(got[i], tc.want[i]) {
					t.Errorf("row %d = %v, want %v", i, got[i], tc.want[i])
				}
			}
		})
	}
}
