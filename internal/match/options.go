package match

import "runtime"

// Options tune Locate. Zero fields other than Threshold mean the defaults.
type Options struct {
	// Threshold is the lowest score reported as a match; DefaultOptions
	// sets DefaultThreshold. A negative threshold reports every candidate.
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
	// of views that see nothing; search sets it. In locate's float rows
	// it found one clip more on the evaluation's seeds 2 and 3 and let
	// three room takes more through, so locate leaves it off.
	EveryView bool
	// BriefSimilarity is the similarity at which a match shorter than
	// 2 s, such as a single image's, scores DefaultThreshold
	// (default DefaultBriefSimilarity). It depends on the mean the video is
	// centred by: ImageSimilarity goes with a typical row.
	BriefSimilarity float64
}

// DefaultOptions are the settings the README's evaluation measured.
func DefaultOptions() Options {
	return Options{Threshold: DefaultThreshold, Speeds: DefaultSpeeds, MinDuration: DefaultMinDuration}
}

// Defaults. DefaultThreshold was set on the evaluation's development seed
// (eval/locate) and checked on its report seed.
const (
	DefaultThreshold = 0.37
	// DefaultMinDuration: on the development set, 2 s stretches at a
	// video's edge or of another take passed as often as copies' did
	// (99.45% of negatives rejected); from 3 s, 99.70%, every positive kept
	// (none matched less than 4 s of clip).
	DefaultMinDuration = 3.0
	// DefaultBriefSimilarity is where the evaluation's still images were
	// told from unrelated frames, each side centred by the video's mean.
	DefaultBriefSimilarity = 0.6
)

// ImageSimilarity is the similarity at which a single image scores the
// default threshold, both sides centred by the model's typical row (see
// model.TypicalRow), as search and locate compare one. On the
// evaluation's development seed (eval/locate -seed 2 -images 120) the
// images of unrelated videos scored up to 0.62, and those whose video came
// first from 0.70 (0.65 and 0.71 centred by the library's mean, on which
// it was set).
const ImageSimilarity = 0.68

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
// features (Reference.AddRegions) report as a match. On the evaluation's
// development seed, two-second stretches of one person in one room matched
// the other take of the scene through its quarters (20 of 55 hard
// negatives, against 5 with whole frames); from about three seconds on they
// did no longer.
const RegionMinDuration = 4.0

// regionCandidates bounds the region search's exact stage: its rows are
// four times as long. On the development seed 12 lost two clips of 40's
// results, 24 none.
const regionCandidates = 24

// confidentScore is a whole-frame match's score beyond which the region
// search is skipped, for speed: most clips that are there stop at it. On
// the development seed a cut-off of 0.6 lost a clip (a wrong whole-frame
// match of 0.605 that the regions outscored at the right place), 0.7 none.
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
	if o.BriefSimilarity <= 0 {
		o.BriefSimilarity = DefaultBriefSimilarity
	}
	return o
}
