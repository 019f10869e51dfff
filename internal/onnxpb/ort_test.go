package onnxpb

import (
	"math"
	"sync"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

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

// TestRunsInONNXRuntime is the real check of the encoding: ONNX Runtime
// must load the model and compute what a direct implementation computes.
func TestRunsInONNXRuntime(t *testing.T) {
	initORT(t)
	onnx, err := tinyModel().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	meta, err := ort.GetModelMetadataWithONNXData(onnx)
	if err != nil {
		t.Fatalf("metadata: %v", err)
	}
	defer meta.Destroy()
	if v, ok, err := meta.LookupCustomMetadataMap("k"); err != nil || !ok || v != "v" {
		t.Errorf("custom metadata k = %q, %v, %v", v, ok, err)
	}
	if p, _ := meta.GetProducerName(); p != "onnxpb-test" {
		t.Errorf("producer = %q", p)
	}

	sess, err := ort.NewDynamicAdvancedSessionWithONNXData(onnx, []string{"x"}, []string{"y", "z"}, nil)
	if err != nil {
		t.Fatalf("session: %v", err)
	}
	defer sess.Destroy()

	const n = 2
	x := make([]float32, n*16)
	for i := range x {
		x[i] = float32(math.Sin(float64(i))) * 4
	}
	in, err := ort.NewTensor(ort.NewShape(n, 1, 4, 4), x)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Destroy()
	outs := []ort.Value{nil, nil}
	if err := sess.Run([]ort.Value{in}, outs); err != nil {
		t.Fatalf("run: %v", err)
	}
	defer outs[0].Destroy()
	defer outs[1].Destroy()

	wantY, wantZ := tinyReference(x, n)
	for i, o := range outs {
		want := [][]float32{wantY, wantZ}[i]
		got := o.(*ort.Tensor[float32]).GetData()
		if len(got) != len(want) {
			t.Fatalf("output %d: %d values, want %d", i, len(got), len(want))
		}
		for j := range got {
			if math.Abs(float64(got[j]-want[j])) > 1e-5 {
				t.Errorf("output %d[%d] = %g, want %g", i, j, got[j], want[j])
			}
		}
	}
	if s := outs[1].(*ort.Tensor[float32]).GetShape(); len(s) != 2 || s[0] != n || s[1] != 3 {
		t.Errorf("z shape %v", s)
	}
}
