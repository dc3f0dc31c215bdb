package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"
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
