package vprint

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/vidprint/vidprint/internal/fsutil"
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
func writeFile(path string, encode func(io.Writer) error) error {
	if err := fsutil.WriteAtomic(path, encode); err != nil {
		return fmt.Errorf("print: %w", err)
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

// IsFile tells a print file from anything else by its magic.
func IsFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, len(Magic))
	_, err = io.ReadFull(f, head)
	return err == nil && bytes.Equal(head, []byte(Magic))
}
