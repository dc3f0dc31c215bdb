package ops

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
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

// rangeTask records the ranges it is given.
type rangeTask struct {
	mu     sync.Mutex
	ranges [][2]int
}

func (r *rangeTask) Run(_, lo, hi int) {
	r.mu.Lock()
	r.ranges = append(r.ranges, [2]int{lo, hi})
	r.mu.Unlock()
}

// Every index is run once, in ranges that start at multiples of minChunk
// and span a multiple of it (but the last), larger ones first.
func TestPoolRunsEveryIndexOnceInChunkMultiples(t *testing.T) {
	for _, threads := range []int{1, 2, 3, 8} {
		p := NewPool(threads)
		e := NewExec(p)
		for _, n := range []int{1, 15, 16, 17, 100, 12288} {
			for _, minChunk := range []int{1, 4, 16} {
				var rt rangeTask
				e.pool.run(&e.batch, &rt, n, minChunk)
				seen := make([]int, n)
				for _, r := range rt.ranges {
					lo, hi := r[0], r[1]
					if lo < 0 || hi > n || lo >= hi || lo%minChunk != 0 || (hi != n && (hi-lo)%minChunk != 0) {
						t.Fatalf("threads=%d n=%d minChunk=%d: range [%d, %d)", threads, n, minChunk, lo, hi)
					}
					for i := lo; i < hi; i++ {
						seen[i]++
					}
				}
				for i, c := range seen {
					if c != 1 {
						t.Fatalf("threads=%d n=%d minChunk=%d: index %d run %d times", threads, n, minChunk, i, c)
					}
				}
				if threads > 1 && n >= 8*minChunk*threads {
					// Claimed in order, each about 1/(2·threads) of what was left.
					sort.Slice(rt.ranges, func(i, j int) bool { return rt.ranges[i][0] < rt.ranges[j][0] })
					first, last := rt.ranges[0], rt.ranges[len(rt.ranges)-1]
					if want := n / (2 * threads) / minChunk * minChunk; first[1]-first[0] < want {
						t.Errorf("threads=%d n=%d minChunk=%d: first range %v, want %d indices or more", threads, n, minChunk, first, want)
					}
					if last[1]-last[0] > minChunk {
						t.Errorf("threads=%d n=%d minChunk=%d: last range %v, want %d indices or fewer", threads, n, minChunk, last, minChunk)
					}
				}
			}
		}
		p.Close()
	}
}

// Workers poll for a while after a batch, then park: an idle pool does
// not keep a processor busy.
func TestPoolWorkersParkWhenIdle(t *testing.T) {
	p := NewPool(3)
	defer p.Close()
	e := NewExec(p)
	e.pool.run(&e.batch, &rangeTask{}, 1000, 1)
	parked := func() (int, string) {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		n := 0
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "ops.(*Pool).worker") && strings.Contains(g, "[chan receive") {
				n++
			}
		}
		return n, string(buf)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, stacks := parked()
		if n == 2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 2 workers parked 5 s after their batch:\n%s", n, stacks)
		}
		time.Sleep(time.Millisecond)
	}
}

// Polling goroutines yield the processor: with one processor and four
// goroutines per batch, batches still complete, every index once.
func TestPoolRunsOnOneProcessor(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	p := NewPool(4)
	defer p.Close()
	e := NewExec(p)
	done := make(chan int)
	go func() {
		n := 0
		for range 200 {
			ok := &panicTask{bad: -1}
			e.pool.run(&e.batch, ok, 1000, 1)
			n += int(ok.done.Load())
		}
		done <- n
	}()
	select {
	case n := <-done:
		if n != 200*1000 {
			t.Errorf("%d indices run, want %d", n, 200*1000)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("200 batches on one processor did not finish in 30 s")
	}
}

// TestPoolSpinsBrieflyWhenOversubscribed: a pool with more goroutines
// than processors polls for work only briefly before parking.
func TestPoolSpinsBrieflyWhenOversubscribed(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	for _, c := range []struct {
		threads int
		want    time.Duration
	}{{1, spinFor}, {procs, spinFor}, {procs + 1, spinOversubscribed}, {MaxThreads, spinOversubscribed}} {
		p := NewPool(c.threads)
		if p.spin != c.want {
			t.Errorf("NewPool(%d) with GOMAXPROCS %d spins %v, want %v", c.threads, procs, p.spin, c.want)
		}
		p.Close()
	}
}
