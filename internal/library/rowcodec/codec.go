package rowcodec

import (
	"fmt"

	"github.com/x448/float16"

	"github.com/vidprint/vidprint/internal/library"
	"github.com/vidprint/vidprint/internal/vprint"
)

// Codec stores one row of features in a fixed number of bytes. A library
// names its codec in Meta, so prints written by one codec are always read
// by the same one.
type Codec interface {
	Name() string
	// Dim is the number of features a decoded row holds; a codec may
	// project rows of Meta.Dim features to fewer.
	Dim() int
	RowBytes() int
	// Encode stores a row of Meta.Dim features in RowBytes bytes.
	Encode(dst []byte, row []float32)
	Decode(dst []float32, code []byte)
	// Project maps a row of Meta.Dim features into the decoded space
	// without quantizing: how a query meets stored rows.
	Project(dst, row []float32)
	// ProjectRows projects rows (a whole number of rows of Meta.Dim) into
	// dst, faster than a row at a time.
	ProjectRows(dst, rows []float32)
}

// CodecHalf keeps every feature as a float16: exact to about 3 digits.
const CodecHalf = "f16"

// NewCodec builds the codec a library's Meta names.
func NewCodec(m library.Meta) (Codec, error) {
	switch m.Codec {
	case CodecHalf:
		if m.Dim <= 0 {
			return nil, fmt.Errorf("codec %s: dimension %d", m.Codec, m.Dim)
		}
		return half{m.Dim}, nil
	case CodecProjected:
		return newProjected(m)
	}
	return nil, fmt.Errorf("unknown codec %q", m.Codec)
}

// NewRegionCodec builds the codec of a library's region features, or nil
// when it keeps none. Its rows are the four quarters of a frame side by
// side: 4*Meta.Dim features in.
func NewRegionCodec(m library.Meta) (Codec, error) {
	switch m.RegionCodec {
	case "":
		return nil, nil
	case RegionCodecProjected:
		if m.Codec != CodecProjected {
			return nil, fmt.Errorf("region codec %s needs codec %s, not %s", m.RegionCodec, CodecProjected, m.Codec)
		}
		return newRegionProjected(m)
	}
	return nil, fmt.Errorf("unknown region codec %q", m.RegionCodec)
}

// RegionCodecFor is the region codec a new library of codec gets: regions
// only where they are compact.
func RegionCodecFor(codec string) string {
	if codec == CodecProjected {
		return RegionCodecProjected
	}
	return ""
}

type half struct{ dim int }

func (h half) Name() string  { return CodecHalf }
func (h half) Dim() int      { return h.dim }
func (h half) RowBytes() int { return 2 * h.dim }

func (h half) Encode(dst []byte, row []float32) {
	for i, v := range row[:h.dim] {
		b := float16.Fromfloat32(v).Bits()
		dst[2*i], dst[2*i+1] = byte(b), byte(b>>8)
	}
}

func (h half) Project(dst, row []float32)      { copy(dst[:h.dim], row) }
func (h half) ProjectRows(dst, rows []float32) { copy(dst, rows) }

func (h half) Decode(dst []float32, code []byte) {
	for i := range dst[:h.dim] {
		dst[i] = float16.Frombits(uint16(code[2*i]) | uint16(code[2*i+1])<<8).Float32()
	}
}

// NewEntry encodes a print's rows with c, and keeps its thumbnails. The
// mean is taken over the decoded rows, so the search centres exactly what
// it reads.
func NewEntry(c Codec, v library.Video, p *vprint.Print) library.Entry {
	n := p.Frames()
	codes, mean := encodeRows(c, n, p.Row)
	v.Frames = n
	return library.Entry{Video: v, Timestamps: p.Timestamps, Codes: codes, Mean: mean, Thumbs: p.Thumbs}
}

// encodeRows encodes n rows with c, and returns the mean of the decoded
// rows.
func encodeRows(c Codec, n int, row func(i int) []float32) ([]byte, []float32) {
	rb := c.RowBytes()
	codes := make([]byte, n*rb)
	sum := make([]float64, c.Dim())
	decoded := make([]float32, c.Dim())
	for i := range n {
		code := codes[i*rb : (i+1)*rb]
		c.Encode(code, row(i))
		c.Decode(decoded, code)
		for d, x := range decoded {
			sum[d] += float64(x)
		}
	}
	mean := make([]float32, c.Dim())
	for d := range mean {
		mean[d] = float32(sum[d] / float64(max(n, 1)))
	}
	return codes, mean
}

// CheckRegions tells whether r fits n frames in the region codec rc (nil:
// a library that keeps none); no regions always fit.
func CheckRegions(rc Codec, r library.Regions, n int) error {
	switch {
	case r.RegionCodes == nil && r.RegionMean != nil:
		return fmt.Errorf("a region mean without region codes")
	case r.RegionCodes == nil:
		return nil
	case rc == nil:
		return fmt.Errorf("region codes, but the library keeps no regions")
	case len(r.RegionCodes) != n*rc.RowBytes():
		return fmt.Errorf("region codes hold %d bytes, want %d frames of %d", len(r.RegionCodes), n, rc.RowBytes())
	case len(r.RegionMean) != rc.Dim():
		return fmt.Errorf("region mean holds %d values, want %d", len(r.RegionMean), rc.Dim())
	}
	return nil
}

// NewRegions encodes a print's quarters with the region codec rc; a nil
// codec or a print without quarters gives none.
func NewRegions(rc Codec, p *vprint.Print) library.Regions {
	if rc == nil || !p.HasQuarters() {
		return library.Regions{}
	}
	codes, mean := encodeRows(rc, p.Frames(), p.RegionRow)
	return library.Regions{RegionCodes: codes, RegionMean: mean}
}

// DecodeRows decodes rows [lo, hi) of codes into dst, which holds
// (hi-lo)*c.Dim() values.
func DecodeRows(c Codec, dst []float32, codes []byte, lo, hi int) {
	d, rb := c.Dim(), c.RowBytes()
	for i := lo; i < hi; i++ {
		c.Decode(dst[(i-lo)*d:(i-lo+1)*d], codes[i*rb:(i+1)*rb])
	}
}

// ForMeta builds both codecs a library's Meta names: its rows' and its
// region features' (nil when it keeps none).
func ForMeta(m library.Meta) (rows, regions Codec, err error) {
	if rows, err = NewCodec(m); err != nil {
		return nil, nil, err
	}
	if regions, err = NewRegionCodec(m); err != nil {
		return nil, nil, err
	}
	return rows, regions, nil
}
