package runtime

import (
	"errors"
	"fmt"
	goruntime "runtime"
	"runtime/debug"

	"github.com/q3m/q3m/ops"
	"github.com/q3m/q3m/quant"
)

// ErrContextFull is wrapped by Eval's error when the tokens would not fit in
// the session's context.
var ErrContextFull = errors.New("runtime: context full")

// DefaultContextLen caps the context of a session whose options leave it 0.
const DefaultContextLen = 4096

// maxBatch is the number of tokens that go through the layers together
// during prefill; it bounds the session's scratch memory. With 128 experts
// and 8 chosen per token, a batch of 256 gives each expert about 16
// tokens, enough for the multi-token kernels to read each weight block
// once for four (or more) tokens; at 32 most experts saw one or two.
const maxBatch = 256

// SessionOptions configures a Session.
type SessionOptions struct {
	// ContextLen is the number of positions of the KV cache, at most the
	// model's context length; 0 means the model's, capped at
	// DefaultContextLen.
	ContextLen int
	// Threads is the number of goroutines computing, at most
	// ops.MaxThreads; 0 means runtime.NumCPU(). Sessions of one model with
	// the same thread count share a worker pool.
	Threads int
	// KVType is the element type of the KV cache: KVF16 (the zero value),
	// KVQ8_0 (about half of f16's memory, needs a head dim multiple of 32)
	// or KVF32.
	KVType KVType
}

// Session is one sequence being evaluated: a position, a KV cache (f16 by
// default, see SessionOptions.KVType)
// and RoPE tables (both grown by doubling as positions fill, up to the
// context length, so that a long context costs memory only when used) and
// scratch memory. It is not safe for concurrent use; use one Session per
// goroutine. After the first Eval, decoding one token allocates nothing.
type Session struct {
	// Trace, when set, is called for every MoE routing decision with the
	// chosen experts in rank order and their (possibly renormalized)
	// weights. The slices are only valid during the call, which holds the
	// model open: it must not call Model.Close.
	Trace func(layer, pos int, experts []int, weights []float32)

	m        *Model
	cfg      Config
	ctx      int
	pos      int
	exec     *ops.Exec
	kv       kvCache   // per layer: rows of KVHeads·HeadDim
	cos, sin []float32 // ctx rows of HeadDim/2
	logits   []float32
	buf      scratch
	batch    int          // tokens the scratch holds, at most maxBatch
	route    *routeHook   // routing recorded or replayed (pager_trace.go)
	experts  expertSource // where the experts' weights are read from (pager_session.go)
	capture  *capture     // hidden states and router logits for Run (heads.go)
}

// scratch holds the activations of one batch of up to Session.batch
// tokens.
type scratch struct {
	x, xn, o   []float32 // residual stream, normed input, block output [B·H]
	q, att     []float32 // [B·nh·hd]
	k, v       []float32 // [B·nkv·hd]
	router     []float32 // [B·E]
	expertBufs           // B rows (moe.go)
}

// expertBufs is the scratch of a batch's MLP products: the dense MLP's
// gate and up rows, and the routed experts' routing, grouping and rows.
type expertBufs struct {
	mlpGate      []float32     // [B·max(FFN, k·ExpertFFN)]
	mlpUp        []float32     // expert rows in grouped order
	chosen       []int         // [B·k] expert ids, rank order per row
	weights      []float32     // [B·k]
	count, start []int         // per expert: rows routed, first row in grouped order
	order        []int         // [B·k] indexes into chosen, grouped by expert
	slot         []int         // [B·k] row in grouped order of each index into chosen
	expIn        []float32     // [B·k·H] rows gathered per expert, grouped order
	expOut       []float32     // [B·k·H] expert outputs, grouped order
	prods        []ops.Product // products of one parallel run
}

// newExpertBufs returns the expert scratch for batches of B rows.
func newExpertBufs(c Config, B int) expertBufs {
	H, k := c.Hidden, max(c.ExpertsUsed, 1)
	ffn := max(c.FFN, k*c.ExpertFFN)
	f := func(n int) []float32 { return make([]float32, n) }
	return expertBufs{
		mlpGate: f(B * ffn), mlpUp: f(B * ffn),
		chosen: make([]int, B*k), weights: f(B * k),
		count: make([]int, c.Experts), start: make([]int, c.Experts),
		order: make([]int, B*k), slot: make([]int, B*k),
		expIn: f(B * k * H), expOut: f(B * k * H),
		prods: make([]ops.Product, 0, 2*max(1, min(c.Experts, B*k))),
	}
}

// firstKV is the number of positions a session's KV cache and RoPE tables
// start with.
const firstKV = 256

// NewSession starts a session at position 0.
func (m *Model) NewSession(opt SessionOptions) (*Session, error) {
	c := m.cfg
	ctx := opt.ContextLen
	if ctx < 0 || ctx > c.ContextLen {
		return nil, fmt.Errorf("runtime: context length %d outside [0, %d], the model's", ctx, c.ContextLen)
	}
	if ctx == 0 {
		ctx = min(c.ContextLen, DefaultContextLen)
	}
	threads := opt.Threads
	if threads < 0 || threads > ops.MaxThreads {
		return nil, fmt.Errorf("runtime: %d threads outside [0, %d]", threads, ops.MaxThreads)
	}
	if threads == 0 {
		threads = min(goruntime.NumCPU(), ops.MaxThreads)
	}
	if err := m.acquire(); err != nil {
		return nil, err
	}
	defer m.release()
	kv, err := newKVCache(c, opt.KVType)
	if err != nil {
		return nil, err
	}
	s := &Session{m: m, cfg: c, ctx: ctx, kv: kv, exec: ops.NewExec(m.pool(threads)), experts: expertSource{m: m}}
	s.growKV(min(ctx, firstKV))
	s.logits = make([]float32, c.Vocab)
	s.reserveBatch(1)
	return s, nil
}

// reserveBatch makes the scratch hold batches of min(n, maxBatch) tokens.
// It grows by powers of two, so that a session's scratch is proportional
// to the longest batch it has run (one token for a session that only
// decodes) and is reallocated at most log2(maxBatch) times.
func (s *Session) reserveBatch(n int) {
	n = min(n, maxBatch)
	if n <= s.batch {
		return
	}
	B := 1
	for B < n {
		B *= 2
	}
	B = min(B, maxBatch)
	c := s.cfg
	H, k := c.Hidden, max(c.ExpertsUsed, 1)
	kvd := c.KVHeads * c.HeadDim
	f := func(n int) []float32 { return make([]float32, n) }
	s.buf = scratch{
		x: f(B * H), xn: f(B * H), o: f(B * H),
		q: f(B * c.Heads * c.HeadDim), att: f(B * c.Heads * c.HeadDim),
		k: f(B * kvd), v: f(B * kvd),
		router:     f(B * c.Experts),
		expertBufs: newExpertBufs(c, B),
	}
	s.batch = B
	s.exec.Reserve(B*k, max(H, c.FFN, c.ExpertFFN, c.Heads*c.HeadDim), min(s.ctx, firstKV), ops.Attn{Heads: c.Heads, KVHeads: c.KVHeads})
}

// growKV makes the KV cache and the RoPE tables hold at least n positions,
// doubling their size (up to the context length) so that long sessions
// grow them rarely.
func (s *Session) growKV(n int) {
	have := s.kv.rows()
	if have >= n {
		return
	}
	size := max(n, min(s.ctx, 2*have))
	s.kv.grow(size)
	s.cos, s.sin = s.m.rope.tables(size)
}

// Pos returns the number of positions in the KV cache: the position of the
// next token.
func (s *Session) Pos() int { return s.pos }

// KVType returns the session's KV cache type.
func (s *Session) KVType() KVType { return s.kv.kind }

// ContextLen returns the session's number of positions.
func (s *Session) ContextLen() int { return s.ctx }

// Reset empties the session.
func (s *Session) Reset() { s.pos = 0 }

// Truncate drops the positions from pos on, so that the next token goes to
// position pos.
func (s *Session) Truncate(pos int) error {
	if pos < 0 || pos > s.pos {
		return fmt.Errorf("runtime: truncate to %d outside [0, %d]", pos, s.pos)
	}
	s.pos = pos
	return nil
}

// Eval runs ids through the model at the current position, appending them to
// the KV cache. It returns the logits of every token (len(ids)·Vocab values)
// if all is set, else of the last token only. The slice belongs to the
// session and is valid until the next call. On error the session is
// unchanged.
//
// Eval fails with ErrClosed once the model is closing (Close waits for an
// Eval in progress to stop at its next batch), and with ErrModelFault if
// the file was truncated under the mapping, rather than crashing.
func (s *Session) Eval(ids []int32, all bool) (_ []float32, err error) {
	V := s.cfg.Vocab
	if len(ids) == 0 {
		return nil, errors.New("runtime: Eval of no tokens")
	}
	if s.cfg.Head.Class != CausalLM {
		return nil, fmt.Errorf("runtime: Eval: the model is a %s, without logits over the vocabulary; use Run", s.cfg.Head.Class)
	}
	for i, id := range ids {
		if id < 0 || int(id) >= V {
			return nil, fmt.Errorf("runtime: token %d (index %d) outside vocabulary [0, %d)", id, i, V)
		}
	}
	if s.pos+len(ids) > s.ctx {
		return nil, fmt.Errorf("runtime: %d tokens at position %d exceed the context of %d: %w", len(ids), s.pos, s.ctx, ErrContextFull)
	}
	if err := s.m.acquire(); err != nil {
		return nil, err
	}
	defer s.m.release()
	// Weights are read from the mapping here and on the pool's workers
	// (which run with SetPanicOnFault on and hand their panics to this
	// goroutine): a fault there becomes the error.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer s.recoverFault(&err, s.pos)
	s.growKV(s.pos + len(ids))
	s.reserveBatch(len(ids))
	if all && len(s.logits) < len(ids)*V {
		s.logits = make([]float32, len(ids)*V)
	}
	for done := 0; done < len(ids); done += maxBatch {
		if done > 0 && s.m.closing.Load() {
			s.pos -= done
			return nil, s.m.closedError()
		}
		n := min(maxBatch, len(ids)-done)
		s.forward(ids[done : done+n])
		if all {
			s.lmHead(s.logits[done*V:(done+n)*V], 0, n)
		} else if done+n == len(ids) {
			s.lmHead(s.logits[:V], n-1, 1)
		}
	}
	if all {
		return s.logits[:len(ids)*V], nil
	}
	return s.logits[:V], nil
}

// recoverFault is deferred by Eval: a memory fault reading the model's
// mapping becomes *err, and the position goes back to pos.
func (s *Session) recoverFault(err *error, pos int) {
	if r := recover(); r != nil {
		e, ok := s.m.fault(r)
		if !ok {
			panic(r)
		}
		s.pos, *err = pos, e
	}
}

// forward runs a batch of tokens through every layer, leaving the final
// hidden states in buf.x and advancing the position.
func (s *Session) forward(ids []int32) {
	c, b := s.cfg, &s.buf
	H, n := c.Hidden, len(ids)
	for t, id := range ids {
		// The embedding was validated at load, so this cannot fail.
		_ = quant.Dequantize(s.m.embed.Type, b.x[t*H:(t+1)*H], s.m.embed.Row(int(id)))
	}
	eps := float32(c.RMSEps)
	for li := range s.m.layers {
		l := &s.m.layers[li]
		if s.capture != nil {
			s.capture.layerInput(li, H, b.x[:n*H])
		}
		for t := range n {
			ops.RMSNorm(b.xn[t*H:(t+1)*H], b.x[t*H:(t+1)*H], l.attnNorm, eps)
		}
		s.attention(li, l, n)
		ops.Add(b.x[:n*H], b.o[:n*H])
		for t := range n {
			ops.RMSNorm(b.xn[t*H:(t+1)*H], b.x[t*H:(t+1)*H], l.ffnNorm, eps)
		}
		if l.moe {
			s.moe(li, l, n)
		} else {
			s.mlp(l.gate[0], l.up[0], l.down[0], b.xn[:n*H], b.o[:n*H], n)
		}
		ops.Add(b.x[:n*H], b.o[:n*H])
		s.prefetchNext(li+1, n) // expert pager: read ahead layer li+1's experts (pager_session.go)
	}
	s.pos += n
}

// lmHead writes the logits of tokens [first, first+n) of the batch into dst.
func (s *Session) lmHead(dst []float32, first, n int) {
	H, b := s.cfg.Hidden, &s.buf
	for t := first; t < first+n; t++ {
		ops.RMSNorm(b.xn[t*H:(t+1)*H], b.x[t*H:(t+1)*H], s.m.outNorm, float32(s.cfg.RMSEps))
	}
	s.exec.MatMul(dst, s.m.output, b.xn[first*H:(first+n)*H], n)
}
