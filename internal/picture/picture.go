// Package picture draws a print as an image, the idea's "video as
// picture": time runs left to right, each feature is a row, and each value
// becomes a shade, so scene changes and repeated content show by eye.
package picture

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"slices"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/vidprint/vidprint/internal/vprint"
)

// Scaling says how values become shades.
type Scaling string

const (
	// PerFeature scales each feature to 0..1 over the video (the default):
	// every row uses the full range, so a feature that barely moves still
	// shows when it moves.
	PerFeature Scaling = "feature"
	// Global scales all values by the print's overall minimum and maximum.
	Global Scaling = "global"
	// ZScore centres each feature on its mean and divides by its standard
	// deviation, then maps -3..3 to 0..1.
	ZScore Scaling = "zscore"
)

// Order says how features are stacked.
type Order string

const (
	// ModelOrder keeps the model's feature order (the default).
	ModelOrder Order = "model"
	// PeakOrder sorts features by the time of their highest value, so that
	// each scene's characteristic features gather in a band.
	PeakOrder Order = "peak"
	// SimilarOrder chains features whose time courses correlate, so that
	// features that move together sit together.
	SimilarOrder Order = "similar"
)

// Options for Render. The zero value is not valid; use Defaults.
type Options struct {
	Scaling  Scaling
	Order    Order
	Colormap string // "gray" or "viridis"
	// MaxWidth caps the picture's width in pixels: longer prints are binned
	// in time, each column the mean of its frames.
	MaxWidth int
	// RowHeight is how many pixels tall each feature is (1 by default).
	RowHeight int
	Axis      bool // draw a time axis with labels under the picture
	// Ticks are times (seconds) to mark on the axis, e.g. scene boundaries.
	Ticks []float64
}

// Defaults are the documented defaults.
func Defaults() Options {
	return Options{Scaling: PerFeature, Order: ModelOrder, Colormap: "gray", MaxWidth: 2000, RowHeight: 1, Axis: true}
}

// ErrOptions reports an option Render cannot use.
var ErrOptions = errors.New("bad picture option")

// Matrix is a print binned to at most MaxWidth columns, scaled to 0..1 and
// ordered: values[row*cols+col].
type Matrix struct {
	Rows, Cols int
	Values     []float32
	// ColStart is the time of each column's first frame; one more entry
	// holds the end of the last column.
	ColStart []float64
	Order    []int // Order[row] is the feature drawn in that row
}

// Build bins, scales and orders a print.
func Build(p *vprint.Print, o Options) (*Matrix, error) {
	if p.Frames() == 0 || p.Dim == 0 {
		return nil, fmt.Errorf("%w: the print is empty", ErrOptions)
	}
	if o.MaxWidth < 1 {
		return nil, fmt.Errorf("%w: max width %d", ErrOptions, o.MaxWidth)
	}
	m := bin(p, o.MaxWidth)
	if err := scale(m, o.Scaling); err != nil {
		return nil, err
	}
	order, err := orderRows(m, o.Order)
	if err != nil {
		return nil, err
	}
	m.Order = order
	return m, nil
}

// bin averages a print's frames into at most maxWidth columns, unscaled:
// column c holds frames [c*n/cols, (c+1)*n/cols).
func bin(p *vprint.Print, maxWidth int) *Matrix {
	n, d := p.Frames(), p.Dim
	cols := min(n, maxWidth)
	m := &Matrix{Rows: d, Cols: cols, Values: make([]float32, d*cols), ColStart: make([]float64, cols+1)}
	sums := make([]float64, d)
	for c := 0; c < cols; c++ {
		lo, hi := c*n/cols, (c+1)*n/cols
		clear(sums)
		for i := lo; i < hi; i++ {
			for f, v := range p.Row(i) {
				sums[f] += float64(v)
			}
		}
		inv := 1 / float64(hi-lo)
		for f := range sums {
			m.Values[f*cols+c] = float32(sums[f] * inv)
		}
		m.ColStart[c] = p.Timestamps[lo]
	}
	m.ColStart[cols] = p.Timestamps[n-1] + 1/p.FPS
	return m
}

func scale(m *Matrix, s Scaling) error {
	row := func(f int) []float32 { return m.Values[f*m.Cols : (f+1)*m.Cols] }
	switch s {
	case PerFeature:
		for f := 0; f < m.Rows; f++ {
			r := row(f)
			lo, hi := slices.Min(r), slices.Max(r)
			stretch(r, lo, hi)
		}
	case Global:
		lo, hi := slices.Min(m.Values), slices.Max(m.Values)
		stretch(m.Values, lo, hi)
	case ZScore:
		for f := 0; f < m.Rows; f++ {
			r := row(f)
			var mean, sq float64
			for _, v := range r {
				mean += float64(v)
			}
			mean /= float64(len(r))
			for _, v := range r {
				sq += (float64(v) - mean) * (float64(v) - mean)
			}
			sd := math.Sqrt(sq / float64(len(r)))
			for i, v := range r {
				z := 0.0
				if sd > 0 {
					z = (float64(v) - mean) / sd
				}
				r[i] = float32(math.Max(0, math.Min(1, (z+3)/6)))
			}
		}
	default:
		return fmt.Errorf("%w: scaling %q (feature, global or zscore)", ErrOptions, s)
	}
	return nil
}

// stretch maps lo..hi to 0..1; a constant row becomes mid-grey.
func stretch(v []float32, lo, hi float32) {
	if hi <= lo {
		for i := range v {
			v[i] = 0.5
		}
		return
	}
	k := 1 / (hi - lo)
	for i := range v {
		v[i] = (v[i] - lo) * k
	}
}

func orderRows(m *Matrix, o Order) ([]int, error) {
	order := make([]int, m.Rows)
	for i := range order {
		order[i] = i
	}
	switch o {
	case ModelOrder, "":
	case PeakOrder:
		peak := make([]int, m.Rows)
		for f := range peak {
			r := m.Values[f*m.Cols : (f+1)*m.Cols]
			peak[f] = slices.Index(r, slices.Max(r))
		}
		slices.SortStableFunc(order, func(a, b int) int { return peak[a] - peak[b] })
	case SimilarOrder:
		order = similarChain(m)
	default:
		return nil, fmt.Errorf("%w: order %q (model, peak or similar)", ErrOptions, o)
	}
	return order, nil
}

// similarChain orders features greedily: start from the feature that
// varies most, then always append the unplaced feature whose centred time
// course correlates best with the last one placed. O(D^2 * cols) with D
// features; fine for D up to a few thousand once columns are binned.
func similarChain(m *Matrix) []int {
	d, c := m.Rows, m.Cols
	unit := make([][]float32, d)
	start, bestVar := 0, -1.0
	for f := 0; f < d; f++ {
		r := m.Values[f*c : (f+1)*c]
		var mean float64
		for _, v := range r {
			mean += float64(v)
		}
		mean /= float64(c)
		u := make([]float32, c)
		var norm float64
		for i, v := range r {
			x := float64(v) - mean
			u[i] = float32(x)
			norm += x * x
		}
		if norm > bestVar {
			start, bestVar = f, norm
		}
		if norm > 0 {
			k := float32(1 / math.Sqrt(norm))
			for i := range u {
				u[i] *= k
			}
		}
		unit[f] = u
	}
	placed := make([]bool, d)
	order := make([]int, 0, d)
	cur := start
	for len(order) < d {
		placed[cur] = true
		order = append(order, cur)
		next, best := -1, float32(math.Inf(-1))
		for f := 0; f < d; f++ {
			if placed[f] {
				continue
			}
			var s float32
			for i, v := range unit[cur] {
				s += v * unit[f][i]
			}
			if s > best {
				next, best = f, s
			}
		}
		if next < 0 {
			break
		}
		cur = next
	}
	return order
}

// minWidth is the narrowest picture Render draws.
const minWidth = 400

// Render draws the matrix, with a time axis under it when o.Axis is set.
func Render(m *Matrix, o Options) (image.Image, error) {
	rowH := max(o.RowHeight, 1)
	cmap, err := colormap(o.Colormap)
	if err != nil {
		return nil, err
	}
	axisH := 0
	if o.Axis {
		axisH = 22
	}
	// Short prints get wider columns so the picture and its labels stay
	// readable.
	colW := max(1, (minWidth+m.Cols-1)/m.Cols)
	w, h := m.Cols*colW, m.Rows*rowH
	img := image.NewRGBA(image.Rect(0, 0, w, h+axisH))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	pix := img.Pix
	for row, f := range m.Order {
		src := m.Values[f*m.Cols : (f+1)*m.Cols]
		off := row * rowH * img.Stride
		line := pix[off : off+4*w]
		for x, v := range src {
			c := cmap[int(v*255+0.5)&0xff]
			for k := x * colW; k < (x+1)*colW; k++ {
				line[4*k], line[4*k+1], line[4*k+2], line[4*k+3] = c.R, c.G, c.B, 255
			}
		}
		for y := 1; y < rowH; y++ {
			copy(pix[off+y*img.Stride:], line)
		}
	}
	if o.Axis {
		drawAxis(img, m, h, colW, o.Ticks)
	}
	return img, nil
}

func colormap(name string) (*[256]color.RGBA, error) {
	var cm [256]color.RGBA
	switch name {
	case "gray", "grey", "":
		for i := range cm {
			cm[i] = color.RGBA{uint8(i), uint8(i), uint8(i), 255}
		}
	case "viridis":
		for i := range cm {
			cm[i] = viridis(float64(i) / 255)
		}
	default:
		return nil, fmt.Errorf("%w: colormap %q (gray or viridis)", ErrOptions, name)
	}
	return &cm, nil
}

// viridis interpolates matplotlib's perceptually uniform colormap from
// eight of its control points.
func viridis(t float64) color.RGBA {
	stops := [...][3]float64{
		{68, 1, 84}, {70, 50, 127}, {54, 92, 141}, {39, 127, 142},
		{31, 161, 135}, {74, 194, 109}, {159, 218, 58}, {253, 231, 37},
	}
	x := t * float64(len(stops)-1)
	i := min(int(x), len(stops)-2)
	f := x - float64(i)
	var c [3]uint8
	for k := range c {
		c[k] = uint8(math.Round(stops[i][k]*(1-f) + stops[i+1][k]*f))
	}
	return color.RGBA{c[0], c[1], c[2], 255}
}

// drawAxis draws ticks and time labels at round intervals under the
// picture, and the given marks as taller red ticks.
func drawAxis(img *image.RGBA, m *Matrix, top, colW int, marks []float64) {
	t0, t1 := m.ColStart[0], m.ColStart[m.Cols]
	span := t1 - t0
	if span <= 0 {
		return
	}
	xOf := func(t float64) int {
		// ColStart is monotone: find the column holding t.
		c, _ := slices.BinarySearch(m.ColStart[:m.Cols], t)
		if c > 0 && (c == m.Cols || m.ColStart[c] > t) {
			c--
		}
		return c*colW + colW/2
	}
	black := color.RGBA{0, 0, 0, 255}
	red := color.RGBA{220, 30, 30, 255}
	step := niceStep(span, float64(img.Bounds().Dx())/90)
	d := &font.Drawer{Dst: img, Src: image.NewUniform(black), Face: basicfont.Face7x13}
	for t := math.Ceil(t0/step) * step; t <= t1; t += step {
		x := xOf(t)
		for y := top; y < top+4; y++ {
			img.SetRGBA(x, y, black)
		}
		label := formatTime(t, step)
		wpx := d.MeasureString(label).Round()
		lx := min(max(x-wpx/2, 0), img.Bounds().Dx()-wpx)
		d.Dot = fixed.P(lx, top+17)
		d.DrawString(label)
	}
	for _, t := range marks {
		if t < t0 || t > t1 {
			continue
		}
		x := xOf(t)
		for y := top; y < top+6; y++ {
			img.SetRGBA(x, y, red)
		}
	}
}

// niceStep picks 1, 2 or 5 times a power of ten (or minutes and hours) so
// that about maxLabels labels fit.
func niceStep(span, maxLabels float64) float64 {
	if maxLabels < 1 {
		maxLabels = 1
	}
	candidates := []float64{0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400}
	for _, c := range candidates {
		if span/c <= maxLabels {
			return c
		}
	}
	return candidates[len(candidates)-1]
}

func formatTime(t, step float64) string {
	if step < 1 {
		return fmt.Sprintf("%.1fs", t)
	}
	s := int(math.Round(t))
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	if s >= 60 || step >= 60 {
		return fmt.Sprintf("%d:%02d", s/60, s%60)
	}
	return fmt.Sprintf("%ds", s)
}

// Thumb is a frame of the video to show under the picture at its time.
type Thumb struct {
	TimeS float64
	Image image.Image
}

// WithThumbnails returns pic with a strip of thumbnails under it, each
// scaled to height and centred under its time (clamped to the picture).
func WithThumbnails(pic image.Image, m *Matrix, thumbs []Thumb, height int) image.Image {
	b := pic.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()+height+4))
	draw.Draw(out, out.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(out, b, pic, b.Min, draw.Src)
	colW := max(1, (minWidth+m.Cols-1)/m.Cols)
	span := m.ColStart[m.Cols] - m.ColStart[0]
	for _, t := range thumbs {
		tb := t.Image.Bounds()
		w := max(1, height*tb.Dx()/max(1, tb.Dy()))
		x := b.Dx() / 2
		if span > 0 {
			x = int((t.TimeS - m.ColStart[0]) / span * float64(m.Cols*colW))
		}
		x = min(max(x-w/2, 0), max(0, b.Dx()-w))
		dst := image.Rect(x, b.Dy()+2, x+w, b.Dy()+2+height)
		xdraw.ApproxBiLinear.Scale(out, dst, t.Image, tb, draw.Src, nil)
	}
	return out
}
