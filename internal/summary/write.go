package summary

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/jpeg"
	"image/png"
	"io"
	"path/filepath"
	"slices"

	"github.com/vidprint/vidprint/internal/decode"
	"github.com/vidprint/vidprint/internal/fsutil"
	"github.com/vidprint/vidprint/internal/picture"
	"github.com/vidprint/vidprint/internal/vprint"
)

// Files are the files a summary writes besides its keyframes (Keyframe.File).
var Files = []string{"contact.jpg", "index.json", "index.html"}

// Write makes the summary of video, whose print is p, in dir: one JPEG per
// keyframe named by its time, and Files: contact.jpg, index.json and a
// self-contained index.html. n > 0 asks for exactly n keyframes
// (scenes.ErrTooShort when the print is too short for them). check, when
// set, is called with every file's path before the first is written, and
// its error stops the summary. Files are written one by one, each
// atomically (an fsutil.ErrWrite when one cannot be); a keyframe that
// cannot be decoded is a decode.ErrDecode. Only thumbnails stay in memory,
// so a film of a thousand scenes is fine.
func Write(ctx context.Context, video string, p *vprint.Print, n int, dir string, check func(path string) error) ([]Keyframe, error) {
	frames, err := Pick(p, n)
	if err != nil {
		return nil, err
	}
	UniqueNames(frames)
	if check != nil {
		names := slices.Clone(Files)
		for _, k := range frames {
			names = append(names, k.File)
		}
		for _, name := range names {
			if err := check(filepath.Join(dir, name)); err != nil {
				return nil, err
			}
		}
	}
	write := func(name string, f func(io.Writer) error) error {
		return fsutil.WriteAtomic(filepath.Join(dir, name), f)
	}
	var thumbs [][]byte
	for i := range frames {
		b, err := decode.Grab(ctx, video, frames[i].TimeS)
		if err != nil {
			return nil, err
		}
		img, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("%s: frame at %.3f s: %w", video, frames[i].TimeS, err)
		}
		if err := write(frames[i].File, func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
			return nil, err
		}
		frames[i].Image = Thumbnail(img, 320)
		var tb bytes.Buffer
		if err := EncodeJPEG(&tb, frames[i].Image); err != nil {
			return nil, err
		}
		thumbs = append(thumbs, tb.Bytes())
	}
	sheet := ContactSheet(frames, 200, SheetColumns(len(frames)))
	if err := write("contact.jpg", func(w io.Writer) error { return EncodeJPEG(w, sheet) }); err != nil {
		return nil, err
	}
	o := picture.Defaults()
	m, err := picture.Build(p, o)
	if err != nil {
		return nil, err
	}
	for _, k := range frames {
		o.Ticks = append(o.Ticks, k.SceneStartS)
	}
	img, err := picture.Render(m, o)
	if err != nil {
		return nil, err
	}
	var pic bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&pic, img); err != nil {
		return nil, err
	}
	index := map[string]any{"video": filepath.Base(video), "model": p.Model.ID, "duration_s": p.Source.DurationS, "keyframes": frames}
	if err := write("index.json", func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(index)
	}); err != nil {
		return nil, err
	}
	page := Page{Video: filepath.Base(video), Model: p.Model.ID, DurationS: p.Source.DurationS,
		Picture: pic.Bytes(), Frames: frames, JPEGs: thumbs}
	if err := write("index.html", func(w io.Writer) error { return WriteHTML(w, page) }); err != nil {
		return nil, err
	}
	return frames, nil
}
