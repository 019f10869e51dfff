package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/vidprint/vidprint/internal/fsutil"
	"github.com/vidprint/vidprint/internal/scenes"
	"github.com/vidprint/vidprint/internal/summary"
)

func newSummaryCmd(g *globals) *cobra.Command {
	var outDir string
	var n int
	var noCache bool
	cmd := &cobra.Command{
		Use:   "summary VIDEO [-n 10] -o DIR",
		Short: "Keyframes, one per scene, with a contact sheet and an HTML index",
		Long: `summary splits the video into scenes at the change points of its print and
takes the frame midway through each scene, decoded at full resolution from the
video. With -n it gives exactly n keyframes, merging the scenes with the weakest
boundaries or splitting at the strongest remaining changes. DIR gets one JPEG
per keyframe named by its time (t0001m02.400s.jpg), contact.jpg, index.json
and index.html (self-contained: the picture of the print and a thumbnail of
each keyframe, linking to the full-size file). Files are written one by one,
each atomically; an interrupted run leaves the ones already finished.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			video := args[0]
			if outDir == "" {
				return usageError("summary: -o DIR is required")
			}
			if n < 0 {
				return usageError("summary: -n must not be negative")
			}
			if isPrint(video) {
				return usageError("summary: %s is a print; keyframes are decoded from the video", video)
			}
			// A directory made here and left empty by a failure or an
			// interrupt is removed again.
			_, statErr := os.Stat(outDir)
			made := errors.Is(statErr, os.ErrNotExist)
			if err := os.MkdirAll(outDir, 0o755); err != nil {
				return withCode(exitOutput, fmt.Errorf("summary: output directory %s: %w", outDir, err))
			}
			if made {
				defer os.Remove(outDir) // fails, as it should, unless empty
			}
			if err := fsutil.CheckWritableDir(outDir); err != nil {
				return withCode(exitOutput, fmt.Errorf("summary: %w", err))
			}
			ctx := cmd.Context()
			p, err := loadPrint(ctx, g, video, noCache, false)
			if err != nil {
				return err
			}
			check := func(path string) error {
				kind := jpegKind
				switch filepath.Ext(path) {
				case ".json":
					kind = jsonKind
				case ".html":
					kind = htmlKind
				}
				return checkOutput(cmd, g.overwrite, path, kind, video)
			}
			frames, err := summary.Write(ctx, video, p, n, outDir, check)
			if errors.Is(err, scenes.ErrTooShort) {
				return usageError("summary: %s: %v", video, err)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d keyframes in %s: contact.jpg, index.html, index.json\n", len(frames), outDir)
			return nil
		},
	}
	cmd.Flags().StringVarP(&outDir, "out", "o", "", "output directory (created if missing)")
	cmd.Flags().IntVarP(&n, "frames", "n", 0, "exactly this many keyframes (default: one per detected scene)")
	cmd.Flags().BoolVar(&noCache, "no-cache", false, "do not keep the video's print")
	return cmd
}
