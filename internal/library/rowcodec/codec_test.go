package rowcodec

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vidprint/vidprint/internal/library"
	"github.com/vidprint/vidprint/internal/vprint"
)

func TestCodecs(t *testing.T) {
	base := library.Meta{Model: vprint.Model{ID: "m"}, Dim: 1024, FPS: 5}
	rng := rand.New(rand.NewPCG(1, 2))
	row := make([]float32, 1024)
	for i := range row {
		row[i] = float32(math.Max(0, rng.NormFloat64()+0.3)) // non-negative, like the model's features
	}
	for _, tc := range []struct {
		codec    string
		dim      int
		rowBytes int
		maxErr   float64 // of the decoded row, relative to its norm
	}{
		{CodecHalf, 1024, 2048, 1e-3},
		{CodecProjected, 256, 264, 0.01},
	} {
		t.Run(tc.codec, func(t *testing.T) {
			m, err := NewMeta(base, tc.codec)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := NewMeta(base, tc.codec)
			if !bytes.Equal(m.CodecData, again.CodecData) {
				t.Fatal("NewMeta is not deterministic: two libraries of one model would differ")
			}
			c, err := NewCodec(m)
			if err != nil {
				t.Fatal(err)
			}
			if c.Name() != tc.codec || c.Dim() != tc.dim || c.RowBytes() != tc.rowBytes {
				t.Fatalf("%s: dim %d, %d bytes; want %d, %d", c.Name(), c.Dim(), c.RowBytes(), tc.dim, tc.rowBytes)
			}
			code := make([]byte, c.RowBytes())
			c.Encode(code, row)
			got, want := make([]float32, c.Dim()), make([]float32, c.Dim())
			c.Decode(got, code)
			c.Project(want, row)
			var diff, norm float64
			for i := range got {
				diff += float64(got[i]-want[i]) * float64(got[i]-want[i])
				norm += float64(want[i]) * float64(want[i])
			}
			if e := math.Sqrt(diff / norm); e > tc.maxErr {
				t.Errorf("decoded row is %.4f of its norm from the projection, want <= %g", e, tc.maxErr)
			}
		})
	}
}

// The projection is orthonormal: it keeps distances within the span of
// its rows and shrinks nothing outside it beyond its share.
func TestProjectedBasisIsOrthonormal(t *testing.T) {
	b := RandomOrthogonal(64, 256, 3)
	for i := range 64 {
		for j := i; j < 64; j++ {
			var d float64
			for x := range 256 {
				d += float64(b[i*256+x]) * float64(b[j*256+x])
			}
			want := 0.0
			if i == j {
				want = 1
			}
			if math.Abs(d-want) > 1e-5 {
				t.Fatalf("rows %d and %d: dot %g, want %g", i, j, d, want)
			}
		}
	}
}

func TestProjectedRefusesBadParameters(t *testing.T) {
	base := library.Meta{Model: vprint.Model{ID: "m"}, Dim: 1024, FPS: 5}
	if _, err := NewMeta(library.Meta{Model: base.Model, Dim: 128, FPS: 5}, CodecProjected); err == nil {
		t.Error("a 128-d model was given a 256-d projection")
	}
	if _, err := NewMeta(base, "zip"); err == nil {
		t.Error("an unknown codec was accepted")
	}
	m, _ := NewMeta(base, CodecProjected)
	short := m
	short.CodecData = m.CodecData[:100]
	if _, err := NewCodec(short); err == nil {
		t.Error("a truncated basis was accepted")
	}
	nan := m
	nan.CodecData = append([]byte(nil), m.CodecData...)
	copy(nan.CodecData, []byte{0, 0, 0xc0, 0x7f})
	if _, err := NewCodec(nan); err == nil {
		t.Error("a basis holding NaN was accepted")
	}
}

func TestProjectRowsMatchesProject(t *testing.T) {
	m, _ := NewMeta(library.Meta{Model: vprint.Model{ID: "m"}, Dim: 1024, FPS: 5}, CodecProjected)
	c, _ := NewCodec(m)
	rng := rand.New(rand.NewPCG(3, 3))
	for _, n := range []int{1, 3, 4, 7} {
		rows := make([]float32, n*1024)
		for i := range rows {
			rows[i] = rng.Float32()
		}
		all := make([]float32, n*256)
		c.ProjectRows(all, rows)
		one := make([]float32, 256)
		for i := range n {
			c.Project(one, rows[i*1024:(i+1)*1024])
			for k := range one {
				if d := math.Abs(float64(one[k] - all[i*256+k])); d > 1e-4 {
					t.Fatalf("%d rows: row %d value %d: %g one at a time, %g together", n, i, k, one[k], all[i*256+k])
				}
			}
		}
	}
}

func BenchmarkProjectRows(b *testing.B) {
	m, _ := NewMeta(library.Meta{Model: vprint.Model{ID: "m"}, Dim: 1024, FPS: 5}, CodecProjected)
	c, _ := NewCodec(m)
	rows := make([]float32, 75*1024) // one view of a 15 s clip
	for i := range rows {
		rows[i] = float32(i%7) / 7
	}
	dst := make([]float32, 75*256)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.ProjectRows(dst, rows)
	}
}
