package view

import (
	"slices"
	"testing"
)

// A clip's region view is made of its query views: each quarter must be
// one of them, rectangle for rectangle.
func TestQuartersAreQueryViews(t *testing.T) {
	for _, q := range Quarters {
		if !slices.Contains(Query(), q) {
			t.Errorf("quarter %+v is not a query view", q)
		}
	}
}

func TestNames(t *testing.T) {
	wantQuarters := []Name{"window-00", "window-02", "window-20", "window-22"}
	for i, q := range Quarters {
		if q.Name != wantQuarters[i] || InsetQuarters[i].Name != "inset"+wantQuarters[i][len("window"):] ||
			SecondInsetQuarters[i].Name != "inset2"+wantQuarters[i][len("window"):] {
			t.Errorf("quarter %d named %s, %s, %s", i, q.Name, InsetQuarters[i].Name, SecondInsetQuarters[i].Name)
		}
		if !InsetQuarters[i].Inset || InsetQuarters[i].InsetRank != 0 || SecondInsetQuarters[i].InsetRank != 1 {
			t.Errorf("inset quarter %d: %+v, %+v", i, InsetQuarters[i], SecondInsetQuarters[i])
		}
	}
	tests := []struct {
		name                Name
		whole, selfCentred  bool
		mirrored, own, base Name
	}{
		{Full, true, true, Flip, "full/own", Full},
		{Flip, true, true, Full, "flip/own", Flip},
		{Regions, false, true, Regions, "regions/own", Regions},
		{InsetRegions, false, true, InsetRegions, "inset-regions/own", InsetRegions},
		{"window-11", false, false, "window-11", "window-11/own", "window-11"},
		{"full/own", false, false, "full/own", "full/own/own", Full},
	}
	for _, tt := range tests {
		if tt.name.Whole() != tt.whole || tt.name.SelfCentred() != tt.selfCentred || tt.name.Mirrored() != tt.mirrored ||
			tt.name.Own() != tt.own || tt.name.Base() != tt.base {
			t.Errorf("%s: whole %v, self-centred %v, mirrored %s, own %s, base %s", tt.name,
				tt.name.Whole(), tt.name.SelfCentred(), tt.name.Mirrored(), tt.name.Own(), tt.name.Base())
		}
	}
}
