package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/vidprint/vidprint/internal/decode"
	"github.com/vidprint/vidprint/internal/embed"
	"github.com/vidprint/vidprint/internal/model"
	"github.com/vidprint/vidprint/internal/vprint"
)

// isPrint tells a print file from anything else by its magic.
func isPrint(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, len(vprint.Magic))
	_, err = io.ReadFull(f, head)
	return err == nil && bytes.Equal(head, []byte(vprint.Magic))
}

// cachePath is where a video's print is kept: as embed would name it.
func cachePath(video string) string {
	b := filepath.Base(video)
	return strings.TrimSuffix(b, filepath.Ext(b)) + ".vprint"
}

// loadPrint reads a print, or embeds a video with the default model, with
// region features when regions. The video's print is kept beside the work
// (as embed names it) unless noCache, and a kept print of the same file
// and model (with regions, when asked for) is reused.
func loadPrint(ctx context.Context, g *globals, path string, noCache, regions bool) (*vprint.Print, error) {
	if err := decode.CheckFile(path); err != nil {
		return nil, err
	}
	if isPrint(path) {
		return vprint.ReadFile(path)
	}
	cache := cachePath(path)
	if !noCache {
		p, ok := cachedPrint(g, cache, path)
		if ok && (p.HasQuarters() || !regions) {
			return p, nil
		}
		// Never replace a file that is not this video's print: it may be a
		// print the user made of another video or with another model. This
		// video's print without regions is made again with them.
		if _, err := os.Stat(cache); err == nil && !ok {
			if !g.quiet {
				fmt.Fprintf(os.Stderr, "vidprint: %s exists and is not the print of %s; not keeping this one\n", cache, path)
			}
			noCache = true
		}
	}
	pool, err := openModel(g, model.Default, "", 0, 1, 1)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	bar := g.bar("frames")
	bar.Start(filepath.Base(path))
	defer bar.Clear()
	opts := embed.Options{Progress: bar.Update, Regions: regions}
	if noCache {
		p, err := embed.ToPrint(ctx, path, pool, opts)
		if err != nil && !strings.Contains(err.Error(), path) {
			err = fmt.Errorf("%s: %w", path, err)
		}
		return p, err
	}
	if _, err := embedOne(ctx, path, cache, pool, opts); err != nil {
		return nil, err
	}
	return vprint.ReadFile(cache)
}

// cachedPrint returns the kept print of video when it was made from this
// very file by the default model.
func cachedPrint(g *globals, cache, video string) (*vprint.Print, bool) {
	p, err := vprint.ReadFile(cache)
	if err != nil {
		return nil, false
	}
	st, err := os.Stat(video)
	if err != nil || p.Source.Size != st.Size() || p.Model.ID != model.Default || p.Model.SHA256 != model.QvacONNXSHA256 {
		return nil, false
	}
	cst, err := os.Stat(cache)
	if err != nil || cst.ModTime().Before(st.ModTime()) {
		return nil, false
	}
	sum, err := model.FileSHA256(video)
	if err != nil || sum != p.Source.SHA256 {
		return nil, false
	}
	return p, true
}
