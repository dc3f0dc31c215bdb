package ops

import (
	"fmt"

	"github.com/q3m/q3m/ops/asm"
	"github.com/q3m/q3m/quant"
)

// Attn is the shape of grouped-query attention: query head h reads key/value
// head h/(Heads/KVHeads). Scores are q·k·Scale.
type Attn struct {
	Heads, KVHeads, HeadDim int
	Scale                   float32
}

// KVRows holds the key or value rows of a cache, one row of
// KVHeads·HeadDim values per position, in one of the cache types: F32 rows
// in F32, or F16 or Q8_0 rows in Data (row p at byte p·KVHeads·RowBytes(HeadDim),
// each head's values encoded on their own, so a Q8_0 cache needs HeadDim a
// multiple of 32). Attention dequantizes the rows it reads.
type KVRows struct {
	Type quant.Type
	F32  []float32
	Data []byte
}

// F32Rows returns rows held as float32 values.
func F32Rows(rows []float32) KVRows { return KVRows{Type: quant.F32, F32: rows} }

// KVTypeOK reports whether rows of type t with heads of hd values can be a
// cache: t is F32, F16 or Q8_0, and hd a multiple of t's block size.
func KVTypeOK(t quant.Type, hd int) bool {
	switch t {
	case quant.F32, quant.F16, quant.Q8_0:
		return hd > 0 && hd%t.BlockSize() == 0
	}
	return false
}

// head returns the values of key/value head kvh at position p, from the
// rows themselves (F32) or dequantized into buf (hd values).
func (r *KVRows) head(p, kvh int, a Attn, buf []float32) []float32 {
	hd := a.HeadDim
	if r.Type == quant.F32 {
		o := (p*a.KVHeads + kvh) * hd
		return r.F32[o : o+hd]
	}
	hb := hd / r.Type.BlockSize() * r.Type.BlockBytes()
	o := (p*a.KVHeads + kvh) * hb
	if r.Type == quant.F16 {
		asm.F16ToF32(buf[:hd], r.Data[o:o+hb]) // quant.Dequantize's values, vectorized
		return buf[:hd]
	}
	// The sizes are the type's by construction: this cannot fail.
	_ = quant.Dequantize(r.Type, buf[:hd], r.Data[o:o+hb])
	return buf[:hd]
}

// Attend computes one query's attention output out [Heads·HeadDim] for query
// q [Heads·HeadDim] over the key and value rows k, v of positions [lo, hi),
// each row KVHeads·HeadDim values (row p at offset p·KVHeads·HeadDim).
// scores is scratch of at least hi-lo values.
func Attend(out, q, k, v []float32, lo, hi int, a Attn, scores []float32) {
	kr, vr := F32Rows(k), F32Rows(v)
	for h := range a.Heads {
		attendRun(asm.Active(), out, q, &kr, &vr, lo, hi, a, h, 1, scores, nil)
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
	e.AttendCausalKV(out, q, F32Rows(k), F32Rows(v), first, n, window, a)
}

// AttendCausalKV is AttendCausal over a cache of any KVRows type, each key
// and value head dequantized as it is read; over F32 rows its result is
// AttendCausal's, bit for bit.
func (e *Exec) AttendCausalKV(out, q []float32, k, v KVRows, first, n, window int, a Attn) {
	if a.KVHeads <= 0 || a.Heads%a.KVHeads != 0 {
		panic(fmt.Sprintf("ops: attention with %d heads over %d kv heads", a.Heads, a.KVHeads))
	}
	if !KVTypeOK(k.Type, a.HeadDim) || !KVTypeOK(v.Type, a.HeadDim) {
		panic(fmt.Sprintf("ops: attention over %v/%v rows of heads of %d", k.Type, v.Type, a.HeadDim))
	}
	// Runs are whole groups unless that leaves threads idle.
	run := a.Heads / a.KVHeads
	for run%2 == 0 && n*a.Heads/run < 2*e.Threads() {
		run /= 2
	}
	ctx := first + n
	// Each worker holds run rows of scores and one key and one value head.
	per := run*ctx + 2*a.HeadDim
	if need := e.Threads() * per; need > cap(e.scores) {
		// Doubling: a decoding session grows ctx by one per token.
		e.scores = make([]float32, max(need, 2*cap(e.scores)))
	}
	t := &e.attn
	*t = attnTask{out: out, q: q, k: k, v: v, first: first, window: window, a: a,
		scores: e.scores[:cap(e.scores)], per: per, ctx: ctx, run: run, kern: asm.Active()}
	e.pool.run(&e.batch, t, n*a.Heads/run, 1)
	*t = attnTask{}
}

type attnTask struct {
	out, q        []float32
	k, v          KVRows
	first, window int
	a             Attn
	scores        []float32
	per           int // scratch values per worker
	ctx           int
	run           int // heads per work item, all of one key/value head
	kern          *asm.Kernel
}

func (t *attnTask) Run(worker, lo, hi int) {
	a, run := t.a, t.run
	qd := a.Heads * a.HeadDim
	w := t.scores[worker*t.per : (worker+1)*t.per]
	s, rows := w[:run*t.ctx], w[run*t.ctx:]
	for i := lo; i < hi; i++ {
		tok, h0 := i/(a.Heads/run), i%(a.Heads/run)*run
		p := t.first + tok
		start := 0
		if t.window > 0 {
			start = max(0, p-t.window+1)
		}
		attendRun(t.kern, t.out[tok*qd:(tok+1)*qd], t.q[tok*qd:(tok+1)*qd], &t.k, &t.v, start, p+1, a, h0, run, s, rows)
	}
}

// attendRun computes heads [h0, h0+run), which share a key/value head,
// reading (and dequantizing) each key and value head once for all of them.
// scores holds run·(hi-lo) values, rows 2·HeadDim (unused for F32 rows).
// Every head's result is the same for any run.
func attendRun(kern *asm.Kernel, out, q []float32, k, v *KVRows, lo, hi int, a Attn, h0, run int, scores, rows []float32) {
	hd, m := a.HeadDim, hi-lo
	kvh := h0 / (a.Heads / a.KVHeads)
	var kb, vb []float32
	if len(rows) >= 2*hd {
		kb, vb = rows[:hd], rows[hd:2*hd]
	}
	for p := lo; p < hi; p++ {
		kp := k.head(p, kvh, a, kb)
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
		vp := v.head(p, kvh, a, vb)
		for j := range run {
			h := h0 + j
			asm.AddScaled(out[h*hd:(h+1)*hd], scores[j*m+p-lo], vp) // AddScaled's values, vectorized
		}
	}
}
