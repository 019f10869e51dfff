// Package embed runs the print pipeline: ffmpeg decodes and samples frames
// while the model embeds earlier ones, through a bounded queue, so memory
// does not grow with video length and neither stage waits on the other.
package embed

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/vidprint/vidprint/internal/decode"
	"github.com/vidprint/vidprint/internal/vprint"
)

// Options control sampling and decoding.
type Options struct {
	FPS          float64
	DecodeThread int  // ffmpeg decoder threads; 0 lets ffmpeg choose
	Exact        bool // decode every pixel (decode.Options.Exact)
	Fast         bool // skip unreferenced frames too (decode.Options.Fast)
	Partial      bool // keep the frames of a video whose decoding stops early
	// Progress, when set, is called after each batch with frames done and
	// the expected total (0 when unknown).
	Progress func(done, total int)
}

// DefaultFPS is the sampling rate of a print.
const DefaultFPS = 5

type frame struct {
	rgb []byte
	ts  float64
}

// job is one batch on its way through a worker.
type job struct {
	seq      int
	frames   []frame
	features []float32
	err      error
}

// Video embeds one video file into a print with the pool's sessions.
func Video(ctx context.Context, path string, pool *Pool, opts Options) (*vprint.Print, error) {
	if opts.FPS == 0 {
		opts.FPS = DefaultFPS
	}
	res := pool.Model()
	dopts := decode.Options{FPS: opts.FPS, Width: res.Spec.Pre.Width, Height: res.Spec.Pre.Height,
		Threads: opts.DecodeThread, Exact: opts.Exact, Fast: opts.Fast, Partial: opts.Partial}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	reader, err := decode.Open(ctx, path, dopts)
	if err != nil {
		return nil, err
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
		sum, size, err := hashFile(ctx, path)
		hashed <- hashResult{sum, size, err}
	}()

	batch := pool.Batch()
	// Buffers for a batch in every worker, one being filled, and slack so
	// ffmpeg never waits on a worker that is about to finish.
	free := make(chan []byte, (pool.Size()+2)*batch+2)
	for i := 0; i < cap(free); i++ {
		free <- make([]byte, dopts.FrameBytes())
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
		for {
			var buf []byte
			select {
			case buf = <-free:
			case <-ctx.Done():
				decodeErr <- ctx.Err()
				return
			}
			ts, err := reader.Next(buf)
			if err == io.EOF {
				decodeErr <- nil
				return
			}
			if err != nil {
				decodeErr <- err
				return
			}
			frames <- frame{buf, ts}
		}
	}()

	total := 0
	var info decode.Info
	gotInfo := false
	dim := res.Output.Dim
	p := &vprint.Print{
		Model: vprint.Model{ID: res.Spec.ID, SHA256: res.SHA256, Output: res.Output.Name},
		Dim:   dim,
		FPS:   opts.FPS,
	}

	// Workers embed batches in any order; the collector puts them back in
	// sequence. Worker 0 starts at once; the others join only once batches
	// queue up behind it (the model, not ffmpeg, is then the bottleneck).
	jobs := make(chan *job, pool.Size())
	done := make(chan *job, pool.Size())
	backlog := make(chan struct{})
	noMoreJobs := make(chan struct{})
	var workers sync.WaitGroup
	for i := range pool.Size() {
		workers.Add(1)
		go func() {
			defer workers.Done()
			if i > 0 {
				select {
				case <-backlog:
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
			rgb := make([][]byte, 0, batch)
			for j := range jobs {
				rgb = rgb[:0]
				for _, f := range j.frames {
					rgb = append(rgb, f.rgb)
				}
				j.features = make([]float32, len(j.frames)*dim)
				j.err = e.Embed(ctx, rgb, j.features)
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
		seq, waited := 0, 0
		var backlogOnce sync.Once
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
			// The queue is full. When that persists once the first session
			// runs, the model, not ffmpeg, is the bottleneck.
			if waited++; waited >= 8 && pool.Loaded() > 0 {
				backlogOnce.Do(func() { close(backlog) })
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
				p.Timestamps = slices.Grow(p.Timestamps, total+1)
				p.Features = slices.Grow(p.Features, (total+1)*dim)
			default:
			}
		}
		if j.err != nil {
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
			for _, f := range k.frames {
				p.Timestamps = append(p.Timestamps, f.ts)
				free <- f.rgb
			}
			p.Features = append(p.Features, k.features...)
		}
		if opts.Progress != nil {
			opts.Progress(len(p.Timestamps), total)
		}
	}
	if embedErr != nil {
		return nil, embedErr
	}
	if err := <-decodeErr; err != nil {
		return nil, err
	}
	if !gotInfo {
		info = <-probed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	h := <-hashed
	if h.err != nil {
		return nil, fmt.Errorf("%s: %w", path, h.err)
	}
	p.Source = vprint.Source{Name: filepath.Base(path), Size: h.size, SHA256: h.sum,
		DurationS: info.DurationS, Width: info.Width, Height: info.Height}
	if p.Source.DurationS == 0 && len(p.Timestamps) > 0 {
		p.Source.DurationS = p.Timestamps[len(p.Timestamps)-1] + 1/opts.FPS
	}
	p.CreatedAt = time.Now().UTC()
	return p, nil
}

func hashFile(ctx context.Context, path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	buf := make([]byte, 1<<20)
	var size int64
	for {
		if err := ctx.Err(); err != nil {
			return "", 0, err
		}
		n, err := f.Read(buf)
		h.Write(buf[:n])
		size += int64(n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", 0, fmt.Errorf("hash: %w", err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), size, nil
}
