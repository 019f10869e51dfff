package embed

import "sort"

// Inset is a rectangle in fractions of the frame (0..1).
type Inset struct{ X, Y, W, H float64 }

// Tuning of FindInset. Luma steps are in 8-bit levels.
const (
	// insetEdge is the smallest luma step, over two pixels, counted as an
	// edge. It is small because the two sides of an inset's border are
	// unrelated pictures that differ by more than this most of the time.
	insetEdge = 10
	// insetMotion is the smallest change of a pixel between two samples
	// counted as motion.
	insetMotion = 6
	// insetSide is the distance, in pixels, of the lines a side is compared
	// with: past the 2 to 3 pixels that a scaled border's step covers.
	insetSide = 4
	// insetCandidates is how many candidate columns (and rows) are kept.
	insetCandidates = 10
	// insetMinScore is the weakest side a detection may have: how much more
	// often than the lines beside it a side shows an edge, 0 to 1.
	insetMinScore = 0.55
	// insetMinScoreEdge applies instead when a side lies on the frame's
	// border, where there is one piece of evidence fewer.
	insetMinScoreEdge = 0.65
	// insetMinMotion is the least share of sample pairs in which the
	// inside of a detection must change on average: an inset shows a video,
	// whereas a still scene's window or table edge stays put.
	insetMinMotion = 0.05
	insetMinSize   = 0.2
	insetMaxSize   = 0.9
)

// FindInset looks for a picture-in-picture rectangle in frames: luma
// images of w x h bytes (row-major), sampled over a clip. It returns the
// rectangle and true where one is clearly there.
//
// An inset's border is a step between two unrelated pictures, so it shows
// an edge in nearly every frame, at the same place, while content on both
// sides moves. FindInset counts, per pixel, the frames with an edge across
// it (persistence) and those with motion; picks candidate columns and rows
// where persistence forms thin lines; and scores every rectangle of two
// candidate columns and two candidate rows by its weakest side: how much
// more persistent than the lines just beside it the side is, between the
// corners only, minus how persistent its continuation past the corners is
// (a letterbox's or a still scene's long edges go on past any corner).
func FindInset(frames [][]byte, w, h int) (Inset, bool) {
	if w < 4*insetSide+8 || h < 4*insetSide+8 {
		return Inset{}, false
	}
	n := w * h
	var use [][]byte
	for _, f := range frames {
		if len(f) >= n {
			use = append(use, f[:n])
		}
	}
	if len(use) < 2 {
		return Inset{}, false
	}
	// Counts are uint16: keep at most 65535 frames, evenly spread.
	if len(use) > 65535 {
		step := (len(use) + 65534) / 65535
		k := 0
		for i := 0; i < len(use); i += step {
			use[k] = use[i]
			k++
		}
		use = use[:k]
	}
	px, py, motion := insetCounts(use, w, h)
	nf := float64(len(use))

	// Prefix sums: down each column of px, along each row of py, and a 2-D
	// one of motion, so that any segment's or area's sum costs O(1).
	colCum := make([]int32, w*(h+1)) // colCum[x*(h+1)+y] = sum px[x, 0..y-1]
	for x := range w {
		var s int32
		base := x * (h + 1)
		for y := range h {
			s += int32(px[y*w+x])
			colCum[base+y+1] = s
		}
	}
	rowCum := make([]int32, h*(w+1))
	for y := range h {
		var s int32
		base := y * (w + 1)
		for x := range w {
			s += int32(py[y*w+x])
			rowCum[base+x+1] = s
		}
	}
	area := make([]int64, (w+1)*(h+1))
	for y := range h {
		var s int64
		for x := range w {
			s += int64(motion[y*w+x])
			area[(y+1)*(w+1)+x+1] = area[y*(w+1)+x+1] + s
		}
	}
	// vmean is the persistence of column x over rows [y0, y1); hmean of row
	// y over columns [x0, x1).
	vmean := func(x, y0, y1 int) float64 {
		return float64(colCum[x*(h+1)+y1]-colCum[x*(h+1)+y0]) / (float64(y1-y0) * nf)
	}
	hmean := func(y, x0, x1 int) float64 {
		return float64(rowCum[y*(w+1)+x1]-rowCum[y*(w+1)+x0]) / (float64(x1-x0) * nf)
	}

	cols := insetCandidatesOf(func(x int) float64 { return float64(colCum[x*(h+1)+h]) }, w)
	rows := insetCandidatesOf(func(y int) float64 { return float64(rowCum[y*(w+1)+w]) }, h)

	// side scores one side: a line at pos (a column if vertical) between
	// lo and hi along it. The line's persistence is compared with the lines
	// insetSide pixels to either side, as the share of the frames in which
	// those show no edge but the line does; a texture then scores low
	// however busy it is. The same score of the line's continuation past
	// the corners is subtracted.
	side := func(vertical bool, pos, lo, hi, limit int) float64 {
		mean := hmean
		if vertical {
			mean = vmean
		}
		strength := func(a, b int) float64 {
			if b-a < insetSide {
				return 0
			}
			line := mean(pos, a, b)
			bg := (mean(pos-insetSide, a, b) + mean(pos+insetSide, a, b)) / 2
			return (line - bg) / max(1-bg, 0.1)
		}
		// Skip the ends, which a scaled corner blurs.
		s := strength(lo+2, hi-1)
		ext := hi - lo
		ext = min(ext, max(ext/2, 8))
		before := strength(max(lo-ext, insetSide), lo-2)
		after := strength(hi+2, min(hi+ext, limit-insetSide))
		return s - max(0, before, after)
	}

	best, bestScore, found := Inset{}, 0.0, false
	for i, l := range cols {
		for _, r := range cols[i+1:] {
			cw := float64(r.pos-l.pos) / float64(w)
			if cw < insetMinSize || cw > insetMaxSize || (l.border && r.border) {
				continue
			}
			for j, t := range rows {
				for _, b := range rows[j+1:] {
					ch := float64(b.pos-t.pos) / float64(h)
					if ch < insetMinSize || ch > insetMaxSize || (t.border && b.border) {
						continue
					}
					minScore, sum, sides, need := 2.0, 0.0, 0, insetMinScore
					for _, s := range []struct {
						c        insetCandidate
						vertical bool
						lo, hi   int
						limit    int
					}{
						{l, true, t.pos, b.pos, h}, {r, true, t.pos, b.pos, h},
						{t, false, l.pos, r.pos, w}, {b, false, l.pos, r.pos, w},
					} {
						if s.c.border {
							need = insetMinScoreEdge
							continue
						}
						v := side(s.vertical, s.c.pos, s.lo, s.hi, s.limit)
						minScore = min(minScore, v)
						sum += v
						sides++
						if v < need {
							break
						}
					}
					if minScore < need {
						continue
					}
					// Rank by the weakest side, then by all of them.
					score := minScore + 0.5*sum/float64(sides)
					if found && score <= bestScore {
						continue
					}
					// The inside, without the blurred border.
					x0, x1 := max(l.pos, 0)+2, min(r.pos, w)-1
					y0, y1 := max(t.pos, 0)+2, min(b.pos, h)-1
					inside := area[y1*(w+1)+x1] - area[y0*(w+1)+x1] - area[y1*(w+1)+x0] + area[y0*(w+1)+x0]
					if float64(inside)/(float64((x1-x0)*(y1-y0))*(nf-1)) < insetMinMotion {
						continue
					}
					best = Inset{X: l.at / float64(w), Y: t.at / float64(h),
						W: (r.at - l.at) / float64(w), H: (b.at - t.at) / float64(h)}
					bestScore, found = score, true
				}
			}
		}
	}
	return best, found
}

// insetCounts counts, per pixel, the frames with a horizontal step
// across it (|I(x+1)-I(x-1)|, an edge along a column), those with a
// vertical step, and the pairs of consecutive frames in which it changes.
// A two-pixel step still sees a border that scaling blurred over two
// pixels at full contrast.
func insetCounts(frames [][]byte, w, h int) (px, py, motion []uint16) {
	n := w * h
	px, py, motion = make([]uint16, n), make([]uint16, n), make([]uint16, n)
	for k, f := range frames {
		for y := 1; y < h-1; y++ {
			row := f[y*w : y*w+w]
			up := f[(y-1)*w : y*w]
			down := f[(y+1)*w : (y+2)*w]
			cx := px[y*w : y*w+w]
			cy := py[y*w : y*w+w]
			for x := 1; x < w-1; x++ {
				if absDiff(row[x+1], row[x-1]) > insetEdge {
					cx[x]++
				}
				if absDiff(down[x], up[x]) > insetEdge {
					cy[x]++
				}
			}
		}
		if k > 0 {
			prev := frames[k-1]
			for i := range n {
				if absDiff(f[i], prev[i]) > insetMotion {
					motion[i]++
				}
			}
		}
	}
	return px, py, motion
}

func absDiff(a, b byte) byte {
	if a > b {
		return a - b
	}
	return b - a
}

// insetCandidate is a candidate column (or row) of an inset's side: a
// line of the image, or the frame's border.
type insetCandidate struct {
	pos    int     // the line; -1 or the size for the frame's border
	at     float64 // where the side lies, in pixels from the frame's start
	border bool
}

// insetCandidatesOf returns candidate lines along one axis, sorted, with
// the frame's two borders. total(i) is line i's persistence summed over
// its length. A side shows as a ridge: a line much more persistent than
// those insetSide away. Ridges are kept strongest first, each the
// highest within insetSide of it (non-maximum suppression).
func insetCandidatesOf(total func(int) float64, size int) []insetCandidate {
	lo, hi := insetSide, size-1-insetSide
	ridge := make([]float64, size)
	for i := lo; i < hi; i++ {
		ridge[i] = total(i) - (total(i-insetSide)+total(i+insetSide))/2
	}
	var peaks []int
	for i := lo; i < hi; i++ {
		if ridge[i] <= 0 {
			continue
		}
		peak := true
		for j := max(lo, i-insetSide+1); j < min(hi, i+insetSide); j++ {
			if ridge[j] > ridge[i] || (ridge[j] == ridge[i] && j < i) {
				peak = false
				break
			}
		}
		if peak {
			peaks = append(peaks, i)
		}
	}
	sort.Slice(peaks, func(a, b int) bool { return ridge[peaks[a]] > ridge[peaks[b]] })
	if len(peaks) > insetCandidates {
		peaks = peaks[:insetCandidates]
	}
	out := []insetCandidate{{pos: -1, at: 0, border: true}}
	for _, p := range peaks {
		// The step's centre, refined between the neighbouring lines.
		at := float64(p) + 0.5
		if l, r := total(p-1), total(p+1); l+r > 0 {
			c := total(p)
			at += 0.5 * (r - l) / max(c+max(l, r)-2*min(l, r), 1)
		}
		out = append(out, insetCandidate{pos: p, at: at})
	}
	out = append(out, insetCandidate{pos: size, at: float64(size), border: true})
	sort.Slice(out, func(a, b int) bool { return out[a].pos < out[b].pos })
	return out
}
