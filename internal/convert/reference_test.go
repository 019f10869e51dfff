package convert

import (
	"math"
	"strconv"
	"testing"

	"github.com/vidprint/vidprint/internal/gguf"
)

// The reference below restates torchvision's mobilenet_v3_small forward
// pass directly, independently of the ONNX builder: its own block table
// (copied from MODEL.md), batch norm applied unfolded, SE sizes read from
// the weights.

type fmap struct {
	d       []float32
	c, h, w int
}

type refNet struct {
	t   *testing.T
	f   *gguf.File
	eps float64
}

func (r *refNet) get(name string) ([]float32, []int) {
	r.t.Helper()
	d, dims, err := r.f.Float32s(name)
	if err != nil {
		r.t.Fatal(err)
	}
	return d, dims
}

func hardswish(x float64) float64   { return x * math.Min(math.Max(x+3, 0), 6) / 6 }
func hardsigmoid(x float64) float64 { return math.Min(math.Max(x+3, 0), 6) / 6 }
func relu(x float64) float64        { return math.Max(x, 0) }

func apply(x []float32, fn func(float64) float64) {
	for i, v := range x {
		x[i] = float32(fn(float64(v)))
	}
}

// cna is Conv2dNormActivation: bias-free conv, batch norm, optional act.
func (r *refNet) cna(name string, x fmap, k, stride, groups int, act func(float64) float64) fmap {
	w, dims := r.get(name + ".0.weight") // GGUF dims: kw, kh, in/groups, out
	out := dims[3]
	y, oh, ow := conv2d(x.d, x.c, x.h, x.w, w, nil, out, k, stride, groups)
	g, _ := r.get(name + ".1.weight")
	b, _ := r.get(name + ".1.bias")
	mean, _ := r.get(name + ".1.running_mean")
	v, _ := r.get(name + ".1.running_var")
	batchNorm(y, out, g, b, mean, v, r.eps)
	if act != nil {
		apply(y, act)
	}
	return fmap{y, out, oh, ow}
}

func (r *refNet) se(name string, x fmap) fmap {
	hw := x.h * x.w
	pooled := make([]float32, x.c)
	for c := range x.c {
		var s float64
		for _, v := range x.d[c*hw : (c+1)*hw] {
			s += float64(v)
		}
		pooled[c] = float32(s / float64(hw))
	}
	w1, d1 := r.get(name + ".fc1.weight")
	b1, _ := r.get(name + ".fc1.bias")
	w2, _ := r.get(name + ".fc2.weight")
	b2, _ := r.get(name + ".fc2.bias")
	sq := d1[3]
	h := dense(pooled, w1, b1, sq)
	apply(h, relu)
	s := dense(h, w2, b2, x.c)
	apply(s, hardsigmoid)
	y := make([]float32, len(x.d))
	for c := range x.c {
		for i := c * hw; i < (c+1)*hw; i++ {
			y[i] = x.d[i] * s[c]
		}
	}
	return fmap{y, x.c, x.h, x.w}
}

// dense is y = W x + b with W [out, in] row-major.
func dense(x, w, b []float32, out int) []float32 {
	y := make([]float32, out)
	for o := range out {
		s := float64(b[o])
		for i, v := range x {
			s += float64(w[o*len(x)+i]) * float64(v)
		}
		y[o] = float32(s)
	}
	return y
}

func reference(t *testing.T, f *gguf.File, info Info, x []float32) outputs {
	r := &refNet{t: t, f: f, eps: info.BNEps}
	s := info.ImageSize
	h := r.cna("features.0", fmap{x, 3, s, s}, 3, 2, 1, hardswish)
	// in, kernel, expanded, out, se, hardswish, stride
	cfg := [][7]int{
		{16, 3, 16, 16, 1, 0, 2},
		{16, 3, 72, 24, 0, 0, 2},
		{24, 3, 88, 24, 0, 0, 1},
		{24, 5, 96, 40, 1, 1, 2},
		{40, 5, 240, 40, 1, 1, 1},
		{40, 5, 240, 40, 1, 1, 1},
		{40, 5, 120, 48, 1, 1, 1},
		{48, 5, 144, 48, 1, 1, 1},
		{48, 5, 288, 96, 1, 1, 2},
		{96, 5, 576, 96, 1, 1, 1},
		{96, 5, 576, 96, 1, 1, 1},
	}
	for i, c := range cfg {
		name := "features." + strconv.Itoa(i+1) + ".block."
		act := relu
		if c[5] == 1 {
			act = hardswish
		}
		in := h
		j := 0
		if c[2] != c[0] {
			h = r.cna(name+strconv.Itoa(j), h, 1, 1, 1, act)
			j++
		}
		h = r.cna(name+strconv.Itoa(j), h, c[1], c[6], c[2], act)
		j++
		if c[4] == 1 {
			h = r.se(name+strconv.Itoa(j), h)
			j++
		}
		h = r.cna(name+strconv.Itoa(j), h, 1, 1, 1, nil)
		if c[6] == 1 && c[0] == c[3] {
			for k := range h.d {
				h.d[k] += in.d[k]
			}
		}
	}
	h = r.cna("features.12", h, 1, 1, 1, hardswish)
	hw := h.h * h.w
	pooled := make([]float32, h.c)
	for c := range h.c {
		var sum float64
		for _, v := range h.d[c*hw : (c+1)*hw] {
			sum += float64(v)
		}
		pooled[c] = float32(sum / float64(hw))
	}
	w0, d0 := r.get("classifier.0.weight")
	b0, _ := r.get("classifier.0.bias")
	emb := dense(pooled, w0, b0, d0[1])
	apply(emb, hardswish)
	w3, d3 := r.get("classifier.3.weight")
	b3, _ := r.get("classifier.3.bias")
	logits := dense(emb, w3, b3, d3[1])
	return outputs{pooled, emb, logits}
}
