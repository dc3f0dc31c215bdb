package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/q3m/q3m/quant"
)

// TestMatMulsEqualsSeparateMatMuls checks that one fused run of several
// products, some sharing an input, some not, gives each product's MatMul
// result bit for bit, whatever the threads.
func TestMatMulsEqualsSeparateMatMuls(t *testing.T) {
	eachKernel(t, func(t *testing.T) {
		for _, threads := range []int{1, 2, 3} {
			t.Run(fmt.Sprintf("threads=%d", threads), func(t *testing.T) {
				r := rand.New(rand.NewPCG(11, uint64(threads)))
				pool := NewPool(threads)
				defer pool.Close()
				e := NewExec(pool)
				const cols, n = 96, 3
				shared := randVec(r, n*cols, 1)
				other := randVec(r, n*cols, 1)
				var ps []Product
				for i, typ := range []quant.Type{quant.Q8_0, quant.Q8_0, quant.Q4_0, quant.F32, quant.BF16, quant.Q8_0, quant.F16} {
					rows := 17 + 13*i
					m, _ := randMatrix(t, r, typ, rows, cols)
					x := shared
					if i == 5 {
						x = other
					}
					ps = append(ps, Product{Y: make([]float32, n*rows), M: m, X: x, N: n})
				}
				one, _ := randMatrix(t, r, quant.Q8_0, 40, cols)
				ps = append(ps, Product{Y: make([]float32, 40), M: one, X: shared, N: 1}) // same start, fewer rows
				e.MatMuls(ps...)
				for i, p := range ps {
					want := make([]float32, len(p.Y))
					NewExec(nil).MatMul(want, p.M, p.X, p.N)
					for j := range want {
						if p.Y[j] != want[j] {
							t.Fatalf("product %d (%s) value %d: MatMuls %v, MatMul %v", i, p.M.Type, j, p.Y[j], want[j])
						}
					}
				}
			})
		}
	})
}

func TestMatMulsAllocatesNothing(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	pool := NewPool(2)
	defer pool.Close()
	e := NewExec(pool)
	q, _ := randMatrix(t, r, quant.Q8_0, 64, 64)
	k, _ := randMatrix(t, r, quant.Q4_0, 32, 64)
	x := randVec(r, 64, 1)
	yq, yk := make([]float32, 64), make([]float32, 32)
	f := func() { e.MatMuls(Product{Y: yq, M: q, X: x, N: 1}, Product{Y: yk, M: k, X: x, N: 1}) }
	f()
	if a := testing.AllocsPerRun(20, f); a != 0 {
		t.Errorf("%v allocations per MatMuls", a)
	}
}

// Products sharing an input whose eight-row tail runs over zero padding
// (padFrom or more tokens past a multiple of eight) or not give each
// product's single-row results bit for bit, including a product of a type
// without an eight-row form reading the padded input, and one padding an
// input a later product reads without padding.
func TestMatMulsOverPaddedTailsEqualsSingleRows(t *testing.T) {
	eachKernel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(13, 14))
		pool := NewPool(2)
		defer pool.Close()
		e := NewExec(pool)
		const cols = 512
		for _, n := range []int{2, 3, 4, 5, 6, 7, 11, 12, 13, 15, 18, 23} {
			x := randVec(r, n*cols, 1)
			var ps []Product
			for i, typ := range []quant.Type{quant.Q4_K, quant.IQ4_XS, quant.Q6_K, quant.Q5_K, quant.Q2_K} {
				m := rawMatrix(r, typ, 9+4*i, cols)
				ps = append(ps, Product{Y: make([]float32, n*m.Rows), M: m, X: x, N: n})
			}
			e.MatMuls(ps...)
			for i, p := range ps {
				want := rowDots(p.M, p.X, p.N)
				for j := range want {
					if math.Float32bits(p.Y[j]) != math.Float32bits(want[j]) {
						t.Fatalf("n=%d product %d (%s) value %d: MatMuls %v, single-row %v", n, i, p.M.Type, j, p.Y[j], want[j])
					}
				}
			}
		}
	})
}
