package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/vidprint/vidprint/internal/decode"
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

// readPrint reads a print file. A video given where a print is wanted is
// named as one, with the command that makes its print.
func readPrint(cmd *cobra.Command, path string) (*vprint.Print, error) {
	p, err := vprint.ReadFile(path)
	if errors.Is(err, vprint.ErrNotPrint) {
		if _, perr := decode.Probe(cmd.Context(), path); perr == nil {
			return nil, withCode(exitInput, fmt.Errorf("%s%s is a video, not a print; make its print with: vidprint embed %s",
				prefix(cmd), path, shellQuote(path)))
		}
	}
	return p, err
}

// shellQuote quotes s for a POSIX shell where it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./+,:@") == "" && !strings.HasPrefix(s, "-") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
