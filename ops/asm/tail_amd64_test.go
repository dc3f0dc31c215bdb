//go:build !purego

package asm

import (
	"testing"

	"github.com/q3m/q3m/quant"
)

// The multi-row Q8_0 and Q4_0 forms of the amd64 kernel that follows the
// lane models (AVX-512) read the activation rows' tails: a row one byte short of its
// tail panics.
func TestMultiRowFormsPanicOnShortTails(t *testing.T) {
	const n = 4
	for _, c := range []struct {
		name  string
		typ   quant.Type
		wsize int
	}{{"Q8_0", quant.Q8_0, Q8_0Bytes}, {"Q4_0", quant.Q4_0, Q4_0Bytes}} {
		for _, k := range laneKernelsHere(t, c.typ) {
			d := dotsOf(k, c.typ)
			w := make([]byte, n*c.wsize)
			for short := range 4 {
				xs := make([][]byte, 4)
				for i := range xs {
					xs[i] = make([]byte, q8_0Row(n))
				}
				xs[short] = xs[short][: q8_0Row(n)-1 : q8_0Row(n)-1]
				for form, f := range map[string]func(){
					"X4": func() { d.X4(w, xs[0], xs[1], xs[2], xs[3], n, new([4]float32)) },
					"X2": func() { d.X2(w, xs[short%2], xs[(short+1)%2], n, new([2]float32)) },
				} {
					if form == "X2" && short > 1 {
						continue
					}
					func() {
						defer func() {
							if recover() == nil {
								t.Errorf("%s %s %s: no panic with row %d one byte short of its tail", k.Name, c.name, form, short)
							}
						}()
						f()
					}()
				}
			}
		}
	}
}
