// Package export writes prints in formats that numpy and pandas read
// directly: .npy, .npz and CSV.
package export

import (
	"archive/zip"
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/vidprint/vidprint/internal/vprint"
)

// npyAlign is the header alignment numpy.lib.format writes and recommends,
// so that the data can be memory-mapped with any dtype.
const npyAlign = 64

// chunkLen bounds the encode buffer; a multiple of 8.
const chunkLen = 64 << 10

// WriteNPY writes a rows x cols float32 matrix, row-major, as an NPY file
// (format 1.0, dtype '<f4', C order): what numpy.load returns as an array
// of that shape.
func WriteNPY(w io.Writer, rows, cols int, data []float32) error {
	return WriteNPYShape(w, []int{rows, cols}, data)
}

// WriteNPYShape writes a float32 array of the given shape (two or more
// dimensions), row-major, as an NPY file (format 1.0, dtype '<f4', C
// order), e.g. a print's region features, frames x regions x features.
func WriteNPYShape(w io.Writer, shape []int, data []float32) error {
	n := 1
	dims := make([]string, len(shape))
	for i, d := range shape {
		if d < 0 || (d != 0 && n > math.MaxInt/d) {
			return fmt.Errorf("write npy: shape %v", shape)
		}
		n *= d
		dims[i] = strconv.Itoa(d)
	}
	if len(shape) < 2 || n != len(data) {
		return fmt.Errorf("write npy: %d values for shape %v", len(data), shape)
	}
	if err := writeNPYHeader(w, "<f4", "("+strings.Join(dims, ", ")+")"); err != nil {
		return err
	}
	return writeChunks(w, data, 4, func(b []byte, v float32) { binary.LittleEndian.PutUint32(b, math.Float32bits(v)) })
}

// WriteNPY1D writes data as a one-dimensional NPY file (format 1.0, dtype
// '<f8'), e.g. the timestamps of a print.
func WriteNPY1D(w io.Writer, data []float64) error {
	if err := writeNPYHeader(w, "<f8", fmt.Sprintf("(%d,)", len(data))); err != nil {
		return err
	}
	return writeChunks(w, data, 8, func(b []byte, v float64) { binary.LittleEndian.PutUint64(b, math.Float64bits(v)) })
}

// writeNPYHeader writes the magic, version 1.0 and the header dict, padded
// with spaces and ended by a newline so that the data starts at a multiple
// of npyAlign, as numpy.lib.format does.
func writeNPYHeader(w io.Writer, descr, shape string) error {
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape)
	const pre = 6 + 2 + 2 // magic, version, header length
	total := (pre + len(dict) + 1 + npyAlign - 1) / npyAlign * npyAlign
	hlen := total - pre
	if hlen > math.MaxUint16 { // cannot happen for a few dimensions
		return fmt.Errorf("write npy: header of %d bytes does not fit format 1.0", hlen)
	}
	b := make([]byte, 0, total)
	b = append(b, "\x93NUMPY\x01\x00"...)
	b = binary.LittleEndian.AppendUint16(b, uint16(hlen))
	b = append(b, dict...)
	b = append(b, strings.Repeat(" ", hlen-len(dict)-1)...)
	b = append(b, '\n')
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("write npy header: %w", err)
	}
	return nil
}

// writeChunks encodes data size bytes per value through a bounded buffer.
func writeChunks[T any](w io.Writer, data []T, size int, put func([]byte, T)) error {
	buf := make([]byte, chunkLen)
	for len(data) > 0 {
		chunk := data[:min(len(data), chunkLen/size)]
		data = data[len(chunk):]
		for i, v := range chunk {
			put(buf[i*size:], v)
		}
		if _, err := w.Write(buf[:len(chunk)*size]); err != nil {
			return fmt.Errorf("write npy data: %w", err)
		}
	}
	return nil
}

// NPZ member names: numpy.load(path) returns a mapping with these keys,
// without the .npy suffix.
const (
	NPZFeatures   = "features.npy"   // Frames x Dim float32
	NPZTimestamps = "timestamps.npy" // Frames float64, seconds
	NPZRegions    = "regions.npy"    // Frames x Regions x Dim float32, when the print has regions
)

// RegionShape is the shape of a print's region features as exported:
// frames x regions x features (for embed's quarters, regions 0 to 3 are the
// top-left, top-right, bottom-left and bottom-right quarter).
func RegionShape(p *vprint.Print) []int { return []int{p.Frames(), p.Regions, p.Dim} }

// WriteNPZ writes p as an uncompressed NPZ archive, like numpy.savez:
// features (Frames x Dim float32) and timestamps (Frames float64), and
// regions (Frames x Regions x Dim float32) for a print with region
// features. Features do not compress well, so storing them saves time for
// little space.
func WriteNPZ(w io.Writer, p *vprint.Print) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("write npz: %w", err)
	}
	zw := zip.NewWriter(w)
	fw, err := zw.CreateHeader(&zip.FileHeader{Name: NPZFeatures, Method: zip.Store})
	if err != nil {
		return fmt.Errorf("write npz: %w", err)
	}
	if err := WriteNPY(fw, p.Frames(), p.Dim, p.Features); err != nil {
		return fmt.Errorf("write npz %s: %w", NPZFeatures, err)
	}
	fw, err = zw.CreateHeader(&zip.FileHeader{Name: NPZTimestamps, Method: zip.Store})
	if err != nil {
		return fmt.Errorf("write npz: %w", err)
	}
	if err := WriteNPY1D(fw, p.Timestamps); err != nil {
		return fmt.Errorf("write npz %s: %w", NPZTimestamps, err)
	}
	if p.Regions > 0 {
		fw, err = zw.CreateHeader(&zip.FileHeader{Name: NPZRegions, Method: zip.Store})
		if err != nil {
			return fmt.Errorf("write npz: %w", err)
		}
		if err := WriteNPYShape(fw, RegionShape(p), p.RegionFeatures); err != nil {
			return fmt.Errorf("write npz %s: %w", NPZRegions, err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("write npz: %w", err)
	}
	return nil
}

// WriteCSV writes p as CSV with a header line "time_s,f0,f1,...", then one
// line per frame: the timestamp and the features, each in the shortest form
// that parses back to the same float64 (time) or float32 (features), so
// pandas.read_csv(path, float_precision="round_trip") recovers the exact
// values.
func WriteCSV(w io.Writer, p *vprint.Print) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	bw := bufio.NewWriterSize(w, chunkLen)
	line := make([]byte, 0, 16*(p.Dim+1))
	line = append(line, "time_s"...)
	for i := range p.Dim {
		line = append(line, ",f"...)
		line = strconv.AppendInt(line, int64(i), 10)
	}
	line = append(line, '\n')
	if _, err := bw.Write(line); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	for i, t := range p.Timestamps {
		line = strconv.AppendFloat(line[:0], t, 'g', -1, 64)
		for _, v := range p.Row(i) {
			line = append(line, ',')
			line = strconv.AppendFloat(line, float64(v), 'g', -1, 32)
		}
		line = append(line, '\n')
		if _, err := bw.Write(line); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}
