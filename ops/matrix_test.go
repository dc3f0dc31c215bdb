package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/q3m/q3m/ops/asm"
	"github.com/q3m/q3m/quant"
)

var allTypes = []quant.Type{quant.F32, quant.F16, quant.BF16, quant.Q8_0, quant.Q4_0}

func randVec(r *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64() * scale)
	}
	return v
}

// randMatrix quantizes a random rows×cols matrix to t and returns it with
// its dequantized values.
func randMatrix(t *testing.T, r *rand.Rand, typ quant.Type, rows, cols int) (Matrix, [][]float64) {
	t.Helper()
	rb, err := typ.RowBytes(cols)
	if err != nil {
		t.Fatal(err)
	}
	m := Matrix{Type: typ, Data: make([]byte, rows*rb), Rows: rows, Cols: cols}
	deq := make([][]float64, rows)
	f := make([]float32, cols)
	for i := range rows {
		if err := quant.Quantize(typ, m.Data[i*rb:(i+1)*rb], randVec(r, cols, 0.5)); err != nil {
			t.Fatal(err)
		}
		if err := quant.Dequantize(typ, f, m.Data[i*rb:(i+1)*rb]); err != nil {
			t.Fatal(err)
		}
		deq[i] = make([]float64, cols)
		for j, v := range f {
			deq[i][j] = float64(v)
		}
	}
	return m, deq
}

// activationBound bounds |w·x - w·q8(x)|: each Q8_0 value is off by at most
// half a step d/2 = amax/254 of its block (plus the fp16 rounding of d,
// which moves every value by at most 127·|d - d16| ≤ amax·2⁻¹¹).
func activationBound(w []float64, x []float32) float64 {
	var b float64
	for blk := 0; blk < len(x)/32; blk++ {
		var amax, wsum float64
		for j := blk * 32; j < (blk+1)*32; j++ {
			amax = math.Max(amax, math.Abs(float64(x[j])))
			wsum += math.Abs(w[j])
		}
		b += wsum * amax * (1.0/254 + 1.0/2048)
	}
	return b
}

func eachKernel(t *testing.T, f func(t *testing.T)) {
	for _, name := range asm.Kernels() {
		t.Run(name, func(t *testing.T) {
			restore, err := asm.Use(name)
			if err != nil {
				t.Fatal(err)
			}
			defer restore()
			f(t)
		})
	}
}

func TestMatVecMatchesDequantizedFloat64(t *testing.T) {
	eachKernel(t, func(t *testing.T) {
		for _, typ := range allTypes {
			for _, threads := range []int{1, 3} {
				t.Run(fmt.Sprintf("%s/threads=%d", typ, threads), func(t *testing.T) {
					checkMatVec(t, typ, threads)
				})
			}
		}
	})
}

func checkMatVec(t *testing.T, typ quant.Type, threads int) {
	r := rand.New(rand.NewPCG(uint64(typ), 7))
	const rows, cols = 77, 160
	m, w := randMatrix(t, r, typ, rows, cols)
	x := randVec(r, cols, 1)
	pool := NewPool(threads)
	defer pool.Close()
	e := NewExec(pool)
	y := make([]float32, rows)
	e.MatVec(y, m, x)
	for i := range rows {
		var want, mag float64
		for j := range cols {
			want += w[i][j] * float64(x[j])
			mag += math.Abs(w[i][j] * float64(x[j]))
		}
		tol := 1e-6 * mag // float32 accumulation
		if m.quantized() {
			tol += activationBound(w[i], x)
		}
		if math.Abs(float64(y[i])-want) > tol {
			t.Fatalf("row %d: got %v, float64 %v (tolerance %g)", i, y[i], want, tol)
		}
	}
}

func TestMatMulEqualsMatVecPerRow(t *testing.T) {
	eachKernel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 5))
		pool := NewPool(2)
		defer pool.Close()
		e := NewExec(pool)
		for _, typ := range allTypes {
			const rows, cols, n = 50, 64, 5
			m, _ := randMatrix(t, r, typ, rows, cols)
			x := randVec(r, n*cols, 1)
			y := make([]float32, n*rows)
			e.MatMul(y, m, x, n)
			one := make([]float32, rows)
			for tok := range n {
				e.MatVec(one, m, x[tok*cols:(tok+1)*cols])
				for i := range rows {
					if one[i] != y[tok*rows+i] {
						t.Fatalf("%s token %d row %d: MatMul %v, MatVec %v", typ, tok, i, y[tok*rows+i], one[i])
					}
				}
			}
		}
	})
}

func TestQuantizeQ8_0MatchesQuant(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	x := randVec(r, 32*40, 3)
	copy(x[:32], make([]float32, 32)) // an all-zero block
	x[40] = 0.5 * 127 / 127           // exact halves exercise rounding
	want := make([]byte, 34*40)
	if err := quant.Quantize(quant.Q8_0, want, x); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 34*40)
	QuantizeQ8_0(got, x)
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("byte %d: got %#x, quant %#x", i, got[i], want[i])
		}
	}
}

func TestMatVecAllocatesNothing(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	pool := NewPool(2)
	defer pool.Close()
	e := NewExec(pool)
	for _, typ := range allTypes {
		m, _ := randMatrix(t, r, typ, 64, 64)
		x := randVec(r, 64, 1)
		y := make([]float32, 64)
		e.MatVec(y, m, x)
		if a := testing.AllocsPerRun(20, func() { e.MatVec(y, m, x) }); a != 0 {
			t.Errorf("%s: %v allocations per MatVec", typ, a)
		}
	}
}

func TestMatrixValidateRejectsBadShapes(t *testing.T) {
	for _, c := range []struct {
		name string
		m    Matrix
	}{
		{"unsupported type", Matrix{Type: quant.Q8_1, Data: make([]byte, 36), Rows: 1, Cols: 32}},
		{"partial block", Matrix{Type: quant.Q8_0, Data: make([]byte, 34), Rows: 1, Cols: 16}},
		{"short data", Matrix{Type: quant.F32, Data: make([]byte, 15), Rows: 2, Cols: 2}},
		{"zero rows", Matrix{Type: quant.F32, Rows: 0, Cols: 2}},
	} {
		if err := c.m.Validate(); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
	if err := (Matrix{Type: quant.Q4_0, Data: make([]byte, 36), Rows: 2, Cols: 32}).Validate(); err != nil {
		t.Errorf("valid matrix rejected: %v", err)
	}
}

func benchMatVec(b *testing.B, typ quant.Type) {
	const rows, cols = 2048, 768
	r := rand.New(rand.NewPCG(1, 2))
	rb, _ := typ.RowBytes(cols)
	m := Matrix{Type: typ, Data: make([]byte, rows*rb), Rows: rows, Cols: cols}
	for i := range rows {
		_ = quant.Quantize(typ, m.Data[i*rb:(i+1)*rb], randVec(r, cols, 1))
	}
	x := randVec(r, cols, 1)
	y := make([]float32, rows)
	for _, name := range asm.Kernels() {
		b.Run(name, func(b *testing.B) {
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

func BenchmarkMatVecQ8_0(b *testing.B) { benchMatVec(b, quant.Q8_0) }
func BenchmarkMatVecQ4_0(b *testing.B) { benchMatVec(b, quant.Q4_0) }
func BenchmarkMatVecF32(b *testing.B)  { benchMatVec(b, quant.F32) }

// BenchmarkDecodeMatVec is the decode product at the memory wall: MatVecs
// of 4096×2048 weights on 1 and 2 threads, cycling through eight matrices
// (72 MB of Q8_0) so that the weights come from memory, not the caches.
// MB/s is weight bytes read per second, comparable with
// BenchmarkReadBandwidth.
func BenchmarkDecodeMatVec(b *testing.B) {
	const rows, cols, mats = 4096, 2048, 8
	r := rand.New(rand.NewPCG(3, 4))
	x := randVec(r, cols, 1)
	y := make([]float32, rows)
	for _, typ := range []quant.Type{quant.Q8_0, quant.Q4_0} {
		rb, _ := typ.RowBytes(cols)
		ms := make([]Matrix, mats)
		for i := range ms {
			ms[i] = Matrix{Type: typ, Data: make([]byte, rows*rb), Rows: rows, Cols: cols}
			for j := range rows {
				_ = quant.Quantize(typ, ms[i].Data[j*rb:(j+1)*rb], randVec(r, cols, 1))
			}
		}
		for _, threads := range []int{1, 2} {
			for _, name := range asm.Kernels()[1:] {
				b.Run(fmt.Sprintf("%s/threads=%d/%s", typ, threads, name), func(b *testing.B) {
					restore, _ := asm.Use(name)
					defer restore()
					p := NewPool(threads)
					defer p.Close()
					e := NewExec(p)
					b.SetBytes(int64(rows * rb))
					i := 0
					for b.Loop() {
						e.MatVec(y, ms[i%mats], x)
						i++
					}
				})
			}
		}
	}
}
