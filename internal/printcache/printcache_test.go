package printcache

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vidprint/vidprint/internal/assets"
	"github.com/vidprint/vidprint/internal/embed"
	"github.com/vidprint/vidprint/internal/model"
	"github.com/vidprint/vidprint/internal/testutil"
)

// TestLoad: a video's print is made once and kept in the cache, keyed by
// content: reused without the model for the same video under another name,
// made again with regions when asked for them; a print file is read as it
// is; Off keeps nothing; Clear empties the cache.
func TestLoad(t *testing.T) {
	testutil.FFmpeg(t)
	res := defaultModel(t)
	dir := t.TempDir()
	video := testutil.TestVideo(t, dir, "clip.mp4", 160, 120, "25", 2)
	other := testutil.TestVideo(t, dir, "other.mp4", 160, 120, "25", 3)
	data, _ := os.ReadFile(video)
	same := filepath.Join(dir, "same.mp4")
	os.WriteFile(same, data, 0o644)
	ctx := context.Background()
	loads := 0
	c := Cache{Dir: filepath.Join(dir, "cache"), Pool: func() (*embed.Pool, error) {
		loads++
		return embed.Load(res, 1, model.SessionOptions{Threads: 1, Batch: 1}), nil
	}}
	kept := func() []Entry {
		all, err := c.List()
		if err != nil {
			t.Fatal(err)
		}
		return all
	}
	p, err := c.Load(ctx, video, false)
	if err != nil || loads != 1 || p.Frames() != 10 || p.HasQuarters() || len(kept()) != 1 {
		t.Fatalf("first load: %v, %d model loads, %d kept", err, loads, len(kept()))
	}
	if again, err := c.Load(ctx, same, false); err != nil || loads != 1 || again.Frames() != 10 {
		t.Errorf("the same content under another name: %v, %d model loads", err, loads)
	}
	if withRegions, err := c.Load(ctx, video, true); err != nil || loads != 2 || !withRegions.HasQuarters() || len(kept()) != 1 {
		t.Errorf("load with regions: %v, %d model loads, %d kept", err, loads, len(kept()))
	}
	if got, err := c.Load(ctx, video, false); err != nil || loads != 2 || !got.HasQuarters() {
		t.Errorf("a print with regions serves one without: %v, %d model loads", err, loads)
	}
	if got, err := c.Load(ctx, kept()[0].Path, false); err != nil || loads != 2 || got.Frames() != 10 {
		t.Errorf("load of a print: %v, %d model loads", err, loads)
	}
	if got, err := c.Load(ctx, other, false); err != nil || got.Frames() != 15 || len(kept()) != 2 {
		t.Fatalf("another video: %v, %d kept", err, len(kept()))
	}
	off := c
	off.Off = true
	if _, err := off.Load(ctx, testutil.TestVideo(t, dir, "third.mp4", 160, 120, "25", 1), false); err != nil || len(kept()) != 2 {
		t.Errorf("Off: %v, %d kept", err, len(kept()))
	}
	if n, bytes, err := c.Clear(); err != nil || n != 2 || bytes <= 0 || len(kept()) != 0 {
		t.Errorf("Clear: %d prints, %d bytes, %v; %d kept", n, bytes, err, len(kept()))
	}
}

// TestTrim: past MaxBytes, the prints used least recently go first, and
// never the one just made.
func TestTrim(t *testing.T) {
	dir := t.TempDir()
	c := Cache{Dir: dir, MaxBytes: 250}
	now := time.Now()
	for i, name := range []string{"old.vprint", "mid.vprint", "new.vprint", "notes.txt"} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, make([]byte, 100), 0o644)
		os.Chtimes(p, now.Add(time.Duration(i)*time.Minute), now.Add(time.Duration(i)*time.Minute))
	}
	c.trim(filepath.Join(dir, "old.vprint")) // as if just made
	var left []string
	for _, e := range mustList(t, c) {
		left = append(left, filepath.Base(e.Path))
	}
	if strings.Join(left, " ") != "new.vprint old.vprint" {
		t.Errorf("left %v, want new.vprint and the one just made", left)
	}
	if _, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil {
		t.Errorf("a file that is not a print went: %v", err)
	}
}

func mustList(t *testing.T, c Cache) []Entry {
	t.Helper()
	all, err := c.List()
	if err != nil {
		t.Fatal(err)
	}
	return all
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
