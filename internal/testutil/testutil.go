// Package testutil finds the real tools and assets tests need. When
// VIDPRINT_REQUIRE_ASSETS=1 (set by make test) a missing asset fails the
// test instead of skipping it, so CI cannot pass by skipping.
package testutil

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/vidprint/vidprint/internal/assets"
)

func missing(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("VIDPRINT_REQUIRE_ASSETS") == "1" {
		t.Fatalf("%s is missing (run make deps)", what)
	}
	t.Skipf("%s is missing (run make deps, or make test)", what)
}

// File returns path if it exists, else skips or fails.
func File(t testing.TB, path string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		missing(t, path)
	}
	return path
}

// FFmpeg makes sure ffmpeg and ffprobe are on PATH.
func FFmpeg(t testing.TB) {
	t.Helper()
	for _, bin := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(bin); err != nil {
			missing(t, bin)
		}
	}
}

// ORTLibrary returns the ONNX Runtime shared library path.
func ORTLibrary(t testing.TB) string {
	t.Helper()
	return File(t, assets.Default().ORTLibrary())
}

// QvacGGUF returns the path of the package's GGUF weights.
func QvacGGUF(t testing.TB) string {
	t.Helper()
	return File(t, assets.Default().QvacGGUF())
}

// FFmpegGen runs ffmpeg to make a test file at dir/name and returns its
// path. args go between the global options and the output name.
func FFmpegGen(t testing.TB, dir, name string, args ...string) string {
	t.Helper()
	FFmpeg(t)
	out := filepath.Join(dir, name)
	full := append([]string{"-hide_banner", "-nostdin", "-loglevel", "error", "-y"}, args...)
	full = append(full, out)
	cmd := exec.Command("ffmpeg", full...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", full, err, b)
	}
	return out
}

// TestVideo makes a testsrc2 H.264 video of the given size, rate and length.
func TestVideo(t testing.TB, dir, name string, w, h int, rate string, seconds float64) string {
	t.Helper()
	return FFmpegGen(t, dir, name, "-f", "lavfi",
		"-i", fmt.Sprintf("testsrc2=size=%dx%d:rate=%s", w, h, rate),
		"-t", strconv.FormatFloat(seconds, 'f', -1, 64),
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")
}

// Footage returns a real video from the packages deps.sh unpacks.
func Footage(t testing.TB, name string) string {
	t.Helper()
	return File(t, filepath.Join(assets.Default().DataDir(), name))
}

// NumpyPython returns a python3 that can import numpy: Debian's
// python3-numpy (deps.sh test installs it) or one on PATH.
func NumpyPython(t testing.TB) string {
	t.Helper()
	candidates := []string{"/usr/bin/python3"}
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	for _, py := range candidates {
		if exec.Command(py, "-c", "import numpy").Run() == nil {
			return py
		}
	}
	missing(t, "python3 with numpy (Debian python3-numpy)")
	return ""
}

// Nobody is the user AsNobody runs as.
const Nobody = 65534

// AsNobody runs test name of this test binary in a child process as the
// user nobody, with env added, and returns its output: root ignores file
// modes, so only another user can show what read-only access does. The
// binary is copied where nobody can run it, and every directory above dir
// up to the temporary directory is opened to others; dir's own modes are
// left to the caller. Only root can do this: others skip.
func AsNobody(t testing.TB, dir, name string, env ...string) ([]byte, error) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("only root can run a test as another user")
	}
	tmp := filepath.Clean(os.TempDir())
	for d := filepath.Dir(filepath.Clean(dir)); strings.HasPrefix(d, tmp+string(filepath.Separator)); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	binDir, err := os.MkdirTemp("", "asnobody")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(binDir) })
	if err := os.Chmod(binDir, 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(binDir, filepath.Base(self))
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, "-test.run=^"+name+"$", "-test.v")
	cmd.Dir = binDir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: Nobody, Gid: Nobody}}
	if err := cmd.Start(); err != nil {
		// A temporary directory that nobody cannot reach, or one
		// mounted noexec.
		if errors.Is(err, fs.ErrPermission) {
			t.Skipf("cannot run the test as nobody here: %v", err)
		}
		t.Fatal(err)
	}
	err = cmd.Wait()
	return out.Bytes(), err
}

// Lavfi filter graphs of generated footage that tests of the
// picture-in-picture finder and of the views share, 640x360 hosts and
// 320-wide insets at 5 frames a second. Sources with a seed have it fixed,
// so that runs agree.
const (
	// HostGray is still but for a little noise.
	HostGray = "color=c=gray:s=640x360:r=5,noise=alls=10:allf=t"
	// HostWallAndWindow: a dark wall whose right edge a picture at 160,100
	// continues upward, and a window outlined in 7 frames of 10, whose
	// sides stop at their corners: the finder's first guess is the window,
	// its second the picture.
	HostWallAndWindow = HostGray + ",drawbox=x=0:y=0:w=160:h=100:color=black:t=fill" +
		",drawbox=x=496:y=40:w=136:h=160:color=white:t=3:enable='lt(mod(n\\,10)\\,7)'"
	// InsetLife is a moving picture, 320x240.
	InsetLife = "life=s=480x360:mold=10:r=5:ratio=0.2:seed=2:death_color=#3060C0:life_color=#ffff00,scale=320:240"
)

// Overlay is the filter graph of inset over host with its top-left corner
// at x, y.
func Overlay(host, inset string, x, y int) string {
	return fmt.Sprintf("%s[host];%s[inset];[host][inset]overlay=x=%d:y=%d:shortest=1", host, inset, x, y)
}
