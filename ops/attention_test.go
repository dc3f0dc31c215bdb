package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/q3m/q3m/quant"
)

// TestAttendCausalEqualsAttendPerQuery checks that grouping heads that share
// a key/value head changes no bit of any head's result, for group sizes
// that are split (few queries, many threads) or kept whole.
func TestAttendCausalEqualsAttendPerQuery(t *testing.T) {
	eachKernel(t, func(t *testing.T) {
		for _, c := range []struct {
			heads, kv, first, n, window, threads int
		}{
			{8, 1, 30, 1, 0, 1},  // one run of 8 heads
			{8, 1, 30, 1, 0, 2},  // split into runs of 2
			{8, 2, 10, 3, 0, 3},  // runs of 2
			{6, 2, 7, 4, 5, 2},   // odd group of 3, window
			{4, 4, 12, 2, 0, 2},  // no sharing
			{16, 2, 40, 1, 9, 4}, // runs of 4 then window
		} {
			t.Run(fmt.Sprintf("%+v", c), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(c.heads), uint64(c.first)))
				a := Attn{Heads: c.heads, KVHeads: c.kv, HeadDim: 32, Scale: 0.17}
				ctx, qd := c.first+c.n, c.heads*32
				k, v := randVec(r, ctx*c.kv*32, 1), randVec(r, ctx*c.kv*32, 1)
				q := randVec(r, c.n*qd, 1)
				pool := NewPool(c.threads)
				defer pool.Close()
				out := make([]float32, c.n*qd)
				NewExec(pool).AttendCausal(out, q, k, v, c.first, c.n, c.window, a)
				want := make([]float32, qd)
				for tok := range c.n {
					p := c.first + tok
					lo := 0
					if c.window > 0 {
						lo = max(0, p-c.window+1)
					}
					Attend(want, q[tok*qd:(tok+1)*qd], k, v, lo, p+1, a, make([]float32, p+1-lo))
					for i := range want {
						if out[tok*qd+i] != want[i] {
							t.Fatalf("query %d value %d: AttendCausal %v, Attend %v", tok, i, out[tok*qd+i], want[i])
						}
					}
				}
			})
		}
	})
}

// TestAttendCausalKVDequantizesEachRow checks that attention over an F16
// or Q8_0 cache is, bit for bit, attention over the float32 rows the cache
// dequantizes to (the cache is read through the same kernels), and stays
// within the float64 reference's tolerance of those rows.
func TestAttendCausalKVDequantizesEachRow(t *testing.T) {
	eachKernel(t, func(t *testing.T) {
		for _, typ := range []quant.Type{quant.F16, quant.Q8_0} {
			for _, c := range []struct{ heads, kv, first, n, window, threads int }{
				{8, 2, 10, 3, 0, 3}, {4, 4, 12, 2, 5, 2}, {8, 1, 30, 1, 0, 1},
				{8, 2, 40, 1, 5, 2}, {16, 4, 70, 1, 0, 2}, // one query: fp16 values read in place
			} {
				t.Run(fmt.Sprintf("%v/%+v", typ, c), func(t *testing.T) {
					r := rand.New(rand.NewPCG(uint64(c.heads), uint64(c.first)))
					a := Attn{Heads: c.heads, KVHeads: c.kv, HeadDim: 64, Scale: 0.125}
					ctx, qd, kvd := c.first+c.n, c.heads*64, c.kv*64
					k, v, q := randVec(r, ctx*kvd, 1), randVec(r, ctx*kvd, 1), randVec(r, c.n*qd, 1)
					enc := func(x []float32) ([]byte, []float32) {
						rb, _ := typ.RowBytes(kvd)
						b := make([]byte, ctx*rb)
						back := make([]float32, len(x))
						for p := range ctx {
							if err := quant.Quantize(typ, b[p*rb:(p+1)*rb], x[p*kvd:(p+1)*kvd]); err != nil {
								t.Fatal(err)
							}
							if err := quant.Dequantize(typ, back[p*kvd:(p+1)*kvd], b[p*rb:(p+1)*rb]); err != nil {
								t.Fatal(err)
							}
						}
						return b, back
					}
					kb, kf := enc(k)
					vb, vf := enc(v)
					pool := NewPool(c.threads)
					defer pool.Close()
					e := NewExec(pool)
					got, want := make([]float32, c.n*qd), make([]float32, c.n*qd)
					e.AttendCausalKV(got, q, KVRows{Type: typ, Data: kb}, KVRows{Type: typ, Data: vb}, c.first, c.n, c.window, a)
					e.AttendCausal(want, q, kf, vf, c.first, c.n, c.window, a)
					for i := range got {
						if got[i] != want[i] {
							t.Fatalf("value %d: over %v rows %v, over their float32 values %v", i, typ, got[i], want[i])
						}
					}
					for tok := range c.n {
						p, lo := c.first+tok, 0
						if c.window > 0 {
							lo = max(0, p-c.window+1)
						}
						closeTo(t, "AttendCausalKV", got[tok*qd:(tok+1)*qd], refAttend(q[tok*qd:(tok+1)*qd], kf, vf, lo, p+1, a), 1e-5)
					}
				})
			}
		}
	})
}

func TestKVTypeOK(t *testing.T) {
	for _, c := range []struct {
		typ  quant.Type
		hd   int
		want bool
	}{
		{quant.F32, 24, true}, {quant.F16, 24, true}, {quant.Q8_0, 64, true},
		{quant.Q8_0, 48, false}, {quant.Q4_0, 64, false}, {quant.BF16, 64, false}, {quant.F16, 0, false},
	} {
		if got := KVTypeOK(c.typ, c.hd); got != c.want {
			t.Errorf("KVTypeOK(%v, %d) = %v, want %v", c.typ, c.hd, got, c.want)
		}
	}
}

// A tile's columns past the cache's last key hold whatever the scratch held
// (an earlier tile's keys): no result may depend on them. Scratch filled
// with NaN must give the same bits as fresh scratch.
func TestAttentionIgnoresTheScratchPastTheLastKey(t *testing.T) {
	eachKernel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(7, 8))
		a := Attn{Heads: 8, KVHeads: 2, HeadDim: 32, Scale: 0.2}
		for _, c := range []struct{ first, n int }{{0, 1}, {20, 1}, {37, 3}, {5, 17}} {
			ctx, kvd := c.first+c.n, 2*32
			k, v, q := randVec(r, ctx*kvd, 1), randVec(r, ctx*kvd, 1), randVec(r, c.n*8*32, 1)
			kb, vb := make([]byte, 2*len(k)), make([]byte, 2*len(v))
			if err := quant.Quantize(quant.F16, kb, k); err != nil {
				t.Fatal(err)
			}
			if err := quant.Quantize(quant.F16, vb, v); err != nil {
				t.Fatal(err)
			}
			pool := NewPool(2)
			want, got := make([]float32, len(q)), make([]float32, len(q))
			NewExec(pool).AttendCausalKV(want, q, KVRows{Type: quant.F16, Data: kb}, KVRows{Type: quant.F16, Data: vb}, c.first, c.n, 0, a)
			e := NewExec(pool)
			e.scores = make([]float32, 2*attnScratch(a, attnQueries))
			for i := range e.scores {
				e.scores[i] = float32(math.NaN())
			}
			e.AttendCausalKV(got, q, KVRows{Type: quant.F16, Data: kb}, KVRows{Type: quant.F16, Data: vb}, c.first, c.n, 0, a)
			pool.Close()
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%+v: value %d is %v over NaN scratch, %v over fresh scratch", c, i, got[i], want[i])
				}
			}
		}
	})
}
