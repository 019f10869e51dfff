package decode

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Grab decodes the frame shown at time t at full resolution (rotation
// applied) from video, as JPEG bytes. A frame that cannot be had is an
// ErrDecode.
func Grab(ctx context.Context, video string, t float64) ([]byte, error) {
	// -ss before -i seeks to a keyframe and decodes forward to t exactly.
	cmd := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
		"-ss", strconv.FormatFloat(t, 'f', 3, 64), "-i", "file:"+video,
		"-map", "0:V:0", "-frames:v", "1", "-q:v", "2", "-f", "image2", "-c:v", "mjpeg", "pipe:1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, decodeError{fmt.Errorf("%s: grab frame at %.3f s: %v (%s)", video, t, err, LastLine(stderr.String(), "no error reported"))}
	}
	if stdout.Len() == 0 {
		return nil, decodeError{fmt.Errorf("%s: no frame at %.3f s", video, t)}
	}
	return stdout.Bytes(), nil
}

// CopySegment stream-copies [start, end) of video to out (end 0: to the
// end of the file) without re-encoding, through a temporary file in out's
// directory so that no half piece is left. ffmpeg takes the container
// from out's extension. A copy can only start on a keyframe: it starts at
// the last one at or before start.
func CopySegment(ctx context.Context, video, out string, start, end float64) error {
	return segment(ctx, video, out, start, end, []string{"-c", "copy"})
}

// EncodeSegment is CopySegment re-encoding, so that the piece starts and
// ends on the frames asked for: H.264 (CRF 18) and AAC in MP4, MOV and
// Matroska, the container's own encoders at high quality elsewhere.
func EncodeSegment(ctx context.Context, video, out string, start, end float64) error {
	codecs := []string{"-q:v", "2", "-q:a", "2"}
	switch strings.ToLower(filepath.Ext(out)) {
	case ".mp4", ".m4v", ".mov", ".mkv":
		codecs = []string{"-c:v", "libx264", "-crf", "18", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "192k"}
	}
	return segment(ctx, video, out, start, end, codecs)
}

func segment(ctx context.Context, video, out string, start, end float64, codecs []string) error {
	// A unique temporary name with the output's extension.
	tmp := filepath.Join(filepath.Dir(out), fmt.Sprintf(".tmp-%d-%s", os.Getpid(), filepath.Base(out)))
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "error", "-y",
		"-ss", strconv.FormatFloat(start, 'f', 3, 64)}
	if end > 0 {
		args = append(args, "-t", strconv.FormatFloat(end-start, 'f', 3, 64)) // read this long from the seek point
	}
	// Video and audio only: data tracks (timecode, telemetry) often cannot
	// be copied into the output container.
	args = append(args, "-i", "file:"+video, "-map", "0:V", "-map", "0:a?")
	args = append(args, codecs...)
	args = append(args, "-avoid_negative_ts", "make_zero", "file:"+tmp)
	c := exec.CommandContext(ctx, "ffmpeg", args...)
	var stderr bytes.Buffer
	c.Stderr = &stderr
	if err := c.Run(); err != nil {
		os.Remove(tmp)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &CopyError{Video: video, Out: out, Reason: LastLine(stderr.String(), err.Error())}
	}
	if err := os.Rename(tmp, out); err != nil {
		os.Remove(tmp)
		return &CopyError{Video: video, Out: out, Reason: err.Error()}
	}
	return nil
}

// CopyError is a stream copy that failed: its output could not be
// written.
type CopyError struct {
	Video, Out, Reason string
}

func (e *CopyError) Error() string {
	return fmt.Sprintf("split %s into %s: %s", e.Video, e.Out, e.Reason)
}

// decodeError keeps its own message and is an ErrDecode.
type decodeError struct{ err error }

func (e decodeError) Error() string        { return e.err.Error() }
func (e decodeError) Unwrap() error        { return e.err }
func (e decodeError) Is(target error) bool { return target == ErrDecode }
