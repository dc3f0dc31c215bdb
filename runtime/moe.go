package runtime

import (
	"github.com/q3m/q3m/ops"
)

// mlp sets out = down(silu(gate(x)) ⊙ up(x)) for n rows of x.
func (s *Session) mlp(gate, up, down ops.Matrix, x, out []float32, n int) {
	b := &s.buf
	I := gate.Rows
	g, u := b.mlpGate[:n*I], b.mlpUp[:n*I]
	s.exec.MatMul(g, gate, x, n)
	s.exec.MatMul(u, up, x, n)
	ops.SwiGLU(g, g, u)
	s.exec.MatMul(out, down, g, n)
}

// moe computes the routed-expert MLP of layer li for the batch's n tokens,
// from buf.xn into buf.o. Tokens are grouped by expert so that each chosen
// expert's weights are read once per batch.
func (s *Session) moe(li int, l *layer, n int) {
	c, b := s.cfg, &s.buf
	H, E, k := c.Hidden, c.Experts, c.ExpertsUsed
	s.exec.MatMul(b.router, l.router, b.xn[:n*H], n)
	clear(b.count)
	for t := range n {
		chosen, w := b.chosen[t*k:(t+1)*k], b.weights[t*k:(t+1)*k]
		route(b.router[t*E:(t+1)*E], chosen, w, c.NormTopKProb)
		for _, e := range chosen {
			b.count[e]++
		}
		if s.Trace != nil {
			s.Trace(li, s.pos+t, chosen, w)
		}
	}
	// The chosen experts of the whole batch are known here, before any of
	// their weights are read: this is where the expert pager makes them
	// resident.
	off := 0
	for e := range E {
		b.start[e] = off
		off += b.count[e]
	}
	for i, e := range b.chosen[:n*k] {
		b.order[b.start[e]] = i
		b.start[e]++
	}
	off = 0
	for e := range E {
		cnt := b.count[e]
		if cnt == 0 {
			continue
		}
		idx := b.order[off : off+cnt]
		off += cnt
		for j, i := range idx {
			t := i / k
			copy(b.expIn[j*H:(j+1)*H], b.xn[t*H:(t+1)*H])
		}
		s.mlp(l.gate[e], l.up[e], l.down[e], b.expIn[:cnt*H], b.expOut[:cnt*H], cnt)
		for j, i := range idx {
			copy(b.slots[i*H:(i+1)*H], b.expOut[j*H:(j+1)*H])
		}
	}
	// Sum in rank order per token, independent of grouping: a token's
	// result is the same whatever else is in its batch.
	for t := range n {
		out := b.o[t*H : (t+1)*H]
		clear(out)
		for r := range k {
			i := t*k + r
			ops.AddScaled(out, b.weights[i], b.slots[i*H:(i+1)*H])
		}
	}
}

// route turns router logits into the top len(chosen) experts (ties: the
// lower index first) and their weights: softmax probabilities over all
// experts, divided by their sum if normalize. logits is overwritten.
func route(logits []float32, chosen []int, w []float32, normalize bool) {
	ops.Softmax(logits)
	for r := range chosen {
		best := -1
		for e, p := range logits {
			if best < 0 || p > logits[best] || (p == logits[best] && e < best) {
				if !taken(chosen[:r], e) {
					best = e
				}
			}
		}
		chosen[r], w[r] = best, logits[best]
	}
	if normalize {
		var sum float32
		for _, v := range w {
			sum += v
		}
		for r := range w {
			w[r] /= sum
		}
	}
}

func taken(chosen []int, e int) bool {
	for _, c := range chosen {
		if c == e {
			return true
		}
	}
	return false
}
