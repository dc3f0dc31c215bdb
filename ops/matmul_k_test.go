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
