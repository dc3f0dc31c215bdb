package quant

import (
	"math"
	"math/rand/v2"
	"testing"
)

// ggmlToF16 is ggml_compute_fp32_to_fp16 (ggml-impl.h), transcribed: the
// magnitude is scaled so that float32 addition rounds it to half precision.
func ggmlToF16(f float32) uint16 {
	base := float32(float32(abs32(f)*0x1p112) * 0x1p-110)
	w := math.Float32bits(f)
	shl1 := w + w
	sign := w & 0x80000000
	bias := shl1 & 0xff000000
	if bias < 0x71000000 {
		bias = 0x71000000
	}
	base = math.Float32frombits(bias>>1+0x07800000) + base
	bits := math.Float32bits(base)
	nonsign := bits>>13&0x7c00 + bits&0x0fff
	if shl1 > 0xff000000 {
		nonsign = 0x7e00
	}
	return uint16(sign>>16 | nonsign)
}

func TestToF16MatchesGGML(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	check := func(b uint32) {
		v := math.Float32frombits(b)
		if got, want := ToF16(v), ggmlToF16(v); got != want {
			t.Fatalf("ToF16(%#x) = %#x, ggml %#x", b, got, want)
		}
	}
	for _, b := range []uint32{0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7fa00000, 0x477fefff, 0x477ff000, 0x33000000, 0x33000001, 0x387fc000} {
		check(b)
	}
	for range 1 << 20 {
		check(r.Uint32())
	}
	// Every half-way point between neighbouring halves, and its neighbours.
	for h := uint32(0); h < 0x7c00; h++ {
		mid := math.Float32bits((FromF16(uint16(h)) + FromF16(uint16(h+1))) / 2)
		check(mid)
		check(mid + 1)
		check(mid - 1)
	}
}
