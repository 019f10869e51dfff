package vprint

// Format facts that every writer and reader of prints shares: the sampling
// rate, what a print's region features are, and its thumbnails.

// DefaultFPS is the sampling rate of a print: samples a second of video
// time.
const DefaultFPS = 5

// Rect is a rectangle of a frame in fractions of its width and height.
type Rect struct{ X, Y, W, H float64 }

// QuarterRegions is the Regions of a print whose region features are the
// four quarters of each frame (Quarters), the only layout vidprint writes.
const QuarterRegions = 4

// Quarters are the rectangles of a print's region features, in the order
// of their rows: top-left, top-right, bottom-left, bottom-right.
var Quarters = [QuarterRegions]Rect{
	{X: 0, Y: 0, W: 0.5, H: 0.5},
	{X: 0.5, Y: 0, W: 0.5, H: 0.5},
	{X: 0, Y: 0.5, W: 0.5, H: 0.5},
	{X: 0.5, Y: 0.5, W: 0.5, H: 0.5},
}

// HasQuarters reports whether p's region features are the frame's
// Quarters, which a clip's quarter views can be searched in.
func (p *Print) HasQuarters() bool { return p.Regions == QuarterRegions }

// ThumbWidth and ThumbHeight are the size of the thumbnails vidprint
// writes: 192 bytes a second. 24x18 told copies from other takes of the
// same room a little better, at 2.25 times the storage; 12x9 worse.
const ThumbWidth, ThumbHeight = 16, 12

// ThumbEvery is the rows between the thumbnails of a print sampled at fps:
// one a second.
func ThumbEvery(fps float64) int { return max(1, int(fps+0.5)) }

// Between is the print of the rows whose times lie in [start, end) (end 0:
// to the last row), sharing p's values; its thumbnails are those of the
// rows kept. It has no rows when none lies there.
func (p *Print) Between(start, end float64) *Print {
	lo, hi := 0, p.Frames()
	for lo < hi && p.Timestamps[lo] < start {
		lo++
	}
	for hi > lo && end > 0 && p.Timestamps[hi-1] >= end {
		hi--
	}
	q := *p
	q.Timestamps = p.Timestamps[lo:hi]
	q.Features = p.Features[lo*p.Dim : hi*p.Dim]
	if p.Regions > 0 {
		n := p.Regions * p.Dim
		q.RegionFeatures = p.RegionFeatures[lo*n : hi*n]
	}
	q.Thumbs = p.Thumbs
	if t := p.Thumbs; t.Width > 0 && t.Every > 0 {
		// Thumbnails are of every Every-th row from row 0; a stretch that
		// does not start on one loses them.
		if lo%t.Every == 0 {
			n := t.Width * t.Height
			k0, k1 := lo/t.Every, (hi+t.Every-1)/t.Every
			q.Thumbs.Pixels = t.Pixels[k0*n : k1*n]
		} else {
			q.Thumbs = Thumbs{}
		}
	}
	return &q
}
