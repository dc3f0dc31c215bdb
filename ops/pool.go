package ops

import (
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
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
	work    chan *batch
	once    sync.Once
}

// NewPool starts a pool that computes on threads goroutines in total: the
// caller of a batch plus threads-1 workers. threads < 1 means 1; threads
// above MaxThreads means MaxThreads.
func NewPool(threads int) *Pool {
	threads = min(max(threads, 1), MaxThreads)
	p := &Pool{threads: threads, work: make(chan *batch, 4*threads)}
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

func (p *Pool) worker() {
	debug.SetPanicOnFault(true)
	for b := range p.work {
		b.drainCatching()
		b.wg.Done()
	}
}

// batch is one parallel run of a Task; it is reused, owned by an Exec.
type batch struct {
	task   Task
	total  int
	chunk  int
	chunks int
	next   atomic.Int64
	joined atomic.Int64
	wg     sync.WaitGroup

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
		c := int(b.next.Add(1) - 1)
		if c >= b.chunks {
			return
		}
		lo := c * b.chunk
		b.task.Run(w, lo, min(lo+b.chunk, b.total))
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
			b.next.Store(int64(b.chunks)) // the batch is lost: skip its other chunks
		}
	}()
	b.drain()
}

// run executes t over [0, n) in chunks of at least minChunk indices, on the
// calling goroutine and as many workers as useful, and returns when done.
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
	// About four chunks per thread balances uneven progress.
	chunk := max(minChunk, (n+4*threads-1)/(4*threads), 1)
	chunks := (n + chunk - 1) / chunk
	if threads == 1 || chunks == 1 {
		t.Run(0, 0, n)
		return
	}
	b.task, b.total, b.chunk, b.chunks = t, n, chunk, chunks
	b.next.Store(0)
	b.joined.Store(0)
	helpers := min(threads-1, chunks-1)
	b.wg.Add(helpers)
	for range helpers {
		p.work <- b
	}
	b.drainCatching()
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
