package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vidprint/vidprint/internal/decode"
	"github.com/vidprint/vidprint/internal/scenes"
)

// pieceJSON is one line of split --json: a scene's piece.
type pieceJSON struct {
	File   string  `json:"file"`
	Scene  int     `json:"scene"`
	StartS float64 `json:"start_s"`
	EndS   float64 `json:"end_s"`
}

func newSplitCmd(g *globals) *cobra.Command {
	var outDir string
	var asJSON, accurate bool
	var src sourceOptions
	var o scenes.Options
	cmd := &cobra.Command{
		Use:   "split VIDEO [-o DIR] [-n K]",
		Short: "Write one file per scene with ffmpeg stream copy",
		Long: `split finds the scenes as 'vidprint scenes' does and writes each to
DIR/NAME-Scene-NNN.EXT by stream copy (no re-encoding, so it is fast and
lossless). As with every stream-copy splitter, a piece can only start on a
keyframe: each piece starts at the last keyframe at or before its scene's
start, so it may begin up to one GOP early and overlap the previous piece.
--accurate re-encodes instead, so that each piece holds its scene's frames
exactly.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			video := args[0]
			if isPrint(video) {
				return usageError("split: %s is a print; split needs the video", video)
			}
			if outDir == "" {
				outDir = "."
			}
			cleanup, err := outputDir(cmd, outDir)
			if err != nil {
				return err
			}
			defer cleanup()
			p, err := loadPrint(cmd, g, video, src, false)
			if err != nil {
				return err
			}
			bs, err := scenes.Detect(p, o)
			if err != nil {
				return usageError("split: %s: %v", video, err)
			}
			list := scenes.Split(p, bs)
			base := filepath.Base(video)
			ext := filepath.Ext(base)
			stem := strings.TrimSuffix(base, ext)
			if ext == "" {
				ext = ".mkv" // ffmpeg picks the container by extension; Matroska takes any codec
			}
			piece := func(i int) string { return filepath.Join(outDir, fmt.Sprintf("%s-Scene-%03d%s", stem, i+1, ext)) }
			// Every piece is checked before the first is written.
			for i := range list {
				if err := checkOutput(cmd, g.overwrite, piece(i), noKind, video); err != nil {
					return err
				}
			}
			for i, s := range list {
				out := piece(i)
				start, end := s.StartS, s.EndS
				if i == 0 {
					start = 0 // whatever comes before the first frame (audio) too
				}
				if i == len(list)-1 {
					end = 0 // to the end of the file
				}
				if err := copySegment(cmd, video, out, start, end, accurate); err != nil {
					return err
				}
				if asJSON {
					if err := writeJSON(cmd.OutOrStdout(), pieceJSON{File: out, Scene: i + 1, StartS: round3(s.StartS), EndS: round3(s.EndS)}); err != nil {
						return err
					}
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s  %s - %s\n", out, timecode(s.StartS), timecode(s.EndS))
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&outDir, "out", "o", "", "output directory (default: the current one)")
	cmd.Flags().IntVarP(&o.Scenes, "scenes", "n", 0, "exactly this many scenes")
	cmd.Flags().BoolVar(&accurate, "accurate", false, "re-encode, so that each piece starts and ends at its scene's frames (slower; H.264 CRF 18 in MP4, MOV and Matroska)")
	addSourceFlags(cmd, &src)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per piece written (docs/json.md)")
	return cmd
}

// copySegment writes [start, end) of video to out (end 0: to the end), by
// stream copy or, accurate, re-encoded; a failure is the output's (exit 4).
func copySegment(cmd *cobra.Command, video, out string, start, end float64, accurate bool) error {
	write := decode.CopySegment
	if accurate {
		write = decode.EncodeSegment
	}
	err := write(cmd.Context(), video, out, start, end)
	var ce *decode.CopyError
	if errors.As(err, &ce) {
		return withCode(exitOutput, errors.New(oneLine(err.Error())))
	}
	return err
}
