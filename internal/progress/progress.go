// Package progress draws a one-line progress report on a terminal: items
// done, rate and time left. It draws nothing when the output is not a
// terminal or when asked to be quiet, so pipes and logs stay clean.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Bar is safe for use from several goroutines.
type Bar struct {
	mu      sync.Mutex
	w       io.Writer
	enabled bool
	unit    string
	label   string
	start   time.Time
	last    time.Time
	width   int // length of the last line drawn, to clear it
	now     func() time.Time
}

// New returns a bar on f that draws only when f is a terminal and !quiet.
func New(f *os.File, quiet bool, unit string) *Bar {
	enabled := !quiet && term.IsTerminal(int(f.Fd()))
	return NewWriter(f, enabled, unit)
}

// NewWriter returns a bar on any writer; enabled decides whether it draws.
func NewWriter(w io.Writer, enabled bool, unit string) *Bar {
	return &Bar{w: w, enabled: enabled, unit: unit, now: time.Now}
}

// Enabled reports whether the bar draws anything.
func (b *Bar) Enabled() bool { return b != nil && b.enabled }

// Start begins a new item (for example one video) with its label.
func (b *Bar) Start(label string) {
	if !b.Enabled() {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.label = label
	b.start = b.now()
	b.last = time.Time{}
}

// SetLabel changes the label without restarting the clock, for a bar
// that counts over several items (for example files of a batch).
func (b *Bar) SetLabel(label string) {
	if !b.Enabled() {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.label = label
}

// Update reports done of total units (total 0 when unknown). It redraws
// at most ten times a second.
func (b *Bar) Update(done, total int) {
	if !b.Enabled() {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if now.Sub(b.last) < 100*time.Millisecond && done != total {
		return
	}
	b.last = now
	b.draw(Line(b.label, b.unit, done, total, now.Sub(b.start)))
}

// Line formats one progress line; exported for tests.
func Line(label, unit string, done, total int, elapsed time.Duration) string {
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(done) / s
	}
	var sb strings.Builder
	if label != "" {
		sb.WriteString(label)
		sb.WriteString("  ")
	}
	if total > 0 {
		if done > total {
			total = done
		}
		fmt.Fprintf(&sb, "%d/%d %s (%d%%)  %.1f %s/s", done, total, unit, done*100/total, rate, unit)
		if rate > 0 && done < total {
			eta := time.Duration(float64(total-done) / rate * float64(time.Second))
			fmt.Fprintf(&sb, "  ETA %s", formatDuration(eta))
		}
	} else {
		fmt.Fprintf(&sb, "%d %s  %.1f %s/s", done, unit, rate, unit)
	}
	return sb.String()
}

func formatDuration(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

func (b *Bar) draw(line string) {
	pad := ""
	if n := b.width - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	fmt.Fprintf(b.w, "\r%s%s", line, pad)
	b.width = len(line)
}

// Clear removes the line, leaving the cursor at the start of an empty line.
func (b *Bar) Clear() {
	if !b.Enabled() {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.width > 0 {
		fmt.Fprintf(b.w, "\r%s\r", strings.Repeat(" ", b.width))
		b.width = 0
	}
}
