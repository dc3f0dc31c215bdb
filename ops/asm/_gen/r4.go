package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The AVX-512 decode forms: four weight rows (stride bytes apart) against
// one activation row, each result equal to the single-row form's bit for
// bit (same pairs, lanes, scale products and accumulation order per row).
// The activation pairs, their scales and their share of the integer sums
// are computed once for the four rows: for Q4_0 the lanes -Σ8·x, which
// VPDPBUSD then adds Σq·x to; for Q8_0 the activations plus 128 as the
// unsigned operand against the signed weights, Σ(x+128)·w - Σ128·w = Σx·w
// exactly (no sign moves per row).

// prefetchR4 is how many groups of four rows ahead the four-row forms
// prefetch the weights: reading four rows side by side, each row's blocks
// are too short a stream for the hardware prefetchers (without it the
// forms read slower from memory than one row per call).
const prefetchR4 = 2

// prefetchBytesR4 is the least distance of that prefetch: two groups of
// four short rows (24 blocks, the experts' down products) are too close
// for memory's latency. With 8 KiB the Q4_0 form read 2048×768 matrices
// from the file's pages (4 KiB, page cache) in 0.85–0.90× the time of two
// groups ahead, 768×2048 ones in 0.95–1.0×; 6 KiB measured the same,
// 12 and 16 KiB slower (one thread, thread CPU time, ten interleaved runs).
const prefetchBytesR4 = 8 << 10

// avx512R4 emits the four-row decode form of t.
func avx512R4(t wtype) {
	name := t.name + "r4AVX512"
	wp := r4Entry(name, "single-row", " (AVX-512 VNNI)")
	acc := []VecPhysical{Z8, Z9, Z10, Z11}
	for _, a := range acc {
		VXORPS(a.AsY(), a.AsY(), a.AsY())
	}
	avx512Setup(t, R11L)
	if !t.q4 {
		MOVL(U32(0x80808080), R11L)
		VPBROADCASTD(R11L, Z28)
	}

	// xpair loads the activation pair at xo(DI) into x and sets s to the
	// rows' shared part of the lane sums (Q4_0) or turns x into the
	// unsigned operand (Q8_0).
	xpair := func(xo int, x, s VecPhysical) {
		VMOVDQU32(Mem{Base: RDI, Disp: xo + 2}, x.AsY())
		VINSERTI64X4(U8(1), Mem{Base: RDI, Disp: xo + xbytes + 2}, x, x)
		xshared(t, x, s)
	}
	// wpair adds the weight pair at wo(b) times the activation pair x (and
	// s), times the scales d, to a; w, f and g are clobbered.
	wpair := func(b GPPhysical, wo int, x, s, d, a, w, f, g VecPhysical) {
		if t.q4 {
			VBROADCASTI32X4(Mem{Base: b, Disp: wo + 2}, w)
			VBROADCASTI32X4(Mem{Base: b, Disp: wo + t.wbytes + 2}, K2, w)
			VPSRLVD(Z29, w, w)
			VPANDD(Z30, w, w)
		} else {
			VMOVDQU32(Mem{Base: b, Disp: wo + 2}, w.AsY())
			VINSERTI64X4(U8(1), Mem{Base: b, Disp: wo + t.wbytes + 2}, w, w)
		}
		rowDots(t, true, w, x, s, f, g)
		VFMADD231PS(d, f, a)
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
	// The activations' four scales through 16-bit loads (gatherScalesN),
	// the weights' through the word permutation: 16-bit loads for them
	// too measured 0.95× in L2 but 1.10–1.15× from memory (768 rows of 24
	// blocks), where each row's four loads wait on its line.
	gatherScalesN(func(b int) Mem { return Mem{Base: RDI, Disp: b * xbytes} }, 4, R13, X1)
	xpair(0, Z5, Z7)
	xpair(2*xbytes, Z17, Z19)
	prefetchR4Step(t)
	for i, r := range wp {
		scales4(r, t.wbytes, Z27, Z0, X0)
		VMULPS(X1, X0, X0)
		VPERMPS(Z0, Z25, Z2)
		VPERMPS(Z0, Z24, Z3)
		wpair(r, 0, Z5, Z7, Z2, acc[i], Z4, Z6, Z12)
		wpair(r, 2*t.wbytes, Z17, Z19, Z3, acc[i], Z16, Z18, Z13)
	}
	advance(4)
	SUBQ(U8(4), RCX)
	JGE(LabelRef(l("loop4")))

	Label(l("pair"))
	ADDQ(U8(2), RCX)
	JL(LabelRef(l("single")))
	VCVTPH2PS(Mem{Base: RDI}, X1)
	VCVTPH2PS(Mem{Base: RDI, Disp: xbytes}, X13)
	xpair(0, Z5, Z7)
	for i, r := range wp {
		VCVTPH2PS(Mem{Base: r}, X0)
		VMULSS(X1, X0, X0)
		VCVTPH2PS(Mem{Base: r, Disp: t.wbytes}, X3)
		VMULSS(X13, X3, X3)
		VBROADCASTSS(X0, Z2)
		VBROADCASTSS(X3, K2, Z2)
		wpair(r, 0, Z5, Z7, Z2, acc[i], Z4, Z6, Z12)
	}
	advance(2)
	SUBQ(U8(2), RCX)

	Label(l("single"))
	ADDQ(U8(2), RCX)
	JZ(LabelRef(l("done")))
	VCVTPH2PS(Mem{Base: RDI}, X1)
	VMOVDQU(Mem{Base: RDI, Disp: 2}, Y5)
	xshared(t, Y5, Y7)
	for i, r := range wp {
		VCVTPH2PS(Mem{Base: r}, X0)
		VMULSS(X1, X0, X0)
		VBROADCASTSS(X0, Y2)
		if t.q4 {
			VBROADCASTI128(Mem{Base: r, Disp: 2}, Y4)
			VPSRLVD(Z29.AsY(), Y4, Y4)
			VPANDD(Z30.AsY(), Y4, Y4)
		} else {
			VMOVDQU(Mem{Base: r, Disp: 2}, Y4)
		}
		rowDots(t, false, Z4, Z5, Z7, Z6, Z12)
		VFMADD231PS(Z2, Z6, K3, acc[i])
	}

	Label(l("done"))
	hsum4(acc, Y1, X1)
	VMOVUPS(acc[0].AsX(), Mem{Base: RAX})
	VZEROUPPER()
	RET()
}

// r4Entry emits the start of the four-row decode form name: its
// declaration (its results those of the kind form, in note), SI R8 R9 R10
// at the four rows, which it returns, DI at the activations, CX the
// blocks, AX the output, and R12 the prefetch pointer: the rows of the
// calls prefetchR4 groups of four rows ahead, or prefetchBytesR4 ahead if
// that is further (prefetchR4Step walks it). DX and R11 are clobbered.
func r4Entry(name, kind, note string) []GPPhysical {
	TEXT(name, NOSPLIT, "func(w *byte, stride int, x *byte, nblocks int, out *[4]float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s sets out[i] to the %s product of the weight row at w + i·stride with the activations at x, for nblocks ≥ 1%s.", name, kind, note))
	Load(Param("w"), RSI)
	Load(Param("stride"), RDX)
	Load(Param("x"), RDI)
	Load(Param("nblocks"), RCX)
	Load(Param("out"), RAX)
	LEAQ(Mem{Base: RSI, Index: RDX, Scale: 1}, R8)
	LEAQ(Mem{Base: R8, Index: RDX, Scale: 1}, R9)
	LEAQ(Mem{Base: R9, Index: RDX, Scale: 1}, R10)
	LEAQ(Mem{Base: RSI, Index: RDX, Scale: 4 * prefetchR4}, R12)
	LEAQ(Mem{Base: RSI, Disp: prefetchBytesR4}, R11)
	CMPQ(R12, R11)
	CMOVQLT(R11, R12)
	return []GPPhysical{RSI, R8, R9, R10}
}

// prefetchR4Step prefetches the next four blocks' bytes of four rows at
// R12 and advances it.
func prefetchR4Step(t wtype) {
	for off := 0; off < 16*t.wbytes; off += 64 {
		PREFETCHT0(Mem{Base: R12, Disp: off})
	}
	ADDQ(U32(16*t.wbytes), R12)
}

// hsum4 reduces each of the four accumulators acc as hsumAVX2 does, with
// the same additions on the same lanes, and leaves the four sums in order
// in acc[0]'s low 128 bits: each row's last two horizontal additions are
// shared with another row's (three VHADDPS for the four rows instead of
// eight), using y and its low half x.
func hsum4(acc []VecPhysical, y, x VecPhysical) {
	for _, a := range acc {
		VEXTRACTF64X4(U8(1), a, y)
		VADDPS(y, a.AsY(), a.AsY())
		VEXTRACTF128(U8(1), a.AsY(), x)
		VADDPS(x, a.AsX(), a.AsX())
	}
	// (s0+s1, s2+s3) of rows 0 and 1, of rows 2 and 3, then each row's
	// (s2+s3) + (s0+s1) in lane i, as the second VHADDPS of hsumAVX2.
	VHADDPS(acc[1].AsX(), acc[0].AsX(), acc[0].AsX())
	VHADDPS(acc[3].AsX(), acc[2].AsX(), acc[2].AsX())
	VHADDPS(acc[2].AsX(), acc[0].AsX(), acc[0].AsX())
}

// xshared prepares the activations x (a register of either width) for
// rowDots: for Q4_0 it sets s to -Σ8·x per lane, for Q8_0 it adds 128 to
// every byte of x.
func xshared(t wtype, x, s Op) {
	if t.q4 {
		eights, zero := Z28.AsY(), Z31.AsY()
		if x.(VecPhysical).Size() == 64 {
			eights, zero = Z28, Z31
		}
		VPXORD(s, s, s)
		VPDPBUSD(x, eights, s)
		VPSUBD(s, zero, s)
		return
	}
	if x.(VecPhysical).Size() == 64 {
		VPXORD(Z28, x, x)
	} else {
		VPXORD(Z28.AsY(), x, x)
	}
}

// rowDots sets the float32 lanes f to the exact lane sums of one row's
// weights w · the activations x prepared by xshared (with s), using g, in
// 512-bit registers if wide, else in their 256-bit halves.
func rowDots(t wtype, wide bool, w, x, s, f, g VecPhysical) {
	m128 := Z28.AsY()
	if wide {
		m128 = Z28
	} else {
		w, x, s, f, g = w.AsY().(VecPhysical), x.AsY().(VecPhysical), s.AsY().(VecPhysical), f.AsY().(VecPhysical), g.AsY().(VecPhysical)
	}
	if t.q4 {
		VMOVDQA64(s, f)
		VPDPBUSD(x, w, f)
	} else {
		VPXORD(f, f, f)
		VPDPBUSD(w, x, f)
		VPXORD(g, g, g)
		VPDPBUSD(w, m128, g)
		VPSUBD(g, f, f)
	}
	VCVTDQ2PS(f, f)
}
