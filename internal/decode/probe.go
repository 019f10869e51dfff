// Package decode turns a video file into model-sized RGB frames sampled at
// fixed presentation times, by running Debian's ffmpeg and ffprobe as child
// processes. Pipes keep decoding out of our address space (a crashing codec
// cannot take vidprint down), let ffmpeg use its own threads, and avoid
// binding to one libav* ABI.
package decode

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// Errors a caller can tell apart. Each is wrapped with the file name and the
// detail that explains it.
var (
	ErrNotFound    = errors.New("no such file")
	ErrDirectory   = errors.New("is a directory")
	ErrEmpty       = errors.New("empty file")
	ErrNotVideo    = errors.New("not a video")
	ErrNoVideo     = errors.New("no video stream")
	ErrStillImage  = errors.New("is a still image, not a video")
	ErrDecode      = errors.New("decoding failed")
	ErrTruncated   = errors.New("video is truncated")
	ErrUnreadable  = errors.New("cannot read file")
	ErrMissingTool = errors.New("ffmpeg is not installed")
)

// Info describes a video's first video stream as ffprobe sees it.
type Info struct {
	Format    string  // container, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
	Codec     string  // e.g. "h264"
	Width     int     // display width, after rotation
	Height    int     // display height, after rotation
	Rotation  int     // degrees, as stored in the file
	DurationS float64 // best known duration; 0 when unknown
	// VideoDurationS is the video stream's own duration, 0 when the
	// container gives only the file's (which a longer audio track sets).
	VideoDurationS float64
	FrameRate      float64 // average frame rate; 0 when unknown
	Frames         int64   // frame count from the container; 0 when unknown
	HasAudio       bool
	Still          bool // a single image (JPEG, PNG, ...) rather than a video
}

// probeJSON is the subset of `ffprobe -print_format json` we read.
type probeJSON struct {
	Streams []struct {
		CodecType    string            `json:"codec_type"`
		CodecName    string            `json:"codec_name"`
		Width        int               `json:"width"`
		Height       int               `json:"height"`
		AvgFrameRate string            `json:"avg_frame_rate"`
		RFrameRate   string            `json:"r_frame_rate"`
		Duration     string            `json:"duration"`
		NbFrames     string            `json:"nb_frames"`
		Tags         map[string]string `json:"tags"`
		Disposition  map[string]int    `json:"disposition"`
		SideData     []struct {
			Rotation *float64 `json:"rotation"`
		} `json:"side_data_list"`
	} `json:"streams"`
	Format struct {
		FormatName string `json:"format_name"`
		Duration   string `json:"duration"`
	} `json:"format"`
}

// ParseProbe reads ffprobe's JSON output. It never panics on odd input.
func ParseProbe(data []byte) (Info, error) {
	var pj probeJSON
	if err := json.Unmarshal(data, &pj); err != nil {
		return Info{}, fmt.Errorf("parse ffprobe output: %w", err)
	}
	var info Info
	info.Format = pj.Format.FormatName
	video := -1
	for i, s := range pj.Streams {
		switch s.CodecType {
		case "video":
			// Cover art in audio files is a "video" stream with attached_pic set.
			if video < 0 && s.Disposition["attached_pic"] == 0 {
				video = i
			}
		case "audio":
			info.HasAudio = true
		}
	}
	if video < 0 {
		return info, ErrNoVideo
	}
	s := pj.Streams[video]
	info.Codec = s.CodecName
	info.Width, info.Height = s.Width, s.Height
	if info.Width <= 0 || info.Height <= 0 || info.Width > 1<<16 || info.Height > 1<<16 {
		return info, fmt.Errorf("%w: bad frame size %dx%d", ErrNotVideo, s.Width, s.Height)
	}
	rot := 0.0
	for _, sd := range s.SideData {
		if sd.Rotation != nil {
			rot = *sd.Rotation
		}
	}
	if rot == 0 {
		if r, err := strconv.ParseFloat(s.Tags["rotate"], 64); err == nil {
			rot = r
		}
	}
	if !math.IsNaN(rot) && !math.IsInf(rot, 0) && math.Abs(rot) < 1e6 {
		info.Rotation = ((int(math.Round(rot)) % 360) + 360) % 360
	}
	if info.Rotation == 90 || info.Rotation == 270 {
		info.Width, info.Height = info.Height, info.Width
	}
	info.FrameRate = parseRate(s.AvgFrameRate)
	if info.FrameRate == 0 {
		info.FrameRate = parseRate(s.RFrameRate)
	}
	info.VideoDurationS = parseSeconds(s.Duration)
	info.DurationS = info.VideoDurationS
	if info.DurationS == 0 {
		info.DurationS = parseSeconds(pj.Format.Duration)
	}
	if n, err := strconv.ParseInt(s.NbFrames, 10, 64); err == nil && n > 0 {
		info.Frames = n
	}
	info.Still = isStill(info.Format)
	return info, nil
}

// isStill tells single images from videos: what the image demuxers
// (image2, *_pipe) read.
func isStill(format string) bool {
	if format == "image2" || strings.HasSuffix(format, "_pipe") {
		return true
	}
	// GIF and WebP may be animated: they decode as video, and a single
	// frame gives a one-row print.
	return false
}

func parseRate(s string) float64 {
	num, den, ok := strings.Cut(s, "/")
	if !ok {
		return parseSeconds(s)
	}
	n, err1 := strconv.ParseFloat(num, 64)
	d, err2 := strconv.ParseFloat(den, 64)
	if err1 != nil || err2 != nil || d == 0 {
		return 0
	}
	r := n / d
	if math.IsNaN(r) || math.IsInf(r, 0) || r < 0 || r > 1e6 {
		return 0
	}
	return r
}

func parseSeconds(s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > 1e9 {
		return 0
	}
	return v
}

// CheckFile gives the cheap, precise errors (missing, directory, empty,
// unreadable) before any child process runs.
func CheckFile(path string) error {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%s: %w", path, ErrNotFound)
	case err != nil:
		return fmt.Errorf("%s: %w: %v", path, ErrUnreadable, err)
	case st.IsDir():
		return fmt.Errorf("%s: %w", path, ErrDirectory)
	case st.Size() == 0:
		return fmt.Errorf("%s: %w", path, ErrEmpty)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w: %v", path, ErrUnreadable, err)
	}
	return f.Close()
}

// ffmpegInput names a file so that ffmpeg never reads it as an option or a
// protocol ("-x.mp4", "a:b.mp4").
func ffmpegInput(path string) string { return "file:" + path }

// Probe checks the file and asks ffprobe what it holds.
func Probe(ctx context.Context, path string) (Info, error) {
	if err := CheckFile(path); err != nil {
		return Info{}, err
	}
	if _, err := exec.LookPath("ffprobe"); err != nil {
		return Info{}, fmt.Errorf("%w: ffprobe not found on PATH (run make deps)", ErrMissingTool)
	}
	cmd := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-print_format", "json",
		"-show_format", "-show_streams", ffmpegInput(path))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return Info{}, ctx.Err()
		}
		said := stderr.String()
		if strings.Contains(said, "moov atom not found") {
			// An MP4 or MOV whose index, written last, never was: a
			// recording or a download that stopped early.
			return Info{}, fmt.Errorf("%s: %w or damaged: its index (moov atom) is missing, as when a recording or a copy stops early", path, ErrTruncated)
		}
		return Info{}, fmt.Errorf("%s: %w (%s)", path, ErrNotVideo, LastLine(said, "ffprobe failed"))
	}
	info, err := ParseProbe(stdout.Bytes())
	if err != nil {
		return info, fmt.Errorf("%s: %w", path, err)
	}
	return info, nil
}

// LastLine returns the last non-empty line of s (what a failing ffmpeg
// says last, cut to 200 bytes), or def when there is none.
func LastLine(s, def string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			if len(l) > 200 {
				l = l[:200]
			}
			return l
		}
	}
	return def
}

// declaredS is the video's length that an AVI's header declares: its frame
// count at its frame rate. The header is written for the whole file, while
// ffprobe's duration is what the data holds, so a file cut short (a copy
// or download that stopped) declares more than it has. 0 elsewhere: other
// containers count frames from what they hold, or not at all.
func (i Info) declaredS() float64 {
	if i.Format != "avi" || i.Frames <= 0 || i.FrameRate <= 0 {
		return 0
	}
	return float64(i.Frames) / i.FrameRate
}

// Version is what ffmpeg says of its own version ("5.1.9-0+deb12u1").
func Version(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-version").Output()
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrMissingTool, err)
	}
	// "ffmpeg version 5.1.9-0+deb12u1 Copyright ..."
	fields := strings.Fields(string(out))
	if len(fields) < 3 || fields[0] != "ffmpeg" || fields[1] != "version" {
		return "", fmt.Errorf("ffmpeg -version said %q", LastLine(string(out), ""))
	}
	return fields[2], nil
}
