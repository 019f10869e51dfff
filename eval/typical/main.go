// Command typical writes a model output's typical row (model.TypicalRow):
// the mean, over prints of footage the evaluation does not use, of each
// print's mean row, every video weighing the same. The file is named for
// the prints' model, output and model file (model.TypicalFile).
//
//	go run ./eval/typical -dir internal/model/typical PRINT...
//
// The catalogue's row was fit on the held-out prints of eval/codec
// (scripts/codec-footage.sh, then vidprint embed; see eval/codec/README.md).
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/vidprint/vidprint/internal/fsutil"
	"github.com/vidprint/vidprint/internal/model"
	"github.com/vidprint/vidprint/internal/vprint"
)

func main() {
	dir := flag.String("dir", "internal/model/typical", "output directory")
	flag.Parse()
	if err := run(*dir, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "typical:", err)
		os.Exit(1)
	}
}

func run(dir string, paths []string) error {
	if len(paths) == 0 {
		return errors.New("usage: typical [-dir DIR] PRINT [PRINT ...]")
	}
	var first vprint.Model
	var sum []float64
	for i, path := range paths {
		p, err := vprint.ReadFile(path)
		if err != nil {
			return err
		}
		if i == 0 {
			first, sum = p.Model, make([]float64, p.Dim)
			spec, ok := model.Lookup(p.Model.ID)
			if !ok || spec.SHA256 != p.Model.SHA256 {
				return fmt.Errorf("%s: model %s (sha256 %s) is not pinned in the catalogue", path, p.Model.ID, p.Model.SHA256)
			}
		}
		if p.Model != first || p.Dim != len(sum) {
			return fmt.Errorf("%s: model %+v, %d-d; %s has %+v, %d-d", path, p.Model, p.Dim, paths[0], first, len(sum))
		}
		if p.Frames() == 0 {
			return fmt.Errorf("%s: no frames", path)
		}
		mean := make([]float64, p.Dim)
		for j := range p.Frames() {
			for d, x := range p.Row(j) {
				mean[d] += float64(x)
			}
		}
		for d := range sum {
			sum[d] += mean[d] / float64(p.Frames())
		}
	}
	var b []byte
	for _, x := range sum {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(x/float64(len(paths)))))
	}
	out := filepath.Join(dir, model.TypicalFile(first.ID, first.SHA256, first.Output))
	fmt.Println(out)
	return fsutil.WriteAtomic(out, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}
