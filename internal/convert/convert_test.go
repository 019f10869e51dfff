package convert

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/vidprint/vidprint/internal/gguf"
	"github.com/vidprint/vidprint/internal/testutil"
)

// conv2d is a direct NCHW convolution (batch 1) used as the reference.
func conv2d(x []float32, c, h, w int, wt []float32, bias []float32, out, k, stride, groups int) (y []float32, oh, ow int) {
	p := k / 2
	oh, ow = (h+2*p-k)/stride+1, (w+2*p-k)/stride+1
	y = make([]float32, out*oh*ow)
	inPer, outPer := c/groups, out/groups
	for o := range out {
		g := o / outPer
		for oy := range oh {
			for ox := range ow {
				var s float64
				if bias != nil {
					s = float64(bias[o])
				}
				for ci := range inPer {
					ic := g*inPer + ci
					for ky := range k {
						iy := oy*stride - p + ky
						if iy < 0 || iy >= h {
							continue
						}
						for kx := range k {
							ix := ox*stride - p + kx
							if ix < 0 || ix >= w {
								continue
							}
							s += float64(wt[((o*inPer+ci)*k+ky)*k+kx]) * float64(x[(ic*h+iy)*w+ix])
						}
					}
				}
				y[(o*oh+oy)*ow+ox] = float32(s)
			}
		}
	}
	return y, oh, ow
}

// batchNorm applies inference batch norm in place.
func batchNorm(x []float32, c int, gamma, beta, mean, variance []float32, eps float64) {
	per := len(x) / c
	for ch := range c {
		sd := math.Sqrt(float64(variance[ch]) + eps)
		for i := ch * per; i < (ch+1)*per; i++ {
			x[i] = float32((float64(x[i])-float64(mean[ch]))/sd*float64(gamma[ch]) + float64(beta[ch]))
		}
	}
}

func TestFoldBN(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	rnd := func(n int, lo, hi float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(lo + (hi-lo)*rng.Float64())
		}
		return v
	}
	const in, out, k, h, w = 3, 2, 3, 5, 6
	const eps = 1e-3
	x := rnd(in*h*w, -2, 2)
	wt := rnd(out*in*k*k, -1, 1)
	gamma, beta, mean := rnd(out, 0.5, 2), rnd(out, -1, 1), rnd(out, -1, 1)
	variance := rnd(out, 0.01, 3)
	variance[0] = 0 // eps must keep this finite

	direct, _, _ := conv2d(x, in, h, w, wt, nil, out, k, 2, 1)
	batchNorm(direct, out, gamma, beta, mean, variance, eps)

	fw, fb, err := foldBN(wt, gamma, beta, mean, variance, eps)
	if err != nil {
		t.Fatal(err)
	}
	folded, _, _ := conv2d(x, in, h, w, fw, fb, out, k, 2, 1)
	for i := range direct {
		if d := math.Abs(float64(direct[i] - folded[i])); d > 1e-4 {
			t.Errorf("output %d: direct %g, folded %g", i, direct[i], folded[i])
		}
	}

	if _, _, err := foldBN(wt, gamma, beta[:1], mean, variance, eps); err == nil {
		t.Error("mismatched channel params: no error")
	}
	if _, _, err := foldBN(wt, gamma, beta, mean, []float32{-1, 1}, eps); err == nil {
		t.Error("negative variance: no error")
	}
}

func TestMakeDivisible(t *testing.T) {
	// torchvision's SE sizes for the small config: expanded/4 -> squeeze.
	for v, want := range map[int]int{4: 8, 18: 24, 24: 24, 60: 64, 30: 32, 36: 40, 72: 72, 144: 144, 3: 8} {
		if got := makeDivisible(v, 8); got != want {
			t.Errorf("makeDivisible(%d, 8) = %d, want %d", v, got, want)
		}
	}
}

func readGGUF(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(testutil.QvacGGUF(t))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rename replaces a length-prefixed GGUF string (a key or tensor name)
// with another of the same length.
func rename(t *testing.T, data []byte, old, repl string) []byte {
	t.Helper()
	prefix := binary.LittleEndian.AppendUint64(nil, uint64(len(old)))
	i := bytes.Index(data, append(prefix, old...))
	if i < 0 || len(old) != len(repl) {
		t.Fatalf("cannot rename %q", old)
	}
	c := slices.Clone(data)
	copy(c[i+8:], repl)
	return c
}

// setDim0 changes the first GGUF dim of a 1-D tensor.
func setDim0(t *testing.T, data []byte, name string, d uint64) []byte {
	t.Helper()
	i := bytes.Index(data, append(binary.LittleEndian.AppendUint64(nil, uint64(len(name))), name...))
	if i < 0 {
		t.Fatalf("tensor %q not in file", name)
	}
	c := slices.Clone(data)
	binary.LittleEndian.PutUint64(c[i+8+len(name)+4:], d) // skip the n_dims u32
	return c
}

func TestConvertInfo(t *testing.T) {
	f, err := gguf.Parse(readGGUF(t))
	if err != nil {
		t.Fatal(err)
	}
	_, info, err := MobileNetV3Small(f)
	if err != nil {
		t.Fatal(err)
	}
	if info.ImageSize != 224 || info.PooledDim != 576 || info.EmbeddingDim != 1024 ||
		!slices.Equal(info.Classes, []string{"food", "report", "other"}) ||
		info.Mean != [3]float32{0.485, 0.456, 0.406} || info.Std != [3]float32{0.229, 0.224, 0.225} ||
		float32(info.BNEps) != 1e-3 {
		t.Errorf("info = %+v", info)
	}
}

func TestConvertRejects(t *testing.T) {
	orig := readGGUF(t)
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"missing tensor", rename(t, orig, "features.5.block.1.0.weight", "features.5.block.1.0.weighX"), `tensor "features.5.block.1.0.weight" not found`},
		{"missing BN", rename(t, orig, "features.12.1.running_var", "features.12.1.running_vaX"), `"features.12.1.running_var" not found`},
		{"missing SE", rename(t, orig, "features.9.block.2.fc2.bias", "features.9.block.2.fc2.biaX"), `"features.9.block.2.fc2.bias" not found`},
		{"wrong shape", setDim0(t, orig, "classifier.0.bias", 1023), `tensor "classifier.0.bias" has shape [1023], want [1024]`},
		{"wrong BN shape", setDim0(t, orig, "features.3.block.1.1.bias", 80), `tensor "features.3.block.1.1.bias" has shape [80], want [88]`},
		{"extra tensor", rename(t, orig, "features.12.1.num_batches_tracked", "features.12.1.num_batches_trackeX"), `unexpected tensor "features.12.1.num_batches_trackeX"`},
		{"missing class", rename(t, orig, "mobilenet.class_2", "mobilenet.class_X"), `"mobilenet.class_2" missing`},
		{"missing mean", rename(t, orig, "mobilenet.mean_g", "mobilenet.mean_X"), `"mobilenet.mean_g" missing`},
		{"missing size", rename(t, orig, "mobilenet.image_size", "mobilenet.image_sizX"), `"mobilenet.image_size" missing`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := gguf.Parse(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = MobileNetV3Small(f)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}

	t.Run("default eps", func(t *testing.T) {
		f, err := gguf.Parse(rename(t, orig, "mobilenet.bn_eps", "mobilenet.bn_epX"))
		if err != nil {
			t.Fatal(err)
		}
		_, info, err := MobileNetV3Small(f)
		if err != nil || info.BNEps != DefaultBNEps {
			t.Fatalf("eps %g, err %v", info.BNEps, err)
		}
	})
}
