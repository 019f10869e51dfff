package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newCacheCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "cache [clear]",
		Short: "Show or clear the prints kept for videos given to picture, scenes, summary, split and locate",
		Long: `picture, scenes, summary, split and locate, given a video, keep its print in
the cache, keyed by the video's content and the model, so that the next
command on the same video reuses it. The cache holds at most 2 GiB; the
prints used least recently go first. Its directory is VIDPRINT_CACHE, else
$XDG_CACHE_HOME/vidprint/prints, else cache/prints under VIDPRINT_HOME.
cache shows where it is and what it holds; cache clear empties it.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c := printCache(g)
			all, err := c.List()
			if err != nil {
				return fmt.Errorf("cache: %w", err)
			}
			var bytes int64
			for _, e := range all {
				bytes += e.Size
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), map[string]any{"dir": c.Dir, "prints": len(all), "bytes": bytes})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s, %.1f MB\n", c.Dir, plural(len(all), "print"), float64(bytes)/1e6)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (docs/json.md)")
	clear := &cobra.Command{
		Use:   "clear",
		Short: "Remove every print the cache keeps",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c := printCache(g)
			n, bytes, err := c.Clear()
			if err != nil {
				return withCode(exitOutput, fmt.Errorf("cache clear: %w", err))
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), map[string]any{"dir": c.Dir, "prints": n, "bytes": bytes})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed %s, %.1f MB, from %s\n", plural(n, "print"), float64(bytes)/1e6, c.Dir)
			return nil
		},
	}
	clear.Flags().BoolVar(&asJSON, "json", false, "print JSON (docs/json.md)")
	cmd.AddCommand(clear)
	return cmd
}
