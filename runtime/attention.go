package runtime

import (
	"math"

	"github.com/q3m/q3m/ops"
)

// attention computes the attention block of layer li for the batch's n
// tokens at positions s.pos…: from buf.xn into buf.o, appending the tokens'
// keys and values to the layer's cache.
func (s *Session) attention(li int, l *layer, n int) {
	c, b := s.cfg, &s.buf
	hd, qd := c.HeadDim, c.Heads*c.HeadDim
	x := b.xn[:n*c.Hidden]
	s.exec.MatMuls(ops.Product{Y: b.q, M: l.q, X: x, N: n},
		ops.Product{Y: b.k, M: l.k, X: x, N: n},
		ops.Product{Y: b.v, M: l.v, X: x, N: n})
	s.prepareQKV(li, l, b.q, b.k, b.v, n)
	a := ops.Attn{Heads: c.Heads, KVHeads: c.KVHeads, HeadDim: hd, Scale: float32(1 / math.Sqrt(float64(hd)))}
	end := s.pos + n
	s.exec.AttendCausalKV(b.att[:n*qd], b.q[:n*qd], s.kv.upTo(s.kv.k[li], end), s.kv.upTo(s.kv.v[li], end), s.pos, n, c.SlidingWindow, a)
	s.exec.MatMul(b.o, l.o, b.att[:n*qd], n)
	if l.ob != nil {
		for t := range n {
			ops.Add(b.o[t*c.Hidden:(t+1)*c.Hidden], l.ob)
		}
	}
}

// prepareQKV adds the biases to the n rows of q, k and v (the tokens at
// positions s.pos…), normalizes and rotates their queries and keys, and
// appends their keys and values to layer li's cache.
func (s *Session) prepareQKV(li int, l *layer, q, k, v []float32, n int) {
	c := s.cfg
	hd, qd, kvd := c.HeadDim, c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	eps := float32(c.RMSEps)
	half := hd / 2
	for t := range n {
		q, k, v := q[t*qd:(t+1)*qd], k[t*kvd:(t+1)*kvd], v[t*kvd:(t+1)*kvd]
		if l.qb != nil {
			ops.Add(q, l.qb)
			ops.Add(k, l.kb)
			ops.Add(v, l.vb)
		}
		for h := range c.Heads {
			ops.RMSNorm(q[h*hd:(h+1)*hd], q[h*hd:(h+1)*hd], l.qNorm, eps)
		}
		for h := range c.KVHeads {
			ops.RMSNorm(k[h*hd:(h+1)*hd], k[h*hd:(h+1)*hd], l.kNorm, eps)
		}
		p := s.pos + t
		cos, sin := s.cos[p*half:(p+1)*half], s.sin[p*half:(p+1)*half]
		ops.Rope(q, c.Heads, cos, sin)
		ops.Rope(k, c.KVHeads, cos, sin)
		s.kv.store(&s.kv.k[li], p, k)
		s.kv.store(&s.kv.v[li], p, v)
	}
}
