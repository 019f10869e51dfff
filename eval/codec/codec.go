// Package codec compresses print rows for a video library: a linear
// projection from the model's dimensions to K (PCA fit on footage, or a
// random orthogonal basis) followed by a scalar quantizer, to find what fits
// the library's storage budget (eval/codec/README.md). eval/locate's
// -inproc-codec flag measures what a codec costs in clip location, and
// fitcodec fits one from prints.
//
// A stored row is Encode(row), searched as Decode(code) (K values); a
// clip's rows are Project(row)ed with the same basis (and quantized too when
// QuantizeQuery is set). internal/match runs unchanged on the K-dimensional
// rows: it centres each reference by its own mean, and the projection
// commutes with that centring, so raw rows are projected as they are.
package codec

import (
	"encoding/json"
	"fmt"
	"math"
	"os"

	"github.com/vidprint/vidprint/internal/library/rowcodec"
)

// The quantizers.
const (
	QuantNone = "none" // float32, for measuring the projection alone
	QuantRow8 = "row8" // uint8 per value, each row's own min and step (2 float32s)
	QuantDim8 = "dim8" // uint8 per value, a fixed range per dimension (learned)
	QuantDim4 = "dim4" // 4 bits per value, a fixed range per dimension (learned)
)

// Codec is a projection and a quantizer.
type Codec struct {
	Name string `json:"name"`
	In   int    `json:"in"` // the model's dimensions
	K    int    `json:"k"`  // stored dimensions
	// Basis is K rows of In values (row-major); nil is the identity (K == In).
	Basis []float32 `json:"basis,omitempty"`
	Quant string    `json:"quant"`
	// Lo and Step are the per-dimension quantizer ranges (dim8, dim4): value
	// q decodes to Lo + Step*q.
	Lo   []float32 `json:"lo,omitempty"`
	Step []float32 `json:"step,omitempty"`
	// QuantizeQuery: clip rows go through the quantizer too, not only the
	// projection.
	QuantizeQuery bool `json:"quantize_query,omitempty"`
	// Eigen are the PCA's eigenvalues, largest first (all In of them), for
	// reports.
	Eigen []float64 `json:"eigen,omitempty"`
	Note  string    `json:"note,omitempty"`
}

// Load reads a codec written by Save.
func Load(path string) (*Codec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Codec
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &c, nil
}

// Save writes the codec as JSON.
func (c *Codec) Save(path string) error {
	if err := c.check(); err != nil {
		return err
	}
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func (c *Codec) check() error {
	switch {
	case c.In <= 0 || c.K <= 0:
		return fmt.Errorf("codec: in %d, k %d", c.In, c.K)
	case c.Basis == nil && c.K != c.In:
		return fmt.Errorf("codec: no basis but k %d != in %d", c.K, c.In)
	case c.Basis != nil && len(c.Basis) != c.K*c.In:
		return fmt.Errorf("codec: basis of %d values, want %d x %d", len(c.Basis), c.K, c.In)
	}
	switch c.Quant {
	case QuantNone, QuantRow8:
	case QuantDim8, QuantDim4:
		if len(c.Lo) != c.K || len(c.Step) != c.K {
			return fmt.Errorf("codec: %s needs %d ranges", c.Quant, c.K)
		}
	default:
		return fmt.Errorf("codec: unknown quantizer %q", c.Quant)
	}
	return nil
}

// BytesPerRow is the size of one encoded row.
func (c *Codec) BytesPerRow() int {
	switch c.Quant {
	case QuantRow8:
		return c.K + 8
	case QuantDim8:
		return c.K
	case QuantDim4:
		return (c.K + 1) / 2
	}
	return 4 * c.K
}

// Project writes the K projected values of row (In values) to dst.
func (c *Codec) Project(dst, row []float32) {
	if c.Basis == nil {
		copy(dst, row[:c.In])
		return
	}
	for k := range c.K {
		b := c.Basis[k*c.In : (k+1)*c.In]
		var s float32
		for i, x := range row[:c.In] {
			s += b[i] * x
		}
		dst[k] = s
	}
}

// Encode projects and quantizes one row.
func (c *Codec) Encode(row []float32) []byte {
	p := make([]float32, c.K)
	c.Project(p, row)
	return c.quantize(p)
}

func (c *Codec) quantize(p []float32) []byte {
	out := make([]byte, c.BytesPerRow())
	switch c.Quant {
	case QuantNone:
		for i, x := range p {
			u := math.Float32bits(x)
			out[4*i], out[4*i+1], out[4*i+2], out[4*i+3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
		}
	case QuantRow8:
		lo, hi := p[0], p[0]
		for _, x := range p {
			lo, hi = min(lo, x), max(hi, x)
		}
		step := (hi - lo) / 255
		putF32(out[c.K:], lo)
		putF32(out[c.K+4:], step)
		for i, x := range p {
			out[i] = level(x, lo, step, 255)
		}
	case QuantDim8:
		for i, x := range p {
			out[i] = level(x, c.Lo[i], c.Step[i], 255)
		}
	case QuantDim4:
		for i, x := range p {
			q := level(x, c.Lo[i], c.Step[i], 15)
			out[i/2] |= q << (4 * (i % 2))
		}
	}
	return out
}

// level is x's nearest level of lo + step*q, q in [0, top].
func level(x, lo, step float32, top int) byte {
	if !(step > 0) {
		return 0
	}
	q := math.Round(float64((x - lo) / step))
	return byte(min(float64(top), max(0, q)))
}

// Decode turns one encoded row back into K values in dst.
func (c *Codec) Decode(dst []float32, code []byte) {
	switch c.Quant {
	case QuantNone:
		for i := range c.K {
			dst[i] = getF32(code[4*i:])
		}
	case QuantRow8:
		lo, step := getF32(code[c.K:]), getF32(code[c.K+4:])
		for i := range c.K {
			dst[i] = lo + step*float32(code[i])
		}
	case QuantDim8:
		for i := range c.K {
			dst[i] = c.Lo[i] + c.Step[i]*float32(code[i])
		}
	case QuantDim4:
		for i := range c.K {
			dst[i] = c.Lo[i] + c.Step[i]*float32(code[i/2]>>(4*(i%2))&15)
		}
	}
}

// Stored is what a library searches for rows (n rows of In, row-major):
// each row encoded and decoded back, n rows of K.
func (c *Codec) Stored(rows []float32) []float32 {
	n := len(rows) / c.In
	out := make([]float32, n*c.K)
	for i := range n {
		c.Decode(out[i*c.K:(i+1)*c.K], c.Encode(rows[i*c.In:(i+1)*c.In]))
	}
	return out
}

// Query is what a clip's rows (n rows of In) are searched as: projected,
// and quantized too with QuantizeQuery.
func (c *Codec) Query(rows []float32) []float32 {
	if c.QuantizeQuery {
		return c.Stored(rows)
	}
	n := len(rows) / c.In
	out := make([]float32, n*c.K)
	for i := range n {
		c.Project(out[i*c.K:(i+1)*c.K], rows[i*c.In:(i+1)*c.In])
	}
	return out
}

func putF32(b []byte, x float32) {
	u := math.Float32bits(x)
	b[0], b[1], b[2], b[3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
}

func getF32(b []byte) float32 {
	return math.Float32frombits(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)
}

// Series is one video's rows (n x Dim, row-major), as fitting reads them.
type Series struct {
	Dim  int
	Rows []float32
}

func (s Series) n() int { return len(s.Rows) / s.Dim }

// mean is the series' mean row, in float64.
func (s Series) mean() []float64 {
	n := s.n()
	mean := make([]float64, s.Dim)
	for i := range n {
		for d, f := range s.Rows[i*s.Dim : (i+1)*s.Dim] {
			mean[d] += float64(f)
		}
	}
	for d := range mean {
		mean[d] /= float64(n)
	}
	return mean
}

// covariance is the In x In covariance of all rows, each centred by its own
// video's mean (match centres per video), accumulated in float64.
func covariance(videos []Series) ([]float64, int, error) {
	if len(videos) == 0 {
		return nil, 0, fmt.Errorf("no videos")
	}
	dim := videos[0].Dim
	cov := make([]float64, dim*dim)
	total := 0
	x := make([]float64, dim)
	for _, v := range videos {
		if v.Dim != dim {
			return nil, 0, fmt.Errorf("dimensions %d and %d", dim, v.Dim)
		}
		n := v.n()
		if n < 2 {
			continue
		}
		mean := v.mean()
		for i := range n {
			for d, f := range v.Rows[i*dim : (i+1)*dim] {
				x[d] = float64(f) - mean[d]
			}
			for a := range dim {
				xa := x[a]
				if xa == 0 {
					continue
				}
				row := cov[a*dim : a*dim+a+1]
				for b := range row {
					row[b] += xa * x[b]
				}
			}
		}
		total += n
	}
	if total == 0 {
		return nil, 0, fmt.Errorf("no rows")
	}
	for a := range dim {
		for b := 0; b <= a; b++ {
			cov[a*dim+b] /= float64(total)
			cov[b*dim+a] = cov[a*dim+b]
		}
	}
	return cov, total, nil
}

// FitPCA returns the top k principal directions (k rows of Dim, row-major,
// unit length) of the videos' rows, each video centred by its own mean, and
// every eigenvalue of their covariance, largest first. The covariance is
// accumulated in float64 and decomposed exactly (Householder + QL).
func FitPCA(videos []Series, k int) (basis []float32, eigen []float64, err error) {
	cov, _, err := covariance(videos)
	if err != nil {
		return nil, nil, err
	}
	dim := videos[0].Dim
	if k < 1 || k > dim {
		return nil, nil, fmt.Errorf("k %d out of 1..%d", k, dim)
	}
	d, v := symEigen(cov, dim)
	basis = make([]float32, k*dim)
	eigen = make([]float64, dim)
	for j := range dim {
		col := dim - 1 - j // ascending -> largest first
		eigen[j] = d[col]
		if j < k {
			for i := range dim {
				basis[j*dim+i] = float32(v[i*dim+col])
			}
		}
	}
	return basis, eigen, nil
}

// RandomOrthogonal returns k orthonormal rows of dim values, drawn from a
// Gaussian and orthonormalised (Gram-Schmidt, twice): the library's own.
func RandomOrthogonal(k, dim int, seed uint64) []float32 {
	return rowcodec.RandomOrthogonal(k, dim, seed)
}

// VarianceKept is the share of the videos' variance (each video centred by
// its own mean) that the basis (k rows of Dim) keeps.
func VarianceKept(videos []Series, basis []float32, k int) float64 {
	var kept, all float64
	for _, v := range videos {
		dim, n := v.Dim, v.n()
		if n < 2 {
			continue
		}
		mean := v.mean()
		x := make([]float64, dim)
		for i := range n {
			for d, f := range v.Rows[i*dim : (i+1)*dim] {
				x[d] = float64(f) - mean[d]
				all += x[d] * x[d]
			}
			for j := range k {
				var s float64
				for d, b := range basis[j*dim : (j+1)*dim] {
					s += float64(b) * x[d]
				}
				kept += s * s
			}
		}
	}
	return kept / all
}

// FitRanges sets the per-dimension quantizer ranges (dim8, dim4) from the
// training rows projected: each dimension's mean ± width standard
// deviations (of the raw projected rows, not centred per video: stored rows
// are raw), split into 256 or 16 levels.
func (c *Codec) FitRanges(videos []Series, width float64) {
	sum := make([]float64, c.K)
	sq := make([]float64, c.K)
	var n float64
	p := make([]float32, c.K)
	for _, v := range videos {
		for i := range v.n() {
			c.Project(p, v.Rows[i*v.Dim:(i+1)*v.Dim])
			for j, x := range p {
				sum[j] += float64(x)
				sq[j] += float64(x) * float64(x)
			}
			n++
		}
	}
	levels := 255.0
	if c.Quant == QuantDim4 {
		levels = 15
	}
	c.Lo = make([]float32, c.K)
	c.Step = make([]float32, c.K)
	for j := range c.K {
		mean := sum[j] / n
		sd := math.Sqrt(max(0, sq[j]/n-mean*mean))
		c.Lo[j] = float32(mean - width*sd)
		c.Step[j] = float32(2 * width * sd / levels)
	}
}
