package model

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vidprint/vidprint/internal/assets"
	"github.com/vidprint/vidprint/internal/testutil"
)

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

func TestCatalogInvariants(t *testing.T) {
	cat := Catalogue()
	if len(cat) == 0 {
		t.Fatal("empty catalogue")
	}
	ids := map[string]bool{}
	for _, s := range cat {
		t.Run(s.ID, func(t *testing.T) {
			if s.ID == "" || strings.ToLower(s.ID) != s.ID || LooksLikePath(s.ID) || strings.HasPrefix(s.ID, "custom-") {
				t.Errorf("id %q: want a lowercase name that is not a path nor a custom id", s.ID)
			}
			if ids[s.ID] {
				t.Errorf("id %q listed twice", s.ID)
			}
			ids[s.ID] = true
			if s.Title == "" || s.Source == "" {
				t.Errorf("title %q, source %q: both are shown by vidprint models", s.Title, s.Source)
			}
			// Only a user-supplied entry has no file and no pin; an installed
			// one has both, and its file is named by its id.
			switch {
			case s.File == "" && s.SHA256 != "":
				t.Errorf("user-supplied entry pins sha256 %q", s.SHA256)
			case s.File != "" && !sha256Hex.MatchString(s.SHA256):
				t.Errorf("sha256 %q: want 64 lowercase hex digits", s.SHA256)
			case s.File != "" && s.File != s.ID+".onnx":
				t.Errorf("file %q, want %q", s.File, s.ID+".onnx")
			}
			if len(s.Outputs) == 0 {
				t.Fatal("no outputs")
			}
			names := map[string]bool{}
			for _, o := range s.Outputs {
				if o.Dim <= 0 {
					t.Errorf("output %q has dim %d", o.Name, o.Dim)
				}
				if names[o.Name] {
					t.Errorf("output %q listed twice", o.Name)
				}
				names[o.Name] = true
				if o.Name == "" && (s.File != "" || len(s.Outputs) != 1) {
					t.Error("an unnamed output is only for a user-supplied model's only output")
				}
			}
			p := s.Pre
			if p.Width <= 0 || p.Height <= 0 || !(p.Scale > 0) || p.ColorOrder != "RGB" || p.Layout != "NCHW" ||
				strings.Contains(p.Resize, "crop") && !strings.Contains(p.Resize, "no crop") {
				t.Errorf("preprocessing %+v", p)
			}
			for c, sd := range p.Std {
				if !(sd > 0) {
					t.Errorf("std[%d] = %g", c, sd)
				}
			}
		})
	}
	def, ok := Lookup(Default)
	if !ok || def.File == "" {
		t.Fatalf("default model %q must be an installable catalogue entry", Default)
	}
	if def.SHA256 != QvacONNXSHA256 {
		t.Errorf("default model pins %s, QvacONNXSHA256 is %s", def.SHA256, QvacONNXSHA256)
	}
	if _, ok := Lookup("mobilenetv3-large-imagenet"); !ok {
		t.Error("the Large entry gives custom models their contract; it must exist")
	}
}

// Catalogue hands out fresh values: a caller cannot change the pins.
func TestCatalogueIsACopy(t *testing.T) {
	c := Catalogue()
	c[0].SHA256 = "tampered"
	c[0].Outputs[0].Dim = -1
	s, _ := Lookup(c[0].ID)
	if s.SHA256 == "tampered" || s.Outputs[0].Dim == -1 {
		t.Fatal("changing Catalogue()'s result changed the catalogue")
	}
}

// scripts/deps.sh installs the default model and verifies it by the same
// hashes the catalogue pins; the two must not drift apart.
func TestCatalogPinsMatchDeps(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "scripts", "deps.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for variable, want := range map[string]string{"MODEL_ONNX_SHA": QvacONNXSHA256, "QVAC_GGUF_SHA": QvacGGUFSHA256} {
		m := regexp.MustCompile(`(?m)^`+variable+`=([0-9a-f]+)\s*$`).FindAllSubmatch(b, -1)
		if len(m) != 1 {
			t.Errorf("scripts/deps.sh: want one %s=<sha256> line, found %d", variable, len(m))
			continue
		}
		if got := string(m[0][1]); got != want {
			t.Errorf("scripts/deps.sh pins %s=%s, the catalogue %s", variable, got, want)
		}
	}
}

func TestLooksLikePath(t *testing.T) {
	for name, want := range map[string]bool{
		Default:            false,
		"nosuch":           false,
		"model.onnx":       true,
		"MODEL.ONNX":       true,
		"./model":          true,
		"/abs/model.bin":   true,
		"dir/model":        true,
		"onnx":             false,
		"custom-0123abcd4": false,
	} {
		if got := LooksLikePath(name); got != want {
			t.Errorf("LooksLikePath(%q) = %v, want %v", name, got, want)
		}
	}
}

// defaultModel returns the installed default model's path.
func defaultModel(t *testing.T) string {
	t.Helper()
	return testutil.File(t, filepath.Join(assets.Default().ModelsDir(), Default+".onnx"))
}

// modelsDir returns a temporary models directory holding the given bytes
// under the default model's file name.
func modelsDir(t *testing.T, data []byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, Default+".onnx"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Resolving a catalogue id only hashes the file: no ONNX Runtime needed.
func TestResolveCatalogueID(t *testing.T) {
	real, err := os.ReadFile(defaultModel(t))
	if err != nil {
		t.Fatal(err)
	}
	installed := modelsDir(t, real)
	tampered := modelsDir(t, append(real[:len(real):len(real)], 0))
	tests := []struct {
		name, dir, id, output string
		wantErr               error
		says                  []string // in the error, or "" for success
		wantOutput            string
		wantDim               int
	}{
		{"default", installed, Default, "", nil, nil, "embedding", 1024},
		{"installed models dir", assets.Default().ModelsDir(), Default, "", nil, nil, "embedding", 1024},
		{"pooled", installed, Default, "pooled", nil, nil, "pooled", 576},
		{"logits", installed, Default, "logits", nil, nil, "logits", 3},
		{"unknown id", installed, "mobilenetv9", "", ErrUnknownModel, []string{`"mobilenetv9"`, "vidprint models"}, "", 0},
		{"not installed", t.TempDir(), Default, "", ErrNotInstalled, []string{Default, "make deps"}, "", 0},
		{"tampered", tampered, Default, "", ErrChecksum, []string{QvacONNXSHA256, Default + ".onnx"}, "", 0},
		{"unknown output", installed, Default, "features", ErrUnknownOutput,
			[]string{`"features"`, "embedding, pooled, logits"}, "", 0},
		{"user-supplied id", installed, "mobilenetv3-large-imagenet", "", ErrNotInstalled, []string{"--model PATH.onnx"}, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Resolve(tc.dir, tc.id, tc.output)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				for _, s := range tc.says {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not say %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Spec.ID != Default || res.SHA256 != QvacONNXSHA256 || res.Path != filepath.Join(tc.dir, Default+".onnx") ||
				res.Output.Name != tc.wantOutput || res.Output.Dim != tc.wantDim || res.Batch != 0 {
				t.Errorf("resolved %s %s %s %+v batch %d", res.Spec.ID, res.SHA256, res.Path, res.Output, res.Batch)
			}
		})
	}
}
