// Package search finds where a clip occurs in a library of videos: an
// approximate nearest-neighbour index over one-second windows proposes
// (video, offset) candidates, and the temporal alignment of internal/match,
// the one `vidprint locate` uses, verifies each on a stretch of the video.
//
// The search reads a library only through Backend, so another store can
// replace the local one (Local) without touching this logic.
package search

import (
	"context"

	"github.com/vidprint/vidprint/internal/library/rowcodec"

	"github.com/vidprint/vidprint/internal/library"
	"github.com/vidprint/vidprint/internal/locate"
	"github.com/vidprint/vidprint/internal/vprint"
)

// Hit is one indexed window near a query vector.
type Hit struct {
	Video  int64
	Window int // window index within the video: rows [Window*match.Window, ...)
	Score  float32
}

// Segment is a stretch of a video's print, decoded.
type Segment struct {
	Video library.Video
	Lo    int       // first row's index in the video
	Times []float64 // one per row
	Rows  []float32 // len(Times) rows of Dim values
	Dim   int
	Mean  []float32 // the whole video's mean row
	// Regions are the rows' region features (len(Times) rows of
	// RegionDim), decoded by the region codec, and RegionMean the whole
	// video's mean region row; nil for a video stored without them.
	Regions    []float32
	RegionDim  int
	RegionMean []float32
	// Thumbs are the thumbnails of every video row r in
	// [Lo, Lo+len(Times)) with r%ThumbEvery == 0, in order, the first
	// being row ceil(Lo/ThumbEvery)*ThumbEvery's: ThumbWidth*ThumbHeight
	// 8-bit luma values each, row-major (see vprint.Thumbs). Empty, and
	// the sizes zero, for a video without them.
	Thumbs                              []byte
	ThumbWidth, ThumbHeight, ThumbEvery int
}

// firstThumb is the index, within the segment, of its first thumbnail's
// row.
func (s *Segment) firstThumb() int {
	return (s.Lo+s.ThumbEvery-1)/s.ThumbEvery*s.ThumbEvery - s.Lo
}

// Target is the segment as what a clip is located in, its rows sampled at
// fps.
func (s *Segment) Target(fps float64) locate.Target {
	t := locate.Target{Times: s.Times, Rows: s.Rows, Dim: s.Dim, FPS: fps, Mean: s.Mean,
		Regions: s.Regions, RegionDim: s.RegionDim, RegionMean: s.RegionMean}
	if s.ThumbWidth > 0 && len(s.Thumbs) > 0 {
		t.Thumbs = vprint.Thumbs{Width: s.ThumbWidth, Height: s.ThumbHeight, Every: s.ThumbEvery, Pixels: s.Thumbs}
		t.FirstThumb = s.firstThumb()
	}
	return t
}

// Backend holds a library's index vectors (see WindowVectors) and prints.
type Backend interface {
	Meta() library.Meta
	// Codec maps a query's rows into the space stored rows decode to.
	Codec() rowcodec.Codec
	// RegionCodec does the same for region features; nil when the library
	// keeps none.
	RegionCodec() rowcodec.Codec
	// Mean is the library-wide mean row that index vectors are centred by.
	Mean() []float32
	// Sketch is the projection from decoded rows to index vectors.
	Sketch() *Sketch
	// Nearest returns up to k indexed windows for each query vector, best
	// first, leaving out the windows of video except (0: none).
	Nearest(ctx context.Context, queries [][]float32, k int, except int64) ([][]Hit, error)
	// IDs lists the library's videos.
	IDs() []int64
	// Video describes one video.
	Video(id int64) (library.Video, bool)
	// Frames is the number of rows of a video's print.
	Frames(id int64) int
	// Segment decodes rows [lo, hi) of a video's print, with their region
	// features when regions is set and the video has them.
	Segment(ctx context.Context, id int64, lo, hi int, regions bool) (Segment, error)
}
