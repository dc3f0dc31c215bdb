package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/q3m/q3m/ops/asm"
	"github.com/q3m/q3m/quant"
)

// BenchmarkMatMulKTypes multiplies a 768×2048 matrix (an expert's down
// projection) of each super-block type by 32 activation rows, a prefill
// batch; bytes/s count the weight bytes read once per call.
func BenchmarkMatMulKTypes(b *testing.B) {
	const rows, cols, n = 768, 2048, 32
	r := rand.New(rand.NewPCG(5, 6))
	x := randVec(r, n*cols, 1)
	y := make([]float32, n*rows)
	for _, typ := range []quant.Type{quant.Q4_K, quant.Q6_K, quant.Q5_K, quant.IQ4_XS, quant.Q3_K, quant.Q2_K} {
		m := rawMatrix(r, typ, rows, cols)
		for _, name := range asm.Kernels() {
			b.Run(fmt.Sprintf("%s/%s/n=%d", typ, name, n), func(b *testing.B) {
				restore, _ := asm.Use(name)
				defer restore()
				e := NewExec(nil)
				b.SetBytes(int64(len(m.Data)))
				for b.Loop() {
					e.MatMul(y, m, x, n)
				}
			})
		}
	}
}

// BenchmarkMatMulKRows multiplies a 768×2048 and a 2048×768 matrix of
// Q4_K and Q6_K by 1…8 activation rows on one thread with the active
// kernel: the figures padFrom is tuned by (bytes/s count the weight bytes
// read once per call).
func BenchmarkMatMulKRows(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, shape := range [][2]int{{768, 2048}, {2048, 768}} {
		rows, cols := shape[0], shape[1]
		for _, typ := range []quant.Type{quant.Q4_K, quant.Q6_K, quant.Q4_0, quant.Q8_0} {
			m := rawMatrix(r, typ, rows, cols)
			x := randVec(r, 8*cols, 1)
			y := make([]float32, 8*rows)
			for n := 1; n <= 8; n++ {
				b.Run(fmt.Sprintf("%s/%dx%d/n=%d", typ, rows, cols, n), func(b *testing.B) {
					e := NewExec(nil)
					b.SetBytes(int64(len(m.Data)))
					for b.Loop() {
						e.MatMul(y, m, x, n)
					}
				})
			}
		}
	}
}

// BenchmarkExpertProducts runs one MoE layer's expert products as a
// session's prefill does (MatMuls of every expert's gate and up, then of
// the downs) for 16 experts of Qwen3-30B-A3B's shape with the Q4_K_M
// preset's types (gate and up Q4_K 768×2048, down Q6_K 2048×768), each
// expert given the same number of tokens: 2 is what a 32-token batch gives
// 128 experts with 8 chosen per token, 8 a 128-token batch. It reports
// routed tokens per second (tokens·experts chosen / 8).
func BenchmarkExpertProducts(b *testing.B) {
	const experts, hidden, ffn = 16, 2048, 768
	r := rand.New(rand.NewPCG(9, 10))
	gate, up, down := make([]Matrix, experts), make([]Matrix, experts), make([]Matrix, experts)
	for e := range experts {
		gate[e] = rawMatrix(r, quant.Q4_K, ffn, hidden)
		up[e] = rawMatrix(r, quant.Q4_K, ffn, hidden)
		down[e] = rawMatrix(r, quant.Q6_K, hidden, ffn)
	}
	for _, n := range []int{2, 8, 16} {
		x := randVec(r, experts*n*hidden, 1)
		g, u := make([]float32, experts*n*ffn), make([]float32, experts*n*ffn)
		y := make([]float32, experts*n*hidden)
		for _, name := range asm.Kernels() {
			b.Run(fmt.Sprintf("%s/tokens=%d", name, n), func(b *testing.B) {
				restore, _ := asm.Use(name)
				defer restore()
				pool := NewPool(2)
				defer pool.Close()
				e := NewExec(pool)
				ps := make([]Product, 0, 2*experts)
				for b.Loop() {
					ps = ps[:0]
					for i := range experts {
						xi := x[i*n*hidden : (i+1)*n*hidden]
						ps = append(ps, Product{Y: g[i*n*ffn:], M: gate[i], X: xi, N: n}, Product{Y: u[i*n*ffn:], M: up[i], X: xi, N: n})
					}
					e.MatMuls(ps...)
					ps = ps[:0]
					for i := range experts {
						ps = append(ps, Product{Y: y[i*n*hidden:], M: down[i], X: g[i*n*ffn : (i+1)*n*ffn], N: n})
					}
					e.MatMuls(ps...)
				}
				b.ReportMetric(float64(b.N*experts*n)/8/b.Elapsed().Seconds(), "tokens/s")
			})
		}
	}
}
