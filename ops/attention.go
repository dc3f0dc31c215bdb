package ops

import (
	"fmt"
	"math"

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

// headBytes is the bytes of one head's values in Data.
func (r *KVRows) headBytes(a Attn) int {
	return a.HeadDim / r.Type.BlockSize() * r.Type.BlockBytes()
}

// data returns Data from key/value head kvh at position p on; position
// p+j's head starts j·KVHeads·headBytes bytes later.
func (r *KVRows) data(p, kvh int, a Attn) []byte {
	return r.Data[(p*a.KVHeads+kvh)*r.headBytes(a):]
}

// head returns the values of key/value head kvh at position p, from the
// rows themselves (F32) or dequantized into buf (hd values).
func (r *KVRows) head(p, kvh int, a Attn, buf []float32) []float32 {
	hd := a.HeadDim
	if r.Type == quant.F32 {
		o := (p*a.KVHeads + kvh) * hd
		return r.F32[o : o+hd]
	}
	h := r.data(p, kvh, a)[:r.headBytes(a)]
	if r.Type == quant.F16 {
		asm.F16ToF32(buf[:hd], h) // quant.Dequantize's values, vectorized
		return buf[:hd]
	}
	// The sizes are the type's by construction: this cannot fail.
	_ = quant.Dequantize(r.Type, buf[:hd], h)
	return buf[:hd]
}

// tile sets kt[d·attnKeys+j] to value d of key/value head kvh at position
// p+j, for j < n: n rows read transposed, through buf (HeadDim values).
func (r *KVRows) tile(kt []float32, p, n, kvh int, a Attn, buf []float32) {
	if r.Type == quant.F16 {
		asm.F16ToF32T(kt, attnKeys, r.data(p, kvh, a), a.KVHeads*r.headBytes(a), n, a.HeadDim)
		return
	}
	for j := range n {
		for d, x := range r.head(p+j, kvh, a, buf) {
			kt[d*attnKeys+j] = x
		}
	}
}

// Attention runs in tiles, flash-attention style: a task takes a block of
// up to attnQueries consecutive queries and one key/value head, and walks
// the keys in tiles of attnKeys positions, each tile converted to float32
// once for the whole block (keys transposed, so that one step of the score
// kernel multiplies four heads by sixteen keys); a block of one query (a
// decoded token) reads an fp16 tile's values in place instead. Each head's
// softmax is online: a running maximum and sum, the values accumulated so
// far rescaled when the maximum grows. No score row longer than a tile is
// ever held.
//
// Tiles start at multiples of attnKeys from position 0, whatever the first
// query or the window, and every score, exponential, sum and value
// accumulation of one query head depends only on that head's own data in
// a fixed order: a query's result is the same, bit for bit, however the
// queries are batched and however the work is split over threads.
const (
	attnKeys    = 32 // keys per tile, a multiple of 16 for the score kernel
	attnQueries = 16 // queries per task
)

// attnScratch returns the float32 scratch one task needs for blocks of nq
// queries: a transposed key tile, a value tile, one head of dequantized
// values, and per head of the block a row of scores, an accumulator, and
// its running maximum, sum and rescale factor.
func attnScratch(a Attn, nq int) int {
	hd, rows := a.HeadDim, nq*(a.Heads/a.KVHeads)
	return 2*attnKeys*hd + hd + rows*(attnKeys+hd+3)
}

// Attend computes one query's attention output out [Heads·HeadDim] for query
// q [Heads·HeadDim] over the key and value rows k, v of positions [lo, hi),
// each row KVHeads·HeadDim values (row p at offset p·KVHeads·HeadDim). Its
// result is AttendCausal's for a query at position hi-1 with a window of
// hi-lo positions. scores is scratch; Attend allocates its own when scores
// is shorter than it needs.
func Attend(out, q, k, v []float32, lo, hi int, a Attn, scores []float32) {
	checkAttn(a, quant.F32, quant.F32)
	if hi <= lo {
		clear(out[:a.Heads*a.HeadDim])
		return
	}
	if need := attnScratch(a, 1); len(scores) < need {
		scores = make([]float32, need)
	}
	t := attnTask{out: out, q: q, k: F32Rows(k), v: F32Rows(v), first: hi - 1, n: 1, window: hi - lo, a: a,
		scratch: scores, per: len(scores), nq: 1, blocks: 1}
	t.Run(0, 0, a.KVHeads)
}

// AttendCausal computes attention for n consecutive queries at positions
// first, first+1, …: query t (at position first+t) sees keys at positions
// [max(0, p-window+1), p], or [0, p] when window is 0. q and out hold n rows
// of Heads·HeadDim values; k and v hold rows for positions [0, first+n).
// Work is spread over (key/value head, block of queries) tasks, so that each
// key and value row is read once for all heads and queries of a task; every
// head's result is the same as Attend's, whatever n, first and the threads.
func (e *Exec) AttendCausal(out, q, k, v []float32, first, n, window int, a Attn) {
	e.AttendCausalKV(out, q, F32Rows(k), F32Rows(v), first, n, window, a)
}

// AttendCausalKV is AttendCausal over a cache of any KVRows type, each key
// and value head dequantized as it is read; over F32 rows its result is
// AttendCausal's, bit for bit.
func (e *Exec) AttendCausalKV(out, q []float32, k, v KVRows, first, n, window int, a Attn) {
	checkAttn(a, k.Type, v.Type)
	if n <= 0 {
		return
	}
	nq := min(n, attnQueries)
	per := attnScratch(a, nq)
	if need := e.Threads() * per; need > cap(e.scores) {
		e.scores = make([]float32, need) // at most Threads blocks of attnQueries: no growth with the context
	}
	t := &e.attn
	blocks := (n + nq - 1) / nq
	*t = attnTask{out: out, q: q, k: k, v: v, first: first, n: n, window: window, a: a,
		scratch: e.scores[:cap(e.scores)], per: per, nq: nq, blocks: blocks}
	e.pool.run(&e.batch, t, blocks*a.KVHeads, 1)
	*t = attnTask{}
}

// checkAttn panics unless a and the cache types make a valid attention.
func checkAttn(a Attn, kt, vt quant.Type) {
	if a.KVHeads <= 0 || a.Heads%a.KVHeads != 0 {
		panic(fmt.Sprintf("ops: attention with %d heads over %d kv heads", a.Heads, a.KVHeads))
	}
	if !KVTypeOK(kt, a.HeadDim) || !KVTypeOK(vt, a.HeadDim) {
		panic(fmt.Sprintf("ops: attention over %v/%v rows of heads of %d", kt, vt, a.HeadDim))
	}
}

type attnTask struct {
	out, q           []float32
	k, v             KVRows
	first, n, window int
	a                Attn
	scratch          []float32
	per              int // scratch values per worker
	nq               int // queries per block
	blocks           int // blocks of queries
}

// Run computes tasks [lo, hi): task i is key/value head i%KVHeads of query
// block blocks-1-i/KVHeads, so that the blocks with the most keys go first.
func (t *attnTask) Run(worker, lo, hi int) {
	w := t.scratch[worker*t.per : (worker+1)*t.per]
	for i := lo; i < hi; i++ {
		t0 := (t.blocks - 1 - i/t.a.KVHeads) * t.nq
		t.block(w, i%t.a.KVHeads, t0, min(t0+t.nq, t.n))
	}
}

// span returns the keys [lo, hi) query tok sees.
func (t *attnTask) span(tok int) (lo, hi int) {
	p := t.first + tok
	if t.window > 0 {
		lo = max(0, p-t.window+1)
	}
	return lo, p + 1
}

// block computes queries [t0, t1) for the heads of key/value head kvh.
func (t *attnTask) block(w []float32, kvh, t0, t1 int) {
	a, T := t.a, attnKeys
	hd, g := a.HeadDim, a.Heads/a.KVHeads
	qd, rows := a.Heads*hd, (t1-t0)*g
	kt, vt, buf := w[:hd*T], w[hd*T:2*hd*T], w[2*hd*T:2*hd*T+hd]
	w = w[2*hd*T+hd:]
	s, acc := w[:rows*T], w[rows*T:rows*(T+hd)]
	mx, sum, alpha := w[rows*(T+hd):rows*(T+hd+1)], w[rows*(T+hd+1):rows*(T+hd+2)], w[rows*(T+hd+2):rows*(T+hd+3)]
	clear(acc)
	clear(sum)
	for i := range mx {
		mx[i] = float32(math.Inf(-1))
	}
	lo, _ := t.span(t0)
	_, hi := t.span(t1 - 1) // the last query sees the last key
	for ts := lo / T * T; ts < hi; ts += T {
		te := min(ts+T, hi)
		// Keys from hi on are not in the cache: their columns of kt keep
		// an earlier tile's keys, and no query reads their scores.
		t.k.tile(kt, ts, te-ts, kvh, a, buf)
		// Values are read in place when they are float32, or fp16 for a
		// single query; otherwise converted once for all of the block.
		vr, ldv, vh := vt, hd, []byte(nil)
		switch {
		case t.v.Type == quant.F32:
			vr, ldv = t.v.F32[(ts*a.KVHeads+kvh)*hd:], a.KVHeads*hd
		case t.v.Type == quant.F16 && t1-t0 == 1:
			vh = t.v.data(ts, kvh, a)
		default:
			for j := range te - ts {
				t.v.head(ts+j, kvh, a, vt[j*hd:(j+1)*hd])
			}
		}
		for tok := t0; tok < t1; tok++ {
			qlo, qhi := t.span(tok)
			j0, j1 := max(qlo, ts)-ts, min(qhi, ts+T)-ts
			if j0 >= j1 {
				continue
			}
			r0 := (tok - t0) * g
			sr := s[r0*T : (r0+g)*T]
			asm.AttnScores(sr, t.q[tok*qd+kvh*g*hd:], kt, g, T, hd)
			for r := range g {
				x := sr[r*T+j0 : r*T+j1]
				m := scaleMax(x, a.Scale, mx[r0+r])
				asm.ExpSub(x, x, m)
				e := sum4(x)
				alpha[r0+r] = asm.Exp32(mx[r0+r] - m)
				sum[r0+r] = sum[r0+r]*alpha[r0+r] + e
				mx[r0+r] = m
			}
			if vh != nil {
				kvd := a.KVHeads * hd
				asm.AttnValuesF16(acc[r0*hd:(r0+g)*hd], alpha[r0:r0+g], sr[j0:], T, vh[2*j0*kvd:], kvd, g, j1-j0, hd, vt)
			} else {
				asm.AttnValues(acc[r0*hd:(r0+g)*hd], alpha[r0:r0+g], sr[j0:], T, vr[j0*ldv:], ldv, g, j1-j0, hd)
			}
		}
	}
	for tok := t0; tok < t1; tok++ {
		o := t.out[tok*qd+kvh*g*hd : tok*qd+(kvh+1)*g*hd]
		for r := range g {
			row := (tok-t0)*g + r
			inv := 1 / sum[row] // as ggml's softmax: one division a head
			o := o[r*hd : (r+1)*hd]
			for i, x := range acc[row*hd : (row+1)*hd] {
				o[i] = x * inv
			}
		}
	}
}

// scaleMax multiplies x by sc and returns the largest of m and the results.
// Four running maxima break the chain of comparisons; the maximum of the
// same values is the same whatever their order.
func scaleMax(x []float32, sc, m float32) float32 {
	m0, m1, m2, m3 := m, m, m, m
	i := 0
	for ; i+4 <= len(x); i += 4 {
		y := x[i : i+4 : i+4]
		y0, y1, y2, y3 := y[0]*sc, y[1]*sc, y[2]*sc, y[3]*sc
		y[0], y[1], y[2], y[3] = y0, y1, y2, y3
		if y0 > m0 {
			m0 = y0
		}
		if y1 > m1 {
			m1 = y1
		}
		if y2 > m2 {
			m2 = y2
		}
		if y3 > m3 {
			m3 = y3
		}
	}
	for ; i < len(x); i++ {
		x[i] *= sc
		if x[i] > m0 {
			m0 = x[i]
		}
	}
	if m1 > m0 {
		m0 = m1
	}
	if m3 > m2 {
		m2 = m3
	}
	if m2 > m0 {
		m0 = m2
	}
	return m0
}

// sum4 returns the sum of x in four interleaved chains, added
// (s0+s1)+(s2+s3): its bits depend only on x.
func sum4(x []float32) float32 {
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		y := x[i : i+4 : i+4]
		s0 += y[0]
		s1 += y[1]
		s2 += y[2]
		s3 += y[3]
	}
	for ; i < len(x); i++ {
		s0 += x[i]
	}
	return (s0 + s1) + (s2 + s3)
}
