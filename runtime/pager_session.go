package runtime

import "github.com/q3m/q3m/ops"

// prefetchNext predicts the experts layer next will choose for the batch's
// n tokens and has the pager read them ahead. It is called once the
// residual stream entering layer next is known: that layer's router applied
// to it (after the layer's FFN norm, skipping the attention still to come)
// picks the experts well enough to start reading them while attention runs.
// It uses the batch scratch that the next layer overwrites before reading.
func (s *Session) prefetchNext(next, n int) {
	p := s.m.pager
	if p == nil || !p.prefetch || (s.route != nil && s.route.replayOn) || next >= len(s.m.layers) || !s.m.layers[next].moe || !p.wantsPrediction(next) {
		return
	}
	c, b, l := s.cfg, &s.buf, &s.m.layers[next]
	H, E, k := c.Hidden, c.Experts, c.ExpertsUsed
	eps := float32(c.RMSEps)
	for t := range n {
		ops.RMSNorm(b.xn[t*H:(t+1)*H], b.x[t*H:(t+1)*H], l.ffnNorm, eps)
	}
	s.exec.MatMul(b.router, l.router, b.xn[:n*H], n)
	for t := range n {
		route(b.router[t*E:(t+1)*E], b.chosen[t*k:(t+1)*k], b.weights[t*k:(t+1)*k], false)
	}
	p.Prefetch(next, b.chosen[:n*k])
}

// wantsPrediction reports whether predicting a layer's experts can help:
// not when there is no budget and all its experts are resident already.
func (p *Pager) wantsPrediction(layer int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.budget > 0 || layer >= len(p.layerResident) || p.layerResident[layer] < p.experts
}
