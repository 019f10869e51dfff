// Package locate is the one place where a clip is located in a video: it
// builds the query from a clip, an image or a print (Query), the target
// from a print or a stretch of one that a library keeps (Target), and runs
// the matcher (internal/match) on them. `vidprint locate`, the library
// search and the evaluation all locate through Locate.
package locate

import (
	"context"
	"fmt"
	"slices"

	"github.com/vidprint/vidprint/internal/match"
	"github.com/vidprint/vidprint/internal/model"
	"github.com/vidprint/vidprint/internal/vprint"
)

// Target is what a clip is located in: the rows of a video's print, all of
// them or a stretch.
type Target struct {
	Times []float64 // one per row, seconds of video time
	Rows  []float32 // len(Times) rows of Dim values
	Dim   int
	FPS   float64
	// Mean is what rows are centred by: the whole video's mean row, for a
	// stretch of it; nil centres them by their own mean (a whole print).
	Mean []float32
	// Regions are the rows' region features, RegionDim values a row, and
	// RegionMean the whole video's mean region row (nil: their own mean);
	// Regions is nil for a video without them.
	Regions    []float32
	RegionDim  int
	RegionMean []float32
	// Thumbs are the thumbnails of the rows, FirstThumb the row (within
	// Rows) of the first; the zero value for none.
	Thumbs     vprint.Thumbs
	FirstThumb int
}

// PrintTarget is the whole of a print as a target, its region features
// included where the clip's region views can be searched in them (the
// frame's quarters).
func PrintTarget(p *vprint.Print) Target {
	t := Target{Times: p.Timestamps, Rows: p.Features, Dim: p.Dim, FPS: p.FPS, Thumbs: p.Thumbs}
	if p.HasQuarters() {
		t.Regions, t.RegionDim = p.RegionFeatures, p.Regions*p.Dim
	}
	return t
}

// Options tune Locate.
type Options struct {
	// Match decides what is a match.
	Match match.Options
	// ImageCentre, when set, is what a single image and the target are
	// both centred by, with the calibration's ImageSimilarity as its bar
	// (model.Calibration): the model's
	// typical row (ImageCentre), or a library's mean row. Centred by the
	// video's own mean, a frame of nearly still footage leaves little but
	// noise. Nil: the target's centring and Match's bar, for images too.
	ImageCentre []float32
}

// Locate finds the query in the target. A single image is compared
// through its whole-frame views only (match.ImageViews); region views are
// searched where the target has regions.
func Locate(ctx context.Context, t Target, q Query, o Options) (match.Result, error) {
	views := q.Views
	mo := o.Match
	mean := t.Mean
	if q.Image() {
		views = match.ImageViews(views)
		if o.ImageCentre != nil {
			mean = o.ImageCentre
			mo.BriefSimilarity = mo.Calibrated().ImageSimilarity
		}
	}
	var ref *match.Reference
	var err error
	if mean != nil {
		ref, err = match.NewSegmentReference(t.Rows, t.Times, t.Dim, t.FPS, mean)
	} else {
		ref, err = match.NewReference(t.Rows, t.Times, t.Dim, t.FPS)
	}
	if err != nil {
		return match.Result{}, err
	}
	// Regions only where a view can search them: preparing them is a pass
	// over the rows.
	if t.Regions != nil && slices.ContainsFunc(views, func(v match.View) bool { return v.Regions }) {
		if err := ref.AddRegions(t.Regions, t.RegionDim, t.RegionMean); err != nil {
			return match.Result{}, err
		}
	}
	if th := t.Thumbs; th.Width > 0 && len(th.Pixels) > 0 {
		if err := ref.AddThumbs(th.Pixels, th.Width, th.Height, th.Every, t.FirstThumb); err != nil {
			return match.Result{}, err
		}
	}
	mq, err := ref.NewQuery(q.Times, views)
	if err != nil {
		return match.Result{}, fmt.Errorf("query: %w", err)
	}
	return match.Locate(ctx, ref, mq, mo)
}

// ImageCentre is what a single image is centred by in prints of model m
// with dim features: the model's typical row (model.TypicalRow), or nil
// where none was fit (a user-supplied model, another output or file).
func ImageCentre(m vprint.Model, dim int) []float32 {
	if typical := model.TypicalRow(m.ID, m.SHA256, m.Output); len(typical) == dim {
		return typical
	}
	return nil
}
