package vprint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vidprint/vidprint/internal/testutil"
)

const docPath = "../../docs/print-format.md"

// TestDocNumbers keeps the figures quoted in docs/print-format.md true.
func TestDocNumbers(t *testing.T) {
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	if got := crc32.Checksum([]byte("123456789"), castagnoli); got != 0xE3069283 {
		t.Errorf("CRC-32C check value %#x", got)
	}
	p := newPrint(1, 1, 1)
	if h := headerLen(p); h != 224 {
		t.Errorf("typical header is %d bytes, doc says 224", h)
	}
	if size := 22 + headerLen(p) + 8*benchFrames + 2*benchFrames*benchDim; size != 74_016_246 {
		t.Errorf("two-hour print is %d bytes, doc says 74,016,246", size)
	}
	q := withRegions(newPrint(1, 1, 1), 4, 1)
	if size := 22 + headerLen(q) + 8*benchFrames + 2*benchFrames*benchDim*5; size != 368_928_250 {
		t.Errorf("two-hour print with regions is %d bytes, doc says 368,928,250", size)
	}
	for _, s := range []string{"74,016,246", "368,928,250", "(this vidprint reads 1 to 2)", "at most 65536", "1..65536", "1..50,000,000"} {
		if !bytes.Contains(doc, []byte(s)) {
			t.Errorf("doc does not say %q", s)
		}
	}
}

// TestPythonReader runs the numpy reader from the doc on a print, where
// numpy is installed.
func TestPythonReader(t *testing.T) {
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	_, code, ok := strings.Cut(string(doc), "<!-- begin python reader -->\n```python\n")
	code, _, ok2 := strings.Cut(code, "```\n<!-- end python reader -->")
	if !ok || !ok2 {
		t.Fatal("python reader not found in the doc")
	}
	py := testutil.NumpyPython(t)

	v1 := newPrint(17, 576, 42)
	v1.Features[5] = 1e-6 // subnormal half
	v2 := withRegions(newPrint(9, 64, 43), 4, 44)
	for _, tc := range []struct {
		name    string
		p       *Print
		data    []byte
		regions int
	}{
		// A header with an appended future field must still read.
		{"version 1", v1, rawEncode(v1, []byte("extra")), 0},
		{"version 2", v2, encode(t, v2), 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p
			dir := t.TempDir()
			path := filepath.Join(dir, "x.vprint")
			if err := os.WriteFile(path, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			want, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			script := code + `
import json, sys
ts, feats, regions, meta = read_print(sys.argv[1])
assert feats.dtype == np.float32 and ts.dtype == np.float64 and regions.dtype == np.float32
feats.astype("<f4").tofile(sys.argv[2])
ts.astype("<f8").tofile(sys.argv[3])
regions.astype("<f4").tofile(sys.argv[4])
meta["shape"] = list(feats.shape)
meta["regions_shape"] = list(regions.shape)
print(json.dumps(meta))
`
			out, err := exec.Command(py, "-c", script, path, filepath.Join(dir, "f"), filepath.Join(dir, "t"), filepath.Join(dir, "r")).CombinedOutput()
			if err != nil {
				t.Fatalf("python reader: %v\n%s", err, out)
			}
			var meta map[string]any
			if err := json.Unmarshal(out, &meta); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			n, d := float64(p.Frames()), float64(p.Dim)
			wantMeta := map[string]any{
				"model_id": p.Model.ID, "model_sha256": p.Model.SHA256, "model_output": p.Model.Output,
				"fps": p.FPS, "source_name": p.Source.Name, "source_size": float64(p.Source.Size),
				"source_sha256": p.Source.SHA256, "source_duration_s": p.Source.DurationS,
				"source_width": float64(p.Source.Width), "source_height": float64(p.Source.Height),
				"created_at_unix_ns": float64(p.CreatedAt.UnixNano()), "shape": []any{n, d},
				"regions_shape": []any{n, float64(tc.regions), d},
			}
			if !reflect.DeepEqual(meta, wantMeta) {
				t.Errorf("metadata\n got %v\nwant %v", meta, wantMeta)
			}
			f, _ := os.ReadFile(filepath.Join(dir, "f"))
			ts, _ := os.ReadFile(filepath.Join(dir, "t"))
			r, _ := os.ReadFile(filepath.Join(dir, "r"))
			if len(f) != 4*len(want.Features) || len(ts) != 8*len(want.Timestamps) || len(r) != 4*len(want.RegionFeatures) {
				t.Fatalf("python read %d feature, %d timestamp and %d region bytes", len(f), len(ts), len(r))
			}
			for i, w := range want.Features {
				if g := math.Float32frombits(binary.LittleEndian.Uint32(f[4*i:])); g != w {
					t.Fatalf("feature %d: python %v, Go %v", i, g, w)
				}
			}
			for i, w := range want.RegionFeatures {
				if g := math.Float32frombits(binary.LittleEndian.Uint32(r[4*i:])); g != w {
					t.Fatalf("region feature %d: python %v, Go %v", i, g, w)
				}
			}
			for i, w := range want.Timestamps {
				if g := math.Float64frombits(binary.LittleEndian.Uint64(ts[8*i:])); g != w {
					t.Fatalf("timestamp %d: python %v, Go %v", i, g, w)
				}
			}
		})
	}
}
