package convert

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/vidprint/vidprint/internal/assets"
	"github.com/vidprint/vidprint/internal/gguf"
	"github.com/vidprint/vidprint/internal/testutil"
)

var ortOnce struct {
	sync.Once
	err error
}

// initORT starts ONNX Runtime once per test process, as the binding requires.
func initORT(t *testing.T) {
	t.Helper()
	lib := testutil.ORTLibrary(t)
	ortOnce.Do(func() {
		ort.SetSharedLibraryPath(lib)
		ortOnce.err = ort.InitializeEnvironment()
	})
	if ortOnce.err != nil {
		t.Fatalf("onnxruntime: %v", ortOnce.err)
	}
}

func convertReal(t *testing.T) (*gguf.File, []byte, Info) {
	t.Helper()
	f, err := gguf.Open(testutil.QvacGGUF(t))
	if err != nil {
		t.Fatal(err)
	}
	onnx, info, err := MobileNetV3Small(f)
	if err != nil {
		t.Fatal(err)
	}
	return f, onnx, info
}

type model struct {
	sess *ort.DynamicAdvancedSession
	info Info
}

func newModel(t *testing.T, onnx []byte, info Info) *model {
	t.Helper()
	initORT(t)
	sess, err := ort.NewDynamicAdvancedSessionWithONNXData(onnx,
		[]string{InputName}, []string{PooledName, EmbeddingName, LogitsName}, nil)
	if err != nil {
		t.Fatalf("session: %v", err)
	}
	t.Cleanup(func() { sess.Destroy() })
	return &model{sess, info}
}

// outputs holds one run's results, each flattened [N, dim].
type outputs struct{ pooled, embedding, logits []float32 }

func (m *model) run(t *testing.T, batch []float32) outputs {
	t.Helper()
	s := m.info.ImageSize
	n := len(batch) / (3 * s * s)
	in, err := ort.NewTensor(ort.NewShape(int64(n), 3, int64(s), int64(s)), batch)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Destroy()
	outs := make([]ort.Value, 3)
	if err := m.sess.Run([]ort.Value{in}, outs); err != nil {
		t.Fatalf("run: %v", err)
	}
	var res [3][]float32
	wantDims := []int{m.info.PooledDim, m.info.EmbeddingDim, len(m.info.Classes)}
	for i, o := range outs {
		tensor := o.(*ort.Tensor[float32])
		if sh := tensor.GetShape(); len(sh) != 2 || sh[0] != int64(n) || sh[1] != int64(wantDims[i]) {
			t.Fatalf("output %d shape %v, want [%d %d]", i, sh, n, wantDims[i])
		}
		res[i] = append([]float32(nil), tensor.GetData()...)
		o.Destroy()
	}
	return outputs{res[0], res[1], res[2]}
}

// loadImage decodes and resizes the whole image (no crop) with ffmpeg and
// normalizes it to NCHW as MODEL.md specifies.
func loadImage(t *testing.T, path string, info Info) []float32 {
	t.Helper()
	s := info.ImageSize
	cmd := exec.Command("ffmpeg", "-v", "error", "-i", path,
		"-vf", fmt.Sprintf("scale=%d:%d:flags=bilinear", s, s), "-f", "rawvideo", "-pix_fmt", "rgb24", "-")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	rgb, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffmpeg %s: %v: %s", path, err, stderr.String())
	}
	if len(rgb) != s*s*3 {
		t.Fatalf("ffmpeg %s: %d bytes, want %d", path, len(rgb), s*s*3)
	}
	x := make([]float32, 3*s*s)
	for i := range s * s {
		for c := range 3 {
			x[c*s*s+i] = (float32(rgb[3*i+c])/255 - info.Mean[c]) / info.Std[c]
		}
	}
	return x
}

func softmax(v []float32) []float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = math.Max(m, float64(x))
	}
	p := make([]float64, len(v))
	var sum float64
	for i, x := range v {
		p[i] = math.Exp(float64(x) - m)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	return p
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

var testImages = []struct{ file, class string }{
	{"meal_1.jpg", "food"}, {"meal_2.jpg", "food"},
	{"report_1.jpg", "report"}, {"report_2.jpg", "report"},
	{"other_1.jpg", "other"}, {"other_2.jpg", "other"},
}

func imagePath(t *testing.T, name string) string {
	t.Helper()
	testutil.FFmpeg(t)
	return testutil.File(t, filepath.Join(assets.Default().QvacTestImages(), name))
}

// TestClassifiesTestImages checks the conversion against the package's own
// test images: each must come out as its class.
func TestClassifiesTestImages(t *testing.T) {
	_, onnx, info := convertReal(t)
	t.Logf("ONNX model: %d bytes", len(onnx))
	m := newModel(t, onnx, info)
	for _, img := range testImages {
		out := m.run(t, loadImage(t, imagePath(t, img.file), info))
		p := softmax(out.logits)
		var probs []string
		for i, c := range info.Classes {
			probs = append(probs, fmt.Sprintf("%s=%.4f", c, p[i]))
		}
		got := info.Classes[argmax(out.logits)]
		t.Logf("%-12s -> %-6s  %s", img.file, got, strings.Join(probs, " "))
		if got != img.class {
			t.Errorf("%s classified as %s, want %s", img.file, got, img.class)
		}
	}
}

func TestDeterminism(t *testing.T) {
	f, onnx, info := convertReal(t)
	again, _, err := MobileNetV3Small(f)
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(onnx) != sha256.Sum256(again) {
		t.Fatal("two conversions differ")
	}
	t.Logf("sha256 %x", sha256.Sum256(onnx))

	m := newModel(t, onnx, info)
	a := loadImage(t, imagePath(t, "meal_1.jpg"), info)
	b := loadImage(t, imagePath(t, "report_2.jpg"), info)
	batch := append(append([]float32(nil), a...), b...)
	first, second := m.run(t, batch), m.run(t, batch)
	for i, pair := range [][2][]float32{{first.pooled, second.pooled}, {first.embedding, second.embedding}, {first.logits, second.logits}} {
		if !equalFloats(pair[0], pair[1]) {
			t.Errorf("output %d differs between identical runs", i)
		}
	}

	single := []outputs{m.run(t, a), m.run(t, b)}
	for j, s := range single {
		for _, c := range []struct {
			name          string
			batch, single []float32
		}{
			{PooledName, first.pooled, s.pooled},
			{EmbeddingName, first.embedding, s.embedding},
			{LogitsName, first.logits, s.logits},
		} {
			n := len(c.single)
			if d := maxDiff(c.batch[j*n:(j+1)*n], c.single); d > 1e-4 {
				t.Errorf("image %d %s: batch vs single differ by %g", j, c.name, d)
			}
		}
	}
	if maxDiff(single[0].pooled, single[1].pooled) < 1e-2 {
		t.Error("two different images give the same features")
	}
}

// TestMatchesReference runs an independent direct implementation (batch
// norm unfolded, float64 sums) and compares every output with ONNX Runtime.
func TestMatchesReference(t *testing.T) {
	f, onnx, info := convertReal(t)
	m := newModel(t, onnx, info)
	for _, name := range []string{"meal_1.jpg", "other_2.jpg"} {
		x := loadImage(t, imagePath(t, name), info)
		got := m.run(t, x)
		want := reference(t, f, info, x)
		for _, c := range []struct {
			name      string
			got, want []float32
		}{
			{PooledName, got.pooled, want.pooled},
			{EmbeddingName, got.embedding, want.embedding},
			{LogitsName, got.logits, want.logits},
		} {
			d, scale := maxDiff(c.got, c.want), maxAbs(c.want)
			t.Logf("%s %s: max |diff| %.2g, max |value| %.3g", name, c.name, d, scale)
			if d > 1e-3*max(1, scale) {
				t.Errorf("%s %s: ONNX Runtime and reference differ by %g", name, c.name, d)
			}
		}
	}
}

func equalFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func maxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
}

func maxAbs(a []float32) float64 {
	var m float64
	for _, x := range a {
		m = math.Max(m, math.Abs(float64(x)))
	}
	return m
}
