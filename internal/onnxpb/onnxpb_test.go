package onnxpb

import (
	"bytes"
	"encoding/hex"
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

func TestGoldenEncoding(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		// name, f (fixed32), type=FLOAT (field 20 = tag a0 01)
		{"float attr", FloatAttr("alpha", 0.5).marshal(), "0a05616c706861" + "150000003f" + "a00101"},
		{"int attr", IntAttr("group", 3).marshal(), "0a0567726f7570" + "1803" + "a00102"},
		{"string attr", StringAttr("mode", "ab").marshal(), "0a046d6f6465" + "22026162" + "a00103"},
		{"floats attr", FloatsAttr("v", 1, -2).marshal(), "0a0176" + "3d0000803f" + "3d000000c0" + "a00106"},
		{"ints attr", IntsAttr("pads", 1, -1).marshal(), "0a0470616473" + "4001" + "40ffffffffffffffffff01" + "a00107"},
		{"float tensor", FloatTensor("w", []int64{2}, []float32{1, 2}).marshal(), "0802" + "1001" + "420177" + "4a080000803f00000040"},
		{"int64 tensor", Int64Tensor("s", []int64{1}, []int64{-1}).marshal(), "0801" + "1007" + "420173" + "4a08ffffffffffffffff"},
		{"value info", ValueInfo{Name: "input", ElemType: Float, Shape: []Dim{{Param: "N"}, {Value: 3}}}.marshal(),
			"0a05696e707574" + "120f" + "0a0d" + "0801" + "1209" + "0a0312014e" + "0a020803"},
		{"node", Node{Name: "n", OpType: "Relu", Inputs: []string{"x"}, Outputs: []string{"y"}}.marshal(),
			"0a0178" + "120179" + "1a016e" + "220452656c75"},
	}
	for _, tc := range tests {
		if got := hex.EncodeToString(tc.got); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

// tinyModel exercises every attribute type and both tensor types.
func tinyModel() *Model {
	m := &Model{
		IRVersion:    8,
		ProducerName: "onnxpb-test",
		Opsets:       []OpsetID{{Version: 17}},
		Metadata:     []Prop{{"k", "v"}},
		Graph: Graph{
			Name:    "tiny",
			Inputs:  []ValueInfo{{Name: "x", ElemType: Float, Shape: []Dim{{Param: "N"}, {Value: 1}, {Value: 4}, {Value: 4}}}},
			Outputs: []ValueInfo{{Name: "y", ElemType: Float, Shape: []Dim{{Param: "N"}, {Value: 2}, {Value: 2}, {Value: 2}}}, {Name: "z", ElemType: Float, Shape: []Dim{{Param: "N"}, {Value: 3}}}},
		},
	}
	g := &m.Graph
	w := g.AddInitializer(FloatTensor("w", []int64{2, 1, 3, 3}, convW))
	b := g.AddInitializer(FloatTensor("b", []int64{2}, []float32{0.5, -1}))
	w2 := g.AddInitializer(FloatTensor("w2", []int64{3, 2}, gemmW))
	shape := g.AddInitializer(Int64Tensor("shape", []int64{2}, []int64{-1, 3}))
	c := g.AddNode("conv", "Conv", []string{"x", w, b}, []string{"c"},
		StringAttr("auto_pad", "NOTSET"), IntsAttr("kernel_shape", 3, 3), IntsAttr("pads", 1, 1, 1, 1), IntsAttr("strides", 2, 2), IntAttr("group", 1))
	g.AddNode("hsig", "HardSigmoid", []string{c}, []string{"y"}, FloatAttr("alpha", 1.0/6), FloatAttr("beta", 0.5))
	p := g.AddNode("pool", "GlobalAveragePool", []string{"y"}, []string{"p"})
	f := g.AddNode("flat", "Flatten", []string{p}, []string{"f"}, IntAttr("axis", 1))
	gm := g.AddNode("gemm", "Gemm", []string{f, w2}, []string{"g"}, IntAttr("transB", 1))
	k := g.AddNode("const", "Constant", nil, []string{"k"}, FloatsAttr("value_floats", 10, 20, 30))
	a := g.AddNode("add", "Add", []string{gm, k}, []string{"a"})
	g.AddNode("reshape", "Reshape", []string{a, shape}, []string{"z"})
	return m
}

var (
	convW = []float32{1, 0, -1, 2, 0, -2, 1, 0, -1, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9}
	gemmW = []float32{1, 2, -1, 0.5, 3, -3}
)

// tinyReference computes tinyModel's outputs directly.
func tinyReference(x []float32, n int) (y, z []float32) {
	b := []float32{0.5, -1}
	y = make([]float32, n*8)
	for i := range n {
		for oc := range 2 {
			for oy := range 2 {
				for ox := range 2 {
					s := float64(b[oc])
					for ky := range 3 {
						for kx := range 3 {
							iy, ix := oy*2-1+ky, ox*2-1+kx
							if iy < 0 || iy >= 4 || ix < 0 || ix >= 4 {
								continue
							}
							s += float64(convW[oc*9+ky*3+kx]) * float64(x[i*16+iy*4+ix])
						}
					}
					y[i*8+oc*4+oy*2+ox] = float32(math.Max(0, math.Min(1, s/6+0.5)))
				}
			}
		}
		var pooled [2]float64
		for oc := range 2 {
			for j := range 4 {
				pooled[oc] += float64(y[i*8+oc*4+j]) / 4
			}
		}
		for o := range 3 {
			z = append(z, float32(pooled[0]*float64(gemmW[o*2])+pooled[1]*float64(gemmW[o*2+1])+float64(10*(o+1))))
		}
	}
	return y, z
}

func TestDeterministic(t *testing.T) {
	a, err := tinyModel().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	b, err := tinyModel().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two marshals differ")
	}
}

// fields decodes one message level into field number -> raw values.
func fields(t *testing.T, b []byte) map[protowire.Number][][]byte {
	t.Helper()
	out := make(map[protowire.Number][][]byte)
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("bad tag: %v", protowire.ParseError(n))
		}
		b = b[n:]
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			t.Fatalf("bad field %d: %v", num, protowire.ParseError(m))
		}
		v := b[:m]
		if typ == protowire.BytesType {
			v, _ = protowire.ConsumeBytes(v)
		}
		out[num] = append(out[num], v)
		b = b[m:]
	}
	return out
}

func TestModelStructure(t *testing.T) {
	b, err := tinyModel().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	m := fields(t, b)
	if v, _ := protowire.ConsumeVarint(m[1][0]); v != 8 {
		t.Errorf("ir_version = %d", v)
	}
	if string(m[2][0]) != "onnxpb-test" {
		t.Errorf("producer_name = %q", m[2][0])
	}
	op := fields(t, m[8][0])
	if v, _ := protowire.ConsumeVarint(op[2][0]); len(op[1]) != 1 || len(op[1][0]) != 0 || v != 17 {
		t.Errorf("opset_import = %v", op)
	}
	if kv := fields(t, m[14][0]); string(kv[1][0]) != "k" || string(kv[2][0]) != "v" {
		t.Errorf("metadata_props = %v", kv)
	}
	g := fields(t, m[7][0])
	if len(g[1]) != 8 || len(g[5]) != 4 || len(g[11]) != 1 || len(g[12]) != 2 || string(g[2][0]) != "tiny" {
		t.Errorf("graph: %d nodes, %d initializers, %d inputs, %d outputs", len(g[1]), len(g[5]), len(g[11]), len(g[12]))
	}
	conv := fields(t, g[1][0])
	if string(conv[4][0]) != "Conv" || len(conv[1]) != 3 || len(conv[5]) != 5 {
		t.Errorf("conv node = %v", conv)
	}
}

func TestMarshalErrors(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Model)
		want   string
	}{
		{"undefined input", func(m *Model) { m.Graph.Nodes[1].Inputs[0] = "nope" }, `reads "nope" before it is defined`},
		{"out of order", func(m *Model) { m.Graph.Nodes[0], m.Graph.Nodes[1] = m.Graph.Nodes[1], m.Graph.Nodes[0] }, "before it is defined"},
		{"defined twice", func(m *Model) { m.Graph.Nodes[2].Outputs[0] = "c" }, `"c": value defined twice`},
		{"output missing", func(m *Model) { m.Graph.Outputs[0].Name = "q" }, `output "q" is never computed`},
		{"tensor size", func(m *Model) { m.Graph.Initializers[0].Dims = []int64{2, 1, 3, 2} }, `tensor "w": 72 bytes for dims`},
		{"tensor type", func(m *Model) { m.Graph.Initializers[0].DataType = 99 }, "unsupported data type"},
		{"no op type", func(m *Model) { m.Graph.Nodes[0].OpType = "" }, "no op type"},
		{"no opset", func(m *Model) { m.Opsets = nil }, "no opset"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tinyModel()
			tc.modify(m)
			_, err := m.Marshal()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
