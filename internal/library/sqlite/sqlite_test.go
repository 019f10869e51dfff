package sqlite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vidprint/vidprint/internal/library"
	"github.com/vidprint/vidprint/internal/library/rowcodec"
	"github.com/vidprint/vidprint/internal/testutil"

	"github.com/vidprint/vidprint/internal/vprint"
)

func testMeta(dim int) library.Meta {
	return library.Meta{Model: vprint.Model{ID: "test-model", SHA256: strings.Repeat("ab", 32), Output: "embedding"},
		Dim: dim, FPS: 5, Codec: rowcodec.CodecHalf}
}

// testEntry makes a deterministic entry for seed: its path names the seed
// so that a test can rebuild what a stored video must hold.
func testEntry(m library.Meta, seed, frames int) library.Entry {
	c, err := rowcodec.NewCodec(m)
	if err != nil {
		panic(err)
	}
	p := &vprint.Print{Model: m.Model, Dim: m.Dim, FPS: m.FPS}
	for i := range frames {
		p.Timestamps = append(p.Timestamps, float64(i)/m.FPS)
		for d := range m.Dim {
			p.Features = append(p.Features, float32(math.Sin(float64(seed*7919+i*31+d))))
		}
	}
	sum := sha256.Sum256([]byte("seed " + strconv.Itoa(seed)))
	v := library.Video{Path: fmt.Sprintf("/videos/seed-%d.mp4", seed), SHA256: hex.EncodeToString(sum[:]),
		Size: int64(1000 + seed), DurationS: float64(frames) / m.FPS, Width: 640, Height: 360,
		AddedAt: time.Unix(1_700_000_000+int64(seed), 5).UTC()}
	return rowcodec.NewEntry(c, v, p)
}

func seedOf(t testing.TB, v library.Video) int {
	t.Helper()
	s, ok := strings.CutPrefix(filepath.Base(v.Path), "seed-")
	n, err := strconv.Atoi(strings.TrimSuffix(s, ".mp4"))
	if !ok || err != nil {
		t.Fatalf("video path %q names no seed", v.Path)
	}
	return n
}

func sameEntry(a, b library.Entry) bool {
	return a.Path == b.Path && a.SHA256 == b.SHA256 && a.Size == b.Size && a.DurationS == b.DurationS &&
		a.Width == b.Width && a.Height == b.Height && a.Frames == b.Frames && a.AddedAt.Equal(b.AddedAt) &&
		slices.Equal(a.Timestamps, b.Timestamps) && string(a.Codes) == string(b.Codes) && slices.Equal(a.Mean, b.Mean)
}

func create(t testing.TB, dir string, m library.Meta) library.Store {
	t.Helper()
	s, err := Create(context.Background(), dir, m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStoreCreateOpen(t *testing.T) {
	ctx := context.Background()
	m := testMeta(8)
	other := m
	other.Model.Output = "pooled"
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir string) // dir does not exist yet
		meta    library.Meta
		create  error // from Create; nil for success
		openErr error // from Open after the Create
	}{
		{"new directory", func(*testing.T, string) {}, m, nil, nil},
		{"empty directory", func(t *testing.T, dir string) { mkdir(t, dir) }, m, nil, nil},
		{"not empty", func(t *testing.T, dir string) { writeFile(t, dir, "video.mp4", "x") }, m, library.ErrNotLibrary, library.ErrNotLibrary},
		{"db that is not SQLite", func(t *testing.T, dir string) { writeFile(t, dir, DBName, strings.Repeat("junk", 400)) }, m, library.ErrNotLibrary, library.ErrNotLibrary},
		{"empty db file (an interrupted create)", func(t *testing.T, dir string) { writeFile(t, dir, DBName, "") }, m, nil, nil},
		{"same meta again", func(t *testing.T, dir string) { create(t, dir, m).Close() }, m, nil, nil},
		{"another model", func(t *testing.T, dir string) { create(t, dir, m).Close() }, other, library.ErrModel, nil},
		{"unknown codec", func(*testing.T, string) {}, library.Meta{Model: m.Model, Dim: 8, FPS: 5, Codec: "pq"}, errors.New("any"), library.ErrNotLibrary},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "lib")
			tt.setup(t, dir)
			s, err := Create(ctx, dir, tt.meta)
			if !matches(err, tt.create) {
				t.Fatalf("Create: %v, want %v", err, tt.create)
			}
			if err == nil {
				got, _ := s.Meta(ctx)
				if !sameMeta(got, tt.meta) {
					t.Errorf("Meta %+v, want %+v", got, tt.meta)
				}
				s.Close()
			}
			s, err = Open(ctx, dir)
			if !matches(err, tt.openErr) {
				t.Fatalf("Open: %v, want %v", err, tt.openErr)
			}
			if err == nil {
				s.Close()
			} else if !strings.Contains(err.Error(), dir) {
				t.Errorf("error %q does not name the directory", err)
			}
		})
	}
	if _, err := Open(ctx, filepath.Join(t.TempDir(), "missing")); !errors.Is(err, library.ErrNotLibrary) {
		t.Errorf("Open of a missing directory: %v", err)
	}
}

// A library refuses a Create with the same model but another codec, and
// says which codecs differ rather than naming the same model twice.
func TestStoreCreateOtherCodec(t *testing.T) {
	ctx := context.Background()
	half := testMeta(256)
	projected, err := rowcodec.NewMeta(half, rowcodec.CodecProjected)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "lib")
	create(t, dir, half).Close()
	s, err := Create(ctx, dir, projected)
	if err == nil {
		s.Close()
		t.Fatal("Create with another codec succeeded")
	}
	if !errors.Is(err, library.ErrModel) {
		t.Errorf("Create: %v, want library.ErrModel", err)
	}
	for _, want := range []string{"codec f16, no regions", "codec rp256-i8, regions in rp4x40-i8"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func matches(err, want error) bool {
	if want == nil || err == nil {
		return (err == nil) == (want == nil)
	}
	return want.Error() == "any" || errors.Is(err, want)
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	mkdir(t, dir)
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	m := testMeta(16)
	dir := t.TempDir()
	s := create(t, dir, m)
	gen := func() int64 {
		g, err := s.Generation(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	if gen() != 0 {
		t.Fatalf("new library at generation %d", gen())
	}
	var entries []library.Entry
	for seed := range 3 {
		e := testEntry(m, seed, 5+seed)
		v, err := s.Add(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		if v.ID == 0 || v.Frames != 5+seed || v.SHA256 != e.SHA256 {
			t.Fatalf("Add gave %+v", v)
		}
		e.ID = v.ID
		entries = append(entries, e)
	}
	if gen() != 3 {
		t.Errorf("generation %d after 3 adds", gen())
	}

	// The same content under another name is refused with the original.
	dup := testEntry(m, 1, 6)
	dup.Path = "/elsewhere/copy.mp4"
	v, err := s.Add(ctx, dup)
	if !errors.Is(err, library.ErrExists) || v.ID != entries[1].ID || v.Path != entries[1].Path {
		t.Fatalf("duplicate: %+v %v", v, err)
	}
	if gen() != 3 {
		t.Errorf("a refused add changed the generation to %d", gen())
	}

	v, err = s.Lookup(ctx, entries[2].SHA256)
	if err != nil || v.ID != entries[2].ID || !v.AddedAt.Equal(entries[2].AddedAt) {
		t.Errorf("Lookup: %+v %v", v, err)
	}
	if _, err := s.Lookup(ctx, strings.Repeat("0", 64)); !errors.Is(err, library.ErrNotFound) {
		t.Errorf("Lookup of an unknown hash: %v", err)
	}
	for _, want := range entries {
		got, err := s.Entry(ctx, want.ID)
		if err != nil || !sameEntry(got, want) {
			t.Errorf("Entry %d: %v\n got %+v\nwant %+v", want.ID, err, got.Video, want.Video)
		}
	}

	if err := s.Remove(ctx, entries[0].ID); err != nil {
		t.Fatal(err)
	}
	if gen() != 4 {
		t.Errorf("generation %d after a remove", gen())
	}
	for _, err := range []error{s.Remove(ctx, entries[0].ID), func() error { _, err := s.Entry(ctx, entries[0].ID); return err }()} {
		if !errors.Is(err, library.ErrNotFound) {
			t.Errorf("removed video: %v, want library.ErrNotFound", err)
		}
	}
	// Ids are never reused: an index file built before the remove cannot
	// mistake a new video for the removed one.
	e := testEntry(m, 9, 3)
	if v, err := s.Add(ctx, e); err != nil || v.ID <= entries[2].ID {
		t.Errorf("add after remove: id %d, %v", v.ID, err)
	}
	s.Close()

	s2, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	videos, err := s2.Videos(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var seeds []int
	for _, v := range videos {
		seeds = append(seeds, seedOf(t, v))
	}
	if !slices.Equal(seeds, []int{1, 2, 9}) {
		t.Errorf("after reopen, videos of seeds %v, want [1 2 9] oldest first", seeds)
	}
	if got, _ := s2.Meta(ctx); !sameMeta(got, m) {
		t.Errorf("meta after reopen %+v", got)
	}
}

func TestStoreRefusesBadEntries(t *testing.T) {
	m := testMeta(8)
	s := create(t, t.TempDir(), m)
	tests := []struct {
		name  string
		spoil func(e *library.Entry)
	}{
		{"short hash", func(e *library.Entry) { e.SHA256 = "abc" }},
		{"codes too short", func(e *library.Entry) { e.Codes = e.Codes[1:] }},
		{"timestamps without codes", func(e *library.Entry) { e.Timestamps = append(e.Timestamps, 99) }},
		{"mean of another dimension", func(e *library.Entry) { e.Mean = e.Mean[:4] }},
		{"NaN timestamp", func(e *library.Entry) { e.Timestamps[1] = math.NaN() }},
		{"timestamps going back", func(e *library.Entry) { e.Timestamps[2] = 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := testEntry(m, 1, 4)
			tt.spoil(&e)
			if _, err := s.Add(context.Background(), e); err == nil {
				t.Error("bad entry stored")
			}
		})
	}
	if vs, _ := s.Videos(context.Background()); len(vs) != 0 {
		t.Errorf("%d videos stored", len(vs))
	}
}

func TestStoreDamagedBlob(t *testing.T) {
	ctx := context.Background()
	m := testMeta(8)
	dir := t.TempDir()
	s := create(t, dir, m)
	v, err := s.Add(ctx, testEntry(m, 1, 4))
	if err != nil {
		t.Fatal(err)
	}
	damage := []string{
		`UPDATE chunks SET codes = substr(codes, 2)`,
		`UPDATE chunks SET timestamps = x'00'`,
		`UPDATE prints SET mean = x''`,
		`UPDATE videos SET frames = frames + 1`,
		`UPDATE videos SET frames = -1`,
		`DELETE FROM chunks`,
	}
	raw := rawDB(t, dir)
	for _, q := range damage {
		t.Run(q, func(t *testing.T) {
			if _, err := raw.Exec(q); err != nil {
				t.Fatal(err)
			}
			_, err := s.Entry(ctx, v.ID)
			if err == nil || !strings.Contains(err.Error(), "damaged") {
				t.Errorf("Entry of a damaged row: %v", err)
			}
			// Put the row back for the next case.
			e := testEntry(m, 1, 4)
			for _, q := range []struct {
				sql  string
				args []any
			}{
				{`DELETE FROM chunks WHERE video_id = ?`, []any{v.ID}},
				{`INSERT INTO chunks (video_id, chunk, timestamps, codes) VALUES (?, 0, ?, ?)`, []any{v.ID, encodeFloat64s(e.Timestamps), e.Codes}},
				{`UPDATE prints SET mean = ? WHERE video_id = ?`, []any{encodeFloat32s(e.Mean), v.ID}},
			} {
				if _, err := raw.Exec(q.sql, q.args...); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := raw.Exec(`UPDATE videos SET frames = 4`); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Entry(ctx, v.ID); err != nil {
				t.Fatalf("restored row: %v", err)
			}
		})
	}
}

// rawDB opens a library's database behind the store's back.
func rawDB(t testing.TB, dir string) *sql.DB {
	t.Helper()
	db, err := openDB(dir, openWrite)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestStoreConcurrentHandles(t *testing.T) {
	ctx := context.Background()
	m := testMeta(32)
	dir := t.TempDir()
	stores := []library.Store{create(t, dir, m), create(t, dir, m)}
	const perWriter, writers = 12, 4
	var wg sync.WaitGroup
	var mu sync.Mutex
	added := map[int]int{}
	errs := make(chan error, writers*perWriter)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := stores[w%2]
			// Writers overlap by half: every seed is offered twice.
			for i := range perWriter {
				seed := (w/2)*perWriter + i
				_, err := s.Add(ctx, testEntry(m, seed, 20))
				switch {
				case err == nil:
					mu.Lock()
					added[seed]++
					mu.Unlock()
				case !errors.Is(err, library.ErrExists):
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	want := writers / 2 * perWriter
	if len(added) != want {
		t.Errorf("%d seeds added, want %d", len(added), want)
	}
	for seed, n := range added {
		if n != 1 {
			t.Errorf("seed %d added %d times", seed, n)
		}
	}
	videos, err := stores[1].Videos(ctx)
	if err != nil || len(videos) != want {
		t.Fatalf("%d videos, %v", len(videos), err)
	}
	if g, _ := stores[0].Generation(ctx); g != int64(want) {
		t.Errorf("generation %d, want %d", g, want)
	}
	checkLibrary(t, dir, m)
}

// checkLibrary asserts that the library in dir opens, passes SQLite's
// integrity check and holds only complete videos, each exactly the entry
// of its seed. It returns the seeds.
func checkLibrary(t testing.TB, dir string, m library.Meta) []int {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var check string
	if err := rawDB(t, dir).QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q %v", check, err)
	}
	videos, err := s.Videos(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var seeds []int
	for _, v := range videos {
		got, err := s.Entry(ctx, v.ID)
		if err != nil {
			t.Fatal(err)
		}
		seed := seedOf(t, v)
		want := testEntry(m, seed, v.Frames)
		want.ID = v.ID
		if !sameEntry(got, want) {
			t.Errorf("video %d (seed %d) differs from what was added", v.ID, seed)
		}
		seeds = append(seeds, seed)
	}
	return seeds
}

// A library without write access for this user (read-only media, or
// another user's library) opens read-only: everything reads back, writes
// are refused with ErrReadOnly before touching it, and nothing is left
// behind that would keep its owner from writing. Root ignores file modes,
// so as root a child process checks it as the user nobody.
func TestStoreReadOnly(t *testing.T) {
	m := testMeta(256)
	if dir := os.Getenv("VIDPRINT_TEST_READONLY_LIBRARY"); dir != "" {
		checkReadOnly(t, dir, m) // the child
		return
	}
	for _, tc := range []struct {
		name          string
		dirMode, file os.FileMode
		writerOpen    bool // the owner holds the library open meanwhile
	}{
		{"read-only directory and database", 0o555, 0o444, false},
		{"writable directory, read-only database", 0o777, 0o444, false},
		{"read-only directory, writable database", 0o555, 0o666, false},
		{"a writer has it open", 0o555, 0o444, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "lib")
			s := create(t, dir, m)
			for seed := range 3 {
				if _, err := s.Add(context.Background(), testEntry(m, seed, 30+seed)); err != nil {
					t.Fatal(err)
				}
			}
			if library.ReadOnly(s) {
				t.Error("a library opened with write access says it is read-only")
			}
			if !tc.writerOpen {
				s.Close()
			}
			if err := os.Chmod(filepath.Join(dir, DBName), tc.file); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, tc.dirMode); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(dir, 0o755) })
			if os.Geteuid() != 0 {
				if tc.dirMode&0o200 != 0 || tc.file&0o200 != 0 || tc.writerOpen {
					t.Skip("needs another user than the library's owner")
				}
				checkReadOnly(t, dir, m)
			} else {
				out, err := testutil.AsNobody(t, dir, "TestStoreReadOnly", "VIDPRINT_TEST_READONLY_LIBRARY="+dir)
				if err != nil || !strings.Contains(string(out), "--- PASS") {
					t.Fatalf("child as nobody: %v\n%s", err, out)
				}
				entries, err := os.ReadDir(dir)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range entries {
					if info, err := e.Info(); err == nil {
						if st, ok := info.Sys().(*syscall.Stat_t); ok && st.Uid == testutil.Nobody {
							t.Errorf("the read-only user left %s behind", e.Name())
						}
					}
				}
			}
			if tc.writerOpen {
				s.Close()
			}
			if got := checkLibrary(t, dir, m); len(got) != 3 {
				t.Errorf("%d videos after the read-only session, want 3", len(got))
			}
		})
	}
}

// openReadOnly opens the library in dir, which this user may not write,
// and checks that it is read-only.
func openReadOnly(t *testing.T, dir string) library.Store {
	t.Helper()
	s, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatalf("Open without write access: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if !library.ReadOnly(s) {
		t.Fatal("opened without write access, but not read-only")
	}
	return s
}

func checkReadOnly(t *testing.T, dir string, m library.Meta) {
	ctx := context.Background()
	s := openReadOnly(t, dir)
	videos, err := s.Videos(ctx)
	if err != nil || len(videos) != 3 {
		t.Fatalf("Videos: %d, %v; want 3", len(videos), err)
	}
	for _, v := range videos {
		got, err := s.Entry(ctx, v.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := testEntry(m, seedOf(t, v), v.Frames)
		want.ID = v.ID
		if !sameEntry(got, want) {
			t.Errorf("video %d differs from what was added", v.ID)
		}
		if _, err := s.Rows(ctx, v.ID, 5, 20, true); err != nil {
			t.Errorf("Rows: %v", err)
		}
	}
	if _, err := s.Add(ctx, testEntry(m, 7, 30)); !errors.Is(err, library.ErrReadOnly) || !errors.Is(err, library.ErrStorage) {
		t.Errorf("Add: %v, want library.ErrReadOnly", err)
	}
	if err := s.Remove(ctx, videos[0].ID); !errors.Is(err, library.ErrReadOnly) {
		t.Errorf("Remove: %v, want library.ErrReadOnly", err)
	}
}

// A full disk: a child process adds videos under a file size limit until a
// write fails. The library must then open, pass the integrity check and
// hold only complete videos, and take more once there is room.
func TestStoreDiskFull(t *testing.T) {
	m := testMeta(256)
	if dir := os.Getenv("VIDPRINT_TEST_FILL_LIBRARY"); dir != "" {
		fillLibrary(dir, m) // the child
		return
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is missing")
	}
	dir := t.TempDir()
	// bash counts ulimit -f in KiB: room for a few 100 KB videos.
	cmd := exec.Command(bash, "-c", `ulimit -f 700 && exec "$0" -test.run='^TestStoreDiskFull$' -test.v`, os.Args[0])
	cmd.Env = append(os.Environ(), "VIDPRINT_TEST_FILL_LIBRARY="+dir)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 4 {
		t.Fatalf("child: %v, want exit 4 (library.ErrStorage)\n%s", err, out)
	}
	if !strings.Contains(string(out), "stored ") {
		t.Fatalf("child stored nothing before the limit:\n%s", out)
	}
	t.Logf("child: %s", strings.TrimSpace(string(out[strings.LastIndex(string(out), "stored "):])))
	seeds := checkLibrary(t, dir, m)
	if len(seeds) == 0 || len(seeds) > 8 {
		t.Fatalf("%d videos survived, want some but not all", len(seeds))
	}
	// Without the limit the library takes the rest.
	s, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	for seed := range 12 {
		if _, err := s.Add(context.Background(), testEntry(m, seed, 200)); err != nil && !errors.Is(err, library.ErrExists) {
			t.Fatal(err)
		}
	}
	s.Close()
	if n := len(checkLibrary(t, dir, m)); n != 12 {
		t.Errorf("%d videos after refilling, want 12", n)
	}
}

func fillLibrary(dir string, m library.Meta) {
	ctx := context.Background()
	s, err := Create(ctx, dir, m)
	if err != nil {
		fmt.Println("create:", err)
		os.Exit(1)
	}
	for seed := range 12 {
		// 200 frames of 256 half floats: about 100 KB a video.
		if _, err := s.Add(ctx, testEntry(m, seed, 200)); err != nil {
			fmt.Printf("add %d: %v\n", seed, err)
			if errors.Is(err, library.ErrStorage) {
				os.Exit(4)
			}
			os.Exit(1)
		}
		fmt.Printf("stored %d\n", seed+1)
	}
	fmt.Println("never ran out of room")
	os.Exit(1)
}

func FuzzDecodeEntry(f *testing.F) {
	m := testMeta(4)
	c, _ := rowcodec.NewCodec(m)
	e := testEntry(m, 1, 3)
	f.Add(3, encodeFloat64s(e.Timestamps), e.Codes, encodeFloat32s(e.Mean))
	f.Add(0, []byte{}, []byte{}, make([]byte, 16))
	f.Add(-1, []byte{1}, []byte{2, 3}, []byte{4})
	f.Fuzz(func(t *testing.T, frames int, ts, codes, mean []byte) {
		got, err := decodeEntry(c, library.Video{Frames: frames}, ts, codes, mean)
		valid := frames >= 0 && frames <= vprint.MaxFrames && len(ts) == 8*frames && len(codes) == frames*c.RowBytes() && len(mean) == 4*c.Dim()
		if valid != (err == nil) {
			t.Fatalf("frames %d, %d/%d/%d bytes: err %v", frames, len(ts), len(codes), len(mean), err)
		}
		if err != nil {
			return
		}
		if len(got.Timestamps) != frames || len(got.Mean) != c.Dim() {
			t.Fatalf("decoded %d timestamps, %d mean values", len(got.Timestamps), len(got.Mean))
		}
		// Every row decodes without running off the codes.
		row := make([]float32, frames*c.Dim())
		rowcodec.DecodeRows(c, row, got.Codes, 0, frames)
		if string(encodeFloat64s(got.Timestamps)) != string(ts) || string(encodeFloat32s(got.Mean)) != string(mean) {
			t.Fatal("blobs do not round-trip")
		}
	})
}

// Rows reads any range of a print spread over several chunks, the same as
// slicing the whole entry.
func TestStoreRows(t *testing.T) {
	ctx := context.Background()
	m := testMeta(8)
	s := create(t, t.TempDir(), m)
	n := 2*ChunkRows + 17
	v, err := s.Add(ctx, testEntry(m, 1, n))
	if err != nil {
		t.Fatal(err)
	}
	whole, err := s.Entry(ctx, v.ID)
	if err != nil || len(whole.Timestamps) != n {
		t.Fatalf("entry: %d rows, %v", len(whole.Timestamps), err)
	}
	c, _ := rowcodec.NewCodec(m)
	rb := c.RowBytes()
	for _, r := range [][2]int{{0, 1}, {0, n}, {ChunkRows - 3, ChunkRows + 3}, {5, 2*ChunkRows + 1}, {n - 1, n}, {n - 4, n + 100}, {ChunkRows, ChunkRows}} {
		got, err := s.Rows(ctx, v.ID, r[0], r[1], true)
		if err != nil {
			t.Fatalf("rows %v: %v", r, err)
		}
		hi := min(r[1], n)
		if got.Lo != r[0] || !slices.Equal(got.Timestamps, whole.Timestamps[r[0]:hi]) || !bytes.Equal(got.Codes, whole.Codes[r[0]*rb:hi*rb]) ||
			!slices.Equal(got.Mean, whole.Mean) || got.Video.ID != v.ID {
			t.Errorf("rows %v: lo %d, %d rows; want the entry's rows %d to %d", r, got.Lo, len(got.Timestamps), r[0], hi)
		}
	}
	if _, err := s.Rows(ctx, v.ID, 5, 2, true); err == nil {
		t.Error("rows [5, 2) gave no error")
	}
	if _, err := s.Rows(ctx, 99, 0, 1, true); !errors.Is(err, library.ErrNotFound) {
		t.Errorf("rows of a missing video: %v", err)
	}
}

// TestStoreUpgradeV4: a version-4 library, whose generation sits in its
// meta row, is read as it is without write access and upgraded when
// opened to write; its generation goes on from where it was, and adding
// a video no longer frees the meta row's pages.
func TestStoreUpgradeV4(t *testing.T) {
	ctx := context.Background()
	m := projectedMeta(t)
	dir := t.TempDir()
	s := create(t, dir, m)
	for i := range 2 {
		if _, err := s.Add(ctx, regionEntry(t, m, i+1, 40)); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	// Back to version 4, as a vidprint before version 5 left it.
	db := rawDB(t, dir)
	for _, q := range []string{`UPDATE meta SET generation = 7, schema_version = 4`, `DROP TABLE state`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	ro, err := open(ctx, dir, openImmutable)
	if err != nil {
		t.Fatal(err)
	}
	if g, err := ro.Generation(ctx); err != nil || g != 7 {
		t.Errorf("read-only generation %d, %v; want 7", g, err)
	}
	ro.Close()
	up, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	if g, err := up.Generation(ctx); err != nil || g != 7 {
		t.Errorf("upgraded generation %d, %v; want 7", g, err)
	}
	free := func() int {
		var n int
		if err := rawDB(t, dir).QueryRow(`PRAGMA freelist_count`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := free()
	if _, err := up.Add(ctx, regionEntry(t, m, 3, 40)); err != nil {
		t.Fatal(err)
	}
	if g, _ := up.Generation(ctx); g != 8 {
		t.Errorf("generation %d after an add, want 8", g)
	}
	if after := free(); after > before+4 {
		t.Errorf("an add freed %d pages (the meta row rewritten?)", after-before)
	}
	var v int
	if err := rawDB(t, dir).QueryRow(`SELECT schema_version FROM meta`).Scan(&v); err != nil || v != SchemaVersion {
		t.Errorf("schema version %d, %v; want %d", v, err, SchemaVersion)
	}
}
