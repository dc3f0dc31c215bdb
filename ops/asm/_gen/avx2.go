package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
)

// Helpers shared by the AVX2 forms (chains.go) and the AVX-512 ones.

var q4shift Mem

// avx2Consts emits the per-dword shift counts that turn a 16-byte Q4_0
// payload broadcast to both halves into its low nibbles (low half) and
// high nibbles (high half).
func avx2Consts() {
	q4shift = GLOBL("q4shift", RODATA|NOPTR)
	for i := 0; i < 8; i++ {
		DATA(4*i, U32(uint32(i/4*4)))
	}
}

// hsumAVX2 sets the low lane of xa to the sum of the lanes of a + b,
// clobbering b.
func hsumAVX2(a, b, xa, xb Op) {
	VADDPS(b, a, a)
	VEXTRACTF128(U8(1), a, xb)
	VADDPS(xb, xa, xa)
	VHADDPS(xa, xa, xa)
	VHADDPS(xa, xa, xa)
}
