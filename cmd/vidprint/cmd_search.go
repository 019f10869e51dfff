package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/vidprint/vidprint/internal/library/sqlite"
	"github.com/vidprint/vidprint/internal/model"

	"github.com/spf13/cobra"

	"github.com/vidprint/vidprint/internal/decode"
	"github.com/vidprint/vidprint/internal/library"
	"github.com/vidprint/vidprint/internal/locate"
	"github.com/vidprint/vidprint/internal/match"
	"github.com/vidprint/vidprint/internal/search"
	"github.com/vidprint/vidprint/internal/vprint"
)

type searchOptions struct {
	library   string
	asJSON    bool
	k         int
	threshold float64
	wholeOnly bool
}

func newSearchCmd(g *globals) *cobra.Command {
	var o searchOptions
	cmd := &cobra.Command{
		Use:   "search --library DIR QUERY [--json] [-k 10]",
		Short: "Find which videos of a library contain a clip or an image, and where (exit 1 if none)",
		Long: `search looks for QUERY in every video of the library: a video clip, a print,
or a single image such as a screenshot. It reports the videos that contain it,
best first, with where in each video and in the clip, the score, the clip's
speed and the view that matched, as locate does. For an image, each match
also gives the span of video times that look about as alike, where the time
is uncertain (nearly still footage). Nothing found is said plainly, with
exit status 1.

An index of one-second windows proposes where the clip may be; each proposal
is then checked by the same alignment as locate (see docs/library.md).`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSearch(cmd, g, o, args[0])
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.library, "library", "", "the library directory (required)")
	f.BoolVar(&o.asJSON, "json", false, "print JSON instead of a table")
	f.IntVarP(&o.k, "k", "k", search.DefaultK, "most matches to report")
	f.Float64Var(&o.threshold, "threshold", model.DefaultCalibration().Threshold, "lowest score that counts as a match (default: the model's calibrated threshold)")
	f.BoolVar(&o.wholeOnly, "whole-frame", false, "search with the whole frame only: faster, but misses mirrored and picture-in-picture copies")
	return cmd
}

func runSearch(cmd *cobra.Command, g *globals, o searchOptions, queryPath string) error {
	ctx := cmd.Context()
	if o.library == "" {
		return usageError("search: --library DIR is required")
	}
	if err := checkThreshold(cmd, o.threshold); err != nil {
		return err
	}
	if o.k < 1 {
		return usageError("search: -k must be at least 1, got %d", o.k)
	}
	shown := queryPath // as given, for messages
	cleanup, err := fromStdin(cmd, &queryPath)
	if err != nil {
		return err
	}
	defer cleanup()
	if err := decode.CheckFile(queryPath); err != nil {
		return err
	}
	st, err := sqlite.Open(ctx, o.library) // not a library: exit 3 (exitCode)
	if err != nil {
		return err
	}
	defer st.Close()
	meta, err := st.Meta(ctx)
	if err != nil {
		return fmt.Errorf("search: %s: %w", o.library, err)
	}
	head := &vprint.Print{Model: meta.Model, Dim: meta.Dim, FPS: meta.FPS}
	g.mark("open")
	// The window index loads while the clip is embedded: it needs the
	// library alone, and embedding leaves the cores idle now and then.
	index := loadIndex(ctx, st)
	defer index.stop()
	clip, err := loadClip(cmd, g, locateOptions{wholeOnly: o.wholeOnly}, queryPath, head)
	if err != nil {
		return err
	}
	g.mark("embed")
	if err := vprint.Compatible(head, clip.print); err != nil {
		return withCode(exitIncompatible, fmt.Errorf("search: %s (model %s) cannot be searched in %s (model %s): %w",
			shown, clip.print.Model.ID, o.library, meta.Model.ID, err))
	}
	if clip.print.FPS != meta.FPS {
		return withCode(exitIncompatible, fmt.Errorf("search: %s is sampled at %g fps and the library %s at %g fps",
			shown, clip.print.FPS, o.library, meta.FPS))
	}
	back, err := index.wait()
	if err != nil {
		return fmt.Errorf("search: load %s: %w", o.library, err)
	}
	warnCache(cmd, o.library, back)
	g.mark("index")
	opts := search.DefaultOptions()
	opts.K = o.k
	mo := calibratedOptions(cmd, o.threshold, meta.Model)
	opts.Match.Calibration, opts.Match.Threshold = mo.Calibration, mo.Threshold
	opts.ImageMean = locate.ImageCentre(meta.Model, meta.Dim)
	res, err := search.Search(ctx, back, clip.query, opts)
	if err != nil {
		return fmt.Errorf("search %s: %w", shown, err)
	}
	g.mark("match")
	g.printTimings(cmd.ErrOrStderr())
	w := cmd.OutOrStdout()
	if o.asJSON {
		out := locateJSON{Found: len(res.Matches) > 0, Matches: []matchJSON{}}
		for _, f := range res.Matches {
			out.Matches = append(out.Matches, toMatchJSON(f.Video.Path, f.Match))
		}
		if err := json.NewEncoder(w).Encode(out); err != nil {
			return err
		}
	} else {
		printSearch(w, shown, res, opts.Match.Threshold)
	}
	if len(res.Matches) == 0 {
		return withCode(exitNotFound, errSilent)
	}
	return nil
}

// refreshSearchIndex brings the library's window index up to date after
// videos were added or removed, so that the next search need not.
func refreshSearchIndex(ctx context.Context, st library.Store, dir string) error {
	l, err := search.Open(ctx, st)
	if err == nil {
		err = l.CacheErr
	}
	if err != nil {
		return withCode(exitOutput, fmt.Errorf("update the search index of %s: %w", dir, err))
	}
	return nil
}

// warnCache says, on stderr, that the window index was built but could not
// be saved (a read-only library): this search is right, and the next one
// builds the index again.
func warnCache(cmd *cobra.Command, dir string, l *search.Local) {
	if l.CacheErr != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "vidprint: warning: %s: %v (built in memory for this run)\n", dir, l.CacheErr)
	}
}

func toMatchJSON(video string, m match.Match) matchJSON {
	j := matchJSON{Video: video,
		VideoStart: round3(m.VideoStart), VideoEnd: round3(m.VideoEnd),
		ClipStart: round3(m.ClipStart), ClipEnd: round3(m.ClipEnd),
		Score: round3(m.Score), Speed: round3(m.Speed), View: string(m.View)}
	if m.Samples == 1 { // a still image: see match.Match.AlikeStart
		start, end := round3(m.AlikeStart), round3(m.AlikeEnd)
		j.AlikeStart, j.AlikeEnd = &start, &end
	}
	if m.PixelChecked() || m.PlacedByPixels() {
		agreement := round3(m.Pixels)
		j.PixelAgreement = &agreement
	}
	return j
}

func printSearch(w io.Writer, query string, res search.Results, threshold float64) {
	if len(res.Matches) == 0 {
		if res.Best.Samples > 0 {
			fmt.Fprintf(w, "%s: not found in the library (closest: %s at %s, score %.2f, not a match: %s)\n",
				query, res.Best.Video.Path, timecode(res.Best.VideoStart), res.Best.Score, match.Why(res.Best.Match, threshold))
		} else {
			fmt.Fprintf(w, "%s: not found in the library\n", query)
		}
		return
	}
	fmt.Fprintf(w, "%s: found in %s\n", query, plural(len(res.Matches), "place"))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  #\tVIDEO\tVIDEO START\tVIDEO END\tCLIP START\tCLIP END\tSCORE\tSPEED\tVIEW")
	for i, f := range res.Matches {
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\t%.3f\t%.3gx\t%s\n", i+1, f.Video.Path, timecode(f.VideoStart), timecode(f.VideoEnd),
			timecode(f.ClipStart), timecode(f.ClipEnd), f.Score, f.Speed, f.View)
	}
	tw.Flush()
	ms := make([]match.Match, len(res.Matches))
	for i, f := range res.Matches {
		ms[i] = f.Match
	}
	printAlike(w, ms, func(i int) string { return fmt.Sprintf("#%d: ", i+1) })
	printPixelChecked(w, ms, func(i int) string { return fmt.Sprintf("#%d: ", i+1) })
}

// indexLoad is a library's window index loading in the background.
type indexLoad struct {
	cancel context.CancelFunc
	done   chan struct{}
	local  *search.Local
	err    error
}

func loadIndex(ctx context.Context, st library.Store) *indexLoad {
	ctx, cancel := context.WithCancel(ctx)
	l := &indexLoad{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		l.local, l.err = search.Open(ctx, st)
	}()
	return l
}

// wait returns the index once loaded.
func (l *indexLoad) wait() (*search.Local, error) {
	<-l.done
	return l.local, l.err
}

// stop cancels a load still running and waits for it, so that the store
// outlives it.
func (l *indexLoad) stop() {
	l.cancel()
	<-l.done
}
