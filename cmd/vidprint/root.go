package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"

	"github.com/vidprint/vidprint/internal/assets"
	"github.com/vidprint/vidprint/internal/progress"
)

// globals are the options every command shares; passed explicitly, not
// kept in package variables.
type globals struct {
	quiet       bool
	overwrite   overwrite
	dirs        assets.Dirs
	cpuProfile  string
	peakRSS     bool
	stopProfile func()
	// timings, with --timings, are the seconds each phase of a run took,
	// printed on stderr as it ends (for make bench).
	timings    bool
	phases     []phase
	phaseStart time.Time
}

type phase struct {
	name    string
	seconds float64
}

// printTimings writes, with --timings, the phases marked so far as one
// line of JSON: {"timings": {"NAME_s": seconds, ..., "total_s": ...}}.
func (g *globals) printTimings(w io.Writer) {
	if !g.timings {
		return
	}
	out := map[string]float64{}
	var total float64
	for _, p := range g.phases {
		out[p.name+"_s"] += p.seconds
		total += p.seconds
	}
	out["total_s"] = total
	writeJSON(w, map[string]any{"timings": out})
}

// mark ends the phase that began at the last mark (or the run's start).
func (g *globals) mark(name string) {
	if !g.timings {
		return
	}
	now := time.Now()
	g.phases = append(g.phases, phase{name, now.Sub(g.phaseStart).Seconds()})
	g.phaseStart = now
}

func (g *globals) bar(unit string) *progress.Bar {
	return progress.New(os.Stderr, g.quiet, unit)
}

// newRootCmd builds the command tree. finish stops what the developer
// flags started (the CPU profile, the peak RSS report) after the command
// ran, whether it succeeded or not.
func newRootCmd() (root *cobra.Command, finish func()) {
	g := &globals{dirs: assets.Default()}
	root = &cobra.Command{
		Use:           "vidprint",
		Short:         "Turn videos into prints: time series of neural features",
		Long:          "vidprint samples a video at 5 frames per second, runs each frame through MobileNetV3\nand keeps the feature vectors: the video's print. Prints can be inspected and exported.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          usageArgs(cobra.NoArgs),
	}
	var version bool
	root.Flags().BoolVar(&version, "version", false, "print the versions of vidprint, Go, ONNX Runtime, ffmpeg and the model")
	root.RunE = func(cmd *cobra.Command, _ []string) error {
		if version {
			return printVersion(cmd, g)
		}
		return cmd.Help()
	}
	root.PersistentFlags().BoolVarP(&g.quiet, "quiet", "q", false, "no progress output")
	addOverwriteFlags(root, &g.overwrite)
	root.PersistentFlags().StringVar(&g.cpuProfile, "cpuprofile", "", "write a Go CPU profile here (for developers)")
	root.PersistentFlags().MarkHidden("cpuprofile")
	root.PersistentFlags().BoolVar(&g.peakRSS, "peak-rss", false, "print this process's peak memory on exit (for benchmarks)")
	root.PersistentFlags().MarkHidden("peak-rss")
	root.PersistentFlags().BoolVar(&g.timings, "timings", false, "print the seconds each phase of locate or search took, as JSON on stderr (for benchmarks)")
	root.PersistentFlags().MarkHidden("timings")
	root.PersistentPreRunE = func(c *cobra.Command, _ []string) error {
		g.phaseStart = time.Now()
		if g.overwrite.yes && g.overwrite.never {
			return usageError("%s-y and --no-overwrite contradict each other", prefix(c))
		}
		if g.cpuProfile == "" {
			return nil
		}
		f, err := os.Create(g.cpuProfile)
		if err != nil {
			return withCode(exitOutput, err)
		}
		g.stopProfile = func() {
			pprof.StopCPUProfile()
			f.Close()
		}
		return pprof.StartCPUProfile(f)
	}

	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError("%s%v (see %s --help)", prefix(c), err, c.CommandPath())
	})
	root.AddCommand(newEmbedCmd(g), newInfoCmd(g), newExportCmd(g), newCompareCmd(), newPictureCmd(g), newScenesCmd(g), newSplitCmd(g), newSummaryCmd(g), newLocateCmd(g), newIndexCmd(g), newSearchCmd(g), newDedupCmd(g), newModelsCmd(g), newCacheCmd(g))
	finish = func() {
		if g.stopProfile != nil {
			g.stopProfile()
		}
		if g.peakRSS {
			fmt.Fprintf(root.ErrOrStderr(), "peak RSS %s\n", peakRSS())
		}
	}
	return root, finish
}

// peakRSS reads the kernel's high-water mark of this process's memory.
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			return string(bytes.TrimSpace(v))
		}
	}
	return "unknown"
}
