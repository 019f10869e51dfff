// Command locate evaluates `vidprint locate` on clips cut from real footage
// with known sources and offsets, put through re-encoding, scaling,
// cropping, colour changes, speed changes, overlays and picture-in-picture.
// It scores vidprint and two baselines (plain sliding-window cosine on the
// prints, and Chromaprint on the audio) and prints a markdown report.
//
//	go run ./eval/locate [-seed 1] [-clips 2] [-only none,pip] [-keep] [-bin bin/vidprint]
//
// See eval/locate/README.md for the set and the scoring.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vidprint/vidprint/internal/library/rowcodec"

	"github.com/vidprint/vidprint/eval/codec"
	"github.com/vidprint/vidprint/internal/embed"
	"github.com/vidprint/vidprint/internal/match"
	"github.com/vidprint/vidprint/internal/view"
)

func main() {
	if err := evaluate(); err != nil {
		fmt.Fprintln(os.Stderr, "eval-locate:", err)
		os.Exit(1)
	}
}

func evaluate() error {
	var (
		seed         = flag.Int64("seed", 1, "random seed of the clip set (tune on another seed than the one reported)")
		perPair      = flag.Int("clips", 2, "clips per reference and transformation")
		only         = flag.String("only", "", "comma-separated transformations to evaluate (default all)")
		bin          = flag.String("bin", "bin/vidprint", "the vidprint binary")
		out          = flag.String("out", "out/eval-locate.md", "where to write the report")
		keep         = flag.Bool("keep", false, "write out/eval-locate/cases.jsonl: each clip's truth and every method's raw result")
		locateFlags  = flag.String("locate-flags", "", `extra flags for vidprint locate, e.g. "--threshold -1"`)
		clipPrint    = flag.Bool("clip-print", false, "give locate the clip's print instead of its video: faster, but only the whole-frame view is searched")
		list         = flag.Bool("list", false, "list the clips and exit")
		inproc       = flag.Bool("inproc", false, "for tuning: also run this build's matcher in-process on cached clip views, dumping every candidate to out/eval-locate/inproc.jsonl")
		only1        = flag.Bool("inproc-only", false, "with -inproc, skip the binary and the baselines")
		codecs       = flag.String("inproc-codec", "", "developer option, with -inproc: comma-separated codec files (eval/codec); each adds an in-process run on the references encoded and decoded by it and the clip's views projected by it")
		libMode      = flag.Bool("library", false, "also search every clip in a library of all the references (in process, on cached clip views), and in one without its source, for top-1 and negatives")
		libNoRegions = flag.Bool("library-no-regions", false, "with -library, for comparison: a library that keeps no region features")
		libOnly      = flag.Bool("library-only", false, "with -library, for tuning: skip locate, the baselines and -inproc")
		libCodec     = flag.String("library-codec", rowcodec.DefaultCodec, "with -library: the library codec")
		images       = flag.Int("images", 0, "with -library: also search this many still images grabbed from the references")
		imagesOnly   = flag.Bool("images-only", false, "with -images: search the images only, not the clips")
		reembedList  = flag.String("reembed", "", "developer option: embed these cached clip views again, e.g. inset after a change to internal/inset")
		regionCodecs = flag.String("inproc-region-codec", "", "developer option, with -inproc-codec: comma-separated codec files, each adding a run per -inproc-codec with the references' regions stored and the clip's region view projected, quarter by quarter, by it")
		refCentre    = flag.Float64("ref-centre", 0, "developer option, with -inproc: also search each reference through a centre crop of this fraction of its frame (e.g. 0.9), with the clip's whole-frame views")
		libRefs      = flag.String("library-refs", "", "with -library: a directory of the references' prints (NAME.vprint) to build the library from instead")
	)
	flag.Parse()
	vc := &viewCache{refresh: map[string]bool{}}
	for _, name := range strings.Split(*reembedList, ",") {
		if name != "" {
			vc.refresh[name] = true
		}
		if name == "inset" {
			// Every view placed in the inset's rectangle moves with it.
			for _, s := range view.Query() {
				if s.Inset {
					vc.refresh[string(s.Name)] = true
				}
			}
		}
	}
	if abs, err := filepath.Abs(*bin); err == nil {
		*bin = abs // locate runs in a temporary directory
	}
	if *perPair < 1 {
		return fmt.Errorf("-clips must be at least 1")
	}
	if *codecs != "" && !*inproc {
		return fmt.Errorf("-inproc-codec needs -inproc")
	}
	logf := func(format string, a ...any) { fmt.Fprintf(os.Stderr, "eval-locate: "+format+"\n", a...) }
	ts, err := pick(*only)
	if err != nil {
		return err
	}
	home := vidprintHome()
	gen := &generator{data: filepath.Join(home, "data"), dir: filepath.Join(home, "eval", "locate"), bin: *bin, log: logf}
	info, err := gen.probeAll()
	if err != nil {
		return err
	}
	clips, err := plan(*seed, *perPair, ts, info)
	if err != nil {
		return err
	}
	if *list {
		for _, c := range clips {
			fmt.Printf("%-22s %-9s %6.2f s at %7.3f s  speed %.4f  %s%s %s\n", c.Name, c.Ref, c.Duration, c.Start, c.Speed, audioNote(c), hostNote(c), c.Detail)
		}
		return nil
	}

	start := time.Now()
	if err := gen.ensureClips(*seed, clips); err != nil {
		return err
	}
	// The prints need vidprint embed; without the binary only Chromaprint runs.
	var refPrints map[string]string
	if exists(*bin) {
		if refPrints, err = gen.ensureRefPrints(); err != nil {
			return err
		}
		if err := gen.ensureClipPrints(*seed, clips); err != nil {
			return err
		}
	} else {
		logf("%s not found: only chromaprint runs", *bin)
	}
	// The clip views' cache: bump its version when their decoding changes
	// (2: full decoding by default). Views added to view.Query are
	// embedded into it as they are missed.
	viewsName := "views-v3"
	methods := []method{
		vidprintMethod(*bin, refPrints, strings.Fields(*locateFlags), *clipPrint),
		plainMethod(*bin, refPrints),
		chromaprintMethod(gen.data, info),
	}
	if *inproc {
		if err := os.MkdirAll(filepath.Join("out", "eval-locate"), 0o755); err != nil {
			return err
		}
		f, err := os.Create(filepath.Join("out", "eval-locate", "inproc.jsonl"))
		if err != nil {
			return err
		}
		defer f.Close()
		viewsDir := filepath.Join(gen.dir, strconv.FormatInt(*seed, 10), viewsName)
		m, done, err := inprocMethod(vc, viewsDir, refPrints, match.DefaultOptions(), json.NewEncoder(f), nil, nil, *refCentre, gen.data)
		if err != nil {
			return err
		}
		defer done()
		if *only1 {
			methods = nil
		}
		methods = append(methods, m)
		for _, path := range strings.FieldsFunc(*codecs, func(r rune) bool { return r == ',' }) {
			cd, err := codec.Load(path)
			if err != nil {
				return err
			}
			m, done, err := inprocMethod(vc, viewsDir, refPrints, match.DefaultOptions(), nil, cd, nil, 0, gen.data)
			if err != nil {
				return err
			}
			defer done()
			methods = append(methods, m)
			for _, rpath := range strings.FieldsFunc(*regionCodecs, func(r rune) bool { return r == ',' }) {
				rcd, err := codec.Load(rpath)
				if err != nil {
					return err
				}
				m, done, err := inprocMethod(vc, viewsDir, refPrints, match.DefaultOptions(), nil, cd, rcd, 0, gen.data)
				if err != nil {
					return err
				}
				defer done()
				methods = append(methods, m)
			}
		}
	}
	var lib *libraryEval
	var libPool *embed.Pool
	if *libMode {
		if refPrints == nil {
			return fmt.Errorf("-library needs %s to embed the references", *bin)
		}
		libPrints := refPrints
		if *libRefs != "" {
			libPrints = map[string]string{}
			for _, ref := range references {
				libPrints[ref.Name] = filepath.Join(*libRefs, ref.Name+".vprint")
			}
		}
		if lib, libPool, err = setupLibrary(libPrints, *libCodec, !*libNoRegions); err != nil {
			return err
		}
		defer libPool.Close()
		viewsDir := filepath.Join(gen.dir, strconv.FormatInt(*seed, 10), viewsName)
		if err := os.MkdirAll(viewsDir, 0o755); err != nil {
			return err
		}
		if *libOnly {
			methods = nil
		}
		methods = append(methods, lib.method(vc, viewsDir, libPool))
	} else if *images > 0 {
		return fmt.Errorf("-images needs -library")
	}
	for _, m := range methods {
		if m.unavailable != "" {
			logf("%s: %s", m.Name, m.unavailable)
		}
	}

	// imageSection searches the still images in the library.
	imageSection := func() (string, error) {
		ims, err := planImages(*seed, *images, info)
		if err != nil {
			return "", err
		}
		seedDir := filepath.Join(gen.dir, strconv.FormatInt(*seed, 10))
		return lib.images(vc, gen, filepath.Join(seedDir, "images"), filepath.Join(seedDir, viewsName, "images"), ims, libPool, logf)
	}
	if *imagesOnly {
		if lib == nil || *images == 0 {
			return fmt.Errorf("-images-only needs -library and -images")
		}
		section, err := imageSection()
		if err != nil {
			return err
		}
		fmt.Print(section)
		return os.WriteFile(*out, []byte(section), 0o644)
	}
	res := newResults(methods)
	for i, c := range clips {
		path := gen.clipPath(*seed, c.Name)
		ans := make([]answer, len(methods))
		var line []string
		for mi, m := range methods {
			if m.unavailable != "" || !m.applies(c) {
				continue
			}
			ans[mi] = m.locate(c, path)
			line = append(line, m.Key+" "+describe(ans[mi], c))
		}
		res.add(c, ans)
		logf("%3d/%d %-22s truth %6.2f s  %s", i+1, len(clips), c.Name, c.Start, strings.Join(line, "  "))
	}
	res.calibrateAll()

	report := res.markdown(runInfo{seed: *seed, perPair: *perPair, started: start, took: time.Since(start), flags: *locateFlags, print: *clipPrint})
	if lib != nil {
		report += lib.markdown()
		if *images > 0 {
			section, err := imageSection()
			if err != nil {
				return err
			}
			report += section
		}
	}
	fmt.Print(report)
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(*out), err)
	}
	if err := os.WriteFile(*out, []byte(report), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if *keep {
		path := filepath.Join("out", "eval-locate", "cases.jsonl")
		if err := res.writeCases(path, func(name string) string { return gen.clipPath(*seed, name) }); err != nil {
			return err
		}
		logf("cases written to %s", path)
	}
	logf("report written to %s (%.0f s)", *out, time.Since(start).Seconds())
	return nil
}

// describe is a method's answer in the source, for the progress line.
func describe(a answer, c clip) string {
	if a.Err != "" {
		return "error"
	}
	h, ok := a.Hits[c.Ref]
	if !ok {
		return fmt.Sprintf("not found (%d other)", len(a.Hits))
	}
	return fmt.Sprintf("%.2f s (%.3f)", h.Start, h.Score)
}

func audioNote(c clip) string {
	if c.Audio {
		return "audio"
	}
	return "     "
}

// caseLine is one line of cases.jsonl.
type caseLine struct {
	Clip    clip                  `json:"clip"` // the truth and the recipe
	File    string                `json:"file"`
	Methods map[string]caseMethod `json:"methods"`
}

type caseMethod struct {
	answer
	Threshold *float64 `json:"threshold,omitempty"` // the baselines' calibrated threshold
	Correct   bool     `json:"correct"`             // the positive is correct (±0.5 s)
	FoundIn   []string `json:"found_in"`            // references where the method reports the clip
}

// writeCases writes one JSON line per clip with every method's raw result.
func (r *results) writeCases(path string, clipPath func(name string) string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	var b strings.Builder
	for ci, c := range r.clips {
		line := caseLine{Clip: c, File: clipPath(c.Name), Methods: map[string]caseMethod{}}
		for mi, m := range r.methods {
			if m.unavailable != "" || !m.applies(c) {
				continue
			}
			cm := caseMethod{answer: r.answers[ci][mi], Correct: r.correct(mi, ci, tol), FoundIn: []string{}}
			if th := r.thresholds[mi]; m.calibrated && !math.IsNaN(th) {
				cm.Threshold = &th
			}
			for _, ref := range references {
				if _, ok := r.found(mi, ci, ref.Name); ok {
					cm.FoundIn = append(cm.FoundIn, ref.Name)
				}
			}
			line.Methods[m.Key] = cm
		}
		j, err := json.Marshal(line)
		if err != nil {
			return fmt.Errorf("encode case %s: %w", c.Name, err)
		}
		b.Write(append(j, '\n'))
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// vidprintHome follows scripts/deps.sh: $VIDPRINT_HOME, else the XDG data dir.
func vidprintHome() string {
	if h := os.Getenv("VIDPRINT_HOME"); h != "" {
		return h
	}
	if x := os.Getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "vidprint")
	}
	h, _ := os.UserHomeDir()
	return filepath.Join(h, ".local", "share", "vidprint")
}
