package printcache

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/vidprint/vidprint/internal/assets"
	"github.com/vidprint/vidprint/internal/embed"
	"github.com/vidprint/vidprint/internal/model"
	"github.com/vidprint/vidprint/internal/testutil"
	"github.com/vidprint/vidprint/internal/vprint"
)

func TestPath(t *testing.T) {
	for in, want := range map[string]string{"a/b/clip.mp4": "clip.vprint", "x.tar.gz": "x.tar.vprint", "noext": "noext.vprint"} {
		if got := Path(in); got != want {
			t.Errorf("Path(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLoad: a video's print is made once and kept at Path, then reused
// without the model while it is that video's; a print with regions is
// made when asked for; a file at Path that is another print is never
// replaced; Off keeps nothing.
func TestLoad(t *testing.T) {
	testutil.FFmpeg(t)
	res := defaultModel(t)
	dir := t.TempDir()
	video := testutil.TestVideo(t, dir, "clip.mp4", 160, 120, "25", 2)
	other := testutil.TestVideo(t, dir, "other.mp4", 160, 120, "25", 3)
	t.Chdir(dir)
	ctx := context.Background()
	loads := 0
	var warned []string
	c := Cache{
		Pool: func() (*embed.Pool, error) {
			loads++
			return embed.Load(res, 1, model.SessionOptions{Threads: 1, Batch: 1}), nil
		},
		Warn: func(msg string) { warned = append(warned, msg) },
	}
	p, err := c.Load(ctx, video, false)
	if err != nil {
		t.Fatal(err)
	}
	kept, err := vprint.ReadFile(Path(video))
	if err != nil || loads != 1 || kept.Frames() != p.Frames() || p.Frames() != 10 || p.HasQuarters() {
		t.Fatalf("first load: %d frames, %d model loads, kept %v", p.Frames(), loads, err)
	}
	if again, err := c.Load(ctx, video, false); err != nil || loads != 1 || again.Frames() != p.Frames() {
		t.Errorf("second load: %v, %d model loads", err, loads)
	}
	if withRegions, err := c.Load(ctx, video, true); err != nil || loads != 2 || !withRegions.HasQuarters() {
		t.Errorf("load with regions: %v, %d model loads", err, loads)
	}
	// A print file is read as it is.
	if got, err := c.Load(ctx, Path(video), false); err != nil || loads != 2 || got.Frames() != p.Frames() {
		t.Errorf("load of the print: %v, %d model loads", err, loads)
	}
	// other.mp4's print is not clip.vprint: a file of that name stays.
	if err := os.Rename(Path(video), Path(other)); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Load(ctx, other, false); err != nil || got.Frames() != 15 || len(warned) != 1 {
		t.Fatalf("load beside another print: %v, %d frames, warnings %q", err, got.Frames(), warned)
	}
	if still, err := vprint.ReadFile(Path(other)); err != nil || still.Source.Name != "clip.mp4" {
		t.Errorf("%s was replaced: %v", Path(other), err)
	}
	// Off keeps nothing.
	off := c
	off.Off = true
	if _, err := off.Load(ctx, filepath.Join(dir, "clip.mp4"), false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(Path(video)); !os.IsNotExist(err) {
		t.Errorf("Off kept %s: %v", Path(video), err)
	}
}

// defaultModel starts ONNX Runtime and resolves the catalogue's default
// model, installed by make deps.
func defaultModel(t *testing.T) model.Resolved {
	t.Helper()
	dirs := assets.Default()
	if err := model.InitRuntime(testutil.ORTLibrary(t)); err != nil {
		t.Fatal(err)
	}
	testutil.File(t, filepath.Join(dirs.ModelsDir(), model.Default+".onnx"))
	res, err := model.Resolve(dirs.ModelsDir(), model.Default, "")
	if err != nil {
		t.Fatal(err)
	}
	return res
}
