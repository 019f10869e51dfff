package vprint

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// streamed writes p through a Writer and returns the file's bytes.
func streamed(t *testing.T, p *Print) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.vprint")
	w, err := Create(path, p)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < p.Frames(); i++ {
		if err := w.Append(p.Timestamps[i], p.Row(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(p.Source, p.CreatedAt); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Fatalf("left behind: %v", entries)
	}
	return b
}

// The streamed file is byte for byte what Encode writes.
func TestWriterMatchesEncode(t *testing.T) {
	for _, shape := range []struct{ frames, dim int }{{1, 1}, {3, 576}, {200, 1024}} {
		p := newPrint(shape.frames, shape.dim, 9)
		var want bytes.Buffer
		if err := Encode(&want, p); err != nil {
			t.Fatal(err)
		}
		if got := streamed(t, p); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("%dx%d: streamed file differs from Encode (%d vs %d bytes)", shape.frames, shape.dim, len(got), want.Len())
		}
	}
}

func TestWriterRefusesBadRows(t *testing.T) {
	p := newPrint(2, 4, 1)
	tests := []struct {
		name string
		ts   []float64
		rows [][]float32
		want error
	}{
		{"wrong dim", []float64{0}, [][]float32{{1, 2}}, ErrInvalid},
		{"NaN time", []float64{math.NaN()}, [][]float32{{1, 2, 3, 4}}, ErrInvalid},
		{"time goes back", []float64{1, 0.5}, [][]float32{{1, 2, 3, 4}, {1, 2, 3, 4}}, ErrInvalid},
		{"NaN feature", []float64{0}, [][]float32{{1, float32(math.NaN()), 3, 4}}, ErrInvalid},
		{"beyond float16", []float64{0}, [][]float32{{1, 70000, 3, 4}}, ErrRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "x.vprint")
			w, err := Create(path, p)
			if err != nil {
				t.Fatal(err)
			}
			var appendErr error
			for i := range tt.ts {
				if appendErr = w.Append(tt.ts[i], tt.rows[i]); appendErr != nil {
					break
				}
			}
			if !errors.Is(appendErr, tt.want) {
				t.Fatalf("Append: %v, want %v", appendErr, tt.want)
			}
			if err := w.Commit(p.Source, p.CreatedAt); !errors.Is(err, tt.want) {
				t.Fatalf("Commit after a bad row: %v", err)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Fatalf("left behind: %v", entries)
			}
		})
	}
}

func TestWriterAbortAndEmpty(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.vprint")
	os.WriteFile(path, []byte("keep me"), 0o644)
	p := newPrint(1, 4, 1)
	w, err := Create(path, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(p.Source, p.CreatedAt); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Commit of 0 rows: %v, want ErrInvalid", err)
	}
	w, _ = Create(path, p)
	w.Append(0, p.Row(0))
	w.Abort()
	w.Abort()
	if b, _ := os.ReadFile(path); string(b) != "keep me" {
		t.Fatalf("an aborted print replaced the file: %q", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("left behind: %v", entries)
	}
	if _, err := Create(filepath.Join(dir, "missing", "x.vprint"), p); err == nil {
		t.Fatal("Create in a missing directory succeeded")
	}
}

func TestWriterWriteErrorsAreMarked(t *testing.T) {
	if _, err := Create("/proc/x.vprint", newPrint(1, 4, 1)); !errors.Is(err, ErrWrite) {
		t.Fatalf("Create in /proc: %v, want ErrWrite", err)
	}
}
