package vprint

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/x448/float16"
)

const testSHA = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// rng is a small deterministic generator so tests need no global rand state.
type rng uint64

func (r *rng) next() uint64 {
	*r ^= *r << 13
	*r ^= *r >> 7
	*r ^= *r << 17
	return uint64(*r)
}

// float returns a value in [-8, 8).
func (r *rng) float() float32 { return float32(r.next()>>40)/float32(1<<24)*16 - 8 }

func newPrint(frames, dim int, seed uint64) *Print {
	r := rng(seed | 1)
	p := &Print{
		Model:      Model{ID: "mobilenetv3-large", SHA256: testSHA, Output: "embedding"},
		Dim:        dim,
		FPS:        5,
		Timestamps: make([]float64, frames),
		Features:   make([]float32, frames*dim),
		Source: Source{Name: "clip.mp4", Size: 123456, SHA256: strings.Repeat("ab", 32),
			DurationS: float64(frames) / 5, Width: 1920, Height: 1080},
		CreatedAt: time.Date(2025, 11, 26, 5, 35, 0, 123456789, time.UTC),
	}
	for i := range p.Timestamps {
		p.Timestamps[i] = float64(i) / 5
	}
	for i := range p.Features {
		p.Features[i] = r.float()
	}
	return p
}

// withRegions gives p regions region rows a frame.
func withRegions(p *Print, regions int, seed uint64) *Print {
	r := rng(seed | 1)
	p.Regions = regions
	p.RegionFeatures = make([]float32, p.Frames()*regions*p.Dim)
	for i := range p.RegionFeatures {
		p.RegionFeatures[i] = r.float()
	}
	return p
}

// withThumbs gives p thumbnails of w x h pixels every rows.
func withThumbs(p *Print, w, h, every int, seed uint64) *Print {
	r := rng(seed | 1)
	p.Thumbs = Thumbs{Width: w, Height: h, Every: every}
	p.Thumbs.Pixels = make([]byte, p.Thumbs.Count(p.Frames())*w*h)
	for i := range p.Thumbs.Pixels {
		p.Thumbs.Pixels[i] = byte(r.next())
	}
	return p
}

// thumbOf is the thumbnail Writer.Append wants for row i of p: nil unless
// one is due.
func thumbOf(p *Print, i int) []byte {
	if p.Thumbs.Width == 0 || i%p.Thumbs.Every != 0 {
		return nil
	}
	return p.Thumbs.Thumb(i / p.Thumbs.Every)
}

// fileSize is the size docs/print-format.md gives for p's file.
func fileSize(p *Print) int {
	n := p.Frames()
	return 22 + headerLen(p) + 8*n + 2*n*p.Dim*(1+p.Regions) + p.Thumbs.Count(n)*p.Thumbs.Width*p.Thumbs.Height
}

func encode(t testing.TB, p *Print) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Encode(&b, p); err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return b.Bytes()
}

// half rounds v as Encode stores it.
func half(v float32) float32 { return float16.Fromfloat32(v).Float32() }

// checkSame compares a decoded print with the original, allowing the
// float16 rounding of the features.
func checkSame(t *testing.T, got, want *Print) {
	t.Helper()
	if got.Model != want.Model || got.Dim != want.Dim || got.FPS != want.FPS || got.Source != want.Source {
		t.Fatalf("header mismatch:\n got %+v %d %v %+v\nwant %+v %d %v %+v",
			got.Model, got.Dim, got.FPS, got.Source, want.Model, want.Dim, want.FPS, want.Source)
	}
	if !got.CreatedAt.Equal(want.CreatedAt) {
		t.Fatalf("CreatedAt = %v, want %v", got.CreatedAt, want.CreatedAt)
	}
	if !reflect.DeepEqual(got.Timestamps, want.Timestamps) {
		t.Fatal("timestamps differ")
	}
	if got.Regions != want.Regions {
		t.Fatalf("%d regions, want %d", got.Regions, want.Regions)
	}
	if g, w := got.Thumbs, want.Thumbs; g.Width != w.Width || g.Height != w.Height || g.Every != w.Every || !bytes.Equal(g.Pixels, w.Pixels) {
		t.Fatalf("thumbnails %dx%d every %d (%d bytes), want %dx%d every %d (%d bytes) or other pixels",
			g.Width, g.Height, g.Every, len(g.Pixels), w.Width, w.Height, w.Every, len(w.Pixels))
	}
	for _, block := range []struct {
		what      string
		got, want []float32
	}{{"feature", got.Features, want.Features}, {"region feature", got.RegionFeatures, want.RegionFeatures}} {
		if len(block.got) != len(block.want) {
			t.Fatalf("%d %ss, want %d", len(block.got), block.what, len(block.want))
		}
		for i, w := range block.want {
			g := block.got[i]
			// Round to nearest: half an ulp, 2^-11 relative for normal halves,
			// 2^-25 absolute in the subnormal range.
			bound := math.Max(math.Abs(float64(w))/2048, 1.0/(1<<25))
			if math.Abs(float64(g-w)) > bound || g != half(w) {
				t.Fatalf("%s %d = %v, want %v (±%g)", block.what, i, g, w, bound)
			}
		}
	}
}

// onlyReader hides Len so Decode cannot learn the input size.
type onlyReader struct{ io.Reader }

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		frames, dim, regions int
		thumbs               Thumbs // shape only
		version              int
	}{
		{"1x1", 1, 1, 0, Thumbs{}, 1},
		{"1x1024", 1, 1024, 0, Thumbs{}, 1},
		{"100x576", 100, 576, 0, Thumbs{}, 1},
		{"37x1280", 37, 1280, 0, Thumbs{}, 1},
		{"300x1024", 300, 1024, 0, Thumbs{}, 1}, // spans several I/O chunks
		{"5x65536", 5, MaxDim, 0, Thumbs{}, 1},
		{"1x1 with a region", 1, 1, 1, Thumbs{}, 2},
		{"300x1024 with 4 regions", 300, 1024, 4, Thumbs{}, 2},
		{"3x7 with 16 regions", 3, 7, MaxRegions, Thumbs{}, 2},
		{"1x1 with a 1x1 thumbnail", 1, 1, 0, Thumbs{Width: 1, Height: 1, Every: 1}, 3},
		{"12x8 with 16x12 thumbnails every 5", 12, 8, 0, Thumbs{Width: 16, Height: 12, Every: 5}, 3},
		{"10x8 with thumbnails every 5", 10, 8, 0, Thumbs{Width: 16, Height: 12, Every: 5}, 3}, // last row has none
		{"3x4 with thumbnails every 50", 3, 4, 0, Thumbs{Width: 3, Height: 2, Every: 50}, 3},
		{"300x1024 with 4 regions and thumbnails", 300, 1024, 4, Thumbs{Width: 16, Height: 12, Every: 5}, 3},
		{"70x2 with 64x64 thumbnails every row", 70, 2, 0, Thumbs{Width: MaxThumbSide, Height: MaxThumbSide, Every: 1}, 3}, // spans chunks
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPrint(tc.frames, tc.dim, uint64(tc.frames*tc.dim))
			if tc.regions > 0 {
				withRegions(p, tc.regions, 7)
			}
			if tc.thumbs.Width > 0 {
				withThumbs(p, tc.thumbs.Width, tc.thumbs.Height, tc.thumbs.Every, 8)
			}
			data := encode(t, p)
			if want := fileSize(p); len(data) != want {
				t.Errorf("encoded %d bytes, want %d", len(data), want)
			}
			// Writers write the oldest version that holds the print.
			if v := binary.LittleEndian.Uint16(data[8:]); int(v) != tc.version {
				t.Errorf("version %d, want %d", v, tc.version)
			}
			for _, r := range []struct {
				name string
				r    io.Reader
			}{
				{"sized", bytes.NewReader(data)},
				{"stream", onlyReader{bytes.NewReader(data)}},
				{"onebyte", iotest.OneByteReader(bytes.NewReader(data))},
			} {
				got, err := Decode(r.r)
				if err != nil {
					t.Fatalf("%s: Decode: %v", r.name, err)
				}
				checkSame(t, got, p)
			}
			path := filepath.Join(t.TempDir(), "x.vprint")
			if err := WriteFile(path, p); err != nil {
				t.Fatal(err)
			}
			got, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			checkSame(t, got, p)
		})
	}
}

func headerLen(p *Print) int { return len(appendHeader(nil, p, p.version())) }

func TestSpecialValues(t *testing.T) {
	p := newPrint(2, 8, 1)
	copy(p.Features, []float32{0, float32(math.Copysign(0, -1)), 1e-8, -3e-6, 65504, -65519.99, 1e-3, 7})
	p.Timestamps = []float64{-0.5, -0.5} // negative and equal timestamps are allowed
	p.CreatedAt = time.Time{}
	p.Source = Source{}
	got, err := Decode(bytes.NewReader(encode(t, p)))
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, got, p)
	if !math.Signbit(float64(got.Features[1])) {
		t.Error("-0 lost its sign")
	}
	if got.Features[5] != -MaxFloat16 {
		t.Errorf("-65519.99 stored as %v, want -65504", got.Features[5])
	}
	if !got.CreatedAt.IsZero() {
		t.Errorf("unset CreatedAt read back as %v", got.CreatedAt)
	}
}

func TestCreatedAtZone(t *testing.T) {
	p := newPrint(1, 4, 1)
	p.CreatedAt = time.Date(2030, 1, 2, 3, 4, 5, 6, time.FixedZone("X", 3600)).Round(0)
	got, err := Decode(bytes.NewReader(encode(t, p)))
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(p.CreatedAt) || got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v, want %v in UTC", got.CreatedAt, p.CreatedAt)
	}
}

func TestEncodeRange(t *testing.T) {
	for _, v := range []float32{65520, -65520, 1e6, math.MaxFloat32} {
		p := newPrint(3, 4, 2)
		p.Features[9] = v
		var b bytes.Buffer
		err := Encode(&b, p)
		if !errors.Is(err, ErrRange) {
			t.Errorf("Encode(%v) = %v, want ErrRange", v, err)
		}
		if b.Len() != 0 {
			t.Errorf("Encode(%v) wrote %d bytes before failing", v, b.Len())
		}
		if err != nil && !strings.Contains(err.Error(), "row 2") {
			t.Errorf("error %q does not name the row", err)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(p *Print)
	}{
		{"no frames", func(p *Print) { p.Timestamps, p.Features = nil, nil }},
		{"dim 0", func(p *Print) { p.Dim = 0 }},
		{"dim too big", func(p *Print) { p.Dim = MaxDim + 1 }},
		{"features short", func(p *Print) { p.Features = p.Features[1:] }},
		{"fps 0", func(p *Print) { p.FPS = 0 }},
		{"fps NaN", func(p *Print) { p.FPS = math.NaN() }},
		{"fps Inf", func(p *Print) { p.FPS = math.Inf(1) }},
		{"timestamp NaN", func(p *Print) { p.Timestamps[1] = math.NaN() }},
		{"timestamp Inf", func(p *Print) { p.Timestamps[2] = math.Inf(1) }},
		{"timestamps decrease", func(p *Print) { p.Timestamps[1] = 5 }},
		{"feature NaN", func(p *Print) { p.Features[3] = float32(math.NaN()) }},
		{"feature Inf", func(p *Print) { p.Features[0] = float32(math.Inf(-1)) }},
		{"no model id", func(p *Print) { p.Model.ID = "" }},
		{"long model id", func(p *Print) { p.Model.ID = strings.Repeat("m", MaxIDLen+1) }},
		{"no output", func(p *Print) { p.Model.Output = "" }},
		{"bad utf8", func(p *Print) { p.Model.Output = "\xff" }},
		{"model sha short", func(p *Print) { p.Model.SHA256 = "abc" }},
		{"model sha upper", func(p *Print) { p.Model.SHA256 = strings.ToUpper(testSHA) }},
		{"source sha", func(p *Print) { p.Source.SHA256 = "zz" }},
		{"source path", func(p *Print) { p.Source.Name = "dir/clip.mp4" }},
		{"source NUL", func(p *Print) { p.Source.Name = "a\x00b" }},
		{"long source name", func(p *Print) { p.Source.Name = strings.Repeat("n", MaxNameLen+1) }},
		{"negative size", func(p *Print) { p.Source.Size = -1 }},
		{"duration NaN", func(p *Print) { p.Source.DurationS = math.NaN() }},
		{"negative width", func(p *Print) { p.Source.Width = -1 }},
		{"created 1600", func(p *Print) { p.CreatedAt = time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPrint(3, 4, 3)
			if err := p.Validate(); err != nil {
				t.Fatalf("valid print: %v", err)
			}
			tc.mod(p)
			err := p.Validate()
			if !errors.Is(err, ErrInvalid) || errors.Is(err, ErrFormat) {
				t.Fatalf("Validate = %v, want ErrInvalid", err)
			}
			if err := Encode(io.Discard, p); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Encode = %v, want ErrInvalid", err)
			}
			if tc.name == "created 1600" {
				return // cannot even be written raw
			}
			// The same print written raw, with valid checksums, must not decode.
			_, err = Decode(bytes.NewReader(rawEncode(p, nil)))
			if !errors.Is(err, ErrCorrupt) && !(tc.name == "features short" && errors.Is(err, ErrTruncated)) {
				t.Fatalf("Decode = %v, want ErrCorrupt", err)
			}
		})
	}
	var nilp *Print
	if err := nilp.Validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("nil.Validate() = %v", err)
	}
}

// rawEncode writes p like Encode but without any checks, with extra bytes
// appended to the header, so tests can build files with valid checksums and
// bad contents.
func rawEncode(p *Print, extra []byte) []byte {
	return rawEncodeVersion(p, p.version(), extra)
}

// rawEncodeVersion is rawEncode in a given format version.
func rawEncodeVersion(p *Print, version int, extra []byte) []byte {
	le := binary.LittleEndian
	b := append([]byte(Magic), byte(version), 0, 0, 0, 0, 0)
	b = appendHeader(b, p, version)
	b = append(b, extra...)
	le.PutUint32(b[10:], uint32(len(b)-prefixLen))
	b = le.AppendUint32(b, crc32.Checksum(b, castagnoli))
	start := len(b)
	for _, t := range p.Timestamps {
		b = le.AppendUint64(b, math.Float64bits(t))
	}
	for _, v := range p.Features {
		b = le.AppendUint16(b, float16.Fromfloat32(v).Bits())
	}
	for _, v := range p.RegionFeatures {
		b = le.AppendUint16(b, float16.Fromfloat32(v).Bits())
	}
	b = append(b, p.Thumbs.Pixels...)
	return le.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
}

func TestRawEncodeMatches(t *testing.T) {
	for _, p := range []*Print{
		newPrint(4, 3, 4),
		withRegions(newPrint(4, 3, 4), 2, 5),
		withThumbs(withRegions(newPrint(11, 3, 4), 2, 5), 4, 3, 5, 6),
	} {
		if !bytes.Equal(rawEncode(p, nil), encode(t, p)) {
			t.Fatalf("version %d: rawEncode and Encode disagree; the corruption tests would test nothing", p.version())
		}
	}
}

func TestHeaderExtension(t *testing.T) {
	// A compatible future writer may append header fields; readers skip
	// them in every version.
	for _, p := range []*Print{
		newPrint(2, 3, 5),
		withRegions(newPrint(2, 3, 5), 2, 6),
		withThumbs(newPrint(7, 3, 5), 5, 4, 3, 7),
	} {
		got, err := Decode(bytes.NewReader(rawEncode(p, []byte("future fields"))))
		if err != nil {
			t.Fatalf("version %d: %v", p.version(), err)
		}
		checkSame(t, got, p)
	}
}

// TestVersion3WithoutThumbs checks that readers take a version 3 file
// without thumbnails, and with R = 0, which writers would write as version 1.
func TestVersion3WithoutThumbs(t *testing.T) {
	p := newPrint(4, 3, 8)
	data := rawEncodeVersion(p, 3, nil)
	if len(data) != fileSize(p)+12 {
		t.Fatalf("version 3 file of %d bytes, want %d with 12 more header bytes", len(data), fileSize(p)+12)
	}
	got, err := Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, got, p)
	if got.Thumbs.Pixels != nil {
		t.Errorf("no thumbnails read as %d bytes", len(got.Thumbs.Pixels))
	}
}

// versionPrints has a small print of each version.
func versionPrints() []*Print {
	return []*Print{
		newPrint(3, 5, 6),
		withRegions(newPrint(3, 5, 6), 2, 7),
		withThumbs(withRegions(newPrint(7, 5, 6), 2, 7), 4, 3, 3, 8),
	}
}

func TestDecodeTruncated(t *testing.T) {
	for _, p := range versionPrints() {
		data := encode(t, p)
		for n := 0; n < len(data); n++ {
			for _, r := range []io.Reader{bytes.NewReader(data[:n]), onlyReader{bytes.NewReader(data[:n])}} {
				_, err := Decode(r)
				if !errors.Is(err, ErrTruncated) || !errors.Is(err, ErrFormat) {
					t.Fatalf("version %d: prefix of %d/%d bytes (%T): %v, want ErrTruncated", p.version(), n, len(data), r, err)
				}
			}
		}
	}
}

func TestDecodeFlip(t *testing.T) {
	for _, p := range versionPrints() {
		data := encode(t, p)
		headEnd := prefixLen + headerLen(p) + 4
		for i := range data {
			for _, mask := range []byte{0x01, 0x80, 0xff} {
				bad := bytes.Clone(data)
				bad[i] ^= mask
				_, err := Decode(bytes.NewReader(bad))
				var want error
				switch {
				case i < 8:
					want = ErrNotPrint
				case i < 10:
					want = ErrVersion
					if v := binary.LittleEndian.Uint16(bad[8:]); v >= 1 && v <= Version {
						want = ErrChecksum // another version this package reads
					}
				case i < 14:
					want = ErrFormat // a wrong header length fails one way or another
				default: // header, data and both checksums
					want = ErrChecksum
				}
				if !errors.Is(err, want) || !errors.Is(err, ErrFormat) {
					t.Fatalf("version %d: byte %d ^= %#x (header ends at %d): %v, want %v", p.version(), i, mask, headEnd, err, want)
				}
			}
		}
	}
}

// TestThumbChecksum checks that the data checksum covers the thumbnails,
// first and last byte.
func TestThumbChecksum(t *testing.T) {
	p := withThumbs(newPrint(6, 2, 9), 16, 12, 5, 10)
	data := encode(t, p)
	for _, i := range []int{len(data) - 4 - len(p.Thumbs.Pixels), len(data) - 5} {
		bad := bytes.Clone(data)
		bad[i]++
		_, err := Decode(bytes.NewReader(bad))
		if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), "data crc32c") {
			t.Errorf("thumbnail byte %d changed: %v, want a data checksum mismatch", i, err)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	good := encode(t, newPrint(2, 3, 8))
	withVersion := func(v uint16) []byte {
		b := bytes.Clone(good)
		binary.LittleEndian.PutUint16(b[8:], v)
		return b
	}
	// claim gives data another version and fixes the header checksum, so
	// that the header holds too few fields for the version.
	claim := func(data []byte, v uint16) []byte {
		b := bytes.Clone(data)
		binary.LittleEndian.PutUint16(b[8:], v)
		end := prefixLen + int(binary.LittleEndian.Uint32(b[10:]))
		binary.LittleEndian.PutUint32(b[end:], crc32.Checksum(b[:end], castagnoli))
		return b
	}
	v2 := encode(t, withRegions(newPrint(2, 3, 8), 1, 9))
	for _, tc := range []struct {
		name string
		data []byte
		want error
		msg  string
	}{
		{"empty", nil, ErrTruncated, ""},
		{"zip", []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00"), ErrNotPrint, "not a vidprint print file"},
		{"text", []byte("hello"), ErrNotPrint, ""},
		{"magic only", []byte(Magic), ErrTruncated, ""},
		{"version 4", withVersion(4), ErrVersion, "unsupported print version 4 (this vidprint reads 1 to 3)"},
		// Version 2 has one more header field, the regions; version 3
		// three more, the thumbnail shape.
		{"version 2 header of version 1", claim(good, 2), ErrCorrupt, "regions"},
		{"version 3 header of version 1", claim(good, 3), ErrCorrupt, "regions"},
		{"version 3 header of version 2", claim(v2, 3), ErrCorrupt, "thumbnail width"},
		{"version 0", withVersion(0), ErrVersion, "unsupported print version 0"},
		{"trailing", append(bytes.Clone(good), 0), ErrCorrupt, "trailing"},
		{"huge header", append([]byte(Magic), 1, 0, 0xff, 0xff, 0xff, 0xff), ErrCorrupt, "header length"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(bytes.NewReader(tc.data))
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrFormat) {
				t.Fatalf("Decode = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not say %q", err, tc.msg)
			}
		})
	}
	var ve *VersionError
	if _, err := Decode(bytes.NewReader(withVersion(7))); !errors.As(err, &ve) || ve.Version != 7 {
		t.Errorf("version 7: %v, want a *VersionError", err)
	}
}

// TestDecodeHugeClaims checks that a small file declaring huge sizes fails
// without allocating for them, whether or not Decode knows the input size.
func TestDecodeHugeClaims(t *testing.T) {
	for _, tc := range []struct {
		name         string
		p            *Print
		frames, dim  uint64
		want         error
		wantInHeader bool
	}{
		{"max", newPrint(1, 1, 9), MaxFrames, MaxDim, ErrTruncated, false},
		{"frames over", newPrint(1, 1, 9), MaxFrames + 1, 1, ErrCorrupt, true},
		{"dim over", newPrint(1, 1, 9), 1, MaxDim + 1, ErrCorrupt, true},
		{"frames 0", newPrint(1, 1, 9), 0, 4, ErrCorrupt, true},
		{"max with regions and thumbnails", withThumbs(withRegions(newPrint(1, 1, 9), MaxRegions, 1), MaxThumbSide, MaxThumbSide, 1, 2), MaxFrames, MaxDim, ErrTruncated, false},
		{"max thumbnails", withThumbs(newPrint(1, 1, 9), MaxThumbSide, MaxThumbSide, 1, 2), MaxFrames, 1, ErrTruncated, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p
			b := rawEncode(p, nil)
			// Patch dim and frame count, then fix the header checksum.
			off := prefixLen + 2 + len(p.Model.ID) + 2 + len(p.Model.SHA256) + 2 + len(p.Model.Output)
			binary.LittleEndian.PutUint32(b[off:], uint32(tc.dim))
			binary.LittleEndian.PutUint64(b[off+4:], tc.frames)
			hend := prefixLen + headerLen(p)
			binary.LittleEndian.PutUint32(b[hend:], crc32.Checksum(b[:hend], castagnoli))
			for _, r := range []io.Reader{bytes.NewReader(b), onlyReader{bytes.NewReader(b)}} {
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				_, err := Decode(r)
				runtime.ReadMemStats(&after)
				if !errors.Is(err, tc.want) {
					t.Fatalf("%T: %v, want %v", r, err, tc.want)
				}
				if got := after.TotalAlloc - before.TotalAlloc; got > 4<<20 {
					t.Errorf("%T: allocated %d bytes for a %d-byte input", r, got, len(b))
				}
			}
		})
	}
}

func TestRow(t *testing.T) {
	p := newPrint(3, 4, 10)
	r := p.Row(1)
	if len(r) != 4 || cap(r) != 4 || &r[0] != &p.Features[4] {
		t.Fatalf("Row(1) = len %d cap %d, not aliasing features[4:8]", len(r), cap(r))
	}
	_ = append(r, 42)
	if p.Features[8] == 42 {
		t.Error("append to a row overwrote the next row")
	}
	if p.Frames() != 3 {
		t.Errorf("Frames() = %d", p.Frames())
	}
}

func TestCompatible(t *testing.T) {
	a := newPrint(2, 4, 11)
	other := strings.Repeat("f", 64)
	for _, tc := range []struct {
		name string
		mod  func(p *Print)
		want string // in the message; "" means compatible
	}{
		{"same", func(p *Print) { p.FPS = 2; p.Source.Name = "other.mkv" }, ""},
		{"id", func(p *Print) { p.Model.ID = "mobilenetv3-small" }, `model id differ: "mobilenetv3-large" (sha256 0123456789ab…, output "embedding", dim 4) vs "mobilenetv3-small"`},
		{"sha", func(p *Print) { p.Model.SHA256 = other }, "model sha256 differ"},
		{"sha same prefix", func(p *Print) { p.Model.SHA256 = testSHA[:63] + "0" }, testSHA[:63] + "0"},
		{"output", func(p *Print) { p.Model.Output = "pooled" }, `output "pooled"`},
		{"dim", func(p *Print) { p.Dim = 8; p.Features = append(p.Features, p.Features...) }, "dim 8"},
		{"all", func(p *Print) { p.Model = Model{"x", other, "y"}; p.Dim = 2 }, "model id, model sha256, output, dim differ"},
		// Thumbnails are an extra that only some prints have.
		{"thumbnails", func(p *Print) { withThumbs(p, 16, 12, 5, 1) }, ""},
		{"regions", func(p *Print) { withRegions(p, 4, 1) }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newPrint(2, 4, 11)
			tc.mod(b)
			err := Compatible(a, b)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrIncompatible) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Compatible = %v, want ErrIncompatible saying %q", err, tc.want)
			}
		})
	}
	if err := Compatible(a, nil); !errors.Is(err, ErrIncompatible) {
		t.Errorf("Compatible(a, nil) = %v", err)
	}
}

func TestWriteFileReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.vprint")
	for seed := uint64(1); seed <= 2; seed++ {
		p := newPrint(4, 6, seed)
		if err := WriteFile(path, p); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		checkSame(t, got, p)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode())
	}
	checkOnly(t, dir, "a.vprint")
}

// checkOnly fails unless dir holds exactly the named files: no temp files.
func checkOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if !reflect.DeepEqual(got, names) && !(len(got) == 0 && len(names) == 0) {
		t.Errorf("%s holds %q, want %q", dir, got, names)
	}
}

func TestWriteFileFailures(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.vprint")
	old := encode(t, newPrint(2, 2, 12))
	if err := os.WriteFile(path, old, 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("disk on fire")
	for _, tc := range []struct {
		name string
		err  error
		fn   func(string) error
	}{
		{"invalid print", ErrInvalid, func(path string) error { return WriteFile(path, &Print{}) }},
		{"float16 range", ErrRange, func(path string) error {
			p := newPrint(2, 2, 13)
			p.Features[3] = 1e9
			return WriteFile(path, p)
		}},
		{"write fails half way", boom, func(path string) error {
			return writeFile(path, func(w io.Writer) error {
				w.Write(make([]byte, 3<<20))
				return boom
			})
		}},
		{"target is a directory", nil, func(string) error {
			if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
				return err
			}
			defer os.Remove(filepath.Join(dir, "sub"))
			return WriteFile(filepath.Join(dir, "sub"), newPrint(1, 1, 1))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.fn(path)
			if err == nil || tc.err != nil && !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if !strings.Contains(err.Error(), dir) {
				t.Errorf("error %q does not name the file", err)
			}
			if b, _ := os.ReadFile(path); !bytes.Equal(b, old) {
				t.Error("existing file was changed")
			}
			checkOnly(t, dir, "a.vprint")
		})
	}
}

func TestWriteFileBadDir(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	p := newPrint(1, 2, 14)
	for _, path := range []string{
		filepath.Join(dir, "missing", "a.vprint"),
		filepath.Join(file, "a.vprint"),
	} {
		if err := WriteFile(path, p); err == nil {
			t.Errorf("WriteFile(%s) succeeded", path)
		}
	}
	checkOnly(t, dir, "file")

	ro := filepath.Join(dir, "ro")
	if err := os.Mkdir(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions")
	}
	if err := WriteFile(filepath.Join(ro, "a.vprint"), p); err == nil {
		t.Error("WriteFile into a read-only directory succeeded")
	}
	checkOnly(t, ro)
}

func TestReadFileErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := ReadFile(filepath.Join(dir, "nope.vprint"))
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "nope.vprint") {
		t.Errorf("missing file: %v", err)
	}
	path := filepath.Join(dir, "cut.vprint")
	data := encode(t, newPrint(2, 2, 15))
	if err := os.WriteFile(path, data[:len(data)-1], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = ReadFile(path)
	if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), path) {
		t.Errorf("truncated file: %v", err)
	}
}

// TestDecodeAtOffset checks the *os.File size hint when the file is not
// read from its start.
func TestDecodeAtOffset(t *testing.T) {
	p := newPrint(3, 3, 16)
	path := filepath.Join(t.TempDir(), "x")
	if err := os.WriteFile(path, append([]byte("junk"), encode(t, p)...), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(4, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	got, err := Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, got, p)
}

func fuzzSeeds(f *testing.F) {
	f.Add(encode(f, newPrint(1, 1, 1)))
	f.Add(encode(f, newPrint(3, 4, 2)))
	special := newPrint(2, 3, 3)
	special.Source, special.CreatedAt = Source{}, time.Time{}
	f.Add(encode(f, special))
	f.Add(rawEncode(newPrint(2, 2, 4), []byte{1, 2, 3}))
	f.Add(encode(f, withRegions(newPrint(3, 2, 5), 4, 6)))
	f.Add(encode(f, withThumbs(newPrint(7, 2, 7), 4, 3, 5, 8)))
	f.Add(encode(f, withThumbs(withRegions(newPrint(2, 2, 9), 1, 10), 1, 2, 1, 11)))
	f.Add(rawEncodeVersion(newPrint(2, 2, 12), 3, nil))
	f.Add([]byte(Magic))
}

func FuzzDecode(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(checkDecode)
}

// FuzzDecodeChecksummed repairs both checksums before decoding, so that
// mutations reach the header parser and the value checks instead of
// stopping at the CRCs.
func FuzzDecodeChecksummed(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		le := binary.LittleEndian
		if len(data) >= prefixLen {
			if end := int64(prefixLen) + int64(le.Uint32(data[10:])); end+4 <= int64(len(data)) {
				le.PutUint32(data[end:], crc32.Checksum(data[:end], castagnoli))
				if start := end + 4; start+4 <= int64(len(data)) {
					le.PutUint32(data[len(data)-4:], crc32.Checksum(data[start:len(data)-4], castagnoli))
				}
			}
		}
		checkDecode(t, data)
	})
}

func checkDecode(t *testing.T, data []byte) {
	p, err := Decode(bytes.NewReader(data))
	_, err2 := Decode(onlyReader{bytes.NewReader(data)})
	if kind(err) != kind(err2) {
		t.Fatalf("sized and streamed decodes disagree: %v / %v", err, err2)
	}
	if err != nil {
		if !errors.Is(err, ErrFormat) {
			t.Fatalf("error is not a format error: %v", err)
		}
		return
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("decoded print is invalid: %v", err)
	}
	// Whatever decodes must encode again to the same print.
	var b bytes.Buffer
	if err := Encode(&b, p); err != nil {
		t.Fatalf("re-encode: %v", err)
	}
	q, err := Decode(&b)
	if err != nil {
		t.Fatalf("decode re-encoded: %v", err)
	}
	if !reflect.DeepEqual(p, q) {
		t.Fatal("re-encoded print differs")
	}
}

func kind(err error) error {
	for _, k := range []error{ErrNotPrint, ErrVersion, ErrTruncated, ErrChecksum, ErrCorrupt} {
		if errors.Is(err, k) {
			return k
		}
	}
	return err
}

func TestValidateRegions(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(p *Print)
	}{
		{"negative regions", func(p *Print) { p.Regions = -1 }},
		{"too many regions", func(p *Print) {
			withRegions(p, MaxRegions+1, 1)
		}},
		{"region features short", func(p *Print) { p.RegionFeatures = p.RegionFeatures[1:] }},
		{"region features without regions", func(p *Print) { p.Regions = 0 }},
		{"region feature NaN", func(p *Print) { p.RegionFeatures[7] = float32(math.NaN()) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := withRegions(newPrint(3, 4, 3), 2, 4)
			if err := p.Validate(); err != nil {
				t.Fatalf("valid print: %v", err)
			}
			tc.mod(p)
			if err := p.Validate(); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate = %v, want ErrInvalid", err)
			}
			if err := Encode(io.Discard, p); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Encode = %v, want ErrInvalid", err)
			}
		})
	}
	p := withRegions(newPrint(2, 3, 3), 2, 4)
	if got := p.RegionRow(1); len(got) != 6 || &got[0] != &p.RegionFeatures[6] || cap(got) != 6 {
		t.Errorf("RegionRow(1) = %d values at the wrong place", len(got))
	}
	p.RegionFeatures[2] = 70000
	if err := Encode(io.Discard, p); !errors.Is(err, ErrRange) {
		t.Errorf("region feature beyond float16: Encode = %v, want ErrRange", err)
	}
}

func TestValidateThumbs(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(p *Print)
		msg  string
		// decode is what Decode says of the print written raw; ErrCorrupt
		// when nil. Wrong pixel counts make the file length wrong: the
		// reader takes other bytes for the data checksum.
		decode error
	}{
		{"pixels short", func(p *Print) { p.Thumbs.Pixels = p.Thumbs.Pixels[1:] }, "191 thumbnail bytes for 1 thumbnails of 16x12, want 192", ErrTruncated},
		{"pixels long", func(p *Print) { p.Thumbs.Pixels = append(p.Thumbs.Pixels, 0) }, "thumbnail bytes", ErrChecksum},
		{"a thumbnail too many", func(p *Print) { p.Thumbs.Pixels = append(p.Thumbs.Pixels, p.Thumbs.Pixels...) }, "thumbnail bytes", ErrChecksum},
		{"pixels without thumbnails", func(p *Print) { p.Thumbs = Thumbs{Pixels: []byte{1}} }, "1 thumbnail bytes for 0 thumbnails of 0x0, want 0", ErrChecksum},
		{"width 0", func(p *Print) { p.Thumbs.Width = 0 }, "thumbnail size 0x12 is outside 1..64 (0x0 for none)", nil},
		{"height 0", func(p *Print) { p.Thumbs.Height = 0 }, "thumbnail size 16x0", nil},
		{"width 65", func(p *Print) { withThumbs(p, MaxThumbSide+1, 1, 5, 1) }, "thumbnail size 65x1", nil},
		{"height 65", func(p *Print) { withThumbs(p, 1, MaxThumbSide+1, 5, 1) }, "thumbnail size 1x65", nil},
		{"negative width", func(p *Print) { p.Thumbs.Width = -16 }, "thumbnail size -16x12", nil},
		{"every 0", func(p *Print) { p.Thumbs.Every = 0 }, "thumbnails every 0 rows is outside 1..50000000", nil},
		{"every negative", func(p *Print) { p.Thumbs.Every = -5 }, "thumbnails every -5 rows", nil},
		{"every over", func(p *Print) { p.Thumbs.Every = MaxFrames + 1 }, "thumbnails every 50000001 rows", nil},
		{"every without thumbnails", func(p *Print) { p.Thumbs = Thumbs{Every: 5} }, "thumbnails every 5 rows without a thumbnail size, want 0", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := withThumbs(newPrint(3, 4, 3), 16, 12, 5, 4)
			if err := p.Validate(); err != nil {
				t.Fatalf("valid print: %v", err)
			}
			tc.mod(p)
			err := p.Validate()
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Validate = %v, want ErrInvalid saying %q", err, tc.msg)
			}
			if err := Encode(io.Discard, p); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Encode = %v, want ErrInvalid", err)
			}
			// Written raw as version 3, with valid checksums, it must not
			// decode.
			want := tc.decode
			if want == nil {
				want = ErrCorrupt
			}
			data := rawEncodeVersion(p, 3, nil)
			for _, r := range []io.Reader{bytes.NewReader(data), onlyReader{bytes.NewReader(data)}} {
				if _, err := Decode(r); !errors.Is(err, want) {
					t.Fatalf("Decode (%T) = %v, want %v", r, err, want)
				}
			}
		})
	}
	p := withThumbs(newPrint(11, 2, 3), 2, 3, 5, 4)
	if got := p.Thumbs.Thumb(2); len(got) != 6 || cap(got) != 6 || &got[0] != &p.Thumbs.Pixels[12] {
		t.Errorf("Thumb(2) = %d bytes at the wrong place", len(got))
	}
	if n := p.Thumbs.Count(11); n != 3 {
		t.Errorf("Count(11) = %d thumbnails every 5 rows, want 3", n)
	}
}
