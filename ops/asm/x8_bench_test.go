package asm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkX8Prefill multiplies an expert-sized 768×2048 Q8_0 or Q4_0
// matrix by one group of eight activation rows, as prefill does (the
// group stays in L1 while the weight rows stream past): one eight-row
// product per weight row, against two four-row, four two-row and eight
// single-row ones; bytes/s count the weight bytes.
func BenchmarkX8Prefill(b *testing.B) {
	const rows, cols = benchRows, benchCols
	r := rand.New(rand.NewPCG(59, 60))
	nb := cols / QK
	xb := nb * Q8_0Bytes
	x := asActivations(randBlocks(r, 8*nb, Q8_0Bytes))
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
			run("x8", func(w []byte) { d.X8(w, x, xb, nb, &o8) })
			run("2x4", func(w []byte) {
				for j := 0; j < 8; j += 4 {
					d.X4(w, xs(j), xs(j+1), xs(j+2), xs(j+3), nb, &o4)
				}
			})
			run("4x2", func(w []byte) {
				for j := 0; j < 8; j += 2 {
					d.X2(w, xs(j), xs(j+1), nb, &o2)
				}
			})
			run("8x1", func(w []byte) {
				for j := range 8 {
					sink += d.X1(w, xs(j), nb)
				}
			})
			_ = sink
		}
	}
}
