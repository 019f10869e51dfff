// Command vidprint turns videos into prints (time series of neural
// features) and uses them to picture, summarize and search video.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// After the first Ctrl-C a second one ends the process at once.
	context.AfterFunc(ctx, stop)
	err := newRootCmd().ExecuteContext(ctx)
	if err == nil {
		return
	}
	code := exitCode(ctx, err)
	if code == exitInterrupted {
		fmt.Fprintln(os.Stderr, "vidprint: interrupted; the output in progress was not written")
	} else if msg := oneLine(err.Error()); msg != "" {
		fmt.Fprintln(os.Stderr, "vidprint:", msg)
	}
	os.Exit(code)
}
