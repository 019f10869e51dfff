// Command libbench measures library search at scale on synthetic prints:
// for libraries of 1, 10 and 100 hours it reports the size on disk per
// hour, memory, search p50 and p95 for a 15 s clip with 11 views, and
// recall against exhaustive alignment of every video.
//
//	go run ./eval/libbench [-hours 1,10,100] [-queries 40] [-exhaustive 20] [-thumbs=false] [-dir DIR] [-out out/bench-library.md]
//
// Synthetic prints stand in for real ones because 100 hours of footage
// cannot be embedded here; the real-footage quality of search is measured
// by eval/locate's library mode.
package main

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vidprint/vidprint/internal/library/rowcodec"
	"github.com/vidprint/vidprint/internal/model"

	"github.com/vidprint/vidprint/internal/library/sqlite"

	"github.com/vidprint/vidprint/internal/library"
	"github.com/vidprint/vidprint/internal/locate"
	"github.com/vidprint/vidprint/internal/match"
	"github.com/vidprint/vidprint/internal/search"
	"github.com/vidprint/vidprint/internal/synth"
	"github.com/vidprint/vidprint/internal/view"
	"github.com/vidprint/vidprint/internal/vprint"
)

type config struct {
	hours      []float64
	queries    int
	exhaustive int
	dir        string
	out        string
	dim        int
	codec      string
	regions    bool
	thumbs     bool
	cpuProfile string
	modelMeta  bool
}

func main() {
	log.SetFlags(0)
	var c config
	var hours string
	flag.StringVar(&hours, "hours", "1,10,100", "library sizes, in hours")
	flag.IntVar(&c.queries, "queries", 40, "timed searches per size")
	flag.IntVar(&c.exhaustive, "exhaustive", 20, "searches also aligned exhaustively, for recall")
	flag.StringVar(&c.dir, "dir", "", "where the libraries are written (default: a temporary directory, removed after)")
	flag.StringVar(&c.out, "out", "out/bench-library.md", "the report")
	flag.IntVar(&c.dim, "dim", 1024, "features per row of the synthetic model")
	flag.StringVar(&c.codec, "codec", rowcodec.DefaultCodec, "the library codec")
	flag.BoolVar(&c.regions, "regions", true, "store region features (synthetic quarters) too, where the codec keeps them, and give each query a region view")
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the timed searches (of the last size) to this file")
	flag.BoolVar(&c.thumbs, "thumbs", true, "store synthetic thumbnails too, as vidprint makes them: 16x12, one every 5 rows")
	flag.BoolVar(&c.modelMeta, "model-meta", false, "bind the libraries to the default model's identity, so that vidprint search can query them end to end (their prints stay synthetic)")
	flag.Parse()
	for _, h := range strings.Split(hours, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(h), 64)
		if err != nil || !(v > 0) {
			log.Fatalf("libbench: -hours: %q is not a positive number", h)
		}
		c.hours = append(c.hours, v)
	}
	if c.dir == "" {
		d, err := os.MkdirTemp("", "libbench-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(d)
		c.dir = d
	}
	var rows []result
	for _, h := range c.hours {
		r, err := run(context.Background(), c, h)
		if err != nil {
			log.Fatalf("libbench: %g h: %v", h, err)
		}
		log.Printf("%g h: %s", h, r.line())
		rows = append(rows, r)
	}
	report := render(c, rows)
	fmt.Print(report)
	if err := os.MkdirAll(filepath.Dir(c.out), 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(c.out, []byte(report), 0o644); err != nil {
		log.Fatal(err)
	}
}

type result struct {
	hours          float64
	videos         int
	frames         int
	addTime        time.Duration
	bytes          int64 // library directory, index file included
	indexBytes     int64
	buildTime      time.Duration // first Open: reads every print, builds and saves the index
	loadTime       time.Duration // second Open: reads the saved index
	indexHeapMB    float64       // live heap with the index loaded
	heapMB         float64       // live heap after the searches, with the prints they read
	p50, p95, mean time.Duration
	exhaustiveTime time.Duration // mean per query
	agreed, ex     int
	truthFound     int
	truth          int
}

func (r result) line() string {
	return fmt.Sprintf("%d videos, %.2f MB/h, p50 %v p95 %v, recall %d/%d, heap %.0f MB",
		r.videos, float64(r.bytes)/1e6/r.hours, r.p50.Round(time.Millisecond), r.p95.Round(time.Millisecond), r.agreed, r.ex, r.heapMB)
}

// lengths splits hours into videos of 30 to 90 minutes.
func lengths(hours float64, rng *rand.Rand) []int {
	total := int(hours * 3600 * 5)
	var out []int
	for done := 0; done < total; {
		n := min(total-done, (30+rng.IntN(61))*60*5)
		out = append(out, n)
		done += n
	}
	return out
}

func run(ctx context.Context, c config, hours float64) (result, error) {
	r := result{hours: hours}
	dir := filepath.Join(c.dir, fmt.Sprintf("lib-%gh", hours))
	if err := os.RemoveAll(dir); err != nil {
		return r, err
	}
	ident := vprint.Model{ID: "synthetic", SHA256: strings.Repeat("0", 64), Output: "features"}
	if c.modelMeta {
		spec, _ := model.Lookup(model.Default)
		ident = vprint.Model{ID: spec.ID, SHA256: spec.SHA256, Output: spec.Outputs[0].Name}
	}
	meta, err := rowcodec.NewMeta(library.Meta{Model: ident, Dim: c.dim, FPS: 5}, c.codec)
	if err != nil {
		return r, err
	}
	codec, regionCodec, err := rowcodec.ForMeta(meta)
	if err != nil {
		return r, err
	}
	if !c.regions {
		regionCodec = nil
	}
	st, err := sqlite.Create(ctx, dir, meta)
	if err != nil {
		return r, err
	}
	defer st.Close()
	rng := rand.New(rand.NewPCG(uint64(hours*1000), 7))
	lens := lengths(hours, rng)
	r.videos = len(lens)
	base := synth.Base(rng, c.dim)
	// video i is made from its own seed, so that the queries can make it
	// again instead of keeping every video's features.
	video := func(i int) []float32 {
		return synth.Video(rand.New(rand.NewPCG(uint64(hours*1000), uint64(i)+100)), base, lens[i], c.dim)
	}
	// Videos are made in parallel and added in order, one transaction each.
	t0 := time.Now()
	var wg sync.WaitGroup
	next := make(chan int)
	made := make([]chan library.Entry, len(lens))
	for i := range made {
		made[i] = make(chan library.Entry, 1)
	}
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f := video(i)
				p := &vprint.Print{Dim: c.dim, FPS: 5, Timestamps: synth.Times(lens[i], 5), Features: f}
				v := library.Video{Path: fmt.Sprintf("synthetic/video-%04d.mp4", i+1), SHA256: fmt.Sprintf("%064x", i+1),
					DurationS: float64(lens[i]) / 5, Width: 640, Height: 360, AddedAt: time.Now().UTC()}
				e := rowcodec.NewEntry(codec, v, p)
				if regionCodec != nil {
					p.Regions, p.RegionFeatures = 4, synth.Quarters(f, c.dim)
					e.Regions = rowcodec.NewRegions(regionCodec, p)
				}
				if c.thumbs {
					e.Thumbs = thumbs(rand.New(rand.NewPCG(uint64(hours*1000), uint64(i)+100_000)), lens[i])
				}
				made[i] <- e
			}
		}()
	}
	go func() {
		for i := range lens {
			next <- i
		}
		close(next)
	}()
	for i := range lens {
		e := <-made[i]
		r.frames += len(e.Timestamps)
		if _, err := st.Add(ctx, e); err != nil {
			return r, err
		}
	}
	wg.Wait()
	r.addTime = time.Since(t0)
	t0 = time.Now()
	if _, err := search.Open(ctx, st); err != nil {
		return r, err
	}
	r.buildTime = time.Since(t0)
	runtime.GC()
	t0 = time.Now()
	back, err := search.Open(ctx, st)
	if err != nil {
		return r, err
	}
	r.loadTime = time.Since(t0)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r.indexHeapMB = float64(ms.HeapAlloc) / 1e6
	if info, err := os.Stat(st.(library.Cache).CachePath("windows.idx")); err == nil {
		r.indexBytes = info.Size()
	}

	// Queries: 15 s clips of random videos at random speeds, with noise,
	// cut from the videos' features (made again from their seeds).
	type query struct {
		video int64
		start float64
		q     locate.Query
	}
	ids := back.IDs() // in the order added: video i has ids[i]
	qrng := rand.New(rand.NewPCG(uint64(hours*1000), 9))
	var queries []query
	for range c.queries {
		i := qrng.IntN(len(ids))
		speed := match.DefaultSpeeds[qrng.IntN(len(match.DefaultSpeeds))]
		const clipN = 75
		need := int(math.Ceil(clipN*speed)) + 1
		start := qrng.IntN(lens[i] - need)
		clip := synth.Clip(qrng, video(i), c.dim, start, clipN, speed, 0.1)
		views := synth.Views(qrng, base, clip, clipN, c.dim, 11)
		if regionCodec != nil {
			views = append(views, match.View{Name: view.Regions, Regions: true, Features: synth.Quarters(clip, c.dim)})
		}
		queries = append(queries, query{ids[i], float64(start) / 5, locate.Query{Times: synth.Times(clipN, 5), Views: views}})
	}
	opts := search.DefaultOptions()
	var times []time.Duration
	var results []search.Results
	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			return r, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return r, err
		}
		defer f.Close()
	}
	for _, q := range queries {
		t := time.Now()
		res, err := search.Search(ctx, back, q.q, opts)
		if err != nil {
			return r, err
		}
		times = append(times, time.Since(t))
		results = append(results, res)
		r.truth++
		if len(res.Matches) > 0 && res.Matches[0].Video.ID == q.video && math.Abs(res.Matches[0].VideoStart-q.start) <= 0.5 {
			r.truthFound++
		}
	}
	if c.cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	slices.Sort(times)
	r.p50, r.p95 = times[len(times)/2], times[min(len(times)-1, len(times)*95/100)]
	var sum time.Duration
	for _, t := range times {
		sum += t
	}
	r.mean = sum / time.Duration(len(times))

	var exTime time.Duration
	for i, q := range queries[:min(len(queries), c.exhaustive)] {
		t := time.Now()
		ex, err := search.Exhaustive(ctx, back, ids, q.q, opts)
		if err != nil {
			return r, err
		}
		exTime += time.Since(t)
		if len(ex.Matches) == 0 {
			continue
		}
		r.ex++
		got := results[i]
		if len(got.Matches) > 0 && got.Matches[0].Video.ID == ex.Matches[0].Video.ID && math.Abs(got.Matches[0].VideoStart-ex.Matches[0].VideoStart) <= 0.5 {
			r.agreed++
		}
	}
	if n := min(len(queries), c.exhaustive); n > 0 {
		r.exhaustiveTime = exTime / time.Duration(n)
	}
	// Memory after searching: the index and the prints the searches read
	// (kept for the next search), without the queries.
	queries, results = nil, nil
	runtime.GC()
	runtime.ReadMemStats(&ms)
	r.heapMB = float64(ms.HeapAlloc) / 1e6
	runtime.KeepAlive(back)
	// Closed, the database holds everything in its main file (SQLite folds
	// the write-ahead log back in when the last connection closes).
	if err := st.Close(); err != nil {
		return r, err
	}
	r.bytes, err = dirSize(dir)
	return r, err
}

// Synthetic thumbnails are the size vidprint's are; their pixels are
// random, which costs the same as real ones since the library stores them
// uncompressed.
const thumbW, thumbH, thumbEvery = vprint.ThumbWidth, vprint.ThumbHeight, 5

func thumbs(rng *rand.Rand, frames int) vprint.Thumbs {
	t := vprint.Thumbs{Width: thumbW, Height: thumbH, Every: thumbEvery}
	t.Pixels = make([]byte, t.Count(frames)*thumbW*thumbH)
	for i := range t.Pixels {
		t.Pixels[i] = byte(rng.Uint32())
	}
	return t
}

func dirSize(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			total += info.Size()
		}
		return nil
	})
	return total, err
}

func render(c config, rows []result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Library search at scale (synthetic prints)\n\n")
	regions := "none"
	if c.regions {
		regions = "synthetic quarters, the codec's region codec"
	}
	thumbs := "none"
	if c.thumbs {
		thumbs = fmt.Sprintf("%dx%d every %d rows", thumbW, thumbH, thumbEvery)
	}
	fmt.Fprintf(&b, "%s, %s/%s, %d cores (GOMAXPROCS %d), codec %s, regions: %s, thumbnails: %s, %d features per row, 15 s clips with 11 views (and a region view with regions), %d searches per size.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), c.codec, regions, thumbs, c.dim, c.queries)
	b.WriteString("| library | videos | on disk per hour | index file | add (all videos) | index build | index load | memory: index loaded | after searches | search p50 | p95 | mean | exhaustive alignment, same queries | recall vs exhaustive | right video and start |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %g h | %d | %.2f MB | %.1f MB | %v | %v | %v | %.0f MB | %.0f MB | %v | %v | %v | %v | %d/%d | %d/%d |\n",
			r.hours, r.videos, float64(r.bytes)/1e6/r.hours, float64(r.indexBytes)/1e6, r.addTime.Round(time.Millisecond),
			r.buildTime.Round(time.Millisecond), r.loadTime.Round(time.Millisecond), r.indexHeapMB, r.heapMB,
			r.p50.Round(100*time.Microsecond), r.p95.Round(100*time.Microsecond), r.mean.Round(100*time.Microsecond),
			r.exhaustiveTime.Round(time.Millisecond), r.agreed, r.ex, r.truthFound, r.truth)
	}
	return b.String()
}
