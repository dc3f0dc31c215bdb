package ops

import (
	"fmt"

	"github.com/q3m/q3m/ops/asm"
)

// Attn is the shape of grouped-query attention: query head h reads key/value
// head h/(Heads/KVHeads). Scores are q·k·Scale.
type Attn struct {
	Heads, KVHeads, HeadDim int
	Scale                   float32
}

// Attend computes one query's attention output out [Heads·HeadDim] for query
// q [Heads·HeadDim] over the key and value rows k, v of positions [lo, hi),
// each row KVHeads·HeadDim values (row p at offset p·KVHeads·HeadDim).
// scores is scratch of at least hi-lo values.
func Attend(out, q, k, v []float32, lo, hi int, a Attn, scores []float32) {
	for h := range a.Heads {
		attendHead(asm.Active(), out, q, k, v, lo, hi, a, h, scores)
	}
}

func attendHead(kern *asm.Kernel, out, q, k, v []float32, lo, hi int, a Attn, h int, scores []float32) {
	hd := a.HeadDim
	stride := a.KVHeads * hd
	kvh := h / (a.Heads / a.KVHeads)
	qh := q[h*hd : (h+1)*hd]
	oh := out[h*hd : (h+1)*hd]
	s := scores[:hi-lo]
	for p := lo; p < hi; p++ {
		s[p-lo] = kern.Dot(qh, k[p*stride+kvh*hd:p*stride+(kvh+1)*hd]) * a.Scale
	}
	Softmax(s)
	clear(oh)
	for p := lo; p < hi; p++ {
		AddScaled(oh, s[p-lo], v[p*stride+kvh*hd:p*stride+(kvh+1)*hd])
	}
}

// AttendCausal computes attention for n consecutive queries at positions
// first, first+1, …: query t (at position first+t) sees keys at positions
// [max(0, p-window+1), p], or [0, p] when window is 0. q and out hold n rows
// of Heads·HeadDim values; k and v hold rows for positions [0, first+n).
// Work is spread over (query, head) pairs.
func (e *Exec) AttendCausal(out, q, k, v []float32, first, n, window int, a Attn) {
	if a.KVHeads <= 0 || a.Heads%a.KVHeads != 0 {
		panic(fmt.Sprintf("ops: attention with %d heads over %d kv heads", a.Heads, a.KVHeads))
	}
	ctx := first + n
	if need := e.Threads() * ctx; need > cap(e.scores) {
		e.scores = make([]float32, need)
	}
	t := &e.attn
	*t = attnTask{out: out, q: q, k: k, v: v, first: first, window: window, a: a,
		scores: e.scores, ctx: ctx, kern: asm.Active()}
	e.pool.run(&e.batch, t, n*a.Heads, 1)
	*t = attnTask{}
}

type attnTask struct {
	out, q, k, v  []float32
	first, window int
	a             Attn
	scores        []float32
	ctx           int
	kern          *asm.Kernel
}

func (t *attnTask) Run(worker, lo, hi int) {
	qd := t.a.Heads * t.a.HeadDim
	s := t.scores[worker*t.ctx : (worker+1)*t.ctx]
	for i := lo; i < hi; i++ {
		tok, h := i/t.a.Heads, i%t.a.Heads
		p := t.first + tok
		start := 0
		if t.window > 0 {
			start = max(0, p-t.window+1)
		}
		attendHead(t.kern, t.out[tok*qd:(tok+1)*qd], t.q[tok*qd:(tok+1)*qd], t.k, t.v, start, p+1, t.a, h, s)
	}
}
