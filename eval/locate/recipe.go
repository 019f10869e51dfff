package main

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
)

// fontFile is DejaVu Sans Bold from Debian's fonts-dejavu-core, for drawtext.
const fontFile = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

// seekSlack is subtracted from every seek: a clip starts on a frame, and
// ffmpeg's accurate seek keeps the first frame at or after the seek point,
// so a seek exactly on the frame could lose it to rounding.
const seekSlack = 0.001

// Encoders. CRF 18 is close to the source; veryfast keeps the 254 clips of
// the default set to a few minutes on 2 cores.
var (
	x264        = []string{"-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p"}
	x264Lowrate = []string{"-c:v", "libx264", "-preset", "veryfast", "-b:v", "150k", "-maxrate", "150k", "-bufsize", "300k", "-pix_fmt", "yuv420p"}
	aac         = []string{"-c:a", "aac", "-b:a", "128k"}
)

// recipe is how one clip is made: one ffmpeg run. Its hash, with the truth,
// decides whether a cached clip is still good.
type recipe struct {
	Inputs []input  `json:"inputs"`
	Graph  string   `json:"graph"` // -filter_complex; gives [v], and [a] when Audio
	Video  []string `json:"video"` // encoder flags
	Audio  bool     `json:"audio"`
	Dur    float64  `json:"dur_s"` // the clip's length: -t on the output
}

// input is a window of a file under data/: -ss Start -t Dur -i File.
type input struct {
	File  string  `json:"file"`
	Start float64 `json:"start_s"`
	Dur   float64 `json:"dur_s"`
}

// args is the ffmpeg command line that writes the clip to out.
func (r recipe) args(data, out string) []string {
	a := []string{"-hide_banner", "-nostdin", "-loglevel", "error", "-y"}
	for _, in := range r.Inputs {
		a = append(a, "-ss", seconds(max(in.Start-seekSlack, 0)), "-t", seconds(in.Dur), "-i", filepath.Join(data, in.File))
	}
	a = append(a, "-filter_complex", r.Graph, "-map", "[v]")
	a = append(a, r.Video...)
	if r.Audio {
		a = append(append(a, "-map", "[a]"), aac...)
	} else {
		a = append(a, "-an")
	}
	// -t on the output too: the fps filter holds the last frame for as long
	// as the source would have (0.4 s in tree.avi), past the window.
	return append(a, "-t", seconds(r.Dur), "-movflags", "+faststart", out)
}

func seconds(s float64) string { return strconv.FormatFloat(s, 'f', 6, 64) }

// buildRecipe draws the transformation's parameters and writes its filter
// graph. [0:v] is the clip's window of its source, [1:v] the host's window.
func buildRecipe(rng *rand.Rand, c clip, info map[string]media) (recipe, string, error) {
	src := info[c.SrcFile]
	w, h := src.Width, src.Height
	if w < 64 || h < 64 {
		return recipe{}, "", fmt.Errorf("%s: implausible size %dx%d", c.SrcFile, w, h)
	}
	r := recipe{Inputs: []input{{File: c.SrcFile, Start: c.SrcStart, Dur: c.SrcDur}}, Video: x264, Audio: c.Audio, Dur: c.Duration}
	var vf, detail string
	audio := "anull"
	switch c.Transform {
	case "none", "bugy":
		vf = "null"
	case "lowbitrate":
		vf, r.Video = "null", x264Lowrate
	case "scale50":
		vf = fmt.Sprintf("scale=%d:%d", even(w/2), even(h/2))
	case "crop10":
		cw, ch := even(w*9/10), even(h*9/10)
		x, y := rng.IntN(w-cw+1), rng.IntN(h-ch+1)
		vf = fmt.Sprintf("crop=%d:%d:%d:%d", cw, ch, x, y)
		detail = fmt.Sprintf("%dx%d at %d,%d", cw, ch, x, y)
	case "eq":
		// Brighter and harder, or darker and flatter.
		if rng.IntN(2) == 0 {
			vf, detail = "eq=brightness=0.12:contrast=1.3", "brighter"
		} else {
			vf, detail = "eq=brightness=-0.12:contrast=0.8", "darker"
		}
	case "gray":
		vf = "hue=s=0"
	case "fps":
		vf = "fps=12"
	case "speed0.8", "speed1.25":
		// setpts, not STARTPTS: the window starts at 0 already, and the
		// truth's mapping stays exact.
		s := strconv.FormatFloat(tempo(c.Transform), 'f', -1, 64)
		vf, audio = "setpts=PTS/"+s, "atempo="+s
	case "text":
		caption := captions[rng.IntN(len(captions))]
		vf = textFilter(caption, h)
		detail = caption
	case "logo":
		lw := even(w / 5)
		lh := even(lw * 2 / 5)
		m := even(w / 40)
		x, y := corner(rng, w, h, lw, lh, m)
		return finish(r, fmt.Sprintf("color=c=0xE8A317:s=%dx%d:r=25,drawtext=fontfile=%s:text='VP':fontsize=%d:fontcolor=white:x=(w-tw)/2:y=(h-th)/2,"+
			"format=rgba,colorchannelmixer=aa=0.6[logo];[0:v][logo]overlay=x=%d:y=%d[v]", lw, lh, fontFile, lh*7/10, x, y), audio), fmt.Sprintf("%dx%d at %d,%d", lw, lh, x, y), nil
	case "pip":
		host, err := hostMedia(c, info)
		if err != nil {
			return recipe{}, "", err
		}
		// The host, brought to 640 wide and 25 fps, is the screen; the
		// clip, 320 wide, sits anywhere on it.
		bh := even(640 * host.Height / host.Width)
		fh := even(320 * h / w)
		if fh > bh {
			return recipe{}, "", fmt.Errorf("the clip (320x%d) does not fit on %s (640x%d)", fh, c.Host, bh)
		}
		x, y := rng.IntN(640-320+1), rng.IntN(bh-fh+1)
		r.Inputs = append(r.Inputs, input{File: refFile(c.Host), Start: c.HostStart, Dur: c.Duration})
		// Both last frames are held until the output -t: footage with sparse frames (tree)
		// would otherwise end the clip early.
		return finish(r, fmt.Sprintf("[1:v]fps=25,scale=640:%d,setsar=1,tpad=stop_mode=clone:stop_duration=2[bg];[0:v]scale=320:%d,setsar=1[fg];[bg][fg]overlay=x=%d:y=%d:eof_action=repeat[v]",
			bh, fh, x, y), audio), fmt.Sprintf("320x%d at %d,%d on 640x%d", fh, x, y, bh), nil
	case "inset":
		host, err := hostMedia(c, info)
		if err != nil {
			return recipe{}, "", err
		}
		iw := even(w / 4)
		ih := even(iw * host.Height / host.Width)
		x, y := corner(rng, w, h, iw, ih, even(w/40))
		r.Inputs = append(r.Inputs, input{File: refFile(c.Host), Start: c.HostStart, Dur: c.Duration})
		return finish(r, fmt.Sprintf("[1:v]scale=%d:%d,setsar=1[ins];[0:v][ins]overlay=x=%d:y=%d[v]", iw, ih, x, y), audio),
			fmt.Sprintf("%dx%d at %d,%d", iw, ih, x, y), nil
	case "hflip":
		vf = "hflip"
	default:
		return recipe{}, "", fmt.Errorf("unknown transformation %q", c.Transform)
	}
	return finish(r, "[0:v]"+vf+"[v]", audio), detail, nil
}

// finish adds the audio chain: the clip keeps its source's sound, re-timed
// with the picture for the speed changes.
func finish(r recipe, graph, audio string) recipe {
	r.Graph = graph
	if r.Audio {
		r.Graph += ";[0:a]" + audio + "[a]"
	}
	return r
}

var captions = []string{"BREAKING NEWS", "Live from the studio", "Exclusive footage", "Watch till the end"}

// textFilter draws a caption in a box at the bottom and the running clip
// time at the top left, both sized to the picture.
func textFilter(caption string, h int) string {
	big, small := max(h/14, 12), max(h/20, 10)
	return fmt.Sprintf("drawtext=fontfile=%s:text='%s':fontsize=%d:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=%d:x=(w-tw)/2:y=h-th-%d,"+
		`drawtext=fontfile=%s:text='%%{pts\:hms}':fontsize=%d:fontcolor=yellow:x=%d:y=%d`,
		fontFile, caption, big, big/3, h/12, fontFile, small, small, small)
}

// corner places a w x h box in a random corner of a W x H picture, m pixels
// from the edges.
func corner(rng *rand.Rand, W, H, w, h, m int) (x, y int) {
	x, y = m, m
	if rng.IntN(2) == 1 {
		x = W - w - m
	}
	if rng.IntN(2) == 1 {
		y = H - h - m
	}
	return x, y
}

func hostMedia(c clip, info map[string]media) (media, error) {
	m, ok := info[refFile(c.Host)]
	if !ok || m.Width == 0 || m.Height == 0 {
		return media{}, fmt.Errorf("host %q not probed", c.Host)
	}
	return m, nil
}

func refFile(name string) string {
	r, _ := refByName(name)
	return r.File
}

// even rounds down to an even number: yuv420p needs even sizes.
func even(x int) int { return x / 2 * 2 }
