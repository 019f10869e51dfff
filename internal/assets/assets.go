// Package assets locates the files vidprint needs at run time: the ONNX
// Runtime shared library, the installed models and the package sources they
// were built from. Nothing here downloads; scripts/deps.sh installs them.
package assets

import (
	"os"
	"path/filepath"
)

// Dirs holds the resolved locations. The zero value is not useful; use Default.
type Dirs struct {
	Home string // root of everything below
}

// Default resolves VIDPRINT_HOME, else $XDG_DATA_HOME/vidprint, else
// ~/.local/share/vidprint.
func Default() Dirs {
	if h := os.Getenv("VIDPRINT_HOME"); h != "" {
		return Dirs{Home: h}
	}
	if x := os.Getenv("XDG_DATA_HOME"); x != "" {
		return Dirs{Home: filepath.Join(x, "vidprint")}
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = "."
	}
	return Dirs{Home: filepath.Join(home, ".local", "share", "vidprint")}
}

// ORTLibrary is the ONNX Runtime shared library. VIDPRINT_ORT_LIB overrides it.
func (d Dirs) ORTLibrary() string {
	if p := os.Getenv("VIDPRINT_ORT_LIB"); p != "" {
		return p
	}
	return filepath.Join(d.Home, "lib", "libonnxruntime.so.1")
}

// ModelsDir holds installed .onnx models, named by catalogue id.
func (d Dirs) ModelsDir() string { return filepath.Join(d.Home, "models") }

// PackageDir holds unpacked registry packages (model sources, test images).
func (d Dirs) PackageDir(name string) string { return filepath.Join(d.Home, "pkg", name) }

// QvacGGUF is the MobileNetV3-Small weights shipped in npm @qvac/classification-ggml.
func (d Dirs) QvacGGUF() string {
	return filepath.Join(d.PackageDir("qvac"), "weights", "mobilenetv3_3class_v3_fp16.gguf")
}

// QvacTestImages is the package's own test/images folder.
func (d Dirs) QvacTestImages() string {
	return filepath.Join(d.PackageDir("qvac"), "test", "images")
}

// DataDir holds real footage unpacked from packages (see shared DATA.md).
func (d Dirs) DataDir() string { return filepath.Join(d.Home, "data") }

// CacheDir holds prints kept for reuse (internal/printcache):
// VIDPRINT_CACHE, else $XDG_CACHE_HOME/vidprint/prints, else cache/prints
// under Home.
func (d Dirs) CacheDir() string {
	if c := os.Getenv("VIDPRINT_CACHE"); c != "" {
		return c
	}
	if x := os.Getenv("XDG_CACHE_HOME"); x != "" {
		return filepath.Join(x, "vidprint", "prints")
	}
	return filepath.Join(d.Home, "cache", "prints")
}
