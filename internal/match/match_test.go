package match

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/vidprint/vidprint/internal/model"
	"github.com/vidprint/vidprint/internal/vecmath"
	"github.com/vidprint/vidprint/internal/view"
)

const testDim, testFPS = 64, 5.0

func locate(t *testing.T, video []float32, views []View, clipN int, opts Options) Result {
	t.Helper()
	ref, err := NewReference(video, times(len(video)/testDim, testFPS), testDim, testFPS)
	if err != nil {
		t.Fatal(err)
	}
	q, err := ref.NewQuery(times(clipN, testFPS), views)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Locate(context.Background(), ref, q, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestLocateFindsTheOffset(t *testing.T) {
	for _, tc := range []struct {
		name          string
		videoN, clipN int
		from          int
		noise         float64
	}{
		{"exact copy mid-video", 3000, 75, 1234, 0},
		{"noisy copy", 3000, 75, 777, 0.15},
		{"at the very start", 1000, 50, 0, 0.05},
		{"at the very end", 1000, 50, 950, 0.05},
		{"short clip", 2000, 12, 401, 0.05},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(tc.from)))
			video := synthVideo(rng, tc.videoN, testDim)
			clip := noisyCopy(rng, video, testDim, tc.from, tc.clipN, tc.noise)
			res := locate(t, video, []View{{Name: "full", Features: clip}}, tc.clipN, DefaultOptions())
			if len(res.Matches) == 0 {
				t.Fatalf("not found; best %+v", res.Best)
			}
			m := res.Matches[0]
			want := float64(tc.from) / testFPS
			// Within one sample, the accuracy for unmodified clips.
			if !near(m.VideoStart, want, 0.2+1e-9) || m.ClipStart != 0 || !near(m.ClipEnd, float64(tc.clipN)/testFPS, 1e-9) {
				t.Errorf("match %+v, want video start %.1f and the whole clip", m, want)
			}
			if m.Speed != 1 {
				t.Errorf("speed %g, want 1", m.Speed)
			}
		})
	}
}

func TestLocateRejectsUnrelatedClips(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	video := synthVideo(rng, 3000, testDim)
	for i := range 20 {
		other := synthVideo(rng, 75, testDim)
		res := locate(t, video, []View{{Name: "full", Features: other}}, 75, DefaultOptions())
		if len(res.Matches) > 0 {
			t.Fatalf("clip %d: unrelated clip found: %+v", i, res.Matches[0])
		}
		if res.Best.Samples == 0 || res.Best.Score >= testCal.Threshold {
			t.Fatalf("clip %d: best %+v should exist and be below the threshold", i, res.Best)
		}
	}
}

func TestLocateSpeedChange(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	video := synthVideo(rng, 3000, testDim)
	for _, speed := range []float64{0.8, 1.25} {
		// The clip plays speed times faster: its sample i shows video
		// sample from + i*speed.
		const from, clipN = 1000, 75
		clip := make([]float32, 0, clipN*testDim)
		for i := range clipN {
			j := from + int(math.Round(float64(i)*speed))
			clip = append(clip, video[j*testDim:(j+1)*testDim]...)
		}
		res := locate(t, video, []View{{Name: "full", Features: clip}}, clipN, DefaultOptions())
		if len(res.Matches) == 0 {
			t.Fatalf("speed %g: not found", speed)
		}
		m := res.Matches[0]
		if !near(m.Speed, speed, 0.03) || !near(m.VideoStart, from/testFPS, 0.4) {
			t.Errorf("speed %g: match %+v", speed, m)
		}
	}
}

func TestLocatePartialClip(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	video := synthVideo(rng, 3000, testDim)
	// 40 samples from the video, then 35 of something else.
	clip := append(noisyCopy(rng, video, testDim, 2000, 40, 0.05), synthVideo(rng, 35, testDim)...)
	res := locate(t, video, []View{{Name: "full", Features: clip}}, 75, DefaultOptions())
	if len(res.Matches) == 0 {
		t.Fatalf("not found; best %+v", res.Best)
	}
	m := res.Matches[0]
	if m.ClipStart != 0 || !near(m.ClipEnd, 8, 0.6) || !near(m.VideoStart, 400, 0.2) || !near(m.VideoEnd, 408, 0.6) {
		t.Errorf("match %+v, want clip 0-8 s at video 400-408 s", m)
	}
}

// A clip that overlaps the video's last seconds only is a match from
// MinDuration of overlap on: shorter stretches at a video's edge were what
// unrelated footage matched most often.
func TestMinDurationAtTheEdge(t *testing.T) {
	for _, tc := range []struct {
		minDuration float64 // 0: the default
		overlap     int     // samples of the video's end that open the clip
		found       bool
	}{
		{0, 10, false}, // 2 s
		{0, 15, true},  // 3 s: not with a 4 s minimum, even at 0.8x
		{4, 15, false},
		{0, 20, true}, // 4 s
		{0, 40, true}, // 8 s
		{2, 10, true},
	} {
		rng := rand.New(rand.NewPCG(14, uint64(tc.overlap)))
		video := synthVideo(rng, 300, testDim)
		clip := append(noisyCopy(rng, video, testDim, 300-tc.overlap, tc.overlap, 0.05), synthVideo(rng, 50, testDim)...)
		opts := DefaultOptions()
		if tc.minDuration > 0 {
			opts.MinDuration = tc.minDuration
		}
		res := locate(t, video, []View{{Name: "full", Features: clip}}, tc.overlap+50, opts)
		overlap, start := float64(tc.overlap)/testFPS, float64(300-tc.overlap)/testFPS
		if got := len(res.Matches) > 0; got != tc.found {
			t.Errorf("min %g s, overlap %.1f s: found %v, want %v (best %+v)", opts.MinDuration, overlap, got, tc.found, res.Best)
			continue
		}
		if tc.found && !near(res.Matches[0].VideoStart, start, 0.2) {
			t.Errorf("min %g s, overlap %.1f s: match at %.1f s, want %.1f s", opts.MinDuration, overlap, res.Matches[0].VideoStart, start)
		}
	}
}

func TestLocateClipLongerThanVideo(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 11))
	video := synthVideo(rng, 60, testDim) // 12 s
	// A 30 s clip: 10 s of other footage, the whole video, 8 s more.
	clip := append(synthVideo(rng, 50, testDim), noisyCopy(rng, video, testDim, 0, 60, 0.05)...)
	clip = append(clip, synthVideo(rng, 40, testDim)...)
	res := locate(t, video, []View{{Name: "full", Features: clip}}, 150, DefaultOptions())
	if len(res.Matches) == 0 {
		t.Fatalf("not found; best %+v", res.Best)
	}
	m := res.Matches[0]
	if !near(m.ClipStart, 10, 0.6) || !near(m.ClipEnd, 22, 0.6) || !near(m.VideoStart, 0, 0.6) || !near(m.VideoEnd, 12, 0.6) {
		t.Errorf("match %+v, want clip 10-22 s = video 0-12 s", m)
	}
}

func TestLocateEveryOccurrence(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 13))
	video := synthVideo(rng, 3000, testDim)
	// The same 12 s appear again 300 s later (a rerun, a repeated ad).
	copy(video[1600*testDim:1660*testDim], video[100*testDim:160*testDim])
	clip := noisyCopy(rng, video, testDim, 100, 60, 0.05)
	res := locate(t, video, []View{{Name: "full", Features: clip}}, 60, DefaultOptions())
	if len(res.Matches) != 2 {
		t.Fatalf("%d matches, want 2: %+v", len(res.Matches), res.Matches)
	}
	starts := []float64{res.Matches[0].VideoStart, res.Matches[1].VideoStart}
	if !(near(starts[0], 20, 0.2) && near(starts[1], 320, 0.2)) && !(near(starts[0], 320, 0.2) && near(starts[1], 20, 0.2)) {
		t.Errorf("starts %v, want 20 and 320", starts)
	}
}

func TestLocateBestViewWins(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 15))
	video := synthVideo(rng, 2000, testDim)
	clip := noisyCopy(rng, video, testDim, 500, 75, 0.05)
	views := []View{{Name: "full", Features: synthVideo(rng, 75, testDim)}, {Name: "flip", Features: clip}}
	res := locate(t, video, views, 75, DefaultOptions())
	if len(res.Matches) != 1 || res.Matches[0].View != "flip" || !near(res.Matches[0].VideoStart, 100, 0.2) {
		t.Fatalf("matches %+v, want one through the flip view at 100 s", res.Matches)
	}
}

// TestEveryViewsBestIsScored: with room for one exact alignment, taken by
// the clearer view, the other view's best alignment is scored too with
// EveryView, and not without.
func TestEveryViewsBestIsScored(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 17))
	video := synthVideo(rng, 2000, testDim)
	views := []View{
		{Name: "full", Features: noisyCopy(rng, video, testDim, 1500, 75, 0.02)},
		{Name: "flip", Features: noisyCopy(rng, video, testDim, 500, 75, 0.3)},
	}
	for _, every := range []bool{false, true} {
		opts := DefaultOptions()
		opts.Candidates = 1
		opts.EveryView = every
		res := locate(t, video, views, 75, opts)
		found := map[view.Name]bool{}
		for _, m := range res.Matches {
			found[m.View] = found[m.View] || near(impliedStart(m), map[view.Name]float64{"full": 300, "flip": 100}[m.View], 0.2)
		}
		if !found["full"] || found["flip"] != every {
			t.Errorf("EveryView %v: matches %+v, want full at 300 s, and flip at 100 s only with EveryView", every, res.Matches)
		}
	}
}

func TestLocateOneFrameClip(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 17))
	video := synthVideo(rng, 2000, testDim)
	clip := noisyCopy(rng, video, testDim, 1500, 1, 0.02)
	res := locate(t, video, []View{{Name: "full", Features: clip}}, 1, DefaultOptions())
	if len(res.Matches) == 0 || !near(res.Matches[0].VideoStart, 300, 0.2) {
		t.Fatalf("matches %+v, want one at 300 s", res.Matches)
	}
}

// A one-frame clip scores its similarity shifted so that BriefSimilarity
// meets the threshold.
// A still image's match spans the video samples that look about as much
// alike: one sample in moving footage, the whole shot where the camera
// holds one picture.
func TestAlikeSpan(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 19))
	video := synthVideo(rng, 2000, testDim)
	// Samples 1000 to 1049 (200 to 210 s) hold one picture, with a little
	// noise.
	for i := 1001; i < 1050; i++ {
		for d := range testDim {
			video[i*testDim+d] = video[1000*testDim+d] + float32(0.002*rng.NormFloat64())
		}
	}
	for _, tc := range []struct {
		name       string
		sample     int
		start, end float64 // the span wanted, in seconds
	}{
		{"moving", 1500, 300, 300},
		{"still shot", 1020, 200, 209.8},
	} {
		clip := noisyCopy(rng, video, testDim, tc.sample, 1, 0.02)
		res := locate(t, video, []View{{Name: "full", Features: clip}}, 1, DefaultOptions())
		if len(res.Matches) == 0 {
			t.Fatalf("%s: not found; best %+v", tc.name, res.Best)
		}
		m := res.Matches[0]
		if !near(m.AlikeStart, tc.start, 0.5) || !near(m.AlikeEnd, tc.end, 0.5) || m.VideoStart < m.AlikeStart || m.VideoStart > m.AlikeEnd {
			t.Errorf("%s: match at %.1f s, alike %.1f to %.1f s; want %.1f to %.1f s around it", tc.name, m.VideoStart, m.AlikeStart, m.AlikeEnd, tc.start, tc.end)
		}
		// The shot's other frames are not listed again.
		for _, o := range res.Matches[1:] {
			if o.VideoStart >= m.AlikeStart && o.VideoStart <= m.AlikeEnd {
				t.Errorf("%s: another match at %.1f s, within the first's alike span", tc.name, o.VideoStart)
			}
		}
	}
	// A clip of many samples has no span.
	clip := noisyCopy(rng, video, testDim, 1500, 50, 0.02)
	res := locate(t, video, []View{{Name: "full", Features: clip}}, 50, DefaultOptions())
	if len(res.Matches) == 0 || res.Matches[0].AlikeStart != 0 || res.Matches[0].AlikeEnd != 0 {
		t.Errorf("a 10 s clip: matches %+v, want one without an alike span", res.Matches)
	}
}

func TestBriefSimilarity(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 18))
	video := synthVideo(rng, 2000, testDim)
	clip := noisyCopy(rng, video, testDim, 1500, 1, 0.02)
	res := locate(t, video, []View{{Name: "full", Features: clip}}, 1, Options{Threshold: -1})
	if len(res.Matches) == 0 {
		t.Fatal("nothing aligned")
	}
	sim := res.Matches[0].Similarity
	for _, tc := range []struct {
		bar  float64
		want bool
	}{{sim - 0.01, true}, {sim + 0.01, false}} {
		res := locate(t, video, []View{{Name: "full", Features: clip}}, 1, Options{Threshold: testCal.Threshold, BriefSimilarity: tc.bar})
		if got := len(res.Matches) > 0; got != tc.want {
			t.Errorf("similarity %.3f, bar %.3f: found %v, want %v", sim, tc.bar, got, tc.want)
		}
	}
}

func TestLocateCancelled(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	video := synthVideo(rng, 2000, testDim)
	ref, err := NewReference(video, times(2000, testFPS), testDim, testFPS)
	if err != nil {
		t.Fatal(err)
	}
	q, err := ref.NewQuery(times(50, testFPS), []View{{Name: "full", Features: video[:50*testDim]}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Locate(ctx, ref, q, DefaultOptions()); err == nil {
		t.Fatal("a cancelled search returned no error")
	}
}

func TestBadInput(t *testing.T) {
	if _, err := NewReference(nil, nil, 4, 5); err == nil {
		t.Error("empty reference accepted")
	}
	if _, err := NewReference(make([]float32, 7), times(2, 5), 4, 5); err == nil {
		t.Error("ragged reference accepted")
	}
	if _, err := NewReference(make([]float32, 8), times(2, 5), 4, 0); err == nil {
		t.Error("zero fps accepted")
	}
	ref, err := NewReference(make([]float32, 8), times(2, 5), 4, 5)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ref.NewQuery(times(1, 5), nil); err == nil {
		t.Error("query without views accepted")
	}
	if _, err := ref.NewQuery(times(1, 5), []View{{Name: "full", Features: make([]float32, 3)}}); err == nil {
		t.Error("query of another dimension accepted")
	}
}

func TestBestStretch(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name   string
		xs     []float64
		floor  float64
		minLen int
		a, b   int
	}{
		{"all above", []float64{0.9, 0.8, 0.9, 0.7}, 0.3, 2, 0, 3},
		{"leading match", []float64{0.9, 0.9, 0.9, 0.1, 0, 0.1}, 0.3, 2, 0, 2},
		{"trailing match", []float64{0, 0.1, 0.8, 0.9}, 0.3, 2, 2, 3},
		{"one dip bridged", []float64{0.9, 0.9, 0.2, 0.9, 0.9}, 0.3, 2, 0, 4},
		{"missing samples do not match", []float64{nan, nan, 0.9, 0.9, nan}, 0.3, 2, 2, 3},
		{"nothing matches: the least bad stretch of minLen", []float64{0, 0, 0.2, 0.1}, 0.3, 2, 2, 3},
		{"minLen longer than input", []float64{0.5}, 0.3, 5, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := bestStretch(tc.xs, tc.floor, tc.minLen)
			if a != tc.a || b != tc.b {
				t.Errorf("got [%d, %d], want [%d, %d]", a, b, tc.a, tc.b)
			}
		})
	}
}

func TestSketchKeepsCosines(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 3))
	const in = 1024
	sk := newSketcher(in)
	var errSum float64
	for range 200 {
		a, b := make([]float32, in), make([]float32, in)
		for i := range a {
			a[i] = float32(rng.NormFloat64())
			b[i] = 0.6*a[i] + 0.8*float32(rng.NormFloat64())
		}
		want := cosine(a, b)
		sa, sb := make([]float32, sk.Out), make([]float32, sk.Out)
		sketch(sk, sa, a)
		sketch(sk, sb, b)
		errSum += math.Abs(cosine(sa, sb) - want)
	}
	if mean := errSum / 200; mean > 0.1 {
		t.Errorf("mean cosine error %.3f after sketching to %d dimensions", mean, sk.Out)
	}
}

func cosine(a, b []float32) float64 {
	return float64(vecmath.Dot(a, b)) / math.Sqrt(float64(vecmath.Dot(a, a))*float64(vecmath.Dot(b, b)))
}

func TestWhy(t *testing.T) {
	ok := Match{Score: 0.5, Consistency: 0.8, Lead: 0.1}
	loose, trailing, low, brief := ok, ok, ok, Match{Score: 0.1, Similarity: 0.4, brief: true}
	loose.Consistency = 0.1
	trailing.Lead = -0.1
	low.Score = 0.2
	for _, tc := range []struct {
		name string
		m    Match
		want string
	}{
		{"accepted", ok, "a match"},
		{"inconsistent", loose, "frame by frame on only 10%"},
		{"trailing", trailing, "another take"},
		{"low", low, "frame-by-frame consistency 80%"},
		{"brief", brief, "judged by its similarity alone"},
	} {
		if got := Why(tc.m, testCal.Threshold); !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q, want it to say %q", tc.name, got, tc.want)
		}
	}
}

// testCal is the default model's calibration, which the synthetic tests'
// scores are measured against.
var testCal = model.DefaultCalibration()
