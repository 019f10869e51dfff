package sqlite

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/vidprint/vidprint/internal/library"
	"github.com/vidprint/vidprint/internal/vprint"
)

// thumbPixel is pixel i of the thumbnail of row r in thumbEntry's videos:
// distinct enough that a picture off by one row is caught.
func thumbPixel(seed, r, i int) byte { return byte(seed*101 + r*13 + i*7) }

// thumbEntry is testEntry with a w x h thumbnail every every rows.
func thumbEntry(m library.Meta, seed, frames, w, h, every int) library.Entry {
	e := testEntry(m, seed, frames)
	e.Thumbs = vprint.Thumbs{Width: w, Height: h, Every: every}
	for r := 0; r < frames; r += every {
		for i := range w * h {
			e.Thumbs.Pixels = append(e.Thumbs.Pixels, thumbPixel(seed, r, i))
		}
	}
	return e
}

// wantThumbs is what a read of rows [lo, hi) of thumbEntry(seed, ...)
// must give, built row by row rather than by slicing.
func wantThumbs(seed, lo, hi, w, h, every int) []byte {
	var out []byte
	for r := lo; r < hi; r++ {
		if r%every == 0 {
			for i := range w * h {
				out = append(out, thumbPixel(seed, r, i))
			}
		}
	}
	return out
}

// TestStoreThumbs reads thumbnails back from rows anywhere in a video,
// across chunks and with an Every that does not divide ChunkRows.
func TestStoreThumbs(t *testing.T) {
	ctx := context.Background()
	m := testMeta(8)
	s := create(t, t.TempDir(), m)
	n := 2*ChunkRows + 17
	plain, err := s.Add(ctx, testEntry(m, 9, 40))
	if err != nil {
		t.Fatal(err)
	}
	videos := []struct {
		name         string
		w, h, every  int
		seed, frames int
	}{
		{"16x12 every 5", 16, 12, 5, 1, n},
		{"3x2 every 7", 3, 2, 7, 2, n},
		{"1x1 every row", 1, 1, 1, 3, ChunkRows + 1},
		{"4x4 every 400, rarer than a chunk", 4, 4, 400, 4, n},
	}
	ranges := [][2]int{{0, n}, {3, 18}, {7, 8}, {ChunkRows - 3, ChunkRows + 8}, {ChunkRows + 1, ChunkRows + 4},
		{5, 2*ChunkRows + 1}, {n - 4, n + 100}, {ChunkRows, ChunkRows}}
	for _, v := range videos {
		t.Run(v.name, func(t *testing.T) {
			e := thumbEntry(m, v.seed, v.frames, v.w, v.h, v.every)
			added, err := s.Add(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range ranges {
				got, err := s.Rows(ctx, added.ID, r[0], r[1], false)
				if err != nil {
					t.Fatalf("rows %v: %v", r, err)
				}
				lo, hi := min(r[0], v.frames), min(r[1], v.frames)
				want := wantThumbs(v.seed, lo, hi, v.w, v.h, v.every)
				if th := got.Thumbs; !bytes.Equal(th.Pixels, want) || th.Width != v.w || th.Height != v.h || th.Every != v.every {
					t.Errorf("rows %v: %dx%d every %d, %d bytes; want %dx%d every %d, %d bytes",
						r, th.Width, th.Height, th.Every, len(th.Pixels), v.w, v.h, v.every, len(want))
				}
			}
			// Entry, what an index is built from, leaves them out.
			if got, err := s.Entry(ctx, added.ID); err != nil || !sameEntry(got, e) || got.Thumbs.Width != 0 || got.Thumbs.Pixels != nil {
				t.Errorf("entry: %v, thumbnails %+v", err, got.Thumbs)
			}
		})
	}
	if got, err := s.Rows(ctx, plain.ID, 3, 30, false); err != nil || got.Thumbs.Width != 0 || got.Thumbs.Every != 0 || got.Thumbs.Pixels != nil {
		t.Errorf("a video stored without thumbnails: %v, %+v", err, got.Thumbs)
	}
}

func TestStoreRefusesBadThumbs(t *testing.T) {
	ctx := context.Background()
	m := testMeta(8)
	s := create(t, t.TempDir(), m)
	tests := []struct {
		name  string
		thumb func(*vprint.Thumbs)
	}{
		{"a byte short", func(th *vprint.Thumbs) { th.Pixels = th.Pixels[1:] }},
		{"a picture too many", func(th *vprint.Thumbs) { th.Pixels = append(th.Pixels, make([]byte, 16*12)...) }},
		{"pixels without a width", func(th *vprint.Thumbs) { th.Width, th.Height = 0, 0 }},
		{"too wide", func(th *vprint.Thumbs) { th.Width, th.Height = vprint.MaxThumbSide+1, 1 }},
		{"no height", func(th *vprint.Thumbs) { th.Height = 0 }},
		{"every 0 rows", func(th *vprint.Thumbs) { th.Every = 0 }},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := thumbEntry(m, i+1, 23, 16, 12, 5)
			tt.thumb(&e.Thumbs)
			if _, err := s.Add(ctx, e); err == nil || !strings.Contains(err.Error(), "thumbnail") {
				t.Errorf("Add: %v; want a thumbnail error", err)
			}
		})
	}
	if vs, err := s.Videos(ctx); err != nil || len(vs) != 0 {
		t.Errorf("%d videos stored, %v", len(vs), err)
	}
}

func TestStoreDamagedThumbs(t *testing.T) {
	ctx := context.Background()
	m := testMeta(8)
	dir := t.TempDir()
	s := create(t, dir, m)
	raw := rawDB(t, dir)
	for i, q := range []string{
		`UPDATE chunks SET thumbs = substr(thumbs, 2)`,
		`UPDATE chunks SET thumbs = x'00' || thumbs`,
		`UPDATE prints SET thumb_every = 0`,
		`UPDATE prints SET thumb_width = 65`,
		`UPDATE prints SET thumb_width = 0, thumb_height = 0, thumb_every = 0`, // pixels left over
	} {
		t.Run(q, func(t *testing.T) {
			v, err := s.Add(ctx, thumbEntry(m, i+1, ChunkRows+9, 16, 12, 5))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := raw.Exec(q+` WHERE video_id = ?`, v.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Rows(ctx, v.ID, 0, 10, false); err == nil || !strings.Contains(err.Error(), "damaged") {
				t.Errorf("Rows: %v; want a damaged print", err)
			}
			// The index is built from Entry, which reads no thumbnails.
			if _, err := s.Entry(ctx, v.ID); err != nil {
				t.Errorf("Entry: %v", err)
			}
		})
	}
}

// schemaV3 is the layout before thumbnails, for TestStoreUpgradeV3.
const schemaV3 = schemaV2 + upgrade2

// TestStoreUpgradeV3 opens a library of schema version 3: read-only it is
// read as it is; writable it is upgraded in place, its video reads back as
// before without thumbnails, and videos added after keep theirs.
func TestStoreUpgradeV3(t *testing.T) {
	ctx := context.Background()
	m := projectedMeta(t)
	old := regionEntry(t, m, 1, ChunkRows+30)
	dir, db, exec := oldLibrary(t)
	exec(schemaV3)
	exec(`INSERT INTO meta (id, schema_version, model_id, model_sha256, model_output, dim, fps, codec, codec_data, region_codec)
		VALUES (1, 3, ?, ?, ?, ?, ?, ?, ?, ?)`, m.Model.ID, m.Model.SHA256, m.Model.Output, m.Dim, m.FPS, m.Codec, m.CodecData, m.RegionCodec)
	exec(`INSERT INTO videos (path, sha256, size, duration_s, width, height, frames, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		old.Path, old.SHA256, old.Size, old.DurationS, old.Width, old.Height, len(old.Timestamps), old.AddedAt.UnixNano())
	exec(`INSERT INTO prints (video_id, mean, region_mean) VALUES (1, ?, ?)`, encodeFloat32s(old.Mean), encodeFloat32s(old.RegionMean))
	rb, rrb := len(old.Codes)/len(old.Timestamps), len(old.RegionCodes)/len(old.Timestamps)
	for c, lo := range []int{0, ChunkRows} {
		hi := min(lo+ChunkRows, len(old.Timestamps))
		exec(`INSERT INTO chunks (video_id, chunk, timestamps, codes, region_codes) VALUES (1, ?, ?, ?, ?)`,
			c, encodeFloat64s(old.Timestamps[lo:hi]), old.Codes[lo*rb:hi*rb], old.RegionCodes[lo*rrb:hi*rrb])
	}
	db.Close()
	version := func() int {
		t.Helper()
		var v int
		if err := rawDB(t, dir).QueryRow(`SELECT schema_version FROM meta`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	checkOld := func(s library.Store) {
		t.Helper()
		got, err := s.Meta(ctx)
		if err != nil || !sameMeta(got, m) {
			t.Fatalf("meta %+v, %v; want the library's", got, err)
		}
		r, err := s.Rows(ctx, 1, 7, ChunkRows+12, true)
		lo, hi := 7, ChunkRows+12
		if err != nil || !bytes.Equal(r.Codes, old.Codes[lo*rb:hi*rb]) || !bytes.Equal(r.RegionCodes, old.RegionCodes[lo*rrb:hi*rrb]) {
			t.Fatalf("the old video's rows: %v", err)
		}
		if r.Thumbs.Width != 0 || r.Thumbs.Pixels != nil {
			t.Errorf("the old video has thumbnails: %+v", r.Thumbs)
		}
		if e, err := s.Entry(ctx, 1); err != nil || !sameEntry(e, old) {
			t.Errorf("the old video's entry: %v", err)
		}
	}

	// Read-only (here: the file as it is), it is read without upgrading.
	ro, err := open(ctx, dir, openImmutable)
	if err != nil {
		t.Fatal(err)
	}
	checkOld(ro)
	ro.Close()
	if v := version(); v != 3 {
		t.Fatalf("schema version %d after a read-only open; want 3", v)
	}

	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v := version(); v != SchemaVersion {
		t.Errorf("schema version %d after the upgrade; want %d", v, SchemaVersion)
	}
	checkOld(s)
	e := thumbEntry(m, 2, 40, 16, 12, 5)
	v, err := s.Add(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := s.Rows(ctx, v.ID, 3, 40, false); err != nil || !bytes.Equal(r.Thumbs.Pixels, wantThumbs(2, 3, 40, 16, 12, 5)) {
		t.Errorf("a video added after the upgrade: %v, %d thumbnail bytes", err, len(r.Thumbs.Pixels))
	}
	// Opening it again finds it current.
	s2, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
}
