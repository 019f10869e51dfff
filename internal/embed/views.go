package embed

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/vidprint/vidprint/internal/decode"
	"github.com/vidprint/vidprint/internal/inset"
	"github.com/vidprint/vidprint/internal/view"
	"github.com/vidprint/vidprint/internal/vprint"
)

// ViewFeatures are one view's features of every sampled frame, row-major.
type ViewFeatures struct {
	Name     view.Name
	Features []float32
	// Pixels are the view's grey pictures, PixelWidth x PixelHeight bytes
	// a sample, for the pixel check (match.View.Pixels).
	Pixels []byte
}

// defaultViewEvery: a clip's views after the first (the whole frame) are
// embedded on every second sample; the whole frame, which places the clip
// to the sample, on every one.
const defaultViewEvery = 2

// viewScale is how much larger than the model's input frames are decoded,
// so that a half-frame window still has the model's full resolution.
const viewScale = 2

// Views embeds every view of every sampled frame of a short video, such as
// a clip to locate. It returns the sample times and one feature series per
// view. Memory grows with the clip's length times the views.
//
// Inset views cost a second decoding pass, and only when the first pass
// found a picture-in-picture.
func Views(ctx context.Context, path string, pool *Pool, opts Options, specs []view.Spec) ([]float64, []ViewFeatures, error) {
	if pool.Size() == 0 {
		return nil, nil, errors.New("embed: a pool without sessions")
	}
	return views(ctx, path, pool, opts, specs, true)
}

// ViewPixels is Views without the model: the views' pictures alone (their
// Features nil), from the same decoding, for features kept from before.
func ViewPixels(ctx context.Context, path string, pool *Pool, opts Options, specs []view.Spec) ([]float64, []ViewFeatures, error) {
	return views(ctx, path, pool, opts, specs, false)
}

func views(ctx context.Context, path string, pool *Pool, opts Options, specs []view.Spec, features bool) ([]float64, []ViewFeatures, error) {
	if len(specs) == 0 {
		return nil, nil, errors.New("embed: no views")
	}
	if opts.FPS == 0 {
		opts.FPS = vprint.DefaultFPS
	}
	if opts.ViewEvery == 0 {
		opts.ViewEvery = defaultViewEvery
	}
	var fixed, insets []view.Spec
	for _, s := range specs {
		if s.Inset {
			insets = append(insets, s)
		} else {
			fixed = append(fixed, s)
		}
	}
	var lumas *lumaFrames
	if len(insets) > 0 {
		lumas = &lumaFrames{}
	}
	times, out, err := embedViews(ctx, path, pool, opts, fixed, lumas, features)
	if err != nil || len(insets) == 0 {
		return times, out, err
	}
	rects := inset.FindAll(slices.DeleteFunc(lumas.frames, func(f []byte) bool { return f == nil }), lumas.w, lumas.h)
	placed := insets[:0]
	for _, s := range insets {
		if s.InsetRank >= len(rects) {
			continue
		}
		rect := rects[s.InsetRank]
		if s.W == 0 || s.H == 0 {
			s.X, s.Y, s.W, s.H = 0, 0, 1, 1
		}
		s.X, s.Y = rect.X+s.X*rect.W, rect.Y+s.Y*rect.H
		s.W, s.H = s.W*rect.W, s.H*rect.H
		placed = append(placed, s)
	}
	if len(placed) == 0 {
		return times, out, nil
	}
	insets = placed
	// The second pass's progress would count the frames again.
	opts.Progress = nil
	again, more, err := embedViews(ctx, path, pool, opts, insets, nil, features)
	if err != nil {
		return nil, nil, err
	}
	if len(again) != len(times) {
		return nil, nil, fmt.Errorf("%s: %d samples on the second pass, %d on the first", path, len(again), len(times))
	}
	return times, append(out, more...), nil
}

// maxInsetFrames bounds the frames kept for inset.FindAll: an inset stays put,
// so the first samples show it, and memory stays small for long clips.
const maxInsetFrames = 150

// lumaFrames collects grey frames at half the decoded size for inset.FindAll.
type lumaFrames struct {
	w, h   int
	frames [][]byte
}

// add keeps sample idx's luma plane, w x h (see halfLuma).
func (l *lumaFrames) add(idx int, y []byte, w, h int) {
	if idx >= maxInsetFrames {
		return
	}
	if idx >= len(l.frames) {
		l.frames = append(l.frames, make([][]byte, idx+1-len(l.frames))...)
	}
	l.w, l.h = w, h
	l.frames[idx] = y
}

// embedViews is one decoding pass embedding specs (without the model
// unless features); lumas, if not nil, collects grey frames on the way.
func embedViews(ctx context.Context, path string, pool *Pool, opts Options, specs []view.Spec, lumas *lumaFrames, features bool) ([]float64, []ViewFeatures, error) {
	res := pool.Model()
	width, height := viewScale*res.Spec.Pre.Width, viewScale*res.Spec.Pre.Height
	dim := res.Output.Dim
	const pp = PixelWidth * PixelHeight
	p := pass{
		decode: decode.Options{FPS: opts.FPS, Width: width, Height: height,
			Threads: opts.DecodeThread, Fast: opts.Fast, Partial: opts.Partial, AllowStill: opts.AllowStill,
			Start: opts.Start, End: opts.End},
		specs: specs, infer: features, progress: opts.Progress, every: opts.ViewEvery,
		eager: len(specs) > 1,
		// One grey plane at half size serves inset.FindAll and the views'
		// pictures.
		extra: func(n int, raw []byte) any {
			y, yw, yh := halfLuma(raw, width, height)
			if lumas != nil {
				lumas.add(n, y, yw, yh)
			}
			sums := newLumaSums(y, yw, yh)
			pics := make([]byte, len(specs)*pp)
			for v, s := range specs {
				sums.picture(pics[v*pp:(v+1)*pp], PixelWidth, PixelHeight, s.X, s.Y, s.W, s.H, s.Flip)
			}
			return pics
		},
	}
	var times []float64
	rowsOf := make([][]float32, len(specs))
	pixelsOf := make([][]byte, len(specs))
	_, err := p.run(ctx, path, pool, func(ts float64, row []float32, extra any) error {
		times = append(times, ts)
		pics := extra.([]byte)
		for v := range specs {
			if features {
				rowsOf[v] = append(rowsOf[v], row[v*dim:(v+1)*dim]...)
			}
			pixelsOf[v] = append(pixelsOf[v], pics[v*pp:(v+1)*pp]...)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if len(times) == 0 {
		return nil, nil, fmt.Errorf("%s: no video frames", path)
	}
	out := make([]ViewFeatures, len(specs))
	for v, s := range specs {
		out[v] = ViewFeatures{Name: s.Name, Features: rowsOf[v], Pixels: pixelsOf[v]}
	}
	return times, out, nil
}

// sampler resizes one rectangle of a planar frame to the model's input by
// bilinear interpolation at output pixel centres. At the 2x reduction of a
// whole frame that is the mean of each 2x2 block.
type sampler struct {
	srcW, srcH, dstW, dstH int
	x0, x1, y0, y1         []int     // source columns and rows per output pixel
	wx, wy                 []float32 // weight of x1 and y1
	// kind picks a fast path that gives the same bytes as the general
	// one: a plain copy of a rectangle, or the mean of 2x2 blocks. A
	// print's whole frame and quarters and a clip's windows are these.
	kind sampleKind
}

type sampleKind int

const (
	bilinear sampleKind = iota
	copyRect
	halve
)

func newSampler(s view.Spec, srcW, srcH, dstW, dstH int) *sampler {
	sm := &sampler{srcW: srcW, srcH: srcH, dstW: dstW, dstH: dstH}
	sm.x0, sm.x1, sm.wx = taps(s.X*float64(srcW), s.W*float64(srcW), srcW, dstW, s.Flip)
	sm.y0, sm.y1, sm.wy = taps(s.Y*float64(srcH), s.H*float64(srcH), srcH, dstH, false)
	switch {
	case steps(sm.x0, sm.wx, 1, 0) && steps(sm.y0, sm.wy, 1, 0):
		sm.kind = copyRect
	case (steps(sm.x0, sm.wx, 2, 0.5) || steps(sm.x0, sm.wx, -2, 0.5)) && steps(sm.y0, sm.wy, 2, 0.5) &&
		unclamped(sm.x0, sm.x1) && unclamped(sm.y0, sm.y1):
		sm.kind = halve
	}
	return sm
}

// unclamped reports whether every second tap is the pixel after the first.
func unclamped(lo, hi []int) bool {
	for i := range lo {
		if hi[i] != lo[i]+1 {
			return false
		}
	}
	return true
}

// steps reports whether the taps advance by step source pixels an output
// pixel with every weight w.
func steps(lo []int, w []float32, step int, weight float32) bool {
	for i := range lo {
		if w[i] != weight || lo[i] != lo[0]+i*step {
			return false
		}
	}
	return true
}

// taps maps each of n output positions into the source span [start,
// start+size) of a dimension of length limit.
func taps(start, size float64, limit, n int, flip bool) (lo, hi []int, w []float32) {
	lo, hi, w = make([]int, n), make([]int, n), make([]float32, n)
	for o := range n {
		pos := o
		if flip {
			pos = n - 1 - o
		}
		src := start + (float64(pos)+0.5)*size/float64(n) - 0.5
		src = math.Max(0, math.Min(float64(limit-1), src))
		i := int(src)
		lo[o], hi[o], w[o] = i, min(i+1, limit-1), float32(src-float64(i))
	}
	return lo, hi, w
}

// sample fills dst (planar, the model's size) from src (planar, the decoded
// size). The planes' order does not matter: each is resized alike.
func (s *sampler) sample(dst, src []byte) {
	switch s.kind {
	case copyRect:
		s.copyRect(dst, src)
		return
	case halve:
		s.halve(dst, src)
		return
	}
	s.bilinear(dst, src)
}

func (s *sampler) copyRect(dst, src []byte) {
	sp, dp := s.srcW*s.srcH, s.dstW*s.dstH
	for c := range 3 {
		in, out := src[c*sp:(c+1)*sp], dst[c*dp:(c+1)*dp]
		for y := range s.dstH {
			at := s.y0[y]*s.srcW + s.x0[0]
			copy(out[y*s.dstW:(y+1)*s.dstW], in[at:at+s.dstW])
		}
	}
}

// halve rounds the mean of each 2x2 block half up, as the bilinear path
// does in exact float32 arithmetic; the blocks may run right to left (a
// mirrored view).
func (s *sampler) halve(dst, src []byte) {
	sp, dp := s.srcW*s.srcH, s.dstW*s.dstH
	for c := range 3 {
		in, out := src[c*sp:(c+1)*sp], dst[c*dp:(c+1)*dp]
		for y := range s.dstH {
			r0 := in[s.y0[y]*s.srcW : (s.y0[y]+1)*s.srcW]
			r1 := in[(s.y0[y]+1)*s.srcW : (s.y0[y]+2)*s.srcW]
			row := out[y*s.dstW : (y+1)*s.dstW]
			for x, a := range s.x0[:len(row)] {
				sum := uint(r0[a]) + uint(r0[a+1]) + uint(r1[a]) + uint(r1[a+1])
				row[x] = uint8((sum + 2) >> 2)
			}
		}
	}
}

func (s *sampler) bilinear(dst, src []byte) {
	sp, dp := s.srcW*s.srcH, s.dstW*s.dstH
	for c := range 3 {
		in, out := src[c*sp:(c+1)*sp], dst[c*dp:(c+1)*dp]
		for y := range s.dstH {
			r0, r1, wy := in[s.y0[y]*s.srcW:], in[s.y1[y]*s.srcW:], s.wy[y]
			row := out[y*s.dstW : (y+1)*s.dstW]
			for x := range row {
				a, b, wx := s.x0[x], s.x1[x], s.wx[x]
				top := float32(r0[a]) + wx*(float32(r0[b])-float32(r0[a]))
				bot := float32(r1[a]) + wx*(float32(r1[b])-float32(r1[a]))
				row[x] = uint8(top + wy*(bot-top) + 0.5)
			}
		}
	}
}
