package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vidprint/vidprint/internal/embed"
	"github.com/vidprint/vidprint/internal/model"
	"github.com/vidprint/vidprint/internal/printcache"
	"github.com/vidprint/vidprint/internal/vprint"
)

// isPrint tells a print file from anything else.
func isPrint(path string) bool { return vprint.IsFile(path) }

// loadPrint reads a print, or embeds a video with the default model (with
// region features when regions), keeping its print unless noCache.
func loadPrint(ctx context.Context, g *globals, path string, noCache, regions bool) (*vprint.Print, error) {
	bar := g.bar("frames")
	c := printcache.Cache{
		Off: noCache,
		Pool: func() (*embed.Pool, error) {
			bar.Start(filepath.Base(path))
			return openModel(g, model.Default, "", 0, 1, 1)
		},
		Progress: bar.Update,
	}
	if !g.quiet {
		c.Warn = func(msg string) { fmt.Fprintf(os.Stderr, "vidprint: %s\n", msg) }
	}
	defer bar.Clear()
	return c.Load(ctx, path, regions)
}
