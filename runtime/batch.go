package runtime

import (
	"math"

	"github.com/q3m/q3m/ops"
	"github.com/q3m/q3m/quant"
)

// stepSeq is one sequence's part of a batched step: n token rows starting
// at row first of the step's scratch, at positions sess.pos….
type stepSeq struct {
	sess  *Session
	ids   []int32
	first int
}

// batchScratch holds the activations of one step of up to rows token rows
// drawn from several sequences. Its layout is a Session's scratch, one row
// per token whatever sequence it belongs to.
type batchScratch struct {
	rows       int
	x, xn, o   []float32 // [R·H]
	q, att     []float32 // [R·nh·hd]
	k, v       []float32 // [R·nkv·hd]
	router     []float32 // [R·E]
	expertBufs           // R rows
	last       []float32 // [S·H]: the last row of each sequence, for the LM head
	logits     []float32 // [S·V]
}

func newBatchScratch(c Config, rows, seqs int) batchScratch {
	R, H := rows, c.Hidden
	qd, kvd := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	f := func(n int) []float32 { return make([]float32, n) }
	return batchScratch{
		rows: R,
		x:    f(R * H), xn: f(R * H), o: f(R * H),
		q: f(R * qd), att: f(R * qd), k: f(R * kvd), v: f(R * kvd),
		router:     f(R * c.Experts),
		expertBufs: newExpertBufs(c, R),
		last:       f(seqs * H), logits: f(seqs * c.Vocab),
	}
}

// forwardStep runs the step's token rows (n in all) through every layer,
// each sequence's attention against its own KV cache at its own positions
// and every matrix product over all rows at once, then writes the logits
// of the last row of each of seqs[:logits] to its session's logits and
// advances the sequences' positions. A row's result does not depend on the other rows:
// the products compute each (row, weight row) pair alone, the experts'
// outputs are summed per row in rank order, and attention reads only the
// row's own sequence.
func (e *Engine) forwardStep(seqs []stepSeq, n, logits int) {
	c, b, m := e.cfg, &e.buf, e.m
	H := c.Hidden
	for _, sq := range seqs {
		for t, id := range sq.ids {
			r := sq.first + t
			_ = quant.Dequantize(m.embed.Type, b.x[r*H:(r+1)*H], m.embed.Row(int(id)))
		}
	}
	eps := float32(c.RMSEps)
	for li := range m.layers {
		l := &m.layers[li]
		for r := range n {
			ops.RMSNorm(b.xn[r*H:(r+1)*H], b.x[r*H:(r+1)*H], l.attnNorm, eps)
		}
		e.attention(li, l, seqs, n)
		ops.Add(b.x[:n*H], b.o[:n*H])
		for r := range n {
			ops.RMSNorm(b.xn[r*H:(r+1)*H], b.x[r*H:(r+1)*H], l.ffnNorm, eps)
		}
		if l.moe {
			e.moe(li, l, seqs, n)
		} else {
			e.mlp(l, n)
		}
		ops.Add(b.x[:n*H], b.o[:n*H])
		e.prefetchNext(li+1, n)
	}
	// The LM head over every sequence's last row at once: its weights are
	// read once per step.
	V := c.Vocab
	if logits > 0 {
		for i, sq := range seqs[:logits] {
			r := sq.first + len(sq.ids) - 1
			ops.RMSNorm(b.last[i*H:(i+1)*H], b.x[r*H:(r+1)*H], m.outNorm, eps)
		}
		e.exec.MatMul(b.logits[:logits*V], m.output, b.last[:logits*H], logits)
		for i, sq := range seqs[:logits] {
			copy(sq.sess.logits[:V], b.logits[i*V:(i+1)*V])
		}
	}
	for _, sq := range seqs {
		sq.sess.pos += len(sq.ids)
	}
}

// attention computes the attention block of layer li for every row: the
// projections over all rows together, then each sequence's queries against
// its own cache.
func (e *Engine) attention(li int, l *layer, seqs []stepSeq, n int) {
	c, b := e.cfg, &e.buf
	hd, qd, kvd := c.HeadDim, c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	x := b.xn[:n*c.Hidden]
	e.exec.MatMuls(ops.Product{Y: b.q, M: l.q, X: x, N: n},
		ops.Product{Y: b.k, M: l.k, X: x, N: n},
		ops.Product{Y: b.v, M: l.v, X: x, N: n})
	a := ops.Attn{Heads: c.Heads, KVHeads: c.KVHeads, HeadDim: hd, Scale: float32(1 / math.Sqrt(float64(hd)))}
	for _, sq := range seqs {
		s := sq.sess
		s.prepareQKV(li, l, b.q[sq.first*qd:], b.k[sq.first*kvd:], b.v[sq.first*kvd:], len(sq.ids))
		lo, hi, end := sq.first*qd, (sq.first+len(sq.ids))*qd, s.pos+len(sq.ids)
		e.exec.AttendCausalKV(b.att[lo:hi], b.q[lo:hi], s.kv.upTo(s.kv.k[li], end), s.kv.upTo(s.kv.v[li], end),
			s.pos, len(sq.ids), c.SlidingWindow, a)
	}
	e.exec.MatMul(b.o, l.o, b.att[:n*qd], n)
	if l.ob != nil {
		for r := range n {
			ops.Add(b.o[r*c.Hidden:(r+1)*c.Hidden], l.ob)
		}
	}
}

// mlp computes a dense layer's MLP for every row, from xn into o.
func (e *Engine) mlp(l *layer, n int) {
	b := &e.buf
	gate, up, down := l.gate[0], l.up[0], l.down[0]
	I, x := gate.Rows, b.xn[:n*e.cfg.Hidden]
	g, u := b.mlpGate[:n*I], b.mlpUp[:n*I]
	e.exec.MatMuls(ops.Product{Y: g, M: gate, X: x, N: n}, ops.Product{Y: u, M: up, X: x, N: n})
	ops.SwiGLU(g, g, u)
	e.exec.MatMul(b.o[:n*e.cfg.Hidden], down, g, n)
}

// moe computes the routed-expert MLP of layer li for every row, from xn
// into o. Rows are grouped by expert across all sequences, so each chosen
// expert's weights are read once per step for every sequence that chose
// it.
func (e *Engine) moe(li int, l *layer, seqs []stepSeq, n int) {
	c, b := e.cfg, &e.buf
	H, E, k := c.Hidden, c.Experts, c.ExpertsUsed
	e.exec.MatMul(b.router, l.router, b.xn[:n*H], n)
	clear(b.count)
	for _, sq := range seqs {
		for t := range sq.ids {
			r := sq.first + t
			chosen, w := b.chosen[r*k:(r+1)*k], b.weights[r*k:(r+1)*k]
			route(b.router[r*E:(r+1)*E], chosen, w, c.NormTopKProb)
			for _, x := range chosen {
				b.count[x]++
			}
			if sq.sess.Trace != nil {
				sq.sess.Trace(li, sq.sess.pos+t, chosen, w)
			}
		}
	}
	runExperts(e.exec, &e.experts, c, li, l, &b.expertBufs, b.xn, b.o, n)
}

// prefetchNext has the pager read ahead the experts layer next is
// predicted to choose for the step's rows (see Session.prefetchNext).
func (e *Engine) prefetchNext(next, n int) {
	b := &e.buf
	prefetchExperts(e.m, e.exec, next, b.x, b.xn, b.router, &b.expertBufs, n)
}
