// Package onnxpb writes ONNX models. It hand-encodes the handful of
// onnx.proto messages a converted CNN needs with protowire, which spares the
// project generated ONNX bindings and keeps the output byte-for-byte
// deterministic: fields are written in field-number order and repeated
// fields in the order the caller added them.
package onnxpb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// DataType is TensorProto.DataType.
type DataType int32

// Element types used here.
const (
	Float DataType = 1
	Int64 DataType = 7
)

func (d DataType) size() int {
	switch d {
	case Float:
		return 4
	case Int64:
		return 8
	}
	return 0
}

// AttrType is AttributeProto.AttributeType.
type AttrType int32

// Attribute types supported here.
const (
	AttrFloat  AttrType = 1
	AttrInt    AttrType = 2
	AttrString AttrType = 3
	AttrFloats AttrType = 6
	AttrInts   AttrType = 7
)

// Attr is a node attribute; only the field matching Type is written.
type Attr struct {
	Name   string
	Type   AttrType
	F      float32
	I      int64
	S      string
	Floats []float32
	Ints   []int64
}

// FloatAttr returns a FLOAT attribute.
func FloatAttr(name string, v float32) Attr { return Attr{Name: name, Type: AttrFloat, F: v} }

// IntAttr returns an INT attribute.
func IntAttr(name string, v int64) Attr { return Attr{Name: name, Type: AttrInt, I: v} }

// StringAttr returns a STRING attribute.
func StringAttr(name, v string) Attr { return Attr{Name: name, Type: AttrString, S: v} }

// FloatsAttr returns a FLOATS attribute.
func FloatsAttr(name string, v ...float32) Attr { return Attr{Name: name, Type: AttrFloats, Floats: v} }

// IntsAttr returns an INTS attribute.
func IntsAttr(name string, v ...int64) Attr { return Attr{Name: name, Type: AttrInts, Ints: v} }

// Node is a NodeProto.
type Node struct {
	Name    string
	OpType  string
	Domain  string // empty for the default ai.onnx domain
	Inputs  []string
	Outputs []string
	Attrs   []Attr
}

// Tensor is a TensorProto holding its data little-endian in raw_data.
type Tensor struct {
	Name     string
	Dims     []int64
	DataType DataType
	Raw      []byte
}

// FloatTensor returns a float32 tensor.
func FloatTensor(name string, dims []int64, data []float32) Tensor {
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	return Tensor{Name: name, Dims: dims, DataType: Float, Raw: raw}
}

// Int64Tensor returns an int64 tensor.
func Int64Tensor(name string, dims []int64, data []int64) Tensor {
	raw := make([]byte, 8*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
	}
	return Tensor{Name: name, Dims: dims, DataType: Int64, Raw: raw}
}

// Dim is one dimension of a shape: a fixed size, or a symbolic name when
// Param is set.
type Dim struct {
	Value int64
	Param string
}

// ValueInfo declares a graph input or output tensor. An empty Shape
// declares a scalar.
type ValueInfo struct {
	Name     string
	ElemType DataType
	Shape    []Dim
}

// Graph is a GraphProto. Nodes must be in topological order, as ONNX requires.
type Graph struct {
	Name         string
	DocString    string
	Nodes        []Node
	Initializers []Tensor
	Inputs       []ValueInfo
	Outputs      []ValueInfo
}

// AddNode appends a node and returns its first output, for chaining.
func (g *Graph) AddNode(name, opType string, inputs, outputs []string, attrs ...Attr) string {
	g.Nodes = append(g.Nodes, Node{Name: name, OpType: opType, Inputs: inputs, Outputs: outputs, Attrs: attrs})
	if len(outputs) == 0 {
		return ""
	}
	return outputs[0]
}

// AddInitializer appends a constant tensor and returns its name.
func (g *Graph) AddInitializer(t Tensor) string {
	g.Initializers = append(g.Initializers, t)
	return t.Name
}

// OpsetID is an OperatorSetIdProto.
type OpsetID struct {
	Domain  string
	Version int64
}

// Prop is one ModelProto.metadata_props entry.
type Prop struct {
	Key, Value string
}

// Model is a ModelProto.
type Model struct {
	IRVersion       int64
	ProducerName    string
	ProducerVersion string
	DocString       string
	Opsets          []OpsetID
	Graph           Graph
	Metadata        []Prop
}

// Marshal checks the graph's wiring and encodes the model.
func (m *Model) Marshal() ([]byte, error) {
	if err := m.Graph.check(); err != nil {
		return nil, fmt.Errorf("onnxpb: graph %q: %w", m.Graph.Name, err)
	}
	if len(m.Opsets) == 0 {
		return nil, errors.New("onnxpb: model has no opset import")
	}
	var b []byte
	b = appendVarint(b, 1, uint64(m.IRVersion))
	b = appendString(b, 2, m.ProducerName)
	b = appendString(b, 3, m.ProducerVersion)
	b = appendString(b, 6, m.DocString)
	b = appendMessage(b, 7, m.Graph.marshal())
	for _, o := range m.Opsets {
		var ob []byte
		ob = protowire.AppendTag(ob, 1, protowire.BytesType)
		ob = protowire.AppendString(ob, o.Domain) // always set, as onnx's helpers do
		ob = appendVarint(ob, 2, uint64(o.Version))
		b = appendMessage(b, 8, ob)
	}
	for _, p := range m.Metadata {
		var pb []byte
		pb = appendString(pb, 1, p.Key)
		pb = appendString(pb, 2, p.Value)
		b = appendMessage(b, 14, pb)
	}
	return b, nil
}

// check verifies that every value is defined once, before it is used, and
// that tensors hold as many bytes as their dims say.
func (g *Graph) check() error {
	defined := make(map[string]bool)
	define := func(name, what string) error {
		if name == "" {
			return fmt.Errorf("%s has an empty name", what)
		}
		if defined[name] {
			return fmt.Errorf("%s %q: value defined twice", what, name)
		}
		defined[name] = true
		return nil
	}
	for _, vi := range g.Inputs {
		if err := define(vi.Name, "input"); err != nil {
			return err
		}
	}
	for _, t := range g.Initializers {
		if err := define(t.Name, "initializer"); err != nil {
			return err
		}
		if err := t.check(); err != nil {
			return err
		}
	}
	for i, n := range g.Nodes {
		if n.OpType == "" {
			return fmt.Errorf("node %d %q has no op type", i, n.Name)
		}
		for _, in := range n.Inputs {
			if in != "" && !defined[in] { // "" marks an omitted optional input
				return fmt.Errorf("node %q (%s) reads %q before it is defined", n.Name, n.OpType, in)
			}
		}
		for _, out := range n.Outputs {
			if err := define(out, fmt.Sprintf("node %q output", n.Name)); err != nil {
				return err
			}
		}
	}
	for _, vi := range g.Outputs {
		if !defined[vi.Name] {
			return fmt.Errorf("output %q is never computed", vi.Name)
		}
	}
	return nil
}

func (t Tensor) check() error {
	es := t.DataType.size()
	if es == 0 {
		return fmt.Errorf("tensor %q: unsupported data type %d", t.Name, t.DataType)
	}
	n := int64(1)
	for _, d := range t.Dims {
		if d < 0 || (d > 0 && n > math.MaxInt64/d) {
			return fmt.Errorf("tensor %q: bad dims %v", t.Name, t.Dims)
		}
		n *= d
	}
	if int64(len(t.Raw)) != n*int64(es) {
		return fmt.Errorf("tensor %q: %d bytes for dims %v", t.Name, len(t.Raw), t.Dims)
	}
	return nil
}

func (g *Graph) marshal() []byte {
	var b []byte
	for _, n := range g.Nodes {
		b = appendMessage(b, 1, n.marshal())
	}
	b = appendString(b, 2, g.Name)
	for _, t := range g.Initializers {
		b = appendMessage(b, 5, t.marshal())
	}
	b = appendString(b, 10, g.DocString)
	for _, vi := range g.Inputs {
		b = appendMessage(b, 11, vi.marshal())
	}
	for _, vi := range g.Outputs {
		b = appendMessage(b, 12, vi.marshal())
	}
	return b
}

func (n Node) marshal() []byte {
	var b []byte
	for _, s := range n.Inputs {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, s) // may be "" for an omitted input
	}
	for _, s := range n.Outputs {
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendString(b, s)
	}
	b = appendString(b, 3, n.Name)
	b = appendString(b, 4, n.OpType)
	for _, a := range n.Attrs {
		b = appendMessage(b, 5, a.marshal())
	}
	b = appendString(b, 7, n.Domain)
	return b
}

func (a Attr) marshal() []byte {
	var b []byte
	b = appendString(b, 1, a.Name)
	switch a.Type {
	case AttrFloat:
		b = appendFloat(b, 2, a.F)
	case AttrInt:
		b = appendVarint(b, 3, uint64(a.I))
	case AttrString:
		b = protowire.AppendTag(b, 4, protowire.BytesType)
		b = protowire.AppendString(b, a.S)
	case AttrFloats:
		// proto2 repeated scalars are unpacked, as onnx itself writes them.
		for _, f := range a.Floats {
			b = appendFloat(b, 7, f)
		}
	case AttrInts:
		for _, i := range a.Ints {
			b = appendVarint(b, 8, uint64(i))
		}
	}
	return appendVarint(b, 20, uint64(a.Type))
}

func (t Tensor) marshal() []byte {
	b := make([]byte, 0, len(t.Raw)+len(t.Name)+16+10*len(t.Dims))
	for _, d := range t.Dims {
		b = appendVarint(b, 1, uint64(d))
	}
	b = appendVarint(b, 2, uint64(t.DataType))
	b = appendString(b, 8, t.Name)
	b = protowire.AppendTag(b, 9, protowire.BytesType)
	return protowire.AppendBytes(b, t.Raw)
}

func (vi ValueInfo) marshal() []byte {
	var shape []byte
	for _, d := range vi.Shape {
		var db []byte
		if d.Param != "" {
			db = appendString(db, 2, d.Param)
		} else {
			db = appendVarint(db, 1, uint64(d.Value))
		}
		shape = appendMessage(shape, 1, db)
	}
	var tensor []byte
	tensor = appendVarint(tensor, 1, uint64(vi.ElemType))
	tensor = appendMessage(tensor, 2, shape)
	var typ []byte
	typ = appendMessage(typ, 1, tensor)

	var b []byte
	b = appendString(b, 1, vi.Name)
	return appendMessage(b, 2, typ)
}

func appendVarint(b []byte, num protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func appendFloat(b []byte, num protowire.Number, v float32) []byte {
	b = protowire.AppendTag(b, num, protowire.Fixed32Type)
	return protowire.AppendFixed32(b, math.Float32bits(v))
}

// appendString skips empty strings: these fields are optional.
func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

// appendMessage always writes the field: an empty message is still present.
func appendMessage(b []byte, num protowire.Number, msg []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, msg)
}
