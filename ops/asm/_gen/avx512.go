package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The AVX-512 forms (F, BW, VL, VNNI). A pair of blocks fills a 512-bit
// register, the even block in lanes 0…7 and the odd one in lanes 8…15, so
// one accumulator register holds both accumulators of the AVX2 form, lane
// for lane. The integer core is VPDPBUSD (unsigned bytes × signed bytes,
// four products per int32 lane, no saturation): for Q8_0 the weights'
// magnitudes against the activations negated where the weight is negative
// (VPMOVB2M, then a masked VPSUBB from zero), exact for activations in
// [-127, 127]; for Q4_0 Σq·x - Σ8·x with the nibbles q as the unsigned
// operand. Four blocks' scales are gathered, the weights' with one word
// permutation (VPERMW, or VPERMT2W for Q8_0), the activations' with four
// 16-bit loads (gatherScalesN), converted and multiplied as four float32 lanes,
// then spread to the pairs' lanes with VPERMPS: the same single rounding
// per product as the AVX2 form's VMULSS.
//
// Registers: Z31 zero, Z30 0x0f bytes, Z29 the nibble shift counts, Z28
// eights, Z27 the word indices of the weights' scales, Z25 and Z24 the
// lane indices of the first and second pair; K2 selects lanes 8…15, K3
// lanes 0…7; Z8… the accumulators.

var shift512, idxQ8, idxQ4, idxPair0, idxPair1 Mem

// avx512Consts emits the tables the AVX-512 forms load.
func avx512Consts() {
	shift512 = GLOBL("shift512", RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		DATA(4*i, U32(uint32(i%8/4*4)))
	}
	// Words 0…3 pick the scales of four consecutive blocks.
	idxQ8 = wordIndex("idxQ8", xbytes)
	idxQ4 = wordIndex("idxQ4", q4_0.wbytes)
	// Dwords: lane 0 for lanes 0…7 and lane 1 for 8…15; lanes 2 and 3.
	idxPair0 = GLOBL("idxPair0", RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		DATA(4*i, U32(uint32(i/8)))
	}
	idxPair1 = GLOBL("idxPair1", RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		DATA(4*i, U32(uint32(2+i/8)))
	}
}

// wordIndex emits 32 word indices, the first four those of the scales of
// four consecutive blocks of stride bytes.
func wordIndex(name string, stride int) Mem {
	m := GLOBL(name, RODATA|NOPTR)
	for i := 0; i < 32; i++ {
		v := 0
		if i < 4 {
			v = i * stride / 2
		}
		DATA(2*i, U16(uint16(v)))
	}
	return m
}

// scales4 sets the four float32 lanes of x (z its 512-bit register) to the
// scales of the four blocks at base, blocks of stride bytes.
func scales4(base GPPhysical, stride int, idx, z, x Op) {
	if stride == xbytes {
		VMOVDQU64(Mem{Base: base}, z)
		VPERMT2W(Mem{Base: base, Disp: 64}, idx, z)
	} else {
		VPERMW(Mem{Base: base}, idx, z)
	}
	VCVTPH2PS(x, x)
}

// pairW loads the pair of weight blocks at wo(SI) into w for pairX: for
// Q8_0 their magnitudes, with their signs in k; for Q4_0 their nibbles.
func pairW(t wtype, wo int, w VecPhysical, k Op) {
	if t.q4 {
		VBROADCASTI32X4(Mem{Base: RSI, Disp: wo + 2}, w)
		VBROADCASTI32X4(Mem{Base: RSI, Disp: wo + t.wbytes + 2}, K2, w)
		VPSRLVD(Z29, w, w)
		VPANDD(Z30, w, w)
		return
	}
	VMOVDQU32(Mem{Base: RSI, Disp: wo + 2}, w.AsY())
	VINSERTI64X4(U8(1), Mem{Base: RSI, Disp: wo + t.wbytes + 2}, w, w)
	VPMOVB2M(w, k)
	VPABSB(w, w)
}

// pairX sets the float32 lanes f to the exact lane sums of the weight pair
// w (and k) · the activation pair at xo(xb), using x and g.
func pairX(t wtype, xb GPPhysical, xo int, w VecPhysical, k Op, x, f, g VecPhysical) {
	VMOVDQU32(Mem{Base: xb, Disp: xo + 2}, x.AsY())
	VINSERTI64X4(U8(1), Mem{Base: xb, Disp: xo + xbytes + 2}, x, x)
	dots(t, true, w, k, x, f, g)
}

// dots sets the float32 lanes f to the exact lane sums of the weights w
// (and k) · the activations x (clobbered for Q8_0), using g, in 512-bit
// registers if wide, else in their 256-bit halves.
func dots(t wtype, wide bool, w VecPhysical, k Op, x, f, g VecPhysical) {
	zero, eights := Z31.AsY(), Z28.AsY()
	if wide {
		zero, eights = Z31, Z28
	} else {
		w, x, f, g = w.AsY().(VecPhysical), x.AsY().(VecPhysical), f.AsY().(VecPhysical), g.AsY().(VecPhysical)
	}
	VPXORD(f, f, f)
	if t.q4 {
		VPDPBUSD(x, w, f)
		VPXORD(g, g, g)
		VPDPBUSD(x, eights, g)
		VPSUBD(g, f, f)
	} else {
		VPSUBB(x, zero, k, x)
		VPDPBUSD(x, w, f)
	}
	VCVTDQ2PS(f, f)
}

// avx512Setup loads the masks and constants of the register plan, using
// the general register g.
func avx512Setup(t wtype, g GPPhysical) {
	MOVL(U32(0xff00), g)
	KMOVW(g, K2)
	MOVL(U32(0x00ff), g)
	KMOVW(g, K3)
	VPXORD(Z31, Z31, Z31)
	widx := idxQ8
	if t.q4 {
		MOVL(U32(0x0f0f0f0f), g)
		VPBROADCASTD(g, Z30)
		MOVL(U32(0x08080808), g)
		VPBROADCASTD(g, Z28)
		VMOVDQU64(shift512, Z29)
		widx = idxQ4
	}
	VMOVDQU64(widx, Z27)
	VMOVDQU64(idxPair0, Z25)
	VMOVDQU64(idxPair1, Z24)
}

// avx512X1 emits the single-row form of t: four blocks per iteration,
// then a pair, then a last block, as the AVX2 single-row form groups them.
// The multi-row forms are avx512Rows'.
func avx512X1(t wtype) {
	name := t.name + "AVX512"
	TEXT(name, NOSPLIT, signature(1))
	Pragma("noescape")
	Doc(fmt.Sprintf("%s returns the dot product of nblocks ≥ 1 weight blocks at w with the Q8_0 blocks at x (AVX-512 VNNI), equal to the AVX2 form's bit for bit.", name))
	Load(Param("w"), RSI)
	Load(Param("x"), RDI)
	Load(Param("nblocks"), RCX)
	r, acc := RDI, Z8
	VXORPS(acc.AsY(), acc.AsY(), acc.AsY())
	avx512Setup(t, EDX)

	l := func(s string) string { return name + "_" + s }
	advance := func(blocks int) {
		ADDQ(U32(blocks*t.wbytes), RSI)
		ADDQ(U32(blocks*xbytes), r)
	}

	SUBQ(U8(4), RCX)
	JL(LabelRef(l("pair")))
	Label(l("loop4"))
	scales4(RSI, t.wbytes, Z27, Z0, X0)
	pairW(t, 0, Z4, K1)
	pairW(t, 2*t.wbytes, Z16, K4)
	gatherScalesN(func(b int) Mem { return Mem{Base: r, Disp: b * xbytes} }, 4, RDX, X1)
	VMULPS(X1, X0, X1)
	VPERMPS(Z1, Z25, Z2)
	VPERMPS(Z1, Z24, Z3)
	pairX(t, r, 0, Z4, K1, Z5, Z6, Z7)
	VFMADD231PS(Z2, Z6, acc)
	pairX(t, r, 2*xbytes, Z16, K4, Z17, Z18, Z19)
	VFMADD231PS(Z3, Z18, acc)
	advance(4)
	SUBQ(U8(4), RCX)
	JGE(LabelRef(l("loop4")))

	Label(l("pair"))
	ADDQ(U8(2), RCX)
	JL(LabelRef(l("single")))
	VCVTPH2PS(Mem{Base: RSI}, X0)
	VCVTPH2PS(Mem{Base: RSI, Disp: t.wbytes}, X12)
	pairW(t, 0, Z4, K1)
	VCVTPH2PS(Mem{Base: r}, X1)
	VMULSS(X1, X0, X1)
	VCVTPH2PS(Mem{Base: r, Disp: xbytes}, X3)
	VMULSS(X3, X12, X3)
	VBROADCASTSS(X1, Z2)
	VBROADCASTSS(X3, K2, Z2)
	pairX(t, r, 0, Z4, K1, Z5, Z6, Z7)
	VFMADD231PS(Z2, Z6, acc)
	advance(2)
	SUBQ(U8(2), RCX)

	Label(l("single"))
	ADDQ(U8(2), RCX)
	JZ(LabelRef(l("done")))
	VCVTPH2PS(Mem{Base: RSI}, X0)
	if t.q4 {
		VBROADCASTI128(Mem{Base: RSI, Disp: 2}, Y4)
		VPSRLVD(Z29.AsY(), Y4, Y4)
		VPANDD(Z30.AsY(), Y4, Y4)
	} else {
		VMOVDQU(Mem{Base: RSI, Disp: 2}, Y4)
		VPMOVB2M(Y4, K1)
		VPABSB(Y4, Y4)
	}
	VCVTPH2PS(Mem{Base: r}, X1)
	VMULSS(X1, X0, X1)
	VBROADCASTSS(X1, Y2)
	VMOVDQU(Mem{Base: r, Disp: 2}, Y5)
	dots(t, false, Z4, K1, Z5, Z6, Z7)
	VFMADD231PS(Z2, Z6, K3, acc)

	Label(l("done"))
	VEXTRACTF64X4(U8(1), acc, Y1)
	hsumAVX2(acc.AsY(), Y1, acc.AsX(), X1)
	VZEROUPPER()
	Store(acc.AsX(), ReturnIndex(0))
	RET()
}
