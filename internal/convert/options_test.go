package convert

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	vpmodel "github.com/vidprint/vidprint/internal/model"
)

// The default conversion is pinned: the catalogue, scripts/deps.sh and
// every print made with the default model name this hash.
func TestConvertPinnedSHA(t *testing.T) {
	f, onnx, _ := convertReal(t)
	sum := sha256.Sum256(onnx)
	if got := hex.EncodeToString(sum[:]); got != vpmodel.QvacONNXSHA256 {
		t.Fatalf("default conversion has sha256 %s, the catalogue pins %s", got, vpmodel.QvacONNXSHA256)
	}
	// Naming all three outputs in the default order is the default model.
	all, _, err := MobileNetV3SmallWith(f, Options{Outputs: []string{PooledName, EmbeddingName, LogitsName}})
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(all) != sum {
		t.Error("Options{Outputs: pooled, embedding, logits} differs from the default conversion")
	}
}

func TestConvertOptionsValidate(t *testing.T) {
	tests := []struct {
		outputs []string
		want    string // "" for valid
	}{
		{nil, ""},
		{[]string{EmbeddingName}, ""},
		{[]string{LogitsName, PooledName}, ""},
		{[]string{"features"}, `unknown output "features"`},
		{[]string{""}, `unknown output ""`},
		{[]string{PooledName, PooledName}, `output "pooled" named twice`},
	}
	for _, tc := range tests {
		err := Options{Outputs: tc.outputs}.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("Validate(%q) = %v, want %q", tc.outputs, err, tc.want)
		}
	}
	// The converter refuses bad options before reading anything.
	if _, _, err := MobileNetV3SmallWith(nil, Options{Outputs: []string{"x"}}); err == nil {
		t.Error("MobileNetV3SmallWith with an unknown output: no error")
	}
}

// A model with fewer outputs keeps only what they need, and computes them
// exactly as the full model does.
func TestConvertOutputs(t *testing.T) {
	f, full, info := convertReal(t)
	m := newModel(t, full, info)
	x := loadImage(t, imagePath(t, "meal_2.jpg"), info)
	want := m.run(t, x)
	byName := map[string][]float32{PooledName: want.pooled, EmbeddingName: want.embedding, LogitsName: want.logits}

	// float32 bytes of the weights a model without them must leave out.
	const classifier0, classifier3 = 4 * (576*1024 + 1024), 4 * (1024*3 + 3)
	tests := []struct {
		outputs []string
		dims    []int64
		saved   int
	}{
		{[]string{EmbeddingName}, []int64{1024}, classifier3},
		{[]string{PooledName}, []int64{576}, classifier0 + classifier3},
		{[]string{LogitsName, PooledName}, []int64{3, 576}, 0},
	}
	for _, tc := range tests {
		key := strings.Join(tc.outputs, ",")
		t.Run(key, func(t *testing.T) {
			onnx, _, err := MobileNetV3SmallWith(f, Options{Outputs: tc.outputs})
			if err != nil {
				t.Fatal(err)
			}
			if saved := len(full) - len(onnx); saved < tc.saved {
				t.Errorf("%d bytes, %d fewer than the full model, want at least %d fewer: unused weights kept",
					len(onnx), saved, tc.saved)
			}
			inputs, outputs, err := ort.GetInputOutputInfoWithONNXData(onnx)
			if err != nil {
				t.Fatal(err)
			}
			if len(inputs) != 1 || inputs[0].Name != InputName {
				t.Fatalf("inputs %v, want one named %q", inputs, InputName)
			}
			var names []string
			for i, o := range outputs {
				names = append(names, o.Name)
				if d := o.Dimensions; len(d) != 2 || d[1] != tc.dims[i] {
					t.Errorf("output %s has shape %v, want [N %d]", o.Name, d, tc.dims[i])
				}
			}
			if !slices.Equal(names, tc.outputs) {
				t.Fatalf("outputs %v, want %v", names, tc.outputs)
			}
			sess, err := ort.NewDynamicAdvancedSessionWithONNXData(onnx, []string{InputName}, tc.outputs, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer sess.Destroy()
			s := int64(info.ImageSize)
			in, err := ort.NewTensor(ort.NewShape(1, 3, s, s), x)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Destroy()
			outs := make([]ort.Value, len(tc.outputs))
			if err := sess.Run([]ort.Value{in}, outs); err != nil {
				t.Fatal(err)
			}
			for i, o := range outs {
				got := o.(*ort.Tensor[float32]).GetData()
				if d := maxDiff(got, byName[tc.outputs[i]]); d > 1e-5 {
					t.Errorf("%s differs from the full model's by %g", tc.outputs[i], d)
				}
				o.Destroy()
			}
		})
	}
}
