package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/q3m/q3m/quant"
)

// attnCache is a key/value cache of ctx positions in one type, with the
// float32 values its rows dequantize to.
type attnCache struct {
	k, v   KVRows
	kf, vf []float32
}

func newAttnCache(t *testing.T, r *rand.Rand, typ quant.Type, ctx, kvd int, scale float64) attnCache {
	t.Helper()
	enc := func(x []float32) (KVRows, []float32) {
		if typ == quant.F32 {
			return F32Rows(x), x
		}
		rb, err := typ.RowBytes(kvd)
		if err != nil {
			t.Fatal(err)
		}
		b, back := make([]byte, ctx*rb), make([]float32, len(x))
		for p := range ctx {
			if err := quant.Quantize(typ, b[p*rb:(p+1)*rb], x[p*kvd:(p+1)*kvd]); err != nil {
				t.Fatal(err)
			}
			if err := quant.Dequantize(typ, back[p*kvd:(p+1)*kvd], b[p*rb:(p+1)*rb]); err != nil {
				t.Fatal(err)
			}
		}
		return KVRows{Type: typ, Data: b}, back
	}
	var c attnCache
	c.k, c.kf = enc(randVec(r, ctx*kvd, scale))
	c.v, c.vf = enc(randVec(r, ctx*kvd, 1))
	return c
}

// attnTileCases cross tile boundaries (32 positions) with contexts, first
// positions and windows that start and end inside tiles.
var attnTileCases = []struct {
	typ                          quant.Type
	heads, kv, hd, first, n, win int
}{
	{quant.F16, 32, 4, 128, 0, 100, 0},  // the model's shape, from position 0
	{quant.F16, 16, 2, 128, 37, 45, 0},  // first inside a tile
	{quant.F32, 8, 1, 64, 61, 70, 40},   // window shorter than a tile span
	{quant.Q8_0, 8, 2, 64, 90, 33, 100}, // window over many tiles
	{quant.F32, 6, 2, 24, 5, 60, 1},     // a window of one position; head size not a multiple of 16
	{quant.F16, 12, 4, 32, 130, 17, 0},  // groups of three heads (Go rows)
	{quant.F32, 4, 4, 16, 31, 2, 0},     // no sharing, the last position of a tile
}

// TestAttendTilesMatchFloat64 checks tiled attention over many tiles against
// a float64 softmax over the cache's dequantized rows, with score spreads
// large enough that the running maximum moves between tiles.
func TestAttendTilesMatchFloat64(t *testing.T) {
	var worst float64
	for i, c := range attnTileCases {
		t.Run(fmt.Sprintf("%v/%+v", c.typ, c), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(i), 91))
			a := Attn{Heads: c.heads, KVHeads: c.kv, HeadDim: c.hd, Scale: float32(1 / math.Sqrt(float64(c.hd)))}
			ctx, qd := c.first+c.n, c.heads*c.hd
			kc := newAttnCache(t, r, c.typ, ctx, c.kv*c.hd, 2)
			q := randVec(r, c.n*qd, 2)
			pool := NewPool(2)
			defer pool.Close()
			out := make([]float32, c.n*qd)
			NewExec(pool).AttendCausalKV(out, q, kc.k, kc.v, c.first, c.n, c.win, a)
			for tok := range c.n {
				p, lo := c.first+tok, 0
				if c.win > 0 {
					lo = max(0, p-c.win+1)
				}
				want := refAttend(q[tok*qd:(tok+1)*qd], kc.kf, kc.vf, lo, p+1, a)
				for j, w := range want {
					worst = max(worst, math.Abs(float64(out[tok*qd+j])-w)/math.Max(1, math.Abs(w)))
				}
				// Observed: at most 3.4e-6 (scores of spread ~4, summed in float32;
				// the two-pass softmax this replaced: 2.6e-6).
				closeTo(t, "AttendCausalKV", out[tok*qd:(tok+1)*qd], want, 1e-5)
			}
		})
	}
	t.Logf("largest error against float64: %.2g", worst)
}

// TestAttendCausalIsBatchInvariant checks that a query's result does not
// depend, in any bit, on the queries computed with it or on the threads:
// all queries in one call equal each query alone (as decoding computes
// it) and the queries in uneven batches.
func TestAttendCausalIsBatchInvariant(t *testing.T) {
	for i, c := range attnTileCases {
		t.Run(fmt.Sprintf("%v/%+v", c.typ, c), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(i), 92))
			a := Attn{Heads: c.heads, KVHeads: c.kv, HeadDim: c.hd, Scale: 0.3}
			ctx, qd := c.first+c.n, c.heads*c.hd
			kc := newAttnCache(t, r, c.typ, ctx, c.kv*c.hd, 1)
			q := randVec(r, c.n*qd, 1)
			two, one := NewPool(2), NewPool(1)
			defer two.Close()
			defer one.Close()
			all := make([]float32, c.n*qd)
			NewExec(two).AttendCausalKV(all, q, kc.k, kc.v, c.first, c.n, c.win, a)
			for _, batch := range []int{1, 7, 19} {
				e := NewExec(one)
				if batch == 7 {
					e = NewExec(two)
				}
				got := make([]float32, c.n*qd)
				for b := 0; b < c.n; b += batch {
					m := min(batch, c.n-b)
					// The cache holds only the positions seen so far.
					k, v := kc.k, kc.v
					end := c.first + b + m
					if c.typ == quant.F32 {
						k, v = F32Rows(kc.kf[:end*c.kv*c.hd]), F32Rows(kc.vf[:end*c.kv*c.hd])
					} else {
						rb, _ := c.typ.RowBytes(c.kv * c.hd)
						k.Data, v.Data = k.Data[:end*rb], v.Data[:end*rb]
					}
					e.AttendCausalKV(got[b*qd:], q[b*qd:], k, v, c.first+b, m, c.win, a)
				}
				for j := range all {
					if math.Float32bits(got[j]) != math.Float32bits(all[j]) {
						t.Fatalf("batches of %d: query %d value %d: %v, all at once %v", batch, j/qd, j%qd, got[j], all[j])
					}
				}
			}
		})
	}
}

// TestAttendCausalNoQueries checks that zero queries write nothing.
func TestAttendCausalNoQueries(t *testing.T) {
	a := Attn{Heads: 2, KVHeads: 1, HeadDim: 16, Scale: 1}
	out := []float32{7}
	NewExec(nil).AttendCausal(out, nil, make([]float32, 16), make([]float32, 16), 1, 0, 0, a)
	if out[0] != 7 {
		t.Fatalf("out = %v, want it untouched", out)
	}
}

// TestScaleMaxIsTheLargestScaledValue checks the unrolled scale-and-maximum
// of the online softmax against a plain loop, over ragged lengths.
func TestScaleMaxIsTheLargestScaledValue(t *testing.T) {
	r := rand.New(rand.NewPCG(93, 94))
	for n := range 11 {
		x := randVec(r, n, 3)
		want, m0 := float32(math.Inf(-1)), float32(math.Inf(-1))
		if n == 5 {
			m0 = 100 // a running maximum above every value stays
			want = m0
		}
		scaled := make([]float32, n)
		for i, v := range x {
			scaled[i] = v * 0.7
			want = max(want, scaled[i])
		}
		if got := scaleMax(x, 0.7, m0); got != want {
			t.Errorf("n=%d: max %v, want %v", n, got, want)
		}
		for i := range x {
			if x[i] != scaled[i] {
				t.Fatalf("n=%d: x[%d] = %v, want %v", n, i, x[i], scaled[i])
			}
		}
	}
}
