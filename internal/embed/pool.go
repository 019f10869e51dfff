package embed

import (
	"context"
	"errors"
	"sync"

	"github.com/vidprint/vidprint/internal/model"
)

// Pool holds up to Size model sessions, one per inference worker. The first
// starts loading at once, in the background, so that it overlaps ffmpeg's
// start; the others load only when frames pile up, because a session that
// would sit idle behind a slow decoder costs start-up time and memory.
type Pool struct {
	res        model.Resolved
	opts       model.SessionOptions
	newSession func() (model.Embedder, error)
	slots      []slot
}

type slot struct {
	once  sync.Once
	ready chan struct{}
	emb   model.Embedder
	err   error
}

// Load makes a pool of up to workers sessions of res and starts loading the
// first. ONNX Runtime must be initialised.
func Load(res model.Resolved, workers int, opts model.SessionOptions) *Pool {
	if opts.Batch < 1 {
		opts.Batch = 1
	}
	if res.Batch > 0 && opts.Batch > res.Batch {
		opts.Batch = res.Batch // a fixed-batch export
	}
	return newPool(res, opts, workers, func() (model.Embedder, error) { return model.NewSession(res, opts) })
}

func newPool(res model.Resolved, opts model.SessionOptions, workers int, newSession func() (model.Embedder, error)) *Pool {
	p := &Pool{res: res, opts: opts, newSession: newSession, slots: make([]slot, max(workers, 1))}
	for i := range p.slots {
		p.slots[i].ready = make(chan struct{})
	}
	go p.load(0)
	return p
}

// Ready wraps sessions that are already loaded; they must share a model and
// a batch size.
func Ready(embs ...model.Embedder) *Pool {
	p := &Pool{slots: make([]slot, len(embs))}
	for i, e := range embs {
		p.slots[i].ready = make(chan struct{})
		p.slots[i].once.Do(func() { p.slots[i].emb = e; close(p.slots[i].ready) })
	}
	if len(embs) > 0 {
		p.res = embs[0].Model()
		p.opts.Batch = embs[0].MaxBatch()
	}
	return p
}

func (p *Pool) load(i int) {
	s := &p.slots[i]
	s.once.Do(func() {
		defer close(s.ready)
		s.emb, s.err = p.newSession()
	})
}

// Model is the model every session runs.
func (p *Pool) Model() model.Resolved { return p.res }

// Size is the most sessions the pool will load.
func (p *Pool) Size() int { return len(p.slots) }

// Batch is the most frames one Embed call takes.
func (p *Pool) Batch() int { return p.opts.Batch }

// Session returns session i, loading it if need be.
func (p *Pool) Session(ctx context.Context, i int) (model.Embedder, error) {
	if i < 0 || i >= len(p.slots) {
		return nil, errors.New("embed: no such session")
	}
	go p.load(i)
	s := &p.slots[i]
	select {
	case <-s.ready:
		return s.emb, s.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Loaded is how many sessions have been loaded so far.
func (p *Pool) Loaded() int {
	n := 0
	for i := range p.slots {
		select {
		case <-p.slots[i].ready:
			if p.slots[i].err == nil {
				n++
			}
		default:
		}
	}
	return n
}

// Close waits for any loading to end and releases every session.
func (p *Pool) Close() {
	for i := range p.slots {
		s := &p.slots[i]
		s.once.Do(func() { close(s.ready) }) // never loaded: nothing to release
		<-s.ready
		if s.emb != nil {
			s.emb.Close()
		}
	}
}
