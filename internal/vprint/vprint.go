// Package vprint defines a video print — one row of neural features per
// sampled frame, with its timestamp — and its versioned binary file format.
// docs/print-format.md describes the format byte by byte.
//
// The package is named vprint rather than print so that it does not shadow
// the builtin.
package vprint

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// Format limits. Readers refuse files beyond them, writers refuse to write them.
const (
	// Version is the newest format version; this package reads versions 1
	// to Version. Writers write the oldest version that holds a print: 1,
	// 2 with regions, 3 with thumbnails.
	Version     = 3
	MaxRegions  = 16         // region rows per frame
	MaxDim      = 65536      // features per row
	MaxFrames   = 50_000_000 // rows; about 115 days of video at 5 fps
	MaxIDLen    = 256        // bytes of Model.ID and Model.Output
	MaxNameLen  = 4096       // bytes of Source.Name
	MaxPixels   = math.MaxInt32
	MaxHeader   = 64 << 10 // bytes of the length-prefixed header
	MaxFloat16  = 65504    // largest finite float16
	sha256HexLn = 64
)

// Model identifies the network that produced the features. Prints are only
// comparable when all of it, and the dimension, match (see Compatible).
type Model struct {
	ID     string // catalogue id, e.g. "mobilenetv3-large"
	SHA256 string // lowercase hex SHA-256 of the .onnx file
	Output string // output tensor used, e.g. "embedding" or "pooled"
}

// Source describes the video a print was made from.
type Source struct {
	Name      string // base name of the file, no directory; may be empty (stdin)
	Size      int64  // bytes
	SHA256    string // lowercase hex SHA-256 of the file's content; may be empty
	DurationS float64
	Width     int
	Height    int
}

// Print is a video print: Frames() rows of Dim features.
type Print struct {
	Model      Model
	Dim        int
	FPS        float64   // sampling rate the rows were taken at
	Timestamps []float64 // seconds of video time, one per row, finite, non-decreasing
	Features   []float32 // len(Timestamps)*Dim values, row-major
	// Regions is how many parts of each frame (such as its four quarters)
	// also have features, Dim each, in RegionFeatures: len(Timestamps)*
	// Regions*Dim values, frame by frame, the parts of a frame in order.
	// Zero for a print of whole frames only.
	Regions        int
	RegionFeatures []float32
	// Thumbs are small grey pictures of some frames (version 3); the zero
	// value for none.
	Thumbs    Thumbs
	Source    Source
	CreatedAt time.Time // optional; stored as Unix nanoseconds, zero means unset
}

// Thumbs are tiny greyscale pictures of a print's frames, one every Every
// rows from row 0. Features cannot tell a faithful copy of nearly still
// footage from another take of the same scene; a pixel check can (see
// match.Reference.AddThumbs).
type Thumbs struct {
	Width, Height int // pixels, each 1..MaxThumbSide; both 0 for none
	Every         int // rows per thumbnail, 1..MaxFrames; 0 for none
	// Pixels holds Count pictures of Width*Height 8-bit luma values,
	// row-major, picture k being row k*Every's.
	Pixels []byte
}

// MaxThumbSide bounds a thumbnail's width and height.
const MaxThumbSide = 64

// Count is how many thumbnails a print of frames rows has.
func (t Thumbs) Count(frames int) int {
	if t.Every < 1 || t.Width == 0 {
		return 0
	}
	return (frames + t.Every - 1) / t.Every
}

// Thumb returns thumbnail k, aliasing t.Pixels.
func (t Thumbs) Thumb(k int) []byte {
	n := t.Width * t.Height
	return t.Pixels[k*n : (k+1)*n : (k+1)*n]
}

// Frames is the number of rows.
func (p *Print) Frames() int { return len(p.Timestamps) }

// Row returns the features of row i, aliasing p.Features. Its capacity is
// capped so that an append cannot overwrite row i+1.
func (p *Print) Row(i int) []float32 {
	return p.Features[i*p.Dim : (i+1)*p.Dim : (i+1)*p.Dim]
}

// RegionRow returns the region features of row i (Regions*Dim values),
// aliasing p.RegionFeatures; nil without regions.
func (p *Print) RegionRow(i int) []float32 {
	if p.Regions == 0 {
		return nil
	}
	n := p.Regions * p.Dim
	return p.RegionFeatures[i*n : (i+1)*n : (i+1)*n]
}

// version is the oldest format version that holds p.
func (p *Print) version() int {
	if p.Thumbs.Width > 0 {
		return 3
	}
	if p.Regions > 0 {
		return 2
	}
	return 1
}

// sentinel is an error kind. The kinds that describe a bad file also match
// ErrFormat, so a caller can tell bad data from an I/O error in one test.
type sentinel struct {
	msg    string
	format bool
}

func (e *sentinel) Error() string { return e.msg }

func (e *sentinel) Is(target error) bool { return e.format && target == ErrFormat }

// Errors returned by this package, for errors.Is. Decode errors other than
// I/O errors match ErrFormat and exactly one of ErrNotPrint, ErrVersion,
// ErrTruncated, ErrChecksum or ErrCorrupt.
var (
	ErrFormat       error = &sentinel{msg: "invalid print file"}
	ErrNotPrint     error = &sentinel{msg: "not a vidprint print file", format: true}
	ErrVersion      error = &sentinel{msg: "unsupported print version", format: true}
	ErrTruncated    error = &sentinel{msg: "truncated print file", format: true}
	ErrChecksum     error = &sentinel{msg: "print file checksum mismatch", format: true}
	ErrCorrupt      error = &sentinel{msg: "corrupt print file", format: true}
	ErrInvalid      error = &sentinel{msg: "invalid print"}                 // Validate, Encode
	ErrRange        error = &sentinel{msg: "feature outside float16 range"} // Encode
	ErrIncompatible error = &sentinel{msg: "incompatible prints"}           // Compatible
	ErrWrite        error = &sentinel{msg: "cannot write print"}            // Writer
)

// VersionError reports a file written in a format version this package
// cannot read. It matches ErrVersion and ErrFormat.
type VersionError struct {
	Version int // the file's version
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("unsupported print version %d (this vidprint reads 1 to %d)", e.Version, Version)
}

func (e *VersionError) Is(target error) bool { return target == ErrVersion || target == ErrFormat }

// Validate checks that p is internally consistent and within the format's
// limits. The errors match ErrInvalid.
func (p *Print) Validate() error {
	if err := p.check(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// check is Validate without the error kind, so Decode can call the same
// checks an ErrCorrupt.
func (p *Print) check() error {
	if err := p.checkHeader(); err != nil {
		return err
	}
	return p.checkRows()
}

// checkHeader checks everything but the rows.
func (p *Print) checkHeader() error {
	if p == nil {
		return errors.New("nil print")
	}
	if err := checkName("model id", p.Model.ID, MaxIDLen, false); err != nil {
		return err
	}
	if err := checkSHA256("model sha256", p.Model.SHA256, false); err != nil {
		return err
	}
	if err := checkName("model output", p.Model.Output, MaxIDLen, false); err != nil {
		return err
	}
	if p.Dim < 1 || p.Dim > MaxDim {
		return fmt.Errorf("dim %d is outside 1..%d", p.Dim, MaxDim)
	}
	if p.Regions < 0 || p.Regions > MaxRegions {
		return fmt.Errorf("regions %d is outside 0..%d", p.Regions, MaxRegions)
	}
	if err := p.Thumbs.checkShape(); err != nil {
		return err
	}
	if !(p.FPS > 0) || math.IsInf(p.FPS, 0) {
		return fmt.Errorf("fps %v is not a positive finite number", p.FPS)
	}
	s := p.Source
	if err := checkName("source name", s.Name, MaxNameLen, true); err != nil {
		return err
	}
	if strings.Contains(s.Name, "/") { // a Unix base name may hold a backslash
		return fmt.Errorf("source name %q is a path, want a base name", s.Name)
	}
	if s.Size < 0 {
		return fmt.Errorf("source size %d is negative", s.Size)
	}
	if err := checkSHA256("source sha256", s.SHA256, true); err != nil {
		return err
	}
	if !(s.DurationS >= 0) || math.IsInf(s.DurationS, 0) {
		return fmt.Errorf("source duration %v is not a finite number >= 0", s.DurationS)
	}
	if s.Width < 0 || s.Width > MaxPixels || s.Height < 0 || s.Height > MaxPixels {
		return fmt.Errorf("source size %dx%d is outside 0..%d", s.Width, s.Height, MaxPixels)
	}
	if !p.CreatedAt.IsZero() && !time.Unix(0, p.CreatedAt.UnixNano()).Equal(p.CreatedAt) {
		// UnixNano is only defined for 1678..2262.
		return fmt.Errorf("created-at %v cannot be stored as Unix nanoseconds", p.CreatedAt)
	}
	return nil
}

// checkRows checks the timestamps and features.
func (p *Print) checkRows() error {
	n := len(p.Timestamps)
	if n < 1 {
		return errors.New("print has no frames")
	}
	if n > MaxFrames {
		return fmt.Errorf("%d frames exceed the limit of %d", n, MaxFrames)
	}
	// n <= MaxFrames and Dim <= MaxDim, so the product fits in int64; the
	// slice length comparison below then rules out overflow on 32-bit ints.
	if want := int64(n) * int64(p.Dim); int64(len(p.Features)) != want {
		return fmt.Errorf("%d features for %d frames of dim %d, want %d", len(p.Features), n, p.Dim, want)
	}
	for i, t := range p.Timestamps {
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return fmt.Errorf("timestamp of row %d is %v", i, t)
		}
		if i > 0 && t < p.Timestamps[i-1] {
			return fmt.Errorf("timestamps decrease at row %d (%v after %v)", i, t, p.Timestamps[i-1])
		}
	}
	for i, v := range p.Features {
		if math.Float32bits(v)&0x7f800000 == 0x7f800000 { // NaN or ±Inf
			return fmt.Errorf("feature %d of row %d is %v", i%p.Dim, i/p.Dim, v)
		}
	}
	rowLen := p.Regions * p.Dim
	if want := int64(n) * int64(rowLen); int64(len(p.RegionFeatures)) != want {
		return fmt.Errorf("%d region features for %d frames of %d regions of dim %d, want %d", len(p.RegionFeatures), n, p.Regions, p.Dim, want)
	}
	for i, v := range p.RegionFeatures {
		if math.Float32bits(v)&0x7f800000 == 0x7f800000 {
			return fmt.Errorf("region feature %d of row %d is %v", i%rowLen, i/rowLen, v)
		}
	}
	th := p.Thumbs
	if want := int64(th.Count(n)) * int64(th.Width*th.Height); int64(len(th.Pixels)) != want {
		return fmt.Errorf("%d thumbnail bytes for %d thumbnails of %dx%d, want %d", len(th.Pixels), th.Count(n), th.Width, th.Height, want)
	}
	return nil
}

// checkShape checks the thumbnail size and spacing; the pixel count needs
// the frame count and is checked with the rows.
func (t Thumbs) checkShape() error {
	switch {
	case t.Width == 0 && t.Height == 0:
		if t.Every != 0 {
			return fmt.Errorf("thumbnails every %d rows without a thumbnail size, want 0", t.Every)
		}
	case t.Width < 1 || t.Width > MaxThumbSide || t.Height < 1 || t.Height > MaxThumbSide:
		return fmt.Errorf("thumbnail size %dx%d is outside 1..%d (0x0 for none)", t.Width, t.Height, MaxThumbSide)
	case t.Every < 1 || t.Every > MaxFrames:
		return fmt.Errorf("thumbnails every %d rows is outside 1..%d", t.Every, MaxFrames)
	}
	return nil
}

func checkName(what, s string, maxLen int, emptyOK bool) error {
	switch {
	case s == "" && !emptyOK:
		return fmt.Errorf("%s is empty", what)
	case len(s) > maxLen:
		return fmt.Errorf("%s is %d bytes, limit %d", what, len(s), maxLen)
	case !utf8.ValidString(s):
		return fmt.Errorf("%s %q is not valid UTF-8", what, s)
	case strings.IndexByte(s, 0) >= 0:
		return fmt.Errorf("%s %q contains a NUL byte", what, s)
	}
	return nil
}

func checkSHA256(what, s string, emptyOK bool) error {
	if s == "" && emptyOK {
		return nil
	}
	if len(s) != sha256HexLn {
		return fmt.Errorf("%s %q is not %d hex digits", what, s, sha256HexLn)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return fmt.Errorf("%s %q is not lowercase hex", what, s)
		}
	}
	return nil
}

// Compatible reports whether the features of a and b can be compared: same
// model file, output and dimension. Regions and thumbnails may differ: a
// print with them compares with one without. The error matches
// ErrIncompatible and names both models.
func Compatible(a, b *Print) error {
	if a == nil || b == nil {
		return fmt.Errorf("%w: nil print", ErrIncompatible)
	}
	var diff []string
	if a.Model.ID != b.Model.ID {
		diff = append(diff, "model id")
	}
	if a.Model.SHA256 != b.Model.SHA256 {
		diff = append(diff, "model sha256")
	}
	if a.Model.Output != b.Model.Output {
		diff = append(diff, "output")
	}
	if a.Dim != b.Dim {
		diff = append(diff, "dim")
	}
	if diff == nil {
		return nil
	}
	// Short hashes read better, unless they would hide the difference.
	n := 12
	if a.Model.SHA256 != b.Model.SHA256 && len(a.Model.SHA256) >= n &&
		len(b.Model.SHA256) >= n && a.Model.SHA256[:n] == b.Model.SHA256[:n] {
		n = sha256HexLn
	}
	return fmt.Errorf("%w: %s differ: %s vs %s", ErrIncompatible,
		strings.Join(diff, ", "), describe(a, n), describe(b, n))
}

func describe(p *Print, shaLen int) string {
	sha := p.Model.SHA256
	if len(sha) > shaLen {
		sha = sha[:shaLen] + "…"
	}
	return fmt.Sprintf("%q (sha256 %s, output %q, dim %d)", p.Model.ID, sha, p.Model.Output, p.Dim)
}
