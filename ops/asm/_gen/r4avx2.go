package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// avx2R4 emits the AVX2 four-row decode form of Q4_0: four weight rows
// (stride bytes apart) against one activation row, each result equal to
// the AVX2 single-row form's bit for bit. Each activation block, its scale
// and its part of the integer sums, Σ8·x per lane, are computed once for
// the four rows; each row's Σq·x then loses the Σ8·x in int32 (the
// single-row form subtracts in int16: both are exact). Registers: SI R8 R9
// R10 the rows, DI the activations, CX the blocks left, AX the output, R12
// the prefetch pointer (as the AVX-512 four-row forms); Y0…Y7 the
// accumulators (row i: Y2i for even blocks, Y2i+1 for odd), Y8 the
// activations, Y9 their Σ8·x, X10 their scale, Y11 and Y12 a row's lanes
// and scale, Y13 eights, Y14 int16 ones, Y15 0x0f bytes.
//
// There is no Q8_0 form: one of the same shape (the activations and their
// scale loaded once) decoded the 8-layer Q8_0 file at 0.90–0.95× the
// single-row form on an AVX2-only Zen 4, whose single-row Q8_0 decode
// already reads about 88 % of the measured read bandwidth.
func avx2R4(t wtype) {
	if !t.q4 {
		panic("avx2R4: Q4_0 only")
	}
	name := t.name + "r4AVX2"
	wp := r4Entry(name, "single-row AVX2", "")
	broadcastD(0x08080808, EDX, X13, Y13)
	broadcastD(0x00010001, EDX, X14, Y14)
	broadcastD(0x0f0f0f0f, EDX, X15, Y15)
	acc := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7}
	for _, a := range acc {
		VXORPS(a, a, a)
	}

	// block adds weight block b·wbytes of every row · activation block b
	// to the rows' accumulators for b's parity.
	block := func(b int) {
		xo, wo := b*xbytes, b*t.wbytes
		VMOVDQU(Mem{Base: RDI, Disp: xo + 2}, Y8)
		VPMADDUBSW(Y8, Y13, Y9)
		VPMADDWD(Y14, Y9, Y9)
		VCVTPH2PS(Mem{Base: RDI, Disp: xo}, X10)
		for i, r := range wp {
			VBROADCASTI128(Mem{Base: r, Disp: wo + 2}, Y11)
			VPSRLVD(q4shift, Y11, Y11)
			VPAND(Y15, Y11, Y11)
			VPMADDUBSW(Y8, Y11, Y11)
			VPMADDWD(Y14, Y11, Y11)
			VPSUBD(Y9, Y11, Y11)
			VCVTDQ2PS(Y11, Y11)
			VCVTPH2PS(Mem{Base: r, Disp: wo}, X12)
			VMULSS(X10, X12, X12)
			VBROADCASTSS(X12, Y12)
			VFMADD231PS(Y12, Y11, acc[2*i+b%2])
		}
	}
	l := func(s string) string { return name + "_" + s }
	advance := func(blocks int) {
		for _, r := range wp {
			ADDQ(U32(blocks*t.wbytes), r)
		}
		ADDQ(U32(blocks*xbytes), RDI)
	}

	SUBQ(U8(4), RCX)
	JL(LabelRef(l("pair")))
	Label(l("loop4"))
	prefetchR4Step(t)
	for b := range 4 {
		block(b)
	}
	advance(4)
	SUBQ(U8(4), RCX)
	JGE(LabelRef(l("loop4")))
	Label(l("pair"))
	ADDQ(U8(2), RCX)
	JL(LabelRef(l("single")))
	block(0)
	block(1)
	advance(2)
	SUBQ(U8(2), RCX)
	Label(l("single"))
	ADDQ(U8(2), RCX)
	JZ(LabelRef(l("done")))
	block(0)
	Label(l("done"))
	// Each row as hsumAVX2, the last two horizontal additions shared
	// between rows as in hsum4.
	for i := range wp {
		a, b := acc[2*i], acc[2*i+1]
		VADDPS(b, a, a)
		VEXTRACTF128(U8(1), a, b.AsX())
		VADDPS(b.AsX(), a.AsX(), a.AsX())
	}
	VHADDPS(Y2.AsX(), X0, X0)
	VHADDPS(X6, X4, X4)
	VHADDPS(X4, X0, X0)
	VMOVUPS(X0, Mem{Base: RAX})
	VZEROUPPER()
	RET()
}
