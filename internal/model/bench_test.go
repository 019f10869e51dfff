package model

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
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

// BenchmarkEmbedParallel runs one single-thread session per core at once:
// the model's own throughput on all cores. ns/op is per frame.
func BenchmarkEmbedParallel(b *testing.B) {
	dirs := assets.Default()
	if err := InitRuntime(testutil.ORTLibrary(b)); err != nil {
		b.Fatal(err)
	}
	res, err := Resolve(dirs.ModelsDir(), Default, "")
	if err != nil {
		b.Fatal(err)
	}
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("sessions=%d", workers), func(b *testing.B) {
			sessions := make([]*Session, workers)
			for i := range sessions {
				if sessions[i], err = NewSession(res, SessionOptions{Threads: 1, Batch: 1}); err != nil {
					b.Fatal(err)
				}
				defer sessions[i].Close()
			}
			frame := make([]byte, 224*224*3)
			for j := range frame {
				frame[j] = byte(j * 7)
			}
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for _, s := range sessions {
				wg.Add(1)
				go func() {
					defer wg.Done()
					out := make([]float32, res.Output.Dim)
					for next.Add(1) <= int64(b.N) {
						if err := s.Embed(context.Background(), [][]byte{frame}, out); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}
