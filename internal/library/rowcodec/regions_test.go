package rowcodec

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/vidprint/vidprint/internal/library"
	"github.com/vidprint/vidprint/internal/vprint"
)

// TestRegionCodec checks the region codec: each quarter projected by the
// first rows of the library's basis, four quarters quantized together,
// and only for the projected codec.
func TestRegionCodec(t *testing.T) {
	const dim = 1024
	base := library.Meta{Model: vprint.Model{ID: "m"}, Dim: dim, FPS: 5}
	m, err := NewMeta(base, CodecProjected)
	if err != nil {
		t.Fatal(err)
	}
	if m.RegionCodec != RegionCodecProjected {
		t.Fatalf("a %s library's region codec is %q", CodecProjected, m.RegionCodec)
	}
	rc, err := NewRegionCodec(m)
	if err != nil {
		t.Fatal(err)
	}
	if rc.Name() != RegionCodecProjected || rc.Dim() != 4*regionDim || rc.RowBytes() != 4*regionDim+8 {
		t.Fatalf("%s: dim %d, %d bytes", rc.Name(), rc.Dim(), rc.RowBytes())
	}
	c, _ := NewCodec(m)
	rng := rand.New(rand.NewPCG(3, 4))
	rows := make([]float32, 3*4*dim) // three frames of four quarters
	for i := range rows {
		rows[i] = float32(math.Max(0, rng.NormFloat64()+0.3))
	}
	all := make([]float32, 3*rc.Dim())
	rc.ProjectRows(all, rows)
	for i := range 3 {
		frame := rows[i*4*dim : (i+1)*4*dim]
		one := make([]float32, rc.Dim())
		rc.Project(one, frame)
		if !slices.Equal(one, all[i*rc.Dim():(i+1)*rc.Dim()]) {
			t.Errorf("frame %d: Project and ProjectRows differ", i)
		}
		// Quarter q is the whole-frame projection's first regionDim values
		// of that quarter.
		for q := range 4 {
			whole := make([]float32, c.Dim())
			c.Project(whole, frame[q*dim:(q+1)*dim])
			for k := range regionDim {
				if d := math.Abs(float64(whole[k] - one[q*regionDim+k])); d > 1e-4 {
					t.Fatalf("frame %d quarter %d value %d: %g, the basis gives %g", i, q, k, one[q*regionDim+k], whole[k])
				}
			}
		}
		code := make([]byte, rc.RowBytes())
		rc.Encode(code, frame)
		got := make([]float32, rc.Dim())
		rc.Decode(got, code)
		var diff, norm float64
		for k := range got {
			diff += float64(got[k]-one[k]) * float64(got[k]-one[k])
			norm += float64(one[k]) * float64(one[k])
		}
		if e := math.Sqrt(diff / norm); e > 0.01 {
			t.Errorf("frame %d: decoded regions are %.4f of their norm from the projection", i, e)
		}
	}
	half, _ := NewMeta(base, CodecHalf)
	if rc, err := NewRegionCodec(half); half.RegionCodec != "" || rc != nil || err != nil {
		t.Errorf("an f16 library keeps regions: %q, %v, %v", half.RegionCodec, rc, err)
	}
	for _, bad := range []library.Meta{{Codec: CodecHalf, RegionCodec: RegionCodecProjected}, {Codec: CodecProjected, RegionCodec: "rp4x1-i3"}} {
		if _, err := NewRegionCodec(bad); err == nil {
			t.Errorf("region codec %q with codec %q accepted", bad.RegionCodec, bad.Codec)
		}
	}
}
