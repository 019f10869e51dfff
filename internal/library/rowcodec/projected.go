package rowcodec

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/vidprint/vidprint/internal/library"
)

// CodecProjected keeps each row as 256 values of a fixed random orthogonal
// projection, quantized to one byte each between the row's own minimum and
// maximum: 264 bytes a frame against 2048 for f16, 4.75 MB per hour of
// video. It locates a few clips fewer than f16 and rejects as many
// negatives (docs/library.md, "Frame codec"); a whitened PCA basis fit on
// other footage is ahead only within noise, and would tie every library to
// a basis fitted on a few minutes of footage. A random basis needs no
// training data and suits any footage. The basis is stored in the library
// (CodecData), so a library never depends on regenerating it.
const CodecProjected = "rp256-i8"

const (
	projectedDim  = 256
	projectedSeed = 0x76696470 // "vidp"
)

// DefaultCodec is what new libraries use.
const DefaultCodec = CodecProjected

// NewMeta is the Meta of a new library of prints of model, dim and fps,
// with the named codec and its parameters.
func NewMeta(model library.Meta, codec string) (library.Meta, error) {
	m := model
	m.Codec, m.CodecData, m.RegionCodec = codec, nil, RegionCodecFor(codec)
	switch codec {
	case CodecHalf:
	case CodecProjected:
		if m.Dim < projectedDim {
			return library.Meta{}, fmt.Errorf("codec %s needs at least %d features, the model gives %d", codec, projectedDim, m.Dim)
		}
		basis := RandomOrthogonal(projectedDim, m.Dim, projectedSeed)
		m.CodecData = make([]byte, 0, 4*len(basis))
		for _, v := range basis {
			m.CodecData = binary.LittleEndian.AppendUint32(m.CodecData, math.Float32bits(v))
		}
	default:
		return library.Meta{}, fmt.Errorf("unknown codec %q (f16 or %s)", codec, CodecProjected)
	}
	if _, err := NewCodec(m); err != nil {
		return library.Meta{}, err
	}
	return m, nil
}

// RandomOrthogonal is k orthonormal rows of dim values drawn from seed:
// Gaussian rows, orthogonalised by Gram-Schmidt (twice, for float
// rounding).
func RandomOrthogonal(k, dim int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	rows := make([][]float64, k)
	for i := range rows {
		row := make([]float64, dim)
		for j := range row {
			row[j] = r.NormFloat64()
		}
		for range 2 {
			for _, p := range rows[:i] {
				var d float64
				for j := range row {
					d += row[j] * p[j]
				}
				for j := range row {
					row[j] -= d * p[j]
				}
			}
		}
		var ss float64
		for _, x := range row {
			ss += x * x
		}
		inv := 1 / math.Sqrt(ss)
		for j := range row {
			row[j] *= inv
		}
		rows[i] = row
	}
	out := make([]float32, k*dim)
	for i, row := range rows {
		for j, x := range row {
			out[i*dim+j] = float32(x)
		}
	}
	return out
}

// projected is CodecProjected: basis is k rows of in values.
type projected struct {
	in, k int
	basis []float32
}

func newProjected(m library.Meta) (Codec, error) {
	k := projectedDim
	if m.Dim < k || len(m.CodecData) != 4*k*m.Dim {
		return nil, fmt.Errorf("codec %s: %d bytes of basis for %d features", m.Codec, len(m.CodecData), m.Dim)
	}
	p := &projected{in: m.Dim, k: k, basis: make([]float32, k*m.Dim)}
	for i := range p.basis {
		v := math.Float32frombits(binary.LittleEndian.Uint32(m.CodecData[4*i:]))
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("codec %s: basis holds %v", m.Codec, v)
		}
		p.basis[i] = v
	}
	return p, nil
}

func (p *projected) Name() string  { return CodecProjected }
func (p *projected) Dim() int      { return p.k }
func (p *projected) RowBytes() int { return p.k + 8 } // the levels, then min and step

func (p *projected) Project(dst, row []float32) { p.ProjectRows(dst[:p.k], row[:p.in]) }

// ProjectRows takes rows four at a time, so that each row of the basis is
// read from memory once for four of them: the basis (1 MB) does not stay in
// the nearer caches, the four rows do.
func (p *projected) ProjectRows(dst, rows []float32) {
	n := len(rows) / p.in
	i := 0
	for ; i+4 <= n; i += 4 {
		r0, r1 := rows[i*p.in:(i+1)*p.in], rows[(i+1)*p.in:(i+2)*p.in]
		r2, r3 := rows[(i+2)*p.in:(i+3)*p.in], rows[(i+3)*p.in:(i+4)*p.in]
		for k := range p.k {
			b := p.basis[k*p.in : (k+1)*p.in]
			b, r0, r1, r2, r3 = b[:len(r0)], r0[:len(b)], r1[:len(b)], r2[:len(b)], r3[:len(b)]
			var s0, s1, s2, s3 float32
			for j, x := range b {
				s0 += x * r0[j]
				s1 += x * r1[j]
				s2 += x * r2[j]
				s3 += x * r3[j]
			}
			dst[i*p.k+k], dst[(i+1)*p.k+k], dst[(i+2)*p.k+k], dst[(i+3)*p.k+k] = s0, s1, s2, s3
		}
	}
	for ; i < n; i++ {
		row := rows[i*p.in : (i+1)*p.in]
		for k := range p.k {
			b := p.basis[k*p.in : (k+1)*p.in]
			var s0, s1 float32
			j := 0
			for ; j+2 <= len(row); j += 2 {
				s0 += b[j] * row[j]
				s1 += b[j+1] * row[j+1]
			}
			for ; j < len(row); j++ {
				s0 += b[j] * row[j]
			}
			dst[i*p.k+k] = s0 + s1
		}
	}
}

func (p *projected) Encode(dst []byte, row []float32) {
	var buf [projectedDim]float32
	v := buf[:p.k]
	p.Project(v, row)
	quantize(dst, v)
}

func (p *projected) Decode(dst []float32, code []byte) { dequantize(dst[:p.k], code) }

// quantize stores v as one byte a value between its minimum and maximum,
// then the minimum and the step: len(v)+8 bytes.
func quantize(dst []byte, v []float32) {
	lo, hi := v[0], v[0]
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
	}
	step := (hi - lo) / 255
	for i, x := range v {
		q := 0.0
		if step > 0 {
			q = math.Round(float64((x - lo) / step))
		}
		dst[i] = byte(min(255, max(0, q)))
	}
	binary.LittleEndian.PutUint32(dst[len(v):], math.Float32bits(lo))
	binary.LittleEndian.PutUint32(dst[len(v)+4:], math.Float32bits(step))
}

// dequantize reads len(dst) values stored by quantize.
func dequantize(dst []float32, code []byte) {
	n := len(dst)
	lo := math.Float32frombits(binary.LittleEndian.Uint32(code[n:]))
	step := math.Float32frombits(binary.LittleEndian.Uint32(code[n+4:]))
	for i := range dst {
		dst[i] = lo + step*float32(code[i])
	}
}

// RegionCodecProjected stores a frame's four quarters (vprint.Quarters) for
// a library of CodecProjected: each quarter projected on the first
// regionDim rows of the library's basis, the four quantized together as
// CodecProjected quantizes a row. The region search compares whole rows of
// quarters, whose cosine a projection keeps about as well as the
// whole-frame codec keeps a frame's (the error of a random projection
// depends on the dimensions kept, not on those it starts from), for
// 4*regionDim+8 bytes a frame.
const RegionCodecProjected = "rp4x40-i8"

const (
	regionCount = 4
	regionDim   = 40
)

// regionProjected is RegionCodecProjected: in values a quarter, regions
// quarters a row, each projected by the k rows of quarter.
type regionProjected struct {
	quarter *projected
	regions int
}

func newRegionProjected(m library.Meta) (Codec, error) {
	c, err := newProjected(m)
	if err != nil {
		return nil, err
	}
	p := c.(*projected)
	return &regionProjected{quarter: &projected{in: p.in, k: regionDim, basis: p.basis[:regionDim*p.in]}, regions: regionCount}, nil
}

func (r *regionProjected) Name() string  { return RegionCodecProjected }
func (r *regionProjected) Dim() int      { return r.regions * r.quarter.k }
func (r *regionProjected) RowBytes() int { return r.Dim() + 8 }

func (r *regionProjected) Project(dst, row []float32) {
	r.quarter.ProjectRows(dst[:r.Dim()], row[:r.regions*r.quarter.in])
}

// ProjectRows projects each quarter of each row: the rows are so many
// quarters in a row, and their projections lie in the same order.
func (r *regionProjected) ProjectRows(dst, rows []float32) { r.quarter.ProjectRows(dst, rows) }

func (r *regionProjected) Encode(dst []byte, row []float32) {
	var buf [regionCount * regionDim]float32
	v := buf[:r.Dim()]
	r.Project(v, row)
	quantize(dst, v)
}

func (r *regionProjected) Decode(dst []float32, code []byte) { dequantize(dst[:r.Dim()], code) }
