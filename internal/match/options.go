package match

import (
	"runtime"

	"github.com/vidprint/vidprint/internal/model"
)

// Options tune Locate. Zero fields other than Threshold mean the defaults.
type Options struct {
	// Calibration is what scores mean in the prints' feature space: their
	// model's (model.LocateCalibration). Zero means the default model's.
	Calibration model.Calibration
	// Threshold is the lowest score reported as a match; DefaultOptions
	// sets the calibration's. A negative threshold reports every
	// candidate.
	Threshold float64
	// Speeds are the clip playback speeds tried, relative to the video
	// (default DefaultSpeeds). 1.25 means the clip plays 1.25x faster.
	Speeds []float64
	// MinDuration is the shortest stretch of clip, in seconds, that counts
	// as a match (default DefaultMinDuration; capped by the clip's and the
	// video's length).
	MinDuration float64
	// Workers bounds the goroutines of the coarse scores and of the exact
	// stage (default GOMAXPROCS).
	Workers int
	// Candidates bounds the coarse alignments scored exactly (default 40).
	Candidates int
	// EveryView also scores each view's best coarse alignment exactly,
	// where none of the view's is among the Candidates. A library's
	// projected rows rank alignments less surely, and the one view that
	// sees a cropped or grey copy can rank its right alignment below 40
	// of views that see nothing; search sets it. In locate's float rows it
	// finds little more and lets more other takes of the same room
	// through, so locate leaves it off.
	EveryView bool
	// BriefSimilarity is the similarity at which a match shorter than
	// 2 s, such as a single image's, scores the calibration's threshold
	// (default the calibration's BriefSimilarity). It depends on the mean
	// the video is centred by: the calibration's ImageSimilarity goes with
	// a typical row.
	BriefSimilarity float64
}

// DefaultOptions are the settings the evaluation measured, for prints of
// the default model.
func DefaultOptions() Options { return CalibratedOptions(model.DefaultCalibration()) }

// CalibratedOptions are the default settings for prints of a model
// calibrated as c.
func CalibratedOptions(c model.Calibration) Options {
	return Options{Calibration: c, Threshold: c.Threshold, Speeds: DefaultSpeeds, MinDuration: DefaultMinDuration}
}

// Calibrated is o's calibration: the default model's where o has none.
func (o Options) Calibrated() model.Calibration {
	if o.Calibration == (model.Calibration{}) {
		return model.DefaultCalibration()
	}
	return o.Calibration
}

// DefaultMinDuration is the shortest stretch that counts as a match: 2 s
// stretches at a video's edge or of another take passed as often as
// copies' did; from 3 s most no longer do, and no copy matched less than
// 4 s of clip.
const DefaultMinDuration = 3.0

// ImageViews keeps the whole-frame views (plain and mirrored) of a
// one-sample query. A single image has no motion to confirm where it
// lies, and a quarter of it resembles some frame of a large library by
// chance: on the evaluation's still images, window views put most of the
// false matches first (eval/locate's image section). Without either, it
// keeps them all.
func ImageViews(views []View) []View {
	var out []View
	for _, v := range views {
		if v.Name.Whole() {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return views
	}
	return out
}

// DefaultSpeeds covers the 0.8x to 1.25x speed changes of re-uploads in
// steps whose drift over a 20 s clip stays within a pooled window.
var DefaultSpeeds = []float64{0.8, 0.85, 0.9, 0.95, 1, 1.05, 1.1, 1.15, 1.2, 1.25}

const (
	// perRegion bounds the candidates kept around one start (views and
	// speeds agree there); maxCandidates bounds those scored exactly.
	perRegion     = 5
	maxCandidates = 40
)

// RegionMinDuration is the shortest stretch, in seconds, that region
// features (Reference.AddRegions) report as a match. Two-second stretches
// of one person in one room match the other take of the scene through its
// quarters far more often than through whole frames; from about three
// seconds on they no longer do (docs/locate.md, "Regions").
const RegionMinDuration = 4.0

// regionCandidates bounds the region search's exact stage: its rows are
// four times as long. 24 find the clips that 40 find; 12 lose some.
const regionCandidates = 24

// confidentScore is a whole-frame match's score beyond which the region
// search is skipped, for speed: most clips that are there stop at it. A
// wrong whole-frame match can score about 0.6 where the regions would
// outscore it at the right place, so the cut-off stays above that.
const confidentScore = 0.7

func withDefaults(o Options) Options {
	if len(o.Speeds) == 0 {
		o.Speeds = DefaultSpeeds
	}
	if o.MinDuration <= 0 {
		o.MinDuration = DefaultMinDuration
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Candidates <= 0 {
		o.Candidates = maxCandidates
	}
	o.Calibration = o.Calibrated()
	if o.BriefSimilarity <= 0 {
		o.BriefSimilarity = o.Calibration.BriefSimilarity
	}
	return o
}
