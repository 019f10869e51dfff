package match

import (
	"math"

	"github.com/vidprint/vidprint/internal/vecmath"
)

// consistency is the share of clip samples a..b whose most similar video
// sample within consistencyWindow of the aligned one is the aligned one or
// its neighbour, each side centred by its own mean over the stretch. A copy
// follows the video frame by frame; another take of the same scene
// resembles it, but its best frames fall anywhere. It also returns the
// lead (Match.Lead): the mean of the aligned samples' cosine less the best
// of the others', each clip sample's deviation scaled to unit length.
func (r *Reference) consistency(v *queryView, start int, speed float64, a, b int) (float64, float64) {
	dim := r.dim
	xm, ym := make([]float32, dim), make([]float32, dim)
	k := 0
	for i := a; i <= b; i++ {
		j := start + int(math.Round(float64(i)*speed))
		if j < 0 || j >= r.n {
			continue
		}
		add(xm, v.raw[i*dim:(i+1)*dim])
		add(ym, r.raw[j*dim:(j+1)*dim])
		k++
	}
	if k == 0 {
		return 0, 0
	}
	inv := 1 / float32(k)
	for d := range xm {
		xm[d] *= inv
		ym[d] *= inv
	}
	lo, hi := max(0, start+int(math.Round(float64(a)*speed))-consistencyWindow), min(r.n-1, start+int(math.Round(float64(b)*speed))+consistencyWindow)
	// Each video sample's deviation, and its length, once.
	dev := make([]float32, (hi-lo+1)*dim)
	norm := make([]float64, hi-lo+1)
	for j := lo; j <= hi; j++ {
		row := dev[(j-lo)*dim : (j-lo+1)*dim]
		var ss float64
		for d, y := range r.raw[j*dim : (j+1)*dim] {
			row[d] = y - ym[d]
			ss += float64(row[d]) * float64(row[d])
		}
		norm[j-lo] = math.Sqrt(ss)
	}
	x := make([]float32, dim)
	hits, total := 0, 0
	msum, mn := 0.0, 0
	for i := a; i <= b; i++ {
		ji := start + int(math.Round(float64(i)*speed))
		if ji < 0 || ji >= r.n {
			continue
		}
		var xs float64
		for d, xv := range v.raw[i*dim : (i+1)*dim] {
			x[d] = xv - xm[d]
			xs += float64(x[d]) * float64(x[d])
		}
		best, bestJ := math.Inf(-1), -1
		near, far := math.Inf(-1), math.Inf(-1)
		xn := math.Sqrt(xs) + 1e-12
		for j := max(lo, ji-consistencyWindow); j <= min(hi, ji+consistencyWindow); j++ {
			if norm[j-lo] == 0 {
				continue
			}
			c := float64(vecmath.Dot(x, dev[(j-lo)*dim:(j-lo+1)*dim])) / norm[j-lo]
			if c > best {
				best, bestJ = c, j
			}
			if j >= ji-1 && j <= ji+1 {
				near = max(near, c/xn)
			} else {
				far = max(far, c/xn)
			}
		}
		if !math.IsInf(near, -1) && !math.IsInf(far, -1) {
			msum += near - far
			mn++
		}
		total++
		if bestJ >= ji-1 && bestJ <= ji+1 {
			hits++
		}
	}
	if total == 0 {
		return 0, 0
	}
	return float64(hits) / float64(total), msum / float64(max(mn, 1))
}

// consistencyWindow is how far, in samples, consistency looks either side.
const consistencyWindow = 25

// local is the mean cosine of clip samples a..b and their aligned video
// samples, each side centred by its own mean over the stretch.
func (r *Reference) local(v *queryView, start int, speed float64, a, b int) float64 {
	dim := r.dim
	xm := make([]float32, dim)
	ym := make([]float32, dim)
	js := make([]int, 0, b-a+1)
	for i := a; i <= b; i++ {
		j := start + int(math.Round(float64(i)*speed))
		if j < 0 || j >= r.n {
			continue
		}
		js = append(js, j)
		add(xm, v.raw[i*dim:(i+1)*dim])
		add(ym, r.raw[j*dim:(j+1)*dim])
	}
	if len(js) < 2 {
		return 0
	}
	inv := 1 / float32(len(js))
	for d := range xm {
		xm[d] *= inv
		ym[d] *= inv
	}
	var sum float64
	k := 0
	for i := a; i <= b; i++ {
		j := start + int(math.Round(float64(i)*speed))
		if j < 0 || j >= r.n {
			continue
		}
		x, y := v.raw[i*dim:(i+1)*dim], r.raw[j*dim:(j+1)*dim]
		var xy, xx, yy float64
		for d := range x {
			dx, dy := float64(x[d]-xm[d]), float64(y[d]-ym[d])
			xy += dx * dy
			xx += dx * dx
			yy += dy * dy
		}
		if xx > 0 && yy > 0 {
			sum += xy / math.Sqrt(xx*yy)
		}
		k++
	}
	return sum / float64(k)
}
