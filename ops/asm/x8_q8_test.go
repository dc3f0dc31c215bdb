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

// The eight-row forms of the Q8_0 and Q4_0 products (Dots.X8) give each
// activation row the float32 of the same kernel's single-row form, bit for
// bit, for every byte pattern, scale (infinities and NaNs included) and
// stride; where the single-row form follows the lane model (finite scales,
// activations in [-127, 127] for Q8_0 weights) it is checked against it
// too, so the eight-row results are the lane models' as well.

type x8q8Case struct {
	name  string
	typ   quant.Type
	wsize int
	model func(w, x []byte, n int) float32
}

var x8q8Cases = []x8q8Case{
	{"Q8_0", quant.Q8_0, Q8_0Bytes, dotQ8_0Lanes},
	{"Q4_0Q8_0", quant.Q4_0, Q4_0Bytes, dotQ4_0Q8_0Lanes},
}

// x8q8Kernels returns the kernels with an eight-row form of c's type,
// skipping t if there is none on this machine.
func x8q8Kernels(t testing.TB, c x8q8Case) []*Kernel {
	var ks []*Kernel
	for _, k := range allKernels() {
		if dotsOf(k, c.typ).X8 != nil {
			ks = append(ks, k)
		}
	}
	if len(ks) == 0 {
		t.Skipf("no kernel with an eight-row %s form here (have %v)", c.name, Kernels())
	}
	return ks
}

// laneComparable reports whether the single-row form's result on w and
// the n activation blocks at x is the lane model's: finite scales, and for
// Q8_0 weights no activation -128 (quantized activations hold none).
func laneComparable(c x8q8Case, w, x []byte, n int) bool {
	finite := func(b []byte) bool {
		h := float16.Frombits(binary.LittleEndian.Uint16(b))
		return !h.IsNaN() && !h.IsInf(0)
	}
	for b := range n {
		xb := x[b*Q8_0Bytes : (b+1)*Q8_0Bytes]
		if !finite(w[b*c.wsize:]) || !finite(xb) {
			return false
		}
		for _, v := range xb[2:] {
			if c.typ == quant.Q8_0 && v == 0x80 {
				return false
			}
		}
	}
	return true
}

// checkX8Q8 compares kernel k's X8 of the weights w with the eight rows of
// x stride bytes apart with its X1, and X1 with the lane model where the
// two must agree.
func checkX8Q8(t *testing.T, k *Kernel, c x8q8Case, w, x []byte, stride, n int) {
	t.Helper()
	d := dotsOf(k, c.typ)
	out := [8]float32{1, 2, 3, 4, 5, 6, 7, 8} // the kernel must overwrite it
	d.X8(w, x, stride, n, &out)
	for i := range out {
		xi := x[i*stride:]
		one := d.X1(w, xi, n)
		if math.Float32bits(out[i]) != math.Float32bits(one) {
			t.Errorf("%s %s x8 n=%d stride %d row %d: %v (%#x), single-row %v (%#x)", k.Name, c.name, n, stride, i,
				out[i], math.Float32bits(out[i]), one, math.Float32bits(one))
		}
		if followsLanes(k, c.typ) && laneComparable(c, w, xi, n) {
			if want := c.model(w, xi, n); math.Float32bits(one) != math.Float32bits(want) {
				t.Errorf("%s %s x1 n=%d row %d: %v (%#x), lane model %v (%#x)", k.Name, c.name, n, i,
					one, math.Float32bits(one), want, math.Float32bits(want))
			}
		}
	}
}

// x8q8Scales are the fp16 scales of the edge data: the shared ones and
// the infinities and a NaN, whose products the forms must also give alike.
var x8q8Scales = append(append([]struct {
	name string
	bits func(r *rand.Rand) uint16
}{}, scales...), []struct {
	name string
	bits func(r *rand.Rand) uint16
}{
	{"inf", func(r *rand.Rand) uint16 { return 0x7c00 | uint16(r.IntN(2))<<15 }},
	{"nan", func(r *rand.Rand) uint16 { return 0x7e01 | uint16(r.IntN(2))<<15 }},
}...)

// x8Activations returns eight rows of n Q8_0 blocks, each followed by
// its tail as the runtime's quantizer writes it (q8_0Row bytes in all),
// stride bytes apart (stride ≥ q8_0Row(n); 0 reads one row eight times)
// from off bytes into a larger buffer, row i's blocks made by block(i).
func x8Activations(n, stride, off int, block func(i int) []byte) []byte {
	buf := make([]byte, off+7*stride+q8_0Row(n))
	x := buf[off:]
	for i := range 8 {
		copy(x[i*stride:], block(i))
		q8_0Tail(x[i*stride:], n)
	}
	return x
}

// q8_0Row is the size of a Q8_0 activation row of n blocks with its tail.
func q8_0Row(n int) int { return n*Q8_0Bytes + q8_0TailBytes(n) }

// Extreme blocks: every weight pattern and scale against eight rows of
// their own patterns and scales (±127, -128, zero, alternating; zero,
// largest, subnormal, infinite and NaN scales), every block count around
// the four-, two- and one-block steps, unaligned rows and strides.
func TestX8Q8_0FormsEqualSingleRowOnEdgeData(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	for _, c := range x8q8Cases {
		for _, k := range x8q8Kernels(t, c) {
			for _, n := range []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 64} {
				for _, wp := range patterns {
					for _, sc := range x8q8Scales {
						w := makeBlocks(r, n, c.wsize, r.IntN(4), sc.bits, wp.fill)
						stride := q8_0Row(n) + r.IntN(3)
						x := x8Activations(n, stride, r.IntN(4), func(int) []byte {
							xp, xsc := patterns[r.IntN(len(patterns))], x8q8Scales[r.IntN(len(x8q8Scales))]
							return makeBlocks(r, n, Q8_0Bytes, 0, xsc.bits, xp.fill)
						})
						t.Run(fmt.Sprintf("%s/%s/n=%d/w=%s@%s", k.Name, c.name, n, wp.name, sc.name),
							func(t *testing.T) { checkX8Q8(t, k, c, w, x, stride, n) })
					}
				}
			}
		}
	}
}

// Random bytes with moderate scales, every block count up to 70, strides
// from packed to well apart, and one row read eight times (stride 0).
func TestX8Q8_0FormsEqualSingleRowOnRandomData(t *testing.T) {
	r := rand.New(rand.NewPCG(53, 54))
	for _, c := range x8q8Cases {
		for _, k := range x8q8Kernels(t, c) {
			for n := 1; n <= 70; n += 1 + n/8 {
				w := randBlocks(r, n, c.wsize)
				for _, gap := range []int{0, 1, 7, 4096} {
					stride := q8_0Row(n) + gap
					x := x8Activations(n, stride, 0, func(int) []byte { return randBlocks(r, n, Q8_0Bytes) })
					checkX8Q8(t, k, c, w, x, stride, n)
				}
				one := asActivations(randBlocks(r, n, Q8_0Bytes))
				checkX8Q8(t, k, c, w, x8Activations(n, 0, 0, func(int) []byte { return one }), 0, n)
			}
		}
	}
}

// Weights quantized by the file format's quantizer and activations by the
// runtime's, as prefill multiplies them.
func TestX8Q8_0FormsEqualSingleRowOnQuantizedRows(t *testing.T) {
	r := rand.New(rand.NewPCG(55, 56))
	for _, c := range x8q8Cases {
		for _, k := range x8q8Kernels(t, c) {
			for _, n := range []int{1, 2, 3, 4, 7, 64} {
				vals := make([]float32, n*QK)
				for i := range vals {
					vals[i] = float32(r.NormFloat64() * 0.05)
				}
				w := make([]byte, n*c.wsize)
				if err := quant.Quantize(c.typ, w, vals); err != nil {
					t.Fatal(err)
				}
				stride := q8_0Row(n)
				x := x8Activations(n, stride, 0, func(int) []byte {
					xq, _ := randActivations(r, c.typ, n)
					return xq
				})
				checkX8Q8(t, k, c, w, x, stride, n)
			}
		}
	}
}

// The eight-row forms panic, as a slice expression does, on a short weight
// row, on activations shorter than seven strides and a row (its tail
// included), and on a negative stride, before reading anything.
func TestX8Q8_0FormsPanicOnShortRows(t *testing.T) {
	for _, c := range x8q8Cases {
		for _, k := range x8q8Kernels(t, c) {
			d := dotsOf(k, c.typ)
			ab := Q8_0Bytes
			for _, s := range []struct {
				name              string
				w, x, stride, blk int
			}{
				{"short weights", 2*c.wsize - 1, 16 * ab, 2 * ab, 2},
				{"short activations", 2 * c.wsize, 16*ab - 1, 2 * ab, 2},
				{"short last row", 2 * c.wsize, 7*3*ab + 2*ab - 1, 3 * ab, 2},
				{"negative stride", 2 * c.wsize, 16 * ab, -ab, 2},
				{"last row without its tail", 4 * c.wsize, 7*q8_0Row(4) + 4*ab, q8_0Row(4), 4},
			} {
				if q8_0TailBytes(s.blk) == 0 && s.name == "last row without its tail" {
					continue // no tail on this machine: the row is whole
				}
				func() {
					defer func() {
						if recover() == nil {
							t.Errorf("%s %s %s: no panic", k.Name, c.name, s.name)
						}
					}()
					w, x := make([]byte, s.w), make([]byte, s.x)
					d.X8(w, x, s.stride, s.blk, new([8]float32))
				}()
			}
		}
	}
}

// fuzzX8Q8 splits data into a weight row and eight activation rows of n
// blocks each, the rows gap bytes apart; every byte is kept as it is,
// infinite and NaN scales and -128 activations included.
func fuzzX8Q8(f *testing.F, c x8q8Case) {
	f.Add([]byte{}, uint8(0))
	seed := make([]byte, 9*(c.wsize+8*Q8_0Bytes))
	for i := range seed {
		seed[i] = []byte{0x3c, 0x80, 0x7f, 0x81, 0xff, 0x00, 0x7b, 0x01, 0x7c}[i%9]
	}
	f.Add(seed, uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, gap uint8) {
		n := min(len(data)/(c.wsize+8*Q8_0Bytes), 64)
		w := data[:n*c.wsize]
		stride := q8_0Row(n) + int(gap%8)
		x := x8Activations(n, stride, 0, func(i int) []byte {
			lo := n * (c.wsize + i*Q8_0Bytes)
			return data[lo : lo+n*Q8_0Bytes]
		})
		for _, k := range x8q8Kernels(t, c) {
			checkX8Q8(t, k, c, w, x, stride, n)
		}
	})
}

func FuzzX8Q8_0(f *testing.F)     { fuzzX8Q8(f, x8q8Cases[0]) }
func FuzzX8Q4_0Q8_0(f *testing.F) { fuzzX8Q8(f, x8q8Cases[1]) }
