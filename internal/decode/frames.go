package decode

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
)

// Options say how to sample and size frames.
type Options struct {
	FPS    float64 // samples per second of video time
	Width  int     // model input width
	Height int     // model input height
	// Threads for ffmpeg's decoder; 0 lets ffmpeg choose.
	Threads int
	// Fast skips the decoder's deblocking filter and the frames no other
	// frame refers to (a sample then takes the nearest decoded frame):
	// faster, but a print no longer matches one decoded in full as well.
	// docs/embedding.md ("Decoding modes") gives what it costs.
	Fast bool
	// Partial accepts a video whose decoding stops early, keeping the frames
	// before the damage, instead of failing.
	Partial bool
	// AllowStill accepts a single image (a screenshot, say) as a one-sample
	// video, for queries; prints of stills are refused.
	AllowStill bool
	// Start and End, in seconds of video time, decode only that stretch
	// (End 0: to the end). Samples keep the video's own times.
	Start, End float64
}

// FrameBytes is the size of one RGB frame.
func (o Options) FrameBytes() int { return o.Width * o.Height * 3 }

func (o Options) validate() error {
	if !(o.FPS > 0 && o.FPS <= 120) {
		return fmt.Errorf("fps must be in (0, 120], got %g", o.FPS)
	}
	if !(o.Start >= 0) || !(o.End >= 0) || o.End > 0 && o.End <= o.Start || math.IsInf(o.Start, 0) || math.IsInf(o.End, 0) {
		return fmt.Errorf("the stretch from %g s to %g s is empty or not a time", o.Start, o.End)
	}
	if o.Width < 8 || o.Height < 8 || o.Width > 4096 || o.Height > 4096 {
		return fmt.Errorf("bad frame size %dx%d", o.Width, o.Height)
	}
	return nil
}

// Reader yields sampled frames from a running ffmpeg.
type Reader struct {
	ctx       context.Context
	path      string
	probed    chan probeResult
	probeOnce sync.Once
	probeErr  error
	info      Info
	opts      Options
	cmd       *exec.Cmd
	stdout    io.ReadCloser
	times     chan float64
	log       *ffmpegLog
	logWG     sync.WaitGroup
	frames    int
	lastTS    float64
	closed    bool
}

// Args builds the ffmpeg command line; exposed for tests and benchmarks.
func Args(path string, opts Options) []string {
	args := []string{"-hide_banner", "-nostdin", "-nostats", "-loglevel", "level+info"}
	if opts.Threads > 0 {
		args = append(args, "-threads", strconv.Itoa(opts.Threads))
	}
	if opts.Fast {
		args = append(args, "-skip_loop_filter", "all", "-skip_frame", "noref")
	}
	// Frames come out planar (gbrp, the layout model.Planes reads): the
	// scaler writes it faster than packed RGB. fps picks, for each point of the 1/FPS grid, the frame shown there;
	// eof_action=pass keeps a video shorter than one interval from giving
	// no frame at all. scale resizes the whole frame (no crop), after
	// ffmpeg's automatic rotation. showinfo reports each sample's time.
	filter := fmt.Sprintf("fps=%s:eof_action=pass,scale=%d:%d:flags=bilinear,format=gbrp,showinfo",
		strconv.FormatFloat(opts.FPS, 'f', -1, 64), opts.Width, opts.Height)
	if opts.Start > 0 {
		// Seek on the input, keeping the video's own times (from zero, as
		// without a seek, whatever time the file starts at).
		args = append(args, "-ss", strconv.FormatFloat(opts.Start, 'f', -1, 64), "-copyts", "-start_at_zero")
	}
	if opts.End > 0 {
		// Samples before End: the sampler gives a frame the grid point
		// nearest its time.
		end := opts.End - 0.5/opts.FPS
		filter = fmt.Sprintf("trim=end=%s,", strconv.FormatFloat(end, 'f', -1, 64)) + filter
	}
	args = append(args, "-i", ffmpegInput(path),
		"-map", "0:V:0", "-an", "-sn", "-dn",
		"-vf", filter, "-f", "rawvideo", "-pix_fmt", "gbrp", "pipe:1")
	return args
}

// probeResult is what ffprobe said, delivered once.
type probeResult struct {
	info Info
	err  error
}

// Open starts decoding path. ffprobe runs beside ffmpeg rather than before
// it, so its start-up costs no wall time. The last Next waits for it: a
// file that is not a video gets ffprobe's precise error, and a still image
// is refused.
func Open(ctx context.Context, path string, opts Options) (*Reader, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if err := CheckFile(path); err != nil {
		return nil, err
	}
	probed := make(chan probeResult, 1)
	go func() {
		info, err := Probe(ctx, path)
		probed <- probeResult{info, err}
	}()
	cmd := exec.CommandContext(ctx, "ffmpeg", Args(path, opts)...)
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start ffmpeg: %w", err)
	}
	// Room for several whole frames: ffmpeg then writes a frame without
	// waiting for us, and each side wakes up once per frame, not per 64 KiB.
	growPipe(pw, 4*opts.FrameBytes())
	cmd.Stdout = pw
	var stdout io.ReadCloser = pr
	stderr, err := cmd.StderrPipe()
	if err != nil {
		pr.Close()
		pw.Close()
		return nil, fmt.Errorf("start ffmpeg: %w", err)
	}
	err = cmd.Start()
	pw.Close() // the child holds its own copy
	if err != nil {
		pr.Close()
		if errors.Is(err, exec.ErrNotFound) {
			return nil, fmt.Errorf("%w: ffmpeg not found on PATH (run make deps)", ErrMissingTool)
		}
		return nil, fmt.Errorf("start ffmpeg: %w", err)
	}
	r := &Reader{ctx: ctx, path: path, probed: probed, opts: opts, cmd: cmd, stdout: stdout,
		times: make(chan float64, 1024), log: &ffmpegLog{}}
	r.logWG.Add(1)
	go func() {
		defer r.logWG.Done()
		defer close(r.times)
		r.log.scan(stderr, r.times)
	}()
	return r, nil
}

// Info is what ffprobe said about the video. It waits for ffprobe, and
// may be called from any goroutine.
func (r *Reader) Info() (Info, error) {
	r.probeOnce.Do(func() {
		res := <-r.probed
		r.info, r.probeErr = res.info, res.err
		if r.probeErr == nil && r.info.Still && !r.opts.AllowStill {
			r.probeErr = fmt.Errorf("%s: %w", r.path, ErrStillImage)
		}
	})
	return r.info, r.probeErr
}

// Next fills buf (FrameBytes long) with the next sample and returns its
// time in seconds. It returns io.EOF after the last sample, once ffmpeg has
// exited cleanly and the samples cover the video.
func (r *Reader) Next(buf []byte) (float64, error) {
	if len(buf) != r.opts.FrameBytes() {
		return 0, fmt.Errorf("frame buffer is %d bytes, want %d", len(buf), r.opts.FrameBytes())
	}
	for {
		ts, err := r.next(buf)
		// After a seek, the sampler may start its grid a sample early.
		if err != nil || ts >= r.opts.Start-1e-6 {
			return ts, err
		}
	}
}

func (r *Reader) next(buf []byte) (float64, error) {
	_, err := io.ReadFull(r.stdout, buf)
	if err == io.EOF {
		return 0, r.finish()
	}
	if err != nil {
		r.finish()
		return 0, fmt.Errorf("%s: %w: %v", r.path, ErrDecode, err)
	}
	ts, ok := <-r.times
	if !ok {
		r.finish()
		return 0, fmt.Errorf("%s: %w: ffmpeg gave a frame without its timestamp", r.path, ErrDecode)
	}
	if r.frames > 0 && ts < r.lastTS {
		ts = r.lastTS // showinfo can repeat a time at EOF; keep rows ordered
	}
	r.frames++
	r.lastTS = ts
	return ts, nil
}

// finish waits for ffmpeg and turns how it ended into io.EOF or an error.
func (r *Reader) finish() error {
	if r.closed {
		return io.EOF
	}
	r.closed = true
	io.Copy(io.Discard, r.stdout)
	r.stdout.Close()
	r.logWG.Wait()
	waitErr := r.cmd.Wait()
	if ctxErr := r.ctxErr(); ctxErr != nil {
		return ctxErr
	}
	if _, err := r.Info(); err != nil {
		return err
	}
	if r.frames == 0 {
		return fmt.Errorf("%s: %w: no frame could be decoded (%s)", r.path, ErrDecode, r.log.lastError("no error reported"))
	}
	if r.opts.Partial {
		return io.EOF // whatever decoded, even if ffmpeg gave up
	}
	if waitErr != nil {
		return fmt.Errorf("%s: %w: %s", r.path, ErrDecode, r.log.lastError("ffmpeg "+waitErr.Error()))
	}
	// The video stream's own duration when the container gives one; the
	// file's only when there is no other stream that could be longer.
	duration := r.info.VideoDurationS
	if duration == 0 && !r.info.HasAudio {
		duration = r.info.DurationS
	}
	if declared := r.info.declaredS(); declared > duration {
		duration = declared
	}
	if r.opts.End > 0 && r.opts.End < duration {
		duration = r.opts.End // asked to stop there
	}
	covered := r.lastTS + 1/r.opts.FPS
	if short := duration - covered; duration > 0 && short > math.Max(1, 0.1*duration) {
		return fmt.Errorf("%s: %w: decoding stopped at %.1f s of %.1f s (%s); --partial keeps what decoded",
			r.path, ErrTruncated, covered, duration, r.log.lastError("no error reported"))
	}
	if errs := r.log.videoErrors(r.info.Codec); len(errs) > 0 {
		return fmt.Errorf("%s: %w: damaged after %.1f s (%s; %d errors); --partial keeps what decoded",
			r.path, ErrDecode, errs[0].at, errs[0].msg, len(errs))
	}
	return io.EOF
}

func (r *Reader) ctxErr() error { return r.ctx.Err() }

// Close stops ffmpeg if it is still running and releases the pipes.
func (r *Reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if r.cmd.Process != nil {
		r.cmd.Process.Kill()
	}
	io.Copy(io.Discard, r.stdout)
	r.stdout.Close()
	r.logWG.Wait()
	r.cmd.Wait()
	return nil
}

// Frames is how many samples Next has returned.
func (r *Reader) Frames() int { return r.frames }

// ExpectedFrames estimates how many samples the video gives, for progress.
func ExpectedFrames(info Info, fps float64) int {
	if info.DurationS <= 0 {
		return 0
	}
	return int(math.Max(1, math.Ceil(info.DurationS*fps-1e-6)))
}

// ffmpegLog collects what ffmpeg says on stderr: sample times from
// showinfo, and error lines for messages.
type ffmpegLog struct {
	mu      sync.Mutex
	samples int
	lastTS  float64
	lastErr string
	// Errors after the first sample: streams cut mid-GOP often report a
	// few harmless errors before their first decodable frame.
	mid []logError
}

// logError is one error line: the component that said it ("h264",
// "mpegts", "" for ffmpeg itself), the message, and the last sample time.
type logError struct {
	from, msg string
	at        float64
}

func (l *ffmpegLog) scan(r io.Reader, times chan<- float64) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if ts, ok := ParseShowinfo(line); ok {
			l.mu.Lock()
			l.samples++
			l.lastTS = ts
			l.mu.Unlock()
			times <- ts
			continue
		}
		if strings.Contains(line, "[error]") || strings.Contains(line, "[fatal]") {
			l.mu.Lock()
			l.lastErr = cleanLogLine(line)
			if l.samples > 0 && len(l.mid) < 1000 {
				l.mid = append(l.mid, logError{logSource(line), l.lastErr, l.lastTS})
			}
			l.mu.Unlock()
		}
	}
	io.Copy(io.Discard, r)
}

// videoErrors are the errors after the first sample that concern the video:
// said by its decoder, or by ffmpeg about decoding. A glitch in an audio
// track we do not decode does not count.
func (l *ffmpegLog) videoErrors(codec string) []logError {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []logError
	for _, e := range l.mid {
		if (codec != "" && e.from == codec) || (e.from == "" && strings.Contains(e.msg, "decoding stream #0:")) {
			out = append(out, e)
		}
	}
	return out
}

// logSource is the component name of an ffmpeg log line,
// "[h264 @ 0x55...] [error] ..." gives "h264"; lines without one give "".
func logSource(line string) string {
	if !strings.HasPrefix(line, "[") {
		return ""
	}
	name, _, ok := strings.Cut(line[1:], " @ ")
	if !ok || strings.ContainsAny(name, "] ") {
		return ""
	}
	return name
}

func (l *ffmpegLog) lastError(def string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lastErr == "" {
		return def
	}
	return l.lastErr
}

// cleanLogLine drops ffmpeg's "[ctx @ 0x...] [error] " prefixes.
func cleanLogLine(line string) string {
	for {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "[") {
			break
		}
		end := strings.IndexByte(line, ']')
		if end < 0 {
			break
		}
		line = line[end+1:]
	}
	if len(line) > 200 {
		line = line[:200]
	}
	return line
}

// ParseShowinfo extracts pts_time from one showinfo frame line.
func ParseShowinfo(line string) (float64, bool) {
	if !strings.HasPrefix(line, "[Parsed_showinfo") || !strings.Contains(line, " n:") {
		return 0, false
	}
	_, rest, ok := strings.Cut(line, "pts_time:")
	if !ok {
		return 0, false
	}
	field, _, _ := strings.Cut(strings.TrimLeft(rest, " "), " ")
	ts, err := strconv.ParseFloat(field, 64)
	if err != nil || math.IsNaN(ts) || math.IsInf(ts, 0) {
		return 0, false
	}
	return ts, true
}
