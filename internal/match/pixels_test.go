package match

import (
	"math"
	"strings"
	"testing"
)

// scene is a picture that changes with time: a textured room (the same in
// every take) and a bright blob, a person, whose path is the take's.
type scene struct {
	take    float64 // phase of the blob's path
	texture float64 // phase of the room's texture: another room
}

func (s scene) luma(x, y, t float64) float64 {
	room := 128 + 40*math.Sin(9*x+s.texture) + 30*math.Cos(7*y-2*s.texture) + 20*math.Sin(13*(x+y))
	bx, by := 0.5+0.25*math.Sin(0.7*t+s.take), 0.5+0.2*math.Cos(0.5*t+2*s.take)
	d2 := (x-bx)*(x-bx) + (y-by)*(y-by)
	return min(255, room+90*math.Exp(-d2/0.01))
}

// render averages the scene over a dw x dh grid on the rectangle at x, y
// of size w, h at time t, mirrored with flip.
func (s scene) render(t, x, y, w, h float64, dw, dh int, flip bool) []byte {
	const sub = 4
	out := make([]byte, dw*dh)
	for v := range dh {
		for u := range dw {
			var sum float64
			for j := range sub {
				for i := range sub {
					fx := x + w*(float64(u)+(float64(i)+0.5)/sub)/float64(dw)
					fy := y + h*(float64(v)+(float64(j)+0.5)/sub)/float64(dh)
					sum += s.luma(fx, fy, t)
				}
			}
			col := u
			if flip {
				col = dw - 1 - u
			}
			out[v*dw+col] = byte(sum/sub/sub + 0.5)
		}
	}
	return out
}

// TestPixelAgreement checks that a copy's pictures agree with the video's
// thumbnails, also cropped, mirrored or at another speed, and that another
// take of the same room and another room do not.
func TestPixelAgreement(t *testing.T) {
	const n, every, fps = 100, 5, 5.0
	const tw, th, pw, ph = 16, 12, 48, 36
	video := scene{}
	var thumbs []byte
	for j := 0; j < n; j += every {
		thumbs = append(thumbs, video.render(float64(j)/fps, 0, 0, 1, 1, tw, th, false)...)
	}
	ref, err := NewReference(make([]float32, n), times(n, fps), 1, fps)
	if err != nil {
		t.Fatal(err)
	}
	if err := ref.AddThumbs(thumbs, tw, th, every, 0); err != nil {
		t.Fatal(err)
	}
	const start, clipN = 20, 40
	clip := func(s scene, speed, x, y, size float64, flip bool) *queryView {
		v := &queryView{pw: pw, ph: ph}
		for i := range clipN {
			tt := (float64(start) + float64(i)*speed) / fps
			v.pixels = append(v.pixels, s.render(tt, x, y, size, size, pw, ph, flip)...)
		}
		return v
	}
	for _, tc := range []struct {
		name     string
		view     *queryView
		speed    float64
		a, b     int
		min, max float64 // bounds on the agreement; NaN: not checked
	}{
		{"a copy", clip(video, 1, 0, 0, 1, false), 1, 0, clipN - 1, PixelAgreement, 1},
		{"a copy cropped by 10%", clip(video, 1, 0.06, 0.03, 0.9, false), 1, 0, clipN - 1, PixelAgreement, 1},
		{"a mirrored copy", clip(video, 1, 0, 0, 1, true), 1, 0, clipN - 1, PixelAgreement, 1},
		{"a copy at 1.25x", clip(video, 1.25, 0, 0, 1, false), 1.25, 0, clipN - 1, PixelAgreement, 1},
		{"another take of the room", clip(scene{take: 2}, 1, 0, 0, 1, false), 1, 0, clipN - 1, 0, PixelAgreement - 0.02},
		{"another room", clip(scene{texture: 1.5}, 1, 0, 0, 1, false), 1, 0, clipN - 1, -1, 0.8},
		{"one sample with a thumbnail", clip(video, 1, 0, 0, 1, false), 1, 0, 4, math.NaN(), math.NaN()},
		{"no pictures", &queryView{}, 1, 0, clipN - 1, math.NaN(), math.NaN()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ref.pixelAgreement(tc.view, start, tc.speed, tc.a, tc.b)
			if math.IsNaN(tc.min) {
				if !math.IsNaN(got) {
					t.Fatalf("agreement %.3f, want none", got)
				}
				return
			}
			if !(got >= tc.min && got <= tc.max) {
				t.Fatalf("agreement %.3f, want %.3f..%.3f", got, tc.min, tc.max)
			}
		})
	}
}

// TestAcceptedPixels checks that the pixel check decides exactly the
// borderline alignments it was run on.
func TestAcceptedPixels(t *testing.T) {
	thr := testCal.Threshold
	copyLike := Match{Consistency: 1, Lead: 0.1}
	for _, tc := range []struct {
		name    string
		score   float64
		pixels  float64
		checked bool
		want    bool
	}{
		{"below the threshold, unchecked", thr - 0.05, 0, false, false},
		{"below the threshold, pixels agree", thr - 0.05, 0.99, true, true},
		{"below the threshold, pixels disagree", thr - 0.05, 0.95, true, false},
		{"below the borderline, pixels agree", thr - PixelBelow - 0.01, 0.99, true, false},
		{"above the threshold, unchecked", thr + 0.05, 0, false, true},
		{"above the threshold, pixels disagree", thr + 0.05, 0.95, true, false},
		{"above the borderline, pixels disagree", thr + PixelAbove + 0.01, 0.5, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := copyLike
			m.Score, m.Pixels, m.pixelChecked = tc.score, tc.pixels, tc.checked
			if got := Accepted(m, thr); got != tc.want {
				t.Fatalf("Accepted = %v, want %v", got, tc.want)
			}
			if why := Why(m, thr); tc.checked && !tc.want && tc.score < thr+PixelAbove && !strings.Contains(why, "pixels agree") {
				t.Errorf("Why = %q, want the pixels named", why)
			}
		})
	}
}

// TestAddThumbsRejects checks AddThumbs's argument checks.
func TestAddThumbsRejects(t *testing.T) {
	ref, err := NewReference(make([]float32, 10), times(10, 5), 1, 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name                  string
		pixels                int
		w, h, every, firstRow int
	}{
		{"no width", 12, 0, 12, 5, 0},
		{"no rows between", 16 * 12, 16, 12, 0, 0},
		{"a partial picture", 16*12 + 1, 16, 12, 5, 0},
		{"a negative first row", 16 * 12, 16, 12, 5, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := ref.AddThumbs(make([]byte, tc.pixels), tc.w, tc.h, tc.every, tc.firstRow); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// BenchmarkPixelAgreement is one pixel check of a 15 s clip: what a
// borderline alignment costs on top of its consistency.
func BenchmarkPixelAgreement(b *testing.B) {
	const n, every, fps, clipN = 200, 5, 5.0, 75
	video := scene{}
	var thumbs []byte
	for j := 0; j < n; j += every {
		thumbs = append(thumbs, video.render(float64(j)/fps, 0, 0, 1, 1, 16, 12, false)...)
	}
	ref, err := NewReference(make([]float32, n), times(n, fps), 1, fps)
	if err != nil {
		b.Fatal(err)
	}
	if err := ref.AddThumbs(thumbs, 16, 12, every, 0); err != nil {
		b.Fatal(err)
	}
	v := &queryView{pw: 48, ph: 36}
	for i := range clipN {
		v.pixels = append(v.pixels, video.render(float64(50+i)/fps, 0.05, 0.05, 0.9, 0.9, 48, 36, false)...)
	}
	b.ResetTimer()
	for range b.N {
		if got := ref.pixelAgreement(v, 50, 1, 0, clipN-1); got < PixelAgreement {
			b.Fatalf("agreement %.3f", got)
		}
	}
}
