package vprint

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"slices"
	"time"
)

// Magic starts every print file.
const Magic = "VIDPRNT\x00"

const (
	prefixLen = len(Magic) + 2 + 4 // magic, version, header length
	chunkLen  = 256 << 10          // I/O buffer; a multiple of 8
	// Without a known input size, Decode grows its slices from this many
	// elements as data arrives instead of trusting the declared frame count.
	unknownSizeCap = 1 << 16
	// float16 rounds values of this magnitude and above to infinity
	// (65504 is the largest finite half; halfway to the next power is 65520).
	float16Overflow = 65520
)

// castagnoli is read-only after init; crc32 caches the table anyway.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Encode writes p to w in the oldest format version that holds it: 1, 2
// when p has regions, 3 when it has thumbnails. p must pass Validate, and
// every feature must fit in float16: a value with magnitude 65520 or more
// (which float16 would round to infinity) is rejected with ErrRange rather
// than clamped, because it means the model output is not what the print
// was designed for. Encode checks everything before writing anything.
func Encode(w io.Writer, p *Print) error {
	if err := p.Validate(); err != nil {
		return err
	}
	for i, v := range p.Features {
		if v >= float16Overflow || v <= -float16Overflow {
			return fmt.Errorf("%w: feature %d of row %d is %v, float16 holds ±%d",
				ErrRange, i%p.Dim, i/p.Dim, v, MaxFloat16)
		}
	}
	for i, v := range p.RegionFeatures {
		if v >= float16Overflow || v <= -float16Overflow {
			return fmt.Errorf("%w: region feature %d of row %d is %v, float16 holds ±%d",
				ErrRange, i%(p.Regions*p.Dim), i/(p.Regions*p.Dim), v, MaxFloat16)
		}
	}

	if _, err := w.Write(encodeHead(p)); err != nil {
		return fmt.Errorf("write print header: %w", err)
	}

	le := binary.LittleEndian
	buf := make([]byte, chunkLen)
	var crc uint32
	write := func(b []byte, what string) error {
		crc = crc32.Update(crc, castagnoli, b)
		if _, err := w.Write(b); err != nil {
			return fmt.Errorf("write print %s: %w", what, err)
		}
		return nil
	}
	for ts := p.Timestamps; len(ts) > 0; {
		chunk := ts[:min(len(ts), chunkLen/8)]
		ts = ts[len(chunk):]
		for i, t := range chunk {
			le.PutUint64(buf[8*i:], math.Float64bits(t))
		}
		if err := write(buf[:8*len(chunk)], "timestamps"); err != nil {
			return err
		}
	}
	for _, block := range [...]struct {
		fs   []float32
		what string
	}{{p.Features, "features"}, {p.RegionFeatures, "region features"}} {
		for fs := block.fs; len(fs) > 0; {
			chunk := fs[:min(len(fs), chunkLen/2)]
			fs = fs[len(chunk):]
			PutHalves(buf, chunk)
			if err := write(buf[:2*len(chunk)], block.what); err != nil {
				return err
			}
		}
	}
	if len(p.Thumbs.Pixels) > 0 {
		if err := write(p.Thumbs.Pixels, "thumbnails"); err != nil {
			return err
		}
	}
	if _, err := w.Write(binary.LittleEndian.AppendUint32(nil, crc)); err != nil {
		return fmt.Errorf("write print checksum: %w", err)
	}
	return nil
}

// encodeHead is everything before the timestamps: magic, version, header
// length, the header and its checksum.
func encodeHead(p *Print) []byte {
	head := make([]byte, prefixLen, prefixLen+512)
	copy(head, Magic)
	v := p.version()
	binary.LittleEndian.PutUint16(head[8:], uint16(v))
	head = appendHeader(head, p, v)
	binary.LittleEndian.PutUint32(head[10:], uint32(len(head)-prefixLen))
	return binary.LittleEndian.AppendUint32(head, crc32.Checksum(head, castagnoli))
}

// appendHeader appends the header fields of a version; see
// docs/print-format.md.
func appendHeader(b []byte, p *Print, version int) []byte {
	le := binary.LittleEndian
	str := func(b []byte, s string) []byte { return append(le.AppendUint16(b, uint16(len(s))), s...) }
	var created int64
	if !p.CreatedAt.IsZero() {
		created = p.CreatedAt.UnixNano()
	}
	b = str(b, p.Model.ID)
	b = str(b, p.Model.SHA256)
	b = str(b, p.Model.Output)
	b = le.AppendUint32(b, uint32(p.Dim))
	b = le.AppendUint64(b, uint64(len(p.Timestamps)))
	b = le.AppendUint64(b, math.Float64bits(p.FPS))
	b = str(b, p.Source.Name)
	b = le.AppendUint64(b, uint64(p.Source.Size))
	b = str(b, p.Source.SHA256)
	b = le.AppendUint64(b, math.Float64bits(p.Source.DurationS))
	b = le.AppendUint32(b, uint32(p.Source.Width))
	b = le.AppendUint32(b, uint32(p.Source.Height))
	b = le.AppendUint64(b, uint64(created))
	if version >= 2 {
		b = le.AppendUint32(b, uint32(p.Regions))
	}
	if version >= 3 {
		b = le.AppendUint16(b, uint16(p.Thumbs.Width))
		b = le.AppendUint16(b, uint16(p.Thumbs.Height))
		b = le.AppendUint32(b, uint32(p.Thumbs.Every))
	}
	return b
}

// Decode reads one print from r, which must end right after it, and checks
// everything: magic, version, limits, checksums, exact length and the rules
// of Validate. Errors about the data match ErrFormat and one of ErrNotPrint,
// ErrVersion, ErrTruncated, ErrChecksum or ErrCorrupt; other errors come
// from r.
//
// When r can tell how many bytes it holds (*os.File, *bytes.Reader,
// *bytes.Buffer, *strings.Reader), sizes declared in the header are checked
// against that before anything is allocated; otherwise memory grows only as
// data actually arrives.
func Decode(r io.Reader) (*Print, error) {
	return decode(r, remaining(r))
}

// remaining returns how many bytes r still holds, or -1 if it cannot tell.
func remaining(r io.Reader) int64 {
	switch v := r.(type) {
	case interface{ Len() int }:
		return int64(v.Len())
	case *os.File:
		fi, err := v.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return -1
		}
		off, err := v.Seek(0, io.SeekCurrent)
		if err != nil || off > fi.Size() {
			return -1
		}
		return fi.Size() - off
	}
	return -1
}

// decoder reads r and knows how many bytes are left when size >= 0.
type decoder struct {
	r    io.Reader
	left int64 // -1: unknown
}

func (d *decoder) read(b []byte, what string) error {
	if _, err := io.ReadFull(d.r, b); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w: input ends inside the %s", ErrTruncated, what)
		}
		return fmt.Errorf("read print %s: %w", what, err)
	}
	if d.left >= 0 {
		d.left -= int64(len(b))
	}
	return nil
}

// need fails early, before allocating, when the input is known to be too short.
func (d *decoder) need(n int64, what string) error {
	if d.left >= 0 && n > d.left {
		return fmt.Errorf("%w: the %s needs %d bytes, %d are left", ErrTruncated, what, n, d.left)
	}
	return nil
}

func decode(r io.Reader, size int64) (*Print, error) {
	d := &decoder{r: r, left: size}
	le := binary.LittleEndian

	prefix := make([]byte, prefixLen)
	n, err := io.ReadFull(r, prefix[:len(Magic)])
	if !bytes.HasPrefix([]byte(Magic), prefix[:n]) {
		return nil, fmt.Errorf("%w (bad magic %q)", ErrNotPrint, prefix[:n])
	}
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: input ends inside the magic", ErrTruncated)
		}
		return nil, fmt.Errorf("read print magic: %w", err)
	}
	if d.left >= 0 {
		d.left -= int64(n)
	}
	if err := d.read(prefix[len(Magic):len(Magic)+2], "version"); err != nil {
		return nil, err
	}
	version := int(le.Uint16(prefix[len(Magic):]))
	if version < 1 || version > Version {
		return nil, &VersionError{Version: version}
	}
	if err := d.read(prefix[len(Magic)+2:], "header length"); err != nil {
		return nil, err
	}
	hlen := le.Uint32(prefix[len(Magic)+2:])
	if hlen > MaxHeader {
		return nil, fmt.Errorf("%w: header length %d exceeds %d", ErrCorrupt, hlen, MaxHeader)
	}
	if err := d.need(int64(hlen)+4, "header"); err != nil {
		return nil, err
	}
	head := make([]byte, prefixLen+int(hlen)+4)
	copy(head, prefix)
	if err := d.read(head[prefixLen:], "header"); err != nil {
		return nil, err
	}
	body, sum := head[:len(head)-4], le.Uint32(head[len(head)-4:])
	if got := crc32.Checksum(body, castagnoli); got != sum {
		return nil, fmt.Errorf("%w: header crc32c %08x, stored %08x", ErrChecksum, got, sum)
	}
	p, frames, err := parseHeader(body[prefixLen:], version)
	if err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrCorrupt, err)
	}

	// Limits first: frames*dim then fits in int64 with room to spare.
	if p.Dim < 1 || p.Dim > MaxDim {
		return nil, fmt.Errorf("%w: dim %d is outside 1..%d", ErrCorrupt, p.Dim, MaxDim)
	}
	if frames < 1 || frames > MaxFrames {
		return nil, fmt.Errorf("%w: frame count %d is outside 1..%d", ErrCorrupt, frames, MaxFrames)
	}
	if p.Regions < 0 || p.Regions > MaxRegions {
		return nil, fmt.Errorf("%w: regions %d is outside 0..%d", ErrCorrupt, p.Regions, MaxRegions)
	}
	if err := p.Thumbs.checkShape(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	nFrames := int64(frames)
	nFeat := nFrames * int64(p.Dim)
	nRegion := nFeat * int64(p.Regions)
	// At most 50e6 thumbnails of 4096 bytes: no overflow either.
	nThumb := int64(p.Thumbs.Count(int(frames))) * int64(p.Thumbs.Width*p.Thumbs.Height)
	if nFeat+nRegion > math.MaxInt {
		return nil, fmt.Errorf("%w: %d features do not fit in memory on this platform", ErrCorrupt, nFeat+nRegion)
	}
	if nThumb > math.MaxInt {
		return nil, fmt.Errorf("%w: %d thumbnail bytes do not fit in memory on this platform", ErrCorrupt, nThumb)
	}
	if err := d.need(nFrames*8+(nFeat+nRegion)*2+nThumb+4, "data"); err != nil {
		return nil, err
	}

	capTS, capFeat, capRegion, capThumb := int(nFrames), int(nFeat), int(nRegion), int(nThumb)
	if d.left < 0 {
		capTS, capFeat, capRegion = min(capTS, unknownSizeCap), min(capFeat, unknownSizeCap), min(capRegion, unknownSizeCap)
		capThumb = min(capThumb, unknownSizeCap)
	}
	p.Timestamps = make([]float64, 0, capTS)
	p.Features = make([]float32, 0, capFeat)
	if nRegion > 0 {
		p.RegionFeatures = make([]float32, 0, capRegion)
	}
	if nThumb > 0 {
		p.Thumbs.Pixels = make([]byte, 0, capThumb)
	}
	buf := make([]byte, chunkLen)
	var crc uint32
	for todo := nFrames * 8; todo > 0; {
		chunk := buf[:min(todo, chunkLen)]
		if err := d.read(chunk, "timestamps"); err != nil {
			return nil, err
		}
		crc = crc32.Update(crc, castagnoli, chunk)
		todo -= int64(len(chunk))
		for i := 0; i < len(chunk); i += 8 {
			p.Timestamps = append(p.Timestamps, math.Float64frombits(le.Uint64(chunk[i:])))
		}
	}
	for _, block := range [...]struct {
		dst  *[]float32
		n    int64
		what string
	}{{&p.Features, nFeat, "features"}, {&p.RegionFeatures, nRegion, "region features"}} {
		for todo := block.n * 2; todo > 0; {
			chunk := buf[:min(todo, chunkLen)]
			if err := d.read(chunk, block.what); err != nil {
				return nil, err
			}
			crc = crc32.Update(crc, castagnoli, chunk)
			todo -= int64(len(chunk))
			at := len(*block.dst)
			*block.dst = slices.Grow(*block.dst, len(chunk)/2)[:at+len(chunk)/2]
			GetHalves((*block.dst)[at:], chunk)
		}
	}
	for todo := nThumb; todo > 0; {
		chunk := buf[:min(todo, chunkLen)]
		if err := d.read(chunk, "thumbnails"); err != nil {
			return nil, err
		}
		crc = crc32.Update(crc, castagnoli, chunk)
		todo -= int64(len(chunk))
		p.Thumbs.Pixels = append(p.Thumbs.Pixels, chunk...)
	}
	if err := d.read(buf[:4], "data checksum"); err != nil {
		return nil, err
	}
	if sum := le.Uint32(buf); sum != crc {
		return nil, fmt.Errorf("%w: data crc32c %08x, stored %08x", ErrChecksum, crc, sum)
	}
	switch n, err := io.ReadFull(r, buf[:1]); {
	case n > 0:
		return nil, fmt.Errorf("%w: trailing bytes after the print", ErrCorrupt)
	case err != nil && !errors.Is(err, io.EOF):
		return nil, fmt.Errorf("read print end: %w", err)
	}
	if err := p.check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return p, nil
}

// parseHeader reads the header fields of a version. Bytes after them are
// ignored: that is where compatible additions go (see docs/print-format.md).
func parseHeader(b []byte, version int) (p *Print, frames uint64, err error) {
	c := cursor{b: b}
	p = &Print{}
	p.Model.ID = c.str("model id")
	p.Model.SHA256 = c.str("model sha256")
	p.Model.Output = c.str("model output")
	p.Dim = int(c.u32("dim"))
	frames = c.u64("frame count")
	p.FPS = math.Float64frombits(c.u64("fps"))
	p.Source.Name = c.str("source name")
	p.Source.Size = int64(c.u64("source size"))
	p.Source.SHA256 = c.str("source sha256")
	p.Source.DurationS = math.Float64frombits(c.u64("source duration"))
	p.Source.Width = int(c.u32("source width"))
	p.Source.Height = int(c.u32("source height"))
	if ns := int64(c.u64("created-at")); ns != 0 {
		p.CreatedAt = time.Unix(0, ns).UTC()
	}
	if version >= 2 {
		p.Regions = int(int32(c.u32("regions")))
	}
	if version >= 3 {
		p.Thumbs.Width = int(c.u16("thumbnail width"))
		p.Thumbs.Height = int(c.u16("thumbnail height"))
		p.Thumbs.Every = int(int32(c.u32("thumbnail spacing")))
	}
	return p, frames, c.err
}

// cursor reads little-endian fields; after the first short read it returns
// zero values and keeps the error.
type cursor struct {
	b   []byte
	err error
}

func (c *cursor) take(n int, what string) []byte {
	if c.err != nil {
		return nil
	}
	if n > len(c.b) {
		c.err = fmt.Errorf("ends inside the %s", what)
		return nil
	}
	v := c.b[:n]
	c.b = c.b[n:]
	return v
}

func (c *cursor) u16(what string) uint16 {
	if v := c.take(2, what); v != nil {
		return binary.LittleEndian.Uint16(v)
	}
	return 0
}

func (c *cursor) u32(what string) uint32 {
	if v := c.take(4, what); v != nil {
		return binary.LittleEndian.Uint32(v)
	}
	return 0
}

func (c *cursor) u64(what string) uint64 {
	if v := c.take(8, what); v != nil {
		return binary.LittleEndian.Uint64(v)
	}
	return 0
}

func (c *cursor) str(what string) string {
	n := c.take(2, what+" length")
	if n == nil {
		return ""
	}
	return string(c.take(int(binary.LittleEndian.Uint16(n)), what))
}
