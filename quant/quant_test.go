package quant

import (
	"bytes"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"testing"
)

// Expected blocks below were derived by hand from ggml's reference
// quantizer rules (gguf.md) and checked with an independent Python
// evaluation of the same float32 arithmetic; they are not outputs of this
// package.
func TestQuantizeMatchesGGMLReference(t *testing.T) {
	ramp := make([]float32, 32) // j-16
	alt := make([]float32, 32)  // 0.1·(j+1)·(-1)^j
	for j := range 32 {
		ramp[j] = float32(j - 16)
		alt[j] = float32(0.1 * float64(j+1) * math.Pow(-1, float64(j)))
	}
	i8 := func(v ...int) []byte {
		b := make([]byte, len(v))
		for i, x := range v {
			b[i] = byte(int8(x))
		}
		return b
	}
	nib := func(q []int) []byte {
		b := make([]byte, 16)
		for j := range 16 {
			b[j] = byte(q[j]) | byte(q[j+16])<<4
		}
		return b
	}
	hx := func(s string) []byte { b, _ := hex.DecodeString(s); return b }
	tests := []struct {
		name string
		typ  Type
		in   []float32
		want []byte
	}{
		{"q8_0 ramp", Q8_0, ramp, append(hx("0830"), i8(-127, -119, -111, -103, -95, -87, -79, -71, -64, -56, -48, -40, -32, -24, -16, -8, 0, 8, 16, 24, 32, 40, 48, 56, 64, 71, 79, 87, 95, 103, 111, 119)...)},
		{"q8_0 alternating", Q8_0, alt, append(hx("7326"), i8(4, -8, 12, -16, 20, -24, 28, -32, 36, -40, 44, -48, 52, -56, 60, -64, 67, -71, 75, -79, 83, -87, 91, -95, 99, -103, 107, -111, 115, -119, 123, -127)...)},
		{"q8_0 zeros", Q8_0, make([]float32, 32), make([]byte, 34)},
		// ramp: the largest magnitude is -16, so d = 2 and q = trunc(x/2 + 8.5) capped at 15.
		{"q4_0 ramp", Q4_0, ramp, append(hx("0040"), nib([]int{0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15, 15})...)},
		{"q4_0 alternating", Q4_0, alt, append(hx("6636"), nib([]int{8, 8, 9, 7, 9, 7, 10, 6, 10, 6, 11, 5, 11, 5, 12, 4, 12, 4, 13, 3, 13, 3, 14, 2, 14, 2, 15, 1, 15, 1, 15, 0})...)},
		{"q4_0 zeros (d is -0 as in C)", Q4_0, make([]float32, 32), append([]byte{0, 0x80}, bytes.Repeat([]byte{0x88}, 16)...)},
		{"f16", F16, []float32{1, -2, 0.5, 65504}, hx("003c00c00038ff7b")},
		{"bf16 rounds to nearest even", BF16, []float32{1, math.Float32frombits(0x3f808000), math.Float32frombits(0x3f818000), float32(math.Copysign(0, -1))}, hx("803f803f823f0080")},
		{"f32", F32, []float32{1, -1}, hx("0000803f000080bf")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := tc.typ.RowBytes(len(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			got := make([]byte, n)
			if err := Quantize(tc.typ, got, tc.in); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("Quantize(%s)\n got %x\nwant %x", tc.typ, got, tc.want)
			}
		})
	}
}

func TestQ4_0FirstLargestMagnitudeWins(t *testing.T) {
	x := make([]float32, 32)
	x[3], x[9] = 4, -4
	b := make([]byte, 18)
	if err := Quantize(Q4_0, b, x); err != nil {
		t.Fatal(err)
	}
	// max = +4 (first), d = -0.5: x=4 → trunc(-8+8.5) = 0, x=-4 → 16 → 15.
	if d := FromF16(uint16(b[0]) | uint16(b[1])<<8); d != -0.5 {
		t.Fatalf("d = %v, want -0.5", d)
	}
	if b[2+3]&0x0f != 0 || b[2+9]&0x0f != 15 {
		t.Fatalf("nibbles %x", b[2:])
	}
}

// TestRoundTripError checks dequantize(quantize(x)) stays within each type's
// worst-case error bound, computed from the block scale.
func TestRoundTripError(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, 32*64)
	for i := range x {
		x[i] = float32(r.NormFloat64()) * float32(1+i%7)
	}
	for _, typ := range []Type{F32, F16, BF16, Q8_0, Q4_0} {
		n, _ := typ.RowBytes(len(x))
		b := make([]byte, n)
		y := make([]float32, len(x))
		if err := Quantize(typ, b, x); err != nil {
			t.Fatal(err)
		}
		if err := Dequantize(typ, y, b); err != nil {
			t.Fatal(err)
		}
		for blk := 0; blk < len(x)/32; blk++ {
			var amax float64
			for _, v := range x[blk*32 : blk*32+32] {
				amax = math.Max(amax, math.Abs(float64(v)))
			}
			for j := blk * 32; j < blk*32+32; j++ {
				var bound float64
				switch typ {
				case F32:
					bound = 0
				case F16:
					bound = math.Abs(float64(x[j])) * 0x1p-11
				case BF16:
					bound = math.Abs(float64(x[j])) * 0x1p-8
				case Q8_0:
					bound = amax/127*0.5*1.002 + amax*0x1p-11
				case Q4_0:
					bound = amax/8*1.002 + amax*0x1p-11
				}
				if d := math.Abs(float64(x[j] - y[j])); d > bound {
					t.Fatalf("%s: |x-y| = %g at %d exceeds %g", typ, d, j, bound)
				}
			}
		}
	}
}

func TestSizesAndErrors(t *testing.T) {
	if n, err := Q4_K.RowBytes(512); err != nil || n != 288 {
		t.Errorf("Q4_K 512 values: %d, %v", n, err)
	}
	if _, err := Q8_0.RowBytes(33); err == nil {
		t.Error("Q8_0 accepted 33 values")
	}
	if _, err := Type(99).RowBytes(32); err == nil {
		t.Error("unknown type accepted")
	}
	if err := Quantize(Q8_0, make([]byte, 33), make([]float32, 32)); err == nil {
		t.Error("wrong dst size accepted")
	}
	if err := Dequantize(Q6_K, make([]float32, 256), make([]byte, 209)); err == nil {
		t.Error("Q6_K dequantize of a short block accepted")
	}
	if err := Quantize(Q4_K, make([]byte, 144), make([]float32, 128)); err == nil {
		t.Error("Q4_K quantize of half a block accepted")
	}
	if typ, err := ParseType("q4_0"); err != nil || typ != Q4_0 {
		t.Errorf("ParseType(q4_0) = %v, %v", typ, err)
	}
	if _, err := ParseType("q9_9"); err == nil {
		t.Error("ParseType accepted q9_9")
	}
}

func FuzzQ8_0Bound(f *testing.F) {
	f.Add(float32(1), float32(-3), float32(0.5))
	f.Fuzz(func(t *testing.T, a, b, c float32) {
		x := make([]float32, 32)
		for i := range x {
			x[i] = [3]float32{a, b, c}[i%3] * float32(i+1)
			if math.IsNaN(float64(x[i])) || math.IsInf(float64(x[i]), 0) || math.Abs(float64(x[i])) > 6e4 {
				return
			}
		}
		buf := make([]byte, 34)
		y := make([]float32, 32)
		if err := Quantize(Q8_0, buf, x); err != nil {
			t.Fatal(err)
		}
		if err := Dequantize(Q8_0, y, buf); err != nil {
			t.Fatal(err)
		}
		var amax float64
		for _, v := range x {
			amax = math.Max(amax, math.Abs(float64(v)))
		}
		for i := range x {
			if d := math.Abs(float64(x[i] - y[i])); d > amax/127*0.51+amax*0x1p-10+1e-6 {
				t.Fatalf("x=%v y=%v", x[i], y[i])
			}
		}
	})
}

func TestRoundAwayMatchesRoundf(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	vals := []float32{0.5, -0.5, 1.5, -1.5, 2.5, 0.49999997, -0.49999997, 126.5, -127.5, 0, 1e-10}
	for range 100000 {
		vals = append(vals, float32(r.NormFloat64()*60))
	}
	for _, v := range vals {
		if got, want := roundAway(v), int32(math.Round(float64(v))); got != want {
			t.Fatalf("roundAway(%v) = %d, want %d", v, got, want)
		}
	}
}
