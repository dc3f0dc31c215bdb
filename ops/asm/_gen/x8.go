package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The AVX-512 multi-row forms: one weight row against eight activation
// rows (stride bytes apart; prefill), or against four or two (pointers; the
// rest of a prefill batch and batched decode), each result equal to the
// single-row AVX-512 form's bit for bit. Per row the float work is the single-row form's, operation
// for operation: the same four-block, pair and last-block steps, the same
// scale products (VMULPS of the four converted scales, VMULSS in the
// tails) spread to the same lanes, one fused multiply-add per pair into the
// row's accumulator, and the same reduction. The integer lane sums are
// exact, so any exact way to get them gives the same floats; each weight
// block is loaded and decoded once for all the rows, and its scales
// converted once:
//   - Q8_0: the single-row form's own integer code, the weights' signs
//     (K1, K4) and magnitudes taken once, each row's activations negated
//     where the weight is negative, so the rows' sums are the single-row
//     form's for every input (for activations in [-127, 127] they are the
//     exact products);
//   - Q4_0: the nibbles less eight as the signed operand against the
//     activations plus 128 (a byte exclusive-or) as the unsigned one,
//     Σ(x+128)·(q-8) - Σ128·(q-8) = Σx·(q-8), the second sum once per
//     weight pair: exact for every int8 activation, as the single-row
//     form's Σq·x - Σ8·x is.
//
// The activations of each whole group of four blocks come from the row's
// tail (package asm's q8_0Tail, written by the quantizer after the
// blocks): the values side by side, so that a pair is one 64-byte load,
// the values plus 128 for Q4_0, and the scales already float32, so that a
// row's four scale products are one VMULPS with a memory operand. The pair
// and last-block steps read the blocks. Against the forms that gathered
// each row's scales and assembled its pairs from the blocks, the Q4_0 forms
// take 0.72-0.78× the time for eight rows and 0.8-0.88× for four and two,
// the Q8_0 ones about 0.85× (768×2048, eight activation rows in L1).
//
// Registers: those of avx512Setup, with Z23 the bytes 0x80 for Q4_0; Z8…
// Z15 the accumulators of the rows. In the eight-row form RDI, R8 and R9
// point at rows 0, 3 and 6 of the current block, RBX, R11 and R12 at their
// tails' current group, and RDX holds the stride, so that every row is one
// addressing mode; in the others RDI, R8, R9 and R10 point at the rows and
// RBX, R11, R12 and R13 at their tails.

// avx512X8 emits the eight-row form of t.
func avx512X8(t wtype) { avx512Rows(t, 8) }

// avx512Rows emits the form of t for rows (8, 4 or 2) activation rows: the
// eight-row one takes a base and a stride, the four- and two-row ones a
// pointer per row (in RDI, R8, R9, R10), with avx512Form's signature.
func avx512Rows(t wtype, rows int) {
	name := fmt.Sprintf("%sx%dAVX512", t.name, rows)
	// row returns the address disp bytes into activation row i.
	var row, tail func(i, disp int) Mem
	var xp []GPPhysical
	tp := []GPPhysical{RBX, R11, R12, R13}
	var g GPPhysical = EDX
	if rows == 8 {
		TEXT(name, NOSPLIT, "func(w, x *byte, stride, nblocks int, out *[8]float32)")
		Pragma("noescape")
		Doc(fmt.Sprintf("%s sets out[i] to the single-row product of the weights at w with the activations at x + i·stride, for nblocks ≥ 1 and the eight rows i < 8 (AVX-512 VNNI).", name))
		Load(Param("w"), RSI)
		Load(Param("x"), RDI)
		Load(Param("stride"), RDX)
		Load(Param("nblocks"), RCX)
		Load(Param("out"), RAX)
		LEAQ(Mem{Base: RDI, Index: RDX, Scale: 2}, R8)
		ADDQ(RDX, R8)
		LEAQ(Mem{Base: R8, Index: RDX, Scale: 2}, R9)
		ADDQ(RDX, R9)
		xp, g = []GPPhysical{RDI, R8, R9}, R10L
		row = func(i, disp int) Mem {
			m := Mem{Base: xp[i/3], Disp: disp}
			if i%3 > 0 {
				m.Index, m.Scale = RDX, uint8(i%3)
			}
			return m
		}
		tp = tp[:3]
		tail = func(i, disp int) Mem {
			m := Mem{Base: tp[i/3], Disp: disp}
			if i%3 > 0 {
				m.Index, m.Scale = RDX, uint8(i%3)
			}
			return m
		}
	} else {
		TEXT(name, NOSPLIT, signature(rows))
		Pragma("noescape")
		Doc(fmt.Sprintf("%s sets out[i] to the single-row product of the weights at w with the activations at xi, for nblocks ≥ 1 (AVX-512 VNNI).", name))
		xp = []GPPhysical{RDI, R8, R9, R10}[:rows]
		Load(Param("w"), RSI)
		for i, r := range xp {
			Load(Param(fmt.Sprintf("x%d", i)), r)
		}
		Load(Param("nblocks"), RCX)
		Load(Param("out"), RAX)
		row = func(i, disp int) Mem { return Mem{Base: xp[i], Disp: disp} }
		tp = tp[:rows]
		tail = func(i, disp int) Mem { return Mem{Base: tp[i], Disp: disp} }
	}
	// Each row's tail (see activations.go) follows its nblocks blocks.
	last := tp[len(tp)-1]
	IMUL3Q(U8(xbytes), RCX, last)
	for i, r := range tp { // the last one last: it holds the offset
		LEAQ(Mem{Base: xp[i], Index: last, Scale: 1}, r)
	}
	acc := []VecPhysical{Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15}[:rows]
	for _, a := range acc {
		VXORPS(a.AsY(), a.AsY(), a.AsY())
	}
	avx512Setup(t, g)
	if t.q4 {
		MOVL(U32(0x80808080), g)
		VPBROADCASTD(g, Z23)
	}

	// wpair loads and decodes the weight pair at wo(SI) into w (and k for
	// Q8_0, c for Q4_0).
	wpair := func(wo int, w VecPhysical, k Op, c VecPhysical) {
		if !t.q4 {
			VMOVDQU32(Mem{Base: RSI, Disp: wo + 2}, w.AsY())
			VINSERTI64X4(U8(1), Mem{Base: RSI, Disp: wo + t.wbytes + 2}, w, w)
			VPMOVB2M(w, k)
			VPABSB(w, w)
			return
		}
		VBROADCASTI32X4(Mem{Base: RSI, Disp: wo + 2}, w)
		VBROADCASTI32X4(Mem{Base: RSI, Disp: wo + t.wbytes + 2}, K2, w)
		VPSRLVD(Z29, w, w)
		VPANDD(Z30, w, w)
		q4Signed(w, c)
	}
	// xpair sets the float32 lanes f to the exact lane sums of the decoded
	// weight pair (w, k, c) · the pair at xo in row i, using x and g.
	xpair := func(i, xo int, w VecPhysical, k Op, c, x, f, g VecPhysical) {
		VMOVDQU32(row(i, xo+2), x.AsY())
		VINSERTI64X4(U8(1), row(i, xo+xbytes+2), x, x)
		x8Dots(t, w, k, c, x, f, g)
	}

	// tpair sets the float32 lanes f to the exact lane sums of the decoded
	// weight pair (w and k for Q8_0, w and c for Q4_0) · pair p of the
	// group at row i's tail, using x and g: for Q8_0 from its values as
	// the single-row form does, for Q4_0 from its values plus 128 as the
	// pair steps' x8Dots do.
	tpair := func(i, p int, w VecPhysical, k Op, c, x, f, g VecPhysical) {
		if t.q4 {
			VMOVDQU64(tail(i, 128+64*p), x)
			VMOVDQA64(c, f)
			VPDPBUSD(w, x, f)
			VCVTDQ2PS(f, f)
			return
		}
		VMOVDQU64(tail(i, 64*p), x)
		dots(t, true, w, k, x, f, g)
	}

	l := func(s string) string { return name + "_" + s }
	advance := func(blocks int) {
		ADDQ(U32(blocks*t.wbytes), RSI)
		for _, r := range xp {
			ADDQ(U32(blocks*xbytes), r)
		}
	}

	SUBQ(U8(4), RCX)
	JL(LabelRef(l("pair")))
	Label(l("loop4"))
	scales4(RSI, t.wbytes, Z27, Z0, X0)
	wpair(0, Z4, K1, Z5)
	wpair(2*t.wbytes, Z16, K4, Z17)
	for i, a := range acc {
		VMULPS(tail(i, 256), X0, X1)
		VPERMPS(Z1, Z25, Z2)
		VPERMPS(Z1, Z24, Z3)
		tpair(i, 0, Z4, K1, Z5, Z6, Z7, Z20)
		VFMADD231PS(Z2, Z7, a)
		tpair(i, 1, Z16, K4, Z17, Z18, Z19, Z21)
		VFMADD231PS(Z3, Z19, a)
	}
	advance(4)
	for _, r := range tp {
		ADDQ(U32(tailGroup), r)
	}
	SUBQ(U8(4), RCX)
	JGE(LabelRef(l("loop4")))

	Label(l("pair"))
	ADDQ(U8(2), RCX)
	JL(LabelRef(l("single")))
	VCVTPH2PS(Mem{Base: RSI}, X0)
	VCVTPH2PS(Mem{Base: RSI, Disp: t.wbytes}, X22)
	wpair(0, Z4, K1, Z5)
	for i, a := range acc {
		VCVTPH2PS(row(i, 0), X1)
		VMULSS(X1, X0, X1)
		VCVTPH2PS(row(i, xbytes), X3)
		VMULSS(X3, X22, X3)
		VBROADCASTSS(X1, Z2)
		VBROADCASTSS(X3, K2, Z2)
		xpair(i, 0, Z4, K1, Z5, Z6, Z7, Z20)
		VFMADD231PS(Z2, Z7, a)
	}
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
		q4Signed(Y4, Y5)
	} else {
		VMOVDQU(Mem{Base: RSI, Disp: 2}, Y4)
		VPMOVB2M(Y4, K1)
		VPABSB(Y4, Y4)
	}
	for i, a := range acc {
		VCVTPH2PS(row(i, 0), X1)
		VMULSS(X1, X0, X1)
		VBROADCASTSS(X1, Y2)
		VMOVDQU(row(i, 2), Y6)
		x8Dots(t, Y4, K1, Y5, Y6, Y7, Y20)
		VFMADD231PS(Z2, Z7, K3, a)
	}

	Label(l("done"))
	for i, a := range acc {
		VEXTRACTF64X4(U8(1), a, Y1)
		hsumAVX2(a.AsY(), Y1, a.AsX(), X1)
		VMOVSS(a.AsX(), Mem{Base: RAX, Disp: 4 * i})
	}
	VZEROUPPER()
	RET()
}

// q4Signed turns the nibbles w (a register of either width) into the
// signed values q-8 and sets c to the lanes' -Σ128·(q-8).
func q4Signed(w, c VecPhysical) {
	eights, m128, zero := Z28.AsY(), Z23.AsY(), Z31.AsY()
	if w.Size() == 64 {
		eights, m128, zero = Z28, Z23, Z31
	}
	VPSUBB(eights, w, w)
	VPXORD(c, c, c)
	VPDPBUSD(w, m128, c)
	VPSUBD(c, zero, c)
}

// x8Dots sets the float32 lanes f to the exact lane sums of the weights
// decoded by avx512X8's wpair (w and k for Q8_0, w and c for Q4_0) · the
// activations x (clobbered), using g, in registers of x's width.
func x8Dots(t wtype, w VecPhysical, k Op, c, x, f, g VecPhysical) {
	if !t.q4 {
		dots(t, x.Size() == 64, w, k, x, f, g)
		return
	}
	m128 := Z23.AsY()
	if x.Size() == 64 {
		m128 = Z23
	}
	VPXORD(m128, x, x)
	VMOVDQA64(c, f)
	VPDPBUSD(w, x, f)
	VCVTDQ2PS(f, f)
}
