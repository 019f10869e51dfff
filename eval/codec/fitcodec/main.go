// Command fitcodec fits print codecs (eval/codec) from prints and writes
// them as JSON for eval/locate's -inproc-codec.
//
//	go run ./eval/codec/fitcodec -kind pca -k 64,128 -quant row8,dim8 -o out/codecs \
//	    [-heldout a.vprint,b.vprint] TRAIN.vprint...
//
// writes out/codecs/pca-k64-row8.json and so on, and prints how much of the
// variance (rows centred per video) k components keep on the training
// prints and on the held-out ones.
package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vidprint/vidprint/eval/codec"
	"github.com/vidprint/vidprint/internal/vprint"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "fitcodec:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		kind         = flag.String("kind", "pca", "pca, random (orthogonal, no training) or identity (k = the model's dimensions)")
		ks           = flag.String("k", "64,128,192,256", "comma-separated dimensions kept")
		quants       = flag.String("quant", "row8", "comma-separated quantizers: none, row8, dim8, dim4")
		width        = flag.Float64("width", 4, "dim8/dim4 range: mean ± width standard deviations of the training rows")
		whiten       = flag.Bool("whiten", false, "pca: scale each component to unit variance")
		qquery       = flag.Bool("query-quant", false, "quantize the clip's rows too, not only project them")
		seed         = flag.Uint64("seed", 1, "random: the seed")
		heldout      = flag.String("heldout", "", "comma-separated prints to report the variance kept on")
		outDir       = flag.String("o", "out/codecs", "output directory")
		tag          = flag.String("tag", "", "added to the file names (e.g. the training set)")
		varianceOnly = flag.Bool("variance-only", false, "only report the variance kept")
	)
	flag.Parse()
	train, dim, err := read(flag.Args())
	if err != nil {
		return err
	}
	var held []codec.Series
	if *heldout != "" {
		if held, _, err = read(strings.Split(*heldout, ",")); err != nil {
			return err
		}
	}
	kl, err := ints(*ks)
	if err != nil {
		return err
	}
	rows := 0
	for _, s := range train {
		rows += len(s.Rows) / s.Dim
	}
	fmt.Printf("training: %d prints, %d rows of %d\n", len(train), rows, dim)
	var pca []float32
	var eigen []float64
	if *kind == "pca" {
		maxK := 0
		for _, k := range kl {
			maxK = max(maxK, k)
		}
		if pca, eigen, err = codec.FitPCA(train, maxK); err != nil {
			return err
		}
		var total float64
		for _, e := range eigen {
			total += e
		}
		fmt.Printf("| k | variance kept (training, from eigenvalues) | training | held-out |\n|---|---|---|---|\n")
		for _, k := range kl {
			var s float64
			for _, e := range eigen[:k] {
				s += e
			}
			h := "–"
			if held != nil {
				h = fmt.Sprintf("%.1f%%", 100*codec.VarianceKept(held, pca[:k*dim], k))
			}
			fmt.Printf("| %d | %.1f%% | %.1f%% | %s |\n", k, 100*s/total, 100*codec.VarianceKept(train, pca[:k*dim], k), h)
		}
	}
	if *varianceOnly {
		return nil
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return err
	}
	for _, k := range kl {
		for _, q := range strings.Split(*quants, ",") {
			c := &codec.Codec{In: dim, K: k, Quant: q, QuantizeQuery: *qquery}
			name := fmt.Sprintf("%s-k%d-%s", *kind, k, q)
			switch *kind {
			case "pca":
				c.Basis = append([]float32(nil), pca[:k*dim]...)
				c.Eigen = eigen
				if *whiten {
					name = fmt.Sprintf("pcaw-k%d-%s", k, q)
					for j := range k {
						s := float32(1 / math.Sqrt(eigen[j]+1e-3*eigen[0]))
						for i := range dim {
							c.Basis[j*dim+i] *= s
						}
					}
				}
			case "random":
				c.Basis = codec.RandomOrthogonal(k, dim, *seed)
			case "identity":
				if k != dim {
					return fmt.Errorf("identity: k must be %d", dim)
				}
				name = fmt.Sprintf("identity-%s", q)
			default:
				return fmt.Errorf("unknown kind %q", *kind)
			}
			if q == codec.QuantDim8 || q == codec.QuantDim4 {
				c.FitRanges(train, *width)
			}
			if *qquery {
				name += "-qq"
			}
			if *tag != "" {
				name += "-" + *tag
			}
			c.Name = name
			c.Note = fmt.Sprintf("trained on %d prints (%d rows): %s", len(train), rows, strings.Join(flag.Args(), " "))
			path := filepath.Join(*outDir, name+".json")
			if err := c.Save(path); err != nil {
				return err
			}
			fmt.Printf("%s: %d bytes per row\n", path, c.BytesPerRow())
		}
	}
	return nil
}

func read(paths []string) ([]codec.Series, int, error) {
	var out []codec.Series
	dim := 0
	for _, p := range paths {
		pr, err := vprint.ReadFile(p)
		if err != nil {
			return nil, 0, err
		}
		if dim != 0 && pr.Dim != dim {
			return nil, 0, fmt.Errorf("%s: %d dimensions, others %d", p, pr.Dim, dim)
		}
		dim = pr.Dim
		out = append(out, codec.Series{Dim: pr.Dim, Rows: pr.Features})
	}
	if len(out) == 0 {
		return nil, 0, fmt.Errorf("no prints given")
	}
	return out, dim, nil
}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("bad k %q", f)
		}
		out = append(out, k)
	}
	return out, nil
}
