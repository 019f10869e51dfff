// Package arch checks the module's import graph against the rules of
// docs/architecture.md: which vidprint packages each package may import,
// and the rules beyond them (only decode runs programs, only model uses
// cgo, only the composition roots name a storage adapter). Its test reads
// the imports with `go list -json` and fails on any import the rules do
// not allow.
package arch

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Module is the module path.
const Module = "github.com/vidprint/vidprint"

// Package is what the checks need of `go list -json`: a package's path and
// the packages its non-test files import.
type Package struct {
	ImportPath string
	Imports    []string
}

// Rules are docs/architecture.md's table: for each package under
// internal/ (named without "internal/"), the vidprint packages it may
// import.
type Rules map[string][]string

// ParseRules reads the table of docs/architecture.md: rows of the form
// "| `pkg` | job | a, b |", where "-" means no vidprint import.
func ParseRules(r io.Reader) (Rules, error) {
	rules := Rules{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 3 {
			return nil, fmt.Errorf("architecture table row %q: %d cells, want 3", line, len(cells))
		}
		name := strings.Trim(strings.TrimSpace(cells[0]), "`")
		if _, dup := rules[name]; dup {
			return nil, fmt.Errorf("architecture table: %s twice", name)
		}
		allowed := []string{}
		if may := strings.TrimSpace(cells[2]); may != "-" {
			for _, p := range strings.Split(may, ",") {
				allowed = append(allowed, strings.TrimSpace(p))
			}
		}
		rules[name] = allowed
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(rules) == 0 {
		return nil, fmt.Errorf("architecture table: no rows")
	}
	return rules, nil
}

// testOnly are packages only tests and the evaluations import: helpers
// that make test footage and synthetic prints, and this one.
var testOnly = []string{"testutil", "synth", "arch"}

// Check returns every import of pkgs the rules do not allow, one line
// each; none when the graph keeps them.
func Check(pkgs []Package, rules Rules) []string {
	var bad []string
	for _, p := range pkgs {
		rel, ok := strings.CutPrefix(p.ImportPath, Module+"/")
		if !ok {
			continue
		}
		internal, isInternal := strings.CutPrefix(rel, "internal/")
		helper := isInternal && slices.Contains(testOnly, internal)
		// Composition roots, and the helpers of tests and evaluations, may
		// import any internal package.
		root := strings.HasPrefix(rel, "cmd/") || strings.HasPrefix(rel, "eval/") || helper
		if isInternal && !helper {
			if _, listed := rules[internal]; !listed {
				bad = append(bad, fmt.Sprintf("%s is not in docs/architecture.md's table", rel))
			}
		}
		for _, imp := range p.Imports {
			target, vidprint := strings.CutPrefix(imp, Module+"/")
			switch {
			case imp == "os/exec" && internal != "decode" && !root:
				bad = append(bad, fmt.Sprintf("%s runs programs (os/exec): only decode may", rel))
			case strings.Contains(imp, "onnxruntime_go") && internal != "model":
				bad = append(bad, fmt.Sprintf("%s imports ONNX Runtime's binding: only model may", rel))
			case strings.HasPrefix(imp, "modernc.org/sqlite") && internal != "library/sqlite":
				bad = append(bad, fmt.Sprintf("%s imports the SQLite driver: only library/sqlite may", rel))
			}
			if !vidprint {
				continue
			}
			if strings.HasPrefix(target, "cmd/") || strings.HasPrefix(target, "eval/") && !strings.HasPrefix(rel, "eval/") {
				bad = append(bad, fmt.Sprintf("%s imports %s: nothing imports a command or an evaluation", rel, target))
				continue
			}
			if root {
				ti, _ := strings.CutPrefix(target, "internal/")
				if slices.Contains(testOnly, ti) && strings.HasPrefix(rel, "cmd/") {
					bad = append(bad, fmt.Sprintf("%s imports %s, which only tests and evaluations may", rel, target))
				}
				continue // a composition root may import any internal package
			}
			if !isInternal {
				continue
			}
			ti, _ := strings.CutPrefix(target, "internal/")
			if !slices.Contains(rules[internal], ti) {
				bad = append(bad, fmt.Sprintf("%s imports %s, which docs/architecture.md does not allow", rel, target))
			}
		}
	}
	slices.Sort(bad)
	return bad
}
