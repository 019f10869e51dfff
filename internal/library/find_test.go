package library

import (
	"errors"
	"path/filepath"
	"testing"
)

func TestFind(t *testing.T) {
	abs, _ := filepath.Abs("clip.mp4")
	videos := []Video{
		{ID: 1, Path: abs, SHA256: "abcdef0123456789"},
		{ID: 2, Path: "/data/other.mp4", SHA256: "abcdef9999999999"},
		{ID: 12, Path: "/data/12", SHA256: "0123456789abcdef"},
	}
	tests := []struct {
		name   string
		want   int64
		wantEr error
	}{
		{"1", 1, nil},
		{"12", 12, nil},
		{"clip.mp4", 1, nil},
		{abs, 1, nil},
		{"/data/other.mp4", 2, nil},
		{"ABCDEF9", 2, nil},
		{"0123456", 12, nil},
		{"abcdef", 0, ErrAmbiguous},
		{"abcde", 0, ErrNotFound}, // too short a prefix
		{"7", 0, ErrNotFound},
		{"missing.mp4", 0, ErrNotFound},
	}
	for _, tt := range tests {
		v, err := Find(videos, tt.name)
		if tt.wantEr != nil {
			if !errors.Is(err, tt.wantEr) {
				t.Errorf("Find(%q) = %d, %v; want %v", tt.name, v.ID, err, tt.wantEr)
			}
			continue
		}
		if err != nil || v.ID != tt.want {
			t.Errorf("Find(%q) = %d, %v; want %d", tt.name, v.ID, err, tt.want)
		}
	}
}
