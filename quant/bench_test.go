package quant

import (
	"math/rand/v2"
	"testing"
)

func benchRow() []float32 {
	r := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, 256*64)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

// BenchmarkQuantize reports float32 input bytes per second.
func BenchmarkQuantize(b *testing.B) {
	x := benchRow()
	for _, typ := range Types() {
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

// BenchmarkDequantize reports float32 output bytes per second.
func BenchmarkDequantize(b *testing.B) {
	x := benchRow()
	for _, typ := range Types() {
		b.Run(typ.String(), func(b *testing.B) {
			n, _ := typ.RowBytes(len(x))
			src := make([]byte, n)
			Quantize(typ, src, x)
			b.SetBytes(int64(4 * len(x)))
			for b.Loop() {
				Dequantize(typ, x, src)
			}
		})
	}
}
