// Command vidprint turns videos into prints (time series of neural
// features) and uses them to picture, summarize and search video.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The first Ctrl-C or SIGTERM cancels the work, which stops without
	// writing what it had not finished; a second one ends at once.
	var got atomic.Value // the first signal
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sigs
		got.Store(s)
		cancel()
		s = <-sigs
		os.Exit(signalCode(s))
	}()
	root, finish := newRootCmd()
	err := root.ExecuteContext(ctx)
	finish()
	if err == nil {
		return
	}
	code := exitCode(ctx, err)
	if code == exitInterrupted {
		if s, ok := got.Load().(os.Signal); ok {
			code = signalCode(s)
		}
		fmt.Fprintln(os.Stderr, "vidprint: interrupted; the output in progress was not written")
	} else if msg := oneLine(err.Error()); msg != "" {
		fmt.Fprintln(os.Stderr, "vidprint:", msg)
	}
	os.Exit(code)
}

// signalCode is the shell's exit status for a process ended by s: 128
// plus its number (130 for Ctrl-C, 143 for SIGTERM).
func signalCode(s os.Signal) int {
	if s == syscall.SIGTERM {
		return exitTerminated
	}
	return exitInterrupted
}
