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
	// vidprint's thumbnails: 16x12, one a second at 5 fps.
	th := withThumbs(withRegions(newPrint(1, 1, 1), 4, 1), 16, 12, 5, 1)
	if h := headerLen(th); h != 236 {
		t.Errorf("header with thumbnails is %d bytes, doc says 236", h)
	}
	if n := th.Thumbs.Count(benchFrames); n != 7200 {
		t.Errorf("two hours have %d thumbnails, doc says 7,200", n)
	}
	if size := 22 + headerLen(th) + 8*benchFrames + 2*benchFrames*benchDim*5 + 7200*16*12; size != 370_310_658 {
		t.Errorf("two-hour print with regions and thumbnails is %d bytes, doc says 370,310,658", size)
	}
	if perHour := 3600 * 16 * 12; perHour != 691_200 {
		t.Errorf("thumbnails take %d bytes an hour, doc says 0.69 MB", perHour)
	}
	for _, s := range []string{"74,016,246", "368,928,250", "370,310,658", "(this vidprint reads 1 to 3)", "at most 65536", "1..65536", "1..50,000,000",
		"192 bytes a second (0.69 MB an hour)", "`22 + H + 8N + 2ND(1+R) + Twh`", "1..64"} {
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
	v3 := withThumbs(withRegions(newPrint(12, 32, 45), 4, 46), 16, 12, 5, 47)
	v3bare := newPrint(4, 8, 48) // version 3 without thumbnails
	for _, tc := range []struct {
		name    string
		p       *Print
		data    []byte
		regions int
	}{
		// A header with an appended future field must still read.
		{"version 1", v1, rawEncode(v1, []byte("extra")), 0},
		{"version 2", v2, encode(t, v2), 4},
		{"version 3", v3, rawEncode(v3, []byte("extra")), 4},
		{"version 3 without thumbnails", v3bare, rawEncodeVersion(v3bare, 3, nil), 0},
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
ts, feats, regions, thumbs, meta = read_print(sys.argv[1])
assert feats.dtype == np.float32 and ts.dtype == np.float64 and regions.dtype == np.float32 and thumbs.dtype == np.uint8
feats.astype("<f4").tofile(sys.argv[2])
ts.astype("<f8").tofile(sys.argv[3])
regions.astype("<f4").tofile(sys.argv[4])
thumbs.tofile(sys.argv[5])
meta["shape"] = list(feats.shape)
meta["regions_shape"] = list(regions.shape)
meta["thumbs_shape"] = list(thumbs.shape)
print(json.dumps(meta))
`
			out, err := exec.Command(py, "-c", script, path, filepath.Join(dir, "f"), filepath.Join(dir, "t"), filepath.Join(dir, "r"), filepath.Join(dir, "p")).CombinedOutput()
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
				"thumb_every":   float64(p.Thumbs.Every),
				"thumbs_shape":  []any{float64(p.Thumbs.Count(p.Frames())), float64(p.Thumbs.Height), float64(p.Thumbs.Width)},
			}
			if !reflect.DeepEqual(meta, wantMeta) {
				t.Errorf("metadata\n got %v\nwant %v", meta, wantMeta)
			}
			f, _ := os.ReadFile(filepath.Join(dir, "f"))
			ts, _ := os.ReadFile(filepath.Join(dir, "t"))
			r, _ := os.ReadFile(filepath.Join(dir, "r"))
			if px, _ := os.ReadFile(filepath.Join(dir, "p")); !bytes.Equal(px, want.Thumbs.Pixels) {
				t.Fatalf("python read %d thumbnail bytes, not Go's %d", len(px), len(want.Thumbs.Pixels))
			}
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
