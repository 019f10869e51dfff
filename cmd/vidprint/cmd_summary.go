package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/vidprint/vidprint/internal/fsutil"
	"github.com/vidprint/vidprint/internal/picture"
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
			if err := os.MkdirAll(outDir, 0o755); err != nil {
				return withCode(exitOutput, fmt.Errorf("output directory %s: %w", outDir, err))
			}
			if err := fsutil.CheckWritableDir(outDir); err != nil {
				return withCode(exitOutput, err)
			}
			ctx := cmd.Context()
			p, err := loadPrint(ctx, g, video, noCache, false)
			if err != nil {
				return err
			}
			frames, err := summary.Pick(p, n)
			if errors.Is(err, scenes.ErrTooShort) {
				return usageError("summary: %s: %v", video, err)
			}
			if err != nil {
				return err
			}
			summary.UniqueNames(frames)
			// Each keyframe is written as soon as it is grabbed; only a
			// thumbnail stays in memory, so long films do not run out of it.
			var thumbs [][]byte
			for i := range frames {
				b, err := summary.Grab(ctx, video, frames[i].TimeS)
				if err != nil {
					return withCode(exitInput, err)
				}
				img, err := jpeg.Decode(bytes.NewReader(b))
				if err != nil {
					return fmt.Errorf("%s: frame at %.3f s: %w", video, frames[i].TimeS, err)
				}
				if err := fsutil.WriteAtomic(filepath.Join(outDir, frames[i].File), func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
					return withCode(exitOutput, err)
				}
				frames[i].Image = summary.Thumbnail(img, 320)
				var tb bytes.Buffer
				if err := summary.EncodeJPEG(&tb, frames[i].Image); err != nil {
					return err
				}
				thumbs = append(thumbs, tb.Bytes())
			}
			write := func(name string, f func(io.Writer) error) error {
				if err := fsutil.WriteAtomic(filepath.Join(outDir, name), f); err != nil {
					return withCode(exitOutput, err)
				}
				return nil
			}
			sheet := summary.ContactSheet(frames, 200, summary.SheetColumns(len(frames)))
			if err := write("contact.jpg", func(w io.Writer) error { return summary.EncodeJPEG(w, sheet) }); err != nil {
				return err
			}
			o := picture.Defaults()
			m, err := picture.Build(p, o)
			if err != nil {
				return err
			}
			for _, k := range frames {
				o.Ticks = append(o.Ticks, k.SceneStartS)
			}
			img, err := picture.Render(m, o)
			if err != nil {
				return err
			}
			var pic bytes.Buffer
			if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&pic, img); err != nil {
				return err
			}
			index := map[string]any{"video": filepath.Base(video), "model": p.Model.ID, "duration_s": p.Source.DurationS, "keyframes": frames}
			if err := write("index.json", func(w io.Writer) error {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(index)
			}); err != nil {
				return err
			}
			page := summary.Page{Video: filepath.Base(video), Model: p.Model.ID, DurationS: p.Source.DurationS,
				Picture: pic.Bytes(), Frames: frames, JPEGs: thumbs}
			if err := write("index.html", func(w io.Writer) error { return summary.WriteHTML(w, page) }); err != nil {
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
