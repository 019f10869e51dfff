package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vidprint/vidprint/internal/decode"
	"github.com/vidprint/vidprint/internal/fsutil"
	"github.com/vidprint/vidprint/internal/library"
	"github.com/vidprint/vidprint/internal/model"
	"github.com/vidprint/vidprint/internal/vprint"
)

// Exit codes, documented in the README.
const (
	exitOK           = 0
	exitNotFound     = 1  // a search found nothing (locate, search)
	exitUsage        = 2  // bad flags or arguments
	exitInput        = 3  // an input file is missing, not a video, or damaged
	exitOutput       = 4  // an output cannot be written
	exitSetup        = 5  // ffmpeg, ONNX Runtime or a model is missing or wrong
	exitIncompatible = 6  // prints of different models were compared
	exitFailure      = 10 // anything else
	exitInterrupted  = 130
)

// codedError carries an exit code up to main.
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &codedError{code, err}
}

func usageError(format string, args ...any) error {
	return withCode(exitUsage, fmt.Errorf(format, args...))
}

// usageArgs makes cobra's argument-count errors usage errors.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usageError("%s: %v (see vidprint %s --help)", cmd.Name(), err, cmd.Name())
		}
		return nil
	}
}

func exitCode(ctx context.Context, err error) int {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return exitInterrupted
	}
	var ce *codedError
	if errors.As(err, &ce) {
		return ce.code
	}
	switch {
	case errors.Is(err, model.ErrUnknownOutput):
		return exitUsage
	case errors.Is(err, vprint.ErrWrite), errors.Is(err, fsutil.ErrWrite), errors.Is(err, library.ErrStorage):
		return exitOutput
	case errors.Is(err, vprint.ErrIncompatible), errors.Is(err, library.ErrModel):
		return exitIncompatible
	case errors.Is(err, decode.ErrMissingTool), errors.Is(err, model.ErrRuntime),
		errors.Is(err, model.ErrNotInstalled), errors.Is(err, model.ErrChecksum),
		errors.Is(err, model.ErrUnknownModel), errors.Is(err, model.ErrModelFile):
		return exitSetup
	case errors.Is(err, decode.ErrNotFound), errors.Is(err, decode.ErrDirectory),
		errors.Is(err, decode.ErrEmpty), errors.Is(err, decode.ErrNotVideo),
		errors.Is(err, decode.ErrNoVideo), errors.Is(err, decode.ErrStillImage),
		errors.Is(err, decode.ErrDecode), errors.Is(err, decode.ErrTruncated),
		errors.Is(err, decode.ErrUnreadable), errors.Is(err, vprint.ErrFormat),
		errors.Is(err, library.ErrNotLibrary),
		errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission):
		return exitInput
	}
	// cobra reports an unknown command from Execute, untyped.
	if strings.HasPrefix(err.Error(), "unknown command") {
		return exitUsage
	}
	return exitFailure
}

// oneLine keeps error output to one line whatever a child process said.
func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\r", " ")
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}
