package locate

import (
	"context"

	"github.com/vidprint/vidprint/internal/embed"
	"github.com/vidprint/vidprint/internal/match"
	"github.com/vidprint/vidprint/internal/view"
	"github.com/vidprint/vidprint/internal/vprint"
)

// Query is a clip, an image or a print seen through views (match.View),
// one row of features a sample per view, sampled as the target is.
type Query struct {
	Times []float64
	Views []match.View
}

// Image reports whether the query is a single image: one sample, with no
// motion to confirm where it lies.
func (q Query) Image() bool { return len(q.Times) == 1 }

// Features returns the whole-frame features of the view named (or of the
// view it is the self-centred companion of), for drawing the clip as the
// matched view saw it; false for a region view or a name it lacks.
func (q Query) Features(name view.Name) ([]float32, bool) {
	for _, v := range q.Views {
		if v.Name == name.Base() && !v.Regions {
			return v.Features, true
		}
	}
	return nil, false
}

// PrintQuery is a print as a query: its whole frame and, unless
// wholeFrame, its quarters as a region view. A print has no mirrored or
// picture-in-picture views (those need the video), and a one-frame print
// is an image, whose quarters go unused.
func PrintQuery(p *vprint.Print, wholeFrame bool) Query {
	q := Query{Times: p.Timestamps, Views: []match.View{{Name: view.Full, Features: p.Features}}}
	if p.HasQuarters() && !wholeFrame && p.Frames() > 1 {
		q.Views = append(q.Views, match.View{Name: view.Regions, Features: p.RegionFeatures, Regions: true})
	}
	return q
}

// EmbedQuery embeds a clip or an image through specs (view.Query() for
// every view) and makes its query. opts.FPS must be the target's rate.
func EmbedQuery(ctx context.Context, path string, pool *embed.Pool, opts embed.Options, specs []view.Spec) (Query, error) {
	times, views, err := embed.Views(ctx, path, pool, opts, specs)
	if err != nil {
		return Query{}, err
	}
	return Query{Times: times, Views: Views(views, len(times))}, nil
}

// Views turns a clip's embedded views into what match searches, each with
// its pictures (a region view takes its whole view's): the whole-frame and
// window views, the frame's quarters side by side as its region view
// (view.Regions) and, where the clip shows a picture-in-picture, the
// inset's quarters as a second region view (view.InsetRegions), and a
// second guess's as a third (view.SecondInsetRegions). The inset's
// quarters serve only there: as whole-frame views they would be four more
// chances for a false match.
func Views(views []embed.ViewFeatures, frames int) []match.View {
	insetRegions := [...]struct {
		name     view.Name
		quarters []view.Spec
		whole    view.Name // the view whose pictures the quarters' are
	}{{view.InsetRegions, view.InsetQuarters[:], view.Inset}, {view.SecondInsetRegions, view.SecondInsetQuarters[:], view.SecondInset}}
	pixels := map[view.Name][]byte{}
	for _, v := range views {
		pixels[v.Name] = v.Pixels
	}
	isQuarter := map[view.Name]bool{}
	for _, r := range insetRegions {
		for _, q := range r.quarters {
			isQuarter[q.Name] = true
		}
	}
	var out []match.View
	for _, v := range views {
		if !isQuarter[v.Name] {
			out = append(out, withPixels(match.View{Name: v.Name, Features: v.Features}, v.Pixels, frames))
		}
	}
	if regions, ok := RegionView(views, frames); ok {
		out = append(out, withPixels(match.View{Name: view.Regions, Features: regions, Regions: true}, pixels[view.Full], frames))
	}
	for _, r := range insetRegions {
		if regions, ok := quartersSideBySide(views, frames, r.quarters); ok {
			out = append(out, withPixels(match.View{Name: r.name, Features: regions, Regions: true}, pixels[r.whole], frames))
		}
	}
	return out
}

// withPixels gives v the pictures px when they are whole: one a frame.
func withPixels(v match.View, px []byte, frames int) match.View {
	if len(px) == frames*embed.PixelWidth*embed.PixelHeight && frames > 0 {
		v.Pixels, v.PixelWidth, v.PixelHeight = px, embed.PixelWidth, embed.PixelHeight
	}
	return v
}

// RegionView puts the rows of a clip's quarter views (view.Quarters, which
// view.Query includes) side by side, frame by frame, as a print's region
// features are laid out, so that a clip of frames samples can be searched
// in a print's regions. It reports false when views lacks a quarter.
func RegionView(views []embed.ViewFeatures, frames int) ([]float32, bool) {
	return quartersSideBySide(views, frames, view.Quarters[:])
}

func quartersSideBySide(views []embed.ViewFeatures, frames int, specs []view.Spec) ([]float32, bool) {
	quarters := make([][]float32, len(specs))
	for i, q := range specs {
		for _, v := range views {
			if v.Name == q.Name {
				quarters[i] = v.Features
			}
		}
		if frames < 1 || quarters[i] == nil || len(quarters[i]) != len(quarters[0]) || len(quarters[i])%frames != 0 {
			return nil, false
		}
	}
	dim := len(quarters[0]) / frames
	out := make([]float32, 0, len(quarters)*frames*dim)
	for f := range frames {
		for _, q := range quarters {
			out = append(out, q[f*dim:(f+1)*dim]...)
		}
	}
	return out, true
}
