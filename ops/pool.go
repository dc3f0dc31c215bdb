package ops

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// MaxThreads is the largest number of goroutines a Pool computes on;
// NewPool caps its argument there, so that a thread count taken from a
// user cannot start millions of goroutines.
const MaxThreads = 1024

// Task is work split into index ranges. Run handles [lo, hi); worker is a
// number in [0, Pool.Threads()) unique among the goroutines running the
// same batch at one time, for indexing per-worker scratch.
type Task interface {
	Run(worker, lo, hi int)
}

// Pool is a fixed set of worker goroutines. It is safe for concurrent use:
// several Execs (sessions) may submit work at once; their batches queue.
//
// The workers run with debug.SetPanicOnFault on, so that a memory fault
// reading a task's data (a mapped file truncated under it) becomes a
// panic; a panic in a worker is carried to the goroutine that submitted
// the batch and raised there once the batch is done, where the caller can
// recover it.
type Pool struct {
	threads int
	spin    time.Duration // how long a goroutine waiting for work polls
	work    chan *batch
	once    sync.Once
}

// NewPool starts a pool that computes on threads goroutines in total: the
// caller of a batch plus threads-1 workers. threads < 1 means 1; threads
// above MaxThreads means MaxThreads.
func NewPool(threads int) *Pool {
	threads = min(max(threads, 1), MaxThreads)
	p := &Pool{threads: threads, spin: spinFor, work: make(chan *batch, 4*threads)}
	if threads > runtime.GOMAXPROCS(0) {
		p.spin = spinOversubscribed
	}
	for range threads - 1 {
		go p.worker()
	}
	return p
}

// Threads returns the number of goroutines that compute a batch.
func (p *Pool) Threads() int {
	if p == nil {
		return 1
	}
	return p.threads
}

// Close stops the workers. Batches must not be submitted afterwards.
func (p *Pool) Close() {
	if p != nil {
		p.once.Do(func() { close(p.work) })
	}
}

// spinFor is how long a goroutine that waits for work (a worker for a
// batch, a batch's submitter for its helpers) polls before it parks: a
// decode step runs about six batches per layer with serial stretches
// between them (routing, the expert pager's advice, sampling between
// tokens) of up to a few hundred microseconds, and waking a parked
// goroutine costs 100–200 µs on a virtual machine (a batch's helper then
// joins that late, its share read by the submitter alone). A pool with
// more goroutines than processors spins only spinOversubscribed: there
// the spinning goroutines take the processors from the working ones.
const (
	spinFor            = time.Millisecond
	spinOversubscribed = 50 * time.Microsecond
)

// spinUntil polls done, yielding the processor between polls, until it
// returns true or d has passed.
func spinUntil(d time.Duration, done func() bool) {
	var deadline time.Time
	for i := 0; !done(); i++ {
		if i&31 == 31 {
			now := time.Now()
			if deadline.IsZero() {
				deadline = now.Add(d)
			} else if now.After(deadline) {
				return
			}
		}
		runtime.Gosched()
	}
}

func (p *Pool) worker() {
	debug.SetPanicOnFault(true)
	for {
		var b *batch
		ok := true
		spinUntil(p.spin, func() bool {
			select {
			case b, ok = <-p.work:
				return true
			default:
				return false
			}
		})
		if b == nil && ok {
			b, ok = <-p.work
		}
		if !ok {
			return
		}
		b.drainCatching()
		b.left.Add(-1)
		b.wg.Done()
	}
}

// batch is one parallel run of a Task; it is reused, owned by an Exec.
// Its goroutines claim ranges of indices from next, each about
// 1/(2·threads) of what is left, in multiples of chunk, so that they finish
// within a small range of each other.
type batch struct {
	task    Task
	total   int
	chunk   int
	threads int
	next    atomic.Int64
	joined  atomic.Int64
	left    atomic.Int32 // helpers still running the batch
	wg      sync.WaitGroup

	mu     sync.Mutex
	failed *workerPanic // the first panic of a goroutine running the batch
}

// workerPanic is a panic caught while running a batch.
type workerPanic struct {
	value any
	stack []byte
}

func (b *batch) drain() {
	w := int(b.joined.Add(1) - 1)
	for {
		lo, hi, ok := b.claim()
		if !ok {
			return
		}
		b.task.Run(w, lo, hi)
	}
}

// claim takes the next range of indices, and false when none is left.
func (b *batch) claim() (lo, hi int, ok bool) {
	for {
		next := b.next.Load()
		lo = int(next)
		if lo >= b.total {
			return 0, 0, false
		}
		n := (b.total - lo) / (2 * b.threads)
		n = max(b.chunk, (n+b.chunk-1)/b.chunk*b.chunk)
		hi = min(lo+n, b.total)
		if b.next.CompareAndSwap(next, int64(hi)) {
			return lo, hi, true
		}
	}
}

// drainCatching is drain, recording a panic instead of letting it unwind:
// the other goroutines finish the batch and its submitter raises it.
func (b *batch) drainCatching() {
	defer func() {
		if r := recover(); r != nil {
			b.mu.Lock()
			if b.failed == nil {
				b.failed = &workerPanic{value: r, stack: debug.Stack()}
			}
			b.mu.Unlock()
			b.next.Store(int64(b.total)) // the batch is lost: skip its other ranges
		}
	}()
	b.drain()
}

// run executes t over [0, n) in ranges of at least minChunk indices (each
// a multiple of it but the last), on the calling goroutine and as many
// workers as useful, and returns when done.
// If the task panicked on any goroutine, run panics on the caller's once
// every goroutine has left the batch: with the original value for a memory
// fault (a runtime.Error with an Addr method, which the caller may
// recover), else with the value and the stack of the goroutine that
// panicked.
func (p *Pool) run(b *batch, t Task, n, minChunk int) {
	if n <= 0 {
		return
	}
	threads := p.Threads()
	chunk := max(minChunk, 1)
	chunks := (n + chunk - 1) / chunk
	if threads == 1 || chunks == 1 {
		t.Run(0, 0, n)
		return
	}
	b.task, b.total, b.chunk, b.threads = t, n, chunk, threads
	b.next.Store(0)
	b.joined.Store(0)
	helpers := min(threads-1, chunks-1)
	b.left.Store(int32(helpers))
	b.wg.Add(helpers)
	for range helpers {
		p.work <- b
	}
	b.drainCatching()
	spinUntil(p.spin, func() bool { return b.left.Load() == 0 })
	b.wg.Wait()
	b.task = nil
	if f := b.failed; f != nil {
		b.failed = nil
		if _, ok := f.value.(interface{ Addr() uintptr }); ok {
			panic(f.value) // a memory fault: the caller may recover it
		}
		panic(fmt.Sprintf("%v\n\ngoroutine running the batch:\n%s", f.value, f.stack))
	}
}
