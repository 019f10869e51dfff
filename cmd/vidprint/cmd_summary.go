package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/vidprint/vidprint/internal/scenes"
	"github.com/vidprint/vidprint/internal/summary"
)

// summaryJSON is summary --json: the directory, its other files and the
// keyframes, each with its file.
type summaryJSON struct {
	Dir       string             `json:"dir"`
	Files     []string           `json:"files"`
	Keyframes []summary.Keyframe `json:"keyframes"`
}

func newSummaryCmd(g *globals) *cobra.Command {
	var outDir string
	var n int
	var asJSON bool
	var src sourceOptions
	cmd := &cobra.Command{
		Use:   "summary VIDEO [-n K] [-o DIR]",
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
				outDir = defaultOutput(video, "-summary")
			}
			if n < 0 {
				return usageError("summary: -n must not be negative")
			}
			if isPrint(video) {
				return usageError("summary: %s is a print; keyframes are decoded from the video", video)
			}
			cleanup, err := outputDir(cmd, outDir)
			if err != nil {
				return err
			}
			defer cleanup()
			ctx := cmd.Context()
			p, err := loadPrint(cmd, g, video, src, false)
			if err != nil {
				return err
			}
			check := func(path string) error {
				kind := jpegKind
				switch filepath.Ext(path) {
				case ".json":
					kind = jsonKind
				case ".html":
					kind = htmlKind
				}
				return checkOutput(cmd, g.overwrite, path, kind, video)
			}
			frames, err := summary.Write(ctx, video, p, n, outDir, check)
			if errors.Is(err, scenes.ErrTooShort) {
				return usageError("summary: %s: %v", video, err)
			}
			if err != nil {
				return err
			}
			if asJSON {
				j := summaryJSON{Dir: outDir, Files: summary.Files, Keyframes: frames}
				return writeJSON(cmd.OutOrStdout(), j)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s in %s: contact.jpg, index.html, index.json\n", plural(len(frames), "keyframe"), outDir)
			return nil
		},
	}
	cmd.Flags().StringVarP(&outDir, "out", "o", "", "output directory, made if missing (default: the video's name with -summary, in the current directory)")
	cmd.Flags().IntVarP(&n, "scenes", "n", 0, "exactly this many scenes, a keyframe each (default: one per detected scene)")
	// --frames was -n's long name before it meant the same as in scenes
	// and split.
	cmd.Flags().IntVar(&n, "frames", 0, "")
	_ = cmd.Flags().MarkDeprecated("frames", "use -n or --scenes")
	addSourceFlags(cmd, &src)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the keyframes as JSON, as index.json holds them (docs/json.md)")
	return cmd
}
