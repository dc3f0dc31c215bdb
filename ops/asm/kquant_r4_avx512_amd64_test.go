//go:build !purego

package asm

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/q3m/q3m/quant"
)

// The four-row Q4_K decode form gives each weight row exactly the float32
// of the single-row form (dotQ4_KAVX2, the avx512vnni kernel's X1), on
// quantized rows, raw and extreme blocks and fuzzed bytes.

var q4KR4 = r4Case{"Q4_K", quant.Q4_K, Q4_KBytes, dotQ4_KR4AVX512}

// q4KR4Rows returns four weight rows of n Q4_K blocks stride bytes apart,
// row i from fill(i, block bytes).
func q4KR4Rows(n, stride int, fill func(i int, b []byte)) []byte {
	w := make([]byte, 3*stride+n*Q4_KBytes)
	for i := range 4 {
		b := make([]byte, n*Q4_KBytes)
		fill(i, b)
		copy(w[i*stride:], rawWeights(quant.Q4_K, b, n))
	}
	return w
}

func TestQ4_KR4EqualsSingleRowOnQuantizedRows(t *testing.T) {
	if !useAVX512 {
		t.Skip("no AVX-512 VNNI")
	}
	r := rand.New(rand.NewPCG(51, 52))
	for _, n := range []int{1, 2, 3, 8, 11} {
		for _, gap := range []int{0, 5} {
			stride := n*Q4_KBytes + gap
			w := make([]byte, 3*stride+n*Q4_KBytes)
			for i := range 4 {
				copy(w[i*stride:], randWeights(r, quant.Q4_K, n, func() float32 { return float32(r.NormFloat64() * 0.05) }))
			}
			x, _ := randActivations(r, quant.Q4_K, n)
			checkR4(t, q4KR4, w, stride, x, n)
		}
	}
}

func TestQ4_KR4EqualsSingleRowOnRawBlocks(t *testing.T) {
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
	for _, n := range []int{1, 2, 5} {
		for wi := range fills {
			stride := n*Q4_KBytes + wi
			w := q4KR4Rows(n, stride, func(i int, b []byte) { fills[(wi+i)%len(fills)](b) })
			for _, xf := range fills {
				x := make([]byte, n*Q8_KBytes)
				xf(x)
				for b := range n {
					binary.LittleEndian.PutUint32(x[b*Q8_KBytes:], math.Float32bits(float32(r.NormFloat64()*0.01)))
				}
				checkR4(t, q4KR4, w, stride, rawActivations(quant.Q4_K, x, n), n)
			}
		}
	}
}

// Extreme blocks: weights of all ones, activations -127 or 127 and bsums at
// the int16 limits (their pair sums wrap).
func TestQ4_KR4EqualsSingleRowOnExtremeBlocks(t *testing.T) {
	if !useAVX512 {
		t.Skip("no AVX-512 VNNI")
	}
	const n = 3
	w := q4KR4Rows(n, n*Q4_KBytes, func(_ int, b []byte) { fillByte(b, 0xff) })
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
		checkR4(t, q4KR4, w, n*Q4_KBytes, x, n)
	}
}

func TestQ4_KR4PanicsOnShortRows(t *testing.T) {
	for _, f := range []func(){
		func() {
			dotQ4_KR4AVX512(make([]byte, 4*2*Q4_KBytes-1), 2*Q4_KBytes, make([]byte, 2*Q8_KBytes), 2, new([4]float32))
		},
		func() {
			dotQ4_KR4AVX512(make([]byte, 4*2*Q4_KBytes), 2*Q4_KBytes, make([]byte, 2*Q8_KBytes-1), 2, new([4]float32))
		},
		func() {
			dotQ4_KR4AVX512(make([]byte, 4*2*Q4_KBytes), -1, make([]byte, 2*Q8_KBytes), 2, new([4]float32))
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic on a short row or a negative stride")
				}
			}()
			f()
		}()
	}
}

// FuzzQ4_KR4 splits arbitrary bytes into four Q4_K weight rows and one Q8_K
// activation row.
func FuzzQ4_KR4(f *testing.F) {
	f.Add([]byte{}, uint8(0))
	seed := make([]byte, 3*(4*Q4_KBytes+Q8_KBytes))
	for i := range seed {
		seed[i] = []byte{0x3c, 0x80, 0x7f, 0x81, 0xff, 0x00, 0x7b, 0x01}[i%8]
	}
	f.Add(seed, uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, pad uint8) {
		if !useAVX512 {
			t.Skip("no AVX-512 VNNI")
		}
		n := min(len(data)/(4*Q4_KBytes+Q8_KBytes), 16)
		stride := n*Q4_KBytes + int(pad%8)
		w := q4KR4Rows(n, stride, func(i int, b []byte) { copy(b, data[i*n*Q4_KBytes:]) })
		x := rawActivations(quant.Q4_K, data[4*n*Q4_KBytes:4*n*Q4_KBytes+n*Q8_KBytes], n)
		checkR4(t, q4KR4, w, stride, x, n)
	})
}

// BenchmarkQ4_KR4 compares one weight row per call (x1, dotQ4_KAVX2) with
// four (r4) on decode products: 24 768×2048 Q4_K matrices (21 MB) in turn,
// one activation row. MB/s counts weight bytes.
func BenchmarkQ4_KR4(b *testing.B) {
	if !useAVX512 {
		b.Skip("no AVX-512 VNNI")
	}
	const rows, cols, mats = 768, 2048, 24
	r := rand.New(rand.NewPCG(9, 10))
	nb := cols / QKK
	rb := nb * Q4_KBytes
	ws := make([][]byte, mats)
	for i := range ws {
		ws[i] = randWeights(r, quant.Q4_K, rows*nb, func() float32 { return float32(r.NormFloat64() * 0.05) })
	}
	x, _ := randActivations(r, quant.Q4_K, nb)
	var out [4]float32
	b.Run("x1", func(b *testing.B) {
		b.SetBytes(int64(mats * rows * rb))
		for b.Loop() {
			for _, w := range ws {
				for i := range rows {
					out[0] = dotQ4_KAVX2(w[i*rb:], x, nb)
				}
			}
		}
	})
	b.Run("r4", func(b *testing.B) {
		b.SetBytes(int64(mats * rows * rb))
		for b.Loop() {
			for _, w := range ws {
				for i := 0; i < rows; i += 4 {
					dotQ4_KR4AVX512(w[i*rb:], rb, x, nb, &out)
				}
			}
		}
	})
}
