package runtime

import (
	"github.com/q3m/q3m/ops"
)

// mlp sets out = down(silu(gate(x)) ⊙ up(x)) for n rows of x.
func (s *Session) mlp(gate, up, down ops.Matrix, x, out []float32, n int) {
	b := &s.buf
	I := gate.Rows
	g, u := b.mlpGate[:n*I], b.mlpUp[:n*I]
	s.exec.MatMuls(ops.Product{Y: g, M: gate, X: x, N: n}, ops.Product{Y: u, M: up, X: x, N: n})
	ops.SwiGLU(g, g, u)
	s.exec.MatMul(out, down, g, n)
}

// moe computes the routed-expert MLP of layer li for the batch's n tokens,
// from buf.xn into buf.o. Tokens are grouped by expert so that each chosen
// expert's weights are read once per batch, and all chosen experts run in
// two parallel passes (gate and up, then down).
func (s *Session) moe(li int, l *layer, n int) {
	c, b := s.cfg, &s.buf
	H, E, k := c.Hidden, c.Experts, c.ExpertsUsed
	s.exec.MatMul(b.router, l.router, b.xn[:n*H], n)
	if s.capture != nil {
		s.capture.routerLogits(li, E, b.router[:n*E])
	}
	clear(b.count)
	h := s.route // routing recorded or replayed (pager_trace.go)
	if h != nil && li == h.moeLayers[0] {
		h.startBatch(n)
	}
	for t := range n {
		chosen, w := b.chosen[t*k:(t+1)*k], b.weights[t*k:(t+1)*k]
		route(b.router[t*E:(t+1)*E], chosen, w, c.NormTopKProb)
		if h != nil {
			h.apply(li, t, chosen, w)
		}
		for _, e := range chosen {
			b.count[e]++
		}
		if s.Trace != nil {
			s.Trace(li, s.pos+t, chosen, w)
		}
	}
	if h != nil && li == h.moeLayers[len(h.moeLayers)-1] {
		h.endBatch()
	}
	// The chosen experts of the whole batch are known here, before any of
	// their weights are read: this is where the expert pager makes them
	// resident, or starts reading them into its slots (pager_session.go).
	runExperts(s.exec, &s.experts, c, li, l, &b.expertBufs, b.xn, b.o, n)
}

// runExperts sets o's n rows to the routed-expert MLP of layer li for the
// n rows of xn, whose routing b.chosen and b.weights hold (k per row, rank
// order) with b.count the rows per expert. Rows are grouped by expert so
// that each chosen expert's weights are read once for all rows that chose
// it; the gate and up products of experts in memory run while the pager's
// readers fill the slots of the others; each row's outputs are summed in
// rank order, so a row's result does not depend on the other rows.
func runExperts(exec *ops.Exec, src *expertSource, c Config, li int, l *layer, b *expertBufs, xn, o []float32, n int) {
	H, E, k, I := c.Hidden, c.Experts, c.ExpertsUsed, c.ExpertFFN
	src.use(li, b.chosen[:n*k])
	defer src.release()
	off := 0
	for e := range E {
		b.start[e] = off
		off += b.count[e]
	}
	for i, e := range b.chosen[:n*k] {
		b.slot[i] = b.start[e]
		b.order[b.start[e]] = i
		b.start[e]++
	}
	// Expert e's rows are [off, off+cnt) of the grouped order: pass 0 runs
	// the experts in memory, pass 1 the others once they are read.
	for pass := range 2 {
		if pass == 1 {
			src.await()
		}
		ps := b.prods[:0]
		off = 0
		for e := range E {
			cnt := b.count[e]
			if cnt == 0 || src.pending(e) != (pass == 1) {
				off += cnt
				continue
			}
			x := xn[:n*H] // when the expert has every row in order (decode)
			if !allInOrder(b.order[off:off+cnt], n, k) {
				x = b.expIn[off*H : (off+cnt)*H]
				for j, i := range b.order[off : off+cnt] {
					t := i / k
					copy(x[j*H:(j+1)*H], xn[t*H:(t+1)*H])
				}
			}
			gate, up, _ := src.weights(l, e)
			g, u := b.mlpGate[off*I:(off+cnt)*I], b.mlpUp[off*I:(off+cnt)*I]
			ps = append(ps, ops.Product{Y: g, M: gate, X: x, N: cnt}, ops.Product{Y: u, M: up, X: x, N: cnt})
			off += cnt
		}
		if len(ps) > 0 {
			exec.MatMuls(ps...)
		}
	}
	ops.SwiGLU(b.mlpGate[:off*I], b.mlpGate[:off*I], b.mlpUp[:off*I])
	ps := b.prods[:0]
	off = 0
	for e := range E {
		if cnt := b.count[e]; cnt > 0 {
			_, _, down := src.weights(l, e)
			ps = append(ps, ops.Product{Y: b.expOut[off*H : (off+cnt)*H], M: down, X: b.mlpGate[off*I : (off+cnt)*I], N: cnt})
			off += cnt
		}
	}
	exec.MatMuls(ps...)
	for t := range n {
		out := o[t*H : (t+1)*H]
		clear(out)
		for r := range k {
			i := t*k + r
			j := b.slot[i]
			ops.AddScaled(out, b.weights[i], b.expOut[j*H:(j+1)*H])
		}
	}
}

// allInOrder reports whether the (token, rank) indexes idx are exactly the
// tokens 0…n-1 in order, so that the batch's rows can be used as they are.
func allInOrder(idx []int, n, k int) bool {
	if len(idx) != n {
		return false
	}
	for j, i := range idx {
		if i/k != j {
			return false
		}
	}
	return true
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
