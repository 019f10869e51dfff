package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/vidprint/vidprint/internal/decode"
	"github.com/vidprint/vidprint/internal/embed"
	"github.com/vidprint/vidprint/internal/locate"
	"github.com/vidprint/vidprint/internal/match"
	"github.com/vidprint/vidprint/internal/model"
	"github.com/vidprint/vidprint/internal/picture"
	"github.com/vidprint/vidprint/internal/view"
	"github.com/vidprint/vidprint/internal/vprint"
)

type locateJSON struct {
	Found   bool        `json:"found"`
	Matches []matchJSON `json:"matches"`
}

type matchJSON struct {
	Video      string  `json:"video"`
	VideoStart float64 `json:"video_start_s"`
	VideoEnd   float64 `json:"video_end_s"`
	ClipStart  float64 `json:"clip_start_s"`
	ClipEnd    float64 `json:"clip_end_s"`
	Score      float64 `json:"score"`
	Speed      float64 `json:"speed"`
	View       string  `json:"view"`
	// For a still image: the first and last video times that look about
	// as alike as the match (see match.Match.AlikeStart); absent for clips.
	AlikeStart *float64 `json:"alike_start_s,omitempty"`
	AlikeEnd   *float64 `json:"alike_end_s,omitempty"`
	// Where the score was borderline and the pixel check decided: how
	// well the clip's pictures agree with the video's thumbnails
	// (match.PixelAgreement). For a still image placed in time by its
	// pixels: how well it agrees with the thumbnail that placed it
	// (match.StillPixelFloor). Absent otherwise.
	PixelAgreement *float64 `json:"pixel_agreement,omitempty"`
}

type locateOptions struct {
	asJSON    bool
	picture   string
	threshold float64
	noCache   bool
	model     string
	wholeOnly bool
}

func newLocateCmd(g *globals) *cobra.Command {
	var o locateOptions
	cmd := &cobra.Command{
		Use:   "locate CLIP VIDEO [VIDEO...] [--json] [--picture OUT.png]",
		Short: "Find where a clip occurs in a video, or say it is not there (exit 1)",
		Long: `locate slides the clip's print along each video's print and reports every
stretch of the clip that occurs in the video: where in the video, where in the
clip, the similarity score, and the clip's playback speed relative to the
video. A clip that is not in the video is reported as not found, with exit
status 1, rather than as a best guess.

CLIP and each VIDEO may be a video file or a print; a VIDEO's print is kept in
the print cache (see vidprint cache) unless --no-cache. A clip given as a video is also searched
mirrored and through nine half-frame windows (for picture-in-picture copies,
insets and overlays) and at speeds from 0.8x to 1.25x; a clip given as a print
only whole-frame. A single image (a screenshot) is a one-frame clip, compared
whole-frame only and, where the model's catalogue entry has one, with what the
model typically sees taken away; its matches also give the span of video times
that look about as alike.

--picture draws the clip's picture over the video's at the best match, with
the similarity curve under it. See docs/locate.md for the method and
docs/evaluation.md for its measured accuracy.`,
		Args: usageArgs(cobra.MinimumNArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLocate(cmd, g, o, args[0], args[1:])
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.asJSON, "json", false, `print JSON: {"found":..,"matches":[{"video_start_s",..}]}`)
	f.StringVar(&o.picture, "picture", "", "draw the clip over the video's picture at the best match, and the similarity curve, as PNG")
	f.Float64Var(&o.threshold, "threshold", model.DefaultCalibration().Threshold, "lowest score that counts as found (default: the model's calibrated threshold); negative reports every candidate")
	f.BoolVar(&o.noCache, "no-cache", false, "make the VIDEOs' prints in memory only, neither reusing nor keeping them (see vidprint cache)")
	f.StringVar(&o.model, "model", "", "model for a CLIP given as a video (default: the VIDEO prints' model)")
	f.BoolVar(&o.wholeOnly, "whole-frame", false, "search the clip's whole frame only (faster; misses mirrored and picture-in-picture copies)")
	return cmd
}

func runLocate(cmd *cobra.Command, g *globals, o locateOptions, clipPath string, videos []string) error {
	ctx := cmd.Context()
	if err := checkThreshold(cmd, o.threshold); err != nil {
		return err
	}
	if o.picture != "" {
		if len(videos) > 1 {
			return usageError("locate: --picture takes one VIDEO, got %d", len(videos))
		}
		if err := checkOutput(cmd, g.overwrite, o.picture, pngKind, append([]string{clipPath}, videos...)...); err != nil {
			return err
		}
	}
	shown := clipPath // as given, for messages
	cleanup, err := fromStdin(cmd, &clipPath)
	if err != nil {
		return err
	}
	defer cleanup()
	if err := decode.CheckFile(clipPath); err != nil {
		return err
	}
	refs := make([]*vprint.Print, len(videos))
	for i, v := range videos {
		// A whole-frame search has no quarters to search the regions with.
		p, err := loadPrint(cmd, g, v, sourceOptions{noCache: o.noCache}, !o.wholeOnly)
		if err != nil {
			return err
		}
		refs[i] = p
	}
	g.mark("prints")
	clip, err := loadClip(cmd, g, o, clipPath, refs[0])
	if err != nil {
		return err
	}
	g.mark("embed")
	for i, ref := range refs {
		if err := vprint.Compatible(ref, clip.print); err != nil {
			return withCode(exitIncompatible, fmt.Errorf("locate: %s (model %s) and %s (model %s) cannot be compared: %w",
				shown, clip.print.Model.ID, videos[i], ref.Model.ID, err))
		}
		// Alignment steps sample by sample: both must be sampled alike.
		if ref.FPS != clip.print.FPS {
			return withCode(exitIncompatible, fmt.Errorf("locate: %s is sampled at %g fps and %s at %g fps; embed both at one rate",
				shown, clip.print.FPS, videos[i], ref.FPS))
		}
	}
	out := locateJSON{Matches: []matchJSON{}}
	var results []match.Result
	var thresholds []float64
	for i, ref := range refs {
		opts := calibratedOptions(cmd, o.threshold, ref.Model)
		thresholds = append(thresholds, opts.Threshold)
		// A single image is centred by the model's typical row, as search
		// compares one; without one, by the video's mean.
		lo := locate.Options{Match: opts, ImageCentre: locate.ImageCentre(ref.Model, ref.Dim)}
		res, err := locate.Locate(ctx, locate.PrintTarget(ref), clip.query, lo)
		if err != nil {
			return fmt.Errorf("locate %s in %s: %w", shown, videos[i], err)
		}
		results = append(results, res)
		for _, m := range res.Matches {
			out.Matches = append(out.Matches, toMatchJSON(videos[i], m))
		}
	}
	out.Found = len(out.Matches) > 0
	g.mark("match")
	g.printTimings(cmd.ErrOrStderr())

	if o.picture != "" {
		if err := writeLocatePicture(o.picture, refs[0], clip.viewPrint(results[0]), results[0]); err != nil {
			return err
		}
	}
	w := cmd.OutOrStdout()
	if o.asJSON {
		if err := json.NewEncoder(w).Encode(out); err != nil {
			return err
		}
	} else {
		printLocate(w, shown, videos, results, thresholds)
	}
	if !out.Found {
		return withCode(exitNotFound, errSilent)
	}
	return nil
}

// calibratedOptions are the match options for prints of model m: its
// calibration, and --threshold where given.
func calibratedOptions(cmd *cobra.Command, threshold float64, m vprint.Model) match.Options {
	opts := match.CalibratedOptions(model.LocateCalibration(m.ID))
	if cmd.Flags().Changed("threshold") {
		opts.Threshold = threshold
	}
	return opts
}

// errSilent ends a run with its exit code after the output has said why.
var errSilent = errors.New("")

// clipQuery is a clip's print (its whole-frame view, for the picture and
// model checks) and its query.
type clipQuery struct {
	print *vprint.Print
	query locate.Query
}

// viewPrint is the clip's print as seen through the view that matched
// best, so that the picture compares like with like (a mirrored copy is
// drawn mirrored back).
func (c clipQuery) viewPrint(r match.Result) *vprint.Print {
	m := r.Best
	if len(r.Matches) > 0 {
		m = r.Matches[0]
	}
	// Region features are several rows a sample: the picture draws the
	// whole frame instead.
	if f, ok := c.query.Features(m.View); ok {
		p := *c.print
		p.Features = f
		return &p
	}
	return c.print
}

// loadClip reads a print, or embeds a video or image with every query view.
func loadClip(cmd *cobra.Command, g *globals, o locateOptions, path string, ref *vprint.Print) (clipQuery, error) {
	ctx := cmd.Context()
	if isPrint(path) {
		p, err := vprint.ReadFile(path)
		if err != nil {
			return clipQuery{}, err
		}
		q := locate.PrintQuery(p, o.wholeOnly)
		what := "its whole frame only"
		if len(q.Views) > 1 {
			what = "its whole frame and quarters only"
		}
		if !g.quiet {
			fmt.Fprintf(os.Stderr, "vidprint: %s is a print: searching %s (give the video to also find mirrored and picture-in-picture copies)\n", path, what)
		}
		return clipQuery{print: p, query: q}, nil
	}
	name, output := o.model, ""
	if name == "" {
		name, output = ref.Model.ID, ref.Model.Output
		if _, ok := model.Lookup(name); !ok {
			hint := ""
			if cmd.Flags().Lookup("model") != nil {
				hint = ": pass it with --model PATH"
			}
			return clipQuery{}, usageError("%sto embed %s: the prints were made by model %s, which is not in the catalogue%s", prefix(cmd), filepath.Base(path), name, hint)
		}
	}
	// Eleven inferences per sample make the model, not ffmpeg, the
	// bottleneck: one session per core.
	pool, err := openModel(g, name, output, runtime.NumCPU(), 1, 1)
	if err != nil {
		return clipQuery{}, err
	}
	defer pool.Close()
	specs := view.Query()
	if o.wholeOnly {
		specs = specs[:1]
	}
	bar := g.bar("frames")
	bar.Start(filepath.Base(path))
	defer bar.Clear()
	// The clip is sampled as the video was, so that samples align.
	eo := embed.Options{FPS: ref.FPS, Progress: bar.Update, AllowStill: true}
	q, err := locate.EmbedQuery(ctx, path, pool, eo, specs)
	if err != nil {
		return clipQuery{}, err
	}
	p := embed.Header(pool.Model(), embed.Options{FPS: ref.FPS})
	p.Timestamps = q.Times
	p.Features, _ = q.Features(view.Full)
	p.Source.Name = filepath.Base(path)
	return clipQuery{print: p, query: q}, nil
}

func printLocate(w io.Writer, clip string, videos []string, results []match.Result, thresholds []float64) {
	for i, r := range results {
		if len(r.Matches) == 0 {
			if r.Best.Samples > 0 {
				fmt.Fprintf(w, "%s: not found in %s (closest: score %.2f at %s, not a match: %s)\n",
					clip, videos[i], r.Best.Score, timecode(r.Best.VideoStart), match.Why(r.Best, thresholds[i]))
			} else {
				fmt.Fprintf(w, "%s: not found in %s\n", clip, videos[i])
			}
			continue
		}
		fmt.Fprintf(w, "%s: found in %s (%d)\n", clip, videos[i], len(r.Matches))
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  VIDEO START\tVIDEO END\tCLIP START\tCLIP END\tSCORE\tSPEED\tVIEW")
		for _, m := range r.Matches {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%.3f\t%.3gx\t%s\n", timecode(m.VideoStart), timecode(m.VideoEnd),
				timecode(m.ClipStart), timecode(m.ClipEnd), m.Score, m.Speed, m.View)
		}
		tw.Flush()
		printAlike(w, r.Matches, func(int) string { return "" })
		printPixelChecked(w, r.Matches, func(int) string { return "" })
	}
}

// printAlike notes how a still image's matches were placed in time: by
// their pixels, and where the time cannot be told within a second, the
// stretch whose frames look about as alike.
func printAlike(w io.Writer, ms []match.Match, label func(i int) string) {
	for i, m := range ms {
		if m.PlacedByPixels() {
			fmt.Fprintf(w, "  %splaced by its pixels: they agree with the video's thumbnail there by %.3f\n", label(i), m.Pixels)
		}
		if m.AlikeEnd-m.AlikeStart > 1 {
			fmt.Fprintf(w, "  %sframes from %s to %s look about as alike: the time is uncertain within them\n",
				label(i), timecode(m.AlikeStart), timecode(m.AlikeEnd))
		}
	}
}

// printPixelChecked notes the matches whose borderline score the pixel
// check settled, so that a score under the threshold is explained.
func printPixelChecked(w io.Writer, ms []match.Match, label func(i int) string) {
	for i, m := range ms {
		if m.PixelChecked() {
			fmt.Fprintf(w, "  %sa borderline score, settled by the pixels: they agree with the video's thumbnails by %.3f\n", label(i), m.Pixels)
		}
	}
}

// writeLocatePicture draws the clip over the video at its best match (or
// at the closest alignment, in red, when nothing matched).
func writeLocatePicture(path string, video, clip *vprint.Print, r match.Result) error {
	m, found := r.Best, false
	if len(r.Matches) > 0 {
		m, found = r.Matches[0], true
	}
	at := picture.Placement{VideoStart: m.VideoStart, ClipStart: m.ClipStart, ClipEnd: m.ClipEnd, Speed: m.Speed, Found: found}
	if m.Samples == 0 { // no alignment at all: the clip at the start
		at = picture.Placement{ClipEnd: clip.Timestamps[clip.Frames()-1], Speed: 1}
	}
	o := picture.Defaults()
	o.MaxWidth = 1600
	img, err := picture.Alignment(video, clip, at, picture.Curve{Scores: r.Curve, Step: r.CurveStep, Mark: m.Similarity}, o)
	if err != nil {
		return fmt.Errorf("locate: picture: %w", err)
	}
	return writePNG(path, img)
}
