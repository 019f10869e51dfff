package vprint

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"
)

// Writer streams a print to a file row by row, so that embedding a long
// video keeps only the timestamps (8 bytes a row) and the thumbnails
// (vidprint's take 192 bytes a second) in memory. Features go as float16 to
// an unlinked spool file beside the target; Commit writes the print to a
// temporary file and renames it into place, as WriteFile does.
type Writer struct {
	path string
	p    Print // header fields, timestamps and thumbnails; Features stay empty
	rows *spool
	// regions spools the region features the same way, when the print has
	// them: the file holds them after all the features.
	regions *spool
	lastTS  float64
	err     error
	settled bool
}

// spool is an unlinked temporary file that rows are buffered to.
type spool struct {
	f    *os.File
	buf  *bufio.Writer
	half []byte
}

func newSpool(path string, rowLen int) (*spool, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".rows-*")
	if err != nil {
		return nil, writeError{fmt.Errorf("write print %s: %w", path, err)}
	}
	// Unlinked at once: the spool cannot outlive the process, whatever happens.
	os.Remove(f.Name())
	return &spool{f: f, buf: bufio.NewWriterSize(f, chunkLen), half: make([]byte, 2*rowLen)}, nil
}

// Create starts a print at path for rows of head.Dim features, and
// head.Regions region rows of head.Dim each, of head.Model sampled at
// head.FPS, with thumbnails of head.Thumbs' size and spacing. head's rows,
// thumbnail pixels and source are ignored; the source is given to Commit.
// The directory must be writable now.
func Create(path string, head *Print) (*Writer, error) {
	w := &Writer{path: path}
	th := Thumbs{Width: head.Thumbs.Width, Height: head.Thumbs.Height, Every: head.Thumbs.Every}
	w.p = Print{Model: head.Model, Dim: head.Dim, FPS: head.FPS, Regions: head.Regions, Thumbs: th}
	if err := w.p.checkHeader(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	var err error
	if w.rows, err = newSpool(path, head.Dim); err != nil {
		return nil, err
	}
	if head.Regions > 0 {
		if w.regions, err = newSpool(path, head.Regions*head.Dim); err != nil {
			w.rows.f.Close()
			return nil, err
		}
	}
	return w, nil
}

// Append adds one row: its features; when the print has regions, its
// region features (Regions*Dim values; nil otherwise); when the print has
// thumbnails and the row's index is a multiple of Thumbs.Every, its
// thumbnail (Width*Height bytes, copied; nil for other rows).
func (w *Writer) Append(ts float64, features, regions []float32, thumb []byte) error {
	if w.err != nil {
		return w.err
	}
	if w.settled {
		return errors.New("vprint: append after commit or abort")
	}
	n := len(w.p.Timestamps)
	thumbErr := w.p.Thumbs.rowError(n, thumb)
	switch {
	case len(features) != w.p.Dim:
		w.err = fmt.Errorf("%w: row %d has %d features, want %d", ErrInvalid, n, len(features), w.p.Dim)
	case len(regions) != w.p.Regions*w.p.Dim:
		w.err = fmt.Errorf("%w: row %d has %d region features, want %d", ErrInvalid, n, len(regions), w.p.Regions*w.p.Dim)
	case thumbErr != nil:
		w.err = fmt.Errorf("%w: %v", ErrInvalid, thumbErr)
	case math.IsNaN(ts) || math.IsInf(ts, 0):
		w.err = fmt.Errorf("%w: timestamp of row %d is %v", ErrInvalid, n, ts)
	case n > 0 && ts < w.lastTS:
		w.err = fmt.Errorf("%w: timestamps decrease at row %d (%v after %v)", ErrInvalid, n, ts, w.lastTS)
	case n >= MaxFrames:
		w.err = fmt.Errorf("%w: more than %d frames", ErrInvalid, MaxFrames)
	}
	if w.err != nil {
		return w.err
	}
	for _, block := range [...]struct {
		fs   []float32
		what string
	}{{features, "feature"}, {regions, "region feature"}} {
		for i, v := range block.fs {
			if math.Float32bits(v)&0x7f800000 == 0x7f800000 {
				w.err = fmt.Errorf("%w: %s %d of row %d is %v", ErrInvalid, block.what, i, n, v)
				return w.err
			}
			if v >= float16Overflow || v <= -float16Overflow {
				w.err = fmt.Errorf("%w: %s %d of row %d is %v, float16 holds ±%d", ErrRange, block.what, i, n, v, MaxFloat16)
				return w.err
			}
		}
	}
	err := w.rows.write(features)
	if err == nil && w.regions != nil {
		err = w.regions.write(regions)
	}
	if err != nil {
		w.err = writeError{fmt.Errorf("write print %s: %w", w.path, err)}
		return w.err
	}
	w.p.Timestamps = append(w.p.Timestamps, ts)
	w.p.Thumbs.Pixels = append(w.p.Thumbs.Pixels, thumb...)
	w.lastTS = ts
	return nil
}

// rowError says what is wrong with the thumbnail given for row n, if anything.
func (t Thumbs) rowError(n int, thumb []byte) error {
	switch due := t.Width > 0 && n%t.Every == 0; {
	case t.Width == 0 && len(thumb) > 0:
		return fmt.Errorf("row %d has a thumbnail, but the print has none", n)
	case !due && len(thumb) > 0:
		return fmt.Errorf("row %d has a thumbnail, want one only every %d rows from row 0", n, t.Every)
	case due && len(thumb) == 0:
		return fmt.Errorf("row %d has no thumbnail, want one every %d rows from row 0", n, t.Every)
	case due && len(thumb) != t.Width*t.Height:
		return fmt.Errorf("row %d has a thumbnail of %d bytes, want %dx%d = %d", n, len(thumb), t.Width, t.Height, t.Width*t.Height)
	}
	return nil
}

// Frames is how many rows have been appended.
func (w *Writer) Frames() int { return len(w.p.Timestamps) }

// Commit writes the print with its source and creation time, atomically.
func (w *Writer) Commit(src Source, createdAt time.Time) error {
	if w.err != nil {
		w.Abort()
		return w.err
	}
	if w.settled {
		return errors.New("vprint: commit after commit or abort")
	}
	defer w.Abort()
	w.p.Source = src
	w.p.CreatedAt = createdAt
	if len(w.p.Timestamps) == 0 {
		return fmt.Errorf("%w: print has no frames", ErrInvalid)
	}
	if err := w.p.checkHeader(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	spools := []*spool{w.rows}
	if w.regions != nil {
		spools = append(spools, w.regions)
	}
	for _, sp := range spools {
		if err := sp.rewind(); err != nil {
			return writeError{fmt.Errorf("write print %s: %w", w.path, err)}
		}
	}
	err := writeFile(w.path, func(out io.Writer) error {
		if _, err := out.Write(encodeHead(&w.p)); err != nil {
			return err
		}
		// The data checksum runs over the timestamps, then the spooled
		// features as they are copied, then the thumbnails.
		bw := bufio.NewWriterSize(out, chunkLen)
		crc := uint32(0)
		var b [8]byte
		for _, t := range w.p.Timestamps {
			binary.LittleEndian.PutUint64(b[:], math.Float64bits(t))
			crc = crc32.Update(crc, castagnoli, b[:])
			bw.Write(b[:])
		}
		h := &crcWriter{w: bw, crc: crc}
		for _, sp := range spools {
			n, err := io.Copy(h, sp.f)
			if err != nil {
				return err
			}
			if want := int64(len(w.p.Timestamps)) * int64(len(sp.half)); n != want {
				return fmt.Errorf("spooled %d feature bytes, want %d", n, want)
			}
		}
		if _, err := h.Write(w.p.Thumbs.Pixels); err != nil {
			return err
		}
		if _, err := bw.Write(binary.LittleEndian.AppendUint32(nil, h.crc)); err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		return writeError{err}
	}
	return nil
}

// writeError marks an I/O failure while writing, keeping its message.
type writeError struct{ err error }

func (e writeError) Error() string        { return e.err.Error() }
func (e writeError) Unwrap() error        { return e.err }
func (e writeError) Is(target error) bool { return target == ErrWrite }

// Abort drops the print; nothing is left on disk. It is safe to call more
// than once and after Commit.
func (w *Writer) Abort() {
	if w.settled {
		return
	}
	w.settled = true
	w.rows.f.Close()
	if w.regions != nil {
		w.regions.f.Close()
	}
}

func (s *spool) write(fs []float32) error {
	PutHalves(s.half, fs)
	_, err := s.buf.Write(s.half)
	return err
}

// rewind flushes the spool and goes back to its start for reading.
func (s *spool) rewind() error {
	if err := s.buf.Flush(); err != nil {
		return err
	}
	_, err := s.f.Seek(0, io.SeekStart)
	return err
}

type crcWriter struct {
	w   io.Writer
	crc uint32
}

func (c *crcWriter) Write(b []byte) (int, error) {
	c.crc = crc32.Update(c.crc, castagnoli, b)
	return c.w.Write(b)
}
