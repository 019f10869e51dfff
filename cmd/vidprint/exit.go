package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
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
	exitNotFound     = 1   // a search found nothing (locate, search)
	exitUsage        = 2   // bad flags or arguments
	exitInput        = 3   // an input file is missing, not a video, or damaged
	exitOutput       = 4   // an output cannot be written
	exitSetup        = 5   // ffmpeg, ONNX Runtime or a model is missing or wrong
	exitIncompatible = 6   // prints of different models were compared
	exitFailure      = 10  // anything else
	exitInterrupted  = 130 // Ctrl-C (SIGINT)
	exitTerminated   = 143 // SIGTERM
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
			return usageError("%s%v (see %s --help)", prefix(cmd), err, cmd.CommandPath())
		}
		return nil
	}
}

// commandName names a command in messages as the user typed it after
// "vidprint": "locate", "index list".
func commandName(cmd *cobra.Command) string {
	if !cmd.HasParent() {
		return cmd.Name()
	}
	return strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
}

// prefix starts a message about cmd: "index list: ", and nothing for the
// root, whose messages main prefixes with "vidprint: " already.
func prefix(cmd *cobra.Command) string {
	if !cmd.HasParent() {
		return ""
	}
	return commandName(cmd) + ": "
}

// noSubcommand is the RunE of a command that only groups others: an
// argument there is a mistyped subcommand.
func noSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError("unknown command %q for %q (see %s --help)", args[0], cmd.CommandPath(), cmd.CommandPath())
	}
	return cmd.Help()
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

// maxThreshold is above any score an alignment can reach (about 1.3 for
// the longest clips): a higher --threshold could never find anything.
const maxThreshold = 1.5

// checkThreshold refuses a --threshold that no score can be compared with.
func checkThreshold(cmd *cobra.Command, t float64) error {
	if math.IsNaN(t) || math.IsInf(t, 0) || t > maxThreshold {
		return usageError("%s--threshold must be a number up to %g (a negative one reports every candidate), got %g", prefix(cmd), maxThreshold, t)
	}
	return nil
}
