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
