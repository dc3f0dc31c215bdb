package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/q3m/q3m/ops/asm"
	"github.com/q3m/q3m/quant"
)

// rawMatrix returns a rows×cols matrix of type typ made of random bytes
// below 0x3c, so that every fp16 scale in it is finite and below 1 (the
// numbers themselves are checked against float64 in package asm; here the
// point is which kernel gets which bytes).
func rawMatrix(r *rand.Rand, typ quant.Type, rows, cols int) Matrix {
	rb, _ := typ.RowBytes(cols)
	m := Matrix{Type: typ, Data: make([]byte, rows*rb), Rows: rows, Cols: cols}
	for i := range m.Data {
		m.Data[i] = byte(r.IntN(0x3c))
	}
	return m
}

// rowDots computes y[t][r] with the active kernel's single-row product of
// row r and the quantized (or float) activation row t: what MatMul must
// give bit for bit.
func rowDots(m Matrix, x []float32, n int) []float32 {
	tr, _ := asm.TypeTraits(m.Type)
	d, _ := asm.Active().Dots(m.Type)
	y := make([]float32, n*m.Rows)
	for t := range n {
		xt := x[t*m.Cols : (t+1)*m.Cols]
		var xq []byte
		if tr.Quantized() {
			xq = make([]byte, tr.ActivationBytes(m.Cols))
			tr.Quantize(xq, xt)
		}
		for r := range m.Rows {
			if tr.Quantized() {
				y[t*m.Rows+r] = d.X1(m.Row(r), xq, m.Cols/m.Type.BlockSize())
			} else {
				y[t*m.Rows+r] = d.Float(m.Row(r), xt)
			}
		}
	}
	return y
}

// MatMul of every type of the kernel table, over 1 to 7 tokens, gives the
// type's own single-row product for every row and token.
func TestMatMulOfEveryTableTypeUsesItsKernel(t *testing.T) {
	eachKernel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(41, 42))
		pool := NewPool(2)
		defer pool.Close()
		e := NewExec(pool)
		for _, typ := range asm.Types() {
			m := rawMatrix(r, typ, 19, 512)
			if err := m.Validate(); err != nil {
				t.Fatalf("%s: %v", typ, err)
			}
			for _, n := range []int{1, 2, 3, 4, 7} {
				x := randVec(r, n*m.Cols, 1)
				y := make([]float32, n*m.Rows)
				e.MatMul(y, m, x, n)
				want := rowDots(m, x, n)
				for i := range y {
					if math.Float32bits(y[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s n=%d: y[%d] = %v, kernel row product %v", typ, n, i, y[i], want[i])
					}
				}
			}
		}
	})
}

// Products of different activation types on one input each get their own
// quantization of it; those of one activation type share one.
func TestMatMulsKeepsActivationTypesApart(t *testing.T) {
	r := rand.New(rand.NewPCG(43, 44))
	e := NewExec(nil)
	const cols, n = 256, 2
	x := randVec(r, n*cols, 1)
	var ps []Product
	for i, typ := range []quant.Type{quant.Q4_K, quant.Q8_0, quant.Q4_1, quant.Q6_K, quant.Q5_0, quant.F16, quant.Q5_1, quant.IQ4_XS} {
		m := rawMatrix(r, typ, 5+i, cols)
		ps = append(ps, Product{Y: make([]float32, n*m.Rows), M: m, X: x, N: n})
	}
	e.MatMuls(ps...)
	for i, p := range ps {
		want := rowDots(p.M, x, n)
		for j := range want {
			if math.Float32bits(p.Y[j]) != math.Float32bits(want[j]) {
				t.Fatalf("product %d (%s) value %d: %v, want %v", i, p.M.Type, j, p.Y[j], want[j])
			}
		}
	}
}

func TestMatrixValidateRejectsPartialSuperBlocks(t *testing.T) {
	for _, typ := range []quant.Type{quant.Q2_K, quant.Q3_K, quant.Q4_K, quant.Q5_K, quant.Q6_K, quant.IQ4_XS} {
		m := Matrix{Type: typ, Data: make([]byte, typ.BlockBytes()), Rows: 1, Cols: 128}
		err := m.Validate()
		if err == nil || !strings.Contains(err.Error(), "multiple of 256") {
			t.Errorf("%s with 128 columns: %v, want an error naming the multiple of 256", typ, err)
		}
	}
}

// After Reserve for the largest activation rows, products of any type
// allocate nothing.
func TestReserveCoversEveryActivationType(t *testing.T) {
	eachKernel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(45, 46))
		e := NewExec(nil)
		const cols, n = 512, 3
		e.Reserve(n, cols, 0, Attn{})
		x := randVec(r, n*cols, 1)
		for _, typ := range asm.Types() {
			m := rawMatrix(r, typ, 8, cols)
			y := make([]float32, n*m.Rows)
			if a := testing.AllocsPerRun(5, func() { e.MatMul(y, m, x, n) }); a != 0 {
				t.Errorf("%s: %v allocations per MatMul after Reserve", typ, a)
			}
		}
	})
}

func BenchmarkMatVecTypes(b *testing.B) {
	const rows, cols = 1024, 2048
	r := rand.New(rand.NewPCG(1, 2))
	x := randVec(r, cols, 1)
	y := make([]float32, rows)
	for _, typ := range []quant.Type{quant.Q4_K, quant.Q6_K, quant.Q5_K, quant.Q3_K, quant.Q2_K, quant.IQ4_XS, quant.Q4_1, quant.Q5_0} {
		m := rawMatrix(r, typ, rows, cols)
		for _, name := range asm.Kernels() {
			b.Run(fmt.Sprintf("%s/%s", typ, name), func(b *testing.B) {
				restore, _ := asm.Use(name)
				defer restore()
				e := NewExec(nil)
				b.SetBytes(int64(len(m.Data)))
				for b.Loop() {
					e.MatVec(y, m, x)
				}
			})
		}
	}
}
