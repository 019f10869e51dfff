// Package embed runs the print pipeline: ffmpeg decodes and samples frames
// while the model embeds earlier ones, through a bounded queue, so memory
// does not grow with video length and neither stage waits on the other.
package embed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/vidprint/vidprint/internal/decode"
	"github.com/vidprint/vidprint/internal/fsutil"
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
	// Regions also embeds the four quarters of every frame (vprint.Quarters), each
	// at the model's full input size: the print's region features, which
	// find cropped copies and still footage (see match.Reference.AddRegions).
	// It costs four more inferences a frame.
	Regions bool
	// Progress, when set, is called after each batch with frames done and
	// the expected total (0 when unknown).
	Progress func(done, total int)
}

type frame struct {
	// tensor is preprocessed, ready for the model: the whole frame, then
	// with regions each quarter.
	tensor []float32
	ts     float64
	thumb  []byte // every vprint.ThumbEvery rows, the print's thumbnail
}

// job is one batch on its way through a worker.
type job struct {
	seq      int
	frames   []frame
	features []float32
	err      error
}

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
	modelW, modelH := res.Spec.Pre.Width, res.Spec.Pre.Height
	width, height := viewScale*modelW, viewScale*modelH
	samplers := []*sampler{newSampler(view.Spec{W: 1, H: 1}, width, height, modelW, modelH)}
	regions := 0
	if opts.Regions {
		regions = len(view.Quarters)
		for _, q := range view.Quarters {
			samplers = append(samplers, newSampler(q, width, height, modelW, modelH))
		}
	}
	dopts := decode.Options{FPS: opts.FPS, Width: width, Height: height,
		Threads: opts.DecodeThread, Fast: opts.Fast, Partial: opts.Partial}
	// Each frame is 1+regions model inputs, and gives a row of as many
	// vectors.
	inputs := 1 + regions

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	reader, err := decode.Open(ctx, path, dopts)
	if err != nil {
		return none, err
	}
	defer reader.Close()

	// The source hash runs beside decoding; it reads the file once more.
	type hashResult struct {
		sum  string
		size int64
		err  error
	}
	hashed := make(chan hashResult, 1)
	go func() {
		sum, size, err := fsutil.HashFile(ctx, path)
		hashed <- hashResult{sum, size, err}
	}()

	batch := pool.Batch()
	// Tensors for a batch in every worker, one being filled, and slack so
	// ffmpeg never waits on a worker that is about to finish. The decoding
	// goroutine preprocesses each frame, so that this work runs beside
	// inference instead of before it.
	pre := model.NewPreprocessor(res.Spec.Pre)
	tensorLen := pre.TensorLen()
	free := make(chan []float32, (pool.Size()+2)*batch+2)
	for i := 0; i < cap(free); i++ {
		free <- make([]float32, inputs*tensorLen)
	}
	frames := make(chan frame, cap(free))
	probed := make(chan decode.Info, 1)
	decodeErr := make(chan error, 1)
	go func() {
		info, _ := reader.Info() // the reader reports its errors itself
		probed <- info
	}()
	go func() {
		defer close(frames)
		raw := make([]byte, dopts.FrameBytes())
		small := make([]byte, pre.FrameBytes())
		every := vprint.ThumbEvery(opts.FPS)
		for n := 0; ; n++ {
			ts, err := reader.Next(raw)
			if err == io.EOF {
				decodeErr <- nil
				return
			}
			if err != nil {
				decodeErr <- err
				return
			}
			var tensor []float32
			select {
			case tensor = <-free:
			case <-ctx.Done():
				decodeErr <- ctx.Err()
				return
			}
			if err := preprocess(pre, samplers, tensor, raw, small); err != nil {
				decodeErr <- err
				return
			}
			var thumb []byte
			if n%every == 0 {
				thumb = make([]byte, vprint.ThumbWidth*vprint.ThumbHeight)
				y, yw, yh := halfLuma(raw, width, height)
				newLumaSums(y, yw, yh).picture(thumb, vprint.ThumbWidth, vprint.ThumbHeight, 0, 0, 1, 1, false)
			}
			frames <- frame{tensor, ts, thumb}
		}
	}()

	total := 0
	var info decode.Info
	gotInfo := false
	dim := res.Output.Dim
	rowLen := inputs * dim
	rows, lastTS := 0, 0.0
	// Feature buffers go back and forth between the collector and workers.
	spare := make(chan []float32, 2*pool.Size()+2)
	features := func(n int) []float32 {
		select {
		case b := <-spare:
			return b[:n]
		default:
			return make([]float32, n, batch*rowLen)
		}
	}

	// Workers embed batches in any order; the collector puts them back in
	// sequence. Worker 0 starts at once; the others join only once batches
	// queue up behind it (the model, not ffmpeg, is then the bottleneck).
	jobs := make(chan *job, pool.Size())
	done := make(chan *job, pool.Size())
	grow := make(chan struct{}, pool.Size()) // one token wakes one more worker
	noMoreJobs := make(chan struct{})
	var workers sync.WaitGroup
	for i := range pool.Size() {
		workers.Add(1)
		go func() {
			defer workers.Done()
			if i > 0 {
				select {
				case <-grow:
				case <-noMoreJobs:
					return
				}
			}
			e, err := pool.Session(ctx, i)
			if err != nil {
				// Let another worker take the jobs; report only if none can.
				if i == 0 {
					for j := range jobs {
						j.err = err
						done <- j
					}
				}
				return
			}
			var joined []float32 // a batch's frames side by side
			for j := range jobs {
				input := j.frames[0].tensor
				if len(j.frames) > 1 {
					joined = joined[:0]
					for _, f := range j.frames {
						joined = append(joined, f.tensor...)
					}
					input = joined
				}
				j.features = features(len(j.frames) * rowLen)
				j.err = embedAll(ctx, e, input, len(j.frames)*inputs, j.features)
				done <- j
			}
		}()
	}
	go func() {
		workers.Wait()
		close(done)
	}()
	go func() {
		defer close(jobs)
		defer close(noMoreJobs)
		seq, waited, woken := 0, 0, 1
		for f := range frames {
			j := &job{seq: seq, frames: append(make([]frame, 0, batch), f)}
			seq++
			// Take what is already decoded, up to a batch, without waiting.
		fill:
			for len(j.frames) < batch {
				select {
				case g, ok := <-frames:
					if !ok {
						break fill
					}
					j.frames = append(j.frames, g)
				default:
					break fill
				}
			}
			select {
			case jobs <- j:
				waited = 0
				continue
			default:
			}
			// The queue is full. When that persists while the sessions
			// asked for so far all run, the model, not ffmpeg, is the
			// bottleneck: wake one more worker.
			if waited++; waited >= 8 && pool.Loaded() == woken {
				select {
				case grow <- struct{}{}:
					woken++
				default:
				}
				waited = 0
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				for range frames {
				}
				return
			}
		}
	}()

	var embedErr error
	pending := map[int]*job{}
	next := 0
	for j := range done {
		if !gotInfo {
			select {
			case info = <-probed:
				gotInfo = true
				total = decode.ExpectedFrames(info, opts.FPS)
			default:
			}
		}
		if j.err != nil || embedErr != nil {
			if embedErr == nil {
				embedErr = j.err
				cancel()
			}
			continue
		}
		pending[j.seq] = j
		for {
			k, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			for i, f := range k.frames {
				if embedErr == nil {
					row := k.features[i*rowLen : (i+1)*rowLen]
					var regionRow []float32
					if regions > 0 {
						regionRow = row[dim:]
					}
					if err := sink.Append(f.ts, row[:dim], regionRow, f.thumb); err != nil {
						embedErr = err
						cancel()
					}
				}
				rows, lastTS = rows+1, f.ts
				free <- f.tensor
			}
			select {
			case spare <- k.features:
			default:
			}
		}
		if opts.Progress != nil && embedErr == nil {
			opts.Progress(rows, total)
		}
	}
	if embedErr != nil {
		return none, embedErr
	}
	if err := <-decodeErr; err != nil {
		return none, err
	}
	if !gotInfo {
		info = <-probed
	}
	if err := ctx.Err(); err != nil {
		return none, err
	}
	h := <-hashed
	if h.err != nil {
		return none, h.err
	}
	// A print stores the name as UTF-8; a Linux name need not be.
	name := strings.ToValidUTF8(filepath.Base(path), "\uFFFD")
	src := vprint.Source{Name: name, Size: h.size, SHA256: h.sum,
		DurationS: info.DurationS, Width: info.Width, Height: info.Height}
	if src.DurationS == 0 && rows > 0 {
		src.DurationS = lastTS + 1/opts.FPS
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
