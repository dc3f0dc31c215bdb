package server

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/q3m/q3m/runtime"
)

// ErrQueueFull is returned by Engine.Generate when every slot is busy and
// the waiting queue is at its bound.
var ErrQueueFull = errors.New("server: all slots busy and the queue is full")

// ErrPromptTooLong wraps the error of a prompt that leaves no room in a
// slot's context for one generated token.
var ErrPromptTooLong = errors.New("server: prompt longer than the context")

// EngineOptions configures an Engine.
type EngineOptions struct {
	// Parallel is the number of requests generated at once, one slot (a
	// runtime.Session) each, advanced together in one batched forward pass
	// per token; 0 means 1.
	Parallel int
	// Queue bounds the requests waiting for a slot; beyond it Generate
	// fails with ErrQueueFull. 0 means 4·Parallel; negative means none wait.
	Queue int
	// ContextLen, Threads and KVType configure each slot's Session (see
	// runtime.SessionOptions).
	ContextLen, Threads int
	KVType              runtime.KVType
	// BatchWait bounds how long a step waits for every busy slot's next
	// token (runtime.EngineOptions.Wait); 0 means the runtime's default.
	BatchWait time.Duration
}

// Request is one generation: a prompt of token ids and how to continue it.
type Request struct {
	Prompt   []int32
	Sampling runtime.SamplerOptions
	// FrequencyPenalty is subtracted from a token's logit once per time it
	// was generated (OpenAI semantics; PresencePenalty in Sampling applies
	// once per distinct generated token).
	FrequencyPenalty float32
	// MaxTokens caps the generated tokens; 0 means until the context is full.
	MaxTokens int
	// Stops are the token ids that end the generation (not passed to yield).
	Stops []int32
	// IgnoreStops makes the stop tokens impossible to sample (their logits
	// -Inf) unless a Constraint is set, so that the generation runs to
	// MaxTokens or a full context, as llama-server's ignore_eos: for
	// benchmarks.
	IgnoreStops bool
	// Constraint, when set, masks the logits before each token is sampled
	// and is told each token chosen (a grammar.Matcher, for JSON output).
	Constraint Constraint
}

// Finish says why a generation ended.
type Finish string

const (
	FinishStop      Finish = "stop"      // a stop token, or yield asked to stop
	FinishLength    Finish = "length"    // MaxTokens reached or the context full
	FinishCancelled Finish = "cancelled" // the context was cancelled
)

// Result describes a finished generation.
type Result struct {
	Finish       Finish
	PromptTokens int // tokens of the prompt
	CachedTokens int // of those, reused from the slot's KV cache
	GenTokens    int // tokens passed to yield
	Prefill      time.Duration
	Decode       time.Duration
}

// EngineStats is a snapshot of an Engine's load and totals.
type EngineStats struct {
	Slots, Busy, Queued        int
	Requests, Rejected         uint64
	PromptTokens, CachedTokens uint64
	GenTokens                  uint64
	Prefill, Decode            time.Duration
}

// Engine runs generations on a shared runtime.Model through a fixed set of
// slots, each a Session with its own KV cache. A request takes the free slot
// whose cached tokens share the longest prefix with its prompt and evaluates
// only the rest. Requests beyond the slots wait in a bounded queue.
//
// The busy slots are attached to one runtime.Engine: every step is one
// forward pass over the next token of each generating request (and chunks
// of joining requests' prompts), so concurrent requests share the reads of
// the weights. Each request samples its own tokens, with its own sampler,
// penalties and constraint, between steps. An Engine is safe for
// concurrent use.
type Engine struct {
	model *runtime.Model
	batch *runtime.Engine
	ctx   int // positions per slot
	queue int

	free  chan struct{} // one token per free slot
	mu    sync.Mutex
	idle  []*slot // free slots
	clock uint64  // counts acquisitions

	queued atomic.Int64
	busy   atomic.Int64
	totals struct {
		sync.Mutex
		requests, rejected, prompt, cached, gen uint64
		prefill, decode                         time.Duration
	}
	slots int

	// pick, when set, replaces sampling (tests script outputs with it).
	pick func(prompt []int32, logits []float32, generated []int32) int32
}

// slot is one Session and the tokens its KV cache holds.
type slot struct {
	sess   *runtime.Session
	seq    *runtime.Sequence // attached to the batch engine while busy
	cached []int32
	used   uint64 // when last acquired, on the engine's clock
}

// NewEngine makes the slots of an engine on m.
func NewEngine(m *runtime.Model, o EngineOptions) (*Engine, error) {
	if o.Parallel < 0 || o.ContextLen < 0 || o.Threads < 0 || o.BatchWait < 0 {
		return nil, fmt.Errorf("server: engine: negative option in %+v", o)
	}
	n := max(o.Parallel, 1)
	q := o.Queue
	if q == 0 {
		q = 4 * n
	}
	e := &Engine{model: m, queue: max(q, 0), free: make(chan struct{}, n), slots: n}
	for range n {
		s, err := m.NewSession(runtime.SessionOptions{ContextLen: o.ContextLen, Threads: o.Threads, KVType: o.KVType})
		if err != nil {
			return nil, fmt.Errorf("server: engine: %w", err)
		}
		e.ctx = s.ContextLen()
		e.idle = append(e.idle, &slot{sess: s})
		e.free <- struct{}{}
	}
	batch, err := m.NewEngine(runtime.EngineOptions{Seqs: n, Threads: o.Threads, Wait: o.BatchWait})
	if err != nil {
		return nil, fmt.Errorf("server: engine: %w", err)
	}
	e.batch = batch
	return e, nil
}

// Close stops the engine's step loop: generations in progress end with an
// error. The model stays open.
func (e *Engine) Close() error { return e.batch.Close() }

// BatchStats returns the counters of the batched forward passes.
func (e *Engine) BatchStats() runtime.EngineStats { return e.batch.Stats() }

// Model returns the engine's model.
func (e *Engine) Model() *runtime.Model { return e.model }

// ContextLen returns the number of positions of each slot.
func (e *Engine) ContextLen() int { return e.ctx }

// Stats returns the engine's load and totals.
func (e *Engine) Stats() EngineStats {
	e.totals.Lock()
	defer e.totals.Unlock()
	t := &e.totals
	return EngineStats{
		Slots: e.slots, Busy: int(e.busy.Load()), Queued: int(e.queued.Load()),
		Requests: t.requests, Rejected: t.rejected,
		PromptTokens: t.prompt, CachedTokens: t.cached, GenTokens: t.gen,
		Prefill: t.prefill, Decode: t.decode,
	}
}

// acquire waits for a free slot and takes the best one for prompt (see
// pickSlot).
func (e *Engine) acquire(ctx context.Context, prompt []int32) (*slot, error) {
	select {
	case <-e.free:
	default:
		if e.queued.Add(1) > int64(e.queue) {
			e.queued.Add(-1)
			e.totals.Lock()
			e.totals.rejected++
			e.totals.Unlock()
			return nil, ErrQueueFull
		}
		select {
		case <-e.free:
			e.queued.Add(-1)
		case <-ctx.Done():
			e.queued.Add(-1)
			return nil, ctx.Err()
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.clock++
	best := e.pickSlot(prompt)
	s := e.idle[best]
	s.used = e.clock
	e.idle = append(e.idle[:best], e.idle[best+1:]...)
	e.busy.Add(1)
	return s, nil
}

// pickSlot returns the index in e.idle of the slot for prompt: the one
// whose cache it extends furthest, if that reuses at least half of the
// cache, else the least recently used one, so that a new conversation does
// not wipe another's cache for the sake of a shared header.
func (e *Engine) pickSlot(prompt []int32) int {
	best, bestLen := -1, 0
	for i, s := range e.idle {
		if n := commonPrefix(s.cached, prompt); n > bestLen && 2*n >= len(s.cached) {
			best, bestLen = i, n
		}
	}
	if best >= 0 {
		return best
	}
	best = 0
	for i, s := range e.idle {
		if s.used < e.idle[best].used {
			best = i
		}
	}
	return best
}

func (e *Engine) release(s *slot) {
	e.mu.Lock()
	e.idle = append(e.idle, s)
	e.mu.Unlock()
	e.busy.Add(-1)
	e.free <- struct{}{}
}

// Generate evaluates req's prompt on a slot and samples tokens, passing each
// to yield until a stop token, MaxTokens, a full context, ctx's end, or
// yield returning false (Finish "stop"). It waits for a slot while the queue
// has room and fails with ErrQueueFull otherwise. A prompt that fills the
// context fails with an error wrapping ErrPromptTooLong. On cancellation the
// Result has Finish "cancelled" and the error is ctx's.
func (e *Engine) Generate(ctx context.Context, req Request, yield func(id int32) bool) (Result, error) {
	if len(req.Prompt) == 0 {
		return Result{}, errors.New("server: empty prompt")
	}
	if len(req.Prompt) >= e.ctx {
		return Result{}, fmt.Errorf("%w: the prompt has %d tokens, the context holds %d", ErrPromptTooLong, len(req.Prompt), e.ctx)
	}
	if req.MaxTokens < 0 {
		return Result{}, fmt.Errorf("server: negative max tokens %d", req.MaxTokens)
	}
	s, err := e.acquire(ctx, req.Prompt)
	if err != nil {
		return Result{Finish: FinishCancelled}, err
	}
	defer e.release(s)
	if s.seq, err = e.batch.Attach(s.sess); err != nil {
		return Result{Finish: FinishCancelled}, fmt.Errorf("server: %w", err)
	}
	// Detached before the slot is released: a finished request stops
	// holding back the others' steps at once.
	defer s.seq.Detach()
	res, err := e.run(ctx, s, req, yield)
	e.totals.Lock()
	t := &e.totals
	t.requests++
	t.prompt += uint64(res.PromptTokens)
	t.cached += uint64(res.CachedTokens)
	t.gen += uint64(res.GenTokens)
	t.prefill += res.Prefill
	t.decode += res.Decode
	e.totals.Unlock()
	return res, err
}

// run generates req on slot s.
func (e *Engine) run(ctx context.Context, s *slot, req Request, yield func(int32) bool) (res Result, err error) {
	res.PromptTokens = len(req.Prompt)
	start := time.Now()
	logits, err := s.prefill(ctx, req.Prompt, &res)
	res.Prefill = time.Since(start)
	if err != nil {
		res.Finish = FinishCancelled
		return res, err
	}
	start = time.Now()
	defer func() { res.Decode = time.Since(start) }()
	sampler := runtime.NewSampler(req.Sampling)
	var gen []int32
	var counts map[int32]int
	if req.FrequencyPenalty != 0 {
		counts = map[int32]int{}
	}
	var one [1]int32
	for {
		if err := ctx.Err(); err != nil {
			res.Finish = FinishCancelled
			return res, err
		}
		for id, n := range counts {
			logits[id] -= float32(n) * req.FrequencyPenalty
		}
		if req.IgnoreStops && req.Constraint == nil {
			for _, id := range req.Stops {
				logits[id] = float32(math.Inf(-1))
			}
		}
		if req.Constraint != nil {
			// Tokens left, this one included: MaxTokens, and the context,
			// whose last position still yields a token.
			left := s.sess.ContextLen() - s.sess.Pos() + 1
			if req.MaxTokens > 0 {
				left = min(left, req.MaxTokens-res.GenTokens)
			}
			if err := req.Constraint.Mask(logits, left); err != nil {
				res.Finish = FinishStop
				return res, fmt.Errorf("server: constraint: %w", err)
			}
		}
		var id int32
		if e.pick != nil {
			id = e.pick(req.Prompt, logits, gen)
		} else {
			var err error
			if id, err = sampler.Next(logits, gen); err != nil {
				res.Finish = FinishStop
				return res, fmt.Errorf("server: after %d generated tokens: %w", res.GenTokens, err)
			}
		}
		if containsID(req.Stops, id) {
			res.Finish = FinishStop
			return res, nil
		}
		if req.Constraint != nil {
			if err := req.Constraint.Accept(id); err != nil {
				res.Finish = FinishStop
				return res, fmt.Errorf("server: constraint: %w", err)
			}
		}
		gen = append(gen, id)
		if counts != nil {
			counts[id]++
		}
		res.GenTokens++
		if !yield(id) {
			res.Finish = FinishStop
			return res, nil
		}
		if req.MaxTokens > 0 && res.GenTokens >= req.MaxTokens || s.sess.Pos() >= s.sess.ContextLen() {
			res.Finish = FinishLength
			if req.Constraint != nil && req.Constraint.Complete() {
				res.Finish = FinishStop // the constrained text ended with the last token
			}
			return res, nil
		}
		one[0] = id
		if logits, err = s.seq.Eval(ctx, one[:]); err != nil {
			if ctx.Err() != nil {
				res.Finish = FinishCancelled
				return res, ctx.Err()
			}
			res.Finish = FinishCancelled
			return res, fmt.Errorf("server: generate: %w", err)
		}
		s.cached = append(s.cached, id)
	}
}

// prefill brings the slot's KV cache to prompt, reusing the common prefix,
// and returns the logits of its last token. The batch engine evaluates the
// rest in chunks that share steps with the other slots' tokens and stops
// between two chunks when ctx ends.
func (s *slot) prefill(ctx context.Context, prompt []int32, res *Result) ([]float32, error) {
	keep := min(commonPrefix(s.cached, prompt), len(prompt)-1) // evaluate one token at least, for its logits
	if err := s.sess.Truncate(keep); err != nil {
		return nil, err
	}
	s.cached = s.cached[:keep]
	res.CachedTokens = keep
	logits, err := s.seq.Eval(ctx, prompt[keep:])
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("server: prompt: %w", err)
	}
	s.cached = append(s.cached, prompt[keep:]...)
	return logits, nil
}

func containsID(ids []int32, id int32) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// commonPrefix returns the length of the longest common prefix of a and b.
func commonPrefix(a, b []int32) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}
