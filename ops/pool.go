package ops

import (
	"sync"
	"sync/atomic"
)

// Task is work split into index ranges. Run handles [lo, hi); worker is a
// number in [0, Pool.Threads()) unique among the goroutines running the
// same batch at one time, for indexing per-worker scratch.
type Task interface {
	Run(worker, lo, hi int)
}

// Pool is a fixed set of worker goroutines. It is safe for concurrent use:
// several Execs (sessions) may submit work at once; their batches queue.
type Pool struct {
	threads int
	work    chan *batch
	once    sync.Once
}

// NewPool starts a pool that computes on threads goroutines in total: the
// caller of a batch plus threads-1 workers. threads < 1 means 1.
func NewPool(threads int) *Pool {
	threads = max(threads, 1)
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
	for b := range p.work {
		b.drain()
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

// run executes t over [0, n) in chunks of at least minChunk indices, on the
// calling goroutine and as many workers as useful, and returns when done.
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
	b.drain()
	b.wg.Wait()
	b.task = nil
}
