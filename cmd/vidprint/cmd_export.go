package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vidprint/vidprint/internal/export"
	"github.com/vidprint/vidprint/internal/fsutil"
	"github.com/vidprint/vidprint/internal/vprint"
)

func newExportCmd(g *globals) *cobra.Command {
	var format, out string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "export PRINT --format npy|npz|csv [-o FILE]",
		Short: "Export a print's features and timestamps for numpy and pandas",
		Long: `export writes the print as:
  npy  FILE.npy holds the N x D float32 features and FILE_timestamps.npy the N
       float64 times in seconds; FILE_regions.npy the N x R x D region
       features of a print that has them (the quarters: top left, top right,
       bottom left, bottom right);
  npz  one file that numpy.load opens as {"features", "timestamps"}, and
       "regions" for a print with region features;
  csv  a header time_s,f0,f1,... and one row per frame (pandas.read_csv);
       whole frames only.
The default FILE is the print's name with the format's extension; -o - writes
csv or npz to standard output.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			format = strings.ToLower(format)
			switch format {
			case "npy", "npz", "csv":
			default:
				return usageError("export: --format must be npy, npz or csv, got %q", format)
			}
			p, err := readPrint(cmd, args[0])
			if err != nil {
				return err
			}
			if out == "" {
				base := filepath.Base(args[0])
				out = strings.TrimSuffix(base, filepath.Ext(base)) + "." + format
			}
			if out == "-" {
				if format == "npy" {
					return usageError("export: npy writes two files; use -o FILE.npy or --format npz")
				}
				w := bufio.NewWriter(cmd.OutOrStdout())
				if err := writeExport(w, format, p); err != nil {
					return withCode(exitOutput, err)
				}
				return withCode(exitOutput, w.Flush())
			}
			kind := map[string]outputKind{"npy": npyKind, "npz": npzKind, "csv": csvKind}[format]
			outs := []string{out}
			if format == "npy" {
				stem := strings.TrimSuffix(out, ".npy")
				outs = append(outs, stem+"_timestamps.npy")
				if p.Regions > 0 {
					outs = append(outs, stem+"_regions.npy")
				}
			}
			for _, o := range outs {
				if err := checkOutput(cmd, g.overwrite, o, kind, args[0]); err != nil {
					return err
				}
			}
			written := []string{out}
			write := func(path string, f func(io.Writer) error) error {
				return fsutil.WriteAtomic(path, func(w io.Writer) error {
					bw := bufio.NewWriterSize(w, 1<<20)
					if err := f(bw); err != nil {
						return err
					}
					return bw.Flush()
				})
			}
			if format == "npy" {
				stem := strings.TrimSuffix(out, ".npy")
				type npyFile struct {
					path  string
					write func(io.Writer) error
				}
				files := []npyFile{
					{out, func(w io.Writer) error { return export.WriteNPY(w, p.Frames(), p.Dim, p.Features) }},
					{stem + "_timestamps.npy", func(w io.Writer) error { return export.WriteNPY1D(w, p.Timestamps) }},
				}
				if p.Regions > 0 {
					files = append(files, npyFile{stem + "_regions.npy", func(w io.Writer) error {
						return export.WriteNPYShape(w, export.RegionShape(p), p.RegionFeatures)
					}})
				}
				written = written[:0]
				for _, f := range files {
					if err := write(f.path, f.write); err != nil {
						for _, done := range written { // all or nothing
							os.Remove(done)
						}
						return withCode(exitOutput, err)
					}
					written = append(written, f.path)
				}
			} else if err := write(out, func(w io.Writer) error { return writeExport(w, format, p) }); err != nil {
				return withCode(exitOutput, err)
			}
			regions := ""
			if p.Regions > 0 && format != "csv" {
				regions = fmt.Sprintf(" and %d regions a frame", p.Regions)
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), exportJSON{Files: written, Format: format, Frames: p.Frames(), Dim: p.Dim, Regions: p.Regions})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (%s x %d%s)\n", strings.Join(written, " and "), plural(p.Frames(), "frame"), p.Dim, regions)
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "npz", "npy, npz or csv")
	cmd.Flags().StringVarP(&out, "out", "o", "", "output file, or - for standard output")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print what was written as JSON (docs/json.md)")
	return cmd
}

// exportJSON is export --json: the files written.
type exportJSON struct {
	Files   []string `json:"files"`
	Format  string   `json:"format"`
	Frames  int      `json:"frames"`
	Dim     int      `json:"dim"`
	Regions int      `json:"regions"`
}

func writeExport(w io.Writer, format string, p *vprint.Print) error {
	if format == "csv" {
		return export.WriteCSV(w, p)
	}
	return export.WriteNPZ(w, p)
}
