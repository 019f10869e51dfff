package model

import (
	"math"
	"testing"
)

func TestTypicalRow(t *testing.T) {
	spec, _ := Lookup(Default)
	row := TypicalRow(Default, spec.SHA256, spec.Outputs[0].Name)
	if len(row) != spec.Outputs[0].Dim {
		t.Fatalf("the default model's typical row has %d values, want %d", len(row), spec.Outputs[0].Dim)
	}
	var norm float64
	for i, v := range row {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("value %d is %v", i, v)
		}
		norm += float64(v) * float64(v)
	}
	if norm == 0 {
		t.Fatal("the typical row is all zeros")
	}
	for _, tc := range []struct{ name, id, sha, output string }{
		{"a model file of another hash", Default, "00" + spec.SHA256[2:], spec.Outputs[0].Name},
		{"a short hash", Default, spec.SHA256[:8], spec.Outputs[0].Name},
		{"another output", Default, spec.SHA256, "pooled"},
		{"a user-supplied model", "mobilenetv3-large-imagenet", spec.SHA256, spec.Outputs[0].Name},
		{"an unknown model", "nope", spec.SHA256, spec.Outputs[0].Name},
	} {
		if got := TypicalRow(tc.id, tc.sha, tc.output); got != nil {
			t.Errorf("%s: %d values, want none", tc.name, len(got))
		}
	}
}
