package model

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// ErrRuntime means ONNX Runtime could not be loaded.
var ErrRuntime = errors.New("ONNX Runtime is not available")

// ONNX Runtime keeps one environment per process in the C library itself,
// so this guard mirrors state that already is global.
var (
	ortOnce sync.Once
	ortErr  error
	ortLib  string
)

// InitRuntime loads the ONNX Runtime shared library once per process.
// Calling it again with another path is an error.
func InitRuntime(libPath string) error {
	ortOnce.Do(func() {
		ortLib = libPath
		if _, err := os.Stat(libPath); err != nil {
			ortErr = fmt.Errorf("%w: %s is missing (run make deps)", ErrRuntime, libPath)
			return
		}
		ort.SetSharedLibraryPath(libPath)
		if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
			ortErr = fmt.Errorf("%w: load %s: %v", ErrRuntime, libPath, err)
		}
	})
	if ortErr == nil && libPath != ortLib {
		return fmt.Errorf("ONNX Runtime already loaded from %s, not %s", ortLib, libPath)
	}
	return ortErr
}

// Resolve finds a model by catalogue id or .onnx path and checks its hash.
// A path whose hash matches a catalogue entry gets that entry; any other
// .onnx file is inspected and gets the contract that fits its output size.
// outputName picks an output; "" means the default. InitRuntime must have
// run, since a user-supplied model is inspected through ONNX Runtime.
func Resolve(modelsDir, nameOrPath, outputName string) (Resolved, error) {
	if !LooksLikePath(nameOrPath) {
		spec, ok := Lookup(nameOrPath)
		if !ok {
			return Resolved{}, fmt.Errorf("%w %q (vidprint models lists them; a file needs a .onnx name)", ErrUnknownModel, nameOrPath)
		}
		if spec.File == "" {
			return Resolved{}, fmt.Errorf("%w: %s is user-supplied: pass --model PATH.onnx (%s)", ErrNotInstalled, spec.ID, spec.Source)
		}
		path := filepath.Join(modelsDir, spec.File)
		if _, err := os.Stat(path); err != nil {
			return Resolved{}, fmt.Errorf("%w: %s (%s; run make deps)", ErrNotInstalled, spec.ID, path)
		}
		sum, err := FileSHA256(path)
		if err != nil {
			return Resolved{}, fmt.Errorf("model %s: %w", spec.ID, err)
		}
		if sum != spec.SHA256 {
			return Resolved{}, fmt.Errorf("%w: %s has sha256 %s, the catalogue pins %s", ErrChecksum, path, sum, spec.SHA256)
		}
		out, err := pickOutput(spec, outputName)
		if err != nil {
			return Resolved{}, err
		}
		return Resolved{Spec: spec, Path: path, SHA256: sum, Output: out}, nil
	}
	return resolveFile(nameOrPath, outputName)
}

func resolveFile(path, outputName string) (Resolved, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Resolved{}, fmt.Errorf("%w %s: %w", ErrModelFile, path, err)
	}
	if !st.Mode().IsRegular() {
		what := "not a regular file"
		if st.IsDir() {
			what = "is a directory"
		}
		return Resolved{}, fmt.Errorf("%w %s: %s", ErrModelFile, path, what)
	}
	sum, err := FileSHA256(path)
	if err != nil {
		return Resolved{}, fmt.Errorf("%w %s: %w", ErrModelFile, path, err)
	}
	for _, spec := range Catalogue() {
		if spec.SHA256 == sum {
			out, err := pickOutput(spec, outputName)
			if err != nil {
				return Resolved{}, err
			}
			return Resolved{Spec: spec, Path: path, SHA256: sum, Output: out}, nil
		}
	}
	inputs, outputs, err := ort.GetInputOutputInfo(path)
	if err != nil {
		return Resolved{}, fmt.Errorf("%w %s: not a loadable ONNX model: %v", ErrModelFile, path, err)
	}
	if len(inputs) != 1 {
		return Resolved{}, fmt.Errorf("%w %s: it has %d inputs, want one image input", ErrModelFile, path, len(inputs))
	}
	in := inputs[0]
	if !isFloat(in) || len(in.Dimensions) != 4 || in.Dimensions[1] != 3 {
		return Resolved{}, fmt.Errorf("%w %s: input %q is %s, want float [N,3,H,W]", ErrModelFile, path, in.Name, describe(in))
	}
	// An export without a dynamic batch axis takes one frame at a time.
	batch := 0
	switch n := in.Dimensions[0]; {
	case n == 1:
		batch = 1
	case n > 1:
		return Resolved{}, fmt.Errorf("%w %s: input %q has a fixed batch of %d, want a dynamic batch axis or 1", ErrModelFile, path, in.Name, n)
	}
	var chosen *ort.InputOutputInfo
	var names []string
	for i := range outputs {
		names = append(names, outputs[i].Name)
		if outputs[i].Name == outputName || (outputName == "" && len(outputs) == 1) {
			chosen = &outputs[i]
		}
	}
	switch {
	case chosen == nil && outputName != "":
		return Resolved{}, fmt.Errorf("%w: model %s has no output %q (it has %s)", ErrUnknownOutput, path, outputName, strings.Join(names, ", "))
	case chosen == nil:
		return Resolved{}, fmt.Errorf("%w: model %s has %d outputs, pick one with --output (it has %s)", ErrUnknownOutput, path, len(outputs), strings.Join(names, ", "))
	}
	// A scalar output has no dimensions at all: check the rank first.
	dims := chosen.Dimensions
	if !isFloat(*chosen) || len(dims) != 2 || dims[1] <= 0 {
		return Resolved{}, fmt.Errorf("%w %s: output %q is %s, want float [N,D] with a fixed D", ErrModelFile, path, chosen.Name, describe(*chosen))
	}
	dim := int(dims[1])
	// The Large entry's contract is torchvision's; any other vector length
	// gets the same ImageNet contract under a custom id.
	spec, _ := Lookup("mobilenetv3-large-imagenet")
	if dim != spec.Outputs[0].Dim {
		spec.ID = "custom-" + sum[:12]
		spec.Title = "user-supplied ONNX model " + filepath.Base(path)
		spec.Source = path
	}
	spec.Input = in.Name
	if h, w := in.Dimensions[2], in.Dimensions[3]; h > 0 && w > 0 {
		spec.Pre.Height, spec.Pre.Width = int(h), int(w)
	}
	spec.Outputs = []Output{{Name: chosen.Name, Dim: dim}}
	return Resolved{Spec: spec, Path: path, SHA256: sum, Output: spec.Outputs[0], Batch: batch}, nil
}

func isFloat(v ort.InputOutputInfo) bool {
	return v.OrtValueType == ort.ONNXTypeTensor && v.DataType == ort.TensorElementDataTypeFloat
}

// describe names a value's type and shape for an error message.
func describe(v ort.InputOutputInfo) string {
	if v.OrtValueType != ort.ONNXTypeTensor {
		return "not a tensor"
	}
	dt := strings.ToLower(strings.TrimPrefix(v.DataType.String(), "ONNX_TENSOR_ELEMENT_DATA_TYPE_"))
	return dt + " " + v.Dimensions.String()
}

// SessionOptions tune inference.
type SessionOptions struct {
	Threads int // intra-op threads; 0 means 1
	Batch   int // largest batch Embed is given; 0 means 8
}

// Session runs one model output over batches of RGB frames.
type Session struct {
	res   Resolved
	batch int
	sess  *ort.DynamicAdvancedSession
	pre   *Preprocessor
	input []float32
}

// Embedder turns preprocessed frames into feature vectors. ONNX Runtime on
// the CPU is one implementation; a GPU backend can be another.
type Embedder interface {
	Model() Resolved
	MaxBatch() int
	// EmbedTensor runs the model on n frames that a Preprocessor laid out
	// one after another in input, and writes one Dim-long vector per frame
	// into out.
	EmbedTensor(ctx context.Context, input []float32, n int, out []float32) error
	Close() error
}

// Preprocessor turns frames into model input by a model's contract. It is
// separate from the session so that a pipeline can run it beside inference.
type Preprocessor struct {
	width, height int
	lut           [3][256]float32
}

// NewPreprocessor builds the lookup tables of a contract.
func NewPreprocessor(pre Preprocess) *Preprocessor {
	p := &Preprocessor{width: pre.Width, height: pre.Height}
	for c := 0; c < 3; c++ {
		for v := 0; v < 256; v++ {
			p.lut[c][v] = (float32(v)*pre.Scale - pre.Mean[c]) / pre.Std[c]
		}
	}
	return p
}

// FrameBytes is the size of one input frame (planar, see Planes).
func (p *Preprocessor) FrameBytes() int { return 3 * p.width * p.height }

// TensorLen is the number of float32 values one frame becomes.
func (p *Preprocessor) TensorLen() int { return 3 * p.width * p.height }

// Frame writes frame's normalised R, G and B planes (CHW) into dst.
func (p *Preprocessor) Frame(dst []float32, frame []byte) error {
	plane := p.width * p.height
	if len(frame) != 3*plane || len(dst) != 3*plane {
		return fmt.Errorf("preprocess: frame of %d bytes into %d values, want %d each", len(frame), len(dst), 3*plane)
	}
	fr, fg, fb := Planes(frame, p.width, p.height)
	for c, src := range [3][]byte{fr, fg, fb} {
		out := dst[c*plane : (c+1)*plane]
		lut := &p.lut[c]
		for i, v := range src {
			out[i] = lut[v]
		}
	}
	return nil
}

var _ Embedder = (*Session)(nil)

// NewSession loads a resolved model. InitRuntime must have succeeded.
func NewSession(res Resolved, opts SessionOptions) (*Session, error) {
	if opts.Threads <= 0 {
		opts.Threads = 1
	}
	if opts.Batch <= 0 {
		opts.Batch = 8
	}
	if res.Batch > 0 {
		opts.Batch = min(opts.Batch, res.Batch)
	}
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	defer so.Destroy()
	if err := so.SetIntraOpNumThreads(opts.Threads); err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	if err := so.SetInterOpNumThreads(1); err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	// Spinning worker threads steal the core ffmpeg is decoding on.
	if err := so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0"); err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	input := res.Spec.Input
	if input == "" {
		input = "input"
	}
	sess, err := ort.NewDynamicAdvancedSession(res.Path, []string{input}, []string{res.Output.Name}, so)
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", res.Path, err)
	}
	pre := res.Spec.Pre
	s := &Session{res: res, batch: opts.Batch, sess: sess, pre: NewPreprocessor(pre)}
	return s, nil
}

// Model is the resolved model this session runs.
func (s *Session) Model() Resolved { return s.res }

// MaxBatch is the largest number of frames one Embed call takes.
func (s *Session) MaxBatch() int { return s.batch }

// Embed runs the model on up to MaxBatch RGB frames (Width*Height*3 bytes
// each, in the contract's size) and writes the vectors to out.
func (s *Session) Embed(ctx context.Context, frames [][]byte, out []float32) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	n := len(frames)
	pre := s.res.Spec.Pre
	dim := s.res.Output.Dim
	plane := pre.Width * pre.Height
	if n == 0 || n > s.batch {
		return fmt.Errorf("embed: batch of %d frames, want 1..%d", n, s.batch)
	}
	if len(out) != n*dim {
		return fmt.Errorf("embed: output buffer holds %d values, want %d", len(out), n*dim)
	}
	if len(s.input) < n*3*plane {
		s.input = make([]float32, n*3*plane)
	}
	input := s.input[:n*3*plane]
	for i, f := range frames {
		if len(f) != plane*3 {
			return fmt.Errorf("embed: frame %d is %d bytes, want %d", i, len(f), plane*3)
		}
		if err := s.pre.Frame(input[i*3*plane:(i+1)*3*plane], f); err != nil {
			return fmt.Errorf("embed: frame %d: %w", i, err)
		}
	}
	return s.EmbedTensor(ctx, input, n, out)
}

// EmbedTensor implements Embedder.
func (s *Session) EmbedTensor(ctx context.Context, input []float32, n int, out []float32) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	pre := s.res.Spec.Pre
	dim := s.res.Output.Dim
	plane := pre.Width * pre.Height
	if n < 1 || n > s.batch {
		return fmt.Errorf("embed: batch of %d frames, want 1..%d", n, s.batch)
	}
	if len(input) != n*3*plane {
		return fmt.Errorf("embed: input holds %d values, want %d", len(input), n*3*plane)
	}
	if len(out) != n*dim {
		return fmt.Errorf("embed: output buffer holds %d values, want %d", len(out), n*dim)
	}
	in, err := ort.NewTensor(ort.NewShape(int64(n), 3, int64(pre.Height), int64(pre.Width)), input)
	if err != nil {
		return fmt.Errorf("embed: input tensor: %w", err)
	}
	defer in.Destroy()
	outT, err := ort.NewTensor(ort.NewShape(int64(n), int64(dim)), out)
	if err != nil {
		return fmt.Errorf("embed: output tensor: %w", err)
	}
	defer outT.Destroy()
	runOpts, err := ort.NewRunOptions()
	if err != nil {
		return fmt.Errorf("embed: run options: %w", err)
	}
	// A cancel asks the run to stop. stop() does not wait for a terminate
	// already under way, so the lock keeps it off released run options.
	var mu sync.Mutex
	released := false
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if !released {
			runOpts.Terminate()
		}
	})
	defer func() {
		stop()
		mu.Lock()
		defer mu.Unlock()
		released = true
		runOpts.Destroy()
	}()
	if err := s.sess.RunWithOptions([]ort.Value{in}, []ort.Value{outT}, runOpts); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("embed: run %s: %w", s.res.Spec.ID, err)
	}
	return nil
}

// Close releases the session.
func (s *Session) Close() error {
	if s.sess == nil {
		return nil
	}
	err := s.sess.Destroy()
	s.sess = nil
	return err
}

// RuntimeVersion is the version of the ONNX Runtime library loaded by
// InitRuntime.
func RuntimeVersion() string { return ort.GetVersion() }
