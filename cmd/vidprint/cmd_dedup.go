package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/vidprint/vidprint/internal/library/sqlite"
	"github.com/vidprint/vidprint/internal/model"

	"github.com/spf13/cobra"

	"github.com/vidprint/vidprint/internal/library"
	"github.com/vidprint/vidprint/internal/search"
)

type dedupJSON struct {
	Groups []dedupGroupJSON  `json:"groups"`
	Shared []dedupSharedJSON `json:"shared"`
}

type dedupGroupJSON struct {
	Videos []dedupVideoJSON `json:"videos"`
}

type dedupVideoJSON struct {
	ID        int64   `json:"id"`
	Path      string  `json:"path"`
	SHA256    string  `json:"sha256"`
	DurationS float64 `json:"duration_s"`
}

type dedupSharedJSON struct {
	A      string  `json:"a"`
	AStart float64 `json:"a_start_s"`
	AEnd   float64 `json:"a_end_s"`
	B      string  `json:"b"`
	BStart float64 `json:"b_start_s"`
	BEnd   float64 `json:"b_end_s"`
	Score  float64 `json:"score"`
	Speed  float64 `json:"speed"`
}

type dedupOptions struct {
	library   string
	asJSON    bool
	minShared float64
	cover     float64
	threshold float64
}

func newDedupCmd(g *globals) *cobra.Command {
	var o dedupOptions
	cmd := &cobra.Command{
		Use:   "dedup --library DIR [--json]",
		Short: "Report near-duplicate videos and stretches that videos of a library share",
		Long: `dedup compares every video of the library with every other and reports:
  - groups of near-duplicates: videos that share at least --cover of their
    length with another video of the group (re-encodes, resized or trimmed
    copies);
  - every stretch of at least --min-shared seconds that two videos share,
    with where it lies in each.
Each window of each video recalls similar windows of the other videos from
the library's index; windows that agree on one offset between two videos are
then checked by the same alignment as locate (see docs/library.md).`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDedup(cmd, g, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.library, "library", "", "the library directory (required)")
	f.BoolVar(&o.asJSON, "json", false, "print JSON instead of tables")
	f.Float64Var(&o.minShared, "min-shared", search.DefaultMinShared, "shortest shared stretch reported, in seconds")
	f.Float64Var(&o.cover, "cover", search.DefaultCover, "share of each video's length two near-duplicates must share")
	f.Float64Var(&o.threshold, "threshold", model.DefaultCalibration().Threshold, "lowest score that counts as shared (default: the model's calibrated threshold)")
	return cmd
}

func runDedup(cmd *cobra.Command, g *globals, o dedupOptions) error {
	ctx := cmd.Context()
	if o.library == "" {
		return usageError("dedup: --library DIR is required")
	}
	if err := checkThreshold(cmd, o.threshold); err != nil {
		return err
	}
	if !(o.minShared > 0) {
		return usageError("dedup: --min-shared must be positive, got %g", o.minShared)
	}
	if !(o.cover > 0 && o.cover <= 1) {
		return usageError("dedup: --cover must be in (0, 1], got %g", o.cover)
	}
	st, err := sqlite.Open(ctx, o.library)
	if err != nil {
		return err
	}
	defer st.Close()
	back, err := search.Open(ctx, st)
	if err != nil {
		return fmt.Errorf("dedup: load %s: %w", o.library, err)
	}
	warnCache(cmd, o.library, back)
	opts := search.DefaultDedupOptions()
	opts.MinShared, opts.Cover = o.minShared, o.cover
	mo := calibratedOptions(cmd, o.threshold, back.Meta().Model)
	opts.Match.Calibration, opts.Match.Threshold = mo.Calibration, mo.Threshold
	bar := g.bar("videos")
	bar.Start("dedup")
	opts.Progress = bar.Update
	rep, err := search.Dedup(ctx, back, opts)
	bar.Clear()
	if err != nil {
		return fmt.Errorf("dedup %s: %w", o.library, err)
	}
	w := cmd.OutOrStdout()
	if o.asJSON {
		return json.NewEncoder(w).Encode(dedupToJSON(rep))
	}
	printDedup(w, rep)
	return nil
}

func dedupToJSON(rep search.Report) dedupJSON {
	out := dedupJSON{Groups: []dedupGroupJSON{}, Shared: []dedupSharedJSON{}}
	for _, grp := range rep.Groups {
		var gj dedupGroupJSON
		for _, v := range grp {
			gj.Videos = append(gj.Videos, dedupVideo(v))
		}
		out.Groups = append(out.Groups, gj)
	}
	for _, s := range rep.Shared {
		out.Shared = append(out.Shared, dedupSharedJSON{A: s.A.Path, AStart: round3(s.AStart), AEnd: round3(s.AEnd),
			B: s.B.Path, BStart: round3(s.BStart), BEnd: round3(s.BEnd), Score: round3(s.Score), Speed: round3(s.Speed)})
	}
	return out
}

func dedupVideo(v library.Video) dedupVideoJSON {
	return dedupVideoJSON{ID: v.ID, Path: v.Path, SHA256: v.SHA256, DurationS: round3(v.DurationS)}
}

func printDedup(w io.Writer, rep search.Report) {
	if len(rep.Groups) == 0 {
		fmt.Fprintln(w, "No near-duplicate videos.")
	} else {
		fmt.Fprintf(w, "Near-duplicate groups (%d):\n", len(rep.Groups))
		for i, grp := range rep.Groups {
			fmt.Fprintf(w, "  group %d:\n", i+1)
			for _, v := range grp {
				fmt.Fprintf(w, "    %s (%s)\n", v.Path, timecode(v.DurationS))
			}
		}
	}
	if len(rep.Shared) == 0 {
		fmt.Fprintln(w, "No shared stretches.")
		return
	}
	fmt.Fprintf(w, "Shared stretches (%d):\n", len(rep.Shared))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  VIDEO A\tA START\tA END\tVIDEO B\tB START\tB END\tSCORE\tSPEED")
	for _, s := range rep.Shared {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%.3f\t%.3gx\n", s.A.Path, timecode(s.AStart), timecode(s.AEnd),
			s.B.Path, timecode(s.BStart), timecode(s.BEnd), s.Score, s.Speed)
	}
	tw.Flush()
}
