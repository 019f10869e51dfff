// Package embed runs the print pipeline: ffmpeg decodes and samples frames
// while the model embeds earlier ones, through a bounded queue, so memory
// does not grow with video length and neither stage waits on the other.
package embed

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/vidprint/vidprint/internal/decode"
	"github.com/vidprint/vidprint/internal/model"
	"github.com/vidprint/vidprint/internal/view"
	"github.com/vidprint/vidprint/internal/vprint"
)

// Options control sampling and decoding.
type Options struct {
	FPS          float64
	DecodeThread int  // ffmpeg decoder threads; 0 lets ffmpeg choose
	Fast         bool // skip unreferenced frames too (decode.Options.Fast)
	Partial      bool // keep the frames of a video whose decoding stops early
	AllowStill   bool // a single image is a one-sample video (decode.Options)
	// Start and End embed only that stretch of video time (End 0: to the
	// end); rows keep the video's own times (decode.Options).
	Start, End float64
	// Regions also embeds the four quarters of a frame (vprint.Quarters),
	// each at the model's full input size: the print's region features,
	// which find cropped copies and still footage (see
	// match.Reference.AddRegions). They are embedded on every
	// RegionEvery-th sample (0: every second; 1: every sample), and the
	// samples between take them from the nearer of the two around them
	// (see filler).
	Regions     bool
	RegionEvery int
	// ViewEvery, for Views, embeds the views after the first on every
	// ViewEvery-th sample only (0: every second; 1: every sample), the
	// samples between taking them from the nearer of the two around them.
	ViewEvery int
	// Progress, when set, is called after each batch with frames done and
	// the expected total (0 when unknown).
	Progress func(done, total int)
}

// defaultRegionEvery: a print's quarters are embedded on every second
// sample. One a second lost cropped and half-size copies of still footage
// (a tree's leaves move between samples a second apart) on the evaluation.
const defaultRegionEvery = 2

// Video embeds one video file into a print with the pool's sessions.
func Video(ctx context.Context, path string, pool *Pool, opts Options, sink Sink) (vprint.Source, error) {
	var none vprint.Source
	if pool.Size() == 0 {
		return none, errors.New("embed: a pool without sessions")
	}
	if opts.FPS == 0 {
		opts.FPS = vprint.DefaultFPS
	}
	res := pool.Model()
	// Frames are decoded at twice the model's size and the whole frame is
	// the mean of each 2x2 block, as for a clip's views, so that a print's
	// whole-frame rows are the same with and without regions and match a
	// clip's; a quarter then keeps the model's full resolution.
	width, height := viewScale*res.Spec.Pre.Width, viewScale*res.Spec.Pre.Height
	specs := []view.Spec{{W: 1, H: 1}}
	if opts.Regions {
		specs = append(specs, view.Quarters[:]...)
	}
	dim := res.Output.Dim
	every := vprint.ThumbEvery(opts.FPS)
	if opts.RegionEvery == 0 {
		opts.RegionEvery = defaultRegionEvery
	}
	p := pass{
		decode: decode.Options{FPS: opts.FPS, Width: width, Height: height,
			Threads: opts.DecodeThread, Fast: opts.Fast, Partial: opts.Partial, Start: opts.Start, End: opts.End},
		specs: specs, infer: true, hash: true, progress: opts.Progress,
		every: opts.RegionEvery,
		extra: func(n int, raw []byte) any {
			if n%every != 0 {
				return nil
			}
			thumb := make([]byte, vprint.ThumbWidth*vprint.ThumbHeight)
			y, yw, yh := halfLuma(raw, width, height)
			newLumaSums(y, yw, yh).picture(thumb, vprint.ThumbWidth, vprint.ThumbHeight, 0, 0, 1, 1, false)
			return thumb
		},
	}
	out, err := p.run(ctx, path, pool, func(ts float64, row []float32, extra any) error {
		var regionRow []float32
		if len(specs) > 1 {
			regionRow = row[dim:]
		}
		thumb, _ := extra.([]byte)
		return sink.Append(ts, row[:dim], regionRow, thumb)
	})
	if err != nil {
		return none, err
	}
	// A print stores the name as UTF-8; a Linux name need not be.
	name := strings.ToValidUTF8(filepath.Base(path), "\uFFFD")
	src := vprint.Source{Name: name, Size: out.size, SHA256: out.sum,
		DurationS: out.info.DurationS, Width: out.info.Width, Height: out.info.Height}
	if src.DurationS == 0 && out.rows > 0 {
		src.DurationS = out.lastTS + 1/opts.FPS
	}
	return src, nil
}

// preprocess lays out a decoded frame's model inputs in tensor: each
// sampler's rectangle in turn (small is their scratch frame).
func preprocess(pre *model.Preprocessor, samplers []*sampler, tensor []float32, raw, small []byte) error {
	n := pre.TensorLen()
	for v, s := range samplers {
		s.sample(small, raw)
		if err := pre.Frame(tensor[v*n:(v+1)*n], small); err != nil {
			return err
		}
	}
	return nil
}

// embedAll embeds count inputs laid out one after another in input,
// in batches the session takes.
func embedAll(ctx context.Context, e model.Embedder, input []float32, count int, out []float32) error {
	per := len(input) / count
	dim := len(out) / count
	step := max(1, e.MaxBatch())
	for at := 0; at < count; at += step {
		n := min(step, count-at)
		if err := e.EmbedTensor(ctx, input[at*per:(at+n)*per], n, out[at*dim:(at+n)*dim]); err != nil {
			return err
		}
	}
	return nil
}

// Sink takes a print's rows in order; *vprint.Writer streams them to disk.
// regions is nil unless Options.Regions; thumb is the row's thumbnail
// (vprint.ThumbWidth x ThumbHeight luma) every vprint.ThumbEvery rows from the first, nil
// for the others.
type Sink interface {
	Append(ts float64, features, regions []float32, thumb []byte) error
}

// Header is a print with no rows yet: what a pool's model writes with
// opts (its FPS, or DefaultFPS, and its Regions).
func Header(res model.Resolved, opts Options) *vprint.Print {
	fps := opts.FPS
	if fps == 0 {
		fps = vprint.DefaultFPS
	}
	p := &vprint.Print{
		Model: vprint.Model{ID: res.Spec.ID, SHA256: res.SHA256, Output: res.Output.Name},
		Dim:   res.Output.Dim,
		FPS:   fps,
		// The thumbnails' pixels are appended row by row.
		Thumbs: vprint.Thumbs{Width: vprint.ThumbWidth, Height: vprint.ThumbHeight, Every: vprint.ThumbEvery(fps)},
	}
	if opts.Regions {
		p.Regions = vprint.QuarterRegions
	}
	return p
}

// memory collects rows into a Print.
type memory struct{ p *vprint.Print }

func (m memory) Append(ts float64, features, regions []float32, thumb []byte) error {
	m.p.Thumbs.Pixels = append(m.p.Thumbs.Pixels, thumb...)
	m.p.Timestamps = append(m.p.Timestamps, ts)
	m.p.Features = append(m.p.Features, features...)
	m.p.RegionFeatures = append(m.p.RegionFeatures, regions...)
	return nil
}

// ToPrint embeds a video into a print in memory.
func ToPrint(ctx context.Context, path string, pool *Pool, opts Options) (*vprint.Print, error) {
	p := Header(pool.Model(), opts)
	src, err := Video(ctx, path, pool, opts, memory{p})
	if err != nil {
		return nil, err
	}
	p.Source = src
	p.CreatedAt = time.Now().UTC()
	return p, nil
}

// ToFile streams a video's print to out and returns its rows; nothing is
// left at out unless the whole print is written. Every error names the
// video or out; one writing out is a vprint.ErrWrite.
func ToFile(ctx context.Context, video, out string, pool *Pool, opts Options) (int, error) {
	w, err := vprint.Create(out, Header(pool.Model(), opts))
	if err != nil {
		return 0, err
	}
	defer w.Abort()
	src, err := Video(ctx, video, pool, opts, w)
	if err != nil {
		if !strings.Contains(err.Error(), video) {
			err = fmt.Errorf("%s: %w", video, err)
		}
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err // interrupted: the print is not committed
	}
	if err := w.Commit(src, time.Now().UTC()); err != nil {
		return 0, err
	}
	return w.Frames(), nil
}
