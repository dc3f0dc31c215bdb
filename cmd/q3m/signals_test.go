package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestInterruptsStopTheSameWayForEverySignal: the first SIGINT, SIGTERM or
// SIGHUP cancels the context and leaves the cleanup to the command; a
// second signal runs the registered cleanups and exits with 128+signal.
func TestInterruptsStopTheSameWayForEverySignal(t *testing.T) {
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(signalName(sig), func(t *testing.T) {
			sigs := make(chan os.Signal)
			exited := make(chan int, 1)
			var errw bytes.Buffer
			ctx, in := newInterrupts(context.Background(), sigs, func(code int) { exited <- code }, &errw)
			tmp := t.TempDir()
			cleaned := filepath.Join(tmp, "staging")
			if err := os.Mkdir(cleaned, 0o700); err != nil {
				t.Fatal(err)
			}
			atExit(ctx, func() { os.RemoveAll(cleaned) })
			forgotten := filepath.Join(tmp, "forgotten")
			os.Mkdir(forgotten, 0o700)
			atExit(ctx, func() { os.RemoveAll(forgotten) })() // unregistered at once

			sigs <- sig
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("first signal did not cancel the context")
			}
			if in.received() != sig {
				t.Errorf("received %v", in.received())
			}
			if _, err := os.Stat(cleaned); err != nil {
				t.Error("the first signal ran the cleanups; the command's own defers do that")
			}
			sigs <- sig
			select {
			case code := <-exited:
				if want := 128 + int(sig.(syscall.Signal)); code != want {
					t.Errorf("exit code %d, want %d", code, want)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("second signal did not exit")
			}
			if _, err := os.Stat(cleaned); !errors.Is(err, os.ErrNotExist) {
				t.Error("the second signal left the registered temporary directory")
			}
			if _, err := os.Stat(forgotten); err != nil {
				t.Error("an unregistered cleanup ran")
			}
			if !strings.Contains(errw.String(), signalName(sig)) {
				t.Errorf("message %q does not name the signal", errw.String())
			}
		})
	}
}

// TestInterruptsGiveSIGINTToTheREPLOnly: while the REPL answers, Ctrl-C
// stops the answer and q3m goes on; SIGTERM still stops q3m.
func TestInterruptsGiveSIGINTToTheREPLOnly(t *testing.T) {
	sigs := make(chan os.Signal)
	ctx, _ := newInterrupts(context.Background(), sigs, func(int) { t.Error("exited") }, io.Discard)
	var mu sync.Mutex
	calls := 0
	restore := onInterrupt(ctx, func() { mu.Lock(); calls++; mu.Unlock() })
	sigs <- os.Interrupt
	sigs <- os.Interrupt
	sigs <- os.Interrupt
	mu.Lock()
	n := calls
	mu.Unlock()
	if n < 2 || ctx.Err() != nil {
		t.Errorf("handler called %d times, context %v; want the handler, not cancellation", n, ctx.Err())
	}
	sigs <- syscall.SIGTERM
	<-ctx.Done()
	restore()
}

// TestCLISignalsCleanUpTheDemo sends SIGTERM and SIGHUP to the demo while
// it works: the process ends with 128+signal and its temporary directory
// (checkpoint, staged GGUF) is gone, as for SIGINT.
func TestCLISignalsCleanUpTheDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo synthesizes a 150 MB checkpoint")
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(signalName(sig), func(t *testing.T) {
			tmp := t.TempDir()
			cmd := q3mCommand("demo", "-n", "64")
			cmd.Env = append(cmd.Env, "TMPDIR="+tmp)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				skipIfNotExecutable(t, err)
				t.Fatal(err)
			}
			sc := bufio.NewScanner(stdout)
			for sc.Scan() && !strings.HasPrefix(sc.Text(), "1. synthesized") {
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, stdout)
			err = cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 128+int(sig) {
				t.Errorf("exit %v, want status %d; stderr %q", err, 128+int(sig), stderr.String())
			}
			if !strings.Contains(stderr.String(), "interrupted ("+signalName(sig)+")") {
				t.Errorf("stderr %q", stderr.String())
			}
			if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
				t.Errorf("TMPDIR holds %v after %s", ents, signalName(sig))
			}
		})
	}
}

// TestRunREPLStopsOnSIGTERMAndSIGHUP: at the prompt (the line editor
// waiting), SIGTERM and SIGHUP end q3m as SIGINT ends other commands,
// with 128+signal; the REPL's own Ctrl-C handling is unchanged.
func TestRunREPLStopsOnSIGTERMAndSIGHUP(t *testing.T) {
	path, _ := chatTestModel(t, 256)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(signalName(sig), func(t *testing.T) {
			cmd := q3mCommand("run", "-m", path, "--history", "", "--threads", "1")
			tm := startTerminal(t, cmd)
			tm.expect(`>>> `)
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			errc := make(chan error, 1)
			go func() { errc <- cmd.Wait() }()
			select {
			case err := <-errc:
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.ExitCode() != 128+int(sig) {
					t.Errorf("exit %v, want status %d", err, 128+int(sig))
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("q3m did not exit after %s", signalName(sig))
			}
		})
	}
}
