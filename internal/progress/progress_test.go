package progress

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

func TestLine(t *testing.T) {
	tests := []struct {
		name              string
		done, total       int
		elapsed           time.Duration
		want, mustNotHave string
	}{
		{"known total", 50, 100, 10 * time.Second, "50/100 frames (50%)  5.0 frames/s  ETA 0:10", ""},
		{"finished has no ETA", 100, 100, 10 * time.Second, "100/100 frames (100%)", "ETA"},
		{"unknown total", 30, 0, 3 * time.Second, "30 frames  10.0 frames/s", "ETA"},
		{"hours", 1, 10000, time.Second, "ETA 2:46:39", ""},
		{"no time yet", 0, 10, 0, "0/10 frames (0%)  0.0 frames/s", "ETA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Line("v.mp4", "frames", tt.done, tt.total, tt.elapsed)
			if !strings.Contains(got, tt.want) {
				t.Errorf("Line = %q, want it to contain %q", got, tt.want)
			}
			if tt.mustNotHave != "" && strings.Contains(got, tt.mustNotHave) {
				t.Errorf("Line = %q, must not contain %q", got, tt.mustNotHave)
			}
			if !strings.HasPrefix(got, "v.mp4  ") {
				t.Errorf("Line = %q, want the label first", got)
			}
		})
	}
}

func TestDisabledBarWritesNothing(t *testing.T) {
	var buf bytes.Buffer
	b := NewWriter(&buf, false, "frames")
	b.Start("x")
	b.Update(1, 2)
	b.Clear()
	if buf.Len() != 0 {
		t.Fatalf("disabled bar wrote %q", buf.String())
	}
}

func TestEnabledBarThrottlesAndClears(t *testing.T) {
	var buf bytes.Buffer
	b := NewWriter(&buf, true, "frames")
	clock := time.Unix(0, 0)
	b.now = func() time.Time { return clock }
	b.Start("x")
	clock = clock.Add(time.Second)
	b.Update(1, 10)
	b.Update(2, 10) // same instant: throttled
	if n := strings.Count(buf.String(), "\r"); n != 1 {
		t.Fatalf("want 1 redraw, got %d: %q", n, buf.String())
	}
	b.Update(10, 10) // the final count always draws
	if !strings.Contains(buf.String(), "10/10") {
		t.Fatalf("final update not drawn: %q", buf.String())
	}
	b.Clear()
	if !strings.HasSuffix(buf.String(), "\r") {
		t.Fatalf("Clear did not return the cursor: %q", buf.String())
	}
}

func TestNewIsQuietOffTerminal(t *testing.T) {
	f := tempFile(t)
	if New(f, false, "frames").Enabled() {
		t.Fatal("a bar on a regular file must not draw")
	}
}

func tempFile(t *testing.T) *os.File {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
