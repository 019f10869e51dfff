package vprint

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFile writes p to path atomically: it encodes into a temporary file in
// the same directory, syncs it and renames it over path. On any error the
// temporary file is removed and an existing file at path is left as it was.
// The file gets mode 0644.
func WriteFile(path string, p *Print) error {
	return writeFile(path, func(w io.Writer) error { return Encode(w, p) })
}

// writeFile is WriteFile with the encoder injectable, so tests can make the
// write fail half way.
func writeFile(path string, encode func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("write print %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close() // may already be closed; the error is not news
			os.Remove(tmp)
			err = fmt.Errorf("write print %s: %w", path, err)
		}
	}()
	// Encode writes in large chunks; no bufio needed.
	if err := encode(f); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil { // CreateTemp makes it 0600
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	// Make the rename itself durable. Best effort: the new file is already
	// in place, and some systems cannot sync a directory.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// ReadFile reads and checks the print at path (see Decode). Errors name the
// file and keep the error kinds of Decode.
func ReadFile(path string) (*Print, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read print: %w", err) // *PathError names the file
	}
	defer f.Close()
	size := int64(-1)
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	p, err := decode(f, size) // reads in large chunks; no bufio needed
	if err != nil {
		return nil, fmt.Errorf("read print %s: %w", path, err)
	}
	return p, nil
}
