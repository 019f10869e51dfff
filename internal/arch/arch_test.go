package arch

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestImports reads every package's imports with go list and checks them
// against docs/architecture.md.
func TestImports(t *testing.T) {
	root := moduleRoot(t)
	doc, err := os.Open(filepath.Join(root, "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer doc.Close()
	rules, err := ParseRules(doc)
	if err != nil {
		t.Fatal(err)
	}
	pkgs := listPackages(t, root)
	if len(pkgs) < 20 {
		t.Fatalf("go list found %d packages", len(pkgs))
	}
	// Every package the table names exists: a rule for a package that is
	// gone is a stale document.
	have := map[string]bool{}
	for _, p := range pkgs {
		have[strings.TrimPrefix(p.ImportPath, Module+"/internal/")] = true
	}
	for name := range rules {
		if !have[name] {
			t.Errorf("docs/architecture.md names %s, which does not exist", name)
		}
	}
	for _, line := range Check(pkgs, rules) {
		t.Error(line)
	}
}

// TestCheck: each rule catches what it is for.
func TestCheck(t *testing.T) {
	rules := Rules{"vprint": {}, "embed": {"vprint"}, "match": {}, "decode": {}, "model": {}, "library/sqlite": {}}
	// pkg is a package at path importing imports: a name without a dot
	// but with a slash, other than os/exec, is vidprint's.
	pkg := func(path string, imports ...string) Package {
		for i, imp := range imports {
			if imp != "os/exec" && strings.Contains(imp, "/") && !strings.Contains(imp, ".") {
				imports[i] = Module + "/" + imp
			}
		}
		return Package{ImportPath: Module + "/" + path, Imports: imports}
	}
	tests := []struct {
		name string
		pkg  Package
		want string // a part of the one complaint; "" for none
	}{
		{"an allowed import", pkg("internal/embed", "internal/vprint", "fmt"), ""},
		{"a consumer imported", pkg("internal/embed", "internal/match"), "internal/embed imports internal/match"},
		{"upward", pkg("internal/vprint", "internal/embed"), "does not allow"},
		{"a package not in the table", pkg("internal/newthing"), "not in docs/architecture.md"},
		{"a program run outside decode", pkg("internal/match", "os/exec"), "runs programs"},
		{"decode runs ffmpeg", pkg("internal/decode", "os/exec"), ""},
		{"cgo outside model", pkg("internal/embed", "github.com/yalue/onnxruntime_go"), "ONNX Runtime"},
		{"the SQLite driver outside its adapter", pkg("internal/match", "modernc.org/sqlite"), "SQLite driver"},
		{"an adapter below the root", pkg("internal/match", "internal/library/sqlite"), "does not allow"},
		{"the root names the adapter", pkg("cmd/vidprint", "internal/library/sqlite", "os/exec"), ""},
		{"the command imported", pkg("internal/match", "cmd/vidprint"), "nothing imports a command"},
		{"an evaluation imported", pkg("cmd/vidprint", "eval/locate"), "nothing imports a command or an evaluation"},
		{"an evaluation imports another", pkg("eval/locate", "eval/codec"), ""},
		{"a test helper in the product", pkg("cmd/vidprint", "internal/testutil"), "only tests and evaluations"},
		{"a test helper makes footage", pkg("internal/testutil", "os/exec", "internal/embed"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Check([]Package{tt.pkg}, rules)
			switch {
			case tt.want == "" && len(got) > 0:
				t.Errorf("complaints %q, want none", got)
			case tt.want != "" && (len(got) != 1 || !strings.Contains(got[0], tt.want)):
				t.Errorf("complaints %q, want one with %q", got, tt.want)
			}
		})
	}
}

func TestParseRules(t *testing.T) {
	doc := "text\n\n| package | job | may import |\n|---|---|---|\n| `a` | x | - |\n| `b/c` | y, z | a, d |\n"
	rules, err := ParseRules(strings.NewReader(doc))
	if err != nil || len(rules) != 2 || len(rules["a"]) != 0 || !slices.Equal(rules["b/c"], []string{"a", "d"}) {
		t.Fatalf("rules %v, %v", rules, err)
	}
	for _, bad := range []string{"no table", "| `a` | x | - |\n| `a` | y | - |\n", "| `a` | - |\n"} {
		if _, err := ParseRules(strings.NewReader(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

func listPackages(t *testing.T, root string) []Package {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v: %s", err, stderr.String())
	}
	var pkgs []Package
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p Package
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}
