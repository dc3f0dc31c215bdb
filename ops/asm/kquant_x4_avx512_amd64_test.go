//go:build !purego

package asm

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/q3m/q3m/quant"
)

// The AVX-512 four- and two-row K-quant forms give each activation row
// exactly the float32 of the single-row form (dotQ4_KAVX2, dotQ6_KAVX2,
// dotQ5_KAVX2: the avx512vnni kernel's X1) and of the generic twin, on
// quantized rows, raw and extreme blocks, every length from 0 blocks, and
// fuzzed bytes.

type kX4Case struct {
	name  string
	typ   quant.Type
	wsize int
	x4    func(w, x0, x1, x2, x3 []byte, nblocks int, out *[4]float32)
	x2    func(w, x0, x1 []byte, nblocks int, out *[2]float32)
}

var kX4Cases = []kX4Case{
	{"Q4_K", quant.Q4_K, Q4_KBytes, dotQ4_Kx4AVX512, dotQ4_Kx2AVX512},
	{"Q6_K", quant.Q6_K, Q6_KBytes, dotQ6_Kx4AVX512, dotQ6_Kx2AVX512},
	{"Q5_K", quant.Q5_K, Q5_KBytes, dotQ5_Kx4AVX512, dotQ5_Kx2AVX512},
}

// checkKX4 compares c's four- and two-row forms on the rows xs with the
// avx512vnni kernel's single-row form and with the generic one.
func checkKX4(t *testing.T, c kX4Case, w []byte, xs *[4][]byte, n int) {
	t.Helper()
	x1, g := dotsOf(AVX512, c.typ).X1, dotsOf(Generic, c.typ).X1
	var one [4]float32
	for i, x := range xs {
		one[i] = x1(w, x, n)
		if want := g(w, x, n); math.Float32bits(one[i]) != math.Float32bits(want) {
			t.Errorf("%s n=%d row %d: single-row %v, generic %v", c.name, n, i, one[i], want)
		}
	}
	out4 := [4]float32{1, 2, 3, 4} // the routine must overwrite it
	c.x4(w, xs[0], xs[1], xs[2], xs[3], n, &out4)
	for i := range out4 {
		if math.Float32bits(out4[i]) != math.Float32bits(one[i]) {
			t.Errorf("%s x4 n=%d row %d: %v (%#x), single-row %v (%#x)", c.name, n, i,
				out4[i], math.Float32bits(out4[i]), one[i], math.Float32bits(one[i]))
		}
	}
	for _, p := range [][2]int{{0, 1}, {2, 3}, {3, 0}} {
		out2 := [2]float32{1, 2}
		c.x2(w, xs[p[0]], xs[p[1]], n, &out2)
		for i, r := range p {
			if math.Float32bits(out2[i]) != math.Float32bits(one[r]) {
				t.Errorf("%s x2 n=%d rows %v: out[%d] %v (%#x), single-row %v (%#x)", c.name, n, p, i,
					out2[i], math.Float32bits(out2[i]), one[r], math.Float32bits(one[r]))
			}
		}
	}
}

func TestKQuantX4EqualsSingleRowOnQuantizedRows(t *testing.T) {
	if !useAVX512 {
		t.Skip("no AVX-512 VNNI")
	}
	r := rand.New(rand.NewPCG(61, 62))
	for _, c := range kX4Cases {
		for n := range 12 {
			w := randWeights(r, c.typ, n, func() float32 { return float32(r.NormFloat64() * 0.05) })
			var xs [4][]byte
			for i := range xs {
				xs[i], _ = randActivations(r, c.typ, n)
			}
			checkKX4(t, c, w, &xs, n)
			// The same row four times.
			same := [4][]byte{xs[1], xs[1], xs[1], xs[1]}
			checkKX4(t, c, w, &same, n)
		}
	}
}

func TestKQuantX4EqualsSingleRowOnRawBlocks(t *testing.T) {
	if !useAVX512 {
		t.Skip("no AVX-512 VNNI")
	}
	r := rand.New(rand.NewPCG(63, 64))
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
	for _, c := range kX4Cases {
		for _, n := range []int{1, 2, 5} {
			for _, wf := range fills {
				w := make([]byte, n*c.wsize)
				wf(w)
				w = rawWeights(c.typ, w, n)
				for xi := range fills {
					var xs [4][]byte
					for i := range xs {
						x := make([]byte, n*Q8_KBytes)
						fills[(xi+i)%len(fills)](x)
						for b := range n {
							binary.LittleEndian.PutUint32(x[b*Q8_KBytes:], math.Float32bits(float32(r.NormFloat64()*0.01)))
						}
						xs[i] = rawActivations(c.typ, x, n)
					}
					checkKX4(t, c, w, &xs, n)
				}
			}
		}
	}
}

// Extreme blocks: weights of all ones, activations -127 or 127, scales at
// the fp16 limit and bsums at the int16 limits (their pair sums wrap).
func TestKQuantX4EqualsSingleRowOnExtremeBlocks(t *testing.T) {
	if !useAVX512 {
		t.Skip("no AVX-512 VNNI")
	}
	const n = 3
	for _, c := range kX4Cases {
		w := make([]byte, n*c.wsize)
		fillByte(w, 0xff)
		w = rawWeights(c.typ, w, n)
		for _, bs := range [][2]int16{{32767, -32768}, {-32768, -32768}, {32767, 32767}, {-16384, -16384}} {
			var xs [4][]byte
			for r := range xs {
				x := make([]byte, n*Q8_KBytes)
				for i := range n {
					b := x[i*Q8_KBytes : (i+1)*Q8_KBytes]
					binary.LittleEndian.PutUint32(b, math.Float32bits([]float32{65504, -65504, 1e-3, 7}[r]))
					fillByte(b[4:4+QKK], []byte{0x7f, 0x81}[(i+r)%2])
					for j := range 16 {
						binary.LittleEndian.PutUint16(b[4+QKK+2*j:], uint16(bs[(j+r)%2]))
					}
				}
				xs[r] = x
			}
			checkKX4(t, c, w, &xs, n)
		}
	}
}

func TestKQuantX4PanicsOnShortRows(t *testing.T) {
	for _, c := range kX4Cases {
		for short := -1; short < 4; short++ {
			w := make([]byte, 2*c.wsize)
			xs := [4][]byte{make([]byte, 2*Q8_KBytes), make([]byte, 2*Q8_KBytes), make([]byte, 2*Q8_KBytes), make([]byte, 2*Q8_KBytes)}
			if short < 0 {
				w = w[: 2*c.wsize-1 : 2*c.wsize-1]
			} else {
				xs[short] = xs[short][: 2*Q8_KBytes-1 : 2*Q8_KBytes-1]
			}
			mustPanic := func(form string, f func()) {
				defer func() {
					if recover() == nil {
						t.Errorf("%s %s short row %d: no panic", c.name, form, short)
					}
				}()
				f()
			}
			mustPanic("x4", func() { c.x4(w, xs[0], xs[1], xs[2], xs[3], 2, new([4]float32)) })
			if short < 2 {
				mustPanic("x2", func() { c.x2(w, xs[0], xs[1], 2, new([2]float32)) })
			}
		}
	}
}

// FuzzKQuantX4 splits arbitrary bytes into one weight row of a type with
// an AVX-512 four-row form and four Q8_K activation rows.
func FuzzKQuantX4(f *testing.F) {
	f.Add([]byte{}, uint8(0))
	seed := make([]byte, 3*(Q6_KBytes+4*Q8_KBytes))
	for i := range seed {
		seed[i] = []byte{0x3c, 0x80, 0x7f, 0x81, 0xff, 0x00, 0x7b, 0x01}[i%8]
	}
	for sel := range kX4Cases {
		f.Add(seed, uint8(sel))
	}
	f.Fuzz(func(t *testing.T, data []byte, sel uint8) {
		if !useAVX512 {
			t.Skip("no AVX-512 VNNI")
		}
		c := kX4Cases[int(sel)%len(kX4Cases)]
		n := min(len(data)/(c.wsize+4*Q8_KBytes), 16)
		w := rawWeights(c.typ, data, n)
		var xs [4][]byte
		for i := range xs {
			o := n*c.wsize + i*n*Q8_KBytes
			xs[i] = rawActivations(c.typ, data[o:o+n*Q8_KBytes], n)
		}
		checkKX4(t, c, w, &xs, n)
	})
}

// BenchmarkKQuantRows multiplies a 768×2048 and a 2048×768 matrix of Q4_K,
// Q6_K and Q5_K by N = 1…8 activation rows on one thread, as ops' matTask
// does (X8, X4, X2, X1 for 8, 4, 2, 1 rows, the others split into those:
// "split-avx512vnni", and "split-avx2" with the AVX2 kernel's X4 and X2),
// and with the rows padded to eight over zero rows (the avx512vnni X8:
// "pad8"). MB/s count weight bytes once per
// product, so the figures compare directly across N.
func BenchmarkKQuantRows(b *testing.B) {
	if !useAVX512 {
		b.Skip("no AVX-512 VNNI")
	}
	r := rand.New(rand.NewPCG(11, 12))
	for _, shape := range [][2]int{{768, 2048}, {2048, 768}} {
		rows, cols := shape[0], shape[1]
		for _, c := range kX4Cases {
			d := dotsOf(AVX512, c.typ)
			nb := cols / QKK
			rb := nb * c.wsize
			w := randWeights(r, c.typ, rows*nb, func() float32 { return float32(r.NormFloat64() * 0.05) })
			xs := Q8_KBytes * nb
			x, _ := randActivations(r, c.typ, 8*nb)
			for N := 1; N <= 8; N++ {
				var o8 [8]float32
				var o4 [4]float32
				var o2 [2]float32
				for _, k := range []*Kernel{AVX512, AVX2} {
					d := dotsOf(k, c.typ)
					if d.X8 == nil && N == 8 {
						continue
					}
					b.Run(fmt.Sprintf("%s/%dx%d/N=%d/split-%s", c.name, rows, cols, N, k.Name), func(b *testing.B) {
						b.SetBytes(int64(rows * rb))
						for b.Loop() {
							for i := range rows {
								wi := w[i*rb : (i+1)*rb]
								j := 0
								if N == 8 {
									d.X8(wi, x, xs, nb, &o8)
									continue
								}
								for ; j+4 <= N; j += 4 {
									d.X4(wi, x[j*xs:], x[(j+1)*xs:], x[(j+2)*xs:], x[(j+3)*xs:], nb, &o4)
								}
								for ; j+2 <= N; j += 2 {
									d.X2(wi, x[j*xs:], x[(j+1)*xs:], nb, &o2)
								}
								for ; j < N; j++ {
									o8[0] = d.X1(wi, x[j*xs:], nb)
								}
							}
						}
					})
				}
				if N < 8 {
					b.Run(fmt.Sprintf("%s/%dx%d/N=%d/pad8", c.name, rows, cols, N), func(b *testing.B) {
						b.SetBytes(int64(rows * rb))
						for b.Loop() {
							for i := range rows {
								d.X8(w[i*rb:(i+1)*rb], x, xs, nb, &o8)
							}
						}
					})
				}
			}
		}
	}
}
