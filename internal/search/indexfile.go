package search

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"runtime"

	"github.com/vidprint/vidprint/internal/fsutil"
	"github.com/vidprint/vidprint/internal/library/rowcodec"
	"github.com/vidprint/vidprint/internal/vprint"
)

// The window index file caches what Open would otherwise rebuild from every
// print: the library mean, the IVF cells and the window vectors. It is
// derived data, named by the store generation it was built from; a stale
// or damaged file is rebuilt, never trusted.
//
// Layout, little-endian: magic, version u32, generation i64, codec name
// (u16 length, bytes), codec dim u32, index dim u32, cells u32, videos u32,
// windows u64, windows its cells were trained on u64, mean (codec dim f32),
// video IDs (i64 each), centroids (cells x index dim f16), cell starts
// (cells+1 u32), window refs (video u32, window u32), window vectors
// (windows x index dim f16), then the CRC-32C of everything before it.
//
// Version 2 stores the centroids and window vectors, which grow with the
// library, as IEEE half floats: half the size of version 1's float32 and
// plenty for proposing candidates (unit vectors, whose cosines are off by
// at most about 1e-3, and the exact alignment checks every candidate). A
// file of another version is rebuilt.
const indexMagic = "vidprint-windows\x00"

const indexVersion = 2

var errStale = errors.New("index is stale")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// writeIndex saves x to path. It first rounds x's centroids and window
// vectors to the float16 values the file holds, so that the index searched
// now is the one a later Open reads back, whether or not the save succeeds.
func writeIndex(path string, x *windowIndex, codec rowcodec.Codec) error {
	b, err := encodeIndex(x, codec)
	if err != nil {
		return err
	}
	roundHalves(x.centroids)
	roundHalves(x.vecs)
	return fsutil.WriteAtomic(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

func encodeIndex(x *windowIndex, codec rowcodec.Codec) ([]byte, error) {
	cells := len(x.start) - 1
	n := len(x.refs)
	size := len(indexMagic) + 4 + 8 + 2 + len(codec.Name()) + 4*4 + 8 + 8 + 4*len(x.mean) + 8*len(x.videoIDs) +
		2*len(x.centroids) + 4*(cells+1) + 8*n + 2*len(x.vecs) + 4
	b := make([]byte, 0, size)
	b = append(b, indexMagic...)
	b = binary.LittleEndian.AppendUint32(b, indexVersion)
	b = binary.LittleEndian.AppendUint64(b, uint64(x.generation))
	b = binary.LittleEndian.AppendUint16(b, uint16(len(codec.Name())))
	b = append(b, codec.Name()...)
	for _, v := range []int{codec.Dim(), x.dim, cells, len(x.videoIDs)} {
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	b = binary.LittleEndian.AppendUint64(b, uint64(n))
	b = binary.LittleEndian.AppendUint64(b, uint64(x.trained))
	b = appendFloats(b, x.mean)
	for _, id := range x.videoIDs {
		b = binary.LittleEndian.AppendUint64(b, uint64(id))
	}
	b, err := appendHalves(b, x.centroids)
	if err != nil {
		return nil, fmt.Errorf("index centroids: %w", err)
	}
	for _, s := range x.start {
		b = binary.LittleEndian.AppendUint32(b, uint32(s))
	}
	for _, r := range x.refs {
		b = binary.LittleEndian.AppendUint32(b, uint32(r.video))
		b = binary.LittleEndian.AppendUint32(b, uint32(r.window))
	}
	if b, err = appendHalves(b, x.vecs); err != nil {
		return nil, fmt.Errorf("index window vectors: %w", err)
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli)), nil
}

func appendFloats(b []byte, xs []float32) []byte {
	for _, v := range xs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// appendHalves appends xs as float16, rounded to nearest even. A value
// that float16 cannot hold (beyond ±65504, or NaN) is an error rather than
// an infinity: index vectors are unit vectors, so it means a bug upstream.
func appendHalves(b []byte, xs []float32) ([]byte, error) {
	for i, v := range xs {
		if !(math.Abs(float64(v)) < 65520) { // 65520 and up round to infinity
			return nil, fmt.Errorf("value %d (%g) is outside float16's range", i, v)
		}
	}
	at := len(b)
	b = append(b, make([]byte, 2*len(xs))...)
	vprint.PutHalves(b[at:], xs)
	return b, nil
}

// roundHalves rounds each value to the nearest float16, as appendHalves
// stores it.
func roundHalves(xs []float32) {
	buf := make([]byte, 2*min(len(xs), 1<<16))
	for len(xs) > 0 {
		chunk := xs[:min(len(xs), len(buf)/2)]
		vprint.PutHalves(buf, chunk)
		vprint.GetHalves(chunk, buf)
		xs = xs[len(chunk):]
	}
}

// readIndex reads an index file built with codec; a file of another codec
// gives errStale.
func readIndex(path string, codec rowcodec.Codec) (*windowIndex, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	x, err := decodeIndex(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if x.codecName != codec.Name() || len(x.mean) != codec.Dim() {
		return nil, errStale
	}
	return x.windowIndex, nil
}

type decodedIndex struct {
	*windowIndex
	codecName string
}

// indexReader takes fields off the front of a buffer, remembering the
// first shortfall. It widens large runs of halves on workers goroutines.
type indexReader struct {
	b       []byte
	err     error
	workers int
}

// parallelHalves is the run of halves worth splitting over goroutines.
const parallelHalves = 1 << 16

func (r *indexReader) take(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errors.New("index file is truncated")
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *indexReader) u16() uint16 {
	if b := r.take(2); b != nil {
		return binary.LittleEndian.Uint16(b)
	}
	return 0
}

func (r *indexReader) u32() uint32 {
	if b := r.take(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (r *indexReader) u64() uint64 {
	if b := r.take(8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

// floats reads n float32s, checking the length before allocating.
func (r *indexReader) floats(n uint64) []float32 {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b))/4 {
		r.err = errors.New("index file is truncated")
		return nil
	}
	b := r.take(4 * n)
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// halves reads n float16s into float32s, checking the length before
// allocating. Infinities and NaNs, which encodeIndex never writes, make
// the file damaged.
func (r *indexReader) halves(n uint64) []float32 {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b))/2 {
		r.err = errors.New("index file is truncated")
		return nil
	}
	b := r.take(2 * n)
	for i := 1; i < len(b); i += 2 {
		if b[i]&0x7c == 0x7c { // the high byte's exponent bits all set
			r.err = errors.New("index file holds a value that is not finite")
			return nil
		}
	}
	out := make([]float32, n)
	// Widening is most of a large index's load time (about 0.2 s of a
	// 100-hour library's on one core): split it.
	parts := max(1, min(r.workers, int(n/parallelHalves)))
	parallel(context.Background(), parts, func(p int) {
		lo, hi := int(n)*p/parts, int(n)*(p+1)/parts
		vprint.GetHalves(out[lo:hi], b[2*lo:2*hi])
	})
	return out
}

func decodeIndex(b []byte) (decodedIndex, error) {
	return decodeIndexOn(b, runtime.NumCPU())
}

// decodeIndexOn is decodeIndex widening halves on workers goroutines.
func decodeIndexOn(b []byte, workers int) (decodedIndex, error) {
	var none decodedIndex
	if len(b) < len(indexMagic)+4 || string(b[:len(indexMagic)]) != indexMagic {
		return none, errors.New("not a vidprint window index")
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return none, errors.New("index file is damaged (checksum)")
	}
	r := &indexReader{b: body[len(indexMagic):], workers: workers}
	if v := r.u32(); r.err == nil && v != indexVersion {
		return none, fmt.Errorf("index version %d, want %d", v, indexVersion)
	}
	x := &windowIndex{generation: int64(r.u64())}
	name := string(r.take(uint64(r.u16())))
	codecDim, dim, cells, videos := r.u32(), r.u32(), r.u32(), r.u32()
	windows := r.u64()
	trained := r.u64()
	if r.err != nil {
		return none, r.err
	}
	if dim != IndexDim || cells == 0 || codecDim == 0 {
		return none, fmt.Errorf("index dimensions %d/%d with %d cells", codecDim, dim, cells)
	}
	x.mean = r.floats(uint64(codecDim))
	if uint64(videos) > uint64(len(r.b))/8 {
		return none, errors.New("index file is truncated")
	}
	x.videoIDs = make([]int64, videos)
	for i := range x.videoIDs {
		x.videoIDs[i] = int64(r.u64())
	}
	if trained > 1<<40 {
		return none, fmt.Errorf("index trained on %d windows", trained)
	}
	x.ivf = &ivf{dim: int(dim), trained: int(trained)}
	x.centroids = r.halves(uint64(cells) * uint64(dim))
	if uint64(cells)+1 > uint64(len(r.b))/4 {
		return none, errors.New("index file is truncated")
	}
	x.start = make([]int32, cells+1)
	for i := range x.start {
		x.start[i] = int32(r.u32())
	}
	if windows > uint64(len(r.b))/8 {
		return none, errors.New("index file is truncated")
	}
	x.refs = make([]windowRef, windows)
	for i := range x.refs {
		x.refs[i] = windowRef{int32(r.u32()), int32(r.u32())}
	}
	x.vecs = r.halves(windows * uint64(dim))
	if r.err != nil {
		return none, r.err
	}
	if len(r.b) != 0 {
		return none, errors.New("index file has trailing bytes")
	}
	// Every reference must point inside the index.
	if x.start[0] != 0 || uint64(x.start[cells]) != windows {
		return none, errors.New("index cells do not cover its windows")
	}
	for c := range cells {
		if x.start[c] > x.start[c+1] {
			return none, errors.New("index cells out of order")
		}
	}
	for _, ref := range x.refs {
		if ref.video < 0 || int(ref.video) >= len(x.videoIDs) || ref.window < 0 {
			return none, errors.New("index refers to a video it does not list")
		}
	}
	return decodedIndex{x, name}, nil
}
