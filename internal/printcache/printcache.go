// Package printcache gives the print of a video for the commands that take
// a video or a print (picture, scenes, summary, split, locate): a print
// file is read; a video's print is kept where `vidprint embed` would name
// it, and reused while it is the print of that very file by the default
// model.
package printcache

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vidprint/vidprint/internal/decode"
	"github.com/vidprint/vidprint/internal/embed"
	"github.com/vidprint/vidprint/internal/fsutil"
	"github.com/vidprint/vidprint/internal/model"
	"github.com/vidprint/vidprint/internal/vprint"
)

// Cache makes and keeps videos' prints.
type Cache struct {
	// Off makes prints in memory only, keeping none.
	Off bool
	// Pool loads the default model, when a print must be made.
	Pool func() (*embed.Pool, error)
	// Progress, when set, is called as frames are embedded (embed.Options).
	Progress func(done, total int)
	// Warn, when set, says why a print is not kept.
	Warn func(msg string)
}

// Path is where a video's print is kept: in the current directory, named
// as embed names it.
func Path(video string) string {
	b := filepath.Base(video)
	return strings.TrimSuffix(b, filepath.Ext(b)) + ".vprint"
}

// Load reads a print, or embeds a video with the default model, with
// region features when regions. A kept print of the same file and model
// (with regions, when asked for) is reused; a file at Path that is not
// this video's print is never replaced.
func (c Cache) Load(ctx context.Context, path string, regions bool) (*vprint.Print, error) {
	if err := decode.CheckFile(path); err != nil {
		return nil, err
	}
	if vprint.IsFile(path) {
		return vprint.ReadFile(path)
	}
	cache, off := Path(path), c.Off
	if !off {
		p, ok := kept(cache, path)
		if ok && (p.HasQuarters() || !regions) {
			return p, nil
		}
		// It may be a print the user made of another video or with another
		// model. This video's print without regions is made again with
		// them.
		if _, err := os.Stat(cache); err == nil && !ok {
			if c.Warn != nil {
				c.Warn(fmt.Sprintf("%s exists and is not the print of %s; not keeping this one", cache, path))
			}
			off = true
		}
	}
	pool, err := c.Pool()
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	opts := embed.Options{Progress: c.Progress, Regions: regions}
	if off {
		p, err := embed.ToPrint(ctx, path, pool, opts)
		if err != nil && !strings.Contains(err.Error(), path) {
			err = fmt.Errorf("%s: %w", path, err)
		}
		return p, err
	}
	if _, err := embed.ToFile(ctx, path, cache, pool, opts); err != nil {
		return nil, err
	}
	return vprint.ReadFile(cache)
}

// kept returns the print at cache when it was made from this very video
// file by the default model, and is no older than the video.
func kept(cache, video string) (*vprint.Print, bool) {
	p, err := vprint.ReadFile(cache)
	if err != nil {
		return nil, false
	}
	spec, _ := model.Lookup(model.Default)
	st, err := os.Stat(video)
	if err != nil || p.Source.Size != st.Size() || p.Model.ID != model.Default || p.Model.SHA256 != spec.SHA256 {
		return nil, false
	}
	cst, err := os.Stat(cache)
	if err != nil || cst.ModTime().Before(st.ModTime()) {
		return nil, false
	}
	sum, _, err := fsutil.HashFile(context.Background(), video)
	if err != nil || sum != p.Source.SHA256 {
		return nil, false
	}
	return p, true
}
