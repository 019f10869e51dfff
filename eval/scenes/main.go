// Command scenes evaluates scene detection on test videos made from real
// footage with known cuts, dissolves and fades. It scores `vidprint scenes`
// and, as the baseline, ffmpeg's scene filter, and prints a markdown report.
//
//	go run ./eval/scenes [-only cuts_a,fades] [-keep] [-bin bin/vidprint]
//
// See eval/scenes/README.md for the set and the matching rule.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

func main() {
	if err := evaluate(); err != nil {
		fmt.Fprintln(os.Stderr, "eval-scenes:", err)
		os.Exit(1)
	}
}

func evaluate() error {
	var (
		only      = flag.String("only", "", "comma-separated video names to evaluate (default all)")
		keep      = flag.Bool("keep", false, "keep each method's detections as JSON under out/eval-scenes/")
		bin       = flag.String("bin", "bin/vidprint", "the vidprint binary")
		out       = flag.String("out", "out/eval-scenes.md", "where to write the report")
		tol       = flag.Float64("tol", 0.5, "matching tolerance in seconds")
		threshold = flag.Float64("threshold", 0.3, "the baseline's ffmpeg scene threshold")
		list      = flag.Bool("list", false, "list the videos and exit")
	)
	flag.Parse()
	if abs, err := filepath.Abs(*bin); err == nil {
		*bin = abs // vidprint runs in the videos' directory
	}
	logf := func(format string, a ...any) { fmt.Fprintf(os.Stderr, "eval-scenes: "+format+"\n", a...) }

	videos, err := pick(*only)
	if err != nil {
		return err
	}
	if *list {
		for _, v := range videos {
			t, err := v.plan()
			if err != nil {
				return err
			}
			fmt.Printf("%-12s %5.1f s %2d transitions  %s\n", v.Name, t.Duration, len(t.Transitions), v.About)
		}
		return nil
	}
	home := vidprintHome()
	gen := &generator{data: filepath.Join(home, "data"), dir: filepath.Join(home, "eval", "scenes"), log: logf}

	methods := []method{vidprintMethod(*bin), ffmpegMethod(*threshold)}
	res := newResults(methods)
	start := time.Now()
	for _, v := range videos {
		path, tr, err := gen.ensure(v)
		if err != nil {
			return err
		}
		res.addVideo(v, tr)
		for mi, m := range methods {
			if m.unavailable != "" {
				continue
			}
			t0 := time.Now()
			dets, err := m.detect(path)
			if err != nil {
				// One failing video must not hide the others' scores; its
				// transitions count as missed.
				logf("%s on %s: %v", m.Name, v.Name, err)
				res.fail(mi, v.Name, err)
				res.score(mi, v, tr, nil, *tol)
				continue
			}
			logf("%-16s %-12s %2d detections, %.1f s", m.Name, v.Name, len(dets), time.Since(t0).Seconds())
			res.score(mi, v, tr, dets, *tol)
			if *keep {
				if err := keepDetections(m.Name, v.Name, dets); err != nil {
					return err
				}
			}
		}
	}
	report := res.markdown(*tol, *threshold)
	fmt.Print(report)
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(*out), err)
	}
	if err := os.WriteFile(*out, []byte(report), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	logf("report written to %s (%.0f s)", *out, time.Since(start).Seconds())
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

func pick(only string) ([]video, error) {
	if only == "" {
		return testSet, nil
	}
	var out []video
	for _, name := range strings.Split(only, ",") {
		i := slices.IndexFunc(testSet, func(v video) bool { return v.Name == strings.TrimSpace(name) })
		if i < 0 {
			var names []string
			for _, v := range testSet {
				names = append(names, v.Name)
			}
			return nil, fmt.Errorf("-only: no video %q (have %s)", name, strings.Join(names, ", "))
		}
		out = append(out, testSet[i])
	}
	return out, nil
}

func keepDetections(methodName, video string, dets []detection) error {
	dir := filepath.Join("out", "eval-scenes")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	slug := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, strings.ToLower(methodName))
	b, err := json.MarshalIndent(map[string]any{"method": methodName, "video": video, "cuts": dets}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode detections: %w", err)
	}
	path := filepath.Join(dir, video+"."+slug+".json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
