package vprint

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
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
		if err := w.Append(p.Timestamps[i], p.Row(i), p.RegionRow(i), thumbOf(p, i)); err != nil {
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
	for _, shape := range []struct {
		frames, dim, regions int
		thumbs               Thumbs // shape only
	}{
		{1, 1, 0, Thumbs{}},
		{3, 576, 0, Thumbs{}},
		{200, 1024, 0, Thumbs{}},
		{1, 1, 1, Thumbs{}},
		{200, 1024, 4, Thumbs{}},
		{1, 1, 0, Thumbs{Width: 1, Height: 1, Every: 1}},
		{12, 8, 0, Thumbs{Width: 16, Height: 12, Every: 5}},
		{200, 1024, 4, Thumbs{Width: 16, Height: 12, Every: 5}},
		{3, 2, 0, Thumbs{Width: MaxThumbSide, Height: 3, Every: 7}},
	} {
		p := newPrint(shape.frames, shape.dim, 9)
		if shape.regions > 0 {
			withRegions(p, shape.regions, 10)
		}
		if th := shape.thumbs; th.Width > 0 {
			withThumbs(p, th.Width, th.Height, th.Every, 11)
		}
		var want bytes.Buffer
		if err := Encode(&want, p); err != nil {
			t.Fatal(err)
		}
		if got := streamed(t, p); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("%dx%d, %d regions, thumbnails %+v: streamed file differs from Encode (%d vs %d bytes)",
				shape.frames, shape.dim, shape.regions, shape.thumbs, len(got), want.Len())
		}
	}
}

// TestWriterRoundTrip reads back a streamed print with thumbnails.
func TestWriterRoundTrip(t *testing.T) {
	p := withThumbs(withRegions(newPrint(11, 6, 12), 4, 13), 16, 12, 5, 14)
	data := streamed(t, p)
	if v := binary.LittleEndian.Uint16(data[8:]); v != 3 {
		t.Errorf("version %d, want 3", v)
	}
	got, err := Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, got, p)
}

// TestWriterCopiesThumbs checks that Append keeps no reference to the
// caller's thumbnail, which a video decoder reuses.
func TestWriterCopiesThumbs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.vprint")
	p := withThumbs(newPrint(3, 2, 15), 2, 2, 2, 16)
	w, err := Create(path, p)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	for i := 0; i < p.Frames(); i++ {
		var thumb []byte
		if i%2 == 0 {
			thumb = buf
			copy(buf, p.Thumbs.Thumb(i/2))
		}
		if err := w.Append(p.Timestamps[i], p.Row(i), nil, thumb); err != nil {
			t.Fatal(err)
		}
		clear(buf)
	}
	if err := w.Commit(p.Source, p.CreatedAt); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, got, p)
}

func TestCreateThumbs(t *testing.T) {
	dir := t.TempDir()
	for _, th := range []Thumbs{
		{Width: 16, Height: 0, Every: 5},
		{Width: 0, Height: 12, Every: 5},
		{Width: MaxThumbSide + 1, Height: 12, Every: 5},
		{Width: 16, Height: 12, Every: 0},
		{Every: 5},
	} {
		p := newPrint(1, 4, 1)
		p.Thumbs = th
		if _, err := Create(filepath.Join(dir, "x.vprint"), p); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "thumbnail") {
			t.Errorf("Create with thumbnails %+v: %v, want ErrInvalid", th, err)
		}
	}
	// Create takes the shape of head's thumbnails, not their pixels.
	p := withThumbs(newPrint(6, 4, 1), 3, 2, 5, 2)
	head := *p
	head.Thumbs.Pixels = []byte{1, 2, 3}
	w, err := Create(filepath.Join(dir, "x.vprint"), &head)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < p.Frames(); i++ {
		if err := w.Append(p.Timestamps[i], p.Row(i), nil, thumbOf(p, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(p.Source, p.CreatedAt); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(filepath.Join(dir, "x.vprint"))
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, got, p)
	checkOnly(t, dir, "x.vprint")
}

func TestWriterRefusesBadRows(t *testing.T) {
	p := newPrint(2, 4, 1)
	withRegion := withRegions(newPrint(2, 4, 1), 1, 2)
	withThumb := withThumbs(newPrint(2, 4, 1), 3, 2, 2, 3) // rows 0, 2, ... have one
	ok := []float32{1, 2, 3, 4}
	thumb := []byte{1, 2, 3, 4, 5, 6}
	tests := []struct {
		name    string
		p       *Print
		ts      []float64
		rows    [][]float32
		regions [][]float32
		thumbs  [][]byte
		want    error
		msg     string
	}{
		{"wrong dim", p, []float64{0}, [][]float32{{1, 2}}, nil, nil, ErrInvalid, ""},
		{"NaN time", p, []float64{math.NaN()}, [][]float32{ok}, nil, nil, ErrInvalid, ""},
		{"time goes back", p, []float64{1, 0.5}, [][]float32{ok, ok}, nil, nil, ErrInvalid, ""},
		{"NaN feature", p, []float64{0}, [][]float32{{1, float32(math.NaN()), 3, 4}}, nil, nil, ErrInvalid, ""},
		{"beyond float16", p, []float64{0}, [][]float32{{1, 70000, 3, 4}}, nil, nil, ErrRange, ""},
		{"regions without any", p, []float64{0}, [][]float32{ok}, [][]float32{ok}, nil, ErrInvalid, ""},
		{"no regions", withRegion, []float64{0}, [][]float32{ok}, [][]float32{nil}, nil, ErrInvalid, ""},
		{"NaN region feature", withRegion, []float64{0}, [][]float32{ok}, [][]float32{{1, 2, float32(math.Inf(1)), 4}}, nil, ErrInvalid, ""},
		{"region beyond float16", withRegion, []float64{0}, [][]float32{ok}, [][]float32{{1, 2, -70000, 4}}, nil, ErrRange, ""},
		{"thumbnail without any", p, []float64{0}, [][]float32{ok}, nil, [][]byte{thumb}, ErrInvalid, "row 0 has a thumbnail, but the print has none"},
		{"missing thumbnail", withThumb, []float64{0}, [][]float32{ok}, nil, [][]byte{nil}, ErrInvalid, "row 0 has no thumbnail, want one every 2 rows"},
		{"missing later thumbnail", withThumb, []float64{0, 1, 2}, [][]float32{ok, ok, ok}, nil, [][]byte{thumb, nil, nil}, ErrInvalid, "row 2 has no thumbnail"},
		{"thumbnail on the wrong row", withThumb, []float64{0, 1}, [][]float32{ok, ok}, nil, [][]byte{thumb, thumb}, ErrInvalid, "row 1 has a thumbnail, want one only every 2 rows"},
		{"thumbnail short", withThumb, []float64{0}, [][]float32{ok}, nil, [][]byte{thumb[1:]}, ErrInvalid, "row 0 has a thumbnail of 5 bytes, want 3x2 = 6"},
		{"thumbnail long", withThumb, []float64{0}, [][]float32{ok}, nil, [][]byte{append(thumb, 7)}, ErrInvalid, "of 7 bytes"},
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
				var thumb []byte
				if tt.thumbs != nil {
					thumb = tt.thumbs[i]
				}
				if appendErr = w.Append(tt.ts[i], tt.rows[i], regions, thumb); appendErr != nil {
					break
				}
			}
			if !errors.Is(appendErr, tt.want) || !strings.Contains(appendErr.Error(), tt.msg) {
				t.Fatalf("Append: %v, want %v saying %q", appendErr, tt.want, tt.msg)
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
	w.Append(0, p.Row(0), nil, nil)
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
