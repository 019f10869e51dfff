package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vidprint/vidprint/internal/vprint"
)

// printInfo is the JSON form of `vidprint info`.
type printInfo struct {
	File        string     `json:"file"`
	Frames      int        `json:"frames"`
	Dim         int        `json:"dim"`
	Regions     int        `json:"regions"`
	Thumbnails  thumbsInfo `json:"thumbnails"`
	FPS         float64    `json:"fps"`
	Model       string     `json:"model"`
	ModelSHA256 string     `json:"model_sha256"`
	Output      string     `json:"output"`
	DurationS   float64    `json:"duration_s"`
	FirstS      float64    `json:"first_s"`
	LastS       float64    `json:"last_s"`
	Source      sourceInfo `json:"source"`
	CreatedAt   *time.Time `json:"created_at,omitempty"`
}

// thumbsInfo describes a print's thumbnails; all zero for none.
type thumbsInfo struct {
	Count  int `json:"count"`
	Width  int `json:"width"`
	Height int `json:"height"`
	Every  int `json:"every"` // rows
}

type sourceInfo struct {
	Name      string  `json:"name"`
	Size      int64   `json:"size"`
	SHA256    string  `json:"sha256"`
	DurationS float64 `json:"duration_s"`
	Width     int     `json:"width"`
	Height    int     `json:"height"`
}

func describePrint(file string, p *vprint.Print) printInfo {
	info := printInfo{
		File: file, Frames: p.Frames(), Dim: p.Dim, Regions: p.Regions, FPS: p.FPS,
		Thumbnails: thumbsInfo{Count: p.Thumbs.Count(p.Frames()), Width: p.Thumbs.Width,
			Height: p.Thumbs.Height, Every: p.Thumbs.Every},
		Model: p.Model.ID, ModelSHA256: p.Model.SHA256, Output: p.Model.Output,
		DurationS: p.Source.DurationS,
		Source: sourceInfo{Name: p.Source.Name, Size: p.Source.Size, SHA256: p.Source.SHA256,
			DurationS: p.Source.DurationS, Width: p.Source.Width, Height: p.Source.Height},
	}
	if n := p.Frames(); n > 0 {
		info.FirstS, info.LastS = p.Timestamps[0], p.Timestamps[n-1]
		if info.DurationS == 0 {
			info.DurationS = info.LastS + 1/p.FPS
		}
	}
	if !p.CreatedAt.IsZero() {
		t := p.CreatedAt.UTC()
		info.CreatedAt = &t
	}
	return info
}

func newInfoCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "info PRINT...",
		Short: "Describe prints: frames, dimension, fps, model, source, duration",
		Args:  usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			// Each print is described as it is read; one that cannot be
			// read is reported and the others still are. The exit code
			// is the first failure's.
			var all []printInfo
			var failed error
			for _, path := range args {
				p, err := readPrint(cmd, path)
				if err != nil {
					if len(args) == 1 {
						return err
					}
					fmt.Fprintln(cmd.ErrOrStderr(), "vidprint:", oneLine(err.Error()))
					if failed == nil {
						failed = withCode(exitCode(cmd.Context(), err), errSilent)
					}
					continue
				}
				in := describePrint(path, p)
				all = append(all, in)
				if !asJSON {
					if len(all) > 1 {
						fmt.Fprintln(out)
					}
					writeInfo(out, in)
				}
			}
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				var err error
				if len(args) == 1 {
					err = enc.Encode(all[0])
				} else {
					err = enc.Encode(all)
				}
				if err != nil {
					return err
				}
			}
			return failed
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// writeInfo writes one print's description as a table.
func writeInfo(out io.Writer, in printInfo) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "file\t%s\n", in.File)
	fmt.Fprintf(tw, "frames\t%d (%s to %s)\n", in.Frames, timecode(in.FirstS), timecode(in.LastS))
	fmt.Fprintf(tw, "dim\t%d\n", in.Dim)
	fmt.Fprintf(tw, "regions\t%d\n", in.Regions)
	if th := in.Thumbnails; th.Count > 0 {
		fmt.Fprintf(tw, "thumbnails\t%d, %dx%d, one every %d rows\n", th.Count, th.Width, th.Height, th.Every)
	} else {
		fmt.Fprintf(tw, "thumbnails\tnone\n")
	}
	fmt.Fprintf(tw, "fps\t%g\n", in.FPS)
	fmt.Fprintf(tw, "model\t%s, output %s (sha256 %s)\n", in.Model, in.Output, in.ModelSHA256)
	fmt.Fprintf(tw, "duration\t%s\n", timecode(in.DurationS))
	fmt.Fprintf(tw, "source\t%s, %d bytes, %dx%d\n", in.Source.Name, in.Source.Size, in.Source.Width, in.Source.Height)
	fmt.Fprintf(tw, "source sha256\t%s\n", in.Source.SHA256)
	if in.CreatedAt != nil {
		fmt.Fprintf(tw, "created\t%s\n", in.CreatedAt.Format(time.RFC3339))
	}
	tw.Flush()
}
