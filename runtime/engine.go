package runtime

import (
	"context"
	"errors"
	"fmt"
	goruntime "runtime"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/q3m/q3m/ops"
)

// ErrEngineClosed is wrapped by the errors of an Engine's use after its
// Close.
var ErrEngineClosed = errors.New("runtime: engine closed")

// EngineOptions configures an Engine.
type EngineOptions struct {
	// Seqs is the most sequences one step advances; more wait for the next
	// step. 0 means 4.
	Seqs int
	// StepTokens is the most token rows one step computes: one per
	// decoding sequence, then prompt tokens of sequences evaluating a
	// prompt. It bounds the engine's scratch memory. 0 means Seqs+32.
	StepTokens int
	// Threads is the number of goroutines computing, as in SessionOptions.
	Threads int
	// Wait bounds how long a step waits for every attached sequence's next
	// tokens before it runs with those that came. 0 means half the last
	// step's time, within [1ms, 50ms]: the time the sequences that just got
	// their logits need to sample, with room for a busy machine.
	Wait time.Duration
}

// EngineStats counts an Engine's steps since it started.
type EngineStats struct {
	Steps  uint64 // forward passes
	Tokens uint64 // token rows computed
	Seqs   uint64 // sequences advanced, summed over steps
}

// Engine advances many Sessions of one Model together: every step is one
// forward pass in which the token rows of all waiting sequences go through
// the shared matrix products at once (attention projections, router,
// experts, LM head), while attention runs per sequence against its own KV
// cache and positions. Routed experts are grouped by expert across all the
// sequences, so each chosen expert's weights are read once per step for
// every sequence that chose it. Sequences join and leave between steps
// (continuous batching); a long prompt is evaluated in chunks that share
// steps with the decoding sequences.
//
// A sequence's logits are the same, bit for bit, as its Session's Eval
// would give alone: every row is computed independently of the others.
//
// Use Attach to put a Session on the engine and Sequence.Eval in place of
// Session.Eval. An Engine is safe for concurrent use; one goroutine owns
// the step loop. Model.Close while it runs makes every evaluation fail
// with ErrClosed.
type Engine struct {
	m       *Model
	cfg     Config
	exec    *ops.Exec
	buf     batchScratch
	experts expertSource // where the experts' weights are read from
	seqsMax int
	rowsMax int
	wait    time.Duration // EngineOptions.Wait

	submit   chan *evalRequest // unbuffered: a request sent is owned by the loop
	wake     chan struct{}     // a sequence detached
	quit     chan struct{}     // closed by Close
	done     chan struct{}     // closed when the loop returns
	once     sync.Once
	attached atomic.Int64

	// The loop's own state.
	pending  []*evalRequest
	step     []stepSeq
	taken    []*evalRequest
	timer    *time.Timer
	lastStep time.Duration

	stats struct {
		sync.Mutex
		EngineStats
	}
}

// NewEngine starts an engine on m.
func (m *Model) NewEngine(o EngineOptions) (*Engine, error) {
	if o.Seqs < 0 || o.StepTokens < 0 || o.Threads < 0 || o.Threads > ops.MaxThreads || o.Wait < 0 {
		return nil, fmt.Errorf("runtime: engine: options %+v outside their ranges", o)
	}
	if m.cfg.Head.Class != CausalLM {
		return nil, fmt.Errorf("runtime: engine: the model is a %s, without logits over the vocabulary", m.cfg.Head.Class)
	}
	seqs := o.Seqs
	if seqs == 0 {
		seqs = 4
	}
	rows := o.StepTokens
	if rows == 0 {
		rows = seqs + 32
	}
	if rows < seqs {
		return nil, fmt.Errorf("runtime: engine: %d tokens a step cannot hold one for each of %d sequences", rows, seqs)
	}
	threads := o.Threads
	if threads == 0 {
		threads = min(goruntime.NumCPU(), ops.MaxThreads)
	}
	if err := m.acquire(); err != nil {
		return nil, err
	}
	defer m.release()
	c := m.cfg
	e := &Engine{
		m: m, cfg: c, exec: ops.NewExec(m.pool(threads)), buf: newBatchScratch(c, rows, seqs), experts: expertSource{m: m},
		seqsMax: seqs, rowsMax: rows, wait: o.Wait,
		submit: make(chan *evalRequest), wake: make(chan struct{}, 1),
		quit: make(chan struct{}), done: make(chan struct{}),
		timer: time.NewTimer(time.Hour),
	}
	e.timer.Stop()
	k := max(c.ExpertsUsed, 1)
	e.exec.Reserve(rows*k, max(c.Hidden, c.FFN, c.ExpertFFN, c.Heads*c.HeadDim), firstKV, ops.Attn{Heads: c.Heads, KVHeads: c.KVHeads})
	go e.loop()
	return e, nil
}

// Close stops the engine: evaluations waiting or in progress fail with an
// error wrapping ErrEngineClosed (after the step in progress, if any), as
// does every later one. The attached Sessions stay usable on their own.
// Close may be called more than once.
func (e *Engine) Close() error {
	e.once.Do(func() { close(e.quit) })
	<-e.done
	return nil
}

// Stats returns the engine's counters.
func (e *Engine) Stats() EngineStats {
	e.stats.Lock()
	defer e.stats.Unlock()
	return e.stats.EngineStats
}

// Sequence is a Session attached to an Engine: its evaluations go through
// the engine's shared steps. Like a Session it is not safe for concurrent
// use.
type Sequence struct {
	e        *Engine
	s        *Session
	req      evalRequest
	busy     atomic.Bool
	detached atomic.Bool
}

// evalRequest is one Eval waiting in, or being advanced by, the loop.
type evalRequest struct {
	ctx   context.Context
	seq   *Sequence
	ids   []int32
	done  int // tokens evaluated so far
	start int // the session's position when the request came
	ready chan error
	// skipped counts the steps since the request last took rows while
	// pending: the longest-skipped go first, so none starves.
	skipped int
}

// Attach puts s on the engine. While attached, the engine waits a little
// at each step for the sequence's next token (so that steps carry every
// active sequence); Detach it when it stops generating.
func (e *Engine) Attach(s *Session) (*Sequence, error) {
	switch {
	case s.m != e.m:
		return nil, errors.New("runtime: engine: the session is of another model")
	case s.route != nil:
		return nil, errors.New("runtime: engine: the session records or replays routing; evaluate it alone")
	}
	select {
	case <-e.quit:
		return nil, fmt.Errorf("runtime: engine: attach: %w", ErrEngineClosed)
	default:
	}
	q := &Sequence{e: e, s: s}
	q.req = evalRequest{seq: q, ready: make(chan error, 1)}
	e.attached.Add(1)
	return q, nil
}

// Detach takes the sequence off the engine; its Session stays as it is.
// It must not be called while an Eval of the sequence runs.
func (q *Sequence) Detach() {
	if q.detached.Swap(true) {
		return
	}
	q.e.attached.Add(-1)
	select {
	case q.e.wake <- struct{}{}:
	default:
	}
}

// Session returns the sequence's Session.
func (q *Sequence) Session() *Session { return q.s }

// Eval runs ids through the model at the session's position in the
// engine's next steps, together with the other sequences' tokens, and
// returns the logits of the last token: what Session.Eval(ids, false)
// returns, bit for bit. The slice belongs to the session and is valid until
// its next evaluation. A prompt longer than a step is evaluated over
// several steps.
//
// When ctx ends before the tokens are evaluated, Eval returns ctx's error
// at the next step boundary. On any error the session is unchanged. Eval
// fails with an error wrapping ErrClosed once the model is closing, and
// ErrEngineClosed once the engine is.
func (q *Sequence) Eval(ctx context.Context, ids []int32) ([]float32, error) {
	s := q.s
	V := s.cfg.Vocab
	if len(ids) == 0 {
		return nil, errors.New("runtime: engine: Eval of no tokens")
	}
	for i, id := range ids {
		if id < 0 || int(id) >= V {
			return nil, fmt.Errorf("runtime: token %d (index %d) outside vocabulary [0, %d)", id, i, V)
		}
	}
	if s.pos+len(ids) > s.ctx {
		return nil, fmt.Errorf("runtime: %d tokens at position %d exceed the context of %d: %w", len(ids), s.pos, s.ctx, ErrContextFull)
	}
	if q.detached.Load() {
		return nil, errors.New("runtime: engine: Eval of a detached sequence")
	}
	if !q.busy.CompareAndSwap(false, true) {
		return nil, errors.New("runtime: engine: concurrent Evals of one sequence")
	}
	defer q.busy.Store(false)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := &q.req
	r.ctx, r.ids, r.done, r.start = ctx, ids, 0, s.pos
	select {
	case q.e.submit <- r:
	case <-q.e.quit:
		return nil, fmt.Errorf("runtime: engine: %w", ErrEngineClosed)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	// The loop answers every request it took, even when it stops.
	err := <-r.ready
	r.ctx, r.ids = nil, nil
	if err != nil {
		return nil, err
	}
	return s.logits[:V], nil
}

// loop runs steps while requests come, until Close.
func (e *Engine) loop() {
	defer close(e.done)
	for {
		if len(e.pending) == 0 {
			select {
			case r := <-e.submit:
				e.pending = append(e.pending, r)
			case <-e.quit:
				return
			}
		}
		if !e.gather() {
			for _, r := range e.pending {
				e.finish(r, fmt.Errorf("runtime: engine: %w", ErrEngineClosed))
			}
			e.pending = e.pending[:0]
			return
		}
		e.runStep()
	}
}

// gather waits until every attached sequence has a request pending, for
// at most EngineOptions.Wait: the sequences that just got their logits
// sample their next tokens meanwhile. It reports false when the engine is
// closing.
func (e *Engine) gather() bool {
	wait := e.wait
	if wait == 0 {
		wait = min(max(e.lastStep/2, time.Millisecond), 50*time.Millisecond)
	}
	e.timer.Reset(wait)
	defer e.timer.Stop()
	for int64(len(e.pending)) < e.attached.Load() {
		select {
		case r := <-e.submit:
			e.pending = append(e.pending, r)
		case <-e.wake:
		case <-e.timer.C:
			return true
		case <-e.quit:
			return false
		}
	}
	select {
	case <-e.quit:
		return false
	default:
		return true
	}
}

// finish answers request r, restoring its session's position if it failed.
func (e *Engine) finish(r *evalRequest, err error) {
	if err != nil {
		r.seq.s.pos = r.start
	}
	r.ready <- err
}

// runStep advances the pending requests by one step: cancelled ones are
// answered first; requests left out of earlier steps go first (the
// longest-waiting first), then decoding sequences (one token left) take a
// row each, then the others take their next tokens in arrival order while
// rows are left.
func (e *Engine) runStep() {
	keep := e.pending[:0]
	for _, r := range e.pending {
		if err := r.ctx.Err(); err != nil {
			e.finish(r, err)
		} else {
			keep = append(keep, r)
		}
	}
	e.pending = keep
	if len(keep) == 0 {
		return
	}
	// Stable: the longest-skipped first, then decoding requests, the rest
	// in arrival order.
	slices.SortStableFunc(e.pending, func(a, b *evalRequest) int {
		if a.skipped != b.skipped {
			return b.skipped - a.skipped
		}
		return boolInt(len(a.ids)-a.done > 1) - boolInt(len(b.ids)-b.done > 1)
	})
	e.step, e.taken = e.step[:0], e.taken[:0]
	rows := 0
	for _, r := range e.pending {
		if rows == e.rowsMax || len(e.step) == e.seqsMax {
			break
		}
		n := min(len(r.ids)-r.done, e.rowsMax-rows)
		e.step = append(e.step, stepSeq{sess: r.seq.s, ids: r.ids[r.done : r.done+n], first: rows})
		e.taken = append(e.taken, r)
		rows += n
	}
	start := time.Now()
	err := e.forward(rows)
	e.lastStep = time.Since(start)
	e.stats.Lock()
	e.stats.Steps++
	e.stats.Tokens += uint64(rows)
	e.stats.Seqs += uint64(len(e.step))
	e.stats.Unlock()
	keep = e.pending[:0]
	for _, r := range e.pending {
		i := slices.Index(e.taken, r)
		switch {
		case i < 0:
			r.skipped++
			keep = append(keep, r)
		case err != nil:
			e.finish(r, err)
		default:
			r.skipped = 0
			r.done += len(e.step[i].ids)
			if r.done == len(r.ids) {
				e.finish(r, nil)
			} else {
				keep = append(keep, r)
			}
		}
	}
	clear(e.pending[len(keep):])
	e.pending = keep
	clear(e.step) // drop the sessions
}

// forward runs the step's rows holding the model open, turning a fault
// reading the model's mapping into the error.
func (e *Engine) forward(rows int) (err error) {
	if err := e.m.acquire(); err != nil {
		return err
	}
	defer e.m.release()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			fe, ok := e.m.fault(r)
			if !ok {
				panic(r)
			}
			err = fe
		}
	}()
	last := 0
	for i := range e.step {
		sq := &e.step[i]
		sq.sess.growKV(sq.sess.pos + len(sq.ids))
		if e.taken[i].done+len(sq.ids) == len(e.taken[i].ids) {
			// Only sequences whose request ends here need logits.
			e.step[last], e.step[i] = e.step[i], e.step[last]
			e.taken[last], e.taken[i] = e.taken[i], e.taken[last]
			last++
		}
	}
	e.forwardStep(e.step, rows, last)
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
