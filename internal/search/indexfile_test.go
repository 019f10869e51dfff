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

	// Adding a video makes the file stale: the new video's windows are
	// filed under the existing cells, without training them again.
	e := lib.entries[2]
	e.SHA256 = sha(e.ID)
	if _, err := st.Add(ctx, e); err != nil {
		t.Fatal(err)
	}
	third, err := Open(ctx, st, path)
	if err != nil {
		t.Fatal(err)
	}
	if !third.index.covers([]int64{1, 2, 3}) || third.index.trained != first.index.trained || len(third.index.refs) != 3000 {
		t.Errorf("index after an add: videos %v, %d windows, trained on %d; want 3 videos, 3000 windows, trained on %d",
			third.index.videoIDs, len(third.index.refs), third.index.trained, first.index.trained)
	}
	if info2, _ := os.Stat(path); info2.Size() <= info.Size() {
		t.Errorf("index file did not grow after an add: %d -> %d bytes", info.Size(), info2.Size())
	}
	for _, sq := range lib.queries(8, 12, 2, false) {
		if sq.video != 2 {
			continue
		}
		res, err := Search(ctx, third, sq.q, DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Matches) == 0 || res.Matches[0].Video.ID != 3 {
			t.Errorf("a clip of the added video was not found: %+v", res.Best)
		}
	}

	// Removing a video drops its windows.
	if err := st.Remove(ctx, 1); err != nil {
		t.Fatal(err)
	}
	fourth, err := Open(ctx, st, path)
	if err != nil {
		t.Fatal(err)
	}
	if !fourth.index.covers([]int64{2, 3}) || len(fourth.index.refs) != 1800 {
		t.Errorf("index after a remove: videos %v, %d windows; want 2 and 3, 1800 windows", fourth.index.videoIDs, len(fourth.index.refs))
	}
	for _, r := range fourth.index.refs {
		if fourth.index.videoIDs[r.video] == 1 {
			t.Fatal("a removed video's window is still indexed")
		}
	}

	// A damaged file is built again, not trusted.
	b, _ := os.ReadFile(path)
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	fifth, err := Open(ctx, st, path)
	if err != nil {
		t.Fatalf("a damaged index file: %v", err)
	}
	if !fifth.index.covers([]int64{2, 3}) || fifth.index.trained != 1800 {
		t.Errorf("rebuilt index: videos %v, trained on %d", fifth.index.videoIDs, fifth.index.trained)
	}
	again2, err := readIndex(path, fifth.codec)
	if err != nil || !reflect.DeepEqual(again2, fifth.index) {
		t.Errorf("the rebuilt index was not saved: %v", err)
	}
	if fifth.CacheErr != nil {
		t.Errorf("CacheErr %v after a save", fifth.CacheErr)
	}

	// An index that cannot be saved (a read-only library) is built in
	// memory: the search works, and CacheErr says why it was not kept.
	unsaved, err := Open(ctx, st, filepath.Join(dir, "missing", "windows.idx"))
	if err != nil {
		t.Fatalf("an index path that cannot be written: %v", err)
	}
	if unsaved.CacheErr == nil {
		t.Error("no CacheErr for an index that was not saved")
	}
	if !reflect.DeepEqual(unsaved.index, fifth.index) {
		t.Error("the unsaved index differs from the saved one")
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
