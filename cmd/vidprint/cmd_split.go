package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vidprint/vidprint/internal/decode"
	"github.com/vidprint/vidprint/internal/fsutil"
	"github.com/vidprint/vidprint/internal/scenes"
)

func newSplitCmd(g *globals) *cobra.Command {
	var outDir string
	var noCache bool
	var o scenes.Options
	cmd := &cobra.Command{
		Use:   "split VIDEO [-o DIR] [-n K]",
		Short: "Write one file per scene with ffmpeg stream copy",
		Long: `split finds the scenes as 'vidprint scenes' does and writes each to
DIR/NAME-Scene-NNN.EXT by stream copy (no re-encoding, so it is fast and
lossless). As with every stream-copy splitter, a piece can only start on a
keyframe: each piece starts at the last keyframe at or before its scene's
start, so it may begin up to one GOP early and overlap the previous piece.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			video := args[0]
			if isPrint(video) {
				return usageError("split: %s is a print; split needs the video", video)
			}
			if outDir == "" {
				outDir = "."
			}
			if err := fsutil.CheckWritableDir(outDir); err != nil {
				return withCode(exitOutput, err)
			}
			p, err := loadPrint(cmd.Context(), g, video, noCache, false)
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
			for i, s := range list {
				out := filepath.Join(outDir, fmt.Sprintf("%s-Scene-%03d%s", stem, i+1, ext))
				start, end := s.StartS, s.EndS
				if i == 0 {
					start = 0 // whatever comes before the first frame (audio) too
				}
				if i == len(list)-1 {
					end = 0 // to the end of the file
				}
				if err := copySegment(cmd, video, out, start, end); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s  %s - %s\n", out, timecode(s.StartS), timecode(s.EndS))
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&outDir, "out", "o", "", "output directory (default: the current one)")
	cmd.Flags().IntVarP(&o.Scenes, "scenes", "n", 0, "exactly this many scenes")
	cmd.Flags().BoolVar(&noCache, "no-cache", false, "do not keep the video's print")
	return cmd
}

// copySegment stream-copies [start, end) of video to out (end 0: to the
// end), through a temporary file so that no half piece is left.
func copySegment(cmd *cobra.Command, video, out string, start, end float64) error {
	// A unique temporary name with the output's extension, which ffmpeg
	// reads the container from.
	tmp := filepath.Join(filepath.Dir(out), fmt.Sprintf(".tmp-%d-%s", os.Getpid(), filepath.Base(out)))
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "error", "-y",
		"-ss", strconv.FormatFloat(start, 'f', 3, 64)}
	if end > 0 {
		args = append(args, "-t", strconv.FormatFloat(end-start, 'f', 3, 64)) // read this long from the seek point
	}
	// Video and audio only: data tracks (timecode, telemetry) often cannot
	// be copied into the output container.
	args = append(args, "-i", "file:"+video, "-map", "0:V", "-map", "0:a?", "-c", "copy", "-avoid_negative_ts", "make_zero", "file:"+tmp)
	c := exec.CommandContext(cmd.Context(), "ffmpeg", args...)
	var stderr bytes.Buffer
	c.Stderr = &stderr
	if err := c.Run(); err != nil {
		os.Remove(tmp)
		if cmd.Context().Err() != nil {
			return cmd.Context().Err()
		}
		return withCode(exitOutput, fmt.Errorf("split %s into %s: %s", video, out, oneLine(decode.LastLine(stderr.String(), err.Error()))))
	}
	if err := os.Rename(tmp, out); err != nil {
		os.Remove(tmp)
		return withCode(exitOutput, err)
	}
	return nil
}
