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
	}{
		{"1x1", 1, 1, 0},
		{"1x1024", 1, 1024, 0},
		{"100x576", 100, 576, 0},
		{"37x1280", 37, 1280, 0},
		{"300x1024", 300, 1024, 0}, // spans several I/O chunks
		{"5x65536", 5, MaxDim, 0},
		{"1x1 with a region", 1, 1, 1},
		{"300x1024 with 4 regions", 300, 1024, 4},
		{"3x7 with 16 regions", 3, 7, MaxRegions},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPrint(tc.frames, tc.dim, uint64(tc.frames*tc.dim))
			if tc.regions > 0 {
				withRegions(p, tc.regions, 7)
			}
			data := encode(t, p)
			if want := 22 + headerLen(p) + 8*tc.frames + 2*tc.frames*tc.dim*(1+tc.regions); len(data) != want {
				t.Errorf("encoded %d bytes, want %d", len(data), want)
			}
			// Writers write the oldest version that holds the print.
			if v, want := binary.LittleEndian.Uint16(data[8:]), min(2, 1+tc.regions); int(v) != want {
				t.Errorf("version %d, want %d", v, want)
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

func headerLen(p *Print) int { return len(appendHeader(nil, p)) }

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
	le := binary.LittleEndian
	b := append([]byte(Magic), 1, 0, 0, 0, 0, 0)
	b = appendHeader(b, p)
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
	return le.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
}

func TestRawEncodeMatches(t *testing.T) {
	p := newPrint(4, 3, 4)
	if !bytes.Equal(rawEncode(p, nil), encode(t, p)) {
		t.Fatal("rawEncode and Encode disagree; the corruption tests would test nothing")
	}
}

func TestHeaderExtension(t *testing.T) {
	// A compatible future writer may append header fields; version 1
	// readers skip them.
	p := newPrint(2, 3, 5)
	got, err := Decode(bytes.NewReader(rawEncode(p, []byte("future fields"))))
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, got, p)
}

func TestDecodeTruncated(t *testing.T) {
	data := encode(t, newPrint(3, 5, 6))
	for n := 0; n < len(data); n++ {
		for _, r := range []io.Reader{bytes.NewReader(data[:n]), onlyReader{bytes.NewReader(data[:n])}} {
			_, err := Decode(r)
			if !errors.Is(err, ErrTruncated) || !errors.Is(err, ErrFormat) {
				t.Fatalf("prefix of %d/%d bytes (%T): %v, want ErrTruncated", n, len(data), r, err)
			}
		}
	}
}

func TestDecodeFlip(t *testing.T) {
	p := newPrint(3, 5, 7)
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
			case i < 14:
				want = ErrFormat // a wrong header length fails one way or another
			default: // header, data and both checksums
				want = ErrChecksum
			}
			if !errors.Is(err, want) || !errors.Is(err, ErrFormat) {
				t.Fatalf("byte %d ^= %#x (header ends at %d): %v, want %v", i, mask, headEnd, err, want)
			}
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
	// withVersion2 claims version 2 with a version 1 header, checksummed.
	withVersion2 := func() []byte {
		b := withVersion(2)
		end := prefixLen + int(binary.LittleEndian.Uint32(b[10:]))
		binary.LittleEndian.PutUint32(b[end:], crc32.Checksum(b[:end], castagnoli))
		return b
	}
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
		{"version 3", withVersion(3), ErrVersion, "unsupported print version 3 (this vidprint reads 1 to 2)"},
		// Version 2 has one more header field, the regions.
		{"version 2 header of version 1", withVersion2(), ErrCorrupt, "regions"},
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
	p := newPrint(1, 1, 9)
	for _, tc := range []struct {
		name         string
		frames, dim  uint64
		want         error
		wantInHeader bool
	}{
		{"max", MaxFrames, MaxDim, ErrTruncated, false},
		{"frames over", MaxFrames + 1, 1, ErrCorrupt, true},
		{"dim over", 1, MaxDim + 1, ErrCorrupt, true},
		{"frames 0", 0, 4, ErrCorrupt, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
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
