package search

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/vidprint/vidprint/internal/library"
)

func TestOpenSavesAndReusesTheWindowIndex(t *testing.T) {
	ctx := context.Background()
	lib := newSynthLib(t, 21, 64, []int{6000, 5000, 4000})
	dir := t.TempDir()
	st, err := library.Create(ctx, dir, lib.meta)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, e := range lib.entries[:2] {
		e.SHA256 = sha(e.ID)
		if _, err := st.Add(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "windows.idx")
	first, err := Open(ctx, st, path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("Open did not save the index: %v", err)
	}
	again, err := Open(ctx, st, path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(first.index, again.index) {
		t.Error("the index read back differs from the one built")
	}
	if len(again.entries) != 0 {
		t.Errorf("a current index file still read %d prints up front", len(again.entries))
	}
	q := lib.queries(5, 1, 3, false)[0].q
	r1, err := Search(ctx, first, q, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	r2, err := Search(ctx, again, q, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(r1.Matches) != len(r2.Matches) || (len(r1.Matches) > 0 && r1.Matches[0].VideoStart != r2.Matches[0].VideoStart) {
		t.Errorf("results differ between a built and a read index: %d vs %d matches", len(r1.Matches), len(r2.Matches))
	}

	// Adding a video makes the file stale: it is rebuilt with the video.
	e := lib.entries[2]
	e.SHA256 = sha(e.ID)
	if _, err := st.Add(ctx, e); err != nil {
		t.Fatal(err)
	}
	third, err := Open(ctx, st, path)
	if err != nil {
		t.Fatal(err)
	}
	if len(third.index.videoIDs) != 3 {
		t.Errorf("index after an add covers %d videos, want 3", len(third.index.videoIDs))
	}
	if info2, _ := os.Stat(path); info2.Size() <= info.Size() {
		t.Errorf("index file did not grow after an add: %d -> %d bytes", info.Size(), info2.Size())
	}

	// A damaged file is rebuilt, not trusted.
	b, _ := os.ReadFile(path)
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	fourth, err := Open(ctx, st, path)
	if err != nil {
		t.Fatalf("a damaged index file: %v", err)
	}
	if !reflect.DeepEqual(fourth.index.vecs, third.index.vecs) {
		t.Error("the rebuilt index differs")
	}
}

func sha(id int64) string {
	const hex = "0123456789abcdef"
	b := make([]byte, 64)
	for i := range b {
		b[i] = hex[(int(id)*7+i)%16]
	}
	return string(b)
}

func FuzzDecodeIndex(f *testing.F) {
	lib := newSynthLib(f, 3, 16, []int{200, 150})
	b, err := NewMemory(context.Background(), lib.meta, lib.entries)
	if err != nil {
		f.Fatal(err)
	}
	good := encodeIndex(b.index, b.codec)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte(indexMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		x, err := decodeIndex(data)
		if err != nil {
			return
		}
		// What decodes must be usable: every cell and reference in range.
		q := make([]float32, IndexDim)
		q[0] = 1
		x.search(q, 4, 3, -1)
	})
}
