package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// stopSignals are the signals that stop q3m, all in the same way.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// interrupts turns SIGINT, SIGTERM and SIGHUP into the cancellation of the
// command's context: the command stops at its next check and its deferred
// cleanups run (temporary files, the demo's directory), the same for the
// three signals. A second signal runs the registered cleanups and exits at
// once. While a handler is installed with onInterrupt (the REPL answering),
// SIGINT goes to it instead.
type interrupts struct {
	cancel context.CancelFunc
	exit   func(code int)
	errw   io.Writer

	mu       sync.Mutex
	first    os.Signal
	next     int
	cleanups map[int]func()
	handler  func()
}

type interruptsKey struct{}

// newInterrupts returns a context cancelled at the first signal received
// on sigs (from signal.Notify, or a test), and the interrupts.
func newInterrupts(parent context.Context, sigs <-chan os.Signal, exit func(int), errw io.Writer) (context.Context, *interrupts) {
	in := &interrupts{exit: exit, errw: errw, cleanups: map[int]func(){}}
	ctx, cancel := context.WithCancel(parent)
	in.cancel = cancel
	ctx = context.WithValue(ctx, interruptsKey{}, in)
	go func() {
		for s := range sigs {
			in.receive(s)
		}
	}()
	return ctx, in
}

// watchSignals starts interrupts on the process's stop signals.
func watchSignals() (context.Context, *interrupts) {
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, stopSignals...)
	return newInterrupts(context.Background(), ch, os.Exit, os.Stderr)
}

func (in *interrupts) receive(s os.Signal) {
	in.mu.Lock()
	if s == os.Interrupt && in.handler != nil {
		h := in.handler
		in.mu.Unlock()
		h()
		return
	}
	if in.first == nil {
		in.first = s
		in.mu.Unlock()
		in.cancel()
		return
	}
	var fns []func()
	for _, f := range in.cleanups {
		fns = append(fns, f)
	}
	in.cleanups = map[int]func(){}
	in.mu.Unlock()
	for _, f := range fns {
		f()
	}
	fmt.Fprintf(in.errw, "q3m: %s again: exiting at once\n", signalName(s))
	in.exit(exitCode(s))
}

// received returns the first stop signal received, or nil.
func (in *interrupts) received() os.Signal {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.first
}

// atExit registers f to run if a second signal ends the process before
// the command's own cleanup; the returned function unregisters it.
func atExit(ctx context.Context, f func()) (unregister func()) {
	in, ok := ctx.Value(interruptsKey{}).(*interrupts)
	if !ok {
		return func() {}
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	id := in.next
	in.next++
	in.cleanups[id] = f
	return func() {
		in.mu.Lock()
		delete(in.cleanups, id)
		in.mu.Unlock()
	}
}

// onInterrupt makes SIGINT call h instead of stopping q3m, until the
// returned function is called. SIGTERM and SIGHUP still stop q3m.
func onInterrupt(ctx context.Context, h func()) (restore func()) {
	in, ok := ctx.Value(interruptsKey{}).(*interrupts)
	if !ok {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, os.Interrupt)
		done := make(chan struct{})
		go func() {
			select {
			case <-ch:
				h()
			case <-done:
			}
		}()
		return func() { signal.Stop(ch); close(done) }
	}
	in.mu.Lock()
	prev := in.handler
	in.handler = h
	in.mu.Unlock()
	return func() {
		in.mu.Lock()
		in.handler = prev
		in.mu.Unlock()
	}
}

// exitCode is the shell's status for a process ended by s: 128 + its number.
func exitCode(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return 1
}

func signalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return s.String()
}
