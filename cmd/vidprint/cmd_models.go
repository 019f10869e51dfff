package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/vidprint/vidprint/internal/convert"
	"github.com/vidprint/vidprint/internal/fsutil"
	"github.com/vidprint/vidprint/internal/gguf"
	"github.com/vidprint/vidprint/internal/model"
)

// modelJSON is one catalogue entry in models --json.
type modelJSON struct {
	ID         string       `json:"id"`
	Title      string       `json:"title"`
	File       string       `json:"file"`
	SHA256     string       `json:"sha256"`
	Installed  bool         `json:"installed"`
	Source     string       `json:"source"`
	Input      []int        `json:"input"` // width, height
	Outputs    []outputJSON `json:"outputs"`
	Calibrated bool         `json:"calibrated"`
}

type outputJSON struct {
	Name string `json:"name"`
	Dim  int    `json:"dim"`
}

func newModelsCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "models",
		Short: "List the model catalogue and which models are installed",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			if asJSON {
				all := []modelJSON{}
				for _, s := range model.Catalogue() {
					m := modelJSON{ID: s.ID, Title: s.Title, File: s.File, SHA256: s.SHA256, Source: s.Source,
						Installed: s.File != "" && model.Installed(s, g.dirs.ModelsDir()), Input: []int{s.Pre.Width, s.Pre.Height},
						Outputs: []outputJSON{}, Calibrated: s.Calibration != nil}
					for _, o := range s.Outputs {
						m.Outputs = append(m.Outputs, outputJSON{o.Name, o.Dim})
					}
					all = append(all, m)
				}
				return writeJSON(out, map[string]any{"models_dir": g.dirs.ModelsDir(), "models": all})
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tOUTPUTS\tINPUT\tINSTALLED\tSHA256")
			for _, s := range model.Catalogue() {
				var outs []string
				for _, o := range s.Outputs {
					name := o.Name
					if name == "" {
						name = "(only output)"
					}
					outs = append(outs, fmt.Sprintf("%s %d", name, o.Dim))
				}
				installed := "no"
				switch {
				case s.File == "":
					installed = "user-supplied (--model PATH.onnx)"
				case model.Installed(s, g.dirs.ModelsDir()):
					installed = "yes"
				}
				sha := s.SHA256
				if sha == "" {
					sha = "-"
				}
				fmt.Fprintf(tw, "%s\t%s\t%dx%d %s\t%s\t%s\n", s.ID, strings.Join(outs, ", "),
					s.Pre.Width, s.Pre.Height, s.Pre.ColorOrder, installed, sha)
			}
			tw.Flush()
			fmt.Fprintf(out, "\nmodels directory: %s\n", g.dirs.ModelsDir())
			for _, s := range model.Catalogue() {
				fmt.Fprintf(out, "%s: %s\n  source: %s\n  preprocessing: %s, x*%.6g, mean %v, std %v, %s\n",
					s.ID, s.Title, s.Source, s.Pre.Resize, s.Pre.Scale, s.Pre.Mean, s.Pre.Std, s.Pre.Layout)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the catalogue as JSON (docs/json.md)")
	cmd.AddCommand(newModelsConvertCmd(g))
	return cmd
}

func newModelsConvertCmd(g *globals) *cobra.Command {
	var out string
	var outputs []string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "convert WEIGHTS.gguf [-o MODEL.onnx]",
		Short: "Convert the qvac MobileNetV3-Small GGUF weights to ONNX",
		Long: `convert writes the qvac MobileNetV3-Small weights as an ONNX model. With the
default outputs the file is the catalogue's mobilenetv3-small-qvac model, byte
for byte. --outputs keeps fewer outputs; such a file has another sha256 and
is used as a custom model: vidprint embed --model MODEL.onnx.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				out = defaultOutput(args[0], ".onnx")
			}
			if err := checkOutput(cmd, g.overwrite, out, onnxKind, args[0]); err != nil {
				return err
			}
			opts := convert.Options{Outputs: outputs}
			if err := opts.Validate(); err != nil {
				return usageError("models convert: --outputs: %v", err)
			}
			f, err := gguf.Open(args[0])
			if err != nil {
				return withCode(exitInput, err)
			}
			onnx, _, err := convert.MobileNetV3SmallWith(f, opts)
			if err != nil {
				return withCode(exitInput, fmt.Errorf("%s: %w", args[0], err))
			}
			if err := fsutil.WriteAtomic(out, func(w io.Writer) error { _, err := w.Write(onnx); return err }); err != nil {
				return withCode(exitOutput, err)
			}
			if asJSON {
				sum := sha256.Sum256(onnx)
				return writeJSON(cmd.OutOrStdout(), map[string]any{"file": out, "bytes": len(onnx), "sha256": hex.EncodeToString(sum[:])})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (%d bytes)\n", out, len(onnx))
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "output .onnx file (default: the weights' name with .onnx, in the current directory)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print what was written as JSON (docs/json.md)")
	cmd.Flags().StringSliceVar(&outputs, "outputs", nil, fmt.Sprintf("outputs the model exposes, comma-separated (default %s,%s,%s)",
		convert.PooledName, convert.EmbeddingName, convert.LogitsName))
	return cmd
}
