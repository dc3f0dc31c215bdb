package asm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkX8Q8_0 multiplies an expert-sized 768×2048 Q8_0 or Q4_0 matrix
// by 32 activation rows with each multi-row form; MB/s counts weight bytes.
func BenchmarkX8Q8_0(b *testing.B) { benchX8Forms(b, 32, 57) }

// BenchmarkX8Prefill is BenchmarkX8Q8_0 for one group of eight activation
// rows, as prefill runs an expert's tokens (the group stays in L1 while the
// weight rows stream past).
func BenchmarkX8Prefill(b *testing.B) { benchX8Forms(b, 8, 59) }

// benchX8Forms times the eight-, four-, two- and single-row forms over the
// same n activation rows (n a multiple of 8), each weight row against all n.
func benchX8Forms(b *testing.B, n int, seed uint64) {
	const rows, cols = benchRows, benchCols
	r := rand.New(rand.NewPCG(seed, seed+1))
	nb := cols / QK
	xb := q8_0Row(nb)
	x := make([]byte, n*xb)
	for j := range n {
		copy(x[j*xb:], asActivations(randBlocks(r, nb, Q8_0Bytes)))
		q8_0Tail(x[j*xb:], nb)
	}
	xs := func(j int) []byte { return x[j*xb : (j+1)*xb] }
	for _, c := range x8q8Cases {
		rb := nb * c.wsize
		w := randBlocks(r, rows*nb, c.wsize)
		for _, k := range x8q8Kernels(b, c) {
			d := dotsOf(k, c.typ)
			run := func(form string, f func(w []byte)) {
				b.Run(fmt.Sprintf("%s/%s/%s", c.name, k.Name, form), func(b *testing.B) {
					b.SetBytes(int64(rows * rb))
					for b.Loop() {
						for i := range rows {
							f(w[i*rb : (i+1)*rb])
						}
					}
				})
			}
			var o8 [8]float32
			var o4 [4]float32
			var o2 [2]float32
			var sink float32
			run("x8", func(w []byte) {
				for j := 0; j < n; j += 8 {
					d.X8(w, x[j*xb:], xb, nb, &o8)
				}
			})
			run("x4", func(w []byte) {
				for j := 0; j < n; j += 4 {
					d.X4(w, xs(j), xs(j+1), xs(j+2), xs(j+3), nb, &o4)
				}
			})
			run("x2", func(w []byte) {
				for j := 0; j < n; j += 2 {
					d.X2(w, xs(j), xs(j+1), nb, &o2)
				}
			})
			run("x1", func(w []byte) {
				for j := range n {
					sink += d.X1(w, xs(j), nb)
				}
			})
			_ = sink
		}
	}
}
