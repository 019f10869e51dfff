package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vidprint/vidprint/internal/fsutil"
	"github.com/vidprint/vidprint/internal/vprint"
)

// Kinds of output, each told by its first bytes, so that an output of the
// same kind (an earlier run's) may be replaced and anything else may not.
var (
	printKind = outputKind{"a print", func(head []byte) bool { return bytes.HasPrefix(head, []byte(vprint.Magic)) }}
	pngKind   = outputKind{"a PNG image", func(head []byte) bool { return bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")) }}
	jpegKind  = outputKind{"a JPEG image", func(head []byte) bool { return bytes.HasPrefix(head, []byte{0xff, 0xd8, 0xff}) }}
	npyKind   = outputKind{"a numpy array", func(head []byte) bool { return bytes.HasPrefix(head, []byte("\x93NUMPY")) }}
	npzKind   = outputKind{"a numpy archive", func(head []byte) bool { return bytes.HasPrefix(head, []byte("PK\x03\x04")) }}
	csvKind   = outputKind{"an exported CSV", func(head []byte) bool { return bytes.HasPrefix(head, []byte("time_s,")) }}
	jsonKind  = outputKind{"a summary's index.json", func(head []byte) bool { return bytes.Contains(head, []byte(`"keyframes"`)) }}
	htmlKind  = outputKind{"a summary's index.html", func(head []byte) bool {
		return bytes.HasPrefix(head, []byte("<!doctype html>")) && bytes.Contains(head, []byte(": summary</title>"))
	}}
	// onnxKind: an ONNX model's protobuf starts with its ir_version field.
	onnxKind = outputKind{"an ONNX model", func(head []byte) bool { return len(head) > 0 && head[0] == 0x08 }}
	// noKind: nothing already there is this command's (split's pieces are
	// videos like any other).
	noKind = outputKind{"", func([]byte) bool { return false }}
)

// outputKind is what an output file is, and how to tell one.
type outputKind struct {
	name string
	is   func(head []byte) bool
}

// overwrite is what -y and --no-overwrite ask of outputs that exist.
type overwrite struct{ yes, never bool }

func addOverwriteFlags(cmd *cobra.Command, o *overwrite) {
	// -n, ffmpeg's short form of "never", is the scene count here.
	cmd.PersistentFlags().BoolVarP(&o.yes, "overwrite", "y", false, "replace output files that exist, whatever they are")
	cmd.PersistentFlags().BoolVar(&o.never, "no-overwrite", false, "never replace an output file that exists")
}

// checkOutput fails, before any work, when out cannot be written: its
// directory is not writable, it is a directory, it is one of the command's
// inputs (usage, exit 2), or it exists and may not be replaced (exit 4).
// A file that exists is replaced with -y, never with --no-overwrite, and
// by default only when it is of kind, such as an earlier run's output.
func checkOutput(cmd *cobra.Command, o overwrite, out string, kind outputKind, inputs ...string) error {
	if err := fsutil.CheckWritableDir(filepath.Dir(out)); err != nil {
		return withCode(exitOutput, fmt.Errorf("%s%w", prefix(cmd), err))
	}
	st, err := os.Stat(out)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return withCode(exitOutput, fmt.Errorf("%soutput %s: %w", prefix(cmd), out, err))
	}
	if st.IsDir() {
		return withCode(exitOutput, fmt.Errorf("%soutput %s is a directory", prefix(cmd), out))
	}
	for _, in := range inputs {
		if ist, err := os.Stat(in); err == nil && os.SameFile(st, ist) {
			return usageError("%soutput %s is the input %s; name another output", prefix(cmd), out, in)
		}
	}
	switch {
	case o.never:
		return withCode(exitOutput, fmt.Errorf("%soutput %s exists (--no-overwrite)", prefix(cmd), out))
	case o.yes:
		return nil
	case kind.is(head(out)):
		return nil
	case kind.name == "":
		return withCode(exitOutput, fmt.Errorf("%soutput %s exists; pass -y to replace it", prefix(cmd), out))
	}
	return withCode(exitOutput, fmt.Errorf("%soutput %s exists and is not %s; pass -y to replace it", prefix(cmd), out, kind.name))
}

// head is the first bytes of a file, enough to tell its kind.
func head(path string) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	b := make([]byte, 512)
	n, _ := io.ReadFull(f, b)
	return b[:n]
}

// writeJSON writes v as one line of JSON: a stream of such lines is read
// one object at a time (docs/json.md).
func writeJSON(w io.Writer, v any) error {
	return json.NewEncoder(w).Encode(v)
}

// plural counts n of a noun: "1 keyframe", "2 keyframes".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// outputDir makes dir, where a command writes several files, if it is
// missing, and checks that files can be created in it. The returned
// function, deferred, removes a directory made here that is still empty
// (the command failed or was interrupted before writing anything).
func outputDir(cmd *cobra.Command, dir string) (func(), error) {
	_, statErr := os.Stat(dir)
	made := errors.Is(statErr, os.ErrNotExist)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return func() {}, withCode(exitOutput, fmt.Errorf("%soutput directory %s: %w", prefix(cmd), dir, err))
	}
	cleanup := func() {}
	if made {
		cleanup = func() { os.Remove(dir) } // fails, as it should, unless empty
	}
	if err := fsutil.CheckWritableDir(dir); err != nil {
		cleanup()
		return func() {}, withCode(exitOutput, fmt.Errorf("%s%w", prefix(cmd), err))
	}
	return cleanup, nil
}

// defaultOutput names the output of input when -o is not given: its base
// name with suffix in place of its extension, in the current directory.
func defaultOutput(input, suffix string) string {
	b := filepath.Base(input)
	return strings.TrimSuffix(b, filepath.Ext(b)) + suffix
}
