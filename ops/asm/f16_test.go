package asm

import (
	"encoding/binary"
	"math"
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
