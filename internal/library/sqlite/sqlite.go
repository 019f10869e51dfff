package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vidprint/vidprint/internal/library"
	"github.com/vidprint/vidprint/internal/library/rowcodec"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/vidprint/vidprint/internal/vprint"
)

// DBName is the database file in a library directory. SQLite keeps its
// write-ahead log beside it (DBName-wal, DBName-shm).
const DBName = "library.db"

// SchemaVersion is the database layout this package writes. A library of
// version 2 (before region features), 3 (before thumbnails) or 4 (the
// generation in the meta row) is upgraded when it is opened; its videos
// keep no regions or thumbnails.
const SchemaVersion = 5

// ChunkRows is how many rows of a print one database row holds: a minute
// at 5 fps, 79 KB of rp256-i8 codes, 50 KB of region codes and 11.5 KB of
// 16x12 thumbnails. A search verifying a candidate reads the chunks
// around it, not the whole hour-long print.
const ChunkRows = 300

// schema is the version-5 layout. The generation has a table of its own:
// in the meta row, beside the codec's megabyte of basis, every add and
// remove rewrote that megabyte and left as much free in the file. Videos keep AUTOINCREMENT ids so that an
// id is never reused after a Remove: a stale index file can then never
// point at the wrong video. Prints sit in their own table so that listing
// videos never reads feature blobs.
const schema = `
CREATE TABLE meta (
	id             INTEGER PRIMARY KEY CHECK (id = 1),
	schema_version INTEGER NOT NULL,
	model_id       TEXT NOT NULL,
	model_sha256   TEXT NOT NULL,
	model_output   TEXT NOT NULL,
	dim            INTEGER NOT NULL,
	fps            REAL NOT NULL,
	codec          TEXT NOT NULL,
	codec_data     BLOB NOT NULL,
	generation     INTEGER NOT NULL DEFAULT 0, -- before version 5
	region_codec   TEXT NOT NULL DEFAULT '' -- empty: no region features
);
CREATE TABLE state (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	generation INTEGER NOT NULL
);
INSERT INTO state (id, generation) VALUES (1, 0);
CREATE TABLE videos (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	path       TEXT NOT NULL,
	sha256     TEXT NOT NULL UNIQUE,
	size       INTEGER NOT NULL,
	duration_s REAL NOT NULL,
	width      INTEGER NOT NULL,
	height     INTEGER NOT NULL,
	frames     INTEGER NOT NULL,
	added_at   INTEGER NOT NULL -- Unix nanoseconds, UTC
);
CREATE TABLE prints (
	video_id   INTEGER PRIMARY KEY REFERENCES videos (id) ON DELETE CASCADE,
	mean       BLOB NOT NULL, -- float32 little-endian, codec Dim values
	region_mean BLOB,         -- the same for the region codec; NULL: no regions
	thumb_width  INTEGER NOT NULL DEFAULT 0, -- 0 (and height, every): no thumbnails
	thumb_height INTEGER NOT NULL DEFAULT 0,
	thumb_every  INTEGER NOT NULL DEFAULT 0  -- a thumbnail of each row r with r % thumb_every = 0
);
CREATE TABLE chunks (
	video_id   INTEGER NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
	chunk      INTEGER NOT NULL, -- rows [chunk*ChunkRows, (chunk+1)*ChunkRows)
	timestamps BLOB NOT NULL,    -- float64 little-endian, one per row
	codes      BLOB NOT NULL,    -- the rows, codec RowBytes each
	region_codes BLOB,           -- the region rows, region codec RowBytes each
	thumbs     BLOB,             -- the thumbnails of the chunk's rows, 8-bit luma, in order
	PRIMARY KEY (video_id, chunk)
);
`

// upgrade2 takes a library of version 2 to 3: region features. Its
// videos keep none; those added from now on get them where the codec
// allows (regionCodecFor).
const upgrade2 = `
ALTER TABLE meta ADD COLUMN region_codec TEXT NOT NULL DEFAULT '';
ALTER TABLE prints ADD COLUMN region_mean BLOB;
ALTER TABLE chunks ADD COLUMN region_codes BLOB;
`

// upgrade3 takes a library of version 3 to 4: thumbnails, which its
// videos lack.
const upgrade3 = `
ALTER TABLE prints ADD COLUMN thumb_width INTEGER NOT NULL DEFAULT 0;
ALTER TABLE prints ADD COLUMN thumb_height INTEGER NOT NULL DEFAULT 0;
ALTER TABLE prints ADD COLUMN thumb_every INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chunks ADD COLUMN thumbs BLOB;
`

// upgrade4 takes a library of version 4 to 5: the generation moves to a
// table of its own.
const upgrade4 = `
CREATE TABLE state (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	generation INTEGER NOT NULL
);
INSERT INTO state (id, generation) SELECT 1, generation FROM meta WHERE id = 1;
`

type sqliteStore struct {
	db          *sql.DB
	dir         string
	meta        library.Meta
	codec       rowcodec.Codec
	regionCodec rowcodec.Codec // nil: the library keeps no regions
	// readOnly: opened without write access (read-only media, or another
	// user's library); every write is refused with ErrReadOnly. immutable:
	// read as the file is, without its write-ahead log.
	readOnly, immutable bool
	// version is the file's schema version: SchemaVersion, or an earlier
	// one opened read-only, so not upgraded, and read without the columns
	// it lacks.
	version int
}

// Create makes a library in dir (creating dir if need be) bound to m. A
// directory that already holds a library with the same Meta is opened as
// it is, so two processes creating one library at once both succeed; one
// with another Meta gives ErrModel. A non-empty directory that is not a
// library is refused with ErrNotLibrary.
func Create(ctx context.Context, dir string, m library.Meta) (library.Store, error) {
	if _, err := rowcodec.NewCodec(m); err != nil {
		return nil, fmt.Errorf("library %s: %w", dir, err)
	}
	if _, err := rowcodec.NewRegionCodec(m); err != nil {
		return nil, fmt.Errorf("library %s: %w", dir, err)
	}
	if m.Model.ID == "" || !(m.FPS > 0) {
		return nil, fmt.Errorf("library %s: meta needs a model and a sampling rate", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("library %s: %w: %w", dir, library.ErrStorage, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("library %s: %w", dir, err)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), DBName) { // the db, its -wal and -shm
			return nil, fmt.Errorf("%s: %w (it is not empty and holds no %s)", dir, library.ErrNotLibrary, DBName)
		}
	}
	db, err := openDB(dir, openCreate)
	if err != nil {
		return nil, err
	}
	s := &sqliteStore{db: db, dir: dir}
	// BEGIN IMMEDIATE (see openDB) serialises this with another process
	// creating the same library: the second one finds the first's meta.
	err = s.write(ctx, "create", func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'meta'`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, schema); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO meta (id, schema_version, model_id, model_sha256, model_output,
			dim, fps, codec, codec_data, region_codec) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			SchemaVersion, m.Model.ID, m.Model.SHA256, m.Model.Output, m.Dim, m.FPS, m.Codec, nonNil(m.CodecData), m.RegionCodec)
		return err
	})
	if err == nil {
		err = s.load(ctx)
	}
	if err == nil && !sameMeta(s.meta, m) {
		have, want := library.DescribeMeta(s.meta), library.DescribeMeta(m)
		if have == want { // the same model, stored another way
			have, want = describeCodecs(s.meta), describeCodecs(m)
		}
		if have == want { // the same codecs, another projection basis
			have, want = have+" with its own projection basis", "another one"
		}
		err = fmt.Errorf("library %s: %w: it holds %s, not %s", dir, library.ErrModel, have, want)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Open opens the library in dir; a directory without one gives
// ErrNotLibrary. Without write access to dir or its database (read-only
// media, another user's library) it is opened read-only: it can be
// searched, and writes give ErrReadOnly.
func Open(ctx context.Context, dir string) (library.Store, error) {
	st, err := os.Stat(filepath.Join(dir, DBName))
	if err != nil || !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w (no %s)", dir, library.ErrNotLibrary, DBName)
	}
	if writable(dir) {
		return open(ctx, dir, openWrite)
	}
	// With the log's index there (a writer has the library open), mode=ro
	// reads through the log. Without it, mode=ro would create the log's
	// files where the directory allows, owned by this user, and its owner
	// could then no longer write: the file is read as it is (immutable),
	// consistent since no writer has it open.
	mode := openImmutable
	if _, err := os.Stat(filepath.Join(dir, DBName+"-shm")); err == nil {
		mode = openRead
	}
	s, err := open(ctx, dir, mode)
	if err != nil && mode == openRead && (cannotWrite(err) || sqliteCode(err) == sqlite3.SQLITE_CANTOPEN) {
		// A log left by a writer that stopped: it needs recovering,
		// which takes write access.
		s, err = open(ctx, dir, openImmutable)
	}
	return s, err
}

// writable tells whether this user may write the library's directory, its
// database and the database's log files where they exist. mode=rw would
// otherwise open a read-only file read-only without a word, and fail only
// at the first write.
func writable(dir string) bool {
	db := filepath.Join(dir, DBName)
	for _, p := range []string{dir, db, db + "-wal", db + "-shm"} {
		if err := canWrite(p); err != nil && (p == dir || p == db || !errors.Is(err, fs.ErrNotExist)) {
			return false
		}
	}
	return true
}

func open(ctx context.Context, dir string, mode openMode) (*sqliteStore, error) {
	db, err := openDB(dir, mode)
	if err != nil {
		return nil, err
	}
	s := &sqliteStore{db: db, dir: dir, readOnly: mode == openRead || mode == openImmutable, immutable: mode == openImmutable}
	if s.immutable {
		// One connection, one view of the file.
		db.SetMaxOpenConns(1)
	}
	if err := s.load(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// ReadOnly tells whether s was opened without write access.
func (s *sqliteStore) ReadOnly() bool { return s.readOnly }

// Bytes is the size of everything in the library's directory: the
// database, its log and the derived files kept beside it.
func (s *sqliteStore) Bytes() (int64, error) {
	var n int64
	err := filepath.WalkDir(s.dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if info, err := d.Info(); err == nil && info.Mode().IsRegular() {
			n += info.Size()
		}
		return nil
	})
	return n, err
}

// CachePath keeps derived files (a search index) beside the database.
func (s *sqliteStore) CachePath(name string) string { return filepath.Join(s.dir, name) }

// Vacant reports whether a new library may be made in dir: it is missing,
// empty, or holds nothing but a database that never got its tables (an
// interrupted first add).
func Vacant(dir string) bool {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return true
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), DBName) {
			return false
		}
	}
	return err == nil
}

// cannotWrite tells errors of a database or directory this process may
// not write.
func cannotWrite(err error) bool {
	c := sqliteCode(err)
	return c == sqlite3.SQLITE_READONLY || c == sqlite3.SQLITE_PERM
}

// sqliteCode is the primary result code of a SQLite error in err, or 0.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() & 0xff
	}
	return 0
}

type openMode int

const (
	openWrite     openMode = iota // an existing library, read and write
	openCreate                    // a new library, read and write
	openRead                      // read-only, with a write-ahead log
	openImmutable                 // read-only, the file as it is
)

// openDB opens the database with settings every connection needs: WAL so
// that readers never block the writer and a crash leaves the last committed
// state; a busy timeout so that writers of several processes queue instead
// of failing; foreign keys for the cascade from videos to prints; and
// BEGIN IMMEDIATE, so that a transaction takes the write lock when it
// starts instead of failing to upgrade a read lock later. A read-only
// handle leaves the journal mode as the file has it.
func openDB(dir string, mode openMode) (*sql.DB, error) {
	abs, err := filepath.Abs(filepath.Join(dir, DBName))
	if err != nil {
		return nil, fmt.Errorf("library %s: %w", dir, err)
	}
	// A file: URI; its path must escape the characters URIs reserve.
	path := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(abs))
	params := map[openMode]string{
		openWrite:     "mode=rw&_journal_mode=WAL&_txlock=immediate",
		openCreate:    "mode=rwc&_journal_mode=WAL&_txlock=immediate",
		openRead:      "mode=ro",
		openImmutable: "mode=ro&immutable=1",
	}[mode]
	db, err := sql.Open("sqlite", "file:"+path+"?"+params+"&_busy_timeout=30000&_foreign_keys=1")
	if err != nil {
		return nil, fmt.Errorf("library %s: %w", dir, err)
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, wrapErr(dir, "open", err)
	}
	return db, nil
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// load reads and checks the meta row, upgrading an earlier schema first;
// besides that upgrade and the generation, the row never changes.
func (s *sqliteStore) load(ctx context.Context) error {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'meta'`).Scan(&n); err != nil {
		return s.wrapErr("open", err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w (%s holds no library tables)", s.dir, library.ErrNotLibrary, DBName)
	}
	var version int
	if err := s.db.QueryRowContext(ctx, `SELECT schema_version FROM meta WHERE id = 1`).Scan(&version); errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w (its meta row is missing)", s.dir, library.ErrNotLibrary)
	} else if err != nil {
		return s.wrapErr("read meta", err)
	}
	if s.readOnly && version >= 2 && version < SchemaVersion {
		// Without write access it cannot be upgraded: it is read as it
		// is, without the regions or thumbnails its videos lack.
		s.version = version
	} else if err := s.upgrade(ctx, version); err != nil {
		return err
	} else {
		s.version = SchemaVersion
	}
	regionCodec := "region_codec"
	if s.version < 3 {
		regionCodec = "''"
	}
	var m library.Meta
	err := s.db.QueryRowContext(ctx, `SELECT model_id, model_sha256, model_output, dim, fps, codec, codec_data, `+regionCodec+`
		FROM meta WHERE id = 1`).Scan(&m.Model.ID, &m.Model.SHA256, &m.Model.Output, &m.Dim, &m.FPS, &m.Codec, &m.CodecData, &m.RegionCodec)
	if err != nil {
		return s.wrapErr("read meta", err)
	}
	c, err := rowcodec.NewCodec(m)
	if err != nil {
		return fmt.Errorf("library %s: %w", s.dir, err)
	}
	rc, err := rowcodec.NewRegionCodec(m)
	if err != nil {
		return fmt.Errorf("library %s: %w", s.dir, err)
	}
	s.meta, s.codec, s.regionCodec = m, c, rc
	return nil
}

// upgrade brings a library of an earlier schema version to SchemaVersion,
// in one transaction; another process may have done it first.
func (s *sqliteStore) upgrade(ctx context.Context, version int) error {
	switch version {
	case SchemaVersion:
		return nil
	case 2, 3, 4:
	default:
		return fmt.Errorf("library %s: schema version %d, this vidprint reads 2 to 4 (upgrading them) and %d", s.dir, version, SchemaVersion)
	}
	return s.write(ctx, fmt.Sprintf("upgrade to schema version %d", SchemaVersion), func(tx *sql.Tx) error {
		// Read again under the write lock: another process, maybe an
		// older vidprint, may have upgraded it part or all of the way.
		var v int
		var codec string
		if err := tx.QueryRowContext(ctx, `SELECT schema_version, codec FROM meta WHERE id = 1`).Scan(&v, &codec); err != nil {
			return err
		}
		if v == 2 {
			if _, err := tx.ExecContext(ctx, upgrade2); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE meta SET schema_version = 3, region_codec = ?`, rowcodec.RegionCodecFor(codec)); err != nil {
				return err
			}
			v = 3
		}
		if v == 3 {
			if _, err := tx.ExecContext(ctx, upgrade3); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE meta SET schema_version = 4`); err != nil {
				return err
			}
			v = 4
		}
		if v == 4 {
			if _, err := tx.ExecContext(ctx, upgrade4); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `UPDATE meta SET schema_version = 5`)
			return err
		}
		return nil
	})
}

// wrapErr names the library and marks storage failures with ErrStorage
// and a file that is not a database with ErrNotLibrary.
func wrapErr(dir, op string, err error) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff { // the primary result code
		case sqlite3.SQLITE_NOTADB:
			return fmt.Errorf("%s: %w (%s: %v)", dir, library.ErrNotLibrary, DBName, err)
		case sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY,
			sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_CORRUPT:
			return fmt.Errorf("library %s: %s: %w: %w", dir, op, library.ErrStorage, err)
		}
	}
	return fmt.Errorf("library %s: %s: %w", dir, op, err)
}

// wrapErr is wrapErr for this store. A file read as it is that turns out
// inconsistent was being written meanwhile, by a user with write access.
func (s *sqliteStore) wrapErr(op string, err error) error {
	if s.immutable && sqliteCode(err) == sqlite3.SQLITE_CORRUPT {
		return fmt.Errorf("library %s: %s: %w: it was written while being read without write access (run again): %w", s.dir, op, library.ErrStorage, err)
	}
	return wrapErr(s.dir, op, err)
}

// write runs f in one transaction and commits it.
func (s *sqliteStore) write(ctx context.Context, op string, f func(tx *sql.Tx) error) error {
	if s.readOnly {
		return fmt.Errorf("library %s: %s: %w", s.dir, op, library.ErrReadOnly)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.wrapErr(op, err)
	}
	defer tx.Rollback() // a no-op after Commit
	if err := f(tx); err != nil {
		return s.wrapErr(op, err)
	}
	return s.wrapErr(op, tx.Commit())
}

func (s *sqliteStore) Meta(context.Context) (library.Meta, error) {
	m := s.meta
	m.CodecData = append([]byte(nil), m.CodecData...)
	return m, nil
}

const videoColumns = `id, path, sha256, size, duration_s, width, height, frames, added_at`

type scanner interface{ Scan(dest ...any) error }

func scanVideo(r scanner, extra ...any) (library.Video, error) {
	var v library.Video
	var added int64
	err := r.Scan(append([]any{&v.ID, &v.Path, &v.SHA256, &v.Size, &v.DurationS, &v.Width, &v.Height, &v.Frames, &added}, extra...)...)
	v.AddedAt = time.Unix(0, added).UTC()
	return v, err
}

func (s *sqliteStore) Lookup(ctx context.Context, sha256 string) (library.Video, error) {
	v, err := scanVideo(s.db.QueryRowContext(ctx, `SELECT `+videoColumns+` FROM videos WHERE sha256 = ?`, sha256))
	if errors.Is(err, sql.ErrNoRows) {
		return library.Video{}, fmt.Errorf("video %s: %w", sha256, library.ErrNotFound)
	}
	return v, s.wrapErr("lookup", err)
}

func (s *sqliteStore) Add(ctx context.Context, e library.Entry) (library.Video, error) {
	if err := s.checkEntry(e); err != nil {
		return library.Video{}, fmt.Errorf("library %s: add %s: %w", s.dir, e.Path, err)
	}
	v := e.Video
	v.Frames = len(e.Timestamps)
	if v.AddedAt.IsZero() {
		v.AddedAt = time.Now()
	}
	v.AddedAt = v.AddedAt.UTC().Round(0)
	var existing *library.Video
	err := s.write(ctx, "add "+e.Path, func(tx *sql.Tx) error {
		// ON CONFLICT DO NOTHING returns no row when the hash is there:
		// another process may have added the same content since Lookup.
		err := tx.QueryRowContext(ctx, `INSERT INTO videos (path, sha256, size, duration_s, width, height, frames, added_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING RETURNING id`,
			v.Path, v.SHA256, v.Size, v.DurationS, v.Width, v.Height, v.Frames, v.AddedAt.UnixNano()).Scan(&v.ID)
		if errors.Is(err, sql.ErrNoRows) {
			old, err := scanVideo(tx.QueryRowContext(ctx, `SELECT `+videoColumns+` FROM videos WHERE sha256 = ?`, v.SHA256))
			existing = &old
			return err
		}
		if err != nil {
			return err
		}
		var regionMean []byte // NULL without regions
		if e.RegionCodes != nil {
			regionMean = encodeFloat32s(e.RegionMean)
		}
		var th vprint.Thumbs // all zero without thumbnails
		if e.Thumbs.Width != 0 {
			th = e.Thumbs
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO prints (video_id, mean, region_mean, thumb_width, thumb_height, thumb_every)
			VALUES (?, ?, ?, ?, ?, ?)`, v.ID, encodeFloat32s(e.Mean), regionMean, th.Width, th.Height, th.Every); err != nil {
			return err
		}
		rb := s.codec.RowBytes()
		for c := 0; c*ChunkRows < v.Frames; c++ {
			lo, hi := c*ChunkRows, min(v.Frames, (c+1)*ChunkRows)
			var regions, thumbs []byte // NULL without them
			if e.RegionCodes != nil {
				rrb := s.regionCodec.RowBytes()
				regions = e.RegionCodes[lo*rrb : hi*rrb]
			}
			if th.Width != 0 {
				thumbs = nonNil(library.SliceThumbs(th, lo, hi).Pixels)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO chunks (video_id, chunk, timestamps, codes, region_codes, thumbs) VALUES (?, ?, ?, ?, ?, ?)`,
				v.ID, c, encodeFloat64s(e.Timestamps[lo:hi]), e.Codes[lo*rb:hi*rb], regions, thumbs); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE state SET generation = generation + 1`)
		return err
	})
	if err != nil {
		return library.Video{}, err
	}
	if existing != nil {
		return *existing, fmt.Errorf("%s (sha256 %s) as video %d: %w", e.Path, e.SHA256, existing.ID, library.ErrExists)
	}
	return v, nil
}

// checkEntry refuses an entry the library could not read back.
func (s *sqliteStore) checkEntry(e library.Entry) error {
	n := len(e.Timestamps)
	switch {
	case len(e.SHA256) != 64:
		return fmt.Errorf("sha256 %q is not 64 hex digits", e.SHA256)
	case len(e.Codes) != n*s.codec.RowBytes():
		return fmt.Errorf("codes hold %d bytes, want %d frames of %d", len(e.Codes), n, s.codec.RowBytes())
	case len(e.Mean) != s.codec.Dim():
		return fmt.Errorf("mean holds %d values, want %d", len(e.Mean), s.codec.Dim())
	}
	if err := rowcodec.CheckRegions(s.regionCodec, e.Regions, n); err != nil {
		return err
	}
	if err := library.CheckThumbs(e.Thumbs, n); err != nil {
		return err
	}
	for i, t := range e.Timestamps {
		if math.IsNaN(t) || math.IsInf(t, 0) || (i > 0 && t < e.Timestamps[i-1]) {
			return fmt.Errorf("timestamp %d (%g) is not finite and non-decreasing", i, t)
		}
	}
	return nil
}

func (s *sqliteStore) Remove(ctx context.Context, id int64) error {
	return s.write(ctx, "remove", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM videos WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, fmt.Errorf("video %d: %w", id, library.ErrNotFound))
		}
		_, err = tx.ExecContext(ctx, `UPDATE state SET generation = generation + 1`)
		return err
	})
}

func (s *sqliteStore) Videos(ctx context.Context) ([]library.Video, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+videoColumns+` FROM videos ORDER BY id`)
	if err != nil {
		return nil, s.wrapErr("list", err)
	}
	defer rows.Close()
	var all []library.Video
	for rows.Next() {
		v, err := scanVideo(rows)
		if err != nil {
			return nil, s.wrapErr("list", err)
		}
		all = append(all, v)
	}
	return all, s.wrapErr("list", rows.Err())
}

func (s *sqliteStore) Entry(ctx context.Context, id int64) (library.Entry, error) {
	r, err := s.rows(ctx, id, 0, -1, false, false)
	return library.Entry{Video: r.Video, Timestamps: r.Timestamps, Codes: r.Codes, Mean: r.Mean}, err
}

func (s *sqliteStore) Rows(ctx context.Context, id int64, lo, hi int, regions bool) (library.RowRange, error) {
	if lo < 0 || hi < lo {
		return library.RowRange{}, fmt.Errorf("video %d: rows [%d, %d)", id, lo, hi)
	}
	return s.rows(ctx, id, lo, hi, regions, true)
}

// rows reads rows [lo, hi) of a print, hi capped at its frames (or all of
// them for hi < 0), from the chunks that hold them, with their region
// features when regions is set and the video has them, and likewise their
// thumbnails.
func (s *sqliteStore) rows(ctx context.Context, id int64, lo, hi int, regions, thumbs bool) (library.RowRange, error) {
	var mean, regionMean []byte
	var tw, th, te int
	regionMeanColumn, regionCodesColumn := "p.region_mean", "region_codes"
	if s.version < 3 {
		regionMeanColumn, regionCodesColumn = "NULL", "NULL"
	}
	thumbColumns, thumbsColumn := "p.thumb_width, p.thumb_height, p.thumb_every", "thumbs"
	if s.version < 4 || !thumbs {
		thumbColumns, thumbsColumn = "0, 0, 0", "NULL"
	}
	v, err := scanVideo(s.db.QueryRowContext(ctx, `SELECT `+videoColumns+`, p.mean, CASE WHEN ? THEN `+regionMeanColumn+` END, `+thumbColumns+`
		FROM videos JOIN prints p ON p.video_id = videos.id WHERE id = ?`, regions, id), &mean, &regionMean, &tw, &th, &te)
	if errors.Is(err, sql.ErrNoRows) {
		return library.RowRange{}, fmt.Errorf("video %d: %w", id, library.ErrNotFound)
	}
	if err != nil {
		return library.RowRange{}, s.wrapErr("read", err)
	}
	if v.Frames < 0 || v.Frames > vprint.MaxFrames {
		return library.RowRange{}, fmt.Errorf("library %s: video %d (%s): damaged print: %d frames", s.dir, id, v.Path, v.Frames)
	}
	if hi < 0 || hi > v.Frames {
		hi = v.Frames
	}
	lo = min(lo, hi)
	first, last := lo/ChunkRows, (max(hi, lo+1)-1)/ChunkRows
	rows, err := s.db.QueryContext(ctx, `SELECT chunk, timestamps, codes, CASE WHEN ? THEN `+regionCodesColumn+` END, `+thumbsColumn+`
		FROM chunks WHERE video_id = ? AND chunk BETWEEN ? AND ? ORDER BY chunk`, regions, id, first, last)
	if err != nil {
		return library.RowRange{}, s.wrapErr("read", err)
	}
	defer rows.Close()
	var ts, codes, regionCodes, pixels []byte
	want := first
	for rows.Next() {
		var c int
		var t, k, r, p []byte
		if err := rows.Scan(&c, &t, &k, &r, &p); err != nil {
			return library.RowRange{}, s.wrapErr("read", err)
		}
		if c != want {
			break // a missing chunk: the lengths below tell
		}
		ts, codes, regionCodes, pixels = append(ts, t...), append(codes, k...), append(regionCodes, r...), append(pixels, p...)
		want++
	}
	if err := rows.Err(); err != nil {
		return library.RowRange{}, s.wrapErr("read", err)
	}
	// The chunks hold rows [first*ChunkRows, end).
	start, end := first*ChunkRows, min(v.Frames, (last+1)*ChunkRows)
	if v.Frames == 0 {
		start, end = 0, 0
	}
	e, err := decodeEntry(s.codec, library.Video{Frames: end - start}, ts, codes, mean)
	if err == nil && regionMean != nil {
		e.Regions, err = decodeRegions(s.regionCodec, end-start, regionCodes, regionMean)
	}
	var thumbRange vprint.Thumbs
	if err == nil {
		thumbRange, err = decodeThumbs(tw, th, te, start, end, lo, hi, pixels)
	}
	if err != nil {
		return library.RowRange{}, fmt.Errorf("library %s: video %d (%s): %w", s.dir, id, v.Path, err)
	}
	rb := s.codec.RowBytes()
	r := library.RowRange{Video: v, Lo: lo, Timestamps: e.Timestamps[lo-start : hi-start],
		Codes: e.Codes[(lo-start)*rb : (hi-start)*rb], Mean: e.Mean, Thumbs: thumbRange}
	if e.RegionCodes != nil {
		rrb := s.regionCodec.RowBytes()
		r.Regions = library.Regions{RegionCodes: e.RegionCodes[(lo-start)*rrb : (hi-start)*rrb], RegionMean: e.RegionMean}
	}
	return r, nil
}

// decodeRegions checks a print's region blobs as decodeEntry checks its
// rows.
func decodeRegions(c rowcodec.Codec, n int, codes, mean []byte) (library.Regions, error) {
	switch {
	case c == nil:
		return library.Regions{}, fmt.Errorf("damaged print: region features in a library that keeps none")
	case len(codes) != n*c.RowBytes():
		return library.Regions{}, fmt.Errorf("damaged print: %d region code bytes for %d frames of %d", len(codes), n, c.RowBytes())
	case len(mean) != 4*c.Dim():
		return library.Regions{}, fmt.Errorf("damaged print: %d region mean bytes for %d features", len(mean), c.Dim())
	}
	return library.Regions{RegionCodes: codes, RegionMean: decodeFloat32s(mean)}, nil
}

// decodeEntry checks the blobs of a print's rows against their count and
// the codec: a damaged row is an error, never a panic later.
func decodeEntry(c rowcodec.Codec, v library.Video, ts, codes, mean []byte) (library.Entry, error) {
	n := v.Frames
	switch {
	case n < 0 || n > vprint.MaxFrames || len(ts) != 8*n: // the bound keeps 8*n from overflowing
		return library.Entry{}, fmt.Errorf("damaged print: %d timestamp bytes for %d frames", len(ts), n)
	case len(codes) != n*c.RowBytes():
		return library.Entry{}, fmt.Errorf("damaged print: %d code bytes for %d frames of %d", len(codes), n, c.RowBytes())
	case len(mean) != 4*c.Dim():
		return library.Entry{}, fmt.Errorf("damaged print: %d mean bytes for %d features", len(mean), c.Dim())
	}
	return library.Entry{Video: v, Timestamps: decodeFloat64s(ts), Codes: codes, Mean: decodeFloat32s(mean)}, nil
}

func (s *sqliteStore) Generation(ctx context.Context) (int64, error) {
	q := `SELECT generation FROM state WHERE id = 1`
	if s.version < 5 { // read as it is, without write access
		q = `SELECT generation FROM meta WHERE id = 1`
	}
	var g int64
	err := s.db.QueryRowContext(ctx, q).Scan(&g)
	return g, s.wrapErr("generation", err)
}

func (s *sqliteStore) Close() error { return s.db.Close() }

func encodeFloat64s(xs []float64) []byte {
	b := make([]byte, 8*len(xs))
	for i, x := range xs {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return b
}

func decodeFloat64s(b []byte) []float64 {
	xs := make([]float64, len(b)/8)
	for i := range xs {
		xs[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return xs
}

func encodeFloat32s(xs []float32) []byte {
	b := make([]byte, 4*len(xs))
	for i, x := range xs {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func decodeFloat32s(b []byte) []float32 {
	xs := make([]float32, len(b)/4)
	for i := range xs {
		xs[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return xs
}

func sameMeta(a, b library.Meta) bool {
	return a.Model == b.Model && a.Dim == b.Dim && a.FPS == b.FPS && a.Codec == b.Codec &&
		string(a.CodecData) == string(b.CodecData) && a.RegionCodec == b.RegionCodec
}

// describeCodecs names how a library stores prints, e.g. "prints in codec
// rp256-i8, regions in rp4x40-i8".
func describeCodecs(m library.Meta) string {
	regions := "no regions"
	if m.RegionCodec != "" {
		regions = "regions in " + m.RegionCodec
	}
	return fmt.Sprintf("prints in codec %s, %s", m.Codec, regions)
}

// decodeThumbs checks the thumbnails read for rows [start, end) of a video
// as decodeEntry checks its rows, and returns those of rows [lo, hi).
func decodeThumbs(w, h, every, start, end, lo, hi int, pixels []byte) (vprint.Thumbs, error) {
	if w == 0 && h == 0 && every == 0 {
		if len(pixels) != 0 {
			return vprint.Thumbs{}, fmt.Errorf("damaged print: %d thumbnail bytes for a video without thumbnails", len(pixels))
		}
		return vprint.Thumbs{}, nil
	}
	if w < 1 || w > vprint.MaxThumbSide || h < 1 || h > vprint.MaxThumbSide || every < 1 || every > vprint.MaxFrames {
		return vprint.Thumbs{}, fmt.Errorf("damaged print: thumbnails of %dx%d pixels every %d rows", w, h, every)
	}
	n, base := w*h, library.ThumbsBefore(start, every)
	if len(pixels) != (library.ThumbsBefore(end, every)-base)*n {
		return vprint.Thumbs{}, fmt.Errorf("damaged print: %d thumbnail bytes for rows %d to %d, a %dx%d one every %d", len(pixels), start, end, w, h, every)
	}
	k0, k1 := library.ThumbsBefore(lo, every)-base, library.ThumbsBefore(hi, every)-base
	return vprint.Thumbs{Width: w, Height: h, Every: every, Pixels: pixels[k0*n : k1*n : k1*n]}, nil
}
