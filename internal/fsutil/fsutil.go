// Package fsutil writes files so that readers never see half of one: the
// data goes to a temporary file in the same directory, is synced, and is
// renamed over the target only when complete.
package fsutil

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ErrWrite marks a file that could not be written (WriteAtomic).
var ErrWrite = errors.New("cannot write file")

// writeError is a failed write, with its own message, that is an ErrWrite.
type writeError struct{ err error }

func (e writeError) Error() string        { return e.err.Error() }
func (e writeError) Unwrap() error        { return e.err }
func (e writeError) Is(target error) bool { return target == ErrWrite }

// WriteAtomic writes path through write. On any failure the target is left
// as it was, no temporary file remains, and the error is an ErrWrite.
func WriteAtomic(path string, write func(w io.Writer) error) error {
	if err := writeAtomic(path, write); err != nil {
		return writeError{err}
	}
	return nil
}

func writeAtomic(path string, write func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// Make the rename itself durable. Best effort: the file is already in
	// place, and some systems cannot sync a directory.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// CheckWritableDir fails early, before long work, when files cannot be
// created in dir.
func CheckWritableDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("output directory %s: %w", dir, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("output directory %s: not a directory", dir)
	}
	f, err := os.CreateTemp(dir, ".vidprint-probe-*")
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("output directory %s: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// HashFile returns the SHA-256 of a file's content, in hex, and its size,
// reading it once; cancelling ctx stops the read.
func HashFile(ctx context.Context, path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, Reader(ctx, f))
	if err != nil {
		return "", 0, fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// Reader reads r until ctx is done.
func Reader(ctx context.Context, r io.Reader) io.Reader { return ctxReader{ctx, r} }

// ctxReader stops reading once its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
