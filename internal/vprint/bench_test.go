package vprint

import (
	"bytes"
	"io"
	"testing"
)

// A two-hour video sampled at 5 fps with 1024 features per frame.
const benchFrames, benchDim = 36000, 1024

func BenchmarkEncode(b *testing.B) {
	p := newPrint(benchFrames, benchDim, 1)
	var n countWriter
	if err := Encode(&n, p); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		if err := Encode(io.Discard, p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	data := encode(b, newPrint(benchFrames, benchDim, 1))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }
