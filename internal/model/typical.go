package model

import (
	"embed"
	"encoding/binary"
	"math"
)

// typicalRows holds, per catalogue model and output, the typical row
// (TypicalRow) as float32 values, little-endian: typical/ID.OUTPUT.f32,
// written by eval/typical.
//
//go:embed typical/*.f32
var typicalRows embed.FS

// TypicalRow is what a model's output looks like on average: the mean, over
// footage no evaluation uses (eval/codec's 14 held-out videos, each
// weighing the same), of each video's mean row. A single image is compared
// centred by it: centred by its own video's mean instead, a frame of
// nearly still footage leaves little but noise, and centred by a
// library's mean, its score depends on what else the library holds (in a
// library of one video, that video's mean again). It is nil for a model
// or output the catalogue has none for, such as a user-supplied model, or
// when sha256 is not the pinned one.
func TypicalRow(id, sha256, output string) []float32 {
	spec, ok := Lookup(id)
	if !ok || spec.SHA256 == "" || spec.SHA256 != sha256 {
		return nil
	}
	dim := 0
	for _, o := range spec.Outputs {
		if o.Name == output {
			dim = o.Dim
		}
	}
	raw, err := typicalRows.ReadFile("typical/" + id + "." + output + ".f32")
	if err != nil || dim == 0 || len(raw) != 4*dim {
		return nil
	}
	row := make([]float32, dim)
	for i := range row {
		row[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return row
}
