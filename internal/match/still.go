package match

import (
	"math"
	"slices"
)

// Placing a still image. Features tell which video a frame comes from far
// better than when: in nearly still footage (a tree, a title card, a
// person talking) the frames of a minute look alike to them. The video's
// thumbnails (one a second) place the image by its pixels instead, within
// a second of the truth far more often than the features do
// (docs/locate.md, "Still images").
const (
	// StillPixelFloor is the least agreement with its best thumbnail at
	// which an image is placed by pixels: under it, no thumbnail shows the
	// frame (fast motion between two thumbnails, a cropped screenshot) and
	// the features place it. A thumbnail that shows the image's frame
	// agrees by 0.9 or more; where only the features place an image
	// right, its best thumbnail agrees by about 0.7.
	StillPixelFloor = 0.9
	// StillFeatureGate: only thumbnails of samples whose features (or a
	// neighbour's, within stillReach) come within StillFeatureGate of the
	// video's best may place an image, so that a picture repeated where
	// the video shows something else does not. The true sample comes
	// within about 0.22 of the best, so this gate turns away no right
	// placement.
	StillFeatureGate = 0.3
	stillReach       = 2
)

// placeStill places a one-sample match by the pixels of its view's picture
// against every thumbnail of the reference, where one agrees by
// StillPixelFloor or more. VideoStart becomes the best thumbnail's time.
// The alike span covers every thumbnail that ties with it: within the
// best's own distance from a perfect 1, so that in still footage, where
// thumbnails seconds apart agree to the fourth decimal and the best is
// chance, the span says so. Each is widened by half the thumbnails'
// interval, the stretch its thumbnail stands for. sims are the view's
// similarity with every sample.
func (r *Reference) placeStill(m *Match, sims []float64) {
	t := r.thumbs
	v := m.view
	if t == nil || v == nil || v.pixels == nil || len(v.pixels) < v.pw*v.ph || len(sims) != r.n {
		return
	}
	image := renderWhole(v.pixels[:v.pw*v.ph], v.pw, v.ph, t.w, t.h, false)
	mirrored := renderWhole(v.pixels[:v.pw*v.ph], v.pw, v.ph, t.w, t.h, true)
	gate := slices.Max(sims) - StillFeatureGate
	var samples []int
	var agree, agreeMirrored []float64
	vals := make([]float64, t.w*t.h)
	for j := t.first; j < r.n; j += t.every {
		th := t.thumb(j)
		if th == nil {
			break
		}
		samples = append(samples, j)
		if !featuresNear(sims, j, gate) {
			agree, agreeMirrored = append(agree, math.Inf(-1)), append(agreeMirrored, math.Inf(-1))
			continue
		}
		for i, p := range th {
			vals[i] = float64(p)
		}
		agree = append(agree, ncc(image, vals))
		agreeMirrored = append(agreeMirrored, ncc(mirrored, vals))
	}
	if len(agree) == 0 {
		return
	}
	// The view's picture may be mirrored from the video (the flip view,
	// whose features may still win by chance for an image that is not):
	// the other orientation places it, and names the view, only where it
	// agrees clearly better, beyond a tie.
	mirror := false
	if top, plain := slices.Max(agreeMirrored), slices.Max(agree); top-plain > 1-top {
		agree, mirror = agreeMirrored, true
	}
	best := 0
	for k, a := range agree {
		if a > agree[best] {
			best = k
		}
	}
	top := agree[best]
	if !(top >= StillPixelFloor) {
		return
	}
	first, last := best, best
	for k, a := range agree {
		if a >= top-(1-top) {
			first, last = min(first, k), max(last, k)
		}
	}
	half := float64(t.every) / (2 * r.fps)
	when := r.times[samples[best]]
	m.VideoEnd += when - m.VideoStart
	m.VideoStart = when
	m.AlikeStart = max(r.times[0], r.times[samples[first]]-half)
	m.AlikeEnd = min(r.times[r.n-1], r.times[samples[last]]+half)
	m.Pixels, m.placedByPixels = top, true
	if mirror {
		m.View = m.View.Mirrored()
	}
}

// featuresNear tells whether sample j, or one within stillReach of it, is
// as similar as gate or more.
func featuresNear(sims []float64, j int, gate float64) bool {
	for _, s := range sims[max(0, j-stillReach):min(len(sims), j+stillReach+1)] {
		if s >= gate {
			return true
		}
	}
	return false
}

// renderWhole averages a w x h picture, mirrored or not, down to tw x th,
// each cell the exact mean of the picture pixels it covers (fractional
// edges included), as the pixel check renders a whole-frame view.
func renderWhole(px []byte, w, h, tw, th int, mirror bool) []float64 {
	xs := boxWeights(tw, w, float64(w)/float64(tw), 0)
	ys := boxWeights(th, h, float64(h)/float64(th), 0)
	out := make([]float64, 0, tw*th)
	for _, sy := range ys {
		for _, sx := range xs {
			if !sx.ok || !sy.ok {
				out = append(out, math.NaN())
				continue
			}
			out = append(out, cellMean(px, w, sx, sy, mirror))
		}
	}
	return out
}
