package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/x448/float16"
)

// enc builds GGUF files for tests. Values are written raw, so tests can
// also produce malformed files.
type enc struct {
	bytes.Buffer
}

func (e *enc) u8(v uint8)   { e.WriteByte(v) }
func (e *enc) u16(v uint16) { e.Write(binary.LittleEndian.AppendUint16(nil, v)) }
func (e *enc) u32(v uint32) { e.Write(binary.LittleEndian.AppendUint32(nil, v)) }
func (e *enc) u64(v uint64) { e.Write(binary.LittleEndian.AppendUint64(nil, v)) }
func (e *enc) str(s string) { e.u64(uint64(len(s))); e.WriteString(s) }

// val writes a value of type t (without the type tag) from a Go value.
func (e *enc) val(t Type, v any) {
	switch t {
	case TypeUint8:
		e.u8(v.(uint8))
	case TypeInt8:
		e.u8(uint8(v.(int8)))
	case TypeUint16:
		e.u16(v.(uint16))
	case TypeInt16:
		e.u16(uint16(v.(int16)))
	case TypeUint32:
		e.u32(v.(uint32))
	case TypeInt32:
		e.u32(uint32(v.(int32)))
	case TypeFloat32:
		e.u32(math.Float32bits(v.(float32)))
	case TypeUint64:
		e.u64(v.(uint64))
	case TypeInt64:
		e.u64(uint64(v.(int64)))
	case TypeFloat64:
		e.u64(math.Float64bits(v.(float64)))
	case TypeBool:
		if v.(bool) {
			e.u8(1)
		} else {
			e.u8(0)
		}
	case TypeString:
		e.str(v.(string))
	case TypeArray:
		a := v.(arr)
		e.u32(uint32(a.elem))
		e.u64(uint64(len(a.vals)))
		for _, x := range a.vals {
			e.val(a.elem, x)
		}
	}
}

type arr struct {
	elem Type
	vals []any
}

type kv struct {
	key string
	typ Type
	val any
}

type tensor struct {
	name string
	dims []uint64
	typ  TensorType
	data []byte // raw bytes
}

// build writes a complete file: header, metadata, tensor infos, padding,
// and tensor data each aligned to align.
func build(version uint32, align int, kvs []kv, tensors []tensor) []byte {
	var e enc
	e.WriteString(Magic)
	e.u32(version)
	e.u64(uint64(len(tensors)))
	e.u64(uint64(len(kvs)))
	for _, m := range kvs {
		e.str(m.key)
		e.u32(uint32(m.typ))
		e.val(m.typ, m.val)
	}
	var data bytes.Buffer
	for _, t := range tensors {
		for data.Len()%align != 0 {
			data.WriteByte(0)
		}
		e.str(t.name)
		e.u32(uint32(len(t.dims)))
		for _, d := range t.dims {
			e.u64(d)
		}
		e.u32(uint32(t.typ))
		e.u64(uint64(data.Len()))
		data.Write(t.data)
	}
	for e.Len()%align != 0 {
		e.u8(0)
	}
	e.Write(data.Bytes())
	return e.Bytes()
}

func f32bytes(v ...float32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

func f16bytes(v ...float32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint16(b, float16.Fromfloat32(x).Bits())
	}
	return b
}

// sample is a small valid file used by several tests and as the fuzz seed.
func sample(version uint32) []byte {
	return build(version, 32, []kv{
		{"general.architecture", TypeString, "test"},
		{"n", TypeUint32, uint32(224)},
		{"eps", TypeFloat32, float32(1e-3)},
		{"names", TypeArray, arr{TypeString, []any{"a", "bb"}}},
	}, []tensor{
		{"w", []uint64{3, 2}, TensorF16, f16bytes(1, 2, 3, -4, 0.5, 65504)},
		{"b", []uint64{2}, TensorF32, f32bytes(1.25, -7)},
		{"s", nil, TensorF32, f32bytes(42)},
	})
}

func TestParseValid(t *testing.T) {
	for _, version := range []uint32{2, 3} {
		f, err := Parse(sample(version))
		if err != nil {
			t.Fatalf("v%d: %v", version, err)
		}
		if f.Version != version || f.Alignment != 32 || f.DataStart%32 != 0 {
			t.Errorf("v%d: header %+v", version, f)
		}
		if s, err := f.String("general.architecture"); err != nil || s != "test" {
			t.Errorf("architecture = %q, %v", s, err)
		}
		if n, err := f.Uint("n"); err != nil || n != 224 {
			t.Errorf("n = %d, %v", n, err)
		}
		if x, err := f.Float("eps"); err != nil || float32(x) != 1e-3 {
			t.Errorf("eps = %g, %v", x, err)
		}
		v, _ := f.Meta("names")
		a, ok := v.Array()
		if !ok || v.Elem != TypeString || len(a) != 2 {
			t.Fatalf("names = %+v", v)
		}
		if s, _ := a[1].Str(); s != "bb" {
			t.Errorf("names[1] = %q", s)
		}

		data, dims, err := f.Float32s("w")
		if err != nil {
			t.Fatal(err)
		}
		if want := []float32{1, 2, 3, -4, 0.5, 65504}; !slices.Equal(data, want) || !slices.Equal(dims, []int{3, 2}) {
			t.Errorf("w = %v %v", data, dims)
		}
		data, dims, err = f.Float32s("b")
		if err != nil || !slices.Equal(data, []float32{1.25, -7}) || !slices.Equal(dims, []int{2}) {
			t.Errorf("b = %v %v %v", data, dims, err)
		}
		data, dims, err = f.Float32s("s")
		if err != nil || !slices.Equal(data, []float32{42}) || len(dims) != 0 {
			t.Errorf("s = %v %v %v", data, dims, err)
		}
		if _, _, err := f.Float32s("missing"); err == nil || !strings.Contains(err.Error(), `"missing"`) {
			t.Errorf("missing tensor: err = %v", err)
		}
	}
}

func TestMetaTypes(t *testing.T) {
	kvs := []kv{
		{"u8", TypeUint8, uint8(200)},
		{"i8", TypeInt8, int8(-5)},
		{"u16", TypeUint16, uint16(60000)},
		{"i16", TypeInt16, int16(-300)},
		{"u32", TypeUint32, uint32(4e9)},
		{"i32", TypeInt32, int32(-7)},
		{"f32", TypeFloat32, float32(0.5)},
		{"bool", TypeBool, true},
		{"str", TypeString, "héllo"},
		{"u64", TypeUint64, uint64(math.MaxUint64)},
		{"i64", TypeInt64, int64(math.MinInt64)},
		{"f64", TypeFloat64, 1e300},
		{"nested", TypeArray, arr{TypeArray, []any{arr{TypeInt32, []any{int32(1), int32(2)}}, arr{TypeBool, nil}}}},
		{"empty", TypeArray, arr{TypeString, nil}},
	}
	f, err := Parse(build(3, 32, kvs, nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.KVs) != len(kvs) {
		t.Fatalf("got %d kvs", len(f.KVs))
	}
	for i, m := range kvs {
		got := f.KVs[i]
		if got.Key != m.key || got.Value.Type != m.typ {
			t.Errorf("kv %d = %s %s, want %s %s", i, got.Key, got.Value.Type, m.key, m.typ)
		}
		if m.typ != TypeArray && got.Value.Raw() != m.val {
			t.Errorf("%s = %#v, want %#v", m.key, got.Value.Raw(), m.val)
		}
	}

	tests := []struct {
		key       string
		uint      uint64
		uintOK    bool
		int       int64
		intOK     bool
		wantFloat bool
	}{
		{"u8", 200, true, 200, true, false},
		{"i8", 0, false, -5, true, false},
		{"u32", 4e9, true, 4e9, true, false},
		{"u64", math.MaxUint64, true, 0, false, false},
		{"i64", 0, false, math.MinInt64, true, false},
		{"f32", 0, false, 0, false, true},
		{"str", 0, false, 0, false, false},
	}
	for _, tc := range tests {
		v, _ := f.Meta(tc.key)
		u, ok := v.Uint()
		if ok != tc.uintOK || u != tc.uint {
			t.Errorf("%s.Uint() = %d, %v", tc.key, u, ok)
		}
		i, ok := v.Int()
		if ok != tc.intOK || i != tc.int {
			t.Errorf("%s.Int() = %d, %v", tc.key, i, ok)
		}
		if _, ok := v.Float(); ok != tc.wantFloat {
			t.Errorf("%s.Float() ok = %v", tc.key, ok)
		}
	}

	v, _ := f.Meta("nested")
	outer, _ := v.Array()
	inner, _ := outer[0].Array()
	if len(outer) != 2 || len(inner) != 2 || inner[1].Raw() != int32(2) {
		t.Errorf("nested = %+v", v)
	}

	if _, err := f.String("u8"); err == nil || !strings.Contains(err.Error(), "want string") {
		t.Errorf("String on uint8: %v", err)
	}
	if _, err := f.Float("nope"); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("Float on missing: %v", err)
	}
	if _, err := f.Uint("i8"); err == nil || !strings.Contains(err.Error(), "int8 -5") {
		t.Errorf("Uint on negative int8: %v", err)
	}
}

func TestAlignment(t *testing.T) {
	kvs := []kv{{"general.alignment", TypeUint32, uint32(64)}}
	tens := []tensor{
		{"a", []uint64{1}, TensorF32, f32bytes(1)},
		{"b", []uint64{2}, TensorF32, f32bytes(2, 3)},
	}
	f, err := Parse(build(3, 64, kvs, tens))
	if err != nil {
		t.Fatal(err)
	}
	if f.Alignment != 64 || f.DataStart%64 != 0 || f.Tensors[1].Offset != 64 {
		t.Errorf("alignment %d, data start %d, offset %d", f.Alignment, f.DataStart, f.Tensors[1].Offset)
	}
	if d, _, err := f.Float32s("b"); err != nil || !slices.Equal(d, []float32{2, 3}) {
		t.Errorf("b = %v, %v", d, err)
	}
}

func TestParseErrors(t *testing.T) {
	valid := sample(3)
	// Locate pieces of the valid sample to corrupt.
	nameW := bytes.Index(valid, []byte("\x01\x00\x00\x00\x00\x00\x00\x00w"))
	if nameW < 0 {
		t.Fatal("sample layout changed")
	}
	wInfo := nameW + 9 // n_dims of tensor "w"
	patch := func(off int, b ...byte) []byte {
		c := slices.Clone(valid)
		copy(c[off:], b)
		return c
	}
	u64 := func(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
	u32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "bad magic"},
		{"magic", []byte("GGML\x03\x00\x00\x00"), "bad magic"},
		{"version 1", patch(4, u32(1)...), "unsupported version 1"},
		{"version 4", patch(4, u32(4)...), "unsupported version 4"},
		{"short header", valid[:12], "header"},
		{"huge tensor count", patch(8, u64(math.MaxUint64)...), "tensor count"},
		{"huge kv count", patch(16, u64(1<<40)...), "metadata count"},
		{"huge key length", patch(24, u64(math.MaxUint64)...), "string length"},
		{"bad value type", build(3, 32, []kv{{"k", Type(99), nil}}, nil), "unknown value type 99"},
		{"bad bool", oneKV(TypeBool, []byte{2}), "bool byte 2"},
		{"huge array", oneKV(TypeArray, append(u32(uint32(TypeUint64)), u64(1<<50)...)), "array count"},
		{"huge string array", oneKV(TypeArray, append(u32(uint32(TypeString)), u64(4)...)), "array count"},
		{"truncated string", oneKV(TypeString, u64(5)), "string length"},
		{"bad array elem", build(3, 32, []kv{{"k", TypeArray, arr{Type(13), nil}}}, nil), "unknown array element type"},
		{"duplicate key", build(3, 32, []kv{{"k", TypeUint8, uint8(1)}, {"k", TypeUint8, uint8(1)}}, nil), "duplicate metadata key"},
		{"truncated kv", valid[:40], "metadata"},
		{"too many dims", patch(wInfo, u32(9)...), "dims"},
		{"huge dim", patch(wInfo+4, u64(math.MaxUint64)...), "exceed data section"},
		{"dims overflow", patch(wInfo+4, append(u64(1<<33), u64(1<<33)...)...), "exceed data section"},
		{"unaligned offset", patch(wInfo+4+16+4, u64(3)...), "not aligned"},
		{"offset past end", patch(wInfo+4+16+4, u64(1<<20)...), "exceeds data section"},
		{"truncated data", valid[:len(valid)-1], "exceeds data section"},
		{"truncated infos", valid[:nameW+12], "tensor info"},
		{"duplicate tensor", build(3, 32, nil, []tensor{{"t", []uint64{1}, TensorF32, f32bytes(1)}, {"t", []uint64{1}, TensorF32, f32bytes(1)}}), "duplicate tensor"},
		{"bad alignment", build(3, 32, []kv{{"general.alignment", TypeUint32, uint32(24)}}, nil), "power-of-two"},
		{"alignment type", build(3, 32, []kv{{"general.alignment", TypeUint64, uint64(32)}}, nil), "power-of-two"},
		{"nesting", deepArray(maxDepth + 1), "nested deeper"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.data)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want ErrFormat containing %q", err, tc.want)
			}
		})
	}
}

// oneKV is a file with a single metadata entry "k" of type t whose
// encoded value is raw.
func oneKV(t Type, raw []byte) []byte {
	var e enc
	e.WriteString(Magic)
	e.u32(3)
	e.u64(0)
	e.u64(1)
	e.str("k")
	e.u32(uint32(t))
	e.Write(raw)
	return e.Bytes()
}

func deepArray(depth int) []byte {
	var e enc
	e.WriteString(Magic)
	e.u32(3)
	e.u64(0)
	e.u64(1)
	e.str("k")
	e.u32(uint32(TypeArray))
	for range depth - 1 {
		e.u32(uint32(TypeArray))
		e.u64(1)
	}
	e.u32(uint32(TypeUint8))
	e.u64(0)
	return e.Bytes()
}

func TestUnsupportedTensorType(t *testing.T) {
	// Q4_0 (2) is listed but not decoded; parsing must still succeed.
	f, err := Parse(build(3, 32, nil, []tensor{{"q", []uint64{32}, TensorType(2), make([]byte, 18)}}))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.Float32s("q"); err == nil || !strings.Contains(err.Error(), "unsupported") {
		t.Errorf("Float32s on Q4_0: %v", err)
	}
}

func TestNoTensorsNoPadding(t *testing.T) {
	var e enc
	e.WriteString(Magic)
	e.u32(3)
	e.u64(0)
	e.u64(0)
	f, err := Parse(e.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Tensors) != 0 || f.DataStart != 24 {
		t.Errorf("got %+v", f)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(sample(3))
	f.Add(sample(2))
	f.Add(deepArray(3))
	s := sample(3)
	f.Add(s[:len(s)/2])
	for _, off := range []int{8, 16, 24, 40, 60} {
		c := slices.Clone(s)
		c[off] = 0xff
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error not wrapping ErrFormat: %v", err)
			}
			return
		}
		for _, ti := range g.Tensors {
			d, dims, err := g.Float32s(ti.Name)
			if err != nil {
				continue
			}
			n := 1
			for _, x := range dims {
				n *= x
			}
			if n != len(d) {
				t.Fatalf("tensor %q: %d values for dims %v", ti.Name, len(d), dims)
			}
		}
	})
}
