package main

import (
	"context"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/vidprint/vidprint/eval/codec"
	"github.com/vidprint/vidprint/internal/assets"
	"github.com/vidprint/vidprint/internal/embed"
	"github.com/vidprint/vidprint/internal/fsutil"
	"github.com/vidprint/vidprint/internal/locate"
	"github.com/vidprint/vidprint/internal/match"
	"github.com/vidprint/vidprint/internal/model"
	"github.com/vidprint/vidprint/internal/view"
	"github.com/vidprint/vidprint/internal/vprint"
)

// cachedViews are a clip's query views, kept so that tuning the matcher
// does not embed every clip again.
type cachedViews struct {
	Times []float64
	Views []match.View
	// Specs name the view specs embedded, including those that gave no view
	// (an inset view where none was found); empty in older caches, whose
	// specs are their views.
	Specs []string
	// PixelsVersion is the pictures' version (picturesVersion); older
	// pictures are taken again.
	PixelsVersion int
}

// picturesVersion names how views' pictures are made: bump it when
// embed's pictures change (2: from the half-size grey plane).
const picturesVersion = 2

// inprocMethod runs the matcher in this process on cached clip views, with
// the options of this build, for tuning (-inproc). The reported run uses
// the binary. Every candidate, not only the matches, goes to dump as one
// JSON line per clip and reference.
//
// With a codec (-inproc-codec, a developer option), the references are
// searched as a video library would store them: every row encoded and
// decoded back (cd.K dimensions), and the clip's views projected with the
// same basis (and quantized too when the codec says so).
//
// With refCentre > 0 (-ref-centre, a developer option), each reference is
// also searched through a centre crop of that fraction of its frame, with
// the clip's whole-frame views: a measure of what reference-side views
// would add for cropped copies, embedded from dataDir and cached beside
// the reference prints.
//
// With a region codec as well (rcd, -inproc-region-codec), the references'
// regions are stored by it quarter by quarter and the clip's region view
// projected by it, as a library would keep regions.
func inprocMethod(vc *viewCache, viewsDir string, refPrints map[string]string, opts match.Options, dump *json.Encoder, cd, rcd *codec.Codec, refCentre float64, dataDir string) (method, func(), error) {
	m := method{Name: "vidprint (in-process)", Key: "inproc", applies: always[clip], searches: always[string]}
	if cd != nil {
		m.Name = fmt.Sprintf("in-process, %s (%d B/frame)", cd.Name, cd.BytesPerRow())
		m.Key = "inproc-" + cd.Name
	}
	if cd != nil && rcd != nil {
		m.Name += fmt.Sprintf(", regions %s (4 x %d B/frame)", rcd.Name, rcd.BytesPerRow())
		m.Key += "+" + rcd.Name
	}
	res, err := defaultModel()
	if err != nil {
		return m, nil, err
	}
	pool := embed.Load(res, 1, model.SessionOptions{Threads: 1, Batch: 1})
	refs := map[string]locate.Target{}
	for name, path := range refPrints {
		p, err := vprint.ReadFile(path)
		if err != nil {
			return m, nil, err
		}
		t := locate.PrintTarget(p)
		if cd != nil {
			if p.Dim != cd.In {
				return m, nil, fmt.Errorf("%s: %d dimensions, codec %s takes %d", path, p.Dim, cd.Name, cd.In)
			}
			// A codec's projection has regions only with a region codec.
			t.Rows, t.Dim = cd.Stored(p.Features), cd.K
			t.Regions = nil
			if rcd != nil && p.HasQuarters() {
				t.Regions, t.RegionDim = rcd.Stored(p.RegionFeatures), p.Regions*rcd.K
			}
		}
		refs[name] = t
	}
	centreRefs := map[string]locate.Target{}
	if refCentre > 0 {
		for _, ref := range references {
			r, err := centreReference(refPrints[ref.Name], dataDir, ref, refCentre, pool)
			if err != nil {
				return m, nil, err
			}
			centreRefs[ref.Name] = r
		}
	}
	if err := os.MkdirAll(viewsDir, 0o755); err != nil {
		return m, nil, err
	}
	all := opts
	all.Threshold = -1
	m.locate = func(c clip, video string) answer {
		t0 := time.Now()
		cv, err := vc.views(filepath.Join(viewsDir, c.Name+".gob"), video, pool, embed.Options{})
		if err != nil {
			return answer{Err: err.Error()}
		}
		if cd == nil || rcd != nil {
			cv.Views = matchViews(cv)
		}
		if cd != nil {
			views := make([]match.View, len(cv.Views))
			for i, v := range cv.Views {
				c := cd
				if v.Regions {
					c = rcd
				}
				views[i] = match.View{Name: v.Name, Features: c.Query(v.Features), Regions: v.Regions}
			}
			cv.Views = views
		}
		a := answer{Hits: map[string]hit{}}
		for _, ref := range references {
			got, err := locate.Locate(context.Background(), refs[ref.Name], locate.Query{Times: cv.Times, Views: cv.Views}, locate.Options{Match: all})
			if err != nil {
				return answer{Err: err.Error()}
			}
			if cr, ok := centreRefs[ref.Name]; ok {
				// Named as in the main search, so that they also get
				// their self-centred variants.
				var whole []match.View
				for _, v := range cv.Views {
					if v.Name.Whole() {
						whole = append(whole, v)
					}
				}
				more, err := locate.Locate(context.Background(), cr, locate.Query{Times: cv.Times, Views: whole}, locate.Options{Match: all})
				if err != nil {
					return answer{Err: err.Error()}
				}
				for _, mt := range more.Matches {
					mt.View += "@centre"
					got.Matches = append(got.Matches, mt)
				}
			}
			if dump != nil {
				dump.Encode(map[string]any{"clip": c.Name, "transform": c.Transform, "src": c.Ref, "ref": ref.Name,
					"host": c.Host, "truth": c.Start, "matches": got.Matches, "curve": got.Curve})
			}
			for _, mt := range got.Matches {
				if !match.Accepted(mt, opts.Threshold) {
					continue
				}
				h := hit{Score: mt.Score, Start: mt.VideoStart - mt.ClipStart*mt.Speed, Speed: mt.Speed}
				if old, ok := a.Hits[ref.Name]; !ok || h.Score > old.Score {
					a.Hits[ref.Name] = h
				}
			}
		}
		a.Seconds = time.Since(t0).Seconds()
		return a
	}
	return m, pool.Close, nil
}

// matchViews makes the clip's cached views into what match searches,
// region views included (locate.Views), as vidprint locate does.
func matchViews(cv cachedViews) []match.View {
	views := make([]embed.ViewFeatures, len(cv.Views))
	for i, v := range cv.Views {
		views[i] = embed.ViewFeatures{Name: v.Name, Features: v.Features, Pixels: v.Pixels}
	}
	return locate.Views(views, len(cv.Times))
}

// centreReference is a reference's centre crop (frac of its width and
// height), embedded once and cached beside its print.
func centreReference(printPath, dataDir string, ref reference, frac float64, pool *embed.Pool) (locate.Target, error) {
	cache := filepath.Join(filepath.Dir(printPath), fmt.Sprintf("%s.centre%g.gob", ref.Name, frac))
	cv, err := readViews(cache)
	if errors.Is(err, fs.ErrNotExist) {
		margin := (1 - frac) / 2
		times, views, err := embed.Views(context.Background(), filepath.Join(dataDir, ref.File), pool, embed.Options{},
			[]view.Spec{{Name: "centre", X: margin, Y: margin, W: frac, H: frac}})
		if err != nil {
			return locate.Target{}, fmt.Errorf("embed %s: %w", ref.File, err)
		}
		cv = cachedViews{Times: times, Views: []match.View{{Name: "centre", Features: views[0].Features}}}
		if err := writeViews(cache, cv); err != nil {
			return locate.Target{}, err
		}
	} else if err != nil {
		return locate.Target{}, err
	}
	if len(cv.Views) != 1 || len(cv.Times) == 0 || len(cv.Views[0].Features)%len(cv.Times) != 0 {
		return locate.Target{}, fmt.Errorf("%s: not a centre view cache (delete it)", cache)
	}
	f := cv.Views[0].Features
	return locate.Target{Times: cv.Times, Rows: f, Dim: len(f) / len(cv.Times), FPS: vprint.DefaultFPS}, nil
}

// defaultModel is the catalogue's default model, with ONNX Runtime ready:
// what embeds clip views not cached yet.
func defaultModel() (model.Resolved, error) {
	dirs := assets.Default()
	if err := model.InitRuntime(dirs.ORTLibrary()); err != nil {
		return model.Resolved{}, err
	}
	return model.Resolve(dirs.ModelsDir(), model.Default, "")
}

// viewCache reads and fills the cache files of clip views.
type viewCache struct {
	// refresh names views to embed again (-reembed), once per file in a
	// run, whichever method asks first.
	refresh   map[string]bool
	mu        sync.Mutex
	refreshed map[string]bool // cache files already refreshed
}

// views reads a clip's (or, with eo.AllowStill, an image's) cached views,
// embedding the query views the cache lacks (all of them without a cache,
// or when the clip is newer).
func (vc *viewCache) views(cache, video string, pool *embed.Pool, eo embed.Options) (cachedViews, error) {
	cv, err := readViews(cache)
	if err != nil || !newer(cache, video) {
		cv = cachedViews{}
	}
	if len(cv.Specs) == 0 {
		for _, v := range cv.Views {
			cv.Specs = append(cv.Specs, string(v.Name))
		}
	}
	vc.mu.Lock()
	if len(vc.refresh) > 0 && !vc.refreshed[cache] {
		if vc.refreshed == nil {
			vc.refreshed = map[string]bool{}
		}
		vc.refreshed[cache] = true
		cv.Views = slices.DeleteFunc(cv.Views, func(v match.View) bool { return vc.refresh[string(v.Name)] })
		cv.Specs = slices.DeleteFunc(cv.Specs, func(name string) bool { return vc.refresh[name] })
	}
	vc.mu.Unlock()
	var missing []view.Spec
	for _, s := range view.Query() {
		if !slices.Contains(cv.Specs, string(s.Name)) {
			missing = append(missing, s)
		}
	}
	if len(missing) == 0 {
		// Caches from before the pixel check lack the views' pictures:
		// they come from a decoding pass without the model.
		if cv.PixelsVersion == picturesVersion && !slices.ContainsFunc(queried(cv).Views, func(v match.View) bool { return v.Pixels == nil }) {
			return queried(cv), nil
		}
		times, views, err := embed.ViewPixels(context.Background(), video, pool, eo, view.Query())
		if err != nil {
			return cv, fmt.Errorf("pictures of %s: %w", video, err)
		}
		if len(times) != len(cv.Times) {
			return cv, fmt.Errorf("pictures of %s: %d samples, %d cached", video, len(times), len(cv.Times))
		}
		for i, v := range cv.Views {
			cv.Views[i].Pixels = nil
			for _, pv := range views {
				if pv.Name == v.Name {
					cv.Views[i].Pixels, cv.Views[i].PixelWidth, cv.Views[i].PixelHeight = pv.Pixels, embed.PixelWidth, embed.PixelHeight
				}
			}
		}
		cv.PixelsVersion = picturesVersion
		return queried(cv), writeViews(cache, cv)
	}
	times, views, err := embed.Views(context.Background(), video, pool, eo, missing)
	if err != nil {
		return cv, fmt.Errorf("embed %s: %w", video, err)
	}
	if cv.Times != nil && len(times) != len(cv.Times) {
		return cv, fmt.Errorf("embed %s: %d samples, %d cached", video, len(times), len(cv.Times))
	}
	cv.Times = times
	for _, v := range views {
		cv.Views = append(cv.Views, match.View{Name: v.Name, Features: v.Features, Pixels: v.Pixels, PixelWidth: embed.PixelWidth, PixelHeight: embed.PixelHeight})
	}
	for _, s := range missing {
		cv.Specs = append(cv.Specs, string(s.Name))
	}
	if len(missing) == len(view.Query()) {
		cv.PixelsVersion = picturesVersion // every view's pictures are new
	}
	return queried(cv), writeViews(cache, cv)
}

// readViews reads a cache file of views.
func readViews(cache string) (cachedViews, error) {
	var cv cachedViews
	f, err := os.Open(cache)
	if err != nil {
		return cv, err
	}
	defer f.Close()
	if err := gob.NewDecoder(f).Decode(&cv); err != nil {
		return cachedViews{}, fmt.Errorf("read %s: %w", cache, err)
	}
	return cv, nil
}

// writeViews writes a cache file of views atomically.
func writeViews(cache string, cv cachedViews) error {
	return fsutil.WriteAtomic(cache, func(w io.Writer) error { return gob.NewEncoder(w).Encode(cv) })
}

// queried keeps the views this build queries with: a cache may hold views
// an experiment added.
func queried(cv cachedViews) cachedViews {
	cv.Views = slices.DeleteFunc(slices.Clone(cv.Views), func(v match.View) bool {
		return !slices.ContainsFunc(view.Query(), func(s view.Spec) bool { return s.Name == v.Name })
	})
	return cv
}
