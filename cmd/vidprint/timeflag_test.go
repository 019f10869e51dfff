package main

import "testing"

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"90", 90, true},
		{"90.5", 90.5, true},
		{"1:30", 90, true},
		{"00:01:30.500", 90.5, true},
		{"1:00:00", 3600, true},
		{"0", 0, true},
		{"", 0, false},
		{"-3", 0, false},
		{"1:60", 0, false},
		{"1.5:30", 0, false},
		{"1:2:3:4", 0, false},
		{"NaN", 0, false},
		{"Inf", 0, false},
		{"ten", 0, false},
	}
	for _, tt := range tests {
		got, err := parseTime(tt.in)
		if (err == nil) != tt.ok || tt.ok && got != tt.want {
			t.Errorf("parseTime(%q) = %g, %v; want %g, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"90", "1:30", "00:01:30.500", "", "1:60", "-0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseTime(s)
		if err == nil && (v < 0 || v != v) {
			t.Fatalf("parseTime(%q) = %g", s, v)
		}
	})
}
