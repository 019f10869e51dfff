// Package inset finds a picture-in-picture in a clip: the rectangle of a
// video shown within another frame, from the persistent edges and the
// motion of grey frames sampled over the clip.
package inset

import (
	"math"
	"sort"
)

// Inset is a rectangle in fractions of the frame (0..1).
type Rect struct{ X, Y, W, H float64 }

// Tuning of Find. Luma steps are in 8-bit levels; a line's
// persistence is the share of frames with a step across it.
const (
	// insetEdge is the smallest luma step, over two pixels, counted as an
	// edge. It is small because the two sides of an inset's border are
	// unrelated pictures that differ by more than this most of the time,
	// even where both are dim or flat.
	insetEdge = 6
	// insetMotion is the smallest change of a pixel between two samples
	// counted as motion.
	insetMotion = 6
	// insetSide is the distance, in pixels, of the lines a side is compared
	// with: past the 2 to 3 pixels that a scaled border's step covers.
	insetSide = 4
	// insetRefine is how far from a candidate line a side may lie: a
	// candidate comes from a whole column's (or row's) profile, where the
	// texture of the inside can shift a peak, but a side's own stretch
	// tells more exactly.
	insetRefine = 2
	// insetExtension is how far past a corner a side's continuation is
	// looked at; insetGap is where that starts, clear of the corner's blur
	// and of the corner's uncertain place. A continuation weaker than
	// insetSlack is the host's own structure, not the side going on.
	insetExtension = 16
	insetGap       = 4
	insetSlack     = 0.25
	// insetCandidates is how many candidate columns (and rows) are kept.
	insetCandidates = 16
	// insetNMS is how near a stronger ridge suppresses a candidate: about
	// the width of one step's response.
	insetNMS = 2
	// insetMinScore is the weakest side a detection may have: roughly,
	// the share of the frames in which the side shows a step and the lines
	// beside it do not.
	insetMinScore = 0.55
	// insetMinScoreEdge applies instead when a side lies on the frame's
	// border, where there is one piece of evidence fewer; then each half of
	// every other side must pass it too.
	insetMinScoreEdge = 0.65
	// insetMinMotion is the least share of pixels that change between two
	// samples, on average, inside a detection or in a band around it: a
	// still scene's window or table edge has neither. It is low because
	// the footage worth finding is often nearly still (a room, a talking
	// head), whose picture-in-picture a floor of 0.05 often misses; this
	// floor's only false finds are a screencast's windows.
	insetMinMotion = 0.01
	insetBand      = 10
	// insetRagged is how much a side's weaker half may score below the
	// whole side before the side is taken for two edges in a line.
	insetRagged = 0.15
	// insetMinDetail is the least persistence inside a detection.
	insetMinDetail = 0.02
	insetMinSize   = 0.2
	insetMaxSize   = 0.9
)

// Find looks for a picture-in-picture rectangle in frames: luma
// images of w x h bytes (row-major), sampled over a clip. It returns the
// rectangle and true where one is clearly there.
//
// An inset's border is a step between two unrelated pictures, so it shows
// an edge in nearly every frame, at the same place, while content on both
// sides moves. Find counts, per pixel, the frames with an edge across
// it (persistence) and those with motion; picks candidate columns and rows
// where persistence forms thin lines; and scores every rectangle of two
// candidate columns and two candidate rows by its weakest side: how much
// more persistent than the lines just beside it the side is, between the
// corners only, minus how persistent its continuation past the corners is
// (a letterbox's long edges, or the inside's own, go on past any corner
// that two of them make). The inside, or a band around it, must move.
//
// It misses sides that lie on, or next to and along, a long straight edge
// of the host's, and sides where the inset's content matches the host's
// (white on white). A side that runs on into such an edge past one of its
// corners it still finds: when no rectangle stops at all its corners, or
// when one that does is a host's rectangle the side runs on to (see
// runsOn). It finds any persistent rectangle that something moves
// in or around, such as a dialog window in a screen recording, or a small
// video overlaid on the clip (an inset of the other kind).
//
// It is meant for frames the size of a model's input (75 frames of
// 224x224 take about 15 ms). Frames under 32 pixels a side or over 4M
// pixels give false, as do fewer than two frames of w*h bytes.
func Find(frames [][]byte, w, h int) (Rect, bool) {
	found := FindAll(frames, w, h)
	if len(found) == 0 {
		return Rect{}, false
	}
	return found[0], true
}

// FindAll is Find's rectangle first and, where it differs, a
// second guess: the best rectangle whose sides may each run on past one
// corner (the lenient scan). The two scans' scores do not rank one
// against the other: taking the lenient rectangle whenever it scores
// higher breaks more picture-in-picture windows than it fixes, while one
// of the two is nearly always right (docs/locate.md, "Finding a
// picture-in-picture"). A caller that can afford to look at both lets the
// content decide.
func FindAll(frames [][]byte, w, h int) []Rect {
	if w < 32 || h < 32 || w > 1<<22/h {
		return nil
	}
	n := w * h
	var use [][]byte
	for _, f := range frames {
		if len(f) >= n {
			use = append(use, f[:n])
		}
	}
	// Counts are uint16: keep at most 65535 frames, evenly spread.
	if len(use) > math.MaxUint16 {
		step := (len(use) + math.MaxUint16 - 1) / math.MaxUint16
		k := 0
		for i := 0; i < len(use); i += step {
			use[k] = use[i]
			k++
		}
		use = use[:k]
	}
	if len(use) < 2 {
		return nil
	}
	s := newInsetScorer(use, w, h)
	cols := insetCandidatesOf(func(x int) float64 { return s.mean(true, x, 0, h) }, w)
	rows := insetCandidatesOf(func(y int) float64 { return s.mean(false, y, 0, w) }, h)
	// A side's score depends on its line and its two corners only, and
	// each is shared by many rectangles.
	vmemo := newInsetMemo(len(cols), len(rows))
	hmemo := newInsetMemo(len(rows), len(cols))

	// Perhaps a side runs on, past one corner, into a straight edge of
	// the host's (a window frame, a wall) in line with it. Only with four
	// sides inside the frame: a letterbox's edges run on past every
	// rectangle that stands on the frame's border.
	offBorder := insetFound{l: 0, r: w - 1, t: 0, b: h - 1}
	lenient, lf := scanInsets(s, cols, rows, vmemo, hmemo, true, &offBorder)
	var out []Rect
	if lf.ok {
		out = append(out, lenient)
	}
	best, found := scanInsets(s, cols, rows, vmemo, hmemo, false, nil)
	if !found.ok {
		// Nothing with four sides that stop at their corners.
		return out
	}
	if found.ragged > insetRagged {
		// A side of the best is strong along one part and weak along the
		// rest: perhaps an inset's side run on by a collinear edge of the
		// host's, up to a line of the host's. The inset inside it is then
		// rejected only because its side continues past a corner: let a
		// side continue past one, and take the best rectangle inside if
		// the best's sides are weak where they run beyond it.
		if inner, f := scanInsets(s, cols, rows, vmemo, hmemo, true, &found); f.ok && runsOn(s, found, f) {
			best = inner
		}
	}
	if len(out) > 0 && insetIoU(best, out[0]) >= insetSame {
		return []Rect{best}
	}
	return append([]Rect{best}, out...)
}

// insetSame is the overlap (intersection over union) at which two
// rectangles are one: the two scans place a side to within a pixel or two.
const insetSame = 0.8

// insetIoU is the intersection over union of two rectangles.
func insetIoU(a, b Rect) float64 {
	w := min(a.X+a.W, b.X+b.W) - max(a.X, b.X)
	h := min(a.Y+a.H, b.Y+b.H) - max(a.Y, b.Y)
	if w <= 0 || h <= 0 {
		return 0
	}
	in := w * h
	return in / (a.W*a.H + b.W*b.H - in)
}

// runsOn reports whether a side of outer, along a stretch beyond inner
// (which it holds), is weaker than a side may be: the two are then not one
// inset's picture and its inside, but an inset and a rectangle that host
// lines run on from it.
func runsOn(s *insetScorer, outer, inner insetFound) bool {
	weak := func(vertical bool, pos, a, b int) bool {
		if pos < 0 || pos >= s.limit(!vertical) || b-a < 2*insetSide {
			return false // the frame's border, or too short to tell
		}
		v := 0.0
		for p := max(pos-insetRefine, 1); p <= min(pos+insetRefine, s.limit(!vertical)-2); p++ {
			v = max(v, s.strength(vertical, p, a, b))
		}
		return v < insetMinScore
	}
	return weak(true, outer.l, outer.t, inner.t) || weak(true, outer.r, outer.t, inner.t) ||
		weak(true, outer.l, inner.b, outer.b) || weak(true, outer.r, inner.b, outer.b) ||
		weak(false, outer.t, outer.l, inner.l) || weak(false, outer.b, outer.l, inner.l) ||
		weak(false, outer.t, inner.r, outer.r) || weak(false, outer.b, inner.r, outer.r)
}

// insetFound is what scanInsets found: the rectangle in candidate
// positions, and how ragged its sides are (the largest gap, over its sides,
// between a side's score and its weaker half's).
type insetFound struct {
	ok         bool
	l, r, t, b int
	ragged     float64
}

// scanInsets scores every rectangle of candidate lines and returns the
// best. lenient lets a side continue past one of its corners (not both),
// and within, if set, keeps to rectangles inside that one.
func scanInsets(s *insetScorer, cols, rows []insetCandidate, vmemo, hmemo *insetMemo, lenient bool, within *insetFound) (Rect, insetFound) {
	w, h := s.w, s.h
	best, bestScore, found := Rect{}, 0.0, insetFound{}
	for i := range cols {
		for j := i + 1; j < len(cols); j++ {
			l, r := cols[i], cols[j]
			cw := float64(r.pos-l.pos) / float64(w)
			// Both sides on the border would be a letterbox's or the whole
			// frame's.
			if cw < insetMinSize || cw > insetMaxSize || (l.border && r.border) {
				continue
			}
			if within != nil && (l.pos < within.l || r.pos > within.r) {
				continue
			}
			for k := range rows {
				for m := k + 1; m < len(rows); m++ {
					t, b := rows[k], rows[m]
					ch := float64(b.pos-t.pos) / float64(h)
					// Two sides on the border leave two to go by: too
					// little against two straight lines of the host's
					// that happen to meet.
					if ch < insetMinSize || ch > insetMaxSize || (t.border && b.border) ||
						(l.border || r.border) && (t.border || b.border) {
						continue
					}
					if within != nil && (t.pos < within.t || b.pos > within.b || [4]int{l.pos, r.pos, t.pos, b.pos} == [4]int{within.l, within.r, within.t, within.b}) {
						continue
					}
					need := insetMinScore
					if l.border || r.border || t.border || b.border {
						need = insetMinScoreEdge
					}
					// Rank by the weakest side, plus a quarter of the
					// sides' sum for rectangles whose weakest sides tie.
					weakest, sum, ragged, ok := math.Inf(1), 0.0, 0.0, true
					var at [4]float64
					for q, side := range [4]struct {
						memo           *insetMemo
						vertical       bool
						line, lo, hi   int
						lines, corners []insetCandidate
					}{
						{vmemo, true, i, k, m, cols, rows}, {vmemo, true, j, k, m, cols, rows},
						{hmemo, false, k, i, j, rows, cols}, {hmemo, false, m, i, j, rows, cols},
					} {
						c := side.lines[side.line]
						v := insetMinScore // a border side shows nothing: just passing
						at[q] = c.at
						if !c.border {
							e := side.memo.get(side.line, side.lo, side.hi, func() insetSideScore {
								return s.side(side.vertical, c.pos, side.corners[side.lo].pos, side.corners[side.hi].pos)
							})
							if lenient {
								e.score, e.strict = e.score+e.excused, e.strict+e.excused
							}
							v, at[q] = e.score, e.at
							ragged = max(ragged, e.score-e.strict)
							if need == insetMinScoreEdge {
								// Else a true inset's sides, stretched to
								// the border, would pass.
								v = e.strict
							}
							if v < need {
								ok = false
								break
							}
						}
						weakest = min(weakest, v)
						sum += v
					}
					if !ok {
						continue
					}
					score := weakest + sum/4
					if !l.border && !r.border && !t.border && !b.border {
						score += 2 // four sides seen beat three
					}
					if found.ok && score <= bestScore {
						continue
					}
					// Without the blurred border.
					x0, x1 := max(l.pos, 0)+2, min(r.pos, w)-1
					y0, y1 := max(t.pos, 0)+2, min(b.pos, h)-1
					if !s.moves(x0, y0, x1, y1) {
						continue
					}
					// An inset shows a picture: a flat hole in a texture,
					// such as a Sierpinski carpet's, is not one.
					const d = insetSide
					if s.detail(x0+d, y0+d, x1-d, y1-d) < insetMinDetail {
						continue
					}
					best = Rect{X: at[0] / float64(w), Y: at[2] / float64(h),
						W: (at[1] - at[0]) / float64(w), H: (at[3] - at[2]) / float64(h)}
					bestScore = score
					found = insetFound{ok: true, l: l.pos, r: r.pos, t: t.pos, b: b.pos, ragged: ragged}
				}
			}
		}
	}
	return best, found
}

// insetScorer holds prefix sums of the per-pixel counts: down each column
// of the horizontal-step counts, along each row of the vertical-step
// counts, and 2-D ones of motion and of all steps, so that any side's or
// area's sum costs O(1).
type insetScorer struct {
	w, h   int
	nf     float64
	colCum []int32 // colCum[x*(h+1)+y]: frames with a step across x, summed over rows 0..y-1
	rowCum []int32 // rowCum[y*(w+1)+x]: likewise along row y
	area   []int64 // 2-D prefix sums of motion counts
	steps  []int64 // and of both step counts
}

func newInsetScorer(frames [][]byte, w, h int) *insetScorer {
	px, py, motion := insetCounts(frames, w, h)
	s := &insetScorer{w: w, h: h, nf: float64(len(frames)),
		colCum: make([]int32, w*(h+1)), rowCum: make([]int32, h*(w+1)),
		area: make([]int64, (w+1)*(h+1)), steps: make([]int64, (w+1)*(h+1))}
	for y := range h {
		var rsum int32
		var asum, ssum int64
		base := y * (w + 1)
		for x := range w {
			i := y*w + x
			s.colCum[x*(h+1)+y+1] = s.colCum[x*(h+1)+y] + int32(px[i])
			rsum += int32(py[i])
			s.rowCum[base+x+1] = rsum
			asum += int64(motion[i])
			s.area[(y+1)*(w+1)+x+1] = s.area[y*(w+1)+x+1] + asum
			ssum += int64(px[i]) + int64(py[i])
			s.steps[(y+1)*(w+1)+x+1] = s.steps[y*(w+1)+x+1] + ssum
		}
	}
	return s
}

// insetCounts counts, per pixel, the frames with a horizontal step across
// it (|I(x+1)-I(x-1)|, an edge along a column), those with a vertical
// step, and the pairs of consecutive frames in which it changes. A
// two-pixel step still sees a border that scaling blurred over two pixels
// at full contrast. Steps in a texture come and go at random, so the
// counting is branch-free.
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
				cx[x] += insetOver(row[x+1], row[x-1], insetEdge)
				cy[x] += insetOver(down[x], up[x], insetEdge)
			}
		}
		if k > 0 {
			prev := frames[k-1][:n]
			m := motion[:n]
			for i, v := range f[:n] {
				m[i] += insetOver(v, prev[i], insetMotion)
			}
		}
	}
	return px, py, motion
}

// insetOver is 1 if a and b differ by more than t, else 0.
func insetOver(a, b byte, t int) uint16 {
	d := int(a) - int(b)
	d = (d ^ d>>63) - d>>63
	return uint16((t - d) >> 63 & 1)
}

// limit is the length of a column if vertical, else of a row.
func (s *insetScorer) limit(vertical bool) int {
	if vertical {
		return s.h
	}
	return s.w
}

// mean is the persistence of a line (a column if vertical) over [a, b)
// along it: the share of the frames with a step across it.
func (s *insetScorer) mean(vertical bool, pos, a, b int) float64 {
	if vertical {
		c := s.colCum[pos*(s.h+1):]
		return float64(c[b]-c[a]) / (float64(b-a) * s.nf)
	}
	r := s.rowCum[pos*(s.w+1):]
	return float64(r[b]-r[a]) / (float64(b-a) * s.nf)
}

// strength is how much more persistent a line is over [a, b) than the
// lines insetSide pixels to either side: the share of the frames in which
// those show no step but the line does. A texture then scores low however
// busy it is. Too short a stretch scores 0.
func (s *insetScorer) strength(vertical bool, pos, a, b int) float64 {
	a, b = max(a, 1), min(b, s.limit(vertical)-1)
	if b-a < insetSide {
		return 0
	}
	line := s.mean(vertical, pos, a, b)
	bg := insetBeside(pos, s.limit(!vertical), func(i int) float64 { return s.mean(vertical, i, a, b) })
	return (line - bg) / max(1-bg, 0.1)
}

// insetSideScore is a side's score; strict, the same with the weaker half
// of the side instead of the whole; where the side lies, in pixels; and
// excused, how much of the penalty for continuing past a corner goes when
// it may continue past one of them.
type insetSideScore struct{ score, strict, at, excused float64 }

// side scores a side near line pos between the corners lo and hi: it
// takes the strongest line within insetRefine of pos over that stretch,
// and subtracts the strength of its continuation past either corner,
// since a letterbox's long edges, or the inside's own edges, go on past
// any corner that two of them make. A continuation counts by the weaker
// of its two halves, so that it must go on unbroken, whereas some
// structure of the host's beside the corner does not count.
func (s *insetScorer) side(vertical bool, pos, lo, hi int) insetSideScore {
	size := s.limit(!vertical)
	// Skip the ends, which a scaled corner blurs.
	a, b := lo+2, hi-1
	mid := (a + b) / 2
	best, v := pos, math.Inf(-1)
	for p := max(pos-insetRefine, 1); p <= min(pos+insetRefine, size-2); p++ {
		if sv := s.strength(vertical, p, a, b); sv > v {
			best, v = p, sv
		}
	}
	const e, g = insetExtension, insetGap
	before := s.continuation(vertical, best, lo-g-e, lo-g)
	after := s.continuation(vertical, best, hi+g, hi+g+e)
	// The step's centre: the most persistent line next to the strongest
	// one (which the lines it is compared with can shift by one), moved to
	// the vertex of a parabola through it and its neighbours, as a border
	// between two pixels shows on both.
	mean := func(p int) float64 { return s.mean(vertical, p, a, b) }
	c := best
	for _, p := range [2]int{best - 1, best + 1} {
		if p >= 1 && p <= size-2 && mean(p) > mean(c) {
			c = p
		}
	}
	at := float64(c) + 0.5
	if c > 1 && c < size-2 {
		if d := mean(c-1) - 2*mean(c) + mean(c+1); d < 0 {
			at += max(-0.5, min(0.5, (mean(c-1)-mean(c+1))/(2*d)))
		}
	}
	ext := max(0, before-insetSlack, after-insetSlack)
	strict := min(s.strength(vertical, best, a, mid), s.strength(vertical, best, mid, b))
	return insetSideScore{score: v - ext, strict: strict - ext, at: at, excused: ext - max(0, min(before, after)-insetSlack)}
}

// moves reports whether [x0, x1) x [y0, y1) or the band insetBand
// pixels wide around it moves: an inset's border stays put while the
// clip, or the host, or both change.
func (s *insetScorer) moves(x0, y0, x1, y1 int) bool {
	inner := s.motion(x0, y0, x1, y1)
	if inner >= insetMinMotion {
		return true
	}
	X0, Y0 := max(x0-insetBand, 0), max(y0-insetBand, 0)
	X1, Y1 := min(x1+insetBand, s.w), min(y1+insetBand, s.h)
	outer, in := float64((X1-X0)*(Y1-Y0)), float64((x1-x0)*(y1-y0))
	return outer > in && (s.motion(X0, Y0, X1, Y1)*outer-inner*in)/(outer-in) >= insetMinMotion
}

// continuation is the strength of line pos over [a, b), clipped to the
// frame, as the weaker of its two halves where it is long enough.
func (s *insetScorer) continuation(vertical bool, pos, a, b int) float64 {
	a, b = max(a, 1), min(b, s.limit(vertical)-1)
	if b-a < 2*insetSide {
		return s.strength(vertical, pos, a, b)
	}
	mid := (a + b) / 2
	return min(s.strength(vertical, pos, a, mid), s.strength(vertical, pos, mid, b))
}

// motion is the share of pixels of [x0, x1) x [y0, y1) that change between
// two samples, on average.
func (s *insetScorer) motion(x0, y0, x1, y1 int) float64 {
	return s.boxMean(s.area, x0, y0, x1, y1) / (s.nf - 1)
}

// detail is the persistence of [x0, x1) x [y0, y1), both ways: the share
// of frames with a step across a pixel, on average.
func (s *insetScorer) detail(x0, y0, x1, y1 int) float64 {
	return s.boxMean(s.steps, x0, y0, x1, y1) / (2 * s.nf)
}

// boxMean is the mean per pixel of [x0, x1) x [y0, y1) from the 2-D
// prefix sums a.
func (s *insetScorer) boxMean(a []int64, x0, y0, x1, y1 int) float64 {
	if x1 <= x0 || y1 <= y0 {
		return 0
	}
	w := s.w + 1
	sum := a[y1*w+x1] - a[y0*w+x1] - a[y1*w+x0] + a[y0*w+x0]
	return float64(sum) / float64((x1-x0)*(y1-y0))
}

// insetMemo keeps side scores by line and corner candidates.
type insetMemo struct {
	n    int
	done []bool
	v    []insetSideScore
}

func newInsetMemo(lines, corners int) *insetMemo {
	return &insetMemo{n: corners, done: make([]bool, lines*corners*corners),
		v: make([]insetSideScore, lines*corners*corners)}
}

func (m *insetMemo) get(line, lo, hi int, f func() insetSideScore) insetSideScore {
	i := (line*m.n+lo)*m.n + hi
	if !m.done[i] {
		m.v[i], m.done[i] = f(), true
	}
	return m.v[i]
}

// insetBeside is the mean of f over the lines insetSide either side of
// line pos, or the one of them that lies where steps are counted (1 to
// size-2), so that a side near the frame's border is compared with the
// inside of the frame.
func insetBeside(pos, size int, f func(int) float64) float64 {
	a, b := pos-insetSide, pos+insetSide
	switch {
	case a < 1:
		return f(b)
	case b > size-2:
		return f(a)
	}
	return (f(a) + f(b)) / 2
}

// insetCandidate is a candidate column (or row) of an inset's side: a
// line of the image, or the frame's border.
type insetCandidate struct {
	pos    int     // the line; -1 or the size for the frame's border
	at     float64 // where a side on the border lies
	border bool
}

// insetCandidatesOf returns candidate lines along one axis, sorted, with
// the frame's two borders. mean(i) is line i's persistence over its whole
// length. A side shows as a ridge: a line more persistent than those
// insetSide away. The strongest ridges are kept, each the highest within
// insetNMS of it (non-maximum suppression).
func insetCandidatesOf(mean func(int) float64, size int) []insetCandidate {
	lo, hi := 2, size-2
	ridge := make([]float64, size)
	for i := lo; i < hi; i++ {
		ridge[i] = mean(i) - insetBeside(i, size, mean)
	}
	var peaks []int
	for i := lo; i < hi; i++ {
		if ridge[i] <= 0 {
			continue
		}
		peak := true
		for j := max(lo, i-insetNMS); j <= min(hi-1, i+insetNMS); j++ {
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
	peaks = peaks[:min(len(peaks), insetCandidates)]
	sort.Ints(peaks)
	out := []insetCandidate{{pos: -1, at: 0, border: true}}
	for _, p := range peaks {
		out = append(out, insetCandidate{pos: p, at: float64(p) + 0.5})
	}
	return append(out, insetCandidate{pos: size, at: float64(size), border: true})
}
