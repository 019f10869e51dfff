package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vidprint/vidprint/internal/embed"
	"github.com/vidprint/vidprint/internal/model"
	"github.com/vidprint/vidprint/internal/vprint"
)

type embedOptions struct {
	out           string
	fps           float64
	model         string
	output        string
	threads       int
	batch         int
	partial       bool
	fast          bool
	regions       bool
	regionEvery   int
	workers       int
	decodeThreads int
	asJSON        bool
	start, end    timeFlag
}

// embedJSON is one line of embed --json: a print written.
type embedJSON struct {
	Video   string  `json:"video"`
	Print   string  `json:"print"`
	Frames  int     `json:"frames"`
	Dim     int     `json:"dim"`
	Regions int     `json:"regions"`
	FPS     float64 `json:"fps"`
	Model   string  `json:"model"`
	Output  string  `json:"output"`
	Seconds float64 `json:"seconds"`
}

func newEmbedCmd(g *globals) *cobra.Command {
	var o embedOptions
	cmd := &cobra.Command{
		Use:   "embed VIDEO... [-o OUT.vprint|DIR]",
		Short: "Turn videos into prints",
		Long: `embed samples each video at --fps frames per second of video time, runs every
sample through the model and writes the print. One video writes -o OUT.vprint
(default: the video's base name with .vprint, in the current directory);
several videos write into -o DIR, made if missing. Use -- before a file name that starts with '-'.`,
		Args: usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEmbed(cmd, g, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.out, "out", "o", "", "output print, or a directory for several videos")
	f.BoolVar(&o.asJSON, "json", false, "print one JSON object per print written (docs/json.md)")
	f.Var(&o.start, "start", "embed from this time on (seconds, or HH:MM:SS.mmm); rows keep the video's times")
	f.Var(&o.end, "end", "embed up to this time")
	f.Float64Var(&o.fps, "fps", vprint.DefaultFPS, "samples per second of video time")
	f.StringVar(&o.model, "model", model.Default, "catalogue model id, or PATH.onnx")
	f.StringVar(&o.output, "output", "", "model output to keep (default: the model's print output; pooled for the 576-d vector)")
	f.IntVar(&o.threads, "threads", 1, "inference threads per session")
	f.IntVar(&o.batch, "batch", 1, "frames per inference batch")
	f.BoolVar(&o.partial, "partial", false, "keep the frames of a video whose decoding stops early instead of failing")
	f.BoolVar(&o.fast, "fast", false, "skip deblocking and the frames no other frame refers to: faster decoding, a less faithful print (see docs/embedding.md)")
	f.BoolVar(&o.regions, "regions", true, "also embed the four quarters of every frame, which locate needs to find cropped copies and still footage; two more inferences a sample (--regions=false skips them)")
	f.IntVar(&o.regionEvery, "region-every", 0, "embed the quarters on every Nth sample, the others taking them from the nearer such sample (default: every second sample; 1: every sample)")
	var exact bool
	f.BoolVar(&exact, "exact", false, "decode every pixel, as embed always does")
	_ = f.MarkDeprecated("exact", "decoding is exact by default")
	f.IntVar(&o.decodeThreads, "decode-threads", 0, "ffmpeg decoder threads (default: one less than the cores, at least one)")
	f.IntVar(&o.workers, "workers", 0, "most parallel inference sessions; more than one load only while frames wait for the model (default: one a core, or one less with --regions=false)")
	return cmd
}

// outputPaths maps each video to its print path, refusing collisions.
func outputPaths(videos []string, out string) ([]string, error) {
	base := func(v string) string {
		if v == stdin {
			return "stdin.vprint"
		}
		b := filepath.Base(v)
		return strings.TrimSuffix(b, filepath.Ext(b)) + ".vprint"
	}
	paths := make([]string, len(videos))
	st, err := os.Stat(out)
	isDir := out != "" && err == nil && st.IsDir()
	switch {
	case out == "":
		for i, v := range videos {
			paths[i] = base(v)
		}
	case isDir:
		for i, v := range videos {
			paths[i] = filepath.Join(out, base(v))
		}
	case len(videos) > 1:
		// Several prints go into a directory, made if missing (runEmbed).
		for i, v := range videos {
			paths[i] = filepath.Join(out, base(v))
		}
	default:
		paths[0] = out
	}
	seen := map[string]string{}
	for i, p := range paths {
		if prev, ok := seen[p]; ok {
			return nil, usageError("embed: %s and %s would both write %s; use -o with separate runs", prev, videos[i], p)
		}
		seen[p] = videos[i]
	}
	return paths, nil
}

// openModel resolves the model and starts loading one session per worker
// in the background. Several one-thread sessions beat one session with
// several threads at this model's size (docs/performance.md, "The model
// alone"), and a worker idles while ffmpeg is the bottleneck.
func openModel(g *globals, name, output string, workers, threads, batch int) (*embed.Pool, error) {
	if err := model.InitRuntime(g.dirs.ORTLibrary()); err != nil {
		return nil, err
	}
	res, err := model.Resolve(g.dirs.ModelsDir(), name, output)
	if err != nil {
		return nil, err
	}
	if workers <= 0 {
		// One a core; a pass that runs the model once a sample leaves a
		// core to ffmpeg (docs/embedding.md, "Inference").
		workers = runtime.NumCPU()
	}
	return embed.Load(res, workers, model.SessionOptions{Threads: threads, Batch: batch}), nil
}

func runEmbed(cmd *cobra.Command, g *globals, o embedOptions, videos []string) error {
	if !(o.fps > 0 && o.fps <= 120) {
		return usageError("embed: --fps must be in (0, 120], got %g", o.fps)
	}
	if o.regionEvery < 0 {
		return usageError("embed: --region-every must be 0 (every second sample) or more, got %d", o.regionEvery)
	}
	if o.threads < 1 || o.threads > 256 || o.workers < 0 || o.workers > 256 {
		return usageError("embed: --threads must be in 1..256 and --workers in 0..256")
	}
	if o.decodeThreads == 0 {
		// On two cores ffmpeg's frame threads cost more CPU than they give
		// back when the model needs the other core (docs/embedding.md,
		// "Decoding").
		o.decodeThreads = max(1, runtime.NumCPU()-1)
	}
	if o.end > 0 && o.end <= o.start {
		return usageError("embed: --end %s is not after --start %s", o.end.String(), timecode(float64(o.start)))
	}
	if o.batch < 1 || o.batch > 256 {
		return usageError("embed: --batch must be in 1..256, got %d", o.batch)
	}
	outs, err := outputPaths(videos, o.out)
	if err != nil {
		return err
	}
	if len(videos) > 1 && o.out != "" {
		cleanup, err := outputDir(cmd, o.out)
		if err != nil {
			return err
		}
		defer cleanup()
	}
	names := videos // as given, for messages
	if n := slices.Index(videos, stdin); n >= 0 {
		if slices.Contains(videos[n+1:], stdin) {
			return usageError("embed: standard input (-) can be read once")
		}
		path, cleanup, err := spoolStdin(cmd)
		if err != nil {
			return err
		}
		defer cleanup()
		videos = slices.Clone(videos)
		videos[n] = path
	}
	for i, p := range outs {
		if err := checkOutput(cmd, g.overwrite, p, printKind, videos[i]); err != nil {
			return err
		}
	}
	pool, err := openModel(g, o.model, o.output, o.workers, o.threads, o.batch)
	if err != nil {
		return err
	}
	defer pool.Close()

	ctx := cmd.Context()
	bar := g.bar("frames")
	var firstErr error
	failed := 0
	for i, video := range videos {
		label := filepath.Base(video)
		if len(videos) > 1 {
			label = fmt.Sprintf("[%d/%d] %s", i+1, len(videos), label)
		}
		bar.Start(label)
		start := time.Now()
		frames, err := embed.ToFile(ctx, video, outs[i], pool, embed.Options{
			FPS: o.fps, Fast: o.fast, DecodeThread: o.decodeThreads, Partial: o.partial, Progress: bar.Update,
			Regions: o.regions, RegionEvery: o.regionEvery, Start: float64(o.start), End: float64(o.end),
		})
		bar.Clear()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			if len(videos) == 1 {
				return err
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "vidprint:", oneLine(err.Error()))
			failed++
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		res := pool.Model()
		if o.asJSON {
			nr := 0
			if o.regions {
				nr = vprint.QuarterRegions
			}
			if err := writeJSON(cmd.OutOrStdout(), embedJSON{Video: names[i], Print: outs[i], Frames: frames, Dim: res.Output.Dim,
				Regions: nr, FPS: o.fps, Model: res.Spec.ID, Output: res.Output.Name, Seconds: round3(time.Since(start).Seconds())}); err != nil {
				return err
			}
			continue
		}
		regions := ""
		if o.regions {
			regions = fmt.Sprintf(" and %d quarters", vprint.QuarterRegions)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s -> %s: %s x %d%s (%s/%s) in %.1f s\n",
			names[i], outs[i], plural(frames, "frame"), res.Output.Dim, regions, res.Spec.ID, res.Output.Name, time.Since(start).Seconds())
	}
	if failed > 0 {
		return withCode(exitCode(ctx, firstErr), fmt.Errorf("embed: %d of %d videos failed (see above); the exit code is the first failure's", failed, len(videos)))
	}
	return nil
}
