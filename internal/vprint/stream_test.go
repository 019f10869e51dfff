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
		if err := w.Append(p.Timestamps[i], p.Row(i), p.RegionRow(i)); err != nil {
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
	for _, shape := range []struct{ frames, dim, regions int }{{1, 1, 0}, {3, 576, 0}, {200, 1024, 0}, {1, 1, 1}, {200, 1024, 4}} {
		p := newPrint(shape.frames, shape.dim, 9)
		if shape.regions > 0 {
			withRegions(p, shape.regions, 10)
		}
		var want bytes.Buffer
		if err := Encode(&want, p); err != nil {
			t.Fatal(err)
		}
		if got := streamed(t, p); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("%dx%d, %d regions: streamed file differs from Encode (%d vs %d bytes)", shape.frames, shape.dim, shape.regions, len(got), want.Len())
		}
	}
}

func TestWriterRefusesBadRows(t *testing.T) {
	p := newPrint(2, 4, 1)
	withRegion := withRegions(newPrint(2, 4, 1), 1, 2)
	ok := []float32{1, 2, 3, 4}
	tests := []struct {
		name    string
		p       *Print
		ts      []float64
		rows    [][]float32
		regions [][]float32
		want    error
	}{
		{"wrong dim", p, []float64{0}, [][]float32{{1, 2}}, nil, ErrInvalid},
		{"NaN time", p, []float64{math.NaN()}, [][]float32{ok}, nil, ErrInvalid},
		{"time goes back", p, []float64{1, 0.5}, [][]float32{ok, ok}, nil, ErrInvalid},
		{"NaN feature", p, []float64{0}, [][]float32{{1, float32(math.NaN()), 3, 4}}, nil, ErrInvalid},
		{"beyond float16", p, []float64{0}, [][]float32{{1, 70000, 3, 4}}, nil, ErrRange},
		{"regions without any", p, []float64{0}, [][]float32{ok}, [][]float32{ok}, ErrInvalid},
		{"no regions", withRegion, []float64{0}, [][]float32{ok}, [][]float32{nil}, ErrInvalid},
		{"NaN region feature", withRegion, []float64{0}, [][]float32{ok}, [][]float32{{1, 2, float32(math.Inf(1)), 4}}, ErrInvalid},
		{"region beyond float16", withRegion, []float64{0}, [][]float32{ok}, [][]float32{{1, 2, -70000, 4}}, ErrRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "x.vprint")
			w, err := Create(path, tt.p)
			if err != nil {
				t.Fatal(err)
			}
			var appendErr error
			for i := range tt.ts {
				var regions []float32
				if tt.regions != nil {
					regions = tt.regions[i]
				}
				if appendErr = w.Append(tt.ts[i], tt.rows[i], regions); appendErr != nil {
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
	w.Append(0, p.Row(0), nil)
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
