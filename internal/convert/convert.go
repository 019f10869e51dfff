// Package convert turns the MobileNetV3-Small weights shipped as GGUF into
// an ONNX model that ONNX Runtime runs, so installing the default model
// needs neither Python nor a download. The graph mirrors torchvision's
// mobilenet_v3_small exactly, with batch norm folded into the convolutions.
package convert

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/vidprint/vidprint/internal/gguf"
	"github.com/vidprint/vidprint/internal/onnxpb"
)

// Names of the model's input and outputs.
const (
	InputName     = "input"     // float32 [N,3,S,S], normalized RGB
	PooledName    = "pooled"    // float32 [N,576], globally pooled features.12
	EmbeddingName = "embedding" // float32 [N,1024], classifier.0 + hardswish
	LogitsName    = "logits"    // float32 [N,classes], classifier.3
)

// Opset is the ONNX opset the graph targets; IRVersion matches it.
const (
	Opset     = 17
	IRVersion = 8
)

// DefaultBNEps is torchvision's batch norm epsilon for MobileNetV3, used
// when the file does not say.
const DefaultBNEps = 1e-3

// Info is what a caller needs to feed the model and read its outputs.
type Info struct {
	ImageSize    int        // input height and width
	Mean, Std    [3]float32 // per RGB channel, applied after scaling to [0,1]
	Classes      []string   // logits order
	PooledDim    int        // 576
	EmbeddingDim int        // 1024
	BNEps        float64
}

// block is one inverted residual block of torchvision's small config.
type block struct {
	in, kernel, expanded, out int
	se, hardswish             bool
	stride                    int
}

// smallBlocks is torchvision's mobilenet_v3_small config, features.1..11.
var smallBlocks = [...]block{
	{16, 3, 16, 16, true, false, 2},
	{16, 3, 72, 24, false, false, 2},
	{24, 3, 88, 24, false, false, 1},
	{24, 5, 96, 40, true, true, 2},
	{40, 5, 240, 40, true, true, 1},
	{40, 5, 240, 40, true, true, 1},
	{40, 5, 120, 48, true, true, 1},
	{48, 5, 144, 48, true, true, 1},
	{48, 5, 288, 96, true, true, 2},
	{96, 5, 576, 96, true, true, 1},
	{96, 5, 576, 96, true, true, 1},
}

const (
	stemChannels = 16
	lastChannels = 576  // features.12: 6 * 96
	embedDim     = 1024 // classifier.0 output
)

// Options choose what the written model exposes.
type Options struct {
	// Outputs names the graph outputs, in order: any of PooledName,
	// EmbeddingName and LogitsName, each at most once. Empty means all
	// three, in that order. Nodes and weights that no chosen output needs
	// are left out of the file.
	Outputs []string
}

// Validate reports an unknown or repeated output name.
func (o Options) Validate() error {
	seen := make(map[string]bool, len(o.Outputs))
	for _, name := range o.Outputs {
		switch name {
		case PooledName, EmbeddingName, LogitsName:
		default:
			return fmt.Errorf("unknown output %q (want %s, %s or %s)", name, PooledName, EmbeddingName, LogitsName)
		}
		if seen[name] {
			return fmt.Errorf("output %q named twice", name)
		}
		seen[name] = true
	}
	return nil
}

// MobileNetV3Small converts the GGUF weights into a serialized ONNX model
// with all three outputs. Every tensor is checked for presence and shape,
// and tensors the architecture does not use are an error, so another model
// is rejected rather than half-converted.
func MobileNetV3Small(f *gguf.File) (onnx []byte, info Info, err error) {
	return MobileNetV3SmallWith(f, Options{})
}

// MobileNetV3SmallWith is MobileNetV3Small with options. The checks on the
// weights are the same whichever outputs are kept.
func MobileNetV3SmallWith(f *gguf.File, opts Options) (onnx []byte, info Info, err error) {
	if err := opts.Validate(); err != nil {
		return nil, Info{}, fmt.Errorf("convert: %w", err)
	}
	info, err = readInfo(f)
	if err != nil {
		return nil, Info{}, err
	}
	b := &builder{f: f, eps: info.BNEps, used: make(map[string]bool)}
	m := &onnxpb.Model{
		IRVersion:    IRVersion,
		ProducerName: "vidprint",
		DocString:    "torchvision MobileNetV3-Small converted from GGUF; batch norm folded",
		Opsets:       []onnxpb.OpsetID{{Version: Opset}},
		Metadata:     metadata(info),
	}
	m.Graph.Name = "mobilenet_v3_small"
	b.g = &m.Graph
	b.build(info)
	if b.err != nil {
		return nil, Info{}, fmt.Errorf("convert: %w", b.err)
	}
	for _, t := range f.Tensors {
		if !b.used[t.Name] && !strings.HasSuffix(t.Name, ".num_batches_tracked") {
			return nil, Info{}, fmt.Errorf("convert: unexpected tensor %q %v: not torchvision MobileNetV3-Small", t.Name, t.Dims)
		}
	}
	if len(opts.Outputs) > 0 {
		keepOutputs(b.g, opts.Outputs)
	}
	onnx, err = m.Marshal()
	if err != nil {
		return nil, Info{}, fmt.Errorf("convert: %w", err)
	}
	return onnx, info, nil
}

func readInfo(f *gguf.File) (Info, error) {
	info := Info{PooledDim: lastChannels, EmbeddingDim: embedDim, BNEps: DefaultBNEps}
	size, err := f.Uint("mobilenet.image_size")
	if err != nil {
		return Info{}, fmt.Errorf("convert: %w", err)
	}
	if size < 32 || size > 4096 {
		return Info{}, fmt.Errorf("convert: mobilenet.image_size %d out of range", size)
	}
	info.ImageSize = int(size)
	for i, c := range []string{"r", "g", "b"} {
		mean, err := f.Float("mobilenet.mean_" + c)
		if err != nil {
			return Info{}, fmt.Errorf("convert: %w", err)
		}
		std, err := f.Float("mobilenet.std_" + c)
		if err != nil {
			return Info{}, fmt.Errorf("convert: %w", err)
		}
		if !(std > 0) {
			return Info{}, fmt.Errorf("convert: mobilenet.std_%s = %g, want > 0", c, std)
		}
		info.Mean[i], info.Std[i] = float32(mean), float32(std)
	}
	if _, ok := f.Meta("mobilenet.bn_eps"); ok {
		if info.BNEps, err = f.Float("mobilenet.bn_eps"); err != nil {
			return Info{}, fmt.Errorf("convert: %w", err)
		}
		if !(info.BNEps > 0 && info.BNEps < 1) {
			return Info{}, fmt.Errorf("convert: mobilenet.bn_eps = %g out of range", info.BNEps)
		}
	}
	// The class count comes from the last layer; the metadata must name each.
	head, ok := f.Tensor("classifier.3.bias")
	if !ok || len(head.Dims) != 1 || head.Dims[0] == 0 || head.Dims[0] > 1<<16 {
		return Info{}, fmt.Errorf("convert: tensor \"classifier.3.bias\" missing or not a vector (dims %v)", head.Dims)
	}
	n := int(head.Dims[0])
	if nc, err := f.Uint("mobilenet.num_classes"); err == nil && nc != uint64(n) {
		return Info{}, fmt.Errorf("convert: mobilenet.num_classes = %d but classifier.3 has %d outputs", nc, n)
	}
	for i := range n {
		name, err := f.String(fmt.Sprintf("mobilenet.class_%d", i))
		if err != nil {
			return Info{}, fmt.Errorf("convert: %w", err)
		}
		info.Classes = append(info.Classes, name)
	}
	return info, nil
}

// metadata records the preprocessing contract inside the ONNX file.
func metadata(info Info) []onnxpb.Prop {
	floats := func(v [3]float32) string {
		s := make([]string, len(v))
		for i, x := range v {
			s[i] = strconv.FormatFloat(float64(x), 'g', -1, 32)
		}
		return strings.Join(s, ",")
	}
	return []onnxpb.Prop{
		{Key: "vidprint.image_size", Value: strconv.Itoa(info.ImageSize)},
		{Key: "vidprint.mean", Value: floats(info.Mean)},
		{Key: "vidprint.std", Value: floats(info.Std)},
		{Key: "vidprint.classes", Value: strings.Join(info.Classes, ",")},
	}
}

// builder emits the graph. The first error sticks and later calls do
// nothing, which keeps the layer code free of error plumbing.
type builder struct {
	f    *gguf.File
	g    *onnxpb.Graph
	eps  float64
	used map[string]bool
	err  error
}

func (b *builder) build(info Info) {
	s := int64(info.ImageSize)
	b.g.Inputs = []onnxpb.ValueInfo{{Name: InputName, ElemType: onnxpb.Float,
		Shape: []onnxpb.Dim{{Param: "N"}, {Value: 3}, {Value: s}, {Value: s}}}}
	batch := func(d int) []onnxpb.Dim { return []onnxpb.Dim{{Param: "N"}, {Value: int64(d)}} }
	b.g.Outputs = []onnxpb.ValueInfo{
		{Name: PooledName, ElemType: onnxpb.Float, Shape: batch(lastChannels)},
		{Name: EmbeddingName, ElemType: onnxpb.Float, Shape: batch(embedDim)},
		{Name: LogitsName, ElemType: onnxpb.Float, Shape: batch(len(info.Classes))},
	}

	x := b.convBN("features.0", InputName, 3, stemChannels, 3, 2, 1, "HardSwish")
	for i, blk := range smallBlocks {
		x = b.invertedResidual(fmt.Sprintf("features.%d", i+1), x, blk)
	}
	x = b.convBN("features.12", x, smallBlocks[len(smallBlocks)-1].out, lastChannels, 1, 1, 1, "HardSwish")
	x = b.g.AddNode("avgpool", "GlobalAveragePool", []string{x}, []string{"avgpool"})
	x = b.g.AddNode("flatten", "Flatten", []string{x}, []string{PooledName}, onnxpb.IntAttr("axis", 1))
	x = b.linear("classifier.0", x, lastChannels, embedDim, "classifier.0")
	x = b.g.AddNode("classifier.1", "HardSwish", []string{x}, []string{EmbeddingName})
	// classifier.2 is Dropout: identity at inference.
	b.linear("classifier.3", x, embedDim, len(info.Classes), LogitsName)
}

// keepOutputs makes names the graph's outputs, in that order, and drops
// the nodes and initializers none of them depends on. Node order stays
// topological. With all three outputs nothing is dropped.
func keepOutputs(g *onnxpb.Graph, names []string) {
	byName := make(map[string]onnxpb.ValueInfo, len(g.Outputs))
	for _, vi := range g.Outputs {
		byName[vi.Name] = vi
	}
	needed := make(map[string]bool)
	outputs := make([]onnxpb.ValueInfo, 0, len(names))
	for _, name := range names {
		outputs = append(outputs, byName[name])
		needed[name] = true
	}
	keep := make([]bool, len(g.Nodes))
	for i := len(g.Nodes) - 1; i >= 0; i-- {
		n := g.Nodes[i]
		for _, out := range n.Outputs {
			keep[i] = keep[i] || needed[out]
		}
		if keep[i] {
			for _, in := range n.Inputs {
				needed[in] = true
			}
		}
	}
	nodes := g.Nodes[:0:0]
	for i, n := range g.Nodes {
		if keep[i] {
			nodes = append(nodes, n)
		}
	}
	inits := g.Initializers[:0:0]
	for _, t := range g.Initializers {
		if needed[t.Name] {
			inits = append(inits, t)
		}
	}
	g.Outputs, g.Nodes, g.Initializers = outputs, nodes, inits
}

// invertedResidual follows torchvision's InvertedResidual: optional 1x1
// expand, depthwise kxk, optional squeeze-excitation, 1x1 project with no
// activation, and a residual when shape is preserved.
func (b *builder) invertedResidual(name, x string, blk block) string {
	act := "Relu"
	if blk.hardswish {
		act = "HardSwish"
	}
	in := x
	j := 0
	sub := func() string {
		j++
		return fmt.Sprintf("%s.block.%d", name, j-1)
	}
	if blk.expanded != blk.in {
		x = b.convBN(sub(), x, blk.in, blk.expanded, 1, 1, 1, act)
	}
	x = b.convBN(sub(), x, blk.expanded, blk.expanded, blk.kernel, blk.stride, blk.expanded, act)
	if blk.se {
		x = b.squeezeExcite(sub(), x, blk.expanded, makeDivisible(blk.expanded/4, 8))
	}
	x = b.convBN(sub(), x, blk.expanded, blk.out, 1, 1, 1, "")
	if blk.stride == 1 && blk.in == blk.out {
		x = b.g.AddNode(name+".add", "Add", []string{in, x}, []string{name + ".add"})
	}
	return x
}

// makeDivisible is torchvision's _make_divisible, which sizes the SE layers.
func makeDivisible(v, divisor int) int {
	n := max(divisor, (v+divisor/2)/divisor*divisor)
	if float64(n) < 0.9*float64(v) {
		n += divisor
	}
	return n
}

// convBN emits Conv2dNormActivation: conv (no bias) + BN folded, then act
// ("" for none). Tensors are name.0.weight and name.1.*.
func (b *builder) convBN(name, x string, in, out, k, stride, groups int, act string) string {
	w := b.load(name+".0.weight", out, in/groups, k, k)
	gamma := b.load(name+".1.weight", out)
	beta := b.load(name+".1.bias", out)
	mean := b.load(name+".1.running_mean", out)
	variance := b.load(name+".1.running_var", out)
	if b.err != nil {
		return ""
	}
	fw, fb, err := foldBN(w, gamma, beta, mean, variance, b.eps)
	if err != nil {
		b.err = fmt.Errorf("%s: %w", name, err)
		return ""
	}
	wn := b.g.AddInitializer(onnxpb.FloatTensor(name+".fused.weight", dims(out, in/groups, k, k), fw))
	bn := b.g.AddInitializer(onnxpb.FloatTensor(name+".fused.bias", dims(out), fb))
	p := int64(k / 2)
	y := b.g.AddNode(name, "Conv", []string{x, wn, bn}, []string{name},
		onnxpb.IntAttr("group", int64(groups)),
		onnxpb.IntsAttr("kernel_shape", int64(k), int64(k)),
		onnxpb.IntsAttr("pads", p, p, p, p),
		onnxpb.IntsAttr("strides", int64(stride), int64(stride)))
	if act == "" {
		return y
	}
	return b.g.AddNode(name+".act", act, []string{y}, []string{name + ".act"})
}

// squeezeExcite is torchvision's SqueezeExcitation with ReLU and
// hardsigmoid: x * hardsigmoid(fc2(relu(fc1(avgpool(x))))).
func (b *builder) squeezeExcite(name, x string, ch, squeeze int) string {
	fc1 := b.conv1x1(name+".fc1", ch, squeeze)
	fc2 := b.conv1x1(name+".fc2", squeeze, ch)
	if b.err != nil {
		return ""
	}
	s := b.g.AddNode(name+".avgpool", "GlobalAveragePool", []string{x}, []string{name + ".avgpool"})
	s = b.g.AddNode(name+".fc1", "Conv", append([]string{s}, fc1...), []string{name + ".fc1"}, onnxpb.IntsAttr("kernel_shape", 1, 1))
	s = b.g.AddNode(name+".relu", "Relu", []string{s}, []string{name + ".relu"})
	s = b.g.AddNode(name+".fc2", "Conv", append([]string{s}, fc2...), []string{name + ".fc2"}, onnxpb.IntsAttr("kernel_shape", 1, 1))
	s = b.g.AddNode(name+".scale", "HardSigmoid", []string{s}, []string{name + ".scale"},
		onnxpb.FloatAttr("alpha", 1.0/6), onnxpb.FloatAttr("beta", 0.5))
	return b.g.AddNode(name+".mul", "Mul", []string{x, s}, []string{name + ".mul"})
}

// conv1x1 adds the initializers of a biased 1x1 conv and returns their names.
func (b *builder) conv1x1(name string, in, out int) []string {
	w := b.load(name+".weight", out, in, 1, 1)
	bias := b.load(name+".bias", out)
	if b.err != nil {
		return nil
	}
	return []string{
		b.g.AddInitializer(onnxpb.FloatTensor(name+".weight", dims(out, in, 1, 1), w)),
		b.g.AddInitializer(onnxpb.FloatTensor(name+".bias", dims(out), bias)),
	}
}

// linear emits nn.Linear as Gemm with the torch [out,in] weight transposed.
func (b *builder) linear(name, x string, in, out int, output string) string {
	w := b.load(name+".weight", out, in)
	bias := b.load(name+".bias", out)
	if b.err != nil {
		return ""
	}
	wn := b.g.AddInitializer(onnxpb.FloatTensor(name+".weight", dims(out, in), w))
	bn := b.g.AddInitializer(onnxpb.FloatTensor(name+".bias", dims(out), bias))
	return b.g.AddNode(name, "Gemm", []string{x, wn, bn}, []string{output}, onnxpb.IntAttr("transB", 1))
}

// load reads a tensor and checks it has the given PyTorch shape (outermost
// first; GGUF stores the reverse).
func (b *builder) load(name string, shape ...int) []float32 {
	if b.err != nil {
		return nil
	}
	data, gdims, err := b.f.Float32s(name)
	if err != nil {
		b.err = err
		return nil
	}
	b.used[name] = true
	torch := make([]int, len(gdims))
	for i, d := range gdims {
		torch[len(gdims)-1-i] = d
	}
	if !slices.Equal(torch, shape) {
		b.err = fmt.Errorf("tensor %q has shape %v, want %v", name, torch, shape)
		return nil
	}
	return data
}

// foldBN folds inference batch norm into a bias-free conv with weights w
// laid out [out, ...]: w' = w*g, b' = beta - mean*g, g = gamma/sqrt(var+eps).
func foldBN(w, gamma, beta, mean, variance []float32, eps float64) (fw, fb []float32, err error) {
	out := len(gamma)
	if out == 0 || len(w)%out != 0 || len(beta) != out || len(mean) != out || len(variance) != out {
		return nil, nil, fmt.Errorf("fold batch norm: %d weights, %d/%d/%d/%d channel params",
			len(w), len(gamma), len(beta), len(mean), len(variance))
	}
	per := len(w) / out
	fw = make([]float32, len(w))
	fb = make([]float32, out)
	for o := range out {
		v := float64(variance[o]) + eps
		if !(v > 0) {
			return nil, nil, fmt.Errorf("fold batch norm: channel %d: running_var %g + eps is not positive", o, variance[o])
		}
		g := float64(gamma[o]) / math.Sqrt(v)
		for i := o * per; i < (o+1)*per; i++ {
			fw[i] = float32(float64(w[i]) * g)
		}
		fb[o] = float32(float64(beta[o]) - float64(mean[o])*g)
	}
	return fw, fb, nil
}

func dims(d ...int) []int64 {
	r := make([]int64, len(d))
	for i, x := range d {
		r[i] = int64(x)
	}
	return r
}
