// Package gguf reads GGUF files (versions 2 and 3), the container the
// default model's weights ship in, so the converter can turn them into ONNX
// without Python. It validates every count, length and offset against the
// input size, so hostile files produce errors, never panics or huge
// allocations.
package gguf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"

	"github.com/x448/float16"
)

// Magic is the first four bytes of every GGUF file.
const Magic = "GGUF"

// DefaultAlignment applies when general.alignment is absent.
const DefaultAlignment = 32

// MaxDims bounds a tensor's rank; ggml itself stops at 4.
const MaxDims = 8

// maxDepth bounds nested arrays so a crafted file cannot exhaust the stack.
const maxDepth = 16

// ErrFormat is wrapped by every error about malformed input.
var ErrFormat = errors.New("gguf: malformed file")

// Type is a metadata value type.
type Type uint32

// Metadata value types, numbered as in the GGUF specification.
const (
	TypeUint8   Type = 0
	TypeInt8    Type = 1
	TypeUint16  Type = 2
	TypeInt16   Type = 3
	TypeUint32  Type = 4
	TypeInt32   Type = 5
	TypeFloat32 Type = 6
	TypeBool    Type = 7
	TypeString  Type = 8
	TypeArray   Type = 9
	TypeUint64  Type = 10
	TypeInt64   Type = 11
	TypeFloat64 Type = 12
)

var typeNames = [...]string{"uint8", "int8", "uint16", "int16", "uint32", "int32",
	"float32", "bool", "string", "array", "uint64", "int64", "float64"}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// minSize is the fewest bytes a value of type t occupies; it bounds array
// counts by the bytes left. It returns 0 for unknown types.
func (t Type) minSize() int {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeUint16, TypeInt16:
		return 2
	case TypeUint32, TypeInt32, TypeFloat32:
		return 4
	case TypeUint64, TypeInt64, TypeFloat64, TypeString:
		return 8 // a string is at least its length prefix
	case TypeArray:
		return 12 // element type + count
	}
	return 0
}

// TensorType is a ggml tensor element type.
type TensorType uint32

// The tensor types this package can decode; others are listed but not read.
const (
	TensorF32 TensorType = 0
	TensorF16 TensorType = 1
)

func (t TensorType) String() string {
	switch t {
	case TensorF32:
		return "F32"
	case TensorF16:
		return "F16"
	}
	return fmt.Sprintf("ggml_type(%d)", uint32(t))
}

// elemSize is the byte size of one element, or 0 for types not decoded here.
func (t TensorType) elemSize() int {
	switch t {
	case TensorF32:
		return 4
	case TensorF16:
		return 2
	}
	return 0
}

// Value is one metadata value. Scalars hold the Go type matching Type
// (uint8 ... float64, bool, string); arrays hold []Value.
type Value struct {
	Type Type
	Elem Type // element type, for arrays only
	v    any
}

// Raw returns the underlying Go value.
func (v Value) Raw() any { return v.v }

// Str returns a string value.
func (v Value) Str() (string, bool) {
	s, ok := v.v.(string)
	return s, ok
}

// String formats the value for messages.
func (v Value) String() string { return fmt.Sprintf("%s %v", v.Type, v.v) }

// Bool returns a bool value.
func (v Value) Bool() (bool, bool) {
	b, ok := v.v.(bool)
	return b, ok
}

// Array returns an array's elements.
func (v Value) Array() ([]Value, bool) {
	a, ok := v.v.([]Value)
	return a, ok
}

// Uint returns any integer value that is not negative.
func (v Value) Uint() (uint64, bool) {
	switch x := v.v.(type) {
	case uint8:
		return uint64(x), true
	case uint16:
		return uint64(x), true
	case uint32:
		return uint64(x), true
	case uint64:
		return x, true
	}
	if i, ok := v.Int(); ok && i >= 0 {
		return uint64(i), true
	}
	return 0, false
}

// Int returns any signed integer value, or an unsigned one that fits.
func (v Value) Int() (int64, bool) {
	switch x := v.v.(type) {
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	}
	return 0, false
}

// Float returns a float32 or float64 value.
func (v Value) Float() (float64, bool) {
	switch x := v.v.(type) {
	case float32:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// KV is one metadata entry.
type KV struct {
	Key   string
	Value Value
}

// TensorInfo describes one tensor. Dims are in GGUF order: innermost
// (fastest-varying) first, the reverse of PyTorch/NumPy/ONNX order.
type TensorInfo struct {
	Name   string
	Dims   []uint64
	Type   TensorType
	Offset uint64 // relative to the data section
}

// File is a parsed GGUF file. It references the input bytes without copying.
type File struct {
	Version   uint32
	Alignment uint64
	KVs       []KV         // in file order
	Tensors   []TensorInfo // in file order
	DataStart int          // offset of the data section in the input

	data    []byte // the data section
	kvIdx   map[string]int
	tensIdx map[string]int
}

// Open reads and parses the file at path.
func Open(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("gguf: open: %w", err)
	}
	f, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return f, nil
}

// Parse parses a whole GGUF file held in memory. The returned File keeps
// references into data, which must not be modified afterwards.
func Parse(data []byte) (*File, error) {
	r := &reader{b: data}
	if len(data) < 4 || string(data[:4]) != Magic {
		return nil, fmt.Errorf("%w: bad magic", ErrFormat)
	}
	r.off = 4
	f := &File{Alignment: DefaultAlignment}
	f.Version = r.u32()
	if r.err == nil && f.Version != 2 && f.Version != 3 {
		return nil, fmt.Errorf("%w: unsupported version %d", ErrFormat, f.Version)
	}
	nTensors := r.u64()
	nKV := r.u64()
	if r.err != nil {
		return nil, r.wrap("header")
	}
	// Each KV needs at least 12 bytes (key length + type), each tensor info 24.
	if nKV > uint64(r.left()/12) {
		return nil, fmt.Errorf("%w: metadata count %d exceeds file size", ErrFormat, nKV)
	}
	if nTensors > uint64(r.left()/24) {
		return nil, fmt.Errorf("%w: tensor count %d exceeds file size", ErrFormat, nTensors)
	}

	f.KVs = make([]KV, 0, nKV)
	f.kvIdx = make(map[string]int, nKV)
	for i := range nKV {
		key := r.str()
		typ := Type(r.u32())
		if r.err != nil {
			return nil, r.wrap(fmt.Sprintf("metadata entry %d", i))
		}
		val := r.value(typ, 0)
		if r.err != nil {
			return nil, r.wrap(fmt.Sprintf("metadata %q", key))
		}
		if _, dup := f.kvIdx[key]; dup {
			return nil, fmt.Errorf("%w: duplicate metadata key %q", ErrFormat, key)
		}
		f.kvIdx[key] = len(f.KVs)
		f.KVs = append(f.KVs, KV{Key: key, Value: val})
	}
	if v, ok := f.Meta("general.alignment"); ok {
		a, ok := v.v.(uint32)
		if !ok || a == 0 || a&(a-1) != 0 {
			return nil, fmt.Errorf("%w: general.alignment must be a power-of-two uint32, got %s %v", ErrFormat, v.Type, v.v)
		}
		f.Alignment = uint64(a)
	}

	f.Tensors = make([]TensorInfo, 0, nTensors)
	f.tensIdx = make(map[string]int, nTensors)
	for i := range nTensors {
		t := r.tensorInfo()
		if r.err != nil {
			return nil, r.wrap(fmt.Sprintf("tensor info %d", i))
		}
		if _, dup := f.tensIdx[t.Name]; dup {
			return nil, fmt.Errorf("%w: duplicate tensor %q", ErrFormat, t.Name)
		}
		if t.Offset%f.Alignment != 0 {
			return nil, fmt.Errorf("%w: tensor %q offset %d not aligned to %d", ErrFormat, t.Name, t.Offset, f.Alignment)
		}
		f.tensIdx[t.Name] = len(f.Tensors)
		f.Tensors = append(f.Tensors, t)
	}

	start := uint64(r.off)
	if rem := start % f.Alignment; rem != 0 {
		start += f.Alignment - rem
	}
	switch {
	case start <= uint64(len(data)):
		f.DataStart = int(start)
		f.data = data[start:]
	case nTensors == 0:
		// A file without tensors may omit the padding.
		f.DataStart = len(data)
	default:
		return nil, fmt.Errorf("%w: data section starts at %d, past end of file (%d bytes)", ErrFormat, start, len(data))
	}

	for _, t := range f.Tensors {
		if _, err := f.span(t); err != nil && !errors.Is(err, errUnsupported) {
			return nil, err
		}
	}
	return f, nil
}

// Meta returns the metadata value stored under key.
func (f *File) Meta(key string) (Value, bool) {
	i, ok := f.kvIdx[key]
	if !ok {
		return Value{}, false
	}
	return f.KVs[i].Value, true
}

// String returns the string stored under key.
func (f *File) String(key string) (string, error) {
	v, ok := f.Meta(key)
	if !ok {
		return "", fmt.Errorf("gguf: metadata %q missing", key)
	}
	s, ok := v.Str()
	if !ok {
		return "", fmt.Errorf("gguf: metadata %q is %s, want string", key, v.Type)
	}
	return s, nil
}

// Float returns the float32 or float64 stored under key.
func (f *File) Float(key string) (float64, error) {
	v, ok := f.Meta(key)
	if !ok {
		return 0, fmt.Errorf("gguf: metadata %q missing", key)
	}
	x, ok := v.Float()
	if !ok {
		return 0, fmt.Errorf("gguf: metadata %q is %s, want a float", key, v.Type)
	}
	return x, nil
}

// Uint returns the non-negative integer stored under key, whatever its width.
func (f *File) Uint(key string) (uint64, error) {
	v, ok := f.Meta(key)
	if !ok {
		return 0, fmt.Errorf("gguf: metadata %q missing", key)
	}
	x, ok := v.Uint()
	if !ok {
		return 0, fmt.Errorf("gguf: metadata %q is %s, want a non-negative integer", key, v)
	}
	return x, nil
}

// Tensor returns the info of the named tensor.
func (f *File) Tensor(name string) (TensorInfo, bool) {
	i, ok := f.tensIdx[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.Tensors[i], true
}

// TensorBytes returns the raw bytes of an F32 or F16 tensor.
func (f *File) TensorBytes(name string) ([]byte, TensorInfo, error) {
	t, ok := f.Tensor(name)
	if !ok {
		return nil, t, fmt.Errorf("gguf: tensor %q not found", name)
	}
	b, err := f.span(t)
	return b, t, err
}

// Float32s decodes an F32 or F16 tensor. dims are in GGUF order, innermost
// first: reverse them for the row-major (PyTorch/ONNX) shape, under which
// data is already laid out correctly.
func (f *File) Float32s(name string) (data []float32, dims []int, err error) {
	b, t, err := f.TensorBytes(name)
	if err != nil {
		return nil, nil, err
	}
	dims = make([]int, len(t.Dims))
	for i, d := range t.Dims {
		dims[i] = int(d) // span has bounded every dim by the file size
	}
	switch t.Type {
	case TensorF32:
		data = make([]float32, len(b)/4)
		for i := range data {
			data[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case TensorF16:
		data = make([]float32, len(b)/2)
		for i := range data {
			data[i] = float16.Frombits(binary.LittleEndian.Uint16(b[2*i:])).Float32()
		}
	}
	return data, dims, nil
}

var errUnsupported = errors.New("unsupported tensor type")

// span returns the bytes of t within the data section, checking bounds.
func (f *File) span(t TensorInfo) ([]byte, error) {
	es := t.Type.elemSize()
	if es == 0 {
		return nil, fmt.Errorf("gguf: tensor %q: %w %s", t.Name, errUnsupported, t.Type)
	}
	limit := uint64(len(f.data))
	n := uint64(1)
	for _, d := range t.Dims {
		if d == 0 {
			n = 0
			break
		}
	}
	if n != 0 {
		for _, d := range t.Dims {
			if d > limit || n > limit/d {
				return nil, fmt.Errorf("%w: tensor %q dims %v exceed data section (%d bytes)", ErrFormat, t.Name, t.Dims, limit)
			}
			n *= d
		}
	}
	size := n * uint64(es)
	if t.Offset > limit || size > limit-t.Offset {
		return nil, fmt.Errorf("%w: tensor %q [%d,+%d) exceeds data section (%d bytes)", ErrFormat, t.Name, t.Offset, size, limit)
	}
	return f.data[t.Offset : t.Offset+size], nil
}

// reader is a bounds-checked little-endian cursor with a sticky error.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) left() int { return len(r.b) - r.off }

func (r *reader) wrap(what string) error {
	return fmt.Errorf("%w: %s at offset %d: %v", ErrFormat, what, r.off, r.err)
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > r.left() {
		r.err = fmt.Errorf("need %d bytes, %d left", n, r.left())
		return nil
	}
	s := r.b[r.off : r.off+n]
	r.off += n
	return s
}

func (r *reader) u8() uint8 {
	if b := r.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if b := r.take(2); b != nil {
		return binary.LittleEndian.Uint16(b)
	}
	return 0
}

func (r *reader) u32() uint32 {
	if b := r.take(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if b := r.take(8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

func (r *reader) str() string {
	n := r.u64()
	if r.err != nil {
		return ""
	}
	if n > uint64(r.left()) {
		r.err = fmt.Errorf("string length %d exceeds %d bytes left", n, r.left())
		return ""
	}
	return string(r.take(int(n)))
}

func (r *reader) value(t Type, depth int) Value {
	v := Value{Type: t}
	switch t {
	case TypeUint8:
		v.v = r.u8()
	case TypeInt8:
		v.v = int8(r.u8())
	case TypeUint16:
		v.v = r.u16()
	case TypeInt16:
		v.v = int16(r.u16())
	case TypeUint32:
		v.v = r.u32()
	case TypeInt32:
		v.v = int32(r.u32())
	case TypeFloat32:
		v.v = math.Float32frombits(r.u32())
	case TypeUint64:
		v.v = r.u64()
	case TypeInt64:
		v.v = int64(r.u64())
	case TypeFloat64:
		v.v = math.Float64frombits(r.u64())
	case TypeBool:
		b := r.u8()
		if r.err == nil && b > 1 {
			r.err = fmt.Errorf("bool byte %d", b)
		}
		v.v = b == 1
	case TypeString:
		v.v = r.str()
	case TypeArray:
		if depth >= maxDepth {
			r.err = fmt.Errorf("arrays nested deeper than %d", maxDepth)
			return v
		}
		v.Elem = Type(r.u32())
		n := r.u64()
		if r.err != nil {
			return v
		}
		minSz := v.Elem.minSize()
		if minSz == 0 {
			r.err = fmt.Errorf("unknown array element type %d", uint32(v.Elem))
			return v
		}
		if n > uint64(r.left()/minSz) {
			r.err = fmt.Errorf("array count %d exceeds %d bytes left", n, r.left())
			return v
		}
		a := make([]Value, 0, n)
		for range n {
			e := r.value(v.Elem, depth+1)
			if r.err != nil {
				return v
			}
			a = append(a, e)
		}
		v.v = a
	default:
		r.err = fmt.Errorf("unknown value type %d", uint32(t))
	}
	return v
}

func (r *reader) tensorInfo() TensorInfo {
	var t TensorInfo
	t.Name = r.str()
	nd := r.u32()
	if r.err != nil {
		return t
	}
	if nd > MaxDims {
		r.err = fmt.Errorf("tensor %q has %d dims, max %d", t.Name, nd, MaxDims)
		return t
	}
	t.Dims = make([]uint64, nd)
	for i := range t.Dims {
		t.Dims[i] = r.u64()
	}
	t.Type = TensorType(r.u32())
	t.Offset = r.u64()
	return t
}
