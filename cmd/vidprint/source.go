package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vidprint/vidprint/internal/decode"
	"github.com/vidprint/vidprint/internal/embed"
	"github.com/vidprint/vidprint/internal/fsutil"
	"github.com/vidprint/vidprint/internal/model"
	"github.com/vidprint/vidprint/internal/printcache"
	"github.com/vidprint/vidprint/internal/vprint"
)

// isPrint tells a print file from anything else.
func isPrint(path string) bool { return vprint.IsFile(path) }

// printCache is the cache of videos' prints (assets.Dirs.CacheDir).
func printCache(g *globals) printcache.Cache {
	return printcache.Cache{Dir: g.dirs.CacheDir()}
}

// sourceOptions are the flags of a command that takes a video or a print.
type sourceOptions struct {
	noCache    bool
	savePrint  string
	start, end timeFlag // the stretch of video time wanted; end 0: to the end
}

func addSourceFlags(cmd *cobra.Command, o *sourceOptions) {
	cmd.Flags().BoolVar(&o.noCache, "no-cache", false, "make a video's print in memory only, neither reusing nor keeping one (see vidprint cache)")
	cmd.Flags().StringVar(&o.savePrint, "save-print", "", "also write the print to this file")
}

// loadPrint reads a print, or gives a video's print by the default model
// (with region features when regions), from the print cache unless
// o.noCache, and writes it to o.savePrint when asked.
func loadPrint(cmd *cobra.Command, g *globals, path string, o sourceOptions, regions bool) (*vprint.Print, error) {
	if o.savePrint != "" {
		if err := checkOutput(cmd, g.overwrite, o.savePrint, printKind, path); err != nil {
			return nil, err
		}
	}
	bar := g.bar("frames")
	c := printCache(g)
	c.Off = o.noCache
	c.Start, c.End = float64(o.start), float64(o.end)
	c.Progress = bar.Update
	c.Pool = func() (*embed.Pool, error) {
		bar.Start(filepath.Base(path))
		return openModel(g, model.Default, "", 0, 1, 1)
	}
	p, err := c.Load(cmd.Context(), path, regions)
	bar.Clear()
	if err != nil {
		return nil, err
	}
	if o.start > 0 || o.end > 0 {
		// A print given as such is cut to the stretch too.
		p = p.Between(float64(o.start), float64(o.end))
		if p.Frames() == 0 {
			return nil, usageError("%s%s has no samples from %s to %s", prefix(cmd), path, timecode(float64(o.start)), o.end.String())
		}
	}
	if o.savePrint != "" {
		if err := vprint.WriteFile(o.savePrint, p); err != nil {
			return nil, fmt.Errorf("%s%w", prefix(cmd), err)
		}
	}
	return p, nil
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

// stdin is the name that stands for standard input, as in ffmpeg's -i -.
const stdin = "-"

// fromStdin replaces *path with a spooled copy of standard input when it
// is "-", and returns the function that removes the copy.
func fromStdin(cmd *cobra.Command, path *string) (func(), error) {
	if *path != stdin {
		return func() {}, nil
	}
	spooled, cleanup, err := spoolStdin(cmd)
	if err == nil {
		*path = spooled
	}
	return cleanup, err
}

// spoolStdin copies standard input to a temporary file named "stdin" and
// returns its path and a function that removes it: ffmpeg must seek in
// most containers, which a pipe cannot.
func spoolStdin(cmd *cobra.Command) (string, func(), error) {
	dir, err := os.MkdirTemp("", "vidprint-stdin-")
	if err != nil {
		return "", func() {}, withCode(exitOutput, fmt.Errorf("%sspool standard input: %w", prefix(cmd), err))
	}
	cleanup := func() { os.RemoveAll(dir) }
	path := filepath.Join(dir, "stdin")
	f, err := os.Create(path)
	if err == nil {
		_, err = io.Copy(f, fsutil.Reader(cmd.Context(), cmd.InOrStdin()))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		cleanup()
		if cmd.Context().Err() != nil {
			return "", func() {}, cmd.Context().Err()
		}
		return "", func() {}, withCode(exitInput, fmt.Errorf("%sread standard input: %w", prefix(cmd), err))
	}
	return path, cleanup, nil
}
