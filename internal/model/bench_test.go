package model

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/vidprint/vidprint/internal/assets"
	"github.com/vidprint/vidprint/internal/testutil"
)

// BenchmarkEmbed measures the model alone: ns/op is per frame.
func BenchmarkEmbed(b *testing.B) {
	dirs := assets.Default()
	if err := InitRuntime(testutil.ORTLibrary(b)); err != nil {
		b.Fatal(err)
	}
	testutil.File(b, filepath.Join(dirs.ModelsDir(), "mobilenetv3-small-qvac.onnx"))
	res, err := Resolve(dirs.ModelsDir(), Default, "")
	if err != nil {
		b.Fatal(err)
	}
	for _, threads := range []int{1, 2} {
		for _, batch := range []int{1, 4, 8, 16} {
			b.Run(fmt.Sprintf("threads=%d/batch=%d", threads, batch), func(b *testing.B) {
				s, err := NewSession(res, SessionOptions{Threads: threads, Batch: batch})
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				frames := make([][]byte, batch)
				for i := range frames {
					frames[i] = make([]byte, 224*224*3)
					for j := range frames[i] {
						frames[i][j] = byte(i*31 + j*7)
					}
				}
				out := make([]float32, batch*res.Output.Dim)
				ctx := context.Background()
				b.ResetTimer()
				for done := 0; done < b.N; done += batch {
					if err := s.Embed(ctx, frames, out); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/frame")
			})
		}
	}
}
