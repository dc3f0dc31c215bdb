package asm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/q3m/q3m/quant"
)

// The benchmarks multiply a realistic matrix, 768 rows of 2048 values (a
// Qwen3-MoE expert projection), by one activation row with each available
// kernel; bytes/s count the weight bytes read.
const benchRows, benchCols = 768, 2048

func benchKernels(b *testing.B, rowBytes int, dot func(k *Kernel, row int) float32) {
	for _, name := range Kernels() {
		k, _ := Lookup(name)
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(benchRows * rowBytes))
			var sink float32
			for b.Loop() {
				for r := 0; r < benchRows; r++ {
					sink += dot(k, r)
				}
			}
			_ = sink
		})
	}
}

func BenchmarkDotQ8_0(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	nb := benchCols / QK
	w, x := randBlocks(r, benchRows*nb, Q8_0Bytes), randBlocks(r, nb, Q8_0Bytes)
	rb := nb * Q8_0Bytes
	benchKernels(b, rb, func(k *Kernel, i int) float32 { return dotsOf(k, quant.Q8_0).X1(w[i*rb:], x, nb) })
}

func BenchmarkDotQ4_0Q8_0(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	nb := benchCols / QK
	w, x := randBlocks(r, benchRows*nb, Q4_0Bytes), randBlocks(r, nb, Q8_0Bytes)
	rb := nb * Q4_0Bytes
	benchKernels(b, rb, func(k *Kernel, i int) float32 { return dotsOf(k, quant.Q4_0).X1(w[i*rb:], x, nb) })
}

func benchFloatRows(r *rand.Rand, size int) ([]byte, []float32) {
	w := make([]byte, benchRows*benchCols*size)
	for i := range w {
		w[i] = byte(r.IntN(256))
	}
	for i := 1; i < len(w); i += 2 { // keep every F16/BF16/F32 weight finite
		w[i] &= 0x3f
	}
	x := make([]float32, benchCols)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return w, x
}

func BenchmarkDotF32(b *testing.B) {
	w, x := benchFloatRows(rand.New(rand.NewPCG(1, 3)), 4)
	rb := 4 * benchCols
	benchKernels(b, rb, func(k *Kernel, i int) float32 { return dotsOf(k, quant.F32).Float(w[i*rb:], x) })
}

func BenchmarkDotF16F32(b *testing.B) {
	w, x := benchFloatRows(rand.New(rand.NewPCG(1, 4)), 2)
	rb := 2 * benchCols
	benchKernels(b, rb, func(k *Kernel, i int) float32 { return dotsOf(k, quant.F16).Float(w[i*rb:], x) })
}

func BenchmarkDotBF16F32(b *testing.B) {
	w, x := benchFloatRows(rand.New(rand.NewPCG(1, 5)), 2)
	rb := 2 * benchCols
	benchKernels(b, rb, func(k *Kernel, i int) float32 { return dotsOf(k, quant.BF16).Float(w[i*rb:], x) })
}

// benchX4 multiplies the benchmark matrix by c.rows activation rows, with
// the multi-row kernel (xN) or c.rows calls of the single-row one (Nx1);
// bytes/s count the weight bytes, read once per call.
func benchX4(b *testing.B, c x4Case) {
	r := rand.New(rand.NewPCG(1, 6))
	nb := benchCols / QK
	rb, xb := nb*c.wsize, nb*Q8_0Bytes
	w, x := randBlocks(r, benchRows*nb, c.wsize), randBlocks(r, 4*nb, Q8_0Bytes)
	xs := [][]byte{x[:xb], x[xb : 2*xb], x[2*xb : 3*xb], x[3*xb:]}[:c.rows]
	for _, name := range Kernels() {
		k, _ := Lookup(name)
		if c.multi(k) == nil {
			continue
		}
		b.Run(fmt.Sprintf("%s/x%d", name, c.rows), func(b *testing.B) {
			b.SetBytes(int64(benchRows * rb))
			// The rows' tails are made once, as a matrix product does.
			tx := withTails(xs, nb)
			d := dotsOf(k, c.typ)
			var o4 [4]float32
			var o2 [2]float32
			for b.Loop() {
				for i := 0; i < benchRows; i++ {
					if c.rows == 4 {
						d.X4(w[i*rb:], tx[0], tx[1], tx[2], tx[3], nb, &o4)
					} else {
						d.X2(w[i*rb:], tx[0], tx[1], nb, &o2)
					}
				}
			}
		})
		b.Run(fmt.Sprintf("%s/%dx1", name, c.rows), func(b *testing.B) {
			b.SetBytes(int64(benchRows * rb))
			f := c.single(k)
			var sink float32
			for b.Loop() {
				for i := 0; i < benchRows; i++ {
					for _, x := range xs {
						sink += f(w[i*rb:], x, nb)
					}
				}
			}
			_ = sink
		})
	}
}

func BenchmarkDotQ8_0x4(b *testing.B)     { benchX4(b, x4Cases[0]) }
func BenchmarkDotQ4_0Q8_0x4(b *testing.B) { benchX4(b, x4Cases[1]) }
func BenchmarkDotQ8_0x2(b *testing.B)     { benchX4(b, x4Cases[2]) }
func BenchmarkDotQ4_0Q8_0x2(b *testing.B) { benchX4(b, x4Cases[3]) }
