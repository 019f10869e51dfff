package match

import (
	"fmt"
	"math"
)

// The pixel check. Features see what a frame shows, not where each thing
// is: a faithful copy of nearly still footage (a tree through a window)
// scales, crops or greys away more than the footage itself changes, and
// another take of the same room looks as much like the video as a copy
// does. A borderline alignment is therefore settled on pixels: the
// reference's tiny grey thumbnails (AddThumbs) against the clip view's
// pictures (View.Pixels), fitted for a crop or a small misplacement of the
// view. With 16x12 thumbnails, one a second, copies agree by about 0.99
// and other takes of the same room by 0.96 at most (docs/locate.md, "Pixel
// check").
const (
	// PixelAgreement is the least pixel agreement (see Match.Pixels) that
	// accepts a borderline alignment.
	PixelAgreement = 0.98
	// PixelBelow and PixelAbove bound the borderline: scores from
	// threshold-PixelBelow up to threshold+PixelAbove are settled by the
	// pixel check where both sides have pictures.
	PixelBelow = 0.12
	PixelAbove = 0.08
	// minPixelPairs is the fewest aligned picture pairs a check needs.
	minPixelPairs = 2
)

// pixelScales are the sizes, relative to the reference's frame, tried for
// the part of it a clip view shows: whole, or cropped by up to 15%.
var pixelScales = []float64{1, 0.95, 0.9, 0.85}

const (
	// coarseStep is the placement grid, in thumbnail pixels, searched
	// first; the best placement is then refined by fineStep and by
	// scaleStep either way.
	coarseStep, fineStep, scaleStep = 0.5, 0.25, 0.025
	// maxPixelPairs bounds the picture pairs compared, spread over the
	// stretch: a dozen seconds tell a copy as surely as a minute.
	maxPixelPairs = 8
	// The coarse grid compares coarsePairs of them; an alignment whose
	// best there is under hopeless (copies reach 0.95 and more) is not
	// refined: most checked alignments are of other footage.
	coarsePairs = 3
	hopeless    = 0.9
)

type thumbs struct {
	w, h, every int
	first       int // the reference sample of the first thumbnail
	pixels      []byte
}

// AddThumbs gives the reference tiny greyscale pictures: thumbnail k (w x h
// bytes of luma, row-major) shows sample first+k*every. A segment of a
// longer video starts its thumbnails where the video's fall in it.
func (r *Reference) AddThumbs(pixels []byte, w, h, every, first int) error {
	switch {
	case w < 1 || h < 1 || every < 1 || first < 0:
		return fmt.Errorf("reference thumbnails: %dx%d every %d from %d", w, h, every, first)
	case len(pixels)%(w*h) != 0:
		return fmt.Errorf("reference thumbnails: %d bytes are not pictures of %dx%d", len(pixels), w, h)
	}
	t := &thumbs{w: w, h: h, every: every, first: first, pixels: pixels}
	r.thumbs = t
	if r.regions != nil {
		r.regions.thumbs = t
	}
	return nil
}

// thumb returns sample j's thumbnail, or nil.
func (t *thumbs) thumb(j int) []byte {
	if t == nil || j < t.first || (j-t.first)%t.every != 0 {
		return nil
	}
	k := (j - t.first) / t.every
	n := t.w * t.h
	if (k+1)*n > len(t.pixels) {
		return nil
	}
	return t.pixels[k*n : (k+1)*n]
}

// pixelAgreement is how well the clip view's pictures of samples a..b match
// the reference's thumbnails of their aligned samples: the mean normalised
// cross-correlation of each pair, at the crop and placement (the same for
// every pair) that fit best, mirrored if that fits better. It is NaN where
// either side lacks pictures or fewer than minPixelPairs samples align
// with one.
func (r *Reference) pixelAgreement(v *queryView, start int, speed float64, a, b int) float64 {
	t := r.thumbs
	if t == nil || v.pixels == nil {
		return math.NaN()
	}
	var aligned [][2]int // clip sample, thumbnail's sample
	for i := a; i <= b; i++ {
		j := start + int(math.Round(float64(i)*speed))
		if t.thumb(j) != nil {
			aligned = append(aligned, [2]int{i, j})
		}
	}
	if len(aligned) < minPixelPairs {
		return math.NaN()
	}
	f := pixelFit{t: t, pw: v.pw, ph: v.ph}
	for k := range min(len(aligned), maxPixelPairs) {
		p := aligned[k*len(aligned)/min(len(aligned), maxPixelPairs)]
		f.clip = append(f.clip, v.pixels[p[0]*v.pw*v.ph:(p[0]+1)*v.pw*v.ph])
		f.ref = append(f.ref, t.thumb(p[1]))
	}
	best := f.search(false)
	if best < PixelAgreement {
		best = max(best, f.search(true))
	}
	return best
}

// pixelFit compares clip pictures with their thumbnails under placements.
type pixelFit struct {
	t        *thumbs
	pw, ph   int
	clip     [][]byte
	ref      [][]byte
	mirror   bool
	rendered []float64 // scratch: a clip picture on the thumbnail grid
	refVals  []float64 // scratch: the thumbnail's values at the same pixels
}

// search returns the best agreement over crops and placements: a coarse
// grid on a few of the pairs, then, unless that is hopeless, a finer grid
// around its best on all of them.
func (f *pixelFit) search(mirror bool) float64 {
	f.mirror = mirror
	few := spread(len(f.clip), coarsePairs)
	best, bs, bx, by := math.Inf(-1), 1.0, 0.0, 0.0
	for _, s := range pixelScales {
		for _, ox := range steps((1-s)*float64(f.t.w), coarseStep) {
			for _, oy := range steps((1-s)*float64(f.t.h), coarseStep) {
				if v := f.agreement(few, s, ox, oy); v > best {
					best, bs, bx, by = v, s, ox, oy
				}
			}
		}
	}
	if best < hopeless {
		return best
	}
	all := spread(len(f.clip), len(f.clip))
	best = math.Inf(-1)
	for _, s := range []float64{bs - scaleStep, bs, bs + scaleStep} {
		if s > 1 || s < pixelScales[len(pixelScales)-1]-scaleStep {
			continue
		}
		for dx := -1.0; dx <= 1; dx++ {
			for dy := -1.0; dy <= 1; dy++ {
				ox, oy := bx+dx*fineStep, by+dy*fineStep
				if ox < 0 || oy < 0 || ox > (1-s)*float64(f.t.w)+1e-9 || oy > (1-s)*float64(f.t.h)+1e-9 {
					continue
				}
				best = max(best, f.agreement(all, s, ox, oy))
			}
		}
	}
	return best
}

// spread picks k of n indices, evenly spread, first and last included.
func spread(n, k int) []int {
	k = min(k, n)
	out := make([]int, k)
	for i := range out {
		if k > 1 {
			out[i] = i * (n - 1) / (k - 1)
		}
	}
	return out
}

// steps spreads points from 0 to span at most step apart, both ends
// included.
func steps(span, step float64) []float64 {
	n := int(math.Ceil(span/step - 1e-9))
	out := make([]float64, n+1)
	for k := range out {
		if n > 0 {
			out[k] = span * float64(k) / float64(n)
		}
	}
	return out
}

// agreement is the mean correlation of the pairs picked with the clip's
// picture covering a share s of the frame, its corner at ox, oy thumbnail
// pixels.
func (f *pixelFit) agreement(picked []int, s, ox, oy float64) float64 {
	xs := boxWeights(f.t.w, f.pw, float64(f.pw)/(s*float64(f.t.w)), ox)
	ys := boxWeights(f.t.h, f.ph, float64(f.ph)/(s*float64(f.t.h)), oy)
	var sum float64
	for _, k := range picked {
		f.render(f.clip[k], f.ref[k], xs, ys)
		sum += ncc(f.rendered, f.refVals)
	}
	return sum / float64(len(picked))
}

// span is a thumbnail pixel's extent along one axis of the clip picture:
// clip pixels lo.. with their overlaps; ok is false for a thumbnail pixel
// not wholly inside the picture.
type span struct {
	ok      bool
	lo      int
	weights []float64
	length  float64
}

// boxWeights maps each of cells thumbnail pixels (at offset off, each
// scale clip pixels long) onto a clip axis of n pixels.
func boxWeights(cells, n int, scale, off float64) []span {
	out := make([]span, cells)
	for c := range out {
		x0, x1 := (float64(c)-off)*scale, (float64(c+1)-off)*scale
		if x0 < -1e-9 || x1 > float64(n)+1e-9 {
			continue
		}
		x0, x1 = max(x0, 0), min(x1, float64(n))
		sp := span{ok: true, lo: int(x0), length: x1 - x0}
		for x := sp.lo; x < n && float64(x) < x1; x++ {
			sp.weights = append(sp.weights, min(x1, float64(x+1))-max(x0, float64(x)))
		}
		out[c] = sp
	}
	return out
}

// render puts the clip picture's exact means over the thumbnail pixels
// inside it in f.rendered, and those pixels' values in f.refVals.
func (f *pixelFit) render(px, ref []byte, xs, ys []span) {
	f.rendered, f.refVals = f.rendered[:0], f.refVals[:0]
	for v, sy := range ys {
		if !sy.ok {
			continue
		}
		for u, sx := range xs {
			if !sx.ok {
				continue
			}
			f.rendered = append(f.rendered, cellMean(px, f.pw, sx, sy, f.mirror))
			f.refVals = append(f.refVals, float64(ref[v*f.t.w+u]))
		}
	}
}

// cellMean is the exact mean of the picture px, pw pixels wide (mirrored
// or not), over one thumbnail pixel whose extent along each axis is sx and
// sy, fractional edges weighted by their overlap.
func cellMean(px []byte, pw int, sx, sy span, mirror bool) float64 {
	var sum float64
	for dy, wy := range sy.weights {
		row := px[(sy.lo+dy)*pw : (sy.lo+dy+1)*pw]
		var line float64
		for dx, wx := range sx.weights {
			x := sx.lo + dx
			if mirror {
				x = pw - 1 - x
			}
			line += wx * float64(row[x])
		}
		sum += wy * line
	}
	return sum / (sx.length * sy.length)
}

// ncc is the normalised cross-correlation of a and b; 0 where either is
// flat, which tells nothing.
func ncc(a, b []float64) float64 {
	if len(a) < 2 {
		return 0
	}
	var ma, mb float64
	for i := range a {
		ma += a[i]
		mb += b[i]
	}
	ma /= float64(len(a))
	mb /= float64(len(b))
	var ab, aa, bb float64
	for i := range a {
		da, db := a[i]-ma, b[i]-mb
		ab += da * db
		aa += da * da
		bb += db * db
	}
	if aa < 1e-9 || bb < 1e-9 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}
