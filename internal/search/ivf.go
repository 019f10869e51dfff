package search

import (
	"cmp"
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"sync"

	"github.com/vidprint/vidprint/internal/vecmath"
)

// ivf is an inverted-file index over unit vectors: k-means cells, each
// holding the vectors nearest its centroid. A query scans only the cells of
// its nearest centroids. It needs no graph and no training beyond a few
// passes of k-means over a sample, and its memory is the vectors plus one
// reference each.
type ivf struct {
	dim       int
	centroids []float32 // cells x dim
	// cell c holds entries [start[c], start[c+1]) of vecs and refs.
	start []int32
	vecs  []float32
	refs  []windowRef
	// trained is how many vectors the index held when its cells were
	// trained; vectors added since are filed under the same cells.
	trained int
}

// windowRef names an indexed window: a video by its position in the
// backend, and the window within it.
type windowRef struct {
	video  int32
	window int32
}

// cellsFor is how many cells an index of n vectors gets: about √n, so that
// scanning the centroids and scanning a few cells cost alike.
func cellsFor(n int) int {
	if n < 4096 {
		return 1
	}
	return min(4096, int(math.Sqrt(float64(n))))
}

// trainingPerCell bounds the k-means sample; iterations bound its passes.
const (
	trainingPerCell = 32
	kmeansPasses    = 6
)

// buildIVF clusters vecs (n unit vectors of dim) and files each under its
// nearest centroid.
func buildIVF(ctx context.Context, vecs []float32, refs []windowRef, dim int) (*ivf, error) {
	n := len(refs)
	cells := cellsFor(n)
	x := &ivf{dim: dim, trained: n}
	if cells == 1 {
		x.centroids = make([]float32, dim)
		x.start = []int32{0, int32(n)}
		x.vecs, x.refs = vecs, refs
		return x, nil
	}
	rng := rand.New(rand.NewPCG(uint64(n), 1))
	sample := rng.Perm(n)[:min(n, cells*trainingPerCell)]
	x.centroids = make([]float32, cells*dim)
	for c := range cells {
		copy(x.centroids[c*dim:(c+1)*dim], vecs[sample[c]*dim:(sample[c]+1)*dim])
	}
	assign := make([]int32, len(sample))
	for range kmeansPasses {
		if err := x.assign(ctx, func(i int) []float32 { return vecs[sample[i]*dim : (sample[i]+1)*dim] }, assign); err != nil {
			return nil, err
		}
		sums := make([]float64, cells*dim)
		counts := make([]int, cells)
		for i, c := range assign {
			counts[c]++
			for d, v := range vecs[sample[i]*dim : (sample[i]+1)*dim] {
				sums[int(c)*dim+d] += float64(v)
			}
		}
		for c := range cells {
			cen := x.centroids[c*dim : (c+1)*dim]
			if counts[c] == 0 {
				// An empty cell restarts at a random sample point.
				p := sample[rng.IntN(len(sample))]
				copy(cen, vecs[p*dim:(p+1)*dim])
				continue
			}
			var ss float64
			for d := range cen {
				v := sums[c*dim+d]
				cen[d] = float32(v)
				ss += v * v
			}
			vecmath.Unit(cen, ss)
		}
	}
	x.start = make([]int32, cells+1)
	if err := x.file(ctx, vecs, refs); err != nil {
		return nil, err
	}
	return x, nil
}

// file adds vectors to the cells of their nearest centroids, keeping each
// cell's entries together.
func (x *ivf) file(ctx context.Context, vecs []float32, refs []windowRef) error {
	dim, cells, n := x.dim, len(x.start)-1, len(refs)
	cellOf := make([]int32, n)
	if cells > 1 {
		if err := x.assign(ctx, func(i int) []float32 { return vecs[i*dim : (i+1)*dim] }, cellOf); err != nil {
			return err
		}
	}
	// The new layout: each cell's old entries, then its new ones.
	start := make([]int32, cells+1)
	for c := range cells {
		start[c+1] = x.start[c+1] - x.start[c]
	}
	for _, c := range cellOf {
		start[c+1]++
	}
	for c := range cells {
		start[c+1] += start[c]
	}
	total := int(start[cells])
	newVecs := make([]float32, total*dim)
	newRefs := make([]windowRef, total)
	fill := make([]int32, cells)
	for c := range cells {
		old := x.start[c+1] - x.start[c]
		copy(newVecs[int(start[c])*dim:], x.vecs[int(x.start[c])*dim:int(x.start[c+1])*dim])
		copy(newRefs[start[c]:], x.refs[x.start[c]:x.start[c+1]])
		fill[c] = start[c] + old
	}
	for i, c := range cellOf {
		j := fill[c]
		fill[c]++
		copy(newVecs[int(j)*dim:int(j+1)*dim], vecs[i*dim:(i+1)*dim])
		newRefs[j] = refs[i]
	}
	x.start, x.vecs, x.refs = start, newVecs, newRefs
	return nil
}

// drop removes the entries whose reference keep rejects, and renumbers
// the videos of the others with renumber.
func (x *ivf) drop(keep func(windowRef) bool, renumber func(int32) int32) {
	cells := len(x.start) - 1
	start := make([]int32, cells+1)
	out := 0
	for c := range cells {
		for j := x.start[c]; j < x.start[c+1]; j++ {
			if !keep(x.refs[j]) {
				continue
			}
			copy(x.vecs[out*x.dim:(out+1)*x.dim], x.vecs[int(j)*x.dim:int(j+1)*x.dim])
			x.refs[out] = windowRef{renumber(x.refs[j].video), x.refs[j].window}
			out++
		}
		start[c+1] = int32(out)
	}
	x.start, x.vecs, x.refs = start, x.vecs[:out*x.dim], x.refs[:out]
}

// assign sets out[i] to the nearest centroid of vector i, in parallel.
func (x *ivf) assign(ctx context.Context, vec func(i int) []float32, out []int32) error {
	cells := len(x.centroids) / x.dim
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	chunk := (len(out) + workers - 1) / workers
	for w := range workers {
		lo, hi := w*chunk, min(len(out), (w+1)*chunk)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				if i%1024 == 0 && ctx.Err() != nil {
					return
				}
				v := vec(i)
				best, bestScore := 0, float32(math.Inf(-1))
				for c := range cells {
					if s := vecmath.Dot(v, x.centroids[c*x.dim:(c+1)*x.dim]); s > bestScore {
						best, bestScore = c, s
					}
				}
				out[i] = int32(best)
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// search returns the k entries nearest q among the probe cells nearest it,
// best first, leaving out those of video skip.
func (x *ivf) search(q []float32, probe, k int, skip int32) []scored {
	cells := len(x.start) - 1
	probe = min(probe, cells)
	var order []scored
	if cells == 1 {
		order = []scored{{0, 0}}
	} else {
		order = make([]scored, cells)
		for c := range cells {
			order[c] = scored{c, vecmath.Dot(q, x.centroids[c*x.dim:(c+1)*x.dim])}
		}
		// Best first, ties by cell: slices.SortFunc does without
		// sort.Slice's reflection, a tenth of a search's time at 100 h.
		slices.SortFunc(order, func(a, b scored) int {
			if c := cmp.Compare(b.score, a.score); c != 0 {
				return c
			}
			return cmp.Compare(a.i, b.i)
		})
		order = order[:probe]
	}
	top := make([]scored, 0, k+1)
	for _, c := range order {
		for j := x.start[c.i]; j < x.start[c.i+1]; j++ {
			if x.refs[j].video == skip {
				continue
			}
			s := vecmath.Dot(q, x.vecs[int(j)*x.dim:int(j+1)*x.dim])
			if len(top) == k && s <= top[k-1].score {
				continue
			}
			// Insertion into the short sorted list.
			p := sort.Search(len(top), func(i int) bool { return top[i].score < s })
			top = append(top, scored{})
			copy(top[p+1:], top[p:])
			top[p] = scored{int(j), s}
			if len(top) > k {
				top = top[:k]
			}
		}
	}
	return top
}

type scored struct {
	i     int
	score float32
}
