//go:build unix

package main

import (
	"os"
	"os/signal"
	"syscall"
)

// watchResize calls resize with width() each time the terminal is resized
// (SIGWINCH), until the returned stop is called.
func watchResize(width func() int, resize func(int)) (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGWINCH)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range ch {
			resize(width())
		}
	}()
	return func() {
		signal.Stop(ch)
		close(ch)
		<-done
	}
}
