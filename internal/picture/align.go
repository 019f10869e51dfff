package picture

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"slices"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/vidprint/vidprint/internal/vprint"
)

// Placement puts a stretch of a clip on the video's time line: clip time c
// in [ClipStart, ClipEnd] shows video time VideoStart + (c-ClipStart)*Speed.
type Placement struct {
	VideoStart         float64
	ClipStart, ClipEnd float64
	Speed              float64
	Found              bool // drawn in green when found, red when only the closest
}

// Curve is a similarity score for every Step seconds of video from 0.
type Curve struct {
	Scores []float64
	Step   float64
	// Mark is a level drawn dashed across the curve, such as the found
	// alignment's similarity.
	Mark float64
}

// Alignment draws the idea's overlay: the video's picture, the clip's picture
// placed at where it matched (scaled like the video, so that matching
// content looks alike), the two blended (video in red and blue, clip in
// green: aligned content is grey, any difference is coloured), and the
// similarity curve under them, on one time axis.
func Alignment(video, clip *vprint.Print, at Placement, curve Curve, o Options) (image.Image, error) {
	if video.Frames() == 0 || clip.Frames() == 0 || video.Dim != clip.Dim {
		return nil, fmt.Errorf("%w: prints to align must be non-empty and of one dimension", ErrOptions)
	}
	if o.MaxWidth < 1 {
		return nil, fmt.Errorf("%w: max width %d", ErrOptions, o.MaxWidth)
	}
	if !(at.Speed > 0) {
		at.Speed = 1
	}
	vm := bin(video, o.MaxWidth)
	d, cols := vm.Rows, vm.Cols

	// The clip's samples, binned into the video's columns by the video
	// time they show.
	cm := make([]float32, d*cols)
	count := make([]int, cols)
	for i := range clip.Frames() {
		t := clip.Timestamps[i]
		if t < at.ClipStart || t > at.ClipEnd {
			continue
		}
		// The sample's middle, so that rounding cannot put two samples in
		// one column and none in the next.
		u := at.VideoStart + (t-at.ClipStart)*at.Speed + 0.5/video.FPS
		c, ok := column(vm.ColStart, u)
		if !ok {
			continue
		}
		for f, v := range clip.Row(i) {
			cm[f*cols+c] += v
		}
		count[c]++
	}
	for c, k := range count {
		for f := range d {
			if k > 0 {
				cm[f*cols+c] /= float32(k)
			}
		}
	}
	// One scaling for both, from the video's values.
	globalLo, globalHi := slices.Min(vm.Values), slices.Max(vm.Values)
	for f := range d {
		row := vm.Values[f*cols : (f+1)*cols]
		lo, hi := slices.Min(row), slices.Max(row)
		if o.Scaling != PerFeature {
			lo, hi = globalLo, globalHi
		}
		stretch(row, lo, hi)
		crow := cm[f*cols : (f+1)*cols]
		stretch(crow, lo, hi)
		for c := range crow {
			crow[c] = min(max(crow[c], 0), 1)
		}
	}
	order, err := orderRows(vm, o.Order)
	if err != nil {
		return nil, err
	}
	vm.Order = order

	rowH := max(o.RowHeight, 1)
	colW := max(1, (minWidth+cols-1)/cols)
	const labelW, gap, curveH, axisH = 64, 6, 90, 22
	bandH := d * rowH
	w := labelW + cols*colW
	h := 3*(bandH+gap) + curveH + axisH
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	label := &font.Drawer{Dst: img, Src: image.NewUniform(color.Black), Face: basicfont.Face7x13}
	put := func(x, y int, c color.RGBA) {
		for k := range colW {
			for r := range rowH {
				img.SetRGBA(labelW+x*colW+k, y+r, c)
			}
		}
	}
	empty := color.RGBA{235, 235, 235, 255}
	for row, f := range vm.Order {
		for c := range cols {
			g := uint8(vm.Values[f*cols+c]*255 + 0.5)
			put(c, row*rowH, color.RGBA{g, g, g, 255})
			y1 := bandH + gap + row*rowH
			y2 := 2*(bandH+gap) + row*rowH
			if count[c] == 0 {
				put(c, y1, empty)
				put(c, y2, color.RGBA{g, g, g, 255})
				continue
			}
			k := uint8(cm[f*cols+c]*255 + 0.5)
			put(c, y1, color.RGBA{k, k, k, 255})
			put(c, y2, color.RGBA{g, k, g, 255})
		}
	}
	for i, name := range []string{"video", "clip", "overlay"} {
		label.Dot = fixed.P(4, i*(bandH+gap)+min(bandH, 40)/2+5)
		label.DrawString(name)
	}
	top := 3 * (bandH + gap)
	drawCurve(img, vm, curve, at, image.Rect(labelW, top, w, top+curveH), colW)
	label.Dot = fixed.P(4, top+curveH/2+5)
	label.DrawString("score")
	// The axis draws under the columns; shift it right of the labels.
	axis := image.NewRGBA(image.Rect(0, 0, cols*colW, axisH))
	draw.Draw(axis, axis.Bounds(), image.White, image.Point{}, draw.Src)
	drawAxis(axis, vm, 0, colW, nil)
	draw.Draw(img, image.Rect(labelW, top+curveH, w, h), axis, image.Point{}, draw.Src)
	return img, nil
}

// column finds the video column holding time t.
func column(colStart []float64, t float64) (int, bool) {
	cols := len(colStart) - 1
	if t < colStart[0] || t >= colStart[cols] {
		return 0, false
	}
	c, _ := slices.BinarySearch(colStart[:cols], t)
	if c == cols || colStart[c] > t {
		c--
	}
	return c, c >= 0
}

// drawCurve plots the similarity curve in r, with the threshold dashed and
// the placed stretch shaded.
func drawCurve(img *image.RGBA, m *Matrix, cv Curve, at Placement, r image.Rectangle, colW int) {
	lo, hi := -0.2, 1.0
	yOf := func(s float64) int {
		s = min(max(s, lo), hi)
		return r.Max.Y - 1 - int(math.Round((s-lo)/(hi-lo)*float64(r.Dy()-1)))
	}
	shade := color.RGBA{200, 235, 200, 255}
	line := color.RGBA{30, 90, 200, 255}
	if !at.Found {
		shade = color.RGBA{245, 215, 215, 255}
	}
	end := at.VideoStart + (at.ClipEnd-at.ClipStart)*at.Speed
	for c := range m.Cols {
		if m.ColStart[c+1] > at.VideoStart && m.ColStart[c] < end {
			for y := r.Min.Y; y < r.Max.Y; y++ {
				for k := range colW {
					img.SetRGBA(r.Min.X+c*colW+k, y, shade)
				}
			}
		}
	}
	grey := color.RGBA{160, 160, 160, 255}
	for x := r.Min.X; x < r.Max.X; x++ {
		img.SetRGBA(x, yOf(0), grey)
		if (x/4)%2 == 0 {
			img.SetRGBA(x, yOf(cv.Mark), color.RGBA{220, 30, 30, 255})
		}
	}
	if len(cv.Scores) == 0 || !(cv.Step > 0) {
		return
	}
	prev := -1
	for c := range m.Cols {
		// The best score of any start within the column's time.
		i0 := int(m.ColStart[c] / cv.Step)
		i1 := max(i0+1, int(math.Ceil(m.ColStart[c+1]/cv.Step)))
		best := math.Inf(-1)
		for i := max(i0, 0); i < min(i1, len(cv.Scores)); i++ {
			best = math.Max(best, cv.Scores[i])
		}
		if math.IsInf(best, -1) {
			continue
		}
		y := yOf(best)
		for k := range colW {
			x := r.Min.X + c*colW + k
			if prev >= 0 {
				for yy := min(prev, y); yy <= max(prev, y); yy++ {
					img.SetRGBA(x, yy, line)
				}
			}
			img.SetRGBA(x, y, line)
			prev = y
		}
	}
}
