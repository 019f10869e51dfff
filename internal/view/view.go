// Package view names the ways vidprint looks at a clip's frames: the whole
// frame, mirrored, half-frame windows, a picture-in-picture found in the
// clip, and quarters side by side (region views). A view is a rectangle of
// the frame (Spec) and a Name; the matcher reports the name of the view
// that matched, and treats some names specially (Whole, SelfCentred).
package view

import (
	"fmt"
	"strings"

	"github.com/vidprint/vidprint/internal/vprint"
)

// Name names a view. It is what `locate --json` reports as "view".
type Name string

// The views vidprint itself makes.
const (
	// Full is the whole frame, as a print sees it.
	Full Name = "full"
	// Flip is the whole frame mirrored left to right.
	Flip Name = "flip"
	// Inset is the clip's picture-in-picture, where it shows one, and
	// SecondInset a second guess at it.
	Inset       Name = "inset"
	SecondInset Name = "inset2"
	// Regions is the frame's quarters side by side, searched in a print's
	// region features (vprint.Print.RegionFeatures).
	Regions Name = "regions"
	// InsetRegions and SecondInsetRegions are the quarters of Inset and
	// SecondInset side by side, searched in a print's regions too.
	InsetRegions       Name = "inset-regions"
	SecondInsetRegions Name = "inset2-regions"
)

// ownSuffix marks a view centred by the clip's own mean instead of the
// video's: a change the whole clip shares (grey, a tint) then cancels.
const ownSuffix = "/own"

// Whole reports whether n sees the whole frame, as it is or mirrored.
func (n Name) Whole() bool { return n == Full || n == Flip }

// SelfCentred reports whether n also gets a companion centred by the
// clip's own mean (Own): the whole-frame and region views, where global
// changes to a copy show most.
func (n Name) SelfCentred() bool {
	return n.Whole() || n == Regions || n == InsetRegions || n == SecondInsetRegions
}

// Own is n's companion centred by the clip's own mean.
func (n Name) Own() Name { return n + ownSuffix }

// Base is the view whose features n is: n itself, or the view n is the
// self-centred companion of.
func (n Name) Base() Name { return Name(strings.TrimSuffix(string(n), ownSuffix)) }

// Mirrored is the name of the same view seen mirrored, for the whole
// frame; other names are returned as they are.
func (n Name) Mirrored() Name {
	switch n {
	case Full:
		return Flip
	case Flip:
		return Full
	}
	return n
}

// Spec is one way of looking at a frame: a rectangle of it, in fractions
// of the frame's width and height, resized to the model's input,
// optionally mirrored left to right.
type Spec struct {
	Name       Name
	X, Y, W, H float64
	Flip       bool
	// Inset views take their rectangle from the clip: a picture-in-picture
	// found in it (the one at InsetRank, 0 the first), within which X, Y,
	// W and H then place the view (zero W and H: all of it). Without one
	// the view is left out.
	Inset     bool
	InsetRank int
}

// Quarters are the rectangles of a print's region features, in the order
// of their rows (vprint.Quarters).
var Quarters = quarters("window")

func quarters(prefix string) [vprint.QuarterRegions]Spec {
	var out [vprint.QuarterRegions]Spec
	for i, q := range vprint.Quarters {
		col, row := 2*int(q.X*2), 2*int(q.Y*2)
		out[i] = Spec{Name: Name(fmt.Sprintf("%s-%d%d", prefix, row, col)), X: q.X, Y: q.Y, W: q.W, H: q.H}
	}
	return out
}

// InsetQuarters are the quarters of a picture-in-picture, in the order of
// Quarters. A picture-in-picture shows its video at about half size, and
// nearly still footage (a talking head, a tree) so small barely changes
// its whole-frame features; a quarter holds the motion, as the frame's
// quarters do for a cropped copy.
var InsetQuarters = insetQuarters(Inset, 0)

// SecondInsetQuarters are the quarters of the second picture-in-picture
// guess.
var SecondInsetQuarters = insetQuarters(SecondInset, 1)

func insetQuarters(inset Name, rank int) [vprint.QuarterRegions]Spec {
	out := quarters(string(inset))
	for i := range out {
		out[i].Inset, out[i].InsetRank = true, rank
	}
	return out
}

// Query returns the views a clip is searched with. A copy of a video may
// be mirrored, or may show the video in part of its frame (picture in
// picture) or carry an inset or a logo; whole-frame features barely see the
// video in the first case and are disturbed in the others. Windows of half
// the frame's width and height on a 3x3 grid see a picture-in-picture of
// about that size wherever it lies, and the corner windows (Quarters) also
// see most of a frame whose opposite corner is covered.
//
// A picture-in-picture seldom lines up with a window: where the clip shows
// one, its own rectangle is one more view, and its quarters are searched
// in a print's regions. The second guess at it gets the same views.
func Query() []Spec {
	views := []Spec{
		{Name: Full, W: 1, H: 1},
		{Name: Flip, W: 1, H: 1, Flip: true},
	}
	for row := range 3 {
		for col := range 3 {
			views = append(views, Spec{
				Name: Name(fmt.Sprintf("window-%d%d", row, col)),
				X:    float64(col) / 4, Y: float64(row) / 4, W: 0.5, H: 0.5,
			})
		}
	}
	views = append(views, Spec{Name: Inset, Inset: true})
	views = append(views, InsetQuarters[:]...)
	views = append(views, Spec{Name: SecondInset, Inset: true, InsetRank: 1})
	return append(views, SecondInsetQuarters[:]...)
}
