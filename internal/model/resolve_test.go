package model

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vidprint/vidprint/internal/convert"
	"github.com/vidprint/vidprint/internal/gguf"
	"github.com/vidprint/vidprint/internal/onnxpb"
	"github.com/vidprint/vidprint/internal/testutil"
)

// initRuntime loads ONNX Runtime for the tests that inspect or run models.
func initRuntime(t *testing.T) {
	t.Helper()
	if err := InitRuntime(testutil.ORTLibrary(t)); err != nil {
		t.Fatal(err)
	}
}

// convertTo writes the qvac model with the given outputs to dir/name, as
// vidprint models convert --outputs does.
func convertTo(t *testing.T, dir, name string, outputs ...string) string {
	t.Helper()
	f, err := gguf.Open(testutil.QvacGGUF(t))
	if err != nil {
		t.Fatal(err)
	}
	onnx, _, err := convert.MobileNetV3SmallWith(f, convert.Options{Outputs: outputs})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, onnx, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// shape builds a tensor shape; a negative size is a symbolic dimension.
func shape(dims ...int64) []onnxpb.Dim {
	s := make([]onnxpb.Dim, len(dims))
	for i, d := range dims {
		if d < 0 {
			s[i] = onnxpb.Dim{Param: fmt.Sprintf("d%d", i)}
		} else {
			s[i] = onnxpb.Dim{Value: d}
		}
	}
	return s
}

// tinyModel writes a small hand-built graph, for contracts the converter
// cannot produce.
func tinyModel(t *testing.T, dir, name string, build func(g *onnxpb.Graph)) string {
	t.Helper()
	m := &onnxpb.Model{IRVersion: convert.IRVersion, ProducerName: "vidprint test", Opsets: []onnxpb.OpsetID{{Version: convert.Opset}}}
	m.Graph.Name = name
	build(&m.Graph)
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// flattenModel outputs its [N,3,h,w] input as it is, flattened to
// [N,3*h*w]: the model sees exactly the tensor a session feeds it.
func flattenModel(t *testing.T, dir, name string, batch, h, w int64) string {
	return tinyModel(t, dir, name, func(g *onnxpb.Graph) {
		g.Inputs = []onnxpb.ValueInfo{{Name: "pixels", ElemType: onnxpb.Float, Shape: shape(batch, 3, h, w)}}
		g.AddNode("flatten", "Flatten", []string{"pixels"}, []string{"flat"}, onnxpb.IntAttr("axis", 1))
		g.Outputs = []onnxpb.ValueInfo{{Name: "flat", ElemType: onnxpb.Float, Shape: shape(batch, 3*h*w)}}
	})
}

func TestResolveDefaultByPath(t *testing.T) {
	initRuntime(t)
	installed := defaultModel(t)
	b, err := os.ReadFile(installed)
	if err != nil {
		t.Fatal(err)
	}
	// The hash, not the name, makes a file the catalogue model.
	renamed := filepath.Join(t.TempDir(), "renamed.onnx")
	if err := os.WriteFile(renamed, b, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{installed, renamed} {
		for output, dim := range map[string]int{"": 1024, "embedding": 1024, "pooled": 576} {
			res, err := Resolve(t.TempDir(), path, output)
			if err != nil {
				t.Fatalf("%s %q: %v", path, output, err)
			}
			if res.Spec.ID != Default || res.SHA256 != QvacONNXSHA256 || res.Path != path || res.Output.Dim != dim ||
				res.Spec.File != Default+".onnx" {
				t.Errorf("%s %q: resolved %s %s %+v", path, output, res.Spec.ID, res.SHA256, res.Output)
			}
		}
	}
	_, err = Resolve("", installed, "features")
	if !errors.Is(err, ErrUnknownOutput) || !strings.Contains(err.Error(), "embedding, pooled, logits") {
		t.Errorf("unknown output: %v", err)
	}
}

// A converted model with fewer outputs has another hash, so it takes the
// custom path: inspected through ONNX Runtime, given the ImageNet contract.
func TestResolveCustomModel(t *testing.T) {
	initRuntime(t)
	dir := t.TempDir()
	large, _ := Lookup("mobilenetv3-large-imagenet")
	tests := []struct {
		name    string
		outputs []string
		output  string
		wantErr error
		says    string
		wantOut string
		wantDim int
	}{
		{"embedding", []string{"embedding"}, "", nil, "", "embedding", 1024},
		{"embedding named", []string{"embedding"}, "embedding", nil, "", "embedding", 1024},
		{"pooled", []string{"pooled"}, "", nil, "", "pooled", 576},
		{"two outputs, one picked", []string{"pooled", "embedding"}, "embedding", nil, "", "embedding", 1024},
		{"two outputs, none picked", []string{"pooled", "embedding"}, "", ErrUnknownOutput, "pick one with --output (it has pooled, embedding)", "", 0},
		{"no such output", []string{"embedding"}, "logits", ErrUnknownOutput, `no output "logits" (it has embedding)`, "", 0},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := convertTo(t, dir, fmt.Sprintf("m%d.onnx", i), tc.outputs...)
			sum, err := FileSHA256(path)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Resolve(t.TempDir(), path, tc.output)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.says) || !strings.Contains(err.Error(), path) {
					t.Fatalf("err = %v, want %v saying %q and naming the file", err, tc.wantErr, tc.says)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if sum == QvacONNXSHA256 {
				t.Fatal("a single-output conversion has the catalogue hash")
			}
			if res.Spec.ID != "custom-"+sum[:12] || res.SHA256 != sum || res.Path != path {
				t.Errorf("resolved id %s sha %s path %s, want custom-%s", res.Spec.ID, res.SHA256, res.Path, sum[:12])
			}
			if res.Spec.Input != "input" || res.Output.Name != tc.wantOut || res.Output.Dim != tc.wantDim || res.Batch != 0 {
				t.Errorf("input %q output %+v batch %d, want input, %s %d, dynamic batch", res.Spec.Input, res.Output, res.Batch, tc.wantOut, tc.wantDim)
			}
			if res.Spec.Pre != large.Pre {
				t.Errorf("contract %+v, want the ImageNet one %+v", res.Spec.Pre, large.Pre)
			}
			if len(res.Spec.Outputs) != 1 || res.Spec.Outputs[0] != res.Output || res.Spec.File != "" || res.Spec.SHA256 != "" {
				t.Errorf("spec %+v", res.Spec)
			}
			if !strings.Contains(res.Spec.Title, filepath.Base(path)) {
				t.Errorf("title %q does not name the file", res.Spec.Title)
			}
		})
	}
}

// The contract a custom model gets follows its declared input and output.
func TestResolveCustomContract(t *testing.T) {
	initRuntime(t)
	dir := t.TempDir()
	wide := tinyModel(t, dir, "wide.onnx", func(g *onnxpb.Graph) {
		g.Inputs = []onnxpb.ValueInfo{{Name: "x", ElemType: onnxpb.Float, Shape: shape(-1, 3, -1, -1)}}
		g.AddInitializer(onnxpb.FloatTensor("w", []int64{3, 1280}, make([]float32, 3*1280)))
		g.AddNode("pool", "GlobalAveragePool", []string{"x"}, []string{"pool"})
		g.AddNode("flatten", "Flatten", []string{"pool"}, []string{"flat"}, onnxpb.IntAttr("axis", 1))
		g.AddNode("fc", "MatMul", []string{"flat", "w"}, []string{"features"})
		g.Outputs = []onnxpb.ValueInfo{{Name: "features", ElemType: onnxpb.Float, Shape: shape(-1, 1280)}}
	})
	large, _ := Lookup("mobilenetv3-large-imagenet")
	tests := []struct {
		name, path string
		id         string // "" for custom-<sha12>
		input      string
		w, h       int
		dim, batch int
	}{
		{"1280-d is the Large model", wide, large.ID, "x", 224, 224, 1280, 0},
		{"fixed input size", flattenModel(t, dir, "small.onnx", -1, 16, 8), "", "pixels", 8, 16, 3 * 16 * 8, 0},
		{"fixed batch of one", flattenModel(t, dir, "one.onnx", 1, 8, 8), "", "pixels", 8, 8, 192, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Resolve("", tc.path, "")
			if err != nil {
				t.Fatal(err)
			}
			id := tc.id
			if id == "" {
				id = "custom-" + res.SHA256[:12]
			}
			pre := res.Spec.Pre
			if res.Spec.ID != id || res.Spec.Input != tc.input || pre.Width != tc.w || pre.Height != tc.h ||
				res.Output.Dim != tc.dim || res.Batch != tc.batch {
				t.Errorf("resolved %s input %s %dx%d dim %d batch %d", res.Spec.ID, res.Spec.Input, pre.Width, pre.Height, res.Output.Dim, res.Batch)
			}
			if pre.Mean != large.Pre.Mean || pre.Std != large.Pre.Std || pre.Scale != large.Pre.Scale {
				t.Errorf("contract %+v is not ImageNet's", pre)
			}
		})
	}
}

// Files that cannot be a model are refused with ErrModelFile, naming the
// file and saying why; none may panic.
func TestResolveBadModelFiles(t *testing.T) {
	initRuntime(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if err := os.Mkdir(filepath.Join(dir, "x.onnx"), 0o755); err != nil {
		t.Fatal(err)
	}
	in := func(g *onnxpb.Graph, name string, dt onnxpb.DataType, dims ...int64) {
		g.Inputs = append(g.Inputs, onnxpb.ValueInfo{Name: name, ElemType: dt, Shape: shape(dims...)})
	}
	out := func(g *onnxpb.Graph, name string, dims ...int64) {
		g.Outputs = append(g.Outputs, onnxpb.ValueInfo{Name: name, ElemType: onnxpb.Float, Shape: shape(dims...)})
	}
	tests := []struct {
		name, path string
		says       string
		notExist   bool
	}{
		{"missing", filepath.Join(dir, "nosuch.onnx"), "no such file", true},
		{"missing in missing dir", filepath.Join(dir, "nodir", "m.onnx"), "no such file", true},
		{"directory", filepath.Join(dir, "x.onnx"), "is a directory", false},
		{"text", write("notes.onnx", []byte("this is not a model\n")), "not a loadable ONNX model", false},
		{"empty", write("empty.onnx", nil), "not a loadable ONNX model", false},
		{"two inputs", tinyModel(t, dir, "two.onnx", func(g *onnxpb.Graph) {
			in(g, "a", onnxpb.Float, -1, 3, 8, 8)
			in(g, "b", onnxpb.Float, -1, 3, 8, 8)
			g.AddNode("add", "Add", []string{"a", "b"}, []string{"sum"})
			g.AddNode("flatten", "Flatten", []string{"sum"}, []string{"y"})
			out(g, "y", -1, 192)
		}), "has 2 inputs", false},
		{"grey input", tinyModel(t, dir, "grey.onnx", func(g *onnxpb.Graph) {
			in(g, "x", onnxpb.Float, -1, 1, 8, 8)
			g.AddNode("flatten", "Flatten", []string{"x"}, []string{"y"})
			out(g, "y", -1, 64)
		}), `input "x" is float [-1 1 8 8], want float [N,3,H,W]`, false},
		{"int64 input", tinyModel(t, dir, "int.onnx", func(g *onnxpb.Graph) {
			in(g, "x", onnxpb.Int64, -1, 3, 8, 8)
			g.AddNode("cast", "Cast", []string{"x"}, []string{"f"}, onnxpb.IntAttr("to", int64(onnxpb.Float)))
			g.AddNode("flatten", "Flatten", []string{"f"}, []string{"y"})
			out(g, "y", -1, 192)
		}), `input "x" is int64`, false},
		{"fixed batch of four", flattenModel(t, dir, "four.onnx", 4, 8, 8), "fixed batch of 4", false},
		{"scalar output", tinyModel(t, dir, "scalar.onnx", func(g *onnxpb.Graph) {
			in(g, "x", onnxpb.Float, -1, 3, 8, 8)
			g.AddNode("mean", "ReduceMean", []string{"x"}, []string{"y"}, onnxpb.IntAttr("keepdims", 0))
			out(g, "y")
		}), `output "y" is float [], want float [N,D]`, false},
		{"4-d output", tinyModel(t, dir, "map.onnx", func(g *onnxpb.Graph) {
			in(g, "x", onnxpb.Float, -1, 3, 8, 8)
			g.AddNode("pool", "GlobalAveragePool", []string{"x"}, []string{"y"})
			out(g, "y", -1, 3, 1, 1)
		}), `output "y" is float [-1 3 1 1]`, false},
		{"dynamic output size", tinyModel(t, dir, "dyn.onnx", func(g *onnxpb.Graph) {
			in(g, "x", onnxpb.Float, -1, 3, -1, -1)
			g.AddNode("flatten", "Flatten", []string{"x"}, []string{"y"})
			out(g, "y", -1, -1)
		}), "with a fixed D", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Resolve(t.TempDir(), tc.path, "")
			if err == nil {
				t.Fatalf("resolved %+v", res)
			}
			if !errors.Is(err, ErrModelFile) || errors.Is(err, fs.ErrNotExist) != tc.notExist {
				t.Errorf("err = %v: want ErrModelFile, fs.ErrNotExist %v", err, tc.notExist)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.path) || !strings.Contains(msg, tc.says) {
				t.Errorf("error %q: want it to name %s and say %q", msg, tc.path, tc.says)
			}
		})
	}
}

// The default model with a byte appended is no longer the catalogue model
// when given by path either.
func TestResolveTamperedPath(t *testing.T) {
	initRuntime(t)
	b, err := os.ReadFile(defaultModel(t))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tampered.onnx")
	if err := os.WriteFile(path, append(b, 0), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Resolve("", path, "embedding")
	t.Logf("resolved %s, err %v", res.Spec.ID, err)
	if err == nil && (res.Spec.ID == Default || res.SHA256 == QvacONNXSHA256) {
		t.Fatalf("a tampered file resolved as the catalogue model: %s %s", res.Spec.ID, res.SHA256)
	}
}
