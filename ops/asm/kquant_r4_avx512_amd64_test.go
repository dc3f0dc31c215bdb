//go:build !purego

package asm

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/q3m/q3m/quant"
)

// The four-row K-quant decode forms give each weight row exactly the
// float32 of the single-row form (dotQ4_KAVX2, dotQ6_KAVX2: the avx512vnni
// kernel's X1), on quantized rows, raw and extreme blocks and fuzzed bytes.

var kR4Cases = []r4Case{
	{"Q4_K", quant.Q4_K, Q4_KBytes, nil, dotQ4_KR4AVX512},
	{"Q6_K", quant.Q6_K, Q6_KBytes, nil, dotQ6_KR4AVX512},
}

// kR4Rows returns four weight rows of n blocks of c's type stride bytes
// apart, row i from fill(i, its bytes), with finite scales.
func kR4Rows(c r4Case, n, stride int, fill func(i int, b []byte)) []byte {
	w := make([]byte, 3*stride+n*c.wsize)
	for i := range 4 {
		b := make([]byte, n*c.wsize)
		fill(i, b)
		copy(w[i*stride:], rawWeights(c.typ, b, n))
	}
	return w
}

func TestKQuantR4EqualsSingleRowOnQuantizedRows(t *testing.T) {
	if !useAVX512 {
		t.Skip("no AVX-512 VNNI")
	}
	r := rand.New(rand.NewPCG(51, 52))
	for _, c := range kR4Cases {
		for _, n := range []int{1, 2, 3, 8, 11} {
			for _, gap := range []int{0, 5} {
				stride := n*c.wsize + gap
				w := make([]byte, 3*stride+n*c.wsize)
				for i := range 4 {
					copy(w[i*stride:], randWeights(r, c.typ, n, func() float32 { return float32(r.NormFloat64() * 0.05) }))
				}
				x, _ := randActivations(r, c.typ, n)
				checkR4(t, c, w, stride, x, n)
			}
		}
	}
}

func TestKQuantR4EqualsSingleRowOnRawBlocks(t *testing.T) {
	if !useAVX512 {
		t.Skip("no AVX-512 VNNI")
	}
	r := rand.New(rand.NewPCG(53, 54))
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
	for _, c := range kR4Cases {
		for _, n := range []int{1, 2, 5} {
			for wi := range fills {
				stride := n*c.wsize + wi
				w := kR4Rows(c, n, stride, func(i int, b []byte) { fills[(wi+i)%len(fills)](b) })
				for _, xf := range fills {
					x := make([]byte, n*Q8_KBytes)
					xf(x)
					for b := range n {
						binary.LittleEndian.PutUint32(x[b*Q8_KBytes:], math.Float32bits(float32(r.NormFloat64()*0.01)))
					}
					checkR4(t, c, w, stride, rawActivations(c.typ, x, n), n)
				}
			}
		}
	}
}

// Extreme blocks: weights of all ones, activations -127 or 127 and bsums at
// the int16 limits (their pair sums wrap).
func TestKQuantR4EqualsSingleRowOnExtremeBlocks(t *testing.T) {
	if !useAVX512 {
		t.Skip("no AVX-512 VNNI")
	}
	const n = 3
	for _, c := range kR4Cases {
		w := kR4Rows(c, n, n*c.wsize, func(_ int, b []byte) { fillByte(b, 0xff) })
		for _, bs := range [][2]int16{{32767, -32768}, {-32768, -32768}, {32767, 32767}, {-16384, -16384}} {
			x := make([]byte, n*Q8_KBytes)
			for i := range n {
				b := x[i*Q8_KBytes : (i+1)*Q8_KBytes]
				binary.LittleEndian.PutUint32(b, math.Float32bits(65504))
				fillByte(b[4:4+QKK], []byte{0x7f, 0x81}[i%2])
				for j := range 16 {
					binary.LittleEndian.PutUint16(b[4+QKK+2*j:], uint16(bs[j%2]))
				}
			}
			checkR4(t, c, w, n*c.wsize, x, n)
		}
	}
}

func TestKQuantR4PanicsOnShortRows(t *testing.T) {
	for _, c := range kR4Cases {
		wb := c.wsize
		for _, f := range []func(){
			func() { c.r4(make([]byte, 4*2*wb-1), 2*wb, make([]byte, 2*Q8_KBytes), 2, new([4]float32)) },
			func() { c.r4(make([]byte, 4*2*wb), 2*wb, make([]byte, 2*Q8_KBytes-1), 2, new([4]float32)) },
			func() { c.r4(make([]byte, 4*2*wb), -1, make([]byte, 2*Q8_KBytes), 2, new([4]float32)) },
		} {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%s: no panic on a short row or a negative stride", c.name)
					}
				}()
				f()
			}()
		}
	}
}

// FuzzKQuantR4 splits arbitrary bytes into four weight rows of one of the
// types with a four-row form and one Q8_K activation row.
func FuzzKQuantR4(f *testing.F) {
	f.Add([]byte{}, uint8(0), uint8(0))
	seed := make([]byte, 3*(4*Q6_KBytes+Q8_KBytes))
	for i := range seed {
		seed[i] = []byte{0x3c, 0x80, 0x7f, 0x81, 0xff, 0x00, 0x7b, 0x01}[i%8]
	}
	f.Add(seed, uint8(3), uint8(0))
	f.Add(seed, uint8(3), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, pad, sel uint8) {
		if !useAVX512 {
			t.Skip("no AVX-512 VNNI")
		}
		c := kR4Cases[int(sel)%len(kR4Cases)]
		n := min(len(data)/(4*c.wsize+Q8_KBytes), 16)
		stride := n*c.wsize + int(pad%8)
		w := kR4Rows(c, n, stride, func(i int, b []byte) { copy(b, data[i*n*c.wsize:]) })
		x := rawActivations(c.typ, data[4*n*c.wsize:4*n*c.wsize+n*Q8_KBytes], n)
		checkR4(t, c, w, stride, x, n)
	})
}

// BenchmarkKQuantR4 compares one weight row per call (x1: dotQ4_KAVX2,
// dotQ6_KAVX2) with four (r4) on decode products: 24 768×2048 matrices
// (21 MB of Q4_K, 30 MB of Q6_K) in turn, one activation row, one thread.
// MB/s counts weight bytes.
func BenchmarkKQuantR4(b *testing.B) {
	if !useAVX512 {
		b.Skip("no AVX-512 VNNI")
	}
	const rows, cols, mats = 768, 2048, 24
	r := rand.New(rand.NewPCG(9, 10))
	for _, c := range kR4Cases {
		nb := cols / QKK
		rb := nb * c.wsize
		ws := make([][]byte, mats)
		for i := range ws {
			ws[i] = randWeights(r, c.typ, rows*nb, func() float32 { return float32(r.NormFloat64() * 0.05) })
		}
		x, _ := randActivations(r, c.typ, nb)
		x1 := dotsOf(AVX512, c.typ).X1
		var out [4]float32
		b.Run(c.name+"/x1", func(b *testing.B) {
			b.SetBytes(int64(mats * rows * rb))
			for b.Loop() {
				for _, w := range ws {
					for i := range rows {
						out[0] = x1(w[i*rb:], x, nb)
					}
				}
			}
		})
		b.Run(c.name+"/r4", func(b *testing.B) {
			b.SetBytes(int64(mats * rows * rb))
			for b.Loop() {
				for _, w := range ws {
					for i := 0; i < rows; i += 4 {
						c.r4(w[i*rb:], rb, x, nb, &out)
					}
				}
			}
		})
	}
}
