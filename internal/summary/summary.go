// Package summary picks a video's keyframes from its print, the idea's
// recipe: the change points of the series split it into scenes, and the
// frame midway through each scene stands for it.
package summary

import (
	"encoding/base64"
	"fmt"
	"html/template"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"io"
	"math"
	"strings"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/vidprint/vidprint/internal/scenes"
	"github.com/vidprint/vidprint/internal/vprint"
)

// Keyframe is one frame of the summary.
type Keyframe struct {
	TimeS       float64     `json:"time_s"`
	File        string      `json:"file"`
	SceneStartS float64     `json:"scene_start_s"`
	SceneEndS   float64     `json:"scene_end_s"`
	BeginsWith  string      `json:"begins_with"` // "start", "cut" or "gradual"
	Row         int         `json:"row"`
	Image       image.Image `json:"-"`
}

// Pick returns one keyframe per scene: the row midway through it. With
// n > 0 there are exactly n, from exactly n scenes.
func Pick(p *vprint.Print, n int) ([]Keyframe, error) {
	bs, err := scenes.Detect(p, scenes.Options{Scenes: n})
	if err != nil {
		return nil, err
	}
	var out []Keyframe
	for i, s := range scenes.Split(p, bs) {
		mid := (s.Start + s.End - 1) / 2
		kind := "start"
		if i > 0 {
			kind = string(bs[i-1].Kind)
		}
		out = append(out, Keyframe{TimeS: p.Timestamps[mid], SceneStartS: s.StartS, SceneEndS: s.EndS, BeginsWith: kind, Row: mid})
	}
	return out, nil
}

// FileName names a keyframe by its time, sortable: "t0001m02.400s.jpg".
func FileName(t float64) string {
	ms := int64(t*1000 + 0.5)
	return fmt.Sprintf("t%04dm%02d.%03ds.jpg", ms/60000, ms/1000%60, ms%1000)
}

// Thumbnail scales img to width w; keyframes are kept in memory only this
// small, so a film of a thousand scenes fits.
func Thumbnail(img image.Image, w int) image.Image {
	b := img.Bounds()
	h := max(1, w*b.Dy()/max(1, b.Dx()))
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	xdraw.ApproxBiLinear.Scale(out, out.Bounds(), img, b, draw.Src, nil)
	return out
}

// SheetColumns keeps a contact sheet of n thumbnails roughly square, and
// well under JPEG's 65,535-pixel limit on either side.
func SheetColumns(n int) int {
	return max(5, int(math.Ceil(math.Sqrt(float64(n)*1.6))))
}

// UniqueNames gives each keyframe a file name by its time, adding the row
// when two share a time (a video can repeat its last timestamp).
func UniqueNames(frames []Keyframe) {
	seen := map[string]bool{}
	for i := range frames {
		name := FileName(frames[i].TimeS)
		if seen[name] {
			name = strings.TrimSuffix(name, ".jpg") + fmt.Sprintf("-r%d.jpg", frames[i].Row)
		}
		seen[name] = true
		frames[i].File = name
	}
}

// ContactSheet tiles the keyframes, each scaled to thumbWidth, with its
// time under it.
func ContactSheet(frames []Keyframe, thumbWidth, columns int) image.Image {
	if len(frames) == 0 {
		return image.NewRGBA(image.Rect(0, 0, 1, 1))
	}
	b := frames[0].Image.Bounds()
	thumbH := max(1, thumbWidth*b.Dy()/max(1, b.Dx()))
	const pad, label = 6, 16
	columns = max(1, min(columns, len(frames)))
	rows := (len(frames) + columns - 1) / columns
	sheet := image.NewRGBA(image.Rect(0, 0, columns*(thumbWidth+pad)+pad, rows*(thumbH+label+pad)+pad))
	draw.Draw(sheet, sheet.Bounds(), image.NewUniform(color.RGBA{24, 24, 24, 255}), image.Point{}, draw.Src)
	d := &font.Drawer{Dst: sheet, Src: image.White, Face: basicfont.Face7x13}
	for i, k := range frames {
		x := pad + (i%columns)*(thumbWidth+pad)
		y := pad + (i/columns)*(thumbH+label+pad)
		dst := image.Rect(x, y, x+thumbWidth, y+thumbH)
		xdraw.ApproxBiLinear.Scale(sheet, dst, k.Image, k.Image.Bounds(), draw.Src, nil)
		d.Dot = fixed.P(x, y+thumbH+13)
		d.DrawString(fmt.Sprintf("%d  %s", i+1, clock(k.TimeS)))
	}
	return sheet
}

func clock(t float64) string {
	ms := int64(t*1000 + 0.5)
	if ms >= 3600000 {
		return fmt.Sprintf("%d:%02d:%02d.%d", ms/3600000, ms/60000%60, ms/1000%60, ms%1000/100)
	}
	return fmt.Sprintf("%d:%02d.%d", ms/60000, ms/1000%60, ms%1000/100)
}

// Page is the data of the HTML index.
type Page struct {
	Video     string
	Model     string
	DurationS float64
	Picture   []byte // PNG
	Frames    []Keyframe
	JPEGs     [][]byte // inline thumbnails; each links to its full-size file
}

var pageTmpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"b64":   func(b []byte) string { return base64.StdEncoding.EncodeToString(b) },
	"clock": clock,
	"inc":   func(i int) int { return i + 1 },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Video}}: summary</title>
<style>
body{font:14px system-ui,sans-serif;margin:24px;background:#fafafa;color:#222}
h1{font-size:20px} .pic{max-width:100%;image-rendering:pixelated;border:1px solid #ccc}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(240px,1fr));gap:12px}
figure{margin:0;background:#fff;border:1px solid #ddd;padding:6px}
figure img{width:100%} figcaption{font-size:12px;color:#555}
</style></head><body>
<h1>{{.Video}}</h1>
<p>{{len .Frames}} keyframes, one per scene, from a {{printf "%.1f" .DurationS}} s video (model {{.Model}}).</p>
<h2>The video as a picture</h2>
<img class="pic" alt="the print: time left to right, one row per feature" src="data:image/png;base64,{{b64 .Picture}}">
<h2>Keyframes</h2>
<div class="grid">
{{range $i, $k := .Frames}}<figure><a href="{{$k.File}}"><img alt="keyframe at {{clock $k.TimeS}}" src="data:image/jpeg;base64,{{b64 (index $.JPEGs $i)}}"></a>
<figcaption>{{inc $i}}. {{clock $k.TimeS}}: scene {{clock $k.SceneStartS}} to {{clock $k.SceneEndS}}, begins with {{$k.BeginsWith}}</figcaption></figure>
{{end}}</div>
</body></html>
`))

// WriteHTML writes the index page: the picture and a thumbnail of every
// keyframe are inline, so the page stands alone; each thumbnail links to its
// full-size JPEG beside the page.
func WriteHTML(w io.Writer, page Page) error { return pageTmpl.Execute(w, page) }

// EncodeJPEG is the contact sheet's encoder.
func EncodeJPEG(w io.Writer, img image.Image) error {
	return jpeg.Encode(w, img, &jpeg.Options{Quality: 88})
}
