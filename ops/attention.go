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
// Work is spread over (query, run of heads sharing a key/value head) pairs,
// so that each key and value row is read once for all heads of a run; every
// head's result is the same as Attend's.
func (e *Exec) AttendCausal(out, q, k, v []float32, first, n, window int, a Attn) {
	if a.KVHeads <= 0 || a.Heads%a.KVHeads != 0 {
		panic(fmt.Sprintf("ops: attention with %d heads over %d kv heads", a.Heads, a.KVHeads))
	}
	// Runs are whole groups unless that leaves threads idle.
	run := a.Heads / a.KVHeads
	for run%2 == 0 && n*a.Heads/run < 2*e.Threads() {
		run /= 2
	}
	ctx := first + n
	if need := e.Threads() * run * ctx; need > cap(e.scores) {
		e.scores = make([]float32, need)
	}
	t := &e.attn
	*t = attnTask{out: out, q: q, k: k, v: v, first: first, window: window, a: a,
		scores: e.scores, ctx: ctx, run: run, kern: asm.Active()}
	e.pool.run(&e.batch, t, n*a.Heads/run, 1)
	*t = attnTask{}
}

type attnTask struct {
	out, q, k, v  []float32
	first, window int
	a             Attn
	scores        []float32
	ctx           int
	run           int // heads per work item, all of one key/value head
	kern          *asm.Kernel
}

func (t *attnTask) Run(worker, lo, hi int) {
	a, run := t.a, t.run
	qd := a.Heads * a.HeadDim
	s := t.scores[worker*run*t.ctx : (worker+1)*run*t.ctx]
	for i := lo; i < hi; i++ {
		tok, h0 := i/(a.Heads/run), i%(a.Heads/run)*run
		p := t.first + tok
		start := 0
		if t.window > 0 {
			start = max(0, p-t.window+1)
		}
		attendRun(t.kern, t.out[tok*qd:(tok+1)*qd], t.q[tok*qd:(tok+1)*qd], t.k, t.v, start, p+1, a, h0, run, s)
	}
}

// attendRun is attendHead for heads [h0, h0+run), which share a key/value
// head, reading each key and value row once for all of them. scores holds
// run·(hi-lo) values.
func attendRun(kern *asm.Kernel, out, q, k, v []float32, lo, hi int, a Attn, h0, run int, scores []float32) {
	if run == 1 {
		attendHead(kern, out, q, k, v, lo, hi, a, h0, scores)
		return
	}
	hd, m := a.HeadDim, hi-lo
	stride := a.KVHeads * hd
	kvh := h0 / (a.Heads / a.KVHeads)
	for p := lo; p < hi; p++ {
		kp := k[p*stride+kvh*hd : p*stride+(kvh+1)*hd]
		for j := range run {
			h := h0 + j
			scores[j*m+p-lo] = kern.Dot(q[h*hd:(h+1)*hd], kp) * a.Scale
		}
	}
	for j := range run {
		Softmax(scores[j*m : (j+1)*m])
	}
	clear(out[h0*hd : (h0+run)*hd])
	for p := lo; p < hi; p++ {
		vp := v[p*stride+kvh*hd : p*stride+(kvh+1)*hd]
		for j := range run {
			h := h0 + j
			AddScaled(out[h*hd:(h+1)*hd], scores[j*m+p-lo], vp)
		}
	}
}
