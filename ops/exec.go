package ops

import (
	"fmt"

	"github.com/q3m/q3m/ops/asm"
	"github.com/q3m/q3m/quant"
)

// Exec runs operations on a Pool with its own scratch memory. Use one Exec
// per goroutine; many Execs may share a Pool.
type Exec struct {
	pool   *Pool
	batch  batch
	mat    matTask
	attn   attnTask
	xq     []byte    // Q8_0 activations
	scores []float32 // attention scores, one row per worker
}

// NewExec returns an Exec computing on pool (nil: on the caller alone).
func NewExec(pool *Pool) *Exec { return &Exec{pool: pool} }

// Threads returns the number of goroutines the Exec computes on.
func (e *Exec) Threads() int { return e.pool.Threads() }

// Reserve grows the scratch memory for products of up to n rows of cols
// values and attention over up to ctx positions, so that later calls do not
// allocate.
func (e *Exec) Reserve(n, cols, ctx int) {
	if q, _ := quant.Q8_0.RowBytes(cols / asm.QK * asm.QK); n*q > cap(e.xq) {
		e.xq = make([]byte, n*q)
	}
	if s := e.Threads() * ctx; s > cap(e.scores) {
		e.scores = make([]float32, s)
	}
}

// MatVec sets y = m·x (y has m.Rows values, x has m.Cols).
func (e *Exec) MatVec(y []float32, m Matrix, x []float32) { e.MatMul(y, m, x, 1) }

// MatMul computes n products at once: y[t] = m·x[t] for t < n, where x holds
// n rows of m.Cols values and y n rows of m.Rows values. Each weight row is
// read once for all n activation rows.
func (e *Exec) MatMul(y []float32, m Matrix, x []float32, n int) {
	if len(x) < n*m.Cols || len(y) < n*m.Rows {
		panic(fmt.Sprintf("ops: MatMul %d×%d over %d rows: x has %d values, y %d", m.Rows, m.Cols, n, len(x), len(y)))
	}
	t := &e.mat
	*t = matTask{m: m, rowBytes: m.RowBytes(), n: n, x: x, y: y, k: asm.Active()}
	if m.quantized() {
		if m.Cols%asm.QK != 0 {
			panic(fmt.Sprintf("ops: %s matrix with %d columns", m.Type, m.Cols))
		}
		t.xqStride = m.Cols / asm.QK * asm.Q8_0Bytes
		if need := n * t.xqStride; need > cap(e.xq) {
			e.xq = make([]byte, need)
		}
		t.xq = e.xq[:n*t.xqStride]
		for i := range n {
			QuantizeQ8_0(t.xq[i*t.xqStride:(i+1)*t.xqStride], x[i*m.Cols:(i+1)*m.Cols])
		}
	}
	e.pool.run(&e.batch, t, m.Rows, 16)
	t.x, t.y, t.xq, t.m.Data = nil, nil, nil, nil
}

type matTask struct {
	m        Matrix
	rowBytes int
	n        int
	x, y     []float32
	xq       []byte
	xqStride int
	k        *asm.Kernel
}

func (t *matTask) Run(_, lo, hi int) {
	m, rb, rows, cols := t.m, t.rowBytes, t.m.Rows, t.m.Cols
	nb := cols / asm.QK
	for r := lo; r < hi; r++ {
		w := m.Data[r*rb : (r+1)*rb]
		for j := 0; j < t.n; j++ {
			var v float32
			switch m.Type {
			case quant.Q8_0:
				v = t.k.DotQ8_0(w, t.xq[j*t.xqStride:], nb)
			case quant.Q4_0:
				v = t.k.DotQ4_0Q8_0(w, t.xq[j*t.xqStride:], nb)
			case quant.F32:
				v = t.k.DotF32(w, t.x[j*cols:(j+1)*cols])
			case quant.F16:
				v = t.k.DotF16F32(w, t.x[j*cols:(j+1)*cols])
			case quant.BF16:
				v = t.k.DotBF16F32(w, t.x[j*cols:(j+1)*cols])
			default:
				panic("ops: unsupported matrix type " + m.Type.String())
			}
			t.y[j*rows+r] = v
		}
	}
}
