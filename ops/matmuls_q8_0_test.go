package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/q3m/q3m/quant"
)

// The types with Q8_0 activations share one quantized input: Q8_0 and Q4_0
// take it eight tokens at a time where their kernel can (padding the input
// to a multiple of eight for a tail of six or seven tokens, or in groups of
// eight, sharing them where both take as many), Q5_0 and IQ4_NL read it as
// it is, padded or not. Every product must still give each
// token its single-row results bit for bit.
func TestMatMulsOfQ8_0ActivationTypesEqualSingleRows(t *testing.T) {
	eachKernel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(15, 16))
		pool := NewPool(2)
		defer pool.Close()
		e := NewExec(pool)
		const cols = 256
		for _, n := range []int{2, 3, 6, 7, 8, 9, 11, 15, 16, 23} {
			x := randVec(r, n*cols, 1)
			var ps []Product
			for i, typ := range []quant.Type{quant.Q8_0, quant.Q5_0, quant.Q4_0, quant.IQ4_NL, quant.Q4_0} {
				m := rawMatrix(r, typ, 5+6*i, cols)
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
