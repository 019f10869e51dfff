package search

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/vidprint/vidprint/internal/library/rowcodec"
	"github.com/vidprint/vidprint/internal/vecmath"
	"github.com/x448/float16"
)

func TestOpenSavesAndReusesTheWindowIndex(t *testing.T) {
	ctx := context.Background()
	lib := newSynthLib(t, 21, 64, []int{6000, 5000, 4000})
	dir := t.TempDir()
	st := lib.stored(t, dir, lib.entries[:2])
	defer st.Close()
	path := filepath.Join(dir, "windows.idx")
	first, err := OpenIndex(ctx, st, path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("Open did not save the index: %v", err)
	}
	again, err := OpenIndex(ctx, st, path)
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
	third, err := OpenIndex(ctx, st, path)
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
	fourth, err := OpenIndex(ctx, st, path)
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
	fifth, err := OpenIndex(ctx, st, path)
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
	unsaved, err := OpenIndex(ctx, st, filepath.Join(dir, "missing", "windows.idx"))
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

// encodeIndexV1 writes x in the layout of index version 1, which stored
// every float as float32: what an older vidprint left in a library.
func encodeIndexV1(x *windowIndex, codec rowcodec.Codec) []byte {
	le := binary.LittleEndian
	b := append([]byte(nil), indexMagic...)
	b = le.AppendUint32(b, 1)
	b = le.AppendUint64(b, uint64(x.generation))
	b = le.AppendUint16(b, uint16(len(codec.Name())))
	b = append(b, codec.Name()...)
	for _, v := range []int{codec.Dim(), x.dim, len(x.start) - 1, len(x.videoIDs)} {
		b = le.AppendUint32(b, uint32(v))
	}
	b = le.AppendUint64(b, uint64(len(x.refs)))
	b = le.AppendUint64(b, uint64(x.trained))
	b = appendFloats(b, x.mean)
	for _, id := range x.videoIDs {
		b = le.AppendUint64(b, uint64(id))
	}
	b = appendFloats(b, x.centroids)
	for _, s := range x.start {
		b = le.AppendUint32(b, uint32(s))
	}
	for _, r := range x.refs {
		b = le.AppendUint32(b, uint32(r.video))
		b = le.AppendUint32(b, uint32(r.window))
	}
	b = appendFloats(b, x.vecs)
	return le.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// withVersion returns b with its version set to v and its checksum made
// good again.
func withVersion(b []byte, v uint32) []byte {
	b = append([]byte(nil), b...)
	binary.LittleEndian.PutUint32(b[len(indexMagic):], v)
	return resum(b)
}

// resum makes b's checksum match its body again.
func resum(b []byte) []byte {
	binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.Checksum(b[:len(b)-4], castagnoli))
	return b
}

func mustEncode(t testing.TB, x *windowIndex, codec rowcodec.Codec) []byte {
	t.Helper()
	b, err := encodeIndex(x, codec)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestIndexFileKeepsVectorsAsHalves(t *testing.T) {
	for _, tc := range []struct {
		name    string
		lengths []int
		cells   int // want; more than 1 checks the centroids too
	}{
		{"one cell", []int{3000, 2500}, 1},
		{"many cells", []int{12000, 11000}, cellsFor(4600)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			lib := newSynthLib(t, 31, 64, tc.lengths)
			mem := lib.backend(t)
			x := mem.index
			x.generation = 7
			if cells := len(x.start) - 1; cells != tc.cells {
				t.Fatalf("%d cells, want %d", cells, tc.cells)
			}
			b := mustEncode(t, x, mem.codec)
			// The layout: everything that grows with the library is 2
			// bytes a value.
			windows, cells := len(x.refs), len(x.start)-1
			want := len(indexMagic) + 4 + 8 + 2 + len(mem.codec.Name()) + 4*4 + 8 + 8 + 4*len(x.mean) + 8*len(x.videoIDs) +
				2*cells*IndexDim + 4*(cells+1) + 8*windows + 2*windows*IndexDim + 4
			if len(b) != want {
				t.Errorf("index file of %d windows is %d bytes, want %d", windows, len(b), want)
			}
			if v1 := len(encodeIndexV1(x, mem.codec)); len(b) > v1*6/10 {
				t.Errorf("index file is %d bytes, version 1's %d: not about half", len(b), v1)
			}

			got, err := decodeIndex(b)
			if err != nil {
				t.Fatal(err)
			}
			if got.codecName != mem.codec.Name() || got.generation != 7 || got.dim != x.dim || got.trained != x.trained ||
				!reflect.DeepEqual(got.mean, x.mean) || !reflect.DeepEqual(got.videoIDs, x.videoIDs) ||
				!reflect.DeepEqual(got.start, x.start) || !reflect.DeepEqual(got.refs, x.refs) {
				t.Fatal("the index read back differs from the one written beyond its vectors")
			}
			for _, arr := range []struct {
				name      string
				got, want []float32
			}{{"centroid", got.centroids, x.centroids}, {"window vector", got.vecs, x.vecs}} {
				if len(arr.got) != len(arr.want) {
					t.Fatalf("%d %s values read back, want %d", len(arr.got), arr.name, len(arr.want))
				}
				changed := 0
				for i := 0; i < len(arr.want); i += IndexDim {
					g, w := arr.got[i:i+IndexDim], arr.want[i:i+IndexDim]
					var diff, norm float64
					for d := range w {
						e := math.Abs(float64(g[d] - w[d]))
						// Half a float16 step: 2^-11 relative, or 2^-25
						// absolute among the subnormals.
						if e > math.Abs(float64(w[d]))/2048+1.0/(1<<25) {
							t.Fatalf("%s %d [%d]: %g read back as %g", arr.name, i/IndexDim, d, w[d], g[d])
						}
						if e != 0 {
							changed++
						}
						diff += e * e
						norm += float64(w[d]) * float64(w[d])
					}
					if norm > 0 && math.Sqrt(diff/norm) >= 1e-3 {
						t.Fatalf("%s %d: relative error %.2g", arr.name, i/IndexDim, math.Sqrt(diff/norm))
					}
				}
				if tc.cells > 1 || arr.name != "centroid" {
					if changed == 0 {
						t.Errorf("no %s value was rounded: not stored as float16?", arr.name)
					}
				}
			}

			// The same nearest neighbours, scanning every cell: queries
			// are indexed windows with noise, so each has a clear best.
			rng := rand.New(rand.NewPCG(5, 5))
			agree, queries := 0, 200
			for range queries {
				j := rng.IntN(windows)
				q := make([]float32, IndexDim)
				var ss float64
				for d := range q {
					q[d] = x.vecs[j*IndexDim+d] + float32(rng.NormFloat64()*0.03)
					ss += float64(q[d]) * float64(q[d])
				}
				vecmath.Unit(q, ss)
				want := x.search(q, cells, 10, -1)
				have := got.search(q, cells, 10, -1)
				if len(have) != len(want) {
					t.Fatalf("%d neighbours, want %d", len(have), len(want))
				}
				if math.Abs(float64(have[0].score-want[0].score)) > 2e-3 {
					t.Errorf("best cosine %.4f read back, %.4f written", have[0].score, want[0].score)
				}
				if have[0].i == want[0].i {
					agree++
				} else if want[0].score-want[1].score > 2e-3 {
					t.Errorf("query near window %d: nearest %v read back, %v written, a clear margin apart", j, x.refs[have[0].i], x.refs[want[0].i])
				}
			}
			if agree < queries*95/100 {
				t.Errorf("the same nearest neighbour for %d of %d queries", agree, queries)
			}

			// And the same matches, through the whole search.
			back := lib.backend(t)
			back.index = got.windowIndex
			for i, sq := range lib.queries(3, 6, 3, false) {
				r1, err := Search(ctx, mem, sq.q, DefaultOptions())
				if err != nil {
					t.Fatal(err)
				}
				r2, err := Search(ctx, back, sq.q, DefaultOptions())
				if err != nil {
					t.Fatal(err)
				}
				if len(r1.Matches) == 0 || len(r2.Matches) == 0 || r1.Matches[0].Video.ID != r2.Matches[0].Video.ID ||
					r1.Matches[0].VideoStart != r2.Matches[0].VideoStart {
					t.Errorf("query %d: float32 index found %v, float16 %v", i, r1.Matches, r2.Matches)
				}
			}
		})
	}
}

func TestIndexFileRefusesValuesBeyondFloat16(t *testing.T) {
	for _, tc := range []struct {
		v  float32
		ok bool
	}{
		{1, true},
		{-1, true},
		{65504, true}, // the largest float16
		{65519, true}, // rounds down to it
		{65520, false},
		{-1e6, false},
		{float32(math.Inf(1)), false},
		{float32(math.NaN()), false},
	} {
		t.Run(fmt.Sprint(tc.v), func(t *testing.T) {
			lib := newSynthLib(t, 4, 16, []int{100})
			mem := lib.backend(t)
			mem.index.vecs[3] = tc.v
			path := filepath.Join(t.TempDir(), "windows.idx")
			err := writeIndex(path, mem.index, mem.codec)
			_, statErr := os.Stat(path)
			if tc.ok {
				if err != nil || statErr != nil {
					t.Fatalf("writing %g: %v (file: %v)", tc.v, err, statErr)
				}
				if mem.index.vecs[3] != float32(float16.Fromfloat32(tc.v).Float32()) {
					t.Errorf("%g is %g in memory after writing, not the float16 the file holds", tc.v, mem.index.vecs[3])
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "float16") {
				t.Errorf("writing %g: error %v, want one about float16's range", tc.v, err)
			}
			if statErr == nil {
				t.Error("an index file was written all the same")
			}
			if v := mem.index.vecs[3]; v != tc.v && !(math.IsNaN(float64(v)) && math.IsNaN(float64(tc.v))) {
				t.Errorf("a failed write changed the index in memory: %g is now %g", tc.v, v)
			}
		})
	}
}

func TestOpenRebuildsAnIndexFileItCannotRead(t *testing.T) {
	ctx := context.Background()
	lib := newSynthLib(t, 22, 32, []int{2000, 1500})
	dir := t.TempDir()
	st := lib.stored(t, dir, lib.entries)
	defer st.Close()
	path := filepath.Join(dir, "windows.idx")
	built, err := OpenIndex(ctx, st, path)
	if err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// A version 1 file of the same generation: it would pass for current
	// if its version were not checked.
	v1 := encodeIndexV1(built.index, built.codec)
	nonFinite := append([]byte(nil), good...)
	binary.LittleEndian.PutUint16(nonFinite[len(nonFinite)-6:], 0x7c00) // the last vector value: +Inf
	for _, tc := range []struct {
		name string
		data []byte
		why  string // in decodeIndex's error
	}{
		{"version 1", v1, "version 1"},
		{"version 1 relabelled 2", withVersion(v1, indexVersion), ""},
		{"a later version", withVersion(good, indexVersion+1), fmt.Sprintf("version %d", indexVersion+1)},
		{"truncated", good[:len(good)/2], "checksum"},
		{"truncated, checksum fixed", resum(append([]byte(nil), good[:len(good)-100]...)), "truncated"},
		{"a byte flipped", func() []byte { b := append([]byte(nil), good...); b[len(b)/2] ^= 0xff; return b }(), "checksum"},
		{"an infinity", resum(nonFinite), "not finite"},
		{"empty", nil, "not a vidprint window index"},
		{"another file", []byte("SQLite format 3\x00 and more"), "not a vidprint window index"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeIndex(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("decodeIndex: error %v, want one saying %q", err, tc.why)
			}
			if err := os.WriteFile(path, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			l, err := OpenIndex(ctx, st, path)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !reflect.DeepEqual(l.index, built.index) || l.CacheErr != nil {
				t.Errorf("the index was not built again (CacheErr %v)", l.CacheErr)
			}
			saved, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(saved, good) {
				t.Errorf("the file was not replaced by a current one: %d bytes, want %d", len(saved), len(good))
			}
		})
	}
}

func FuzzDecodeIndex(f *testing.F) {
	lib := newSynthLib(f, 3, 16, []int{200, 150})
	b, err := NewMemory(context.Background(), lib.meta, lib.entries)
	if err != nil {
		f.Fatal(err)
	}
	good := mustEncode(f, b.index, b.codec)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte(indexMagic))
	f.Add(encodeIndexV1(b.index, b.codec))
	f.Add(withVersion(encodeIndexV1(b.index, b.codec), indexVersion))
	nan := append([]byte(nil), good...)
	binary.LittleEndian.PutUint16(nan[len(nan)-6:], 0x7e00)
	f.Add(resum(nan))
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

// TestIndexDecodeWorkers: widening the halves on several goroutines reads
// back the same index as on one.
func TestIndexDecodeWorkers(t *testing.T) {
	lib := newSynthLib(t, 5, 64, []int{9000, 8000})
	mem := lib.backend(t)
	b := mustEncode(t, mem.index, mem.codec)
	if n := len(mem.index.vecs); n < 3*parallelHalves {
		t.Fatalf("%d window values: too few to split three ways", n)
	}
	one, err := decodeIndexOn(b, 1)
	if err != nil {
		t.Fatal(err)
	}
	three, err := decodeIndexOn(b, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(one.windowIndex, three.windowIndex) {
		t.Error("the index read on three goroutines differs from the one read on one")
	}
}

// BenchmarkReadIndex: decoding an index of 100,000 windows, on one
// goroutine (the baseline) and on every core.
func BenchmarkReadIndex(b *testing.B) {
	lib := newSynthLib(b, 5, 64, []int{90000, 90000})
	mem := lib.backend(b)
	buf := mustEncode(b, mem.index, mem.codec)
	for _, workers := range []int{1, runtime.NumCPU()} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.SetBytes(int64(len(buf)))
			for range b.N {
				if _, err := decodeIndexOn(buf, workers); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
