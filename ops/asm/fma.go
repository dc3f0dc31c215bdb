package asm

import "math"

// fma32 returns a·b + c rounded once to float32, as VFMADD231PS and FMLA
// do. The product is exact in float64; the float64 sum s is rounded again
// to float32, which is wrong only when s is inexact and lies exactly
// halfway between two float32s: then the exact sum, s plus the TwoSum error
// e, is on e's side of that midpoint.
func fma32(a, b, c float32) float32 {
	p := float64(float64(a) * float64(b))
	s := p + float64(c)
	z := s - p
	e := (p - (s - z)) + (float64(c) - z)
	r := float32(s)
	if e == 0 || float64(r) == s || s != s || math.IsInf(float64(r), 0) {
		return r
	}
	var other float32
	if float64(r) < s {
		other = math.Nextafter32(r, float32(math.Inf(1)))
	} else {
		other = math.Nextafter32(r, float32(math.Inf(-1)))
	}
	if float64(r)+float64(other) != 2*s {
		return r
	}
	if (e > 0) == (float64(other) > float64(r)) {
		return other
	}
	return r
}

// hsum8 adds eight float32 lanes in the order of ggml's x86 hsum_float_8:
// the upper four onto the lower four, then the upper two onto the lower
// two, then the two left.
func hsum8(a *[8]float32) float32 {
	r0, r1, r2, r3 := a[0]+a[4], a[1]+a[5], a[2]+a[6], a[3]+a[7]
	return (r0 + r2) + (r1 + r3)
}

// hsum4 adds four float32 lanes as ggml's x86 code reduces a __m128:
// (a0+a2) + (a1+a3).
func hsum4(a *[4]float32) float32 { return (a[0] + a[2]) + (a[1] + a[3]) }
