package main

import (
	"math"
	"math/rand/v2"
	"testing"
)

// noisyCopy flips each bit of the items with probability p.
func noisyCopy(rng *rand.Rand, fp fingerprint, p float64) fingerprint {
	out := make(fingerprint, len(fp))
	for i, x := range fp {
		for b := range 32 {
			if rng.Float64() < p {
				x ^= 1 << b
			}
		}
		out[i] = x
	}
	return out
}

func randomPrint(rng *rand.Rand, n int) fingerprint {
	fp := make(fingerprint, n)
	for i := range fp {
		fp[i] = rng.Uint32()
	}
	return fp
}

func TestSlideBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ref := randomPrint(rng, 500)

	// A clip cut at item 123 with 10% of its bits flipped.
	clip := noisyCopy(rng, ref[123:223], 0.10)
	score, off := slideBits(clip, ref)
	if off != 123 || math.Abs(score-0.9) > 0.02 {
		t.Errorf("cut at 123: offset %d, score %.3f; want 123, about 0.90", off, score)
	}
	if start := float64(off) * itemSeconds; math.Abs(start-15.23) > 0.01 {
		t.Errorf("item 123 is %.3f s, want 15.23", start)
	}

	// A clip longer than the reference: the reference sits inside it, so
	// the offset is negative.
	long := append(append(randomPrint(rng, 40), ref[:200]...), randomPrint(rng, 30)...)
	if score, off := slideBits(long, ref[:200]); off != -40 || score != 1 {
		t.Errorf("longer clip: offset %d, score %.3f; want -40, 1", off, score)
	}

	// Unrelated audio: about half the bits differ.
	if score, _ := slideBits(randomPrint(rng, 100), ref); score > 0.6 {
		t.Errorf("unrelated clip scores %.3f", score)
	}
	if score, _ := slideBits(nil, ref); !math.IsInf(score, -1) {
		t.Errorf("empty clip scores %v", score)
	}
}

// randomSeries has n random unit rows of dim d at 5 fps from t0.
func randomSeries(rng *rand.Rand, n, d int, t0 float64) series {
	s := series{}
	for i := range n {
		row := make([]float32, d)
		var norm float64
		for k := range row {
			row[k] = float32(rng.NormFloat64())
			norm += float64(row[k]) * float64(row[k])
		}
		for k := range row {
			row[k] /= float32(math.Sqrt(norm))
		}
		s.rows = append(s.rows, row)
		s.times = append(s.times, t0+float64(i)*0.2)
	}
	return s
}

func TestSlide(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	video := randomSeries(rng, 300, 64, 0)

	// Rows 40..89 of the video, with noise, timed from 0.
	clip := randomSeries(rng, 50, 64, 0)
	for i := range clip.rows {
		for k := range clip.rows[i] {
			clip.rows[i][k] = 0.8*video.rows[40+i][k] + 0.2*clip.rows[i][k]
		}
	}
	score, start, ok := slide(clip, video)
	if !ok || math.Abs(start-8) > 1e-9 || score < 0.7 {
		t.Errorf("clip at row 40: start %.2f, score %.3f; want 8.00, > 0.7", start, score)
	}

	// A clip longer than the video that holds all of it from its row 25:
	// the video starts 5 s into the clip.
	long := randomSeries(rng, 100, 64, 0)
	copy(long.rows[25:], video.rows[:60])
	short := series{rows: video.rows[:60], times: video.times[:60]}
	score, start, ok = slide(long, short)
	if !ok || math.Abs(start+5) > 1e-9 || math.Abs(score-1) > 1e-6 {
		t.Errorf("longer clip: start %.2f, score %.3f; want -5.00, 1", start, score)
	}

	if _, _, ok := slide(series{}, video); ok {
		t.Error("an empty clip should have no offset")
	}
}
