package embed

import (
	"context"
	"io"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/vidprint/vidprint/internal/decode"
	"github.com/vidprint/vidprint/internal/fsutil"
	"github.com/vidprint/vidprint/internal/model"
	"github.com/vidprint/vidprint/internal/view"
)

// pass is one decoding pass through the pipeline: ffmpeg decodes and
// samples frames while the model embeds earlier ones, through a bounded
// queue, so memory does not grow with video length and neither stage
// waits on the other. Both a print (Video) and a clip's views (Views) are
// made by it.
type pass struct {
	decode decode.Options
	// specs are the rectangles of a frame the model sees, in the order of
	// a frame's features; infer false runs no model (pictures only).
	specs []view.Spec
	infer bool
	// every > 1 runs the specs after the first on every every-th sample
	// only (from the first); the others get them from the nearer of the
	// two samples around them (fill).
	every int
	// extra, when set, runs on the decoding goroutine with sample n's
	// decoded planes (reused after it returns) and gives what the emit
	// function gets beside the features: a thumbnail, pictures.
	extra func(n int, raw []byte) any
	// hash hashes the file beside decoding, for a print's source.
	hash bool
	// progress, when set, is called with frames done and the expected
	// total (0 when unknown).
	progress func(done, total int)
	// eager starts every session at once, for passes the model is known
	// to hold up (a clip's many views), instead of once frames pile up.
	eager bool
}

// sessions is how many of a pool's size sessions the pass may run on
// cores cores. With one inference a sample, ffmpeg's share of the work
// (decoding, scaling, the pipe: about 0.9 ms of CPU a sample against the
// model's 2.3 ms on the benchmark VM) needs a core of its own, and a
// session on every core oversubscribes them; with a print's quarters (3
// inferences a sample) or a clip's views the model's share is large
// enough that a session on every core is faster (docs/performance.md).
func (p pass) sessions(size, inputs, cores int) int {
	if inputs == 0 { // no model
		return size
	}
	every := max(1, p.every)
	perSample := 1 + float64(inputs-1)/float64(every)
	if perSample < 2 {
		return max(1, min(size, cores-1))
	}
	return size
}

// frame is one sample on its way through the pipeline.
type frame struct {
	// tensor is preprocessed, ready for the model: one input a spec, of
	// which the first inputs are filled.
	tensor []float32
	inputs int
	ts     float64
	extra  any
}

// job is one batch on its way through a worker.
type job struct {
	seq      int
	frames   []frame
	features []float32
	err      error
}

// passResult is what a pass learnt of the video besides its rows.
type passResult struct {
	info   decode.Info
	sum    string // the file's SHA-256, when hashed
	size   int64
	rows   int
	lastTS float64
}

// run decodes path and emits every sample in order: its time, its
// features (one vector of the model's dimension a spec, side by side;
// emit must copy what it keeps) and its extra.
func (p pass) run(ctx context.Context, path string, pool *Pool, emit func(ts float64, features []float32, extra any) error) (passResult, error) {
	var out passResult
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	reader, err := decode.Open(ctx, path, p.decode)
	if err != nil {
		return out, err
	}
	defer reader.Close()

	// The source hash runs beside decoding; it reads the file once more.
	type hashResult struct {
		sum  string
		size int64
		err  error
	}
	hashed := make(chan hashResult, 1)
	if p.hash {
		go func() {
			sum, size, err := fsutil.HashFile(ctx, path)
			hashed <- hashResult{sum, size, err}
		}()
	} else {
		hashed <- hashResult{}
	}

	res := pool.Model()
	modelW, modelH := res.Spec.Pre.Width, res.Spec.Pre.Height
	var samplers []*sampler
	if p.infer {
		for _, s := range p.specs {
			samplers = append(samplers, newSampler(s, p.decode.Width, p.decode.Height, modelW, modelH))
		}
	}
	// Each frame is one model input a sampler, and gives a row of as many
	// vectors.
	inputs := len(samplers)

	sessions := p.sessions(pool.Size(), inputs, runtime.NumCPU())
	batch := max(1, pool.Batch())
	// Tensors for a batch in every worker, one being filled, and slack so
	// ffmpeg never waits on a worker that is about to finish. The decoding
	// goroutine preprocesses each frame, so that this work runs beside
	// inference instead of before it.
	pre := model.NewPreprocessor(res.Spec.Pre)
	tensorLen := pre.TensorLen()
	free := make(chan []float32, (sessions+2)*batch+2)
	for i := 0; i < cap(free); i++ {
		free <- make([]float32, inputs*tensorLen)
	}
	frames := make(chan frame, cap(free))
	// Samples ffmpeg's side had to wait for a buffer for: the model, not
	// ffmpeg, held them up.
	var stalls atomic.Int64
	probed := make(chan decode.Info, 1)
	decodeErr := make(chan error, 1)
	go func() {
		info, _ := reader.Info() // the reader reports its errors itself
		probed <- info
	}()
	go func() {
		defer close(frames)
		raw := make([]byte, p.decode.FrameBytes())
		small := make([]byte, pre.FrameBytes())
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
			default:
				stalls.Add(1) // every buffer is queued for the model
				select {
				case tensor = <-free:
				case <-ctx.Done():
					decodeErr <- ctx.Err()
					return
				}
			}
			k := inputs
			if p.every > 1 && n%p.every != 0 {
				k = min(k, 1)
			}
			if err := preprocess(pre, samplers[:k], tensor, raw, small); err != nil {
				decodeErr <- err
				return
			}
			var extra any
			if p.extra != nil {
				extra = p.extra(n, raw)
			}
			frames <- frame{tensor, k, ts, extra}
		}
	}()

	total := 0
	gotInfo := false
	dim := res.Output.Dim
	rowLen := inputs * dim
	// Feature buffers go back and forth between the collector and workers.
	spare := make(chan []float32, 2*sessions+2)
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
	jobs := make(chan *job, sessions)
	done := make(chan *job, sessions)
	grow := make(chan struct{}, sessions) // one token wakes one more worker
	noMoreJobs := make(chan struct{})
	woken := 1
	if p.eager && inputs > 0 {
		for ; woken < sessions; woken++ {
			grow <- struct{}{}
		}
	}
	var workers sync.WaitGroup
	for i := range sessions {
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
			var e model.Embedder
			var err error
			if inputs > 0 {
				e, err = pool.Session(ctx, i)
			}
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
			var joined []float32 // a batch's inputs side by side
			var flat []float32   // and their features
			for j := range jobs {
				j.features = features(len(j.frames) * rowLen)
				if inputs == 0 {
					done <- j
					continue
				}
				if len(j.frames) == 1 {
					f := j.frames[0]
					j.err = embedAll(ctx, e, f.tensor[:f.inputs*tensorLen], f.inputs, j.features[:f.inputs*dim])
					done <- j
					continue
				}
				joined, count := joined[:0], 0
				for _, f := range j.frames {
					joined = append(joined, f.tensor[:f.inputs*tensorLen]...)
					count += f.inputs
				}
				flat = slices.Grow(flat[:0], count*dim)[:count*dim]
				if j.err = embedAll(ctx, e, joined, count, flat); j.err == nil {
					at := 0
					for i, f := range j.frames {
						copy(j.features[i*rowLen:], flat[at:at+f.inputs*dim])
						at += f.inputs * dim
					}
				}
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
		seq, waited, taken := 0, 0, int64(0)
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
			taken += int64(len(j.frames)) // samples the decoding side has handed over
			select {
			case jobs <- j:
				waited = 0
				continue
			default:
			}
			// The queue is full. When that persists while the sessions
			// asked for so far all run, and the decoding side has waited
			// for buffers on a quarter of the samples or more, the model,
			// not ffmpeg, is the bottleneck: wake one more worker. A
			// decoder that delivers in bursts (B-frames) fills the queue
			// now and then without waiting, and another session would
			// only take CPU from it.
			held := stalls.Load()
			if waited++; waited >= 8 && held >= 8 && 4*held >= taken && pool.Loaded() == woken {
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
	fill := newFiller(p.every, dim, rowLen, emit)
	pending := map[int]*job{}
	next := 0
	for j := range done {
		if !gotInfo {
			select {
			case out.info = <-probed:
				gotInfo = true
				total = decode.ExpectedFrames(out.info, p.decode.FPS)
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
					if err := fill.push(f.ts, k.features[i*rowLen:(i+1)*rowLen], f.extra, f.inputs == inputs); err != nil {
						embedErr = err
						cancel()
					}
				}
				out.rows, out.lastTS = out.rows+1, f.ts
				free <- f.tensor
			}
			select {
			case spare <- k.features:
			default:
			}
		}
		if p.progress != nil && embedErr == nil {
			p.progress(out.rows, total)
		}
	}
	if embedErr != nil {
		return out, embedErr
	}
	if err := <-decodeErr; err != nil {
		return out, err
	}
	if err := fill.flush(); err != nil {
		return out, err
	}
	if !gotInfo {
		out.info = <-probed
	}
	if err := ctx.Err(); err != nil {
		return out, err
	}
	h := <-hashed
	if h.err != nil {
		return out, h.err
	}
	out.sum, out.size = h.sum, h.size
	return out, nil
}
