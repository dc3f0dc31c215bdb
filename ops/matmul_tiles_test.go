package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/q3m/q3m/ops/asm"
	"github.com/q3m/q3m/quant"
)

// MatMul takes quantized activation rows four at a time and the rest one
// at a time: every token count must give each token the MatVec result, bit
// for bit, so that prefill and decode agree.
func TestMatMulEqualsMatVecForEveryTokenCount(t *testing.T) {
	eachKernel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(21, 22))
		pool := NewPool(2)
		defer pool.Close()
		e := NewExec(pool)
		for _, c := range []struct {
			typ  quant.Type
			cols int
		}{{quant.Q8_0, 160}, {quant.Q4_0, 160}, {quant.Q4_K, 512}, {quant.Q5_K, 512}, {quant.Q6_K, 512},
			{quant.Q4_K, 4096}, {quant.Q8_0, 4096}, {quant.Q4_0, 4096}} {
			// Up to 19 tokens: every mix of the eight-, four-, two- and
			// one-row forms, of groups of eight and rows one at a time;
			// rows of 4096 values make tiles of four (Q8_0) or eight rows,
			// the last of 37 rows shorter.
			for n := 1; n <= 19; n++ {
				const rows = 37
				typ, cols := c.typ, c.cols
				m, _ := randMatrix(t, r, typ, rows, cols)
				x := randVec(r, n*cols, 1)
				x[0] = 0 // a zero and a saturated activation block edge
				for j := cols; j < min(len(x), cols+32); j++ {
					x[j] = -1
				}
				y := make([]float32, n*rows)
				e.MatMul(y, m, x, n)
				one := make([]float32, rows)
				for tok := range n {
					e.MatVec(one, m, x[tok*cols:(tok+1)*cols])
					for i := range rows {
						if one[i] != y[tok*rows+i] {
							t.Fatalf("%s n=%d token %d row %d: MatMul %v, MatVec %v", typ, n, tok, i, y[tok*rows+i], one[i])
						}
					}
				}
			}
		}
	})
}

// benchMatMul multiplies a 768×2048 matrix (an expert's down projection)
// by n activation rows; bytes/s count the weight bytes read once per call.
func benchMatMul(b *testing.B, typ quant.Type, n int) {
	const rows, cols = 768, 2048
	r := rand.New(rand.NewPCG(3, 4))
	rb, _ := typ.RowBytes(cols)
	m := Matrix{Type: typ, Data: make([]byte, rows*rb), Rows: rows, Cols: cols}
	for i := range rows {
		_ = quant.Quantize(typ, m.Data[i*rb:(i+1)*rb], randVec(r, cols, 1))
	}
	x := randVec(r, n*cols, 1)
	y := make([]float32, n*rows)
	for _, name := range asm.Kernels() {
		b.Run(fmt.Sprintf("%s/n=%d", name, n), func(b *testing.B) {
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

func BenchmarkMatMulQ8_0(b *testing.B) { benchMatMul(b, quant.Q8_0, 64) }
func BenchmarkMatMulQ4_0(b *testing.B) { benchMatMul(b, quant.Q4_0, 64) }

func TestMatMulOfSeveralTokensAllocatesNothing(t *testing.T) {
	eachKernel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(23, 24))
		pool := NewPool(2)
		defer pool.Close()
		e := NewExec(pool)
		const rows, cols, n = 64, 128, 7 // four, two and one row at a time
		q8, _ := randMatrix(t, r, quant.Q8_0, rows, cols)
		q4, _ := randMatrix(t, r, quant.Q4_0, rows, cols)
		x := randVec(r, n*cols, 1)
		y8, y4 := make([]float32, n*rows), make([]float32, n*rows)
		e.Reserve(n, cols, 0, Attn{})
		if a := testing.AllocsPerRun(10, func() {
			e.MatMuls(Product{Y: y8, M: q8, X: x, N: n}, Product{Y: y4, M: q4, X: x, N: n})
		}); a != 0 {
			t.Errorf("%v allocations per MatMuls", a)
		}
	})
}
