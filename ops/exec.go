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
	quant  quantTask
	xq     []byte    // quantized activations
	scores []float32 // attention scores, one row per worker
}

// NewExec returns an Exec computing on pool (nil: on the caller alone).
func NewExec(pool *Pool) *Exec { return &Exec{pool: pool} }

// Threads returns the number of goroutines the Exec computes on.
func (e *Exec) Threads() int { return e.pool.Threads() }

// Reserve grows the scratch memory for products whose distinct activation
// inputs total up to n rows of cols values, and for attention over up to
// ctx positions with a as its shape, so that later calls do not allocate.
// Products whose kernel takes its input in groups of eight rows
// (asm.Group8) pad each product's last group; Reserve makes room for 2n
// rows in groups, and products that pad more grow the scratch once.
func (e *Exec) Reserve(n, cols, ctx int, a Attn) {
	if q := asm.MaxActivationBytes(cols) + 2*asm.Group8Bytes(cols/asm.QK)/8; n*q > cap(e.xq) {
		e.xq = make([]byte, n*q)
	}
	if s := e.Threads() * max(1, a.Heads/max(1, a.KVHeads)) * ctx; s > cap(e.scores) {
		e.scores = make([]float32, s)
	}
	e.reserveOut()
}

// reserveOut sizes the per-worker results of the multi-row kernels.
func (e *Exec) reserveOut() {
	if n := e.Threads() * outStride; len(e.mat.out) < n {
		e.mat.out = make([]float32, n)
	}
}

// MatVec sets y = m·x (y has m.Rows values, x has m.Cols).
func (e *Exec) MatVec(y []float32, m Matrix, x []float32) { e.MatMul(y, m, x, 1) }

// MatMul computes n products at once: y[t] = m·x[t] for t < n, where x holds
// n rows of m.Cols values and y n rows of m.Rows values. Each weight row is
// read once for all n activation rows.
func (e *Exec) MatMul(y []float32, m Matrix, x []float32, n int) {
	e.MatMuls(Product{Y: y, M: m, X: x, N: n})
}

// Product is one matrix product of MatMuls: Y = M·X for N rows of X, as
// MatMul(Y, M, X, N).
type Product struct {
	Y []float32
	M Matrix
	X []float32
	N int
}

// MatMuls computes every product, each exactly as MatMul would, in one
// parallel run over all their weight rows. Products whose X is the same
// slice (same first element, same N and columns) and whose weight types
// share an activation type share one quantization of it, so several
// matrices applied to one input cost one pass over it.
func (e *Exec) MatMuls(ps ...Product) {
	t := &e.mat
	t.k = asm.Active()
	t.ps = append(t.ps[:0], ps...)
	t.info = t.info[:0]
	t.ends = t.ends[:0]
	rows, xqBytes := 0, 0
	for i := range t.ps {
		p := &t.ps[i]
		m := p.M
		if len(p.X) < p.N*m.Cols || len(p.Y) < p.N*m.Rows {
			panic(fmt.Sprintf("ops: MatMul %d×%d over %d rows: x has %d values, y %d", m.Rows, m.Cols, p.N, len(p.X), len(p.Y)))
		}
		tr, ok := asm.TypeTraits(m.Type)
		d, _ := t.k.Dots(m.Type)
		if !ok {
			panic("ops: unsupported matrix type " + m.Type.String())
		}
		rows += m.Rows
		t.ends = append(t.ends, rows)
		in := prodInfo{tr: tr, dots: d, xqOff: -1, gOff: -1}
		if tr.Quantized() && p.N > 0 {
			in.stride = tr.ActivationBytes(m.Cols)
			if in.stride == 0 {
				panic(fmt.Sprintf("ops: %s matrix with %d columns", m.Type, m.Cols))
			}
			in.grouped = groupedRows(p.N, d)
			for j := range i {
				if t.info[j].xqOff >= 0 && t.info[j].tr.Activation == tr.Activation && sameInput(&t.ps[j], p) {
					in.xqOff = t.info[j].xqOff
					in.padded = t.info[j].padded && d.X8 != nil
					if in.grouped > 0 && t.info[j].grouped == in.grouped {
						in.gOff = t.info[j].gOff
					}
					break
				}
			}
			if in.xqOff < 0 {
				in.xqOff, in.fresh = xqBytes, true
				n := p.N
				if d.X8 != nil && p.N%8 >= padFrom(tr) {
					in.padded, n = true, (p.N+7)&^7
				}
				xqBytes += n * in.stride
			}
			if in.grouped > 0 && in.gOff < 0 {
				in.gOff, in.freshGroups = xqBytes, true
				xqBytes += in.grouped / 8 * asm.Group8Bytes(m.Cols/m.Type.BlockSize())
			}
		}
		t.info = append(t.info, in)
	}
	if xqBytes > cap(e.xq) {
		e.xq = make([]byte, xqBytes)
	}
	t.xq = e.xq[:xqBytes]
	e.reserveOut()
	// The inputs are quantized on the pool too: a prefill batch's expert
	// inputs are thousands of rows.
	q := &e.quant
	q.t, q.ends = t, q.ends[:0]
	n := 0
	for i := range t.ps {
		if in := &t.info[i]; in.fresh {
			n += t.ps[i].N
			if in.padded {
				N := t.ps[i].N
				clear(t.xq[in.xqOff+N*in.stride : in.xqOff+(N+7)&^7*in.stride])
			}
		}
		q.ends = append(q.ends, n)
	}
	e.pool.run(&e.batch, q, n, 4)
	// Then the groups of eight rows of the products whose kernel takes
	// them (asm.Group8), numbered consecutively likewise.
	q.ends, n = q.ends[:0], 0
	for i := range t.ps {
		if t.info[i].freshGroups {
			n += t.info[i].grouped / 8
		}
		q.ends = append(q.ends, n)
	}
	if n > 0 {
		g := (*groupTask)(q)
		e.pool.run(&e.batch, g, n, 1)
	}
	q.t = nil
	e.pool.run(&e.batch, t, rows, 16)
	clear(t.ps) // drop references to the caller's memory
	t.xq = nil
}

// padFrom returns from how many tokens past a multiple of eight one more
// eight-row product over zero rows costs less than the four-, two- and
// one-row products, for a type with an eight-row form (the avx512vnni
// kernel's, whose four- and two-row forms are AVX-512 as well; an
// eight-row product costs about two four-row ones). From six for the types
// with Q8_0 activations (768×2048: a padded Q4_0 product costs 1.68, 1.58,
// 1.15, 1.00 and 0.81× the smaller forms for 3…7 tokens, Q8_0 1.46, 1.45,
// 1.04, 0.91 and 0.73×), from seven for the super-block types, whose
// one-row form is AVX2 and costs about as much as their two-row one
// (MatMul on one thread, best of three, Q4_K 768×2048 and 2048×768: a
// padded product costs 1.29 and 1.08× the smaller forms for 3 tokens, 1.68
// and 1.32× for 4, 1.14 and 0.87× for 5, 1.10 and 0.92× for 6, 0.74 and
// 0.83× for 7; Q6_K 1.08 and 1.03×, 1.44 and 1.28×, 0.89 and 1.09×, 1.01
// and 1.11×, 0.73 and 0.74×).
func padFrom(tr asm.Traits) int {
	if tr.Activation == quant.Q8_0 {
		return 6
	}
	return 7
}

// groupedRows returns how many of a product's n input rows the kernel's
// eight-row form (Dots.G8) reads from groups of eight, a multiple of
// eight: none for one row (decode) or without that form, else every
// group but a last one of fewer than d.G8From rows, whose rows go one at
// a time (singles).
func groupedRows(n int, d asm.Dots) int {
	if d.G8 == nil || n < 2 {
		return 0
	}
	if n%8 < d.G8From {
		return n &^ 7
	}
	return (n + 7) &^ 7
}

// sameInput reports whether two products read the same activation rows.
func sameInput(a, b *Product) bool {
	return a.N == b.N && a.M.Cols == b.M.Cols && len(a.X) > 0 && len(b.X) > 0 && &a.X[0] == &b.X[0]
}

// prodInfo is what matTask knows of one product: its type's traits and
// kernels, and where its quantized input is.
type prodInfo struct {
	tr     asm.Traits
	dots   asm.Dots
	xqOff  int  // quantized X at xq[xqOff:], or -1
	stride int  // bytes per quantized X row
	fresh  bool // the first product to read its quantized X
	padded bool // X's quantized rows run on to a multiple of eight, zeros
	// X's first grouped rows (groupedRows) in groups of eight (asm.Group8)
	// at xq[gOff:], or -1; freshGroups: the first product to read them.
	grouped     int
	gOff        int
	freshGroups bool
}

// quantTask quantizes the input rows of a matTask's products that are the
// first to read them, numbered consecutively across those products.
type quantTask struct {
	t    *matTask
	ends []int // ends[i]: one past product i's last row in the numbering (0 rows if not fresh)
}

func (q *quantTask) Run(_, lo, hi int) {
	t := q.t
	i := 0
	for r := lo; r < hi; r++ {
		for q.ends[i] <= r {
			i++
		}
		p, in := &t.ps[i], &t.info[i]
		j := r - (q.ends[i] - p.N)
		in.tr.Quantize(t.xq[in.xqOff+j*in.stride:in.xqOff+(j+1)*in.stride], p.X[j*p.M.Cols:(j+1)*p.M.Cols])
	}
}

// groupTask writes the groups of eight quantized input rows of a
// matTask's products that are the first to read them, numbered
// consecutively across those products (ends as quantTask's, in groups).
type groupTask quantTask

func (q *groupTask) Run(_, lo, hi int) {
	t := q.t
	i := 0
	for g := lo; g < hi; g++ {
		for q.ends[i] <= g {
			i++
		}
		p, in := &t.ps[i], &t.info[i]
		j := g - (q.ends[i] - in.grouped/8)
		nb := p.M.Cols / p.M.Type.BlockSize()
		size := asm.Group8Bytes(nb)
		asm.Group8(t.xq[in.gOff+j*size:in.gOff+(j+1)*size], t.xq[in.xqOff+8*j*in.stride:], in.stride, min(8, p.N-8*j), nb)
	}
}

// matTask computes the rows of a list of products, numbered consecutively
// across products.
type matTask struct {
	ps   []Product
	info []prodInfo
	ends []int // ends[i]: one past product i's last row in the numbering
	xq   []byte
	k    *asm.Kernel
	out  []float32 // per-worker results of the multi-row kernels, outStride apart
}

// outStride keeps the workers' multi-row results on separate cache lines.
const outStride = 16

func (t *matTask) Run(worker, lo, hi int) {
	i := 0
	for lo < hi {
		for t.ends[i] <= lo {
			i++
		}
		begin := t.ends[i] - t.ps[i].M.Rows
		end := min(hi, t.ends[i])
		t.rows(&t.ps[i], &t.info[i], lo-begin, end-begin, t.out[worker*outStride:(worker+1)*outStride])
		lo = end
	}
}

// rows computes rows [lo, hi) of product p, using out for the multi-row
// kernels' results.
func (t *matTask) rows(p *Product, in *prodInfo, lo, hi int, out []float32) {
	m, rows, cols := p.M, p.M.Rows, p.M.Cols
	rb := m.RowBytes()
	d := &in.dots
	if !in.tr.Quantized() {
		for r := lo; r < hi; r++ {
			w := m.Data[r*rb : (r+1)*rb]
			for j := range p.N {
				p.Y[j*rows+r] = d.Float(w, p.X[j*cols:(j+1)*cols])
			}
		}
		return
	}
	var xq []byte
	if in.xqOff >= 0 {
		xq = t.xq[in.xqOff:]
	}
	nb := cols / m.Type.BlockSize()
	stride := in.stride
	if in.gOff >= 0 {
		t.groups(p, in, lo, hi, out)
		return
	}
	// Quantized rows take eight activation rows at a time, then four, then
	// two (each result equal to the single-row kernel's), the rest one at
	// a time (singles: four weight rows at a time where the kernel has a
	// decode form).
	n8, n4, n2 := 0, 0, 0
	if d.X8 != nil {
		n8 = p.N &^ 7
	}
	if in.padded {
		n8 = p.N // the last eight-row product runs on over zero rows
	}
	n4 = n8
	if d.X4 != nil {
		n4 = n8 + (p.N-n8)&^3
	}
	n2 = n4
	// For the super-block types, three rows past the four-row groups take
	// one more four-row product whose last row repeats the third (its
	// result dropped): AVX-512, 768×2048, Q4_K 65 µs against 86 µs for a
	// two-row and a one-row product, Q6_K 68 against 100. The types with
	// Q8_0 activations measured even (Q4_0 106 against 99–115 µs), and
	// keep the smaller forms.
	tail3 := d.X4 != nil && p.N-n4 == 3 && in.tr.Activation != quant.Q8_0
	if tail3 {
		n2 = p.N
	} else if d.X2 != nil {
		n2 = n4 + (p.N-n4)&^1
	}
	o8, o4, o2 := (*[8]float32)(out), (*[4]float32)(out), (*[2]float32)(out)
	if p.N == 1 { // decode: nothing for tiles to share
		singles(p, d, xq, stride, 0, lo, hi, o4)
		return
	}
	// The eight-row products go in tiles of about 16 KiB of weight rows:
	// for each group of eight tokens, every row of the tile, so that the
	// group's quantized rows are read from L1 once per tile row rather
	// than from L2 once per weight row of the range.
	tile := tileRows(rb)
	for r0 := lo; r0 < hi; r0 += tile {
		r1 := min(r0+tile, hi)
		for j := 0; j < n8; j += 8 {
			xj := xq[j*stride:]
			for r := r0; r < r1; r++ {
				d.X8(m.Data[r*rb:(r+1)*rb], xj, stride, nb, o8)
				put8(p.Y, rows, r, j, p.N, o8)
			}
		}
		// The four-row products likewise: each group of four tokens
		// against every row of the tile, so that the group's rows stay in
		// the cache across the tile.
		for j := n8; j < n4; j += 4 {
			x0, x1, x2, x3 := xq[j*stride:], xq[(j+1)*stride:], xq[(j+2)*stride:], xq[(j+3)*stride:]
			y := p.Y[j*rows : (j+3)*rows+r1]
			for r := r0; r < r1; r++ {
				d.X4(m.Data[r*rb:(r+1)*rb], x0, x1, x2, x3, nb, o4)
				y[r] = o4[0]
				y[rows+r] = o4[1]
				y[2*rows+r] = o4[2]
				y[3*rows+r] = o4[3]
			}
		}
		for r := r0; r < r1 && n2 > n4; r++ {
			w := m.Data[r*rb : (r+1)*rb]
			if tail3 {
				x2 := xq[(n4+2)*stride:]
				d.X4(w, xq[n4*stride:], xq[(n4+1)*stride:], x2, x2, nb, o4)
				p.Y[n4*rows+r] = o4[0]
				p.Y[(n4+1)*rows+r] = o4[1]
				p.Y[(n4+2)*rows+r] = o4[2]
			} else {
				d.X2(w, xq[n4*stride:], xq[(n4+1)*stride:], nb, o2)
				p.Y[n4*rows+r] = o2[0]
				p.Y[(n4+1)*rows+r] = o2[1]
			}
		}
		singles(p, d, xq, stride, n2, r0, r1, o4)
	}
}

// tileRows returns how many weight rows of rb bytes the multi-row products
// take at a time: about 16 KiB, a multiple of four for the decode form.
func tileRows(rb int) int { return (max(4, 16<<10/rb) + 3) &^ 3 }

// singles computes rows [r0, r1) of product p for its input rows from j0
// on, one input row at a time: four weight rows at a time with the decode
// form (Dots.R4), the rest with the single-row form; o4 holds the decode
// form's results.
func singles(p *Product, d *asm.Dots, xq []byte, stride, j0, r0, r1 int, o4 *[4]float32) {
	m, rows, rb := p.M, p.M.Rows, p.M.RowBytes()
	nb := m.Cols / m.Type.BlockSize()
	for j := j0; j < p.N; j++ {
		x, y := xq[j*stride:], p.Y[j*rows:(j+1)*rows]
		r := r0
		if d.R4 != nil {
			for ; r+4 <= r1; r += 4 {
				d.R4(m.Data[r*rb:], rb, x, nb, o4)
				copy(y[r:r+4], o4[:])
			}
		}
		for ; r < r1; r++ {
			y[r] = d.X1(m.Data[r*rb:(r+1)*rb], x, nb)
		}
	}
}

// groups computes rows [lo, hi) of product p from its input's groups of
// eight rows (the rows past groupedRows one at a time), in tiles of about
// 16 KiB of weight rows as the eight-row products.
func (t *matTask) groups(p *Product, in *prodInfo, lo, hi int, out []float32) {
	m, rows := p.M, p.M.Rows
	rb := m.RowBytes()
	nb := m.Cols / m.Type.BlockSize()
	size := asm.Group8Bytes(nb)
	g8 := in.dots.G8
	o8, o4 := (*[8]float32)(out), (*[4]float32)(out)
	n := in.grouped
	tile := tileRows(rb)
	for r0 := lo; r0 < hi; r0 += tile {
		r1 := min(r0+tile, hi)
		for j := 0; j < n; j += 8 {
			g := t.xq[in.gOff+j/8*size : in.gOff+(j/8+1)*size]
			for r := r0; r < r1; r++ {
				g8(m.Data[r*rb:(r+1)*rb], g, nb, o8)
				put8(p.Y, rows, r, j, p.N, o8)
			}
		}
		singles(p, &in.dots, t.xq[in.xqOff:], in.stride, n, r0, r1, o4)
	}
}

// put8 stores the results o of weight row r for the eight tokens from j
// in y (rows values a token), those before n only: a padded or short
// last group has fewer real tokens.
func put8(y []float32, rows, r, j, n int, o *[8]float32) {
	if j+8 > n {
		for i, v := range o[:n-j] {
			y[(j+i)*rows+r] = v
		}
		return
	}
	// A full group stores its eight results through one slice whose
	// length bounds every index.
	y = y[j*rows+r : (j+7)*rows+r+1]
	y[0] = o[0]
	y[rows] = o[1]
	y[2*rows] = o[2]
	y[3*rows] = o[3]
	y[4*rows] = o[4]
	y[5*rows] = o[5]
	y[6*rows] = o[6]
	y[7*rows] = o[7]
}
