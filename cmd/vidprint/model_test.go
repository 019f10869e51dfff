package main

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vidprint/vidprint/internal/model"
	"github.com/vidprint/vidprint/internal/testutil"
	"github.com/vidprint/vidprint/internal/vprint"
)

// A user with their own ONNX model runs the same pipeline with --model
// PATH. The converter's single-output model stands in for it: its hash is
// not in the catalogue, so it takes the custom path, and since it holds
// the default model's weights its print must match the default one.
func TestEmbedCustomModel(t *testing.T) {
	needModel(t)
	gguf := testutil.QvacGGUF(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("my notes"), 0o644)
	testutil.TestVideo(t, dir, "v.mp4", 320, 240, "25", 2)

	r := run(t, dir, "models", "convert", gguf, "--outputs", "embedding", "-o", "custom.onnx")
	if r.code != 0 || !strings.Contains(r.stdout, "wrote custom.onnx") {
		t.Fatalf("models convert: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	sum, err := model.FileSHA256(filepath.Join(dir, "custom.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if sum == model.QvacONNXSHA256 {
		t.Fatal("the single-output model has the catalogue model's hash")
	}
	r = run(t, dir, "embed", "v.mp4", "--model", "custom.onnx", "-o", "c.vprint")
	if r.code != 0 {
		t.Fatalf("embed --model custom.onnx: exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "custom-"+sum[:12]) {
		t.Errorf("embed's summary %q does not name the custom model", r.stdout)
	}
	r = run(t, dir, "embed", "v.mp4", "-o", "d.vprint")
	if r.code != 0 {
		t.Fatalf("embed: exit %d: %s", r.code, r.stderr)
	}
	c, err := vprint.ReadFile(filepath.Join(dir, "c.vprint"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := vprint.ReadFile(filepath.Join(dir, "d.vprint"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.Model.ID, "custom-") || c.Model.ID != "custom-"+sum[:12] || c.Model.SHA256 != sum ||
		c.Model.Output != "embedding" || c.Dim != 1024 {
		t.Errorf("custom print: model %+v dim %d, want custom-%s embedding 1024", c.Model, c.Dim, sum[:12])
	}
	if d.Model.ID != model.Default || d.Model.SHA256 != model.QvacONNXSHA256 || d.Dim != 1024 {
		t.Errorf("default print: model %+v dim %d", d.Model, d.Dim)
	}
	// Another model file: the prints must not be compared with each other.
	if err := vprint.Compatible(c, d); !errors.Is(err, vprint.ErrIncompatible) {
		t.Errorf("Compatible(custom, default) = %v, want ErrIncompatible", err)
	}
	// The CLI refuses to compare them, naming both prints.
	r = run(t, dir, "compare", "d.vprint", "c.vprint")
	if r.code != exitIncompatible || !strings.Contains(r.stderr, "c.vprint") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("compare across models: exit %d, stderr %q; want %d in one line", r.code, r.stderr, exitIncompatible)
	}
	// Same model, same video: identical.
	r = run(t, dir, "compare", "--json", "d.vprint", "d.vprint")
	if r.code != 0 || !strings.Contains(r.stdout, `"nearest_within_1":1`) {
		t.Errorf("compare with itself: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if c.Frames() != 10 || c.Frames() != d.Frames() {
		t.Fatalf("%d and %d frames, want 10 each", c.Frames(), d.Frames())
	}
	for i := range c.Timestamps {
		if c.Timestamps[i] != d.Timestamps[i] {
			t.Fatalf("row %d: timestamps %g and %g", i, c.Timestamps[i], d.Timestamps[i])
		}
	}
	// Prints store float16; the same weights give the same features.
	var worst float64
	for i := range c.Features {
		diff := math.Abs(float64(c.Features[i]) - float64(d.Features[i]))
		worst = max(worst, diff)
		if diff > 1e-3*max(1, math.Abs(float64(d.Features[i]))) {
			t.Fatalf("feature %d (row %d): custom %g, default %g", i, i/c.Dim, c.Features[i], d.Features[i])
		}
	}
	t.Logf("%d x %d features, max |diff| %g", c.Frames(), c.Dim, worst)
}

// A model that cannot be used is a setup problem: exit 5, one line naming
// the model, no print written.
func TestEmbedBadModel(t *testing.T) {
	needModel(t)
	dir := t.TempDir()
	testutil.TestVideo(t, dir, "v.mp4", 160, 120, "10", 1)
	if err := os.Mkdir(filepath.Join(dir, "adir.onnx"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.onnx"), []byte("not a model\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, model string
		says        []string
	}{
		{"unknown id", "nosuch", []string{`unknown model "nosuch"`, "vidprint models"}},
		{"missing file", "missing.onnx", []string{"missing.onnx", "no such file"}},
		{"missing file in a folder", filepath.Join("nodir", "m.onnx"), []string{filepath.Join("nodir", "m.onnx"), "no such file"}},
		{"directory", "adir.onnx", []string{"adir.onnx", "is a directory"}},
		{"not ONNX", "notes.onnx", []string{"notes.onnx", "not a loadable ONNX model"}},
		{"user-supplied id", "mobilenetv3-large-imagenet", []string{"mobilenetv3-large-imagenet", "--model PATH.onnx"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, dir, "embed", "v.mp4", "--model", tc.model, "-o", "out.vprint")
			if r.code != exitSetup {
				t.Fatalf("exit %d, want %d (stderr %q)", r.code, exitSetup, r.stderr)
			}
			msg := strings.TrimSuffix(r.stderr, "\n")
			if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "vidprint: ") {
				t.Errorf("stderr %q: want one line", r.stderr)
			}
			for _, s := range tc.says {
				if !strings.Contains(msg, s) {
					t.Errorf("stderr %q does not say %q", msg, s)
				}
			}
			assertNoOutput(t, dir, "out.vprint")
		})
	}
}

func TestModelsConvertErrors(t *testing.T) {
	gguf := testutil.QvacGGUF(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("my notes"), 0o644)
	tests := []struct {
		name string
		args []string
		code int
		says string
	}{
		{"unknown output", []string{gguf, "--outputs", "embedding,features", "-o", "x.onnx"}, exitUsage, `unknown output "features"`},
		{"repeated output", []string{gguf, "--outputs", "pooled,pooled", "-o", "x.onnx"}, exitUsage, `"pooled" named twice`},
		{"over a file that is not a model", []string{gguf, "-o", "notes.txt"}, exitOutput, "notes.txt exists and is not an ONNX model"},
		{"missing weights", []string{"nosuch.gguf", "-o", "x.onnx"}, exitInput, "nosuch.gguf"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, dir, append([]string{"models", "convert"}, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.says) {
				t.Fatalf("exit %d, stderr %q; want %d saying %q", r.code, r.stderr, tc.code, tc.says)
			}
			assertNoOutput(t, dir, "x.onnx")
		})
	}
	// The default is the catalogue model, byte for byte.
	r := run(t, dir, "models", "convert", gguf, "-o", "default.onnx")
	if r.code != 0 {
		t.Fatalf("models convert: exit %d: %s", r.code, r.stderr)
	}
	if sum, err := model.FileSHA256(filepath.Join(dir, "default.onnx")); err != nil || sum != model.QvacONNXSHA256 {
		t.Errorf("default conversion: sha256 %s (%v), want %s", sum, err, model.QvacONNXSHA256)
	}
}
