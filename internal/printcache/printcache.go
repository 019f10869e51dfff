// Package printcache gives the print of a video for the commands that take
// a video or a print (picture, scenes, summary, split, locate): a print
// file is read; a video's print is kept in a cache directory, keyed by the
// video's content and the model, so that the next command on the same
// video (under any name, anywhere) reuses it. The cache is bounded: the
// prints used least recently go first.
package printcache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vidprint/vidprint/internal/decode"
	"github.com/vidprint/vidprint/internal/embed"
	"github.com/vidprint/vidprint/internal/fsutil"
	"github.com/vidprint/vidprint/internal/model"
	"github.com/vidprint/vidprint/internal/vprint"
)

// DefaultMaxBytes bounds a cache: about ten hours of video with region
// features.
const DefaultMaxBytes = 2 << 30

// Cache makes and keeps videos' prints.
type Cache struct {
	// Dir holds the kept prints; it is made when first needed.
	Dir string
	// MaxBytes bounds the prints kept (DefaultMaxBytes when 0).
	MaxBytes int64
	// Off makes prints in memory only, keeping none.
	Off bool
	// Start and End make the print of that stretch of video time only
	// (End 0: to the end), in memory: the cache keeps whole videos' prints.
	Start, End float64
	// Pool loads the default model, when a print must be made.
	Pool func() (*embed.Pool, error)
	// Progress, when set, is called as frames are embedded (embed.Options).
	Progress func(done, total int)
}

// ext names a kept print.
const ext = ".vprint"

// key names the kept print of a video by its content's SHA-256 and the
// default model's file.
func key(videoSHA string) string {
	spec, _ := model.Lookup(model.Default)
	return videoSHA[:32] + "." + spec.SHA256[:12] + ext
}

// Load reads a print, or gives a video's print by the default model, with
// region features when regions: the kept one where there is one of that
// very content (with regions, when asked for), else a new one, kept.
func (c Cache) Load(ctx context.Context, path string, regions bool) (*vprint.Print, error) {
	if err := decode.CheckFile(path); err != nil {
		return nil, err
	}
	if vprint.IsFile(path) {
		return vprint.ReadFile(path)
	}
	if c.Off || c.Dir == "" || c.Start > 0 || c.End > 0 {
		return c.embed(ctx, path, regions, "")
	}
	sum, _, err := fsutil.HashFile(ctx, path)
	if err != nil {
		return nil, err
	}
	kept := filepath.Join(c.Dir, key(sum))
	if p, err := vprint.ReadFile(kept); err == nil && p.Source.SHA256 == sum && (p.HasQuarters() || !regions) {
		now := time.Now()
		os.Chtimes(kept, now, now) // used: the last to go
		return p, nil
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("print cache %s: %w", c.Dir, err)
	}
	p, err := c.embed(ctx, path, regions, kept)
	if err != nil {
		return nil, err
	}
	c.trim(kept)
	return p, nil
}

// embed makes path's print, writing it to out unless out is empty.
func (c Cache) embed(ctx context.Context, path string, regions bool, out string) (*vprint.Print, error) {
	pool, err := c.Pool()
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	opts := embed.Options{Progress: c.Progress, Regions: regions, Start: c.Start, End: c.End}
	if out == "" {
		p, err := embed.ToPrint(ctx, path, pool, opts)
		if err != nil && !strings.Contains(err.Error(), path) {
			err = fmt.Errorf("%s: %w", path, err)
		}
		return p, err
	}
	if _, err := embed.ToFile(ctx, path, out, pool, opts); err != nil {
		return nil, err
	}
	return vprint.ReadFile(out)
}

// Entry is one kept print.
type Entry struct {
	Path   string
	Size   int64
	UsedAt time.Time
}

// List gives the kept prints, most recently used first.
func (c Cache) List() ([]Entry, error) {
	files, err := os.ReadDir(c.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), ext) || !f.Type().IsRegular() {
			continue
		}
		info, err := f.Info()
		if err != nil {
			continue
		}
		out = append(out, Entry{Path: filepath.Join(c.Dir, f.Name()), Size: info.Size(), UsedAt: info.ModTime()})
	}
	slices.SortFunc(out, func(a, b Entry) int { return b.UsedAt.Compare(a.UsedAt) })
	return out, nil
}

// trim removes the prints used least recently until the cache is within
// MaxBytes, keeping the one just made.
func (c Cache) trim(keep string) {
	limit := c.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	all, err := c.List()
	if err != nil {
		return
	}
	var total int64
	for _, e := range all {
		total += e.Size
	}
	for i := len(all) - 1; i >= 0 && total > limit; i-- {
		if all[i].Path == keep {
			continue
		}
		if os.Remove(all[i].Path) == nil {
			total -= all[i].Size
		}
	}
}

// Clear removes every kept print and returns how many and their bytes.
func (c Cache) Clear() (int, int64, error) {
	all, err := c.List()
	if err != nil {
		return 0, 0, err
	}
	n, bytes := 0, int64(0)
	for _, e := range all {
		if err := os.Remove(e.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return n, bytes, fmt.Errorf("print cache: %w", err)
		}
		n, bytes = n+1, bytes+e.Size
	}
	return n, bytes, nil
}
