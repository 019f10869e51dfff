// Package model holds the model catalogue (each model pinned by sha256 with
// its preprocessing contract) and runs models through ONNX Runtime.
package model

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vidprint/vidprint/internal/fsutil"
)

// Preprocess is a model's input contract: how an RGB frame becomes a tensor.
type Preprocess struct {
	Width, Height int
	ColorOrder    string // channel order of the tensor, "RGB"
	Scale         float32
	Mean, Std     [3]float32
	Resize        string // how the frame is resized; never a crop
	Layout        string // tensor layout, "NCHW"
}

// Output is one named output of a model and its vector length.
type Output struct {
	Name string
	Dim  int
	Note string
}

// Spec is one catalogue entry.
type Spec struct {
	ID     string
	Title  string
	File   string // file name in the models directory; "" when user-supplied
	SHA256 string // pinned hash of the .onnx file; "" when user-supplied
	Source string // where the weights come from
	Input  string // input tensor name; "" means the model's only input
	Pre    Preprocess
	// Outputs lists the known outputs; the first is the default print.
	// A user-supplied model may leave Name empty: its only output is used.
	Outputs []Output
	// Calibration is what the detectors measured in the model's default
	// output; nil where none was measured.
	Calibration *Calibration
}

// imagenet is torchvision's ImageNet normalisation.
var imagenetMean, imagenetStd = [3]float32{0.485, 0.456, 0.406}, [3]float32{0.229, 0.224, 0.225}

func imagenetPre(size int) Preprocess {
	return Preprocess{Width: size, Height: size, ColorOrder: "RGB", Scale: 1.0 / 255,
		Mean: imagenetMean, Std: imagenetStd, Resize: "bilinear, whole frame (no crop)", Layout: "NCHW"}
}

// Default is the model used when none is named.
const Default = "mobilenetv3-small-qvac"

// Catalogue returns the known models. It is a function, not a variable, so
// that no caller can change the pinned entries.
func Catalogue() []Spec {
	return []Spec{
		{
			ID:     "mobilenetv3-small-qvac",
			Title:  "MobileNetV3-Small, ImageNet start, fine-tuned food/report/other (qvac)",
			File:   "mobilenetv3-small-qvac.onnx",
			SHA256: QvacONNXSHA256,
			Source: "converted by vidprint from npm @qvac/classification-ggml@0.26.3 " +
				"weights/mobilenetv3_3class_v3_fp16.gguf (sha256 " + QvacGGUFSHA256 + ")",
			Input: "input",
			Pre:   imagenetPre(224),
			Outputs: []Output{
				{Name: "embedding", Dim: 1024, Note: "classifier.0 + hardswish, the counterpart of the Large 1280-d vector"},
				{Name: "pooled", Dim: 576, Note: "global average pool of the last conv"},
				{Name: "logits", Dim: 3, Note: "food, report, other"},
			},
			Calibration: new(qvacCalibration), // a copy: no caller can change the pinned entry
		},
		{
			ID:    "mobilenetv3-large-imagenet",
			Title: "MobileNetV3-Large, ImageNet (torchvision), user-supplied ONNX export",
			Source: "export torchvision.models.mobilenet_v3_large(weights=IMAGENET1K_V1) with " +
				"classifier[3] removed to ONNX and pass --model PATH.onnx",
			// torchvision's normalisation and input size; its centre crop is left
			// out on purpose, a print must see the whole frame.
			Pre:     imagenetPre(224),
			Outputs: []Output{{Name: "", Dim: 1280, Note: "classifier.0 + hardswish"}},
		},
	}
}

// Pinned hashes of the default model and its source.
const (
	QvacGGUFSHA256 = "faaa680c62f989d642032114c8892e9f43e9f2487ff7a350941715c7de9ffb6c"
	// QvacONNXSHA256 pins the converter's output; the converter is
	// deterministic, so a change here means the conversion changed.
	QvacONNXSHA256 = "2fc165a4bc309da322155cde015847edf68c07263dc68e92bcdc63d540e72ada"
)

// Errors for model resolution.
var (
	ErrUnknownModel = errors.New("unknown model")
	ErrNotInstalled = errors.New("model is not installed")
	ErrChecksum     = errors.New("model checksum mismatch")
	// ErrModelFile marks a model given by path that cannot be used: it is
	// missing, not a regular file, not ONNX, or not an image model.
	ErrModelFile = errors.New("unusable model file")
	// ErrUnknownOutput means the model has no output of the asked name.
	ErrUnknownOutput = errors.New("unknown model output")
)

// Lookup finds a catalogue entry by id.
func Lookup(id string) (Spec, bool) {
	for _, s := range Catalogue() {
		if s.ID == id {
			return s, true
		}
	}
	return Spec{}, false
}

// Resolved is a model ready to load: its contract, file, hash and the
// output the print uses.
type Resolved struct {
	Spec   Spec
	Path   string
	SHA256 string
	Output Output
	// Batch is the model's fixed batch size, or 0 when its batch axis is
	// dynamic; a session never gives it more frames.
	Batch int
}

// LooksLikePath tells a model file from a catalogue id.
func LooksLikePath(name string) bool {
	return strings.HasSuffix(strings.ToLower(name), ".onnx") || strings.ContainsRune(name, os.PathSeparator)
}

// FileSHA256 hashes a file.
func FileSHA256(path string) (string, error) {
	sum, _, err := fsutil.HashFile(context.Background(), path)
	return sum, err
}

// Installed reports whether a catalogue model's file is present in dir.
func Installed(spec Spec, dir string) bool {
	if spec.File == "" {
		return false
	}
	_, err := os.Stat(filepath.Join(dir, spec.File))
	return err == nil
}

// pickOutput chooses the output by name, or the spec's default.
func pickOutput(spec Spec, name string) (Output, error) {
	if name == "" {
		return spec.Outputs[0], nil
	}
	names := make([]string, 0, len(spec.Outputs))
	for _, o := range spec.Outputs {
		if o.Name == name {
			return o, nil
		}
		names = append(names, o.Name)
	}
	return Output{}, fmt.Errorf("%w: model %s has no output %q (it has %s)", ErrUnknownOutput, spec.ID, name, strings.Join(names, ", "))
}
