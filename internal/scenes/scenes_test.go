package scenes

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vidprint/vidprint/internal/vprint"
)

// synth builds a print from "shots": each shot is a random base vector
// plus per-frame noise (motion); transitions blend bases over fade frames.
type synth struct {
	dim   int
	noise float64
	rng   *rand.Rand
	rows  [][]float32
}

func newSynth(dim int, noise float64) *synth {
	return &synth{dim: dim, noise: noise, rng: rand.New(rand.NewPCG(7, 9))}
}

func (s *synth) base() []float32 {
	v := make([]float32, s.dim)
	for i := range v {
		// ReLU-like and sparse, so that two shots differ about as much as
		// different shots of real footage do (cosine distance ~0.75).
		v[i] = float32(math.Max(0, s.rng.NormFloat64()-0.8))
	}
	return v
}

func (s *synth) shot(base []float32, frames int) {
	for f := 0; f < frames; f++ {
		r := make([]float32, s.dim)
		for i := range r {
			r[i] = base[i] + float32(s.noise*s.rng.NormFloat64())
		}
		s.rows = append(s.rows, r)
	}
}

// blend appends frames that go linearly from a to b.
func (s *synth) blend(a, b []float32, frames int) {
	for f := 1; f <= frames; f++ {
		w := float32(f) / float32(frames+1)
		r := make([]float32, s.dim)
		for i := range r {
			r[i] = (1-w)*a[i] + w*b[i] + float32(s.noise*s.rng.NormFloat64())
		}
		s.rows = append(s.rows, r)
	}
}

func (s *synth) print() *vprint.Print {
	p := &vprint.Print{Dim: s.dim, FPS: 5}
	for i, r := range s.rows {
		p.Timestamps = append(p.Timestamps, float64(i)/5)
		p.Features = append(p.Features, r...)
	}
	return p
}

func TestDetect(t *testing.T) {
	s := newSynth(64, 0.05)
	a, b, c, d, e := s.base(), s.base(), s.base(), s.base(), s.base()
	black := s.base() // a black frame has features too
	for i := range black {
		black[i] *= 0.3
	}
	s.shot(a, 40) // 0..8 s
	s.shot(b, 30) // cut at row 40
	s.blend(b, c, 8)
	s.shot(c, 30) // dissolve centred near row 74
	s.blend(c, black, 4)
	s.shot(black, 3)
	s.blend(black, d, 4)
	s.shot(d, 30) // fade through black near row 113
	s.shot(e, 30) // cut at row 149
	p := s.print()
	bs, err := Detect(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		row  int
		kind Kind
	}{{40, Cut}, {74, Gradual}, {113, Gradual}, {149, Cut}}
	if len(bs) != len(want) {
		t.Fatalf("found %d boundaries %v, want %d", len(bs), bs, len(want))
	}
	for i, w := range want {
		if abs(bs[i].Index-w.row) > 3 { // ±0.6 s at 5 fps
			t.Errorf("boundary %d at row %d, want about %d", i, bs[i].Index, w.row)
		}
		if w.kind == Cut && bs[i].Kind != Cut {
			t.Errorf("boundary %d is %s, want a cut", i, bs[i].Kind)
		}
	}
	sc := Split(p, bs)
	if len(sc) != 5 || sc[0].StartS != 0 || sc[4].End != p.Frames() || math.Abs(sc[4].EndS-float64(p.Frames())/5) > 1e-9 {
		t.Fatalf("scenes %+v", sc)
	}
	for i := 1; i < len(sc); i++ {
		if sc[i].Start != sc[i-1].End {
			t.Fatalf("scenes do not tile the print: %+v", sc)
		}
	}
}

// One long shot with motion, a constant video, and a video of duplicated
// frames (no noise at all): no boundaries.
func TestNoFalseCuts(t *testing.T) {
	talking := newSynth(64, 0.1)
	talking.shot(talking.base(), 600)
	still := newSynth(64, 0)
	still.shot(still.base(), 100)
	for name, p := range map[string]*vprint.Print{"moving shot": talking.print(), "constant": still.print()} {
		bs, err := Detect(p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(bs) != 0 {
			t.Errorf("%s: %d false boundaries: %v", name, len(bs), bs)
		}
		if sc := Split(p, bs); len(sc) != 1 {
			t.Errorf("%s: %d scenes, want 1", name, len(sc))
		}
	}
	// Duplicated frames with one cut: the cut is still found.
	dup := newSynth(64, 0)
	dup.shot(dup.base(), 30)
	dup.shot(dup.base(), 30)
	bs, _ := Detect(dup.print(), Options{})
	if len(bs) != 1 || bs[0].Index != 30 {
		t.Fatalf("noise-free video with one cut: %v", bs)
	}
}

func TestExactlyK(t *testing.T) {
	s := newSynth(32, 0.1)
	for i := 0; i < 6; i++ {
		s.shot(s.base(), 20)
	}
	p := s.print()
	for _, k := range []int{1, 3, 6, 10, 120} {
		bs, err := Detect(p, Options{Scenes: k})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(Split(p, bs)); got != k {
			t.Errorf("-n %d gave %d scenes", k, got)
		}
	}
	// Fewer scenes keep the strongest cuts: all three must be true cuts.
	bs, _ := Detect(p, Options{Scenes: 4})
	for _, b := range bs {
		if b.Index%20 != 0 {
			t.Errorf("kept a weak boundary at row %d", b.Index)
		}
	}
	if _, err := Detect(p, Options{Scenes: 121}); !errors.Is(err, ErrTooShort) {
		t.Errorf("more scenes than frames: %v", err)
	}
}

func TestTinyPrints(t *testing.T) {
	for n := 1; n <= 2; n++ {
		s := newSynth(8, 0.1)
		for i := 0; i < n; i++ {
			s.shot(s.base(), 1)
		}
		p := s.print()
		bs, err := Detect(p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if sc := Split(p, bs); len(sc) < 1 || sc[len(sc)-1].End != n {
			t.Fatalf("%d frames: scenes %+v", n, sc)
		}
		bs, err = Detect(p, Options{Scenes: n})
		if err != nil || len(Split(p, bs)) != n {
			t.Fatalf("%d frames, -n %d: %v %v", n, n, bs, err)
		}
	}
}

// BenchmarkTwoHours detects scenes in a 2-hour print (36000 x 1024).
func BenchmarkTwoHours(b *testing.B) {
	s := newSynth(1024, 0.2)
	for i := 0; i < 360; i++ {
		s.shot(s.base(), 100)
	}
	p := s.print()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Detect(p, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestMergeCloseDoesNotChain(t *testing.T) {
	bs := []Boundary{{Index: 10, Strength: 1}, {Index: 14, Strength: 2}, {Index: 18, Strength: 3}, {Index: 22, Strength: 1}}
	got := mergeClose(bs, 5)
	// 10 and 14 are one transition (the stronger, 14, stays); 18 starts a
	// new group with 22 though 14 was kept: groups are measured from their
	// first boundary.
	if len(got) != 2 || got[0].Index != 14 || got[1].Index != 18 {
		t.Fatalf("mergeClose = %+v", got)
	}
}
