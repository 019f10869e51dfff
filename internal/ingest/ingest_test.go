package ingest

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestExpand(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"b.mp4", "a.mkv", "sub/c.mp4", "sub/deeper/d.avi", ".hidden.mp4",
		".cache/e.mp4", "lib/library.db", "notes.txt"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(dir, "b.mp4"), filepath.Join(dir, "sub", "link.mp4")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "sub"), filepath.Join(dir, "sublink")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"directory, recursive and sorted, hidden and library left out", []string{"."},
			[]string{"a.mkv", "b.mp4", "notes.txt", "sub/c.mp4", "sub/deeper/d.avi", "sub/link.mp4"}},
		{"glob", []string{"*.mp4"}, []string{"b.mp4"}},
		{"glob matching a directory", []string{"s*b"}, []string{"sub/c.mp4", "sub/deeper/d.avi", "sub/link.mp4"}},
		{"a hidden file named outright", []string{".hidden.mp4"}, []string{".hidden.mp4"}},
		{"duplicates once, first spelling kept", []string{"b.mp4", "./b.mp4", "*.mp4", dir + "/b.mp4"}, []string{"b.mp4"}},
		{"missing file kept for Ingest to report", []string{"gone.mp4"}, []string{"gone.mp4"}},
		{"pattern matching nothing kept as given", []string{"*.webm"}, []string{"*.webm"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Expand(tt.args, "lib")
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				got[i] = filepath.ToSlash(filepath.Clean(got[i]))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Expand(%q) = %q, want %q", tt.args, got, tt.want)
			}
		})
	}
	if _, err := Expand([]string{"[unclosed"}); err == nil {
		t.Error("a malformed pattern was accepted")
	}
}
