package picture

import (
	"errors"
	"image"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vidprint/vidprint/internal/vprint"
)

// twoScenes is a print whose first half shows one pattern and second half
// another, with a little noise.
func twoScenes(frames, dim int) *vprint.Print {
	rng := rand.New(rand.NewPCG(1, 2))
	a := make([]float32, dim)
	b := make([]float32, dim)
	for i := range a {
		a[i], b[i] = rng.Float32()*4, rng.Float32()*4
	}
	p := &vprint.Print{Dim: dim, FPS: 5}
	for i := 0; i < frames; i++ {
		p.Timestamps = append(p.Timestamps, float64(i)/5)
		base := a
		if i >= frames/2 {
			base = b
		}
		for _, v := range base {
			p.Features = append(p.Features, v+rng.Float32()*0.05)
		}
	}
	return p
}

func TestBuildScalesAndBins(t *testing.T) {
	p := twoScenes(100, 8)
	for _, tc := range []struct {
		name     string
		scaling  Scaling
		maxWidth int
		cols     int
	}{
		{"per feature", PerFeature, 2000, 100},
		{"global", Global, 2000, 100},
		{"zscore", ZScore, 2000, 100},
		{"binned", PerFeature, 10, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Defaults()
			o.Scaling, o.MaxWidth = tc.scaling, tc.maxWidth
			m, err := Build(p, o)
			if err != nil {
				t.Fatal(err)
			}
			if m.Cols != tc.cols || m.Rows != 8 || len(m.ColStart) != tc.cols+1 {
				t.Fatalf("%dx%d, %d column starts", m.Rows, m.Cols, len(m.ColStart))
			}
			lo, hi := float32(1), float32(0)
			for _, v := range m.Values {
				lo, hi = min(lo, v), max(hi, v)
			}
			if lo < 0 || hi > 1 {
				t.Fatalf("values outside 0..1: %v..%v", lo, hi)
			}
			if tc.scaling == PerFeature && (lo != 0 || hi != 1) {
				t.Fatalf("per-feature scaling should span 0..1, got %v..%v", lo, hi)
			}
			// The two scenes must look different: compare the first and
			// last column.
			var diff float64
			for f := 0; f < m.Rows; f++ {
				diff += math.Abs(float64(m.Values[f*m.Cols] - m.Values[f*m.Cols+m.Cols-1]))
			}
			if diff/float64(m.Rows) < 0.1 {
				t.Fatalf("scenes indistinguishable (mean difference %.3f)", diff/float64(m.Rows))
			}
			if m.ColStart[0] != 0 || math.Abs(m.ColStart[m.Cols]-20) > 1e-9 {
				t.Fatalf("time span %v..%v, want 0..20", m.ColStart[0], m.ColStart[m.Cols])
			}
		})
	}
}

func TestBinningAveragesFrames(t *testing.T) {
	p := &vprint.Print{Dim: 1, FPS: 5, Timestamps: []float64{0, 0.2, 0.4, 0.6}, Features: []float32{0, 2, 4, 6}}
	o := Defaults()
	o.MaxWidth, o.Scaling = 2, Global
	m, err := Build(p, o)
	if err != nil {
		t.Fatal(err)
	}
	// Columns hold means 1 and 5, scaled globally to 0 and 1.
	if m.Values[0] != 0 || m.Values[1] != 1 || m.ColStart[1] != 0.4 {
		t.Fatalf("values %v, starts %v", m.Values, m.ColStart)
	}
}

func TestOrders(t *testing.T) {
	p := twoScenes(60, 32)
	for _, order := range []Order{ModelOrder, PeakOrder, SimilarOrder} {
		o := Defaults()
		o.Order = order
		m, err := Build(p, o)
		if err != nil {
			t.Fatal(err)
		}
		seen := make([]bool, m.Rows)
		for _, f := range m.Order {
			if seen[f] {
				t.Fatalf("%s: feature %d twice", order, f)
			}
			seen[f] = true
		}
		if order == PeakOrder {
			peakCol := func(f int) int {
				best := 0
				for c := 0; c < m.Cols; c++ {
					if m.Values[f*m.Cols+c] > m.Values[f*m.Cols+best] {
						best = c
					}
				}
				return best
			}
			for r := 1; r < m.Rows; r++ {
				if peakCol(m.Order[r]) < peakCol(m.Order[r-1]) {
					t.Fatalf("peak order not by time at row %d", r)
				}
			}
		}
	}
}

func TestRender(t *testing.T) {
	p := twoScenes(1000, 16)
	o := Defaults()
	o.RowHeight = 2
	m, err := Build(p, o)
	if err != nil {
		t.Fatal(err)
	}
	img, err := Render(m, o)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 1000 || b.Dy() != 16*2+22 {
		t.Fatalf("image %v", b)
	}
	// Rows are drawn in grey; the axis area has black tick marks.
	if c := img.(*image.RGBA).RGBAAt(10, 5); c.R != c.G || c.G != c.B {
		t.Fatalf("grey picture has colour %v", c)
	}
	black := 0
	for x := 0; x < 1000; x++ {
		if c := img.(*image.RGBA).RGBAAt(x, 33); c.R == 0 && c.G == 0 {
			black++
		}
	}
	if black == 0 {
		t.Fatal("no axis ticks")
	}
	o.Colormap = "viridis"
	img, _ = Render(m, o)
	if c := img.(*image.RGBA).RGBAAt(10, 5); c.R == c.G && c.G == c.B {
		t.Fatalf("viridis picture is grey at (10,5): %v", c)
	}
	// A one-frame print still gives a readable picture.
	one := &vprint.Print{Dim: 4, FPS: 5, Timestamps: []float64{0}, Features: []float32{1, 2, 3, 4}}
	m1, err := Build(one, Defaults())
	if err != nil {
		t.Fatal(err)
	}
	img, err = Render(m1, Defaults())
	if err != nil || img.Bounds().Dx() < 100 {
		t.Fatalf("one-frame picture %v, %v", img.Bounds(), err)
	}
}

func TestBadOptions(t *testing.T) {
	p := twoScenes(10, 4)
	for _, o := range []Options{
		{Scaling: "log", Order: ModelOrder, MaxWidth: 10},
		{Scaling: PerFeature, Order: "random", MaxWidth: 10},
		{Scaling: PerFeature, Order: ModelOrder, MaxWidth: 0},
	} {
		if _, err := Build(p, o); !errors.Is(err, ErrOptions) {
			t.Errorf("%+v: %v, want ErrOptions", o, err)
		}
	}
	m, _ := Build(p, Defaults())
	o := Defaults()
	o.Colormap = "rainbow"
	if _, err := Render(m, o); !errors.Is(err, ErrOptions) {
		t.Errorf("colormap rainbow: %v", err)
	}
}

// BenchmarkTwoHours pictures a 2-hour print (36000 x 1024) with the
// defaults: Build plus Render.
func BenchmarkTwoHours(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	p := &vprint.Print{Dim: 1024, FPS: 5}
	for i := 0; i < 36000; i++ {
		p.Timestamps = append(p.Timestamps, float64(i)/5)
	}
	p.Features = make([]float32, 36000*1024)
	for i := range p.Features {
		p.Features[i] = rng.Float32()
	}
	o := Defaults()
	b.ResetTimer()
	for b.Loop() {
		m, err := Build(p, o)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Render(m, o); err != nil {
			b.Fatal(err)
		}
	}
}
