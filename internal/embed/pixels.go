package embed

// Pictures for the pixel check of borderline matches (match.Reference.
// AddThumbs): a print keeps a tiny grey thumbnail of a frame a second, and
// a clip keeps a larger grey picture of what each of its views sees, so
// that a crop or a slightly misplaced view can be fitted to the thumbnail.
const (
	// PixelWidth and PixelHeight are a clip view's pictures: three by
	// three of them to a thumbnail's pixel, enough to fit a crop.
	PixelWidth, PixelHeight = 48, 36
)

// halfLuma is the BT.601 luma of a planar GBR frame of w x h, halved in
// each dimension (the mean of each 2x2 block): what inset.FindAll scans and
// the pictures are taken from.
func halfLuma(raw []byte, w, h int) ([]byte, int, int) {
	hw, hh := w/2, h/2
	plane := w * h
	g, b, r := raw[:plane], raw[plane:2*plane], raw[2*plane:3*plane]
	y := make([]byte, hw*hh)
	for oy := range hh {
		for ox := range hw {
			var sum int
			for _, i := range [4]int{2*oy*w + 2*ox, 2*oy*w + 2*ox + 1, (2*oy+1)*w + 2*ox, (2*oy+1)*w + 2*ox + 1} {
				// BT.601 luma, in integers scaled by 1000.
				sum += 587*int(g[i]) + 114*int(b[i]) + 299*int(r[i])
			}
			y[oy*hw+ox] = byte((sum + 2000) / 4000)
		}
	}
	return y, hw, hh
}

// lumaSums is the summed-area table of a grey picture, (w+1) x (h+1),
// from which any rectangle's mean is four lookups.
type lumaSums struct {
	w, h int
	sum  []uint32
}

func newLumaSums(y []byte, w, h int) *lumaSums {
	s := &lumaSums{w: w, h: h, sum: make([]uint32, (w+1)*(h+1))}
	for row := range h {
		var acc uint32
		for x := range w {
			acc += uint32(y[row*w+x])
			s.sum[(row+1)*(w+1)+x+1] = s.sum[row*(w+1)+x+1] + acc
		}
	}
	return s
}

// picture writes the mean luma of a dw x dh grid over the rectangle of the
// frame at x, y of size rw, rh (fractions of the frame) to dst, mirrored
// left to right with flip.
func (s *lumaSums) picture(dst []byte, dw, dh int, x, y, rw, rh float64, flip bool) {
	edge := func(frac float64, size int) int {
		return min(size, max(0, int(frac*float64(size)+0.5)))
	}
	for v := range dh {
		y0 := edge(y+rh*float64(v)/float64(dh), s.h)
		y1 := max(y0+1, edge(y+rh*float64(v+1)/float64(dh), s.h))
		y0 = min(y0, s.h-1)
		for u := range dw {
			x0 := edge(x+rw*float64(u)/float64(dw), s.w)
			x1 := max(x0+1, edge(x+rw*float64(u+1)/float64(dw), s.w))
			x0 = min(x0, s.w-1)
			w := s.w + 1
			total := s.sum[y1*w+x1] - s.sum[y0*w+x1] - s.sum[y1*w+x0] + s.sum[y0*w+x0]
			mean := (total + uint32((x1-x0)*(y1-y0)/2)) / uint32((x1-x0)*(y1-y0))
			col := u
			if flip {
				col = dw - 1 - u
			}
			dst[v*dw+col] = byte(mean)
		}
	}
}
