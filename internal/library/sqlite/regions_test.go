package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vidprint/vidprint/internal/library"
	"github.com/vidprint/vidprint/internal/library/rowcodec"
	"github.com/vidprint/vidprint/internal/testutil"

	"github.com/vidprint/vidprint/internal/vprint"
)

// regionEntry is testEntry with regions, in a projected library.
func regionEntry(t *testing.T, m library.Meta, seed, frames int) library.Entry {
	t.Helper()
	rc, err := rowcodec.NewRegionCodec(m)
	if err != nil || rc == nil {
		t.Fatalf("region codec: %v, %v", rc, err)
	}
	e := testEntry(m, seed, frames)
	p := &vprint.Print{Dim: m.Dim, FPS: m.FPS, Timestamps: e.Timestamps, Regions: 4}
	rng := rand.New(rand.NewPCG(uint64(seed), 1))
	p.Features = make([]float32, frames*m.Dim)
	p.RegionFeatures = make([]float32, frames*4*m.Dim)
	for i := range p.RegionFeatures {
		p.RegionFeatures[i] = float32(rng.Float64())
	}
	e.Regions = rowcodec.NewRegions(rc, p)
	return e
}

func projectedMeta(t *testing.T) library.Meta {
	t.Helper()
	m := testMeta(256)
	m, err := rowcodec.NewMeta(m, rowcodec.CodecProjected)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestStoreRegions(t *testing.T) {
	ctx := context.Background()
	m := projectedMeta(t)
	s := create(t, t.TempDir(), m)
	n := ChunkRows + 40
	want := regionEntry(t, m, 1, n)
	v, err := s.Add(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := s.Add(ctx, testEntry(m, 2, 20)) // a video without regions
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Rows(ctx, v.ID, 0, n, true)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.RegionCodes, want.RegionCodes) || !slices.Equal(got.RegionMean, want.RegionMean) || !bytes.Equal(got.Codes, want.Codes) {
		t.Fatalf("regions read back: %d bytes, mean %d; want %d, %d", len(got.RegionCodes), len(got.RegionMean), len(want.RegionCodes), len(want.RegionMean))
	}
	// Entry, what an index is built from, leaves them out.
	if e, err := s.Entry(ctx, v.ID); err != nil || !sameEntry(e, want) || e.RegionCodes != nil || e.RegionMean != nil {
		t.Errorf("entry: %v, %d region bytes", err, len(e.RegionCodes))
	}
	// As do rows read for whole frames only.
	if r, err := s.Rows(ctx, v.ID, 0, n, false); err != nil || !bytes.Equal(r.Codes, want.Codes) || r.RegionCodes != nil || r.RegionMean != nil {
		t.Errorf("rows without regions: %v, %d region bytes, mean %d", err, len(r.RegionCodes), len(r.RegionMean))
	}
	rc, err := rowcodec.NewRegionCodec(m)
	if err != nil {
		t.Fatal(err)
	}
	rrb := rc.RowBytes()
	r, err := s.Rows(ctx, v.ID, ChunkRows-5, ChunkRows+5, true) // across two chunks
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.RegionCodes, want.RegionCodes[(ChunkRows-5)*rrb:(ChunkRows+5)*rrb]) || !slices.Equal(r.RegionMean, want.RegionMean) {
		t.Errorf("rows across chunks: %d region bytes, want %d", len(r.RegionCodes), 10*rrb)
	}
	if r, err := s.Rows(ctx, plain.ID, 0, 20, true); err != nil || r.RegionCodes != nil || r.RegionMean != nil {
		t.Errorf("a video stored without regions reads back with %d region bytes, %v", len(r.RegionCodes), err)
	}

	bad := regionEntry(t, m, 3, 10)
	bad.RegionCodes = bad.RegionCodes[:len(bad.RegionCodes)-1]
	if _, err := s.Add(ctx, bad); err == nil || !strings.Contains(err.Error(), "region codes") {
		t.Errorf("short region codes: %v", err)
	}
	bad = regionEntry(t, m, 4, 10)
	bad.RegionMean = bad.RegionMean[1:]
	if _, err := s.Add(ctx, bad); err == nil || !strings.Contains(err.Error(), "region mean") {
		t.Errorf("short region mean: %v", err)
	}
	// An f16 library keeps no regions.
	hm := testMeta(256)
	hs := create(t, t.TempDir(), hm)
	withRegions := testEntry(hm, 5, 10)
	withRegions.Regions = regionEntry(t, m, 5, 10).Regions
	if _, err := hs.Add(ctx, withRegions); err == nil || !strings.Contains(err.Error(), "keeps no regions") {
		t.Errorf("regions in an f16 library: %v", err)
	}
}

// schemaV2 is the layout before region features, for TestStoreUpgrade.
const schemaV2 = `
CREATE TABLE meta (id INTEGER PRIMARY KEY CHECK (id = 1), schema_version INTEGER NOT NULL,
	model_id TEXT NOT NULL, model_sha256 TEXT NOT NULL, model_output TEXT NOT NULL,
	dim INTEGER NOT NULL, fps REAL NOT NULL, codec TEXT NOT NULL, codec_data BLOB NOT NULL,
	generation INTEGER NOT NULL DEFAULT 0);
CREATE TABLE videos (id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT NOT NULL, sha256 TEXT NOT NULL UNIQUE,
	size INTEGER NOT NULL, duration_s REAL NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL,
	frames INTEGER NOT NULL, added_at INTEGER NOT NULL);
CREATE TABLE prints (video_id INTEGER PRIMARY KEY REFERENCES videos (id) ON DELETE CASCADE, mean BLOB NOT NULL);
CREATE TABLE chunks (video_id INTEGER NOT NULL REFERENCES videos (id) ON DELETE CASCADE, chunk INTEGER NOT NULL,
	timestamps BLOB NOT NULL, codes BLOB NOT NULL, PRIMARY KEY (video_id, chunk));
`

// TestStoreUpgrade opens a library of schema version 2: it is upgraded in
// place, its video reads back as before without regions, and videos added
// after get regions.
func TestStoreUpgrade(t *testing.T) {
	ctx := context.Background()
	m := projectedMeta(t)
	old := testEntry(m, 1, 30)
	if dir := os.Getenv("VIDPRINT_TEST_READONLY_V2"); dir != "" {
		checkReadOnlyV2(t, dir, m, old) // the child
		return
	}
	dir, db, exec := oldLibrary(t)
	exec(schemaV2)
	exec(`INSERT INTO meta (id, schema_version, model_id, model_sha256, model_output, dim, fps, codec, codec_data)
		VALUES (1, 2, ?, ?, ?, ?, ?, ?, ?)`, m.Model.ID, m.Model.SHA256, m.Model.Output, m.Dim, m.FPS, m.Codec, m.CodecData)
	exec(`INSERT INTO videos (path, sha256, size, duration_s, width, height, frames, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		old.Path, old.SHA256, old.Size, old.DurationS, old.Width, old.Height, len(old.Timestamps), old.AddedAt.UnixNano())
	exec(`INSERT INTO prints (video_id, mean) VALUES (1, ?)`, encodeFloat32s(old.Mean))
	exec(`INSERT INTO chunks (video_id, chunk, timestamps, codes) VALUES (1, 0, ?, ?)`, encodeFloat64s(old.Timestamps), old.Codes)
	db.Close()

	// Without write access it is read as it is, not upgraded.
	if os.Geteuid() == 0 {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		out, err := testutil.AsNobody(t, dir, "TestStoreUpgrade", "VIDPRINT_TEST_READONLY_V2="+dir)
		if err != nil || !strings.Contains(string(out), "--- PASS") {
			t.Fatalf("child as nobody: %v\n%s", err, out)
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		var version int
		if err := rawDB(t, dir).QueryRow(`SELECT schema_version FROM meta`).Scan(&version); err != nil || version != 2 {
			t.Fatalf("schema version %d after a read-only open, %v; want 2", version, err)
		}
	}

	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Meta(ctx)
	if err != nil || !sameMeta(got, m) {
		t.Fatalf("upgraded meta %+v, %v; want the region codec %q", got.RegionCodec, err, m.RegionCodec)
	}
	e, err := s.Entry(ctx, 1)
	if err != nil || !sameEntry(e, old) || e.RegionCodes != nil {
		t.Fatalf("the old video after the upgrade: %v, %d region bytes", err, len(e.RegionCodes))
	}
	v, err := s.Add(ctx, regionEntry(t, m, 2, 10))
	if err != nil {
		t.Fatal(err)
	}
	if r, err := s.Rows(ctx, v.ID, 0, 10, true); err != nil || r.RegionCodes == nil {
		t.Fatalf("a video added after the upgrade: %v, %d region bytes", err, len(r.RegionCodes))
	}
	raw := rawDB(t, dir)
	var version int
	if err := raw.QueryRow(`SELECT schema_version FROM meta`).Scan(&version); err != nil || version != SchemaVersion {
		t.Errorf("schema version %d after the upgrade, %v", version, err)
	}
	// Opening it again finds it current.
	s2, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
}

func checkReadOnlyV2(t *testing.T, dir string, m library.Meta, old library.Entry) {
	ctx := context.Background()
	s := openReadOnly(t, dir)
	got, err := s.Meta(ctx)
	want := m
	want.RegionCodec = ""
	if err != nil || !sameMeta(got, want) {
		t.Fatalf("meta %+v, %v; want the library's, without regions", got, err)
	}
	e, err := s.Entry(ctx, 1)
	if err != nil || !sameEntry(e, old) {
		t.Fatalf("the video: %v", err)
	}
	if r, err := s.Rows(ctx, 1, 5, 20, true); err != nil || r.RegionCodes != nil || len(r.Timestamps) != 15 {
		t.Fatalf("Rows: %v, %d rows, %d region bytes", err, len(r.Timestamps), len(r.RegionCodes))
	}
}

// oldLibrary opens a new database in a new library directory, for a test
// to lay out an earlier schema with exec.
func oldLibrary(t *testing.T) (dir string, db *sql.DB, exec func(q string, args ...any)) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "lib")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	db, err := openDB(dir, openCreate)
	if err != nil {
		t.Fatal(err)
	}
	return dir, db, func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
}
