package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The AVX2 lane-model forms of Q8_0 (AVX2, FMA, F16C; the Q4_0 forms are
// in chains.go). Go has no vector integer intrinsics, hence assembly. The
// integer core is ggml's mul_sum_i8_pairs: VPMADDUBSW of an unsigned
// operand with a signed one, then VPMADDWD with ones. The weights' signs
// move onto the activations (VPSIGNB) and |w| ≤ 128 is the unsigned
// operand: exact because quantized activations lie in [-127, 127]
// (Traits.Quantize), so x·sign(w) does not overflow and a pair sums to at
// most 2·128·127 < 2^15. The fp16 scales are converted by a 128-bit
// VCVTPH2PS straight from memory (it reads the scale and the three words
// after it, still inside the block; only lane 0 is used).

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

// scaleAVX2 sets d (xd its low half) to the float32 product of the fp16
// scales at w and x; t is clobbered.
func scaleAVX2(w, x Mem, d, xd, t Op) {
	VCVTPH2PS(w, xd)
	VCVTPH2PS(x, t)
	VMULSS(t, xd, xd)
	VBROADCASTSS(xd, d)
}

// q8IntAVX2 sets the float32 lanes f to the exact lane sums of the Q8_0
// weights at w · the activations at x, using t and u; Y14 holds ones.
func q8IntAVX2(w, x Mem, f, t, u Op) {
	VMOVDQU(w, t)
	VMOVDQU(x, u)
	VPSIGNB(t, u, u)
	VPABSB(t, t)
	VPMADDUBSW(u, t, f)
	VPMADDWD(Y14, f, f)
	VCVTDQ2PS(f, f)
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

// avx2X1 emits the single-row form of Q8_0: four blocks per iteration,
// then a pair, then a last block; accumulators Y6 (even blocks) and Y7
// (odd).
func avx2X1(t wtype) {
	name := t.name + "AVX2"
	TEXT(name, NOSPLIT, signature(1))
	Pragma("noescape")
	Doc(fmt.Sprintf("%s returns the dot product of nblocks ≥ 1 weight blocks at w with the Q8_0 blocks at x (AVX2).", name))
	Load(Param("w"), RSI)
	Load(Param("x"), RDI)
	Load(Param("nblocks"), RCX)
	broadcastD(0x00010001, EAX, X14, Y14)
	VXORPS(Y6, Y6, Y6)
	VXORPS(Y7, Y7, Y7)

	// pair adds blocks wo/xo (into Y6) and the next one (into Y7).
	pair := func(wo, xo int) {
		w := func(o int) Mem { return Mem{Base: RSI, Disp: o} }
		x := func(o int) Mem { return Mem{Base: RDI, Disp: o} }
		scaleAVX2(w(wo), x(xo), Y4, X4, X5)
		scaleAVX2(w(wo+t.wbytes), x(xo+xbytes), Y12, X12, X13)
		q8IntAVX2(w(wo+2), x(xo+2), Y0, Y1, Y2)
		q8IntAVX2(w(wo+t.wbytes+2), x(xo+xbytes+2), Y8, Y9, Y10)
		VFMADD231PS(Y4, Y0, Y6)
		VFMADD231PS(Y12, Y8, Y7)
	}
	l := func(s string) string { return name + "_" + s }
	SUBQ(U8(4), RCX)
	JL(LabelRef(l("pair")))
	Label(l("loop4"))
	pair(0, 0)
	pair(2*t.wbytes, 2*xbytes)
	ADDQ(U32(4*t.wbytes), RSI)
	ADDQ(U32(4*xbytes), RDI)
	SUBQ(U8(4), RCX)
	JGE(LabelRef(l("loop4")))
	Label(l("pair"))
	ADDQ(U8(2), RCX)
	JL(LabelRef(l("tail")))
	pair(0, 0)
	ADDQ(U32(2*t.wbytes), RSI)
	ADDQ(U32(2*xbytes), RDI)
	SUBQ(U8(2), RCX)
	Label(l("tail"))
	ADDQ(U8(2), RCX)
	JZ(LabelRef(l("done")))
	scaleAVX2(Mem{Base: RSI}, Mem{Base: RDI}, Y4, X4, X5)
	q8IntAVX2(Mem{Base: RSI, Disp: 2}, Mem{Base: RDI, Disp: 2}, Y0, Y1, Y2)
	VFMADD231PS(Y4, Y0, Y6)
	Label(l("done"))
	hsumAVX2(Y6, Y7, X6, X7)
	VZEROUPPER()
	Store(X6, ReturnIndex(0))
	RET()
}

// avx2Multi emits the Q8_0 form for rows (2 or 4) activation rows: each weight
// block is loaded once; row i keeps the two alternating accumulators of
// the single-row form. Registers: SI weights, DI R8 R9 R10 the rows, CX the
// blocks left, AX the output. The whole groups of four blocks go first,
// through the rows' tails (avx2Groups).
func avx2Multi(t wtype, rows int) {
	name := fmt.Sprintf("%sx%dAVX2", t.name, rows)
	TEXT(name, NOSPLIT, signature(rows))
	Pragma("noescape")
	Doc(fmt.Sprintf("%s sets out[i] to the single-row AVX2 product of the weights at w with the activations at xi, for nblocks ≥ 1.", name))
	xp := []GPPhysical{RDI, R8, R9, R10}[:rows]
	Load(Param("w"), RSI)
	for i, r := range xp {
		Load(Param(fmt.Sprintf("x%d", i)), r)
	}
	Load(Param("nblocks"), RCX)
	Load(Param("out"), RAX)
	// Accumulators: row i uses acc[2i] (even blocks) and acc[2i+1] (odd).
	broadcastD(0x00010001, EDX, X14, Y14)
	acc := []VecPhysical{Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13}[:2*rows]
	for _, a := range acc {
		VXORPS(a, a, a)
	}
	// block adds weight block wo · the rows' blocks xo to acc[2i+odd].
	block := func(wo, xo, odd int) {
		VMOVDQU(Mem{Base: RSI, Disp: wo + 2}, Y0)
		VPABSB(Y0, Y1)
		VCVTPH2PS(Mem{Base: RSI, Disp: wo}, X2)
		for i, r := range xp {
			VMOVDQU(Mem{Base: r, Disp: xo + 2}, Y3)
			VPSIGNB(Y0, Y3, Y3)
			VPMADDUBSW(Y3, Y1, Y3)
			VPMADDWD(Y14, Y3, Y3)
			VCVTDQ2PS(Y3, Y3)
			VCVTPH2PS(Mem{Base: r, Disp: xo}, X5)
			VMULSS(X5, X2, X5)
			VBROADCASTSS(X5, Y5)
			VFMADD231PS(Y5, Y3, acc[2*i+odd])
		}
	}
	l := func(s string) string { return name + "_" + s }
	avx2Groups(t, xp, acc, l, AllocLocal(16*rows))
	CMPQ(RCX, U8(2))
	JL(LabelRef(l("tail")))
	Label(l("loop"))
	block(0, 0, 0)
	block(t.wbytes, xbytes, 1)
	ADDQ(U32(2*t.wbytes), RSI)
	for _, r := range xp {
		ADDQ(U32(2*xbytes), r)
	}
	SUBQ(U8(2), RCX)
	CMPQ(RCX, U8(2))
	JGE(LabelRef(l("loop")))
	Label(l("tail"))
	TESTQ(RCX, RCX)
	JZ(LabelRef(l("done")))
	block(0, 0, 0)
	Label(l("done"))
	for i := range xp {
		a, b := acc[2*i], acc[2*i+1]
		hsumAVX2(a, b, a.AsX(), b.AsX())
		VMOVSS(a.AsX(), Mem{Base: RAX, Disp: 4 * i})
	}
	VZEROUPPER()
	RET()
}

// avx2Groups emits the Q8_0 multi-row forms' loop over whole groups of
// four blocks, which reads the activations from their rows' tails
// (package asm's q8_0Tail): the values side by side, against the weights
// as in the single-row form (signs moved onto the activations). The
// scales as float32 (VCVTPH2PS's values): per group the weights' four
// scales are gathered and converted once, multiplied by each row's four
// in one VMULPS and kept in local, from where each row and block takes
// its product with one broadcast load. Each row's lanes, scale products
// and accumulation order are the single-row form's. It leaves the
// pointers at the first block past the groups and CX at the blocks left.
// Y14 holds int16 ones; DX and Y0…Y4 are clobbered and BX R11 R12 R13
// walk the tails. local has 16 bytes a row.
func avx2Groups(t wtype, xp []GPPhysical, acc []VecPhysical, l func(string) string, local Mem) {
	tp := []GPPhysical{RBX, R11, R12, R13}[:len(xp)]
	// Each row's tail follows its nblocks blocks.
	IMUL3Q(U32(xbytes), RCX, RDX)
	for i, r := range xp {
		LEAQ(Mem{Base: r, Index: RDX, Scale: 1}, tp[i])
	}
	CMPQ(RCX, U8(4))
	JL(LabelRef(l("groupsdone")))
	Label(l("group"))
	// The group's scale products, row i's four at 16·i(local): the
	// weights' four scales gathered, times the row's from its tail.
	gatherScalesN(func(b int) Mem { return Mem{Base: RSI, Disp: b * t.wbytes} }, 4, RDX, X1)
	for i := range xp {
		VMULPS(Mem{Base: tp[i], Disp: 256}, X1, X4)
		VMOVUPS(X4, local.Offset(16*i))
	}
	for b := range 4 {
		wo := b * t.wbytes
		VMOVDQU(Mem{Base: RSI, Disp: wo + 2}, Y0)
		VPABSB(Y0, Y1)
		for i := range xp {
			VMOVDQU(Mem{Base: tp[i], Disp: 32 * b}, Y3)
			VPSIGNB(Y0, Y3, Y3)
			VPMADDUBSW(Y3, Y1, Y3)
			VPMADDWD(Y14, Y3, Y3)
			VCVTDQ2PS(Y3, Y3)
			VBROADCASTSS(local.Offset(16*i+4*b), Y4)
			VFMADD231PS(Y4, Y3, acc[2*i+b%2])
		}
	}
	ADDQ(U32(4*t.wbytes), RSI)
	for i, r := range xp {
		ADDQ(U32(4*xbytes), r)
		ADDQ(U32(tailGroup), tp[i])
	}
	SUBQ(U8(4), RCX)
	CMPQ(RCX, U8(4))
	JGE(LabelRef(l("group")))
	Label(l("groupsdone"))
}
