package ops

import (
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// panicTask counts the indices it runs and panics on index bad (-1: never).
type panicTask struct {
	done atomic.Int64
	bad  int
}

func (c *panicTask) Run(worker, lo, hi int) {
	for i := lo; i < hi; i++ {
		if i == c.bad {
			panic(fmt.Sprintf("index %d", i))
		}
		c.done.Add(1)
	}
}

// runCatching runs t on e's pool and returns what it panicked with.
func runCatching(e *Exec, t Task, n int) (r any) {
	defer func() { r = recover() }()
	e.pool.run(&e.batch, t, n, 1)
	return nil
}

func TestPoolCarriesAWorkerPanicToTheCaller(t *testing.T) {
	p := NewPool(4)
	defer p.Close()
	e := NewExec(p)
	const n = 400
	// Chunks are taken in order, so an index near the end is run by
	// whichever goroutine gets there: each position is tried.
	for _, bad := range []int{0, n / 2, n - 1} {
		r := runCatching(e, &panicTask{bad: bad}, n)
		if s, _ := r.(string); !strings.Contains(s, fmt.Sprintf("index %d", bad)) || !strings.Contains(s, "goroutine") {
			t.Errorf("panic at index %d reached the caller as %v", bad, r)
		}
		// The pool is whole afterwards: a clean task runs every index.
		ok := &panicTask{bad: -1}
		if r := runCatching(e, ok, n); r != nil || ok.done.Load() != n {
			t.Fatalf("after a panic: %v, %d of %d indices run", r, ok.done.Load(), n)
		}
	}
}

func TestNewPoolCapsItsThreads(t *testing.T) {
	before := runtime.NumGoroutine()
	p := NewPool(1_000_000)
	defer p.Close()
	if p.Threads() != MaxThreads {
		t.Errorf("NewPool(1e6) computes on %d goroutines, want %d", p.Threads(), MaxThreads)
	}
	if g := runtime.NumGoroutine() - before; g > MaxThreads {
		t.Errorf("NewPool(1e6) started %d goroutines", g)
	}
	p.Close()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+10 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before+10 {
		t.Errorf("%d goroutines left after Close, %d before", g, before)
	}
}
