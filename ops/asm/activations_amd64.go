//go:build !purego

package asm

//go:noescape
func quantizeQ8_0AVX2(dst *byte, x *float32, nblocks int)

//go:noescape
func quantizeQ8_KAVX2(dst *byte, x *float32, nblocks int)

// quantizeQ8_KArch quantizes the whole blocks of x with AVX2 when the CPU
// has it and returns how many it did: the computation is a few
// multiplications, additions and compares per value, which pure Go does
// one value at a time.
func quantizeQ8_KArch(dst []byte, x []float32) int {
	nb := len(x) / QKK
	if !useAVX2 || nb == 0 {
		return 0
	}
	dst = dst[:nb*Q8_KBytes]
	quantizeQ8_KAVX2(&dst[0], &x[0], nb)
	return nb
}

// quantizeQ8_0Arch quantizes the whole blocks of x with AVX2 and F16C
// (VCVTPS2PH for the fp16 scale) when the CPU has them and returns how many
// it did.
func quantizeQ8_0Arch(dst []byte, x []float32) int {
	nb := len(x) / QK
	if !useAVX2 || nb == 0 {
		return 0
	}
	dst = dst[:nb*Q8_0Bytes]
	quantizeQ8_0AVX2(&dst[0], &x[0], nb)
	return nb
}

// q8_0TailGroup: the multi-row Q8_0 forms of both amd64 kernels and the
// avx512vnni kernel's Q4_0 ones read the tail.
const q8_0TailGroup = 272

// group8Arch writes the group of eight rows with AVX2 when the CPU has it
// and reports whether it did.
func group8Arch(dst, src []byte, stride, nblocks int) bool {
	if !useAVX2 || nblocks == 0 {
		return false
	}
	dst, src = dst[:Group8Bytes(nblocks)], src[:7*stride+nblocks*Q8_0Bytes]
	group8AVX2(&dst[0], &src[0], stride, nblocks)
	return true
}
