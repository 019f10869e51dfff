package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vidprint/vidprint/internal/ingest"
	"github.com/vidprint/vidprint/internal/library/rowcodec"

	"github.com/vidprint/vidprint/internal/library/sqlite"

	"github.com/spf13/cobra"

	"github.com/vidprint/vidprint/internal/embed"
	"github.com/vidprint/vidprint/internal/library"
	"github.com/vidprint/vidprint/internal/model"
)

func newIndexCmd(g *globals) *cobra.Command {
	var lib string
	cmd := &cobra.Command{
		Use:   "index",
		Short: "Keep a library of videos to search: add, list, remove, stats",
		Long: `A library is one directory holding a database of videos and their prints,
made by a single model. index add creates it on first use.`,
		Args: cobra.ArbitraryArgs,
		RunE: noSubcommand,
	}
	cmd.PersistentFlags().StringVar(&lib, "library", "", "library directory (required)")
	libDir := func(c *cobra.Command) (string, error) {
		if lib == "" {
			return "", usageError("index %s: --library DIR is required", c.Name())
		}
		return lib, nil
	}
	cmd.AddCommand(newIndexAddCmd(g, libDir), newIndexListCmd(libDir), newIndexRemoveCmd(libDir), newIndexStatsCmd(libDir))
	return cmd
}

type indexAddOptions struct {
	model, output string
	jobs, workers int
	threads       int
	partial       bool
	codec         string
	asJSON        bool
}

// addJSON is one line of index add --json: what became of one file.
type addJSON struct {
	Path   string     `json:"path"`
	Status string     `json:"status"` // added, present or skipped
	Video  *videoJSON `json:"video,omitempty"`
	Error  string     `json:"error,omitempty"`
}

func newIndexAddCmd(g *globals, libDir func(*cobra.Command) (string, error)) *cobra.Command {
	var o indexAddOptions
	cmd := &cobra.Command{
		Use:   "add --library DIR PATH...",
		Short: "Embed videos into a library: files, directories (recursively) or glob patterns",
		Long: `add embeds every video not yet in the library and stores its print. Content
already there (by SHA-256) is not embedded again, so an interrupted add
continues where it stopped when run again. A print made earlier (vidprint
embed) is added as its video, without embedding again, when its model and
rate are the library's. A file that is not a video or such a print is
skipped with a warning; the others are indexed and the exit code is 3.`,
		Args: usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := libDir(cmd)
			if err != nil {
				return err
			}
			return runIndexAdd(cmd, g, dir, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.model, "model", model.Default, "catalogue model id, or PATH.onnx, for a new library (default: the library's model)")
	f.StringVar(&o.output, "output", "", "model output to keep (default: the library's, or the model's print output)")
	f.IntVar(&o.jobs, "jobs", 0, "files embedded at once (default: half the cores, at least one)")
	f.IntVar(&o.workers, "workers", 0, "most parallel inference sessions, shared by all files (default: one a core, or one less for a library without region features)")
	f.IntVar(&o.threads, "threads", 1, "inference threads per session")
	f.BoolVar(&o.asJSON, "json", false, "print one JSON object per file as it finishes (docs/json.md)")
	f.BoolVar(&o.partial, "partial", false, "keep the frames of a video whose decoding stops early instead of skipping it")
	f.StringVar(&o.codec, "codec", rowcodec.DefaultCodec, "how a new library stores prints: "+rowcodec.CodecProjected+" (264 bytes a frame, and 168 for the four quarters' region features) or "+rowcodec.CodecHalf+" (exact, 2 KB a frame, no regions); see docs/library.md")
	return cmd
}

// modelError gives an ingest.ModelError its exit code.
func modelError(dir string, err error) error {
	var me *ingest.ModelError
	if errors.As(err, &me) {
		err = fmt.Errorf("index add: library %s %w", dir, err)
		if me.NeedPath {
			return withCode(exitUsage, err)
		}
		return withCode(exitIncompatible, err)
	}
	return err
}

func runIndexAdd(cmd *cobra.Command, g *globals, dir string, o indexAddOptions, args []string) error {
	if o.jobs < 0 || o.jobs > 64 || o.workers < 0 || o.workers > 256 || o.threads < 1 || o.threads > 256 {
		return usageError("index add: --jobs must be in 0..64, --workers in 0..256, --threads in 1..256")
	}
	ctx := cmd.Context()
	store, err := sqlite.Open(ctx, dir)
	var meta *library.Meta
	switch {
	case err == nil:
		defer store.Close()
		if library.ReadOnly(store) {
			return fmt.Errorf("index add: library %s: %w", dir, library.ErrReadOnly)
		}
		m, err := store.Meta(ctx)
		if err != nil {
			return err
		}
		meta = &m
	case errors.Is(err, library.ErrNotLibrary):
		if !sqlite.Vacant(dir) {
			// A directory of other things is not made into a library.
			return fmt.Errorf("index add: %w; a new library needs a new or empty directory", err)
		}
	default:
		return err
	}
	files, err := ingest.Expand(args, dir)
	if err != nil {
		return usageError("index add: %v", err)
	}
	if len(files) == 0 {
		return withCode(exitInput, fmt.Errorf("index add: no files in %s", strings.Join(args, " ")))
	}
	choice := ingest.ModelChoice{Name: o.model, Output: o.output, NameSet: cmd.Flags().Changed("model"), OutputSet: cmd.Flags().Changed("output")}
	name, output, err := ingest.Model(meta, choice)
	if err != nil {
		return modelError(dir, err)
	}
	pool, err := openModel(g, name, output, o.workers, o.threads, 1)
	if err != nil {
		return err
	}
	defer pool.Close()
	want := ingest.Meta(pool.Model())
	if meta == nil {
		if want, err = rowcodec.NewMeta(want, o.codec); err != nil {
			return usageError("index add: %v", err)
		}
		if store, err = sqlite.Create(ctx, dir, want); err != nil {
			return err
		}
		defer store.Close()
	} else if cmd.Flags().Changed("codec") && o.codec != meta.Codec {
		return usageError("index add: library %s stores prints with codec %s; --codec applies to a new library only", dir, meta.Codec)
	} else if err := ingest.CheckModel(*meta, want); err != nil {
		return modelError(dir, err)
	}

	out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
	report := func(r ingest.Result) {
		if o.asJSON {
			j := addJSON{Path: r.Path, Status: [...]string{"added", "present", "skipped"}[r.Status]}
			if r.Status == ingest.Skipped {
				j.Error = oneLine(r.Err.Error())
			} else {
				v := toVideoJSON(r.Video)
				j.Video = &v
			}
			writeJSON(out, j)
			return
		}
		switch r.Status {
		case ingest.Added:
			fmt.Fprintf(out, "added %s: video %d, %s\n", r.Path, r.Video.ID, plural(r.Video.Frames, "frame"))
		case ingest.Present:
			fmt.Fprintf(out, "already indexed %s: video %d (%s)\n", r.Path, r.Video.ID, r.Video.Path)
		case ingest.Skipped:
			fmt.Fprintf(errOut, "vidprint: warning: skipped %s\n", oneLine(r.Err.Error()))
		}
	}
	results, err := ingest.Ingest(ctx, store, pool, files, ingest.Options{
		Embed:   embed.Options{DecodeThread: max(1, runtime.NumCPU()-1), Partial: o.partial},
		Workers: o.jobs, Bar: g.bar("frames"), Report: report,
	})
	added, present, skipped := ingest.Counts(results)
	summary := fmt.Sprintf("indexed %d, already there %d, skipped %d", added, present, skipped)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("index add: %w (%s of %d files; every video reported added is complete in the library, run add again to continue)",
			err, summary, len(files))
	}
	if added > 0 {
		if err := refreshSearchIndex(ctx, store, dir); err != nil {
			return err
		}
	}
	if skipped > 0 {
		return withCode(exitInput, fmt.Errorf("%s (see warnings above)", summary))
	}
	if !o.asJSON {
		fmt.Fprintln(out, summary)
	}
	return nil
}

// videoJSON is the JSON form of one video in index list.
type videoJSON struct {
	ID        int64     `json:"id"`
	Path      string    `json:"path"`
	SHA256    string    `json:"sha256"`
	Size      int64     `json:"size"`
	DurationS float64   `json:"duration_s"`
	Width     int       `json:"width"`
	Height    int       `json:"height"`
	Frames    int       `json:"frames"`
	AddedAt   time.Time `json:"added_at"`
}

func toVideoJSON(v library.Video) videoJSON {
	return videoJSON{v.ID, v.Path, v.SHA256, v.Size, round3(v.DurationS), v.Width, v.Height, v.Frames, v.AddedAt.UTC()}
}

func openLibrary(cmd *cobra.Command, libDir func(*cobra.Command) (string, error)) (library.Store, string, error) {
	dir, err := libDir(cmd)
	if err != nil {
		return nil, "", err
	}
	s, err := sqlite.Open(cmd.Context(), dir)
	return s, dir, err
}

func newIndexListCmd(libDir func(*cobra.Command) (string, error)) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list --library DIR",
		Short: "List a library's videos, oldest first",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, _, err := openLibrary(cmd, libDir)
			if err != nil {
				return err
			}
			defer s.Close()
			videos, err := s.Videos(cmd.Context())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				all := make([]videoJSON, 0, len(videos))
				for _, v := range videos {
					all = append(all, toVideoJSON(v))
				}
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(all)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSHA256\tDURATION\tFRAMES\tSIZE\tPATH")
			for _, v := range videos {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%dx%d\t%s\n", v.ID, v.SHA256[:min(12, len(v.SHA256))],
					timecode(v.DurationS), v.Frames, v.Width, v.Height, v.Path)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "write JSON")
	return cmd
}

func newIndexRemoveCmd(libDir func(*cobra.Command) (string, error)) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "remove --library DIR VIDEO...",
		Short: "Remove videos from a library, named by id, path or SHA-256 prefix",
		Args:  usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, dir, err := openLibrary(cmd, libDir)
			if err != nil {
				return err
			}
			defer s.Close()
			if library.ReadOnly(s) {
				return fmt.Errorf("index remove: library %s: %w", dir, library.ErrReadOnly)
			}
			ctx := cmd.Context()
			videos, err := s.Videos(ctx)
			if err != nil {
				return err
			}
			// Every name is resolved before anything is removed, so a typo
			// removes nothing.
			var picked []library.Video
			for _, arg := range args {
				v, err := findVideo(videos, arg)
				if err != nil {
					return fmt.Errorf("index remove: %s: %w", dir, err)
				}
				picked = append(picked, v)
			}
			for _, v := range picked {
				if err := s.Remove(ctx, v.ID); err != nil && !errors.Is(err, library.ErrNotFound) {
					return err
				}
				if asJSON {
					writeJSON(cmd.OutOrStdout(), map[string]any{"removed": toVideoJSON(v)})
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "removed video %d: %s\n", v.ID, v.Path)
			}
			return refreshSearchIndex(ctx, s, dir)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per video removed (docs/json.md)")
	return cmd
}

// findVideo resolves a name given to index remove (library.Find) with
// its exit code: 1 for none, 2 for an ambiguous prefix.
func findVideo(videos []library.Video, arg string) (library.Video, error) {
	v, err := library.Find(videos, arg)
	switch {
	case errors.Is(err, library.ErrAmbiguous):
		return v, withCode(exitUsage, err)
	case errors.Is(err, library.ErrNotFound):
		return v, withCode(exitNotFound, err)
	}
	return v, err
}

// minHoursPerHour is the least video for which stats reports a size per
// hour: a library's fixed part (its projection, the database's pages)
// dominates a short one.
const minHoursPerHour = 1.0

// statsJSON is the JSON form of index stats.
type statsJSON struct {
	Library      string   `json:"library"`
	Videos       int      `json:"videos"`
	Hours        float64  `json:"hours"`
	Frames       int64    `json:"frames"`
	Bytes        int64    `json:"bytes"`
	BytesPerHour *float64 `json:"bytes_per_hour"` // null under an hour of video, where it would mislead
	Model        string   `json:"model"`
	ModelSHA256  string   `json:"model_sha256"`
	Output       string   `json:"output"`
	Dim          int      `json:"dim"`
	FPS          float64  `json:"fps"`
	Codec        string   `json:"codec"`
	RegionCodec  string   `json:"region_codec"` // empty: no region features
	Generation   int64    `json:"generation"`
}

func newIndexStatsCmd(libDir func(*cobra.Command) (string, error)) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "stats --library DIR",
		Short: "Summarise a library: videos, hours, frames, bytes on disk, model",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, dir, err := openLibrary(cmd, libDir)
			if err != nil {
				return err
			}
			defer s.Close()
			st, err := libraryStats(cmd.Context(), s, dir)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			perHour := "- (under an hour of video)"
			if st.BytesPerHour != nil {
				perHour = fmt.Sprintf("%.1f MB", *st.BytesPerHour/1e6)
			}
			regions := st.RegionCodec
			if regions == "" {
				regions = "none"
			}
			fmt.Fprintf(out, "library     %s\nvideos      %d\nhours       %.2f\nframes      %d\non disk     %.1f MB\nper hour    %s\nmodel       %s/%s (sha256 %s)\ndim, fps    %d, %g\ncodec       %s\nregions     %s\ngeneration  %d\n",
				st.Library, st.Videos, st.Hours, st.Frames, float64(st.Bytes)/1e6, perHour,
				st.Model, st.Output, st.ModelSHA256, st.Dim, st.FPS, st.Codec, regions, st.Generation)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "write JSON")
	return cmd
}

func libraryStats(ctx context.Context, s library.Store, dir string) (statsJSON, error) {
	m, err := s.Meta(ctx)
	if err != nil {
		return statsJSON{}, err
	}
	videos, err := s.Videos(ctx)
	if err != nil {
		return statsJSON{}, err
	}
	gen, err := s.Generation(ctx)
	if err != nil {
		return statsJSON{}, err
	}
	st := statsJSON{Library: dir, Videos: len(videos), Model: m.Model.ID, ModelSHA256: m.Model.SHA256,
		Output: m.Model.Output, Dim: m.Dim, FPS: m.FPS, Codec: m.Codec, RegionCodec: m.RegionCodec, Generation: gen}
	for _, v := range videos {
		st.Hours += v.DurationS / 3600
		st.Frames += int64(v.Frames)
	}
	if st.Bytes, err = library.Size(s); err != nil {
		return statsJSON{}, err
	}
	if st.Hours >= minHoursPerHour {
		perHour := float64(st.Bytes) / st.Hours
		st.BytesPerHour = &perHour
	}
	return st, nil
}
