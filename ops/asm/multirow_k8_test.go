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

// The eight-row forms (Dots.X8) give each row the single-row result of the
// same kernel and of the generic twin, bit for bit, on quantized rows, raw
// blocks and fuzzed bytes, for any stride (0: one row eight times).

// x8Types returns the super-block types (Q8_K activations) some kernel has
// an eight-row form of; x8_q8_test.go tests those of Q8_0 and Q4_0, whose
// single-row forms follow the lane models rather than the generic kernel.
func x8Types() []quant.Type {
	var ts []quant.Type
	for _, typ := range quantizedTypes() {
		if tr, _ := TypeTraits(typ); tr.Activation != quant.Q8_K {
			continue
		}
		for _, k := range allKernels() {
			if d, _ := k.Dots(typ); d.X8 != nil {
				ts = append(ts, typ)
				break
			}
		}
	}
	return ts
}

// checkX8 compares kernel k's X8 for type typ on the eight rows of x
// stride bytes apart with its X1 and the generic X1.
func checkX8(t *testing.T, k *Kernel, typ quant.Type, w, x []byte, stride, n int) {
	t.Helper()
	d, _ := k.Dots(typ)
	if d.X8 == nil {
		return
	}
	g, _ := Generic.Dots(typ)
	out := [8]float32{1, 2, 3, 4, 5, 6, 7, 8} // the kernel must overwrite it
	d.X8(w, x, stride, n, &out)
	for i := range out {
		xi := x[i*stride:]
		one, want := d.X1(w, xi, n), g.X1(w, xi, n)
		if math.Float32bits(one) != math.Float32bits(want) {
			t.Errorf("%s %s n=%d row %d: x1 %v, generic %v", k.Name, typ, n, i, one, want)
		}
		if math.Float32bits(out[i]) != math.Float32bits(one) {
			t.Errorf("%s %s x8 n=%d stride %d row %d: %v, single-row %v", k.Name, typ, n, stride, i, out[i], one)
		}
	}
}

func TestX8DotsEqualSingleRowOnQuantizedRows(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	for _, typ := range x8Types() {
		tr, _ := TypeTraits(typ)
		ab := tr.Activation.BlockBytes()
		for _, n := range []int{1, 2, 3, 8} {
			w := randWeights(r, typ, n, func() float32 { return float32(r.NormFloat64() * 0.05) })
			for _, gap := range []int{0, 7} {
				stride := n*ab + gap
				x := make([]byte, 8*stride)
				for i := range 8 {
					xq, _ := randActivations(r, typ, n)
					copy(x[i*stride:], xq)
				}
				for _, k := range allKernels() {
					checkX8(t, k, typ, w, x, stride, n)
				}
			}
			xq, _ := randActivations(r, typ, n)
			for _, k := range allKernels() {
				checkX8(t, k, typ, w, xq, 0, n) // one row eight times
			}
		}
	}
}

func TestX8DotsEqualSingleRowOnRawBlocks(t *testing.T) {
	r := rand.New(rand.NewPCG(43, 44))
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
	for _, typ := range x8Types() {
		tr, _ := TypeTraits(typ)
		ab := tr.Activation.BlockBytes()
		for _, n := range []int{1, 2, 5} {
			for wi, wf := range fills {
				w := make([]byte, n*typ.BlockBytes())
				wf(w)
				w = rawWeights(typ, w, n)
				for xi := range fills {
					// Row i takes fill xi+i, with its own scales.
					stride := n * ab
					x := make([]byte, 8*stride)
					for i := range 8 {
						row := make([]byte, stride)
						fills[(xi+i)%len(fills)](row)
						for b := range n {
							binary.LittleEndian.PutUint32(row[b*ab:], math.Float32bits(float32(r.NormFloat64()*0.01)))
						}
						copy(x[i*stride:], rawActivations(typ, row, n))
					}
					for _, k := range allKernels() {
						if !t.Run("", func(t *testing.T) { checkX8(t, k, typ, w, x, stride, n) }) {
							t.Logf("%s %s n=%d fill w%d x%d", k.Name, typ, n, wi, xi)
						}
					}
				}
			}
		}
	}
}

// Extreme activations: every value -127 or 127 and bsums at the int16
// limits, against weights of all ones (the largest products).
func TestX8DotsEqualSingleRowOnExtremeBlocks(t *testing.T) {
	for _, typ := range x8Types() {
		tr, _ := TypeTraits(typ)
		ab := tr.Activation.BlockBytes()
		const n = 3
		w := make([]byte, n*typ.BlockBytes())
		fillByte(w, 0xff)
		w = rawWeights(typ, w, n)
		x := make([]byte, 8*n*ab)
		for i := range 8 * n {
			b := x[i*ab : (i+1)*ab]
			binary.LittleEndian.PutUint32(b, math.Float32bits(float32(float16.Frombits(0x7bff).Float32())))
			v := byte(0x7f)
			if i%2 == 1 {
				v = 0x81
			}
			fillByte(b[4:4+QKK], v)
			for j := range 16 {
				binary.LittleEndian.PutUint16(b[4+QKK+2*j:], uint16([]int16{32767, -32768}[(i+j)%2]))
			}
		}
		for _, k := range allKernels() {
			checkX8(t, k, typ, w, x, n*ab, n)
		}
	}
}

// The eight-row forms panic on a short weight row, on activations shorter
// than seven strides and a row, and on a negative stride.
func TestX8DotsPanicOnShortRows(t *testing.T) {
	for _, typ := range x8Types() {
		tr, _ := TypeTraits(typ)
		wb, ab := typ.BlockBytes(), tr.Activation.BlockBytes()
		for _, k := range allKernels() {
			d, _ := k.Dots(typ)
			if d.X8 == nil {
				continue
			}
			for _, c := range []struct {
				name           string
				w, x           int
				stride, blocks int
			}{
				{"short weights", 2*wb - 1, 16 * ab, 2 * ab, 2},
				{"short activations", 2 * wb, 16*ab - 1, 2 * ab, 2},
				{"negative stride", 2 * wb, 16 * ab, -ab, 2},
			} {
				func() {
					defer func() {
						if recover() == nil {
							t.Errorf("%s %s %s: no panic", k.Name, typ, c.name)
						}
					}()
					w, x := make([]byte, c.w), make([]byte, c.x)
					d.X8(w[:c.w:c.w], x[:c.x:c.x], c.stride, c.blocks, new([8]float32))
				}()
			}
		}
	}
}

// FuzzX8Dots splits arbitrary bytes into a weight row and eight activation
// rows of one of the types with eight-row forms.
func FuzzX8Dots(f *testing.F) {
	f.Add(byte(0), byte(0), []byte{})
	for i := range x8Types() {
		seed := make([]byte, 6000)
		for j := range seed {
			seed[j] = []byte{0x3c, 0x80, 0x7f, 0x81, 0xff, 0x00, 0x7b}[j%7]
		}
		f.Add(byte(i), byte(3), seed)
	}
	f.Fuzz(func(t *testing.T, sel, gap byte, data []byte) {
		ts := x8Types()
		if len(ts) == 0 {
			return
		}
		typ := ts[int(sel)%len(ts)]
		tr, _ := TypeTraits(typ)
		wb, ab := typ.BlockBytes(), tr.Activation.BlockBytes()
		n := min(len(data)/(wb+8*ab), 4)
		w := rawWeights(typ, data, n)
		stride := n*ab + int(gap%16)
		x := make([]byte, 8*stride)
		for i := range 8 {
			copy(x[i*stride:], rawActivations(typ, data[n*wb+i*n*ab:], n))
		}
		for _, k := range allKernels() {
			checkX8(t, k, typ, w, x, stride, n)
		}
	})
}

// BenchmarkX8Dots multiplies a 768×2048 matrix of each type with an
// eight-row form by 32 activation rows with X8 (four calls per weight row)
// against X4; bytes/s count the weight bytes.
func BenchmarkX8Dots(b *testing.B) {
	const rows, cols, n = benchRows, benchCols, 32
	r := rand.New(rand.NewPCG(7, 8))
	for _, typ := range x8Types() {
		tr, _ := TypeTraits(typ)
		nb := cols / typ.BlockSize()
		rb := nb * typ.BlockBytes()
		w := randWeights(r, typ, rows*nb, func() float32 { return float32(r.NormFloat64() * 0.05) })
		xq, _ := randActivations(r, typ, n*cols/tr.Activation.BlockSize())
		xb := tr.ActivationBytes(cols)
		for _, k := range allKernels() {
			d, _ := k.Dots(typ)
			if d.X8 == nil {
				continue
			}
			b.Run(fmt.Sprintf("%s/%s/x8", typ, k.Name), func(b *testing.B) {
				b.SetBytes(int64(rows * rb))
				var out [8]float32
				for b.Loop() {
					for i := range rows {
						for j := 0; j < n; j += 8 {
							d.X8(w[i*rb:], xq[j*xb:], xb, nb, &out)
						}
					}
				}
			})
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
		}
	}
}
