package runtime

import "github.com/q3m/q3m/ops"

// prefetchNext predicts the experts layer next will choose for the batch's
// n tokens and has the pager read them ahead. It is called once the
// residual stream entering layer next is known: that layer's router applied
// to it (after the layer's FFN norm, skipping the attention still to come)
// picks the experts well enough to start reading them while attention runs.
// It uses the batch scratch that the next layer overwrites before reading.
func (s *Session) prefetchNext(next, n int) {
	if s.route != nil && s.route.replayOn {
		return
	}
	b := &s.buf
	prefetchExperts(s.m, s.exec, next, b.x, b.xn, b.router, &b.expertBufs, n)
}

// prefetchExperts predicts, for the n rows of the residual stream x, the
// experts layer next will choose and has the pager read them ahead; xn,
// router and b are scratch the next layer overwrites before reading.
func prefetchExperts(m *Model, exec *ops.Exec, next int, x, xn, router []float32, b *expertBufs, n int) {
	p := m.pager
	if p == nil || !p.prefetch || next >= len(m.layers) || !m.layers[next].moe || !p.wantsPrediction(next) {
		return
	}
	c, l := m.cfg, &m.layers[next]
	H, E, k := c.Hidden, c.Experts, c.ExpertsUsed
	eps := float32(c.RMSEps)
	for t := range n {
		ops.RMSNorm(xn[t*H:(t+1)*H], x[t*H:(t+1)*H], l.ffnNorm, eps)
	}
	exec.MatMul(router, l.router, xn[:n*H], n)
	for t := range n {
		route(router[t*E:(t+1)*E], b.chosen[t*k:(t+1)*k], b.weights[t*k:(t+1)*k], false)
	}
	p.Prefetch(next, b.chosen[:n*k])
}

// wantsPrediction reports whether predicting a layer's experts can help:
// not while prediction is switched off for not paying, nor when there is
// no budget and all its experts are resident already.
func (p *Pager) wantsPrediction(layer int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gate.off > 0 && p.clock < p.gate.offUntil {
		return false
	}
	return p.budget > 0 || layer >= len(p.layerResident) || p.layerResident[layer] < p.experts
}

// prefetchGate judges whether reading ahead pays: over each window of
// prefetchWindow bytes read ahead, the share the layers then chose. Below
// prefetchMinUseful, prediction is switched off for a number of tokens
// that doubles at each failure in a row (up to prefetchMaxOff), then tried
// again. The bytes of a wrong prediction are read for nothing and, with
// slots, take a slot from an expert the cache held, which is read again
// later: where the disk is the bottleneck, that costs more than the wait a
// right prediction saves. The bar is high for that reason: the 48-layer
// Qwen3-30B-A3B-geometry Q4_0 file under an 8 GiB cap with the model's own
// routing used 80 % of the bytes it read ahead, read 15 % more in all, and
// decoded at 8.82 and 9.87 t/s against 10.38 and 9.59 without prediction.
type prefetchGate struct {
	useful, wasted uint64 // bytes of the current window
	offUntil       int64  // pager clock (tokens) until which prediction is off
	off            int64  // tokens of the last switch-off
}

const (
	prefetchWindow    = 128 << 20
	prefetchMinUseful = 0.9
	prefetchFirstOff  = 16
	prefetchMaxOff    = 1024
)

// judgePrefetch ends a window once it is full and switches prediction off
// when it did not pay. The caller holds the pager's mutex.
func (p *Pager) judgePrefetch() {
	g := &p.gate
	total := g.useful + g.wasted
	if total < prefetchWindow {
		return
	}
	p.stats.PrefetchUseful += g.useful
	p.stats.PrefetchWasted += g.wasted
	if float64(g.useful) < prefetchMinUseful*float64(total) {
		g.off = min(max(2*g.off, prefetchFirstOff), prefetchMaxOff)
		g.offUntil = p.clock + g.off
		p.stats.PrefetchOff++
	} else {
		g.off = 0
	}
	g.useful, g.wasted = 0, 0
}

// expertSource is where a forward pass takes its experts' weights from:
// the mapping, or the expert pager's slots it pinned for the layer. A
// Session and an Engine each own one; it serves one pass at a time.
type expertSource struct {
	m     *Model
	slots *expertUse // the slots pinned for the current layer (pager_slots.go)
}

// use makes the experts the batch chose at layer li available before
// their products: advised resident (IOMmap) or pinned in slots and their
// reads started (IOPread, IODirect).
func (x *expertSource) use(li int, chosen []int) {
	p := x.m.pager
	switch {
	case p == nil:
	case p.pool == nil:
		p.Ensure(li, chosen)
	default:
		if x.slots == nil {
			x.slots = newExpertUse(p.experts)
		}
		p.acquire(li, chosen, x.slots)
	}
}

// pending reports whether expert e's weights were still being read when
// the layer began: their products wait for await.
func (x *expertSource) pending(e int) bool {
	return x.slots != nil && x.slots.late[e]
}

// await waits until every chosen expert's weights can be read.
func (x *expertSource) await() {
	if x.slots != nil && x.m.pager != nil && x.m.pager.pool != nil {
		x.m.pager.await(x.slots)
	}
}

// release ends the use of the layer's experts begun by use.
func (x *expertSource) release() {
	if x.slots != nil && x.m.pager != nil && x.m.pager.pool != nil {
		x.m.pager.release(x.slots)
	}
}

// weights returns expert e's gate, up and down matrices of layer l: views
// of its slot when the pager holds it there, of the mapping otherwise. A
// slot's bytes are the file's, so the products are the same.
func (x *expertSource) weights(l *layer, e int) (gate, up, down ops.Matrix) {
	gate, up, down = l.gate[e], l.up[e], l.down[e]
	u := x.slots
	if u == nil || u.slot[e] < 0 {
		return gate, up, down
	}
	p := x.m.pager
	sl, id := int(u.slot[e]), u.layer*p.experts+e
	q, r := p.pool, &p.ranges[id]
	gate.Data = q.data(sl, id, 0, r[0].n)
	up.Data = q.data(sl, id, 1, r[1].n)
	down.Data = q.data(sl, id, 2, r[2].n)
	return gate, up, down
}
