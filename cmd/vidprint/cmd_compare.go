package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vidprint/vidprint/internal/compare"
	"github.com/vidprint/vidprint/internal/vprint"
)

func newCompareCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "compare REFERENCE.vprint OTHER.vprint [--json]",
		Short: "Compare two prints of one video row by row (same model only)",
		Long: `compare tells how alike two prints of the same video are, row by row: for
example two encodings of one film, or two decoding modes. It reports the mean
and lowest cosine of aligned rows (after subtracting the reference's mean row)
and how often a row's most similar reference row is within one sample.
Prints of different models are refused (exit 6).`,
		Args: usageArgs(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := vprint.ReadFile(args[0])
			if err != nil {
				return err
			}
			b, err := vprint.ReadFile(args[1])
			if err != nil {
				return err
			}
			r, err := compare.Rows(a, b)
			if err != nil {
				return fmt.Errorf("compare %s and %s: %w", args[0], args[1], err)
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
