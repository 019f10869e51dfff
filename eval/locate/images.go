package main

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/vidprint/vidprint/internal/embed"
	"github.com/vidprint/vidprint/internal/locate"
	"github.com/vidprint/vidprint/internal/match"
	"github.com/vidprint/vidprint/internal/search"
)

// stillImage is a frame grabbed from a reference and altered as a
// screenshot would be: scaled and JPEG-compressed.
type stillImage struct {
	Name    string
	Ref     string
	File    string
	Time    float64 // the frame's presentation time: the truth
	Scale   float64 // of the frame's width and height
	Quality int     // ffmpeg's -q:v for MJPEG: 2 (best) to 31
}

// imageScales and imageQualities are drawn uniformly per image. -q:v 3, 5
// and 7 are about JPEG quality 90, 80 and 70.
var (
	imageScales    = []float64{0.25, 0.5, 0.75}
	imageQualities = []int{3, 5, 7}
)

// planImages draws n images, round-robin over the references, each at a
// random frame (not the last), with its own random stream.
func planImages(seed int64, n int, info map[string]media) ([]stillImage, error) {
	var out []stillImage
	for i := range n {
		ref := references[i%len(references)]
		src := info[ref.File]
		if len(src.Frames) < 2 {
			return nil, fmt.Errorf("%s: no frames probed", ref.File)
		}
		h := fnv.New64a()
		fmt.Fprintf(h, "image/%d", i)
		rng := rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
		out = append(out, stillImage{
			Name: fmt.Sprintf("image-%03d-%s", i+1, ref.Name), Ref: ref.Name, File: ref.File,
			Time:    src.Frames[rng.IntN(len(src.Frames)-1)],
			Scale:   imageScales[rng.IntN(len(imageScales))],
			Quality: imageQualities[rng.IntN(len(imageQualities))],
		})
	}
	return out, nil
}

// ensureImage grabs the image once. An input seek a millisecond before the
// frame's time keeps exactly that frame (as for clips).
func (g *generator) ensureImage(dir string, im stillImage) (string, error) {
	path := filepath.Join(dir, fmt.Sprintf("%s-t%.3f-s%g-q%d.jpg", im.Name, im.Time, im.Scale, im.Quality))
	if exists(path) {
		return path, nil
	}
	tmp := path + ".tmp.jpg"
	scale := fmt.Sprintf("scale=trunc(iw*%g/2)*2:trunc(ih*%g/2)*2", im.Scale, im.Scale)
	src := filepath.Join(g.data, im.File)
	if err := run("ffmpeg", "-nostdin", "-v", "error", "-y", "-ss", seconds(math.Max(0, im.Time-0.001)), "-i", src,
		"-frames:v", "1", "-vf", scale, "-q:v", fmt.Sprint(im.Quality), tmp); err != nil {
		// Some files (the screencast's WebM) do not seek cleanly on input:
		// decode from the start instead.
		if err := run("ffmpeg", "-nostdin", "-v", "error", "-y", "-i", src, "-ss", seconds(math.Max(0, im.Time-0.001)),
			"-frames:v", "1", "-vf", scale, "-q:v", fmt.Sprint(im.Quality), tmp); err != nil {
			return "", fmt.Errorf("grab %s at %.3f s: %w", im.File, im.Time, err)
		}
	}
	return path, os.Rename(tmp, path)
}

// images searches every image in the whole library and reports how many
// find their video with the start within ±1 s, by reference, scale and
// quality.
// Their views are cached in viewsDir, whose name changes with the views.
func (e *libraryEval) images(vc *viewCache, g *generator, dir, viewsDir string, ims []stillImage, pool *embed.Pool, logf func(string, ...any)) (string, error) {
	for _, d := range []string{dir, viewsDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", err
		}
	}
	type row struct {
		im      stillImage
		ok, any bool
		video   bool // the first result is the right video, at any time
		// alike: the first result is the right video, and the truth lies
		// within its span of alike frames (±1 s); span is that span's
		// length.
		alike   bool
		span    float64
		got     string
		seconds float64
		// falseHit is the first result in the library without the image's
		// video, "" when nothing is found there (rightly).
		falseHit, falseRef string
		// alone: found in a library of its video alone (what locate does
		// with the image and the video), and the time within ±1 s or
		// within the alike span (aloneTime).
		alone, aloneTime bool
	}
	var rows []row
	for i, im := range ims {
		path, err := g.ensureImage(dir, im)
		if err != nil {
			return "", err
		}
		cv, err := vc.views(filepath.Join(viewsDir, strings.TrimSuffix(filepath.Base(path), ".jpg")+".gob"), path, pool, embed.Options{AllowStill: true})
		if err != nil {
			return "", err
		}
		t0 := time.Now()
		res, err := search.Search(context.Background(), e.full, locate.Query{Times: cv.Times, Views: cv.Views}, e.opts)
		if err != nil {
			return "", err
		}
		r := row{im: im, seconds: time.Since(t0).Seconds(), got: "nothing"}
		for k, f := range res.Matches {
			right := f.Video.Path == im.Ref && math.Abs(f.VideoStart-im.Time) <= 1
			// Among the results, a result's alike span counts: search
			// lists no other time of the video within it.
			inSpan := f.Video.Path == im.Ref && im.Time >= f.AlikeStart-1 && im.Time <= f.AlikeEnd+1
			if k == 0 {
				r.ok = right
				r.video = f.Video.Path == im.Ref
				r.alike = r.video && im.Time >= f.AlikeStart-1 && im.Time <= f.AlikeEnd+1
				r.span = f.AlikeEnd - f.AlikeStart
				r.got = fmt.Sprintf("%s at %.1f s (%s, %.3f%s)", f.Video.Path, f.VideoStart, f.View, f.Score, pixelNote(f.Match))
			}
			r.any = r.any || right || inSpan
		}
		// searchWithout searches the image in the library less the named
		// references.
		searchWithout := func(names ...string) (search.Results, error) {
			lib, err := e.libraryWithout(names...)
			if err != nil {
				return search.Results{}, err
			}
			return search.Search(context.Background(), lib, locate.Query{Times: cv.Times, Views: cv.Views}, e.opts)
		}
		neg, err := searchWithout(im.Ref)
		if err != nil {
			return "", err
		}
		if len(neg.Matches) > 0 {
			f := neg.Matches[0]
			r.falseRef = f.Video.Path
			r.falseHit = fmt.Sprintf("%s at %.1f s (%s, %.3f%s)", f.Video.Path, f.VideoStart, f.View, f.Score, pixelNote(f.Match))
		}
		one, err := searchWithout(slices.DeleteFunc(referenceNames(), func(n string) bool { return n == im.Ref })...)
		if err != nil {
			return "", err
		}
		if len(one.Matches) > 0 {
			f := one.Matches[0]
			r.alone = true
			r.aloneTime = math.Abs(f.VideoStart-im.Time) <= 1 || im.Time >= f.AlikeStart-1 && im.Time <= f.AlikeEnd+1
		}
		rows = append(rows, r)
		logf("image %3d/%d %-24s truth %6.2f s  %s", i+1, len(ims), im.Name, im.Time, r.got)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n## Image queries\n\n%d still images, round-robin over the references: each a random frame, scaled to %v of its size and saved as JPEG at ffmpeg -q:v %v (about quality 90, 80, 70), drawn at random. "+
		"Each is searched in the library of all references as a one-sample clip (search uses its whole-frame views, plain and mirrored). Correct: the first result is its video, with the time within ±1 s.\n\n",
		len(ims), imageScales, imageQualities)
	type tally struct {
		n, ok, any, video, alike int
		spans                    []float64
	}
	add := func(m map[string]*tally, k string, r row) {
		t := m[k]
		if t == nil {
			t = &tally{}
			m[k] = t
		}
		t.n++
		t.ok += b2i(r.ok)
		t.any += b2i(r.any)
		t.video += b2i(r.video)
		t.alike += b2i(r.alike)
		if r.video {
			t.spans = append(t.spans, r.span)
		}
	}
	byRef, bySetting := map[string]*tally{}, map[string]*tally{}
	all := &tally{}
	var secs []float64
	for _, r := range rows {
		add(byRef, r.im.Ref, r)
		add(bySetting, fmt.Sprintf("scale %g, -q:v %d", r.im.Scale, r.im.Quality), r)
		all.n++
		all.ok += b2i(r.ok)
		all.any += b2i(r.any)
		all.video += b2i(r.video)
		all.alike += b2i(r.alike)
		if r.video {
			all.spans = append(all.spans, r.span)
		}
		secs = append(secs, r.seconds)
	}
	pct := func(t *tally) string {
		span := "–"
		if len(t.spans) > 0 {
			sort.Float64s(t.spans)
			span = fmt.Sprintf("%.1f s", t.spans[len(t.spans)/2])
		}
		return fmt.Sprintf("%.1f%% (%d/%d) | %.1f%% | %.1f%% | %.1f%% | %s", 100*float64(t.ok)/float64(t.n), t.ok, t.n, 100*float64(t.any)/float64(t.n),
			100*float64(t.video)/float64(t.n), 100*float64(t.alike)/float64(t.n), span)
	}
	b.WriteString("| reference | correct (first result) | among the results (time or alike span) | right video first, any time | the time within its alike span | median alike span |\n|---|---|---|---|---|---|\n")
	for _, ref := range references {
		if t := byRef[ref.Name]; t != nil {
			fmt.Fprintf(&b, "| %s | %s |\n", ref.Name, pct(t))
		}
	}
	fmt.Fprintf(&b, "| **all** | %s |\n\n", pct(all))
	var keys []string
	for k := range bySetting {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b.WriteString("| alteration | correct (first result) | among the results (time or alike span) | right video first, any time | the time within its alike span | median alike span |\n|---|---|---|---|---|---|\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "| %s | %s |\n", k, pct(bySetting[k]))
	}
	sort.Float64s(secs)
	var alone, aloneTime int
	for _, r := range rows {
		alone += b2i(r.alone)
		aloneTime += b2i(r.aloneTime)
	}
	var rejected, hardN, hardRejected int
	var falseHits []string
	for _, r := range rows {
		hard := slices.ContainsFunc(hardPairs, func(p [2]string) bool { return p[0] == r.im.Ref })
		if hard {
			hardN++
		}
		if r.falseHit == "" {
			rejected++
			hardRejected += b2i(hard)
			continue
		}
		falseHits = append(falseHits, fmt.Sprintf("- %s (%s at %.2f s): %s", r.im.Name, r.im.Ref, r.im.Time, r.falseHit))
	}
	rate := func(k, n int) string { return fmt.Sprintf("%.1f%% (%d/%d)", 100*float64(k)/float64(max(n, 1)), k, n) }
	fmt.Fprintf(&b, "\nNegatives: each image searched in the library without its video; any result is a false positive. "+
		"Rejected: %s; of the images of a video whose other take stays in the library (cap12, cap13: the same person in the same room), %s; of the others, %s.\n",
		rate(rejected, len(rows)), rate(hardRejected, hardN), rate(rejected-hardRejected, len(rows)-hardN))
	fmt.Fprintf(&b, "\nIn a library of its video alone (what locate faces with one video, though locate reads exact features): found %s, with the time within ±1 s or within the alike span %s.\n",
		rate(alone, len(rows)), rate(aloneTime, len(rows)))
	if len(falseHits) > 0 {
		fmt.Fprintf(&b, "\nFalse positives:\n\n%s\n", strings.Join(falseHits, "\n"))
	}
	fmt.Fprintf(&b, "\nSearch time per image (views given): p50 %.0f ms.\n\nMissed:\n\n", 1000*secs[len(secs)/2])
	for _, r := range rows {
		if !r.ok {
			fmt.Fprintf(&b, "- %s (%s at %.2f s, scale %g, -q:v %d): %s\n", r.im.Name, r.im.Ref, r.im.Time, r.im.Scale, r.im.Quality, r.got)
		}
	}
	return b.String(), nil
}

// pixelNote names the pixel agreement of an image placed by its pixels.
func pixelNote(m match.Match) string {
	if !m.PlacedByPixels() {
		return ""
	}
	return fmt.Sprintf(", pixels %.4f", m.Pixels)
}

// referenceNames lists the references' names.
func referenceNames() []string {
	var names []string
	for _, r := range references {
		names = append(names, r.Name)
	}
	return names
}
