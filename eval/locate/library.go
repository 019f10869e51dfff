package main

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/vidprint/vidprint/internal/library/rowcodec"

	"github.com/vidprint/vidprint/internal/embed"
	"github.com/vidprint/vidprint/internal/library"
	"github.com/vidprint/vidprint/internal/locate"
	"github.com/vidprint/vidprint/internal/model"
	"github.com/vidprint/vidprint/internal/search"
	"github.com/vidprint/vidprint/internal/vprint"
)

// libraryEval searches every clip in a library of all the references, as
// `vidprint search` does, in process on the clip's cached views (the same
// views the binary embeds). It scores two things the per-reference methods
// cannot:
//   - top-1: whether the best result is the clip's source at the right start
//     (for pip and inset clips, also counted when the host comes first and
//     the source second: both hold the clip);
//   - negatives: the clip searched in a library without its source (and
//     host), where any result is a false positive.
type libraryEval struct {
	meta    library.Meta
	entries []library.Entry // one per reference, in references order
	full    *search.Local
	without map[string]*search.Local // by the excluded names, joined
	rows    []libraryRow
	opts    search.Options
}

type libraryRow struct {
	clip       clip
	top1       bool // source first, at the right start
	top1Host   bool // or second, after the host
	anywhere   bool // source among the results, at the right start
	falseHits  int  // results in the library without the source
	falseFirst string
	first      string // the first result in the whole library, for misses
	// exhaustive is, for misses, what search.Exhaustive (every video
	// aligned whole) put first: it tells a candidate the index did not
	// recall from an alignment that scores too low.
	exhaustive string
	seconds    float64 // one search, clip views given
}

// setupLibrary loads the default model (for clip views not cached yet) and
// builds the library of the references with the codec.
func setupLibrary(refPrints map[string]string, codecName string, regions bool) (*libraryEval, *embed.Pool, error) {
	res, err := defaultModel()
	if err != nil {
		return nil, nil, err
	}
	head := embed.Header(res, embed.Options{})
	meta, err := rowcodec.NewMeta(library.Meta{Model: head.Model, Dim: head.Dim, FPS: head.FPS}, codecName)
	if err != nil {
		return nil, nil, err
	}
	if !regions {
		meta.RegionCodec = ""
	}
	lib, err := newLibraryEval(refPrints, meta)
	if err != nil {
		return nil, nil, err
	}
	return lib, embed.Load(res, 1, model.SessionOptions{Threads: 1, Batch: 1}), nil
}

// newLibraryEval stores every reference print with the codec a new library
// gets, and indexes them.
func newLibraryEval(refPrints map[string]string, meta library.Meta) (*libraryEval, error) {
	codec, regionCodec, err := rowcodec.ForMeta(meta)
	if err != nil {
		return nil, err
	}
	// Images are centred by the model's typical row, as vidprint search
	// centres them.
	opts := search.DefaultOptions()
	opts.ImageMean = locate.ImageCentre(meta.Model, meta.Dim)
	e := &libraryEval{meta: meta, without: map[string]*search.Local{}, opts: opts}
	for i, ref := range references {
		p, err := vprint.ReadFile(refPrints[ref.Name])
		if err != nil {
			return nil, err
		}
		if p.Dim != meta.Dim || p.FPS != meta.FPS {
			return nil, fmt.Errorf("%s: %d-d at %g fps, the library takes %d-d at %g fps", refPrints[ref.Name], p.Dim, p.FPS, meta.Dim, meta.FPS)
		}
		v := library.Video{ID: int64(i + 1), Path: ref.Name, DurationS: p.Source.DurationS}
		en := rowcodec.NewEntry(codec, v, p)
		en.Regions = rowcodec.NewRegions(regionCodec, p)
		e.entries = append(e.entries, en)
	}
	if e.full, err = search.NewMemory(context.Background(), meta, e.entries); err != nil {
		return nil, err
	}
	return e, nil
}

// libraryWithout is the library less the named references.
func (e *libraryEval) libraryWithout(names ...string) (*search.Local, error) {
	slices.Sort(names)
	key := strings.Join(names, ",")
	if l, ok := e.without[key]; ok {
		return l, nil
	}
	var kept []library.Entry
	for _, en := range e.entries {
		if !slices.Contains(names, en.Path) {
			kept = append(kept, en)
		}
	}
	l, err := search.NewMemory(context.Background(), e.meta, kept)
	if err != nil {
		return nil, err
	}
	e.without[key] = l
	return l, nil
}

// method searches each clip in the whole library; its hits are the best
// result per reference, so the generic tables score it like locate.
func (e *libraryEval) method(vc *viewCache, viewsDir string, pool *embed.Pool) method {
	m := method{Name: fmt.Sprintf("vidprint search (library of all %d, in-process)", len(references)), Key: "library", applies: always[clip], searches: always[string]}
	m.locate = func(c clip, video string) answer {
		cv, err := vc.views(viewsDir+"/"+c.Name+".gob", video, pool, embed.Options{})
		if err != nil {
			return answer{Err: err.Error()}
		}
		// As vidprint search does: the region view too.
		q := locate.Query{Times: cv.Times, Views: matchViews(cv)}
		t0 := time.Now()
		res, err := search.Search(context.Background(), e.full, q, e.opts)
		if err != nil {
			return answer{Err: err.Error()}
		}
		row := libraryRow{clip: c, seconds: time.Since(t0).Seconds()}
		a := answer{Hits: map[string]hit{}, Seconds: row.seconds}
		right := func(f search.Found) bool {
			return f.Video.Path == c.Ref && math.Abs(f.VideoStart-f.ClipStart*f.Speed-c.Start) <= tol
		}
		row.first = describeFirst(res, right)
		for i, f := range res.Matches {
			h := hit{Score: f.Score, Start: f.VideoStart - f.ClipStart*f.Speed, Speed: f.Speed}
			if old, ok := a.Hits[f.Video.Path]; !ok || h.Score > old.Score {
				a.Hits[f.Video.Path] = h
			}
			if right(f) {
				row.anywhere = true
				row.top1 = row.top1 || i == 0
				row.top1Host = row.top1Host || i == 0 || (i == 1 && c.Host != "" && res.Matches[0].Video.Path == c.Host)
			}
		}
		if !row.top1 {
			ex, err := search.Exhaustive(context.Background(), e.full, e.full.IDs(), q, e.opts)
			if err != nil {
				return answer{Err: err.Error()}
			}
			row.exhaustive = describeFirst(ex, right)
		}
		excluded := []string{c.Ref}
		if c.Host != "" {
			excluded = append(excluded, c.Host)
		}
		lib, err := e.libraryWithout(excluded...)
		if err != nil {
			return answer{Err: err.Error()}
		}
		neg, err := search.Search(context.Background(), lib, q, e.opts)
		if err != nil {
			return answer{Err: err.Error()}
		}
		row.falseHits = len(neg.Matches)
		if len(neg.Matches) > 0 {
			f := neg.Matches[0]
			row.falseFirst = fmt.Sprintf("%s at %.1f s, score %.3f", f.Video.Path, f.VideoStart, f.Score)
		}
		e.rows = append(e.rows, row)
		return a
	}
	return m
}

// markdown is the library section of the report.
func (e *libraryEval) markdown() string {
	if len(e.rows) == 0 {
		return ""
	}
	var b strings.Builder
	codec, _ := rowcodec.NewCodec(e.meta)
	regions := "no region features"
	if rc, _ := rowcodec.NewRegionCodec(e.meta); rc != nil {
		regions = fmt.Sprintf("region features %s, %d bytes a frame", rc.Name(), rc.RowBytes())
	}
	fmt.Fprintf(&b, "\n## Library search\n\n")
	fmt.Fprintf(&b, "Every clip searched with `search.Search` (what `vidprint search` runs) in a library of all %d references, stored with the codec a new library gets (%s, %d bytes a frame; %s), on the clip's cached views. "+
		"Top-1: the first result is the clip's source, with the start within ±%.1f s (for pip and inset clips the host may come first). "+
		"Negatives: the same clip searched in the library without its source (and host); any result is a false positive. "+
		"A negative here is one per clip (254), where locate's table above counts one per clip and other reference (1,996): the same false matches weigh about eight times more.\n\n",
		len(references), codec.Name(), codec.RowBytes(), regions, tol)
	type tally struct{ n, top1, top1Host, anywhere, negOK int }
	by := map[string]*tally{}
	all := &tally{}
	var secs []float64
	for _, r := range e.rows {
		t := by[r.clip.Transform]
		if t == nil {
			t = &tally{}
			by[r.clip.Transform] = t
		}
		for _, x := range []*tally{t, all} {
			x.n++
			x.top1 += b2i(r.top1)
			x.top1Host += b2i(r.top1Host)
			x.anywhere += b2i(r.anywhere)
			x.negOK += b2i(r.falseHits == 0)
		}
		secs = append(secs, r.seconds)
	}
	pct := func(a, n int) string { return fmt.Sprintf("%.1f%% (%d/%d)", 100*float64(a)/float64(max(n, 1)), a, n) }
	b.WriteString("| transformation | n | top-1 correct | top-1, host allowed first | source anywhere in the results | negatives rejected |\n|---|---|---|---|---|---|\n")
	for _, tr := range transforms {
		t := by[tr]
		if t == nil {
			continue
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s |\n", tr, t.n, pct(t.top1, t.n), pct(t.top1Host, t.n), pct(t.anywhere, t.n), pct(t.negOK, t.n))
	}
	fmt.Fprintf(&b, "| **all** | %d | %s | %s | %s | %s |\n\n", all.n, pct(all.top1, all.n), pct(all.top1Host, all.n), pct(all.anywhere, all.n), pct(all.negOK, all.n))
	sort.Float64s(secs)
	fmt.Fprintf(&b, "Search time per clip (views given; make bench times embedding them): p50 %.0f ms, p95 %.0f ms.\n\n",
		1000*secs[len(secs)/2], 1000*secs[min(len(secs)-1, len(secs)*95/100)])
	var missed []string
	for _, r := range e.rows {
		if !r.top1 {
			missed = append(missed, fmt.Sprintf("- %s (%s at %.1f s): %s; exhaustive: %s", r.clip.Name, r.clip.Ref, r.clip.Start, r.first, r.exhaustive))
		}
	}
	if len(missed) > 0 {
		fmt.Fprintf(&b, "Not first at the right start (%d):\n\n%s\n\n", len(missed), strings.Join(missed, "\n"))
	}
	var fps []string
	for _, r := range e.rows {
		if r.falseHits > 0 {
			fps = append(fps, fmt.Sprintf("- %s: %s", r.clip.Name, r.falseFirst))
		}
	}
	if len(fps) > 0 {
		fmt.Fprintf(&b, "False positives in the library without the source (%d):\n\n%s\n", len(fps), strings.Join(fps, "\n"))
	}
	return b.String()
}

// describeFirst says what a search put first, and how close its best
// alignment came when it found nothing.
func describeFirst(res search.Results, right func(search.Found) bool) string {
	if len(res.Matches) > 0 {
		f := res.Matches[0]
		verdict := "wrong"
		if right(f) {
			verdict = "right"
		}
		return fmt.Sprintf("%s, %s at %.1f s (%s, score %.3f)", verdict, f.Video.Path, f.VideoStart-f.ClipStart*f.Speed, f.View, f.Score)
	}
	if b := res.Best; b.Samples > 0 {
		return fmt.Sprintf("nothing; best %s at %.1f s over %.1f s of clip (%s), score %.3f, consistency %.2f, lead %.3f",
			b.Video.Path, b.VideoStart-b.ClipStart*b.Speed, b.ClipEnd-b.ClipStart, b.View, b.Score, b.Consistency, b.Lead)
	}
	return "nothing"
}

func b2i(v bool) int {
	if v {
		return 1
	}
	return 0
}
