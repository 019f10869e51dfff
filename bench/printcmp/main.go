// Command printcmp measures how far one print is from another of the same
// video: whether a faster decoding path keeps the print as good.
package main

import (
	"fmt"
	"math"
	"os"

	"github.com/vidprint/vidprint/internal/vprint"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: printcmp REFERENCE.vprint OTHER.vprint")
		os.Exit(2)
	}
	ref, err := vprint.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	other, err := vprint.ReadFile(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := vprint.Compatible(ref, other); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	n := min(ref.Frames(), other.Frames())
	mean := meanRow(ref)
	var sum, worst float64 = 0, 1
	nearestOK := 0
	for i := 0; i < n; i++ {
		c := centredCos(ref.Row(i), other.Row(i), mean)
		sum += c
		worst = math.Min(worst, c)
		// Is row i of other closest to row i (within one sample) of ref?
		best, bestJ := -2.0, -1
		for j := 0; j < ref.Frames(); j++ {
			if s := centredCos(ref.Row(j), other.Row(i), mean); s > best {
				best, bestJ = s, j
			}
		}
		if bestJ >= i-1 && bestJ <= i+1 {
			nearestOK++
		}
	}
	fmt.Printf("frames %d/%d  mean cos %.4f  min cos %.4f  nearest within 1 sample %.1f%%\n",
		other.Frames(), ref.Frames(), sum/float64(n), worst, 100*float64(nearestOK)/float64(n))
}

func meanRow(p *vprint.Print) []float64 {
	m := make([]float64, p.Dim)
	for i := 0; i < p.Frames(); i++ {
		for d, v := range p.Row(i) {
			m[d] += float64(v)
		}
	}
	for d := range m {
		m[d] /= float64(p.Frames())
	}
	return m
}

// centredCos is the cosine after subtracting the video's mean feature,
// which RESEARCH.md found separates frames better.
func centredCos(a, b []float32, mean []float64) float64 {
	var ab, aa, bb float64
	for d := range a {
		x, y := float64(a[d])-mean[d], float64(b[d])-mean[d]
		ab += x * y
		aa += x * x
		bb += y * y
	}
	if aa == 0 || bb == 0 {
		return 1
	}
	return ab / math.Sqrt(aa*bb)
}
