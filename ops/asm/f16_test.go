package asm

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/q3m/q3m/quant"
)

// F16ToF32 converts every fp16 value as quant.Dequantize does, at every
// length around the eight-value vector width and from unaligned memory.
func TestF16ToF32EqualsDequantizeForEveryValue(t *testing.T) {
	src := make([]byte, 2*65536+1)
	for v := range 65536 {
		binary.LittleEndian.PutUint16(src[1+2*v:], uint16(v))
	}
	for _, n := range []int{65536, 1, 7, 8, 9, 23} {
		got, want := make([]float32, n), make([]float32, n)
		F16ToF32(got, src[1:])
		if err := quant.Dequantize(quant.F16, want, src[1:1+2*n]); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			g, w := got[i], want[i]
			if math.Float32bits(g) != math.Float32bits(w) && !(g != g && w != w) {
				t.Fatalf("n=%d value %#04x: %v (%#x), Dequantize %v (%#x)", n, i, g, math.Float32bits(g), w, math.Float32bits(w))
			}
		}
	}
}

func TestF16ToF32PanicsOnShortSource(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	F16ToF32(make([]float32, 16), make([]byte, 31))
}

// checkF16ToF32T runs F16ToF32T on random fp16 bit patterns (every class:
// zeros, subnormals, infinities, NaNs) in rows padded to stride bytes and
// checks it against F16ToF32 row by row, against the Go twin, and that it
// writes nothing outside its rows·cols values.
func checkF16ToF32T(t *testing.T, r *rand.Rand, rows, cols, ld, stride int) {
	t.Helper()
	src := make([]byte, max(0, (rows-1)*stride+2*cols)+1)
	for i := range src {
		src[i] = byte(r.Uint32())
	}
	src = src[1:] // unaligned
	n := max(0, (cols-1)*ld+rows)
	got, twin := make([]float32, n+3), make([]float32, n+3)
	for i := range got {
		got[i], twin[i] = -7, -7
	}
	F16ToF32T(got, ld, src, stride, rows, cols)
	f16ToF32TGeneric(twin, ld, src, stride, rows, cols)
	same := func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b }
	row := make([]float32, cols)
	want := make([]float32, len(got))
	for i := range want {
		want[i] = -7
	}
	for r := range rows {
		F16ToF32(row, src[r*stride:])
		for c, x := range row {
			want[c*ld+r] = x
		}
	}
	for i := range got {
		if !same(got[i], want[i]) || !same(twin[i], want[i]) {
			t.Fatalf("rows %d cols %d ld %d stride %d: dst[%d] %v, Go twin %v, F16ToF32 %v", rows, cols, ld, stride, i, got[i], twin[i], want[i])
		}
	}
}

// F16ToF32T is F16ToF32 transposed, for whole and partial groups of eight
// rows and columns, tight and padded layouts.
func TestF16ToF32TIsF16ToF32Transposed(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, rows := range []int{1, 7, 8, 9, 16, 31, 32} {
		for _, cols := range []int{1, 5, 8, 16, 20, 128} {
			for _, pad := range []struct{ ld, stride int }{{0, 0}, {3, 6}, {8, 1024}} {
				t.Run(fmt.Sprintf("%dx%d+%v", rows, cols, pad), func(t *testing.T) {
					checkF16ToF32T(t, r, rows, cols, rows+pad.ld, 2*cols+pad.stride)
				})
			}
		}
	}
}

func FuzzF16ToF32T(f *testing.F) {
	f.Add(uint8(32), uint8(128), uint8(0), uint16(768), uint64(1))
	f.Add(uint8(9), uint8(8), uint8(5), uint16(3), uint64(2))
	f.Fuzz(func(t *testing.T, rows, cols, ldPad uint8, stridePad uint16, seed uint64) {
		ro, co := int(rows%48)+1, int(cols%160)+1
		checkF16ToF32T(t, rand.New(rand.NewPCG(seed, 9)), ro, co, ro+int(ldPad%17), 2*co+int(stridePad%2048))
	})
}
