package vprint

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/x448/float16"
)

func TestGetHalvesAll(t *testing.T) {
	src := make([]byte, 2<<16)
	for i := 0; i < 1<<16; i++ {
		binary.LittleEndian.PutUint16(src[2*i:], uint16(i))
	}
	got := make([]float32, 1<<16)
	GetHalves(got, src)
	for i, g := range got {
		if want := float16.Frombits(uint16(i)).Float32(); math.Float32bits(g) != math.Float32bits(want) {
			t.Fatalf("half %#04x widened to %v, want %v", i, g, want)
		}
	}
}

func TestPutHalves(t *testing.T) {
	// Every half, its neighbours and the midpoints between them hit the
	// rounding edge cases; a stride covers the rest.
	var in []float32
	for i := 0; i < 1<<16; i++ {
		u := math.Float32bits(float16.Frombits(uint16(i)).Float32())
		for d := uint32(0); d < 3; d++ {
			in = append(in, math.Float32frombits(u+d), math.Float32frombits(u-d),
				math.Float32frombits(u+0x1000+d-1))
		}
	}
	step := uint64(997)
	if testing.Short() {
		step = 65537
	}
	for u := uint64(0); u < 1<<32; u += step {
		in = append(in, math.Float32frombits(uint32(u)))
	}
	out := make([]byte, 2*len(in))
	PutHalves(out, in)
	for i, v := range in {
		if got, want := binary.LittleEndian.Uint16(out[2*i:]), float16.Fromfloat32(v).Bits(); got != want {
			t.Fatalf("%v (%#08x) stored as %#04x, want %#04x", v, math.Float32bits(v), got, want)
		}
	}
}
