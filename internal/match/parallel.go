package match

import (
	"sync"
	"sync/atomic"
)

// eachParallel calls f(w, i) for every i in [0, n) on at most workers
// goroutines, handing out one i at a time (items differ in cost). w, in
// [0, workers), names the goroutine, so that f can keep state of its own in
// a slice of workers entries. It returns when every call has returned.
func eachParallel(workers, n int, f func(w, i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				f(w, i)
			}
		}()
	}
	wg.Wait()
}
