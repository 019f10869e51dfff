package ingest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/vidprint/vidprint/internal/fsutil"
	"github.com/vidprint/vidprint/internal/library"
	"github.com/vidprint/vidprint/internal/library/rowcodec"
	"github.com/vidprint/vidprint/internal/vprint"

	"github.com/vidprint/vidprint/internal/decode"
	"github.com/vidprint/vidprint/internal/embed"
	"github.com/vidprint/vidprint/internal/progress"
)

// Expand turns PATH arguments into files. A directory gives every file
// under it, recursively, in sorted order; an argument with glob meta
// characters gives its matches (directories among them expanded in turn).
// Hidden files and directories are left out of both, but a hidden file
// named outright is kept. Anything else is kept as given, so that Ingest
// reports a missing file. Files under skip (the library itself) are left
// out, and a file reached twice is listed once.
func Expand(args []string, skip ...string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	var skipAbs []string
	for _, s := range skip {
		if a, err := filepath.Abs(s); err == nil {
			skipAbs = append(skipAbs, a)
		}
	}
	add := func(p string) {
		abs, err := filepath.Abs(p)
		if err != nil {
			abs = p
		}
		for _, s := range skipAbs {
			if abs == s || strings.HasPrefix(abs, s+string(filepath.Separator)) {
				return
			}
		}
		if !seen[abs] {
			seen[abs] = true
			out = append(out, p)
		}
	}
	walk := func(root string) error {
		return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				add(p) // unreadable: Ingest reports it
				return nil
			}
			if p != root && hidden(d.Name()) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			switch {
			case d.Type().IsRegular():
				add(p)
			case d.Type()&fs.ModeSymlink != 0:
				// WalkDir does not follow links; take one to a file.
				if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
					add(p)
				}
			}
			return nil
		})
	}
	for _, arg := range args {
		var matches []string
		if strings.ContainsAny(arg, `*?[\`) {
			m, err := filepath.Glob(arg)
			if err != nil {
				return nil, fmt.Errorf("pattern %q: %w", arg, err)
			}
			for _, p := range m {
				if !hidden(filepath.Base(p)) {
					matches = append(matches, p)
				}
			}
		}
		if len(matches) == 0 {
			matches = []string{arg} // not a pattern, or one that matched nothing
		}
		for _, p := range matches {
			if st, err := os.Stat(p); err == nil && st.IsDir() {
				if err := walk(p); err != nil {
					return nil, err
				}
				continue
			}
			add(p)
		}
	}
	return out, nil
}

func hidden(name string) bool { return strings.HasPrefix(name, ".") && name != "." && name != ".." }

// Status is what Ingest did with one file.
type Status int

const (
	Added   Status = iota // embedded and stored
	Present               // its content was already in the library
	Skipped               // not a video, damaged or unreadable; see Result.Err
)

func (s Status) String() string {
	return [...]string{"added", "already indexed", "skipped"}[s]
}

// Result is one file's outcome.
type Result struct {
	Path   string
	Status Status
	Video  library.Video // Added or Present: the library's video
	Err    error         // Skipped: why
}

// Options control Ingest.
type Options struct {
	// Embed controls sampling and decoding; its FPS is the library's and
	// its Progress is Ingest's own.
	Embed embed.Options
	// Workers is how many files are embedded at once. The default is half
	// the cores: one video already keeps ffmpeg and an inference session
	// busy, and on two cores a second one only competes with it.
	Workers int
	// Bar, when not nil, shows files done, frames and time left.
	Bar *progress.Bar
	// Report, when not nil, is called as each file finishes, one call at a
	// time, with the bar cleared.
	Report func(Result)
}

// Ingest adds files to the library, several at once. A file whose content
// is already there is not embedded again; one that is not a video, is
// damaged or cannot be read is skipped and the others go on. Each video is
// stored in one transaction, so a cancelled or failed Ingest leaves every
// video either fully stored or absent, and running it again continues.
//
// The results of the files that finished come back in the order of paths.
// The error is what stopped the whole run: a full disk, a model that
// fails, cancellation; files not finished then have no result.
func Ingest(ctx context.Context, s library.Store, pool *embed.Pool, paths []string, o Options) ([]Result, error) {
	meta, err := s.Meta(ctx)
	if err != nil {
		return nil, err
	}
	res := pool.Model()
	got := Meta(res)
	got.FPS = meta.FPS
	if got.Model != meta.Model || got.Dim != meta.Dim {
		return nil, fmt.Errorf("%w: the library holds %s, the model is %s", library.ErrModel, library.DescribeMeta(meta), library.DescribeMeta(got))
	}
	codec, regionCodec, err := rowcodec.ForMeta(meta)
	if err != nil {
		return nil, err
	}
	if o.Workers <= 0 {
		o.Workers = max(1, runtime.NumCPU()/2)
	}
	o.Embed.FPS = meta.FPS
	// The quarters are embedded only for a library that keeps them.
	o.Embed.Regions = regionCodec != nil

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	in := &ingester{store: s, pool: pool, meta: meta, codec: codec, regionCodec: regionCodec, opts: o,
		results: make([]*Result, len(paths)), track: newTracker(o.Bar, paths)}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(o.Workers, len(paths)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r, err := in.one(ctx, i, paths[i])
				if err != nil {
					cancel(err) // the first cause wins
					continue
				}
				in.finish(i, r)
			}
		}()
	}
feed:
	for i := range paths {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	in.track.clear()
	var out []Result
	for _, r := range in.results {
		if r != nil {
			out = append(out, *r)
		}
	}
	if err := context.Cause(ctx); err != nil {
		return out, err
	}
	return out, nil
}

type ingester struct {
	store library.Store
	pool  *embed.Pool
	meta  library.Meta
	codec rowcodec.Codec
	// regionCodec stores the quarters; nil when the library keeps none.
	regionCodec rowcodec.Codec
	opts        Options
	track       *tracker
	mu          sync.Mutex // results
	results     []*Result
}

func (in *ingester) finish(i int, r Result) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.results[i] = &r
	in.track.done(i, r, in.opts.Report)
}

// one adds a file. An error stops the whole run; a file's own problem is
// a Skipped result.
func (in *ingester) one(ctx context.Context, i int, path string) (Result, error) {
	r := Result{Path: path, Status: Skipped}
	st, err := os.Stat(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = fmt.Errorf("%s: %w", path, pe.Err) // "PATH: no such file", not "stat PATH: ..."
		}
		r.Err = err
		return r, nil
	}
	if !st.Mode().IsRegular() {
		r.Err = fmt.Errorf("%s: not a regular file", path)
		return r, nil
	}
	if vprint.IsFile(path) {
		return in.print(ctx, i, r, path)
	}
	// Hashing is cheap next to embedding: content already indexed, under
	// any name, is recognised before any decoding.
	sum, _, err := fsutil.HashFile(ctx, path)
	if err != nil {
		if ctx.Err() != nil {
			return r, ctx.Err()
		}
		r.Err = err
		return r, nil
	}
	v, err := in.store.Lookup(ctx, sum)
	if err == nil {
		r.Status, r.Video = Present, v
		return r, nil
	}
	if !errors.Is(err, library.ErrNotFound) {
		return r, err
	}
	opts := in.opts.Embed
	opts.Progress = func(done, total int) { in.track.frames(i, done, total) }
	p, err := embed.ToPrint(ctx, path, in.pool, opts)
	if ctx.Err() != nil {
		return r, context.Cause(ctx)
	}
	if err != nil {
		if !inputError(err) {
			return r, err
		}
		if !strings.Contains(err.Error(), path) {
			err = fmt.Errorf("%s: %w", path, err)
		}
		r.Err = err
		return r, nil
	}
	if p.Model != in.meta.Model || p.Dim != in.meta.Dim || p.FPS != in.meta.FPS {
		return r, fmt.Errorf("%s: %w: print of %s/%s, %d-d, %g fps, the library holds %s",
			path, library.ErrModel, p.Model.ID, p.Model.Output, p.Dim, p.FPS, library.DescribeMeta(in.meta))
	}
	if p.Frames() == 0 {
		r.Err = fmt.Errorf("%s: no frames", path)
		return r, nil
	}
	return in.store1(ctx, r, path, p)
}

// print adds a print file made earlier, as its video, without embedding
// again: its video's content hash is its identity. A print of another
// model or rate, or one that cannot be read, is skipped.
func (in *ingester) print(ctx context.Context, i int, r Result, path string) (Result, error) {
	p, err := vprint.ReadFile(path)
	if err != nil {
		r.Err = err
		return r, nil
	}
	if p.Model != in.meta.Model || p.Dim != in.meta.Dim || p.FPS != in.meta.FPS {
		r.Err = fmt.Errorf("%s: %w: a print of %s/%s, %d-d, %g fps; the library holds %s",
			path, library.ErrModel, p.Model.ID, p.Model.Output, p.Dim, p.FPS, library.DescribeMeta(in.meta))
		return r, nil
	}
	if len(p.Source.SHA256) != 64 {
		r.Err = fmt.Errorf("%s: the print does not name its video's content (no sha256)", path)
		return r, nil
	}
	v, err := in.store.Lookup(ctx, p.Source.SHA256)
	if err == nil {
		r.Status, r.Video = Present, v
		return r, nil
	}
	if !errors.Is(err, library.ErrNotFound) {
		return r, err
	}
	in.track.frames(i, p.Frames(), p.Frames())
	return in.store1(ctx, r, path, p)
}

// store1 stores p, the print of the file at path, as one video.
func (in *ingester) store1(ctx context.Context, r Result, path string, p *vprint.Print) (Result, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	src := p.Source
	e := rowcodec.NewEntry(in.codec, library.Video{Path: abs, SHA256: src.SHA256, Size: src.Size, DurationS: src.DurationS,
		Width: src.Width, Height: src.Height, AddedAt: time.Now()}, p)
	e.Regions = rowcodec.NewRegions(in.regionCodec, p)
	v, err := in.store.Add(ctx, e)
	switch {
	case errors.Is(err, library.ErrExists): // another process added it meanwhile
		r.Status, r.Video = Present, v
	case err != nil:
		return r, err
	default:
		r.Status, r.Video = Added, v
	}
	return r, nil
}

// inputError tells a file's own problem from one that would stop every
// file: the kinds the CLI reports as bad input.
func inputError(err error) bool {
	for _, kind := range []error{decode.ErrNotFound, decode.ErrDirectory, decode.ErrEmpty, decode.ErrNotVideo,
		decode.ErrNoVideo, decode.ErrStillImage, decode.ErrDecode, decode.ErrTruncated, decode.ErrUnreadable,
		fs.ErrNotExist, fs.ErrPermission} {
		if errors.Is(err, kind) {
			return true
		}
	}
	return false
}

// tracker keeps the progress line: files done, frames embedded and an
// estimate of the frames left. A file not started yet is expected to hold
// as many frames per byte as the files embedded so far.
type tracker struct {
	mu         sync.Mutex
	bar        *progress.Bar
	sizes      []int64
	nDone      int
	doneFrames int         // in finished files
	running    map[int]run // files being embedded
	perByte    [2]float64  // frames and bytes of the files embedded so far
}

type run struct{ done, total int }

func newTracker(bar *progress.Bar, paths []string) *tracker {
	t := &tracker{bar: bar, sizes: make([]int64, len(paths)), running: map[int]run{}}
	if !bar.Enabled() {
		return t
	}
	for i, p := range paths {
		if st, err := os.Stat(p); err == nil {
			t.sizes[i] = st.Size()
		}
	}
	bar.Start(fmt.Sprintf("0/%d files", len(paths)))
	return t
}

func (t *tracker) frames(i, done, total int) {
	if !t.bar.Enabled() {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.running[i] = run{done, total}
	t.draw()
}

// done counts a finished file and hands it to report with the bar
// cleared, so that no redraw lands in the middle of its output.
func (t *tracker) done(i int, r Result, report func(Result)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if report != nil {
		t.bar.Clear()
		report(r)
	}
	if !t.bar.Enabled() {
		return
	}
	delete(t.running, i)
	t.nDone++
	if r.Status == Added {
		t.doneFrames += r.Video.Frames
		t.perByte[0] += float64(r.Video.Frames)
		t.perByte[1] += float64(t.sizes[i])
	}
	t.sizes[i] = 0 // nothing left to estimate
	t.draw()
}

func (t *tracker) draw() {
	done, total := t.doneFrames, t.doneFrames
	var leftBytes int64
	perByte := t.perByte
	for i, r := range t.running {
		done += r.done
		total += max(r.done, r.total)
		leftBytes -= t.sizes[i] // counted below, but estimated by its own total
		if r.total > 0 {
			perByte[0] += float64(r.total)
			perByte[1] += float64(t.sizes[i])
		}
	}
	for _, s := range t.sizes {
		leftBytes += s
	}
	if perByte[1] > 0 {
		total += int(float64(leftBytes) * perByte[0] / perByte[1])
	} else if leftBytes > 0 {
		total = 0 // nothing to estimate from yet: no ETA
	}
	t.bar.SetLabel(fmt.Sprintf("%d/%d files", t.nDone, len(t.sizes)))
	t.bar.Update(done, total)
}

func (t *tracker) clear() { t.bar.Clear() }

// Counts sums results by status.
func Counts(results []Result) (added, present, skipped int) {
	for _, r := range results {
		switch r.Status {
		case Added:
			added++
		case Present:
			present++
		case Skipped:
			skipped++
		}
	}
	return
}
