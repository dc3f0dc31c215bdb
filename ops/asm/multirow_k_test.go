package asm

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/q3m/q3m/quant"
	"github.com/x448/float16"
)

// The two- and four-row forms of every type of the table give each row the
// same kernel's single-row result bit for bit (random quantized rows are
// in TestKernelsEqualGenericTwinAndTheirSingleRowForm); here on raw
// blocks and fuzzed bytes.

// checkMultiRow compares kernel k's X4 and X2 for type typ with its X1 on
// the rows xs, and X1 with the generic twin's (except for Q8_0 and Q4_0,
// held to a tolerance in kernels_test.go).
func checkMultiRow(t *testing.T, k *Kernel, typ quant.Type, w []byte, xs *[4][]byte, n int) {
	t.Helper()
	d, _ := k.Dots(typ)
	g, _ := Generic.Dots(typ)
	var one [4]float32
	for i, x := range xs {
		one[i] = d.X1(w, x, n)
		if typ != quant.Q8_0 && typ != quant.Q4_0 {
			if want := g.X1(w, x, n); math.Float32bits(one[i]) != math.Float32bits(want) {
				t.Errorf("%s %s n=%d row %d: %v, generic %v", k.Name, typ, n, i, one[i], want)
			}
		}
	}
	if d.X4 != nil {
		out := [4]float32{1, 2, 3, 4} // the kernel must overwrite it
		d.X4(w, xs[0], xs[1], xs[2], xs[3], n, &out)
		for i := range out {
			if math.Float32bits(out[i]) != math.Float32bits(one[i]) {
				t.Errorf("%s %s x4 n=%d row %d: %v, single-row %v", k.Name, typ, n, i, out[i], one[i])
			}
		}
	}
	if d.X2 != nil {
		out := [2]float32{1, 2}
		d.X2(w, xs[0], xs[1], n, &out)
		for i := range out {
			if math.Float32bits(out[i]) != math.Float32bits(one[i]) {
				t.Errorf("%s %s x2 n=%d row %d: %v, single-row %v", k.Name, typ, n, i, out[i], one[i])
			}
		}
	}
}

// multiRowTypes returns the quantized types some kernel has a multi-row
// form of.
func multiRowTypes() []quant.Type {
	var ts []quant.Type
	for _, typ := range quantizedTypes() {
		for _, k := range allKernels() {
			if d, _ := k.Dots(typ); d.X4 != nil || d.X2 != nil {
				ts = append(ts, typ)
				break
			}
		}
	}
	return ts
}

// signedWeights are the types whose weights are the signed operand (their
// signs move onto the activations with VPSIGNB), for which activations
// stay in [-127, 127] as the quantizers guarantee.
var signedWeights = map[quant.Type]bool{quant.Q5_0: true, quant.IQ4_NL: true, quant.IQ4_XS: true}

// rawWeights makes the fp16 scales of the n blocks of type typ in w finite
// (and w a copy).
func rawWeights(typ quant.Type, w []byte, n int) []byte {
	w = append([]byte(nil), w[:n*typ.BlockBytes()]...)
	for b := range n {
		for _, o := range scaleOffsets[typ] {
			p := w[b*typ.BlockBytes()+o:]
			if h := float16.Frombits(binary.LittleEndian.Uint16(p)); h.IsNaN() || h.IsInf(0) {
				binary.LittleEndian.PutUint16(p, 0x3c00)
			}
		}
	}
	return w
}

// rawActivations makes n activation blocks for weight type typ of the
// bytes x: scales finite and moderate, values any int8 (in [-127, 127]
// for signed weights), Q8_K bsums any int16; a Q8_0 row with its tail.
func rawActivations(typ quant.Type, x []byte, n int) []byte {
	tr, _ := TypeTraits(typ)
	ab := tr.Activation.BlockBytes()
	x = append([]byte(nil), x[:n*ab]...)
	for b := range n {
		xb := x[b*ab : (b+1)*ab]
		vals := xb[2:]
		switch tr.Activation {
		case quant.Q8_K:
			if d := math.Float32frombits(binary.LittleEndian.Uint32(xb)); !(math.Abs(float64(d)) <= 1e4) {
				binary.LittleEndian.PutUint32(xb, math.Float32bits(0.5))
			}
			vals = xb[4 : 4+QKK]
		case quant.Q8_1:
			vals = xb[4:]
			if h := float16.Frombits(binary.LittleEndian.Uint16(xb[2:])); h.IsNaN() || h.IsInf(0) {
				binary.LittleEndian.PutUint16(xb[2:], 0x3c00)
			}
		}
		if h := float16.Frombits(binary.LittleEndian.Uint16(xb)); tr.Activation != quant.Q8_K && (h.IsNaN() || h.IsInf(0)) {
			binary.LittleEndian.PutUint16(xb, 0x3c00)
		}
		for i, v := range vals {
			if signedWeights[typ] && v == 0x80 {
				vals[i] = 0x81
			}
		}
	}
	if tr.Activation == quant.Q8_0 { // the row as the quantizer lays it out
		x = append(x, make([]byte, q8_0TailBytes(n))...)
		q8_0Tail(x, n)
	}
	return x
}

// Every byte pattern of the weights and of each of four different
// activation rows (so that a row mixed up with another shows).
func TestMultiRowDotsEqualSingleRowOnRawBlocks(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	fills := []func(b []byte){
		func(b []byte) {
			for i := range b {
				b[i] = byte(r.Uint32())
			}
		},
		func(b []byte) { fillByte(b, 0xff) },
		func(b []byte) { fillByte(b, 0x00) },
		func(b []byte) { fillByte(b, 0x80) },
		func(b []byte) { fillByte(b, 0x7f) },
	}
	for _, typ := range multiRowTypes() {
		tr, _ := TypeTraits(typ)
		ab := tr.Activation.BlockBytes()
		for _, n := range []int{1, 2, 5} {
			for wi, wf := range fills {
				w := make([]byte, n*typ.BlockBytes())
				wf(w)
				w = rawWeights(typ, w, n)
				for xi := range fills {
					var xs [4][]byte
					for i := range xs {
						// Row i takes fill xi+i, with its own scales.
						x := make([]byte, n*ab)
						fills[(xi+i)%len(fills)](x)
						for b := range n {
							binary.LittleEndian.PutUint16(x[b*ab:], uint16(float16.Fromfloat32(float32(r.NormFloat64()*0.01))))
							if tr.Activation == quant.Q8_K {
								binary.LittleEndian.PutUint32(x[b*ab:], math.Float32bits(float32(r.NormFloat64()*0.01)))
							}
						}
						xs[i] = rawActivations(typ, x, n)
					}
					for _, k := range allKernels() {
						if !t.Run("", func(t *testing.T) { checkMultiRow(t, k, typ, w, &xs, n) }) {
							t.Logf("%s %s n=%d fill w%d x%d", k.Name, typ, n, wi, xi)
						}
					}
				}
			}
		}
	}
}

// The multi-row forms panic on a short weight or activation row, as the
// single-row ones do.
func TestMultiRowDotsPanicOnShortRows(t *testing.T) {
	for _, typ := range multiRowTypes() {
		tr, _ := TypeTraits(typ)
		wb, ab := typ.BlockBytes(), tr.Activation.BlockBytes()
		for _, k := range allKernels() {
			d, _ := k.Dots(typ)
			for short := -1; short < 4; short++ {
				w := make([]byte, 2*wb)
				xs := [4][]byte{make([]byte, 2*ab), make([]byte, 2*ab), make([]byte, 2*ab), make([]byte, 2*ab)}
				if short < 0 {
					w = w[: 2*wb-1 : 2*wb-1]
				} else {
					xs[short] = xs[short][: 2*ab-1 : 2*ab-1]
				}
				mustPanic := func(form string, f func()) {
					defer func() {
						if recover() == nil {
							t.Errorf("%s %s %s short row %d: no panic", k.Name, typ, form, short)
						}
					}()
					f()
				}
				if d.X4 != nil {
					mustPanic("x4", func() { d.X4(w, xs[0], xs[1], xs[2], xs[3], 2, new([4]float32)) })
				}
				if d.X2 != nil && short < 2 {
					mustPanic("x2", func() { d.X2(w, xs[0], xs[1], 2, new([2]float32)) })
				}
			}
		}
	}
}

// FuzzMultiRowDots splits arbitrary bytes into a weight row and four
// activation rows of one of the types with multi-row forms.
func FuzzMultiRowDots(f *testing.F) {
	f.Add(byte(0), []byte{})
	for i := range multiRowTypes() {
		seed := make([]byte, 3000)
		for j := range seed {
			seed[j] = []byte{0x3c, 0x80, 0x7f, 0x81, 0xff, 0x00, 0x7b}[j%7]
		}
		f.Add(byte(i), seed)
	}
	f.Fuzz(func(t *testing.T, sel byte, data []byte) {
		ts := multiRowTypes()
		typ := ts[int(sel)%len(ts)]
		tr, _ := TypeTraits(typ)
		wb, ab := typ.BlockBytes(), tr.Activation.BlockBytes()
		n := min(len(data)/(wb+4*ab), 8)
		w := rawWeights(typ, data, n)
		var xs [4][]byte
		for i := range xs {
			xs[i] = rawActivations(typ, data[n*(wb+i*ab):], n)
		}
		for _, k := range allKernels() {
			checkMultiRow(t, k, typ, w, &xs, n)
		}
	})
}

// BenchmarkMultiRowDots multiplies a 768×2048 matrix of each type with a
// multi-row form by 32 activation rows: with the X4 form (eight calls per
// weight row) and with 32 calls of X1; bytes/s count the weight bytes.
func BenchmarkMultiRowDots(b *testing.B) {
	const rows, cols, n = benchRows, benchCols, 32
	r := rand.New(rand.NewPCG(7, 8))
	for _, typ := range multiRowTypes() {
		tr, _ := TypeTraits(typ)
		nb := cols / typ.BlockSize()
		rb := nb * typ.BlockBytes()
		w := randWeights(r, typ, rows*nb, func() float32 { return float32(r.NormFloat64() * 0.05) })
		xq, _ := randActivations(r, typ, n*cols/tr.Activation.BlockSize())
		xb := tr.ActivationBytes(cols)
		for _, k := range allKernels() {
			d, _ := k.Dots(typ)
			if d.X4 == nil {
				continue
			}
			b.Run(fmt.Sprintf("%s/%s/x4", typ, k.Name), func(b *testing.B) {
				b.SetBytes(int64(rows * rb))
				var out [4]float32
				for b.Loop() {
					for i := range rows {
						for j := 0; j < n; j += 4 {
							d.X4(w[i*rb:], xq[j*xb:], xq[(j+1)*xb:], xq[(j+2)*xb:], xq[(j+3)*xb:], nb, &out)
						}
					}
				}
			})
			b.Run(fmt.Sprintf("%s/%s/x1", typ, k.Name), func(b *testing.B) {
				b.SetBytes(int64(rows * rb))
				var sink float32
				for b.Loop() {
					for i := range rows {
						for j := range n {
							sink += d.X1(w[i*rb:], xq[j*xb:], nb)
						}
					}
				}
				_ = sink
			})
		}
	}
}
