package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/vidprint/vidprint/internal/model"
	"github.com/vidprint/vidprint/internal/scenes"
	"github.com/vidprint/vidprint/internal/vprint"
)

type scenesJSON struct {
	Scenes []sceneJSON `json:"scenes"`
	Cuts   []cutJSON   `json:"cuts"`
}

type sceneJSON struct {
	StartS float64 `json:"start_s"`
	EndS   float64 `json:"end_s"`
}

type cutJSON struct {
	TimeS    float64 `json:"time_s"`
	Kind     string  `json:"kind"`
	Strength float64 `json:"strength"`
}

func newScenesCmd(g *globals) *cobra.Command {
	var asJSON, asCSV bool
	var src sourceOptions
	var o scenes.Options
	cmd := &cobra.Command{
		Use:   "scenes VIDEO|PRINT [--json|--csv] [-n K]",
		Short: "Find scene boundaries (cuts and gradual transitions) in a print",
		Long: `scenes finds where the feature series changes: hard cuts (a one-sample jump
well above the motion around it) and gradual transitions such as dissolves and
fades (the mean of the second before differs from the mean of the second
after). Thresholds adapt to each video (see docs/picture-and-scenes.md); -n
asks for exactly K scenes, keeping the strongest boundaries or adding the next
strongest.
--csv uses the columns of PySceneDetect's list-scenes, counting print rows
as frames.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON && asCSV {
				return usageError("scenes: --json and --csv exclude each other")
			}
			if o.Scenes < 0 || !(o.Sensitivity > 0) {
				return usageError("scenes: -n must not be negative and --sensitivity must be positive")
			}
			p, err := loadPrint(cmd, g, args[0], src, false)
			if err != nil {
				return err
			}
			if !model.Calibrated(p.Model.ID) {
				return withCode(exitIncompatible, fmt.Errorf("scenes: %s was made by model %s; the detector's thresholds are calibrated for %s",
					args[0], p.Model.ID, strings.Join(model.CalibratedModels(), ", ")))
			}
			bs, err := scenes.Detect(p, o)
			if errors.Is(err, scenes.ErrTooShort) {
				return usageError("scenes: %s: %v", args[0], err)
			}
			if err != nil {
				return fmt.Errorf("scenes %s: %w", args[0], err)
			}
			list := scenes.Split(p, bs)
			out := cmd.OutOrStdout()
			switch {
			case asJSON:
				j := scenesJSON{Scenes: []sceneJSON{}, Cuts: []cutJSON{}}
				for _, s := range list {
					j.Scenes = append(j.Scenes, sceneJSON{round3(s.StartS), round3(s.EndS)})
				}
				for _, b := range bs {
					j.Cuts = append(j.Cuts, cutJSON{round3(b.TimeS), string(b.Kind), round3(b.Strength)})
				}
				return json.NewEncoder(out).Encode(j)
			case asCSV:
				return writeSceneCSV(out, p, list)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SCENE\tSTART\tEND\tLENGTH\tBEGINS WITH")
			for i, s := range list {
				begins := "start"
				if i > 0 {
					begins = string(bs[i-1].Kind)
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%.1f s\t%s\n", i+1, timecode(s.StartS), timecode(s.EndS), s.EndS-s.StartS, begins)
			}
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "print JSON: {scenes:[{start_s,end_s}], cuts:[{time_s,kind}]}")
	f.BoolVar(&asCSV, "csv", false, "print PySceneDetect list-scenes CSV")
	f.IntVarP(&o.Scenes, "scenes", "n", 0, "exactly this many scenes")
	f.Float64Var(&o.Sensitivity, "sensitivity", 1, "scales the automatic thresholds; above 1 finds more boundaries")
	addSourceFlags(cmd, &src)
	f.Var(&src.start, "start", "scenes from this time on (seconds, or HH:MM:SS.mmm)")
	f.Var(&src.end, "end", "scenes up to this time")
	return cmd
}

func round3(x float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', 3, 64), 64)
	return v
}

// timecode formats seconds as HH:MM:SS.mmm, as PySceneDetect does.
func timecode(s float64) string {
	ms := int64(s*1000 + 0.5)
	return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
}

func writeSceneCSV(w interface{ Write([]byte) (int, error) }, p *vprint.Print, list []scenes.Scene) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"Scene Number", "Start Frame", "Start Timecode", "Start Time (seconds)", "End Frame",
		"End Timecode", "End Time (seconds)", "Length (frames)", "Length (timecode)", "Length (seconds)"})
	for i, s := range list {
		length := s.EndS - s.StartS
		cw.Write([]string{strconv.Itoa(i + 1),
			strconv.Itoa(s.Start + 1), timecode(s.StartS), strconv.FormatFloat(s.StartS, 'f', 3, 64),
			strconv.Itoa(s.End), timecode(s.EndS), strconv.FormatFloat(s.EndS, 'f', 3, 64),
			strconv.Itoa(s.End - s.Start), timecode(length), strconv.FormatFloat(length, 'f', 3, 64)})
	}
	cw.Flush()
	return cw.Error()
}
