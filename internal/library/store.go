// Package library keeps a collection of videos and their prints in one
// directory, so that clips can be searched across all of them. Storage sits
// behind Store; the search logic (internal/search) reads a library only
// through it, so another backend can take its place.
package library

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vidprint/vidprint/internal/vprint"
)

// Meta is what a library is bound to when it is created: prints of another
// model, dimension or sampling rate are refused.
type Meta struct {
	Model vprint.Model
	Dim   int
	FPS   float64
	// Codec names how frame features are stored (see Codec).
	Codec string
	// CodecData is the codec's own parameters (e.g. a projection), opaque
	// to the store.
	CodecData []byte
	// RegionCodec names how the four quarters of each frame (region
	// features, see vprint.Quarters) are stored; empty when the library
	// keeps none. See NewRegionCodec.
	RegionCodec string
}

// Video is one indexed video.
type Video struct {
	ID        int64
	Path      string // absolute path when it was added
	SHA256    string // content hash: the identity of a video
	Size      int64
	DurationS float64
	Width     int
	Height    int
	Frames    int
	AddedAt   time.Time
}

// Entry is a video with its print in the library's codec: Codes holds
// Frames rows of the codec's encoding, Mean the decoded rows' mean
// (Codec.Dim values), which the search centres rows by. NewEntry makes one.
type Entry struct {
	Video
	Timestamps []float64
	Codes      []byte
	Mean       []float32
	Regions
	// Thumbs are the print's thumbnails, picture k of row k*Every; the
	// zero value for a print without them.
	Thumbs vprint.Thumbs
}

// Regions are a print's region features in the library's region codec:
// one row of RowBytes a frame, and the decoded rows' mean. Both are nil
// for a video stored without them (a print made without regions, or a
// library that keeps none).
type Regions struct {
	RegionCodes []byte
	RegionMean  []float32
}

// RowRange is rows [Lo, Lo+len(Timestamps)) of a video's print.
type RowRange struct {
	Video      Video
	Lo         int
	Timestamps []float64
	Codes      []byte
	Mean       []float32
	Regions
	// Thumbs are the thumbnails of the rows r of the range with
	// r%Thumbs.Every == 0, in order (see SliceThumbs): picture k is row
	// ceil(Lo/Every)*Every + k*Every's, not row k*Every's. The zero value
	// for a video without them.
	Thumbs vprint.Thumbs
}

// Errors a Store reports; callers test them with errors.Is.
var (
	ErrNotLibrary = errors.New("not a vidprint library")
	ErrExists     = errors.New("already in the library")
	ErrNotFound   = errors.New("not in the library")
	ErrModel      = errors.New("library made with another model")
	// ErrAmbiguous is a name (Find) that fits more than one video.
	ErrAmbiguous = errors.New("names more than one video")
	// ErrStorage marks a failure to read or write the storage itself: a
	// full disk, a file size limit, an I/O error. The library is left as
	// it was before the failed write.
	ErrStorage = errors.New("library storage failed")
	// ErrReadOnly marks a write to a library opened without write access.
	// It is an ErrStorage.
	ErrReadOnly = fmt.Errorf("%w: opened read-only (no write access to the library's directory or database)", ErrStorage)
)

// Cache is a Store that keeps files derived from the library, such as a
// search index, where it keeps the library: CachePath names one.
type Cache interface {
	CachePath(name string) string
}

// Sizer is a Store that can tell how many bytes it keeps.
type Sizer interface {
	Bytes() (int64, error)
}

// Size is how many bytes s keeps, derived files included; 0 for a store
// that cannot tell.
func Size(s Store) (int64, error) {
	if z, ok := s.(Sizer); ok {
		return z.Bytes()
	}
	return 0, nil
}

// ReadOnly tells whether s was opened without write access, so that a
// command that writes can stop before any work.
func ReadOnly(s Store) bool {
	r, ok := s.(interface{ ReadOnly() bool })
	return ok && r.ReadOnly()
}

// Store keeps a library's videos. Implementations are safe for concurrent
// use by several goroutines and by several processes on one library.
type Store interface {
	Meta(ctx context.Context) (Meta, error)
	// Lookup finds a video by content hash.
	Lookup(ctx context.Context, sha256 string) (Video, error)
	// Add stores a video and its print in one transaction: after a crash
	// or a full disk the library holds all of it or none. A hash already
	// present gives ErrExists and the existing video.
	Add(ctx context.Context, e Entry) (Video, error)
	// Remove deletes a video and its print.
	Remove(ctx context.Context, id int64) error
	// Videos lists every video, oldest first.
	Videos(ctx context.Context) ([]Video, error)
	// Entry reads one video with its whole-frame print, without region
	// features or thumbnails: what an index of the whole library is built
	// from.
	Entry(ctx context.Context, id int64) (Entry, error)
	// Rows reads rows [lo, hi) of a video's print (hi capped at its
	// frames), with their thumbnails, and their region features when
	// regions is set, without reading the rest.
	Rows(ctx context.Context, id int64, lo, hi int, regions bool) (RowRange, error)
	// Generation changes whenever a video is added or removed, so derived
	// index files can tell whether they are stale.
	Generation(ctx context.Context) (int64, error)
	Close() error
}

// DescribeMeta names a library's model in messages, e.g.
// "mobilenetv3-small-qvac/embedding (sha256 2fc165a4bc30, 1024-d, 5 fps)".
func DescribeMeta(m Meta) string {
	sha := m.Model.SHA256
	if len(sha) > 12 {
		sha = sha[:12]
	}
	return fmt.Sprintf("%s/%s (sha256 %s, %d-d, %g fps)", m.Model.ID, m.Model.Output, sha, m.Dim, m.FPS)
}

// Find picks the video a name means: an id, a path (as given or
// absolute), or a SHA-256 prefix of at least 6 hex digits. None gives
// ErrNotFound; a prefix of several videos, ErrAmbiguous.
func Find(videos []Video, name string) (Video, error) {
	if id, err := strconv.ParseInt(name, 10, 64); err == nil {
		for _, v := range videos {
			if v.ID == id {
				return v, nil
			}
		}
	}
	abs, _ := filepath.Abs(name)
	for _, v := range videos {
		if v.Path == name || v.Path == abs {
			return v, nil
		}
	}
	var found []Video
	if len(name) >= 6 && strings.Trim(strings.ToLower(name), "0123456789abcdef") == "" {
		for _, v := range videos {
			if strings.HasPrefix(v.SHA256, strings.ToLower(name)) {
				found = append(found, v)
			}
		}
	}
	switch len(found) {
	case 0:
		return Video{}, fmt.Errorf("no video %q (give an id, a path or a SHA-256 prefix; see index list): %w", name, ErrNotFound)
	case 1:
		return found[0], nil
	}
	return Video{}, fmt.Errorf("SHA-256 prefix %q matches %d videos; give more digits: %w", name, len(found), ErrAmbiguous)
}
