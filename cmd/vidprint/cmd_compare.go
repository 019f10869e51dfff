package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vidprint/vidprint/internal/compare"
)

// differentVideos is the mean cosine under which two prints are taken for
// prints of different videos.
const differentVideos = 0.5

func newCompareCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "compare REFERENCE.vprint OTHER.vprint [--json]",
		Short: "Compare two prints of one video row by row (same model only)",
		Long: `compare tells how alike two prints of the same video are, row by row: for
example two encodings of one film, or two decoding modes. It reports the mean
and lowest cosine of aligned rows (after subtracting the reference's mean row)
and how often a row's most similar reference row is within one sample.
Prints of different models or sampling rates are refused (exit 6); prints
that look like two different videos are compared with a warning.`,
		Args: usageArgs(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := readPrint(cmd, args[0])
			if err != nil {
				return err
			}
			b, err := readPrint(cmd, args[1])
			if err != nil {
				return err
			}
			if a.FPS != b.FPS {
				return withCode(exitIncompatible, fmt.Errorf("compare: %s is sampled at %g fps and %s at %g fps; rows of different rates do not align",
					args[0], a.FPS, args[1], b.FPS))
			}
			r, err := compare.Rows(a, b)
			if err != nil {
				return fmt.Errorf("compare %s and %s: %w", args[0], args[1], err)
			}
			// Two encodings of one video agree by 0.9 and more; prints of
			// different videos by about nothing.
			if r.MeanCos < differentVideos {
				fmt.Fprintf(cmd.ErrOrStderr(), "vidprint: warning: %s and %s look like prints of different videos (mean cosine %.2f); compare is meant for two prints of one video\n",
					args[0], args[1], r.MeanCos)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(map[string]any{
					"rows": r.Rows, "reference_frames": a.Frames(), "other_frames": b.Frames(),
					"mean_cos": r.MeanCos, "min_cos": r.MinCos, "nearest_within_1": r.NearestWithin1,
				})
			}
			fmt.Fprintf(out, "rows %d (of %d and %d)  mean cos %.4f  min cos %.4f  nearest within 1 sample %.1f%%\n",
				r.Rows, a.Frames(), b.Frames(), r.MeanCos, r.MinCos, 100*r.NearestWithin1)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
