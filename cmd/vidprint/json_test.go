package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/vidprint/vidprint/internal/testutil"
)

// schemas compiles docs/schema's schemas by name ("embed" for
// embed.schema.json).
func schemas(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	dir := filepath.Join("..", "..", "docs", "schema")
	files, err := filepath.Glob(filepath.Join(dir, "*.schema.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no schemas in %s: %v", dir, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	out := map[string]*jsonschema.Schema{}
	for _, f := range files {
		abs, _ := filepath.Abs(f)
		s, err := c.Compile(abs)
		if err != nil {
			t.Fatalf("schema %s: %v", f, err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".schema.json")] = s
	}
	return out
}

// validate checks every line of out (one JSON value a line, or one
// indented value) against the schema, and that there is at least one.
func validate(t *testing.T, s *jsonschema.Schema, what, out string) {
	t.Helper()
	var values []string
	if strings.HasPrefix(strings.TrimSpace(out), "{\n") || strings.HasPrefix(strings.TrimSpace(out), "[\n") {
		values = []string{out} // indented: one value
	} else {
		sc := bufio.NewScanner(strings.NewReader(out))
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) != "" {
				values = append(values, sc.Text())
			}
		}
	}
	if len(values) == 0 {
		t.Errorf("%s: no JSON on stdout", what)
	}
	for _, v := range values {
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(v))
		if err != nil {
			t.Errorf("%s: not JSON: %v\n%s", what, err, v)
			continue
		}
		if err := s.Validate(inst); err != nil {
			t.Errorf("%s: does not match its schema: %v\n%s", what, err, v)
		}
	}
}

// TestJSONSchemas runs every command that reports anything with --json on
// real footage and checks its output against docs/schema; every schema is
// used.
func TestJSONSchemas(t *testing.T) {
	needModel(t)
	sch := schemas(t)
	dir := t.TempDir()
	mm := testutil.Footage(t, "Megamind.avi")
	vt := testutil.Footage(t, "vtest.avi")
	testutil.FFmpegGen(t, dir, "clip.mp4", "-ss", "3", "-i", mm, "-t", "5", "-vf", "hflip,scale=iw/2:-2", "-an")
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a video"), 0o644)
	used := map[string]bool{}
	check := func(schema string, codes []int, args ...string) {
		t.Helper()
		used[schema] = true
		r := run(t, dir, args...)
		ok := false
		for _, c := range codes {
			ok = ok || r.code == c
		}
		if !ok {
			t.Errorf("%v: exit %d, want one of %v: %s", args, r.code, codes, r.stderr)
			return
		}
		validate(t, sch[schema], strings.Join(args, " "), r.stdout)
	}
	zero := []int{0}
	check("embed", zero, "embed", "--json", "-q", mm, "-o", "mm.vprint")
	check("embed", zero, "embed", "--json", "-q", mm, vt, "-o", "prints")
	check("info", zero, "info", "--json", "mm.vprint")
	check("info", zero, "info", "--json", "mm.vprint", "prints/vtest.vprint")
	check("export", zero, "export", "--json", "mm.vprint", "--format", "npz")
	check("export", zero, "export", "--json", "mm.vprint", "--format", "npy", "-o", "mm.npy")
	check("compare", zero, "compare", "--json", "mm.vprint", "mm.vprint")
	check("picture", zero, "picture", "--json", "mm.vprint", "-o", "mm.png")
	check("scenes", zero, "scenes", "--json", "mm.vprint")
	check("summary", zero, "summary", "--json", "-q", mm, "-o", "summary")
	check("split", zero, "split", "--json", "-q", mm, "-o", "pieces")
	check("locate", zero, "locate", "--json", "-q", "clip.mp4", "mm.vprint")
	check("locate", []int{exitNotFound}, "locate", "--json", "-q", "clip.mp4", "prints/vtest.vprint")
	check("index-add", []int{exitInput}, "index", "add", "--json", "-q", "--library", "lib", mm, vt, "notes.txt")
	check("index-add", zero, "index", "add", "--json", "-q", "--library", "lib", mm)
	check("index-list", zero, "index", "list", "--json", "--library", "lib")
	check("index-stats", zero, "index", "stats", "--json", "--library", "lib")
	check("locate", zero, "search", "--json", "-q", "--library", "lib", "clip.mp4")
	check("dedup", zero, "dedup", "--json", "-q", "--library", "lib")
	check("index-remove", zero, "index", "remove", "--json", "--library", "lib", "2")
	check("models", zero, "models", "--json")
	check("cache", zero, "cache", "--json")
	check("cache", zero, "cache", "clear", "--json")
	check("models-convert", zero, "models", "convert", "--json", testutil.QvacGGUF(t), "-o", "m.onnx")
	for name := range sch {
		if !used[name] {
			t.Errorf("docs/schema/%s.schema.json is checked by no command", name)
		}
	}
}
