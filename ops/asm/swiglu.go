package asm

import "math"

// SwiGLU sets dst[i] = SiLU(gate[i])·up[i] with SiLU(g) = g/(1+e^-g), in
// float32 with e^-g from Exp32. dst may alias gate or up. Every
// implementation returns the bits swiGLUGeneric does.
func SwiGLU(dst, gate, up []float32) {
	n := len(gate)
	dst, up = dst[:n], up[:n]
	i := swiGLUArch(dst, gate, up)
	swiGLUGeneric(dst[i:], gate[i:], up[i:])
}

// swiGLUGeneric is SwiGLU in Go, the oracle for the assembly.
func swiGLUGeneric(dst, gate, up []float32) {
	up = up[:len(gate)]
	dst = dst[:len(gate)]
	for i, g := range gate {
		dst[i] = float32(g/float32(1+Exp32(-g))) * up[i]
	}
}

// ExpSub sets dst[i] = Exp32(x[i] - m), the float32 difference, as
// softmax needs. dst may alias x. Every implementation returns the bits
// expSubGeneric does.
func ExpSub(dst, x []float32, m float32) {
	dst = dst[:len(x)]
	i := expSubArch(dst, x, m)
	expSubGeneric(dst[i:], x[i:], m)
}

// expSubGeneric is ExpSub in Go, the oracle for the assembly.
func expSubGeneric(dst, x []float32, m float32) {
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] = Exp32(v - m)
	}
}

// Constants of Exp32: the range outside which e^t is 0 or +Inf in float32,
// ln 2 split into a part whose multiples by the exponent are exact and the
// rest (Cody and Waite), and the minimax polynomial of Cephes' expf for
// e^r on |r| ≤ ln2/2.
const (
	expLo    = -104
	expHi    = 89
	expLog2e = 1.44269504088896341
	expLn2Hi = 0.693359375
	expLn2Lo = -2.12194440e-4
	expMagic = 0x1.8p23 // adding it rounds to an integer, ties to even
	expP0    = 1.9875691500e-4
	expP1    = 1.3981999507e-3
	expP2    = 8.3334519073e-3
	expP3    = 4.1665795894e-2
	expP4    = 1.6666665459e-1
	expP5    = 5.0000001201e-1
)

// Exp32 returns e^t in float32 arithmetic, one rounding per operation and
// no fused multiply-add, so that SIMD code reproduces it bit for bit: with
// n = round(t·log2 e) and r = t - n·ln 2, e^t = 2ⁿ·p(r). Its error is at
// most 2 ulp of the correctly rounded result (TestExp32WithinTwoUlp);
// NaN gives NaN, large t +Inf, very negative t 0.
func Exp32(t float32) float32 {
	t = min(max(t, expLo), expHi)
	k := float32(float32(t*expLog2e) + expMagic)
	n := int32(math.Float32bits(k)) - int32(math.Float32bits(expMagic))
	kf := k - expMagic
	r := t - float32(kf*expLn2Hi)
	r -= float32(kf * expLn2Lo)
	z := float32(r * r)
	p := float32(float32(expP0*r) + expP1)
	p = float32(float32(p*r) + expP2)
	p = float32(float32(p*r) + expP3)
	p = float32(float32(p*r) + expP4)
	p = float32(float32(p*r) + expP5)
	y := float32(float32(float32(p*z)+r) + 1)
	// 2ⁿ as two factors, each a normal float32 for n in [-150, 128], so
	// that results near the ends of the range round once.
	n1 := n >> 1
	return float32(y*pow2(n1)) * pow2(n-n1)
}

// pow2 returns 2ⁿ for n in [-126, 127].
func pow2(n int32) float32 { return math.Float32frombits(uint32(n+127) << 23) }
