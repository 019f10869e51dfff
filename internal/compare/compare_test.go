package compare

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vidprint/vidprint/internal/vprint"
)

func randomPrint(rng *rand.Rand, frames, dim int, model string) *vprint.Print {
	p := &vprint.Print{Model: vprint.Model{ID: model, SHA256: "ab", Output: "embedding"}, Dim: dim, FPS: 5}
	for i := 0; i < frames; i++ {
		p.Timestamps = append(p.Timestamps, float64(i)/5)
		for d := 0; d < dim; d++ {
			p.Features = append(p.Features, rng.Float32())
		}
	}
	return p
}

func TestRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	a := randomPrint(rng, 50, 64, "m")
	same, err := Rows(a, a)
	if err != nil {
		t.Fatal(err)
	}
	if same.Rows != 50 || math.Abs(same.MeanCos-1) > 1e-9 || same.NearestWithin1 != 1 {
		t.Fatalf("a print against itself: %+v", same)
	}
	// Shift every row by one sample: rows no longer align, but each row's
	// nearest reference row is its neighbour.
	shifted := *a
	shifted.Features = append([]float32(nil), a.Features[64:]...)
	shifted.Timestamps = a.Timestamps[:49]
	r, err := Rows(a, &shifted)
	if err != nil {
		t.Fatal(err)
	}
	if r.Rows != 49 || r.MeanCos > 0.5 || r.NearestWithin1 != 1 {
		t.Fatalf("shifted by one: %+v", r)
	}
	other := randomPrint(rng, 50, 64, "m")
	r, _ = Rows(a, other)
	if r.MeanCos > 0.3 || r.NearestWithin1 > 0.3 {
		t.Fatalf("unrelated prints look alike: %+v", r)
	}
}

func TestRowsRefusesOtherModels(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	a := randomPrint(rng, 5, 8, "small")
	b := randomPrint(rng, 5, 8, "large")
	if _, err := Rows(a, b); !errors.Is(err, vprint.ErrIncompatible) {
		t.Fatalf("got %v, want ErrIncompatible", err)
	}
}
