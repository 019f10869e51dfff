package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vidprint/vidprint/internal/decode"
	"github.com/vidprint/vidprint/internal/fsutil"
	"github.com/vidprint/vidprint/internal/model"
	"github.com/vidprint/vidprint/internal/picture"
	"github.com/vidprint/vidprint/internal/scenes"
)

func newPictureCmd(g *globals) *cobra.Command {
	o := picture.Defaults()
	var out, scaling, order string
	var noAxis, marks, asJSON bool
	var src sourceOptions
	var thumbs int
	cmd := &cobra.Command{
		Use:   "picture VIDEO|PRINT [-o OUT.png]",
		Short: "Draw a print as an image: time left to right, one row per feature",
		Long: `picture draws the print as an image, the video as a picture: time runs left to
right and each feature is a row. By default each feature is scaled to 0..1
over the video (--scale feature), drawn in grey, in the model's feature order,
with a time axis; prints longer than --max-width samples are binned in time,
each column the mean of its frames. A video is embedded first with the default
model, and its print kept in the print cache (see vidprint cache) unless --no-cache.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				out = defaultOutput(args[0], ".png")
			}
			o.Scaling, o.Order, o.Axis = picture.Scaling(scaling), picture.Order(order), !noAxis
			if o.MaxWidth < 1 || o.RowHeight < 1 || o.RowHeight > 16 {
				return usageError("picture: --max-width must be positive and --row-height in 1..16")
			}
			if err := checkOutput(cmd, g.overwrite, out, pngKind, args[0]); err != nil {
				return err
			}
			p, err := loadPrint(cmd, g, args[0], src, false)
			if err != nil {
				return err
			}
			if marks {
				if !model.Calibrated(p.Model.ID) {
					return withCode(exitIncompatible, fmt.Errorf("picture: --scenes needs a print of %s, %s was made by %s",
						strings.Join(model.CalibratedModels(), ", "), args[0], p.Model.ID))
				}
				bs, err := scenes.Detect(p, scenes.Options{})
				if err != nil {
					return err
				}
				for _, b := range bs {
					o.Ticks = append(o.Ticks, b.TimeS)
				}
			}
			m, err := picture.Build(p, o)
			if err != nil {
				return pictureErr(err)
			}
			img, err := picture.Render(m, o)
			if err != nil {
				return pictureErr(err)
			}
			if thumbs > 0 {
				if isPrint(args[0]) {
					return usageError("picture: --thumbs needs the video, not a print")
				}
				// As many as fit side by side at 90 px high.
				fit := thumbs
				if p.Source.Width > 0 && p.Source.Height > 0 {
					fit = max(1, img.Bounds().Dx()/(90*p.Source.Width/p.Source.Height+2))
				}
				strip, err := grabThumbs(cmd.Context(), args[0], m, min(thumbs, fit))
				if err != nil {
					return err
				}
				img = picture.WithThumbnails(img, m, strip, 90)
			}
			if err := writePNG(out, img); err != nil {
				return err
			}
			b := img.Bounds()
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), pictureJSON{File: out, Width: b.Dx(), Height: b.Dy(), Frames: p.Frames(), Columns: m.Cols, Features: m.Rows})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (%dx%d: %d frames in %d columns, %d features)\n",
				out, b.Dx(), b.Dy(), p.Frames(), m.Cols, m.Rows)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&out, "out", "o", "", "output PNG (default: the input's name with .png, in the current directory)")
	f.BoolVar(&asJSON, "json", false, "print what was written as JSON (docs/json.md)")
	f.StringVar(&scaling, "scale", string(picture.PerFeature), "feature (each feature 0..1), global, or zscore")
	f.StringVar(&order, "order", string(picture.ModelOrder), "feature order: model, peak (by time of peak) or similar (features that move together)")
	f.StringVar(&o.Colormap, "colormap", "gray", "gray or viridis")
	f.IntVar(&o.MaxWidth, "max-width", o.MaxWidth, "most columns; longer prints are binned in time")
	f.IntVar(&o.RowHeight, "row-height", o.RowHeight, "pixels per feature row")
	f.BoolVar(&noAxis, "no-axis", false, "no time axis")
	f.IntVar(&thumbs, "thumbs", 0, "a strip of up to this many thumbnails under the picture, evenly spaced in time, as many as fit (needs the video)")
	f.BoolVar(&marks, "scenes", false, "mark scene boundaries on the time axis (red ticks)")
	addSourceFlags(cmd, &src)
	return cmd
}

// pictureJSON is picture --json: the image written.
type pictureJSON struct {
	File     string `json:"file"`
	Width    int    `json:"width"`
	Height   int    `json:"height"`
	Frames   int    `json:"frames"`
	Columns  int    `json:"columns"`
	Features int    `json:"features"`
}

func pictureErr(err error) error {
	if errors.Is(err, picture.ErrOptions) {
		return withCode(exitUsage, err)
	}
	return err
}

// grabThumbs decodes n frames evenly spaced over the picture's time span.
func grabThumbs(ctx context.Context, video string, m *picture.Matrix, n int) ([]picture.Thumb, error) {
	n = min(n, 100)
	t0, t1 := m.ColStart[0], m.ColStart[m.Cols]
	var out []picture.Thumb
	for i := range n {
		t := t0 + (float64(i)+0.5)*(t1-t0)/float64(n)
		b, err := decode.Grab(ctx, video, t)
		if err != nil {
			return nil, withCode(exitInput, err)
		}
		img, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("%s: thumbnail at %.1f s: %w", video, t, err)
		}
		out = append(out, picture.Thumb{TimeS: t, Image: img})
	}
	return out, nil
}

// writePNG writes img atomically, fast to encode: pictures of prints are
// large and flat, so better compression buys little.
func writePNG(path string, img image.Image) error {
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	err := fsutil.WriteAtomic(path, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		if err := enc.Encode(bw, img); err != nil {
			return err
		}
		return bw.Flush()
	})
	return withCode(exitOutput, err)
}
