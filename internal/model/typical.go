package model

import (
	"embed"
	"encoding/binary"
	"math"
)

// typicalRows holds the typical rows (TypicalRow) as float32 values,
// little-endian, named for the model, output and the first 12 hex digits
// of the model file's sha256 they were fit on: typical/ID.OUTPUT.SHA.f32,
// written by eval/typical. A model re-pinned to another file has none
// until one is fit on it.
//
//go:embed typical/*.f32
var typicalRows embed.FS

// TypicalRow is what a model's output looks like on average: the mean of
// each video's mean row over footage eval/locate does not use (eval/codec's
// held-out videos). A single image is centred by it (Calibration.ImageSimilarity).
// It is nil where none was fit: a user-supplied model, another output, or
// a model file of another sha256.
func TypicalRow(id, sha256, output string) []float32 {
	spec, ok := Lookup(id)
	if !ok || len(sha256) < typicalSHA {
		return nil
	}
	dim := 0
	for _, o := range spec.Outputs {
		if o.Name == output {
			dim = o.Dim
		}
	}
	raw, err := typicalRows.ReadFile("typical/" + TypicalFile(id, sha256, output))
	if err != nil || dim == 0 || len(raw) != 4*dim {
		return nil
	}
	row := make([]float32, dim)
	for i := range row {
		row[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return row
}

// typicalSHA is how many hex digits of the model's sha256 name a typical
// row's file.
const typicalSHA = 12

// TypicalFile names the file of a typical row (see typicalRows); sha256
// must have at least 12 hex digits.
func TypicalFile(id, sha256, output string) string {
	return id + "." + output + "." + sha256[:typicalSHA] + ".f32"
}
