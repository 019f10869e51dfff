package export

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vidprint/vidprint/internal/vprint"

	"github.com/vidprint/vidprint/internal/testutil"
)

func testPrint(frames, dim int) *vprint.Print {
	p := &vprint.Print{
		Model: vprint.Model{ID: "mobilenetv3-small", Output: "pooled",
			SHA256: strings.Repeat("0f", 32)},
		Dim:        dim,
		FPS:        5,
		Timestamps: make([]float64, frames),
		Features:   make([]float32, frames*dim),
		Source:     vprint.Source{Name: "a.mp4"},
		CreatedAt:  time.Unix(1700000000, 0),
	}
	for i := range p.Timestamps {
		p.Timestamps[i] = float64(i)/5 + 1.0/3 // not exact in decimal
	}
	for i := range p.Features {
		// Values that need all of float32's digits, plus signs and zeros.
		p.Features[i] = float32(math.Sin(float64(i)*1.7)) * float32(i%7) / 3
	}
	if len(p.Features) > 2 {
		p.Features[1] = float32(math.Copysign(0, -1))
		p.Features[2] = 1e-30
	}
	return p
}

var npyDict = regexp.MustCompile(`^\{'descr': '([<>|a-z0-9]+)', 'fortran_order': (True|False), 'shape': \(((?:\d+, )*\d*|\d+,)\), \} *\n$`)

// readNPY parses an NPY 1.0 file and checks its framing.
func readNPY(t *testing.T, b []byte) (descr string, shape []int, data []byte) {
	t.Helper()
	if len(b) < 10 || string(b[:8]) != "\x93NUMPY\x01\x00" {
		t.Fatalf("bad NPY magic/version %q", b[:min(len(b), 8)])
	}
	hlen := int(binary.LittleEndian.Uint16(b[8:]))
	if (10+hlen)%64 != 0 {
		t.Errorf("data starts at %d, not 64-byte aligned", 10+hlen)
	}
	if 10+hlen > len(b) {
		t.Fatalf("header length %d exceeds file", hlen)
	}
	m := npyDict.FindStringSubmatch(string(b[10 : 10+hlen]))
	if m == nil {
		t.Fatalf("header %q is not what numpy writes", b[10:10+hlen])
	}
	if m[2] != "False" {
		t.Errorf("fortran_order %s", m[2])
	}
	for _, s := range strings.Split(m[3], ",") {
		if s = strings.TrimSpace(s); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				t.Fatal(err)
			}
			shape = append(shape, n)
		}
	}
	return m[1], shape, b[10+hlen:]
}

func float32s(b []byte) []float32 {
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func float64s(b []byte) []float64 {
	out := make([]float64, len(b)/8)
	for i := range out {
		out[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return out
}

func TestWriteNPY(t *testing.T) {
	for _, tc := range []struct{ rows, cols int }{{0, 0}, {0, 5}, {1, 1}, {3, 4}, {7, 1024}, {100, 1280}, {12345, 1}} {
		t.Run(fmt.Sprintf("%dx%d", tc.rows, tc.cols), func(t *testing.T) {
			data := make([]float32, tc.rows*tc.cols)
			for i := range data {
				data[i] = float32(i) * 0.25
			}
			var b bytes.Buffer
			if err := WriteNPY(&b, tc.rows, tc.cols, data); err != nil {
				t.Fatal(err)
			}
			descr, shape, raw := readNPY(t, b.Bytes())
			if descr != "<f4" || !reflect.DeepEqual(shape, []int{tc.rows, tc.cols}) {
				t.Errorf("descr %s shape %v", descr, shape)
			}
			if got := float32s(raw); len(raw) != 4*len(data) || (len(data) > 0 && !reflect.DeepEqual(got, data)) {
				t.Error("data differs")
			}
		})
	}
}

func TestWriteNPYShapeMismatch(t *testing.T) {
	for _, tc := range []struct{ rows, cols, n int }{{2, 2, 3}, {-1, -1, 1}, {math.MaxInt, 2, 0}} {
		var b bytes.Buffer
		if err := WriteNPY(&b, tc.rows, tc.cols, make([]float32, tc.n)); err == nil {
			t.Errorf("WriteNPY(%d, %d, %d values) succeeded", tc.rows, tc.cols, tc.n)
		}
		if b.Len() != 0 {
			t.Error("wrote before failing")
		}
	}
}

func TestWriteNPY1D(t *testing.T) {
	for _, n := range []int{0, 1, 9999} {
		data := make([]float64, n)
		for i := range data {
			data[i] = float64(i) / 3
		}
		var b bytes.Buffer
		if err := WriteNPY1D(&b, data); err != nil {
			t.Fatal(err)
		}
		descr, shape, raw := readNPY(t, b.Bytes())
		if descr != "<f8" || !reflect.DeepEqual(shape, []int{n}) {
			t.Errorf("descr %s shape %v", descr, shape)
		}
		if got := float64s(raw); len(raw) != 8*n || (n > 0 && !reflect.DeepEqual(got, data)) {
			t.Error("data differs")
		}
	}
}

// failWriter fails a write that would take it past limit bytes; with
// limit < 0 it only counts.
type failWriter struct{ limit, written int }

func (f *failWriter) Write(b []byte) (int, error) {
	if f.limit >= 0 && f.written+len(b) > f.limit {
		return 0, errors.New("disk full")
	}
	f.written += len(b)
	return len(b), nil
}

func TestWriteErrors(t *testing.T) {
	p := testPrint(50, 300)
	for _, tc := range []struct {
		name  string
		write func(io.Writer) error
	}{
		{"npz", func(w io.Writer) error { return WriteNPZ(w, p) }},
		{"csv", func(w io.Writer) error { return WriteCSV(w, p) }},
	} {
		size := failWriter{limit: -1}
		if err := tc.write(&size); err != nil {
			t.Fatal(err)
		}
		for limit := 0; limit < size.written; limit = limit*2 + 1 {
			if err := tc.write(&failWriter{limit: limit}); err == nil || !strings.Contains(err.Error(), "disk full") {
				t.Errorf("%s failing after %d of %d bytes: %v", tc.name, limit, size.written, err)
			}
		}
	}
	bad := testPrint(2, 2)
	bad.Timestamps[0] = math.NaN()
	if err := WriteNPZ(io.Discard, bad); !errors.Is(err, vprint.ErrInvalid) {
		t.Errorf("NPZ of invalid print: %v", err)
	}
	if err := WriteCSV(io.Discard, bad); !errors.Is(err, vprint.ErrInvalid) {
		t.Errorf("CSV of invalid print: %v", err)
	}
}

// npzMembers writes p as NPZ and reads it back: the member names in
// order, and each member's contents.
func npzMembers(t *testing.T, p *vprint.Print) ([]string, map[string][]byte) {
	t.Helper()
	var b bytes.Buffer
	if err := WriteNPZ(&b, p); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	members := map[string][]byte{}
	for _, f := range zr.File {
		names = append(names, f.Name)
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		if members[f.Name], err = io.ReadAll(rc); err != nil {
			t.Fatal(err)
		}
	}
	return names, members
}

func TestWriteNPZ(t *testing.T) {
	p := testPrint(31, 576)
	names, members := npzMembers(t, p)
	if !reflect.DeepEqual(names, []string{NPZFeatures, NPZTimestamps}) {
		t.Errorf("members %q", names)
	}
	descr, shape, raw := readNPY(t, members[NPZFeatures])
	if descr != "<f4" || !reflect.DeepEqual(shape, []int{31, 576}) || !reflect.DeepEqual(float32s(raw), p.Features) {
		t.Errorf("features: %s %v or data differs", descr, shape)
	}
	descr, shape, raw = readNPY(t, members[NPZTimestamps])
	if descr != "<f8" || !reflect.DeepEqual(shape, []int{31}) || !reflect.DeepEqual(float64s(raw), p.Timestamps) {
		t.Errorf("timestamps: %s %v or data differs", descr, shape)
	}
}

func TestWriteNPZRegions(t *testing.T) {
	p := testPrint(7, 16)
	p.Regions = 4
	p.RegionFeatures = make([]float32, 7*4*16)
	for i := range p.RegionFeatures {
		p.RegionFeatures[i] = float32(i) / 3
	}
	names, members := npzMembers(t, p)
	if !reflect.DeepEqual(names, []string{NPZFeatures, NPZTimestamps, NPZRegions}) {
		t.Fatalf("members %q", names)
	}
	descr, shape, raw := readNPY(t, members[NPZRegions])
	if descr != "<f4" || !reflect.DeepEqual(shape, []int{7, 4, 16}) || !reflect.DeepEqual(float32s(raw), p.RegionFeatures) {
		t.Errorf("regions: %s %v or data differs", descr, shape)
	}
	for _, bad := range [][]int{{7}, {7, 4, 15}, {-1, 4, 16}} {
		if err := WriteNPYShape(io.Discard, bad, p.RegionFeatures); err == nil {
			t.Errorf("shape %v accepted for %d values", bad, len(p.RegionFeatures))
		}
	}
}

func TestWriteCSV(t *testing.T) {
	p := testPrint(20, 17)
	var b bytes.Buffer
	if err := WriteCSV(&b, p); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 21 {
		t.Fatalf("%d records, want header + 20", len(recs))
	}
	if recs[0][0] != "time_s" || recs[0][1] != "f0" || recs[0][17] != "f16" || len(recs[0]) != 18 {
		t.Errorf("header %q", recs[0])
	}
	for i, rec := range recs[1:] {
		ts, err := strconv.ParseFloat(rec[0], 64)
		if err != nil || ts != p.Timestamps[i] {
			t.Fatalf("row %d time %q, want %v", i, rec[0], p.Timestamps[i])
		}
		for j, s := range rec[1:] {
			v, err := strconv.ParseFloat(s, 32)
			want := p.Row(i)[j]
			if err != nil || float32(v) != want || math.Signbit(v) != math.Signbit(float64(want)) {
				t.Fatalf("row %d f%d = %q, want %v", i, j, s, want)
			}
		}
	}
}

// TestNumpy loads the files with numpy itself, where it is installed.
func TestNumpy(t *testing.T) {
	py := testutil.NumpyPython(t)
	dir := t.TempDir()
	p := testPrint(23, 1024)
	p.Regions, p.RegionFeatures = 4, make([]float32, 23*4*1024)
	for i := range p.RegionFeatures {
		p.RegionFeatures[i] = float32(i%977) / 7
	}
	write := func(name string, fn func(io.Writer) error) {
		var b bytes.Buffer
		if err := fn(&b); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("f.npy", func(w io.Writer) error { return WriteNPY(w, p.Frames(), p.Dim, p.Features) })
	write("t.npy", func(w io.Writer) error { return WriteNPY1D(w, p.Timestamps) })
	write("p.npz", func(w io.Writer) error { return WriteNPZ(w, p) })
	write("p.csv", func(w io.Writer) error { return WriteCSV(w, p) })
	// Reference values as raw little-endian bytes, read with np.fromfile.
	write("f.raw", func(w io.Writer) error {
		return binary.Write(w, binary.LittleEndian, p.Features)
	})
	write("t.raw", func(w io.Writer) error {
		return binary.Write(w, binary.LittleEndian, p.Timestamps)
	})
	write("r.raw", func(w io.Writer) error {
		return binary.Write(w, binary.LittleEndian, p.RegionFeatures)
	})
	script := `
import sys, numpy as np
d = sys.argv[1] + "/"
f_ref = np.fromfile(d + "f.raw", dtype="<f4").reshape(23, 1024)
t_ref = np.fromfile(d + "t.raw", dtype="<f8")
f = np.load(d + "f.npy")
t = np.load(d + "t.npy")
assert f.dtype == np.float32 and f.shape == (23, 1024) and f.flags.c_contiguous, (f.dtype, f.shape)
assert t.dtype == np.float64 and t.shape == (23,), (t.dtype, t.shape)
assert np.array_equal(f, f_ref) and np.array_equal(t, t_ref)
z = np.load(d + "p.npz")
assert sorted(z.files) == ["features", "regions", "timestamps"], z.files
r_ref = np.fromfile(d + "r.raw", dtype="<f4").reshape(23, 4, 1024)
assert np.array_equal(z["regions"], r_ref) and z["regions"].dtype == np.float32
assert np.array_equal(z["features"], f_ref) and z["features"].dtype == np.float32
assert np.array_equal(z["timestamps"], t_ref) and z["timestamps"].dtype == np.float64
m = np.loadtxt(d + "p.csv", delimiter=",", skiprows=1, dtype=np.float64)
assert np.array_equal(m[:, 0], t_ref), "csv times"
assert np.array_equal(m[:, 1:].astype(np.float32), f_ref), "csv features"
print("ok")
`
	out, err := exec.Command(py, "-c", script, dir).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("numpy check failed: %v\n%s", err, out)
	}
}

func BenchmarkWriteNPZ(b *testing.B) {
	p := testPrint(36000, 1024)
	b.SetBytes(int64(len(p.Features)*4 + len(p.Timestamps)*8))
	for b.Loop() {
		if err := WriteNPZ(io.Discard, p); err != nil {
			b.Fatal(err)
		}
	}
}
