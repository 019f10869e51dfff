package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/vidprint/vidprint/internal/decode"
	"github.com/vidprint/vidprint/internal/model"
)

// printVersion says what this vidprint is made of: its own version and
// commit, Go's, and the ONNX Runtime, ffmpeg and default model it finds.
// A part that is missing is said to be, without failing.
func printVersion(cmd *cobra.Command, g *globals) error {
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "vidprint %s\n", buildVersion())
	fmt.Fprintf(w, "go %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if err := model.InitRuntime(g.dirs.ORTLibrary()); err != nil {
		fmt.Fprintf(w, "ONNX Runtime: not available (%s)\n", oneLine(err.Error()))
	} else {
		fmt.Fprintf(w, "ONNX Runtime %s (%s)\n", model.RuntimeVersion(), g.dirs.ORTLibrary())
	}
	if v, err := decode.Version(cmd.Context()); err != nil {
		fmt.Fprintf(w, "ffmpeg: not available (%s)\n", oneLine(err.Error()))
	} else {
		fmt.Fprintf(w, "ffmpeg %s\n", v)
	}
	printModel(w, g)
	return nil
}

func printModel(w io.Writer, g *globals) {
	spec, _ := model.Lookup(model.Default)
	state := "not installed (run make deps)"
	if model.Installed(spec, g.dirs.ModelsDir()) {
		state = "installed"
	}
	fmt.Fprintf(w, "model %s (sha256 %s, %s)\n", spec.ID, spec.SHA256[:12], state)
}

// buildVersion is the module's version and the commit it was built from,
// as the Go toolchain stamped them.
func buildVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown build)"
	}
	v := info.Main.Version
	var rev, at, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = ", modified"
			}
		}
	}
	if rev != "" {
		v += fmt.Sprintf(", commit %.12s (%s%s)", rev, at, modified)
	}
	return v
}
