package quant

import (
	"math/rand/v2"
	"testing"
)

func BenchmarkQuantize(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, 2048*32)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	for _, typ := range []Type{BF16, Q8_0, Q4_0} {
		b.Run(typ.String(), func(b *testing.B) {
			n, _ := typ.RowBytes(len(x))
			dst := make([]byte, n)
			b.SetBytes(int64(4 * len(x)))
			for b.Loop() {
				Quantize(typ, dst, x)
			}
		})
	}
}
