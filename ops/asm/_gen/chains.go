package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The AVX2 forms follow the two-chain model (package asm's dotQ8_0Chains
// and dotQ4_0Q8_0Chains, the neon-i8mm kernel's too): per block the exact
// int32 sum of the 32 products, converted to float32, times the float32
// product of the two fp16 scales (rounded once), added with a fused
// multiply-add into the even or the odd blocks' chain; at the end the
// first chain plus the second. Unlike the lane model, whose eight lanes a
// block make every product pay a conversion and a multiply-add per four
// values, the chains pay one per block, which lets the prefill form put
// eight tokens side by side in one register (each lane a token), the
// decode form four weight rows (each lane a row; for Q4_0 two blocks of
// them, avx2ChainsR4Q4) and the single-row form four blocks (each lane a
// block). The Q8_0 weights go through ggml's sign move (q8SumsShared),
// the Q4_0 nibbles as follows.
//
// The nibbles q (0…15) are VPMADDUBSW's unsigned operand against the
// signed activations: Σ(q-8)·x = Σq·x - 8·Σx, exact for every int8 x. A
// VPMADDUBSW lane (two products) is at most 2·15·128 = 3840 in magnitude,
// so eight of them sum exactly in int16 (30720 < 2^15): the prefill
// form's eight groups of four values, the VPHADDW tree of reduce4.

// g8Block is the size of one block of a group of eight activation rows
// (package asm's group8Block): 256 bytes of values, dword j of row t at
// 32·j + 4·t; eight float32 scales; eight int32 sums 8·Σx.
const g8Block = 320

// avx2ChainsG8 emits the Q4_0 prefill form (g8Form). Per block the
// nibbles of the payload (Y4), low (Y5) and high (Y6) with both halves
// alike, give each group of four values by a VPSHUFD (Y7 Y10 Y12 Y13);
// VPMADDUBSW with the eight rows' values, summed in int16 (Y8 Y9), then
// VPMADDWD of ones (Y14), less 8·Σx, give the block's sums. Y15 holds 0x0f
// bytes.
func avx2ChainsG8(t wtype) {
	tmp := []VecPhysical{Y7, Y10, Y12, Y13}
	g8Form(t, func() {
		broadcastD(0x00010001, EDX, X14, Y14)
		broadcastD(0x0f0f0f0f, EDX, X15, Y15)
	}, func(b int) VecPhysical {
		wo, gob := b*t.wbytes, b*g8Block
		VBROADCASTI128(Mem{Base: RSI, Disp: wo + 2}, Y4)
		VPAND(Y15, Y4, Y5)
		VPSRLW(U8(4), Y4, Y6)
		VPAND(Y15, Y6, Y6)
		for j := range 8 {
			src := Y5
			if j >= 4 {
				src = Y6
			}
			tv := tmp[j%4]
			VPSHUFD(U8(uint8(j%4*0x55)), src, tv)
			x := Mem{Base: RDI, Disp: gob + 32*j}
			switch j {
			case 0:
				VPMADDUBSW(x, tv, Y8)
			case 1:
				VPMADDUBSW(x, tv, Y9)
			default:
				VPMADDUBSW(x, tv, tv)
				VPADDW(tv, []VecPhysical{Y8, Y9}[j%2], []VecPhysical{Y8, Y9}[j%2])
			}
		}
		VPADDW(Y9, Y8, Y8)
		VPMADDWD(Y14, Y8, Y8)
		VPSUBD(Mem{Base: RDI, Disp: gob + 288}, Y8, Y8)
		return Y8
	})
}

// g8Form emits the prefill form of t: one weight row against a group of
// eight activation rows, each lane of a register a row (token). It loads
// SI (the weights), DI (the group), CX (the blocks) and AX (the output),
// calls consts, zeroes the chains Y0 (even blocks) and Y1 (odd), and runs
// the blocks two at a time: block(b) (b = 0, 1 within the step) leaves the
// block's eight exact int32 sums in the register it returns, which g8Form
// converts, multiplies by the scale products (Y11) and adds to the chain.
func g8Form(t wtype, consts func(), block func(b int) VecPhysical) {
	name := t.name + "g8AVX2"
	TEXT(name, NOSPLIT, "func(w, grp *byte, nblocks int, out *[8]float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s sets out[t] to the two-chain product of nblocks ≥ 1 weight blocks at w with row t of the group of eight activation rows at grp (AVX2).", name))
	Load(Param("w"), RSI)
	Load(Param("grp"), RDI)
	Load(Param("nblocks"), RCX)
	Load(Param("out"), RAX)
	consts()
	acc := []VecPhysical{Y0, Y1}
	for _, a := range acc {
		VXORPS(a, a, a)
	}
	step := func(b int) {
		s := block(b)
		VCVTDQ2PS(s, s)
		VCVTPH2PS(Mem{Base: RSI, Disp: b * t.wbytes}, X11)
		VBROADCASTSS(X11, Y11)
		VMULPS(Mem{Base: RDI, Disp: b*g8Block + 256}, Y11, Y11)
		VFMADD231PS(Y11, s, acc[b%2])
	}
	l := func(s string) string { return name + "_" + s }
	SUBQ(U8(2), RCX)
	JL(LabelRef(l("tail")))
	Label(l("loop"))
	step(0)
	step(1)
	ADDQ(U32(2*t.wbytes), RSI)
	ADDQ(U32(2*g8Block), RDI)
	SUBQ(U8(2), RCX)
	JGE(LabelRef(l("loop")))
	Label(l("tail"))
	ADDQ(U8(2), RCX)
	JZ(LabelRef(l("done")))
	step(0)
	Label(l("done"))
	VADDPS(Y1, Y0, Y0)
	VMOVUPS(Y0, Mem{Base: RAX})
	VZEROUPPER()
	RET()
}

// gatherScalesN sets the float32 lanes of x to the n ≤ 4 fp16 scales at
// at(0)…at(n-1), the lanes past n to zero, through the general register g.
func gatherScalesN(at func(b int) Mem, n int, g GPPhysical, x VecPhysical) {
	gatherWords(at, n, g)
	VMOVQ(g, x)
	VCVTPH2PS(x, x)
}

// gatherWords sets the general register g to the n ≤ 4 16-bit words at
// at(0)…at(n-1), word i in bits 16i…16i+15, the words past n zero.
func gatherWords(at func(b int) Mem, n int, g GPPhysical) {
	MOVWQZX(at(n-1), g)
	for b := n - 2; b >= 0; b-- {
		SHLQ(U8(16), g)
		MOVW(at(b), g.As16())
	}
}

// reduce4 sets the low 128 bits of l[0] to the int32 sums of the 16 int16
// lanes of each of l[0…3], in order (the lanes of one register summing to
// less than 2^15 in magnitude, as every partial sum then does); l[1…3]
// are clobbered; Y14 holds int16 ones.
func reduce4(l []VecPhysical) {
	VPHADDW(l[1], l[0], l[0])
	VPHADDW(l[3], l[2], l[2])
	VPHADDW(l[2], l[0], l[0])
	VPMADDWD(Y14, l[0], l[0])
	VEXTRACTI128(U8(1), l[0], l[1].AsX())
	VPADDD(l[1].AsX(), l[0].AsX(), l[0].AsX())
}

// reduce4D sets the low 128 bits of l[0] to the int32 sums of the eight
// int32 lanes of each of l[0…3], in order; l[1…3] are clobbered.
func reduce4D(l []VecPhysical) {
	VPHADDD(l[1], l[0], l[0])
	VPHADDD(l[3], l[2], l[2])
	VPHADDD(l[2], l[0], l[0])
	VEXTRACTI128(U8(1), l[0], l[1].AsX())
	VPADDD(l[1].AsX(), l[0].AsX(), l[0].AsX())
}

// q8Sums sets the eight int32 lanes of l to the sums of four products
// each of the Q8_0 weights at w and the activations at x (lane l values
// 4l…4l+3), using tmp; Y14 holds int16 ones.
func q8Sums(w, x Mem, l, tmp VecPhysical) {
	VMOVDQU(x, l)
	q8SumsShared(w, l, l, tmp)
}

// q8SumsShared is q8Sums of the activations in the register x, which it
// leaves unchanged unless it is l. The integer core is ggml's
// mul_sum_i8_pairs: the weights' signs move onto the activations (VPSIGNB)
// and |w| ≤ 128 is the unsigned operand of VPMADDUBSW, then VPMADDWD of
// ones. It is exact because quantized activations lie in [-127, 127]
// (Traits.Quantize), so x·sign(w) does not overflow and a pair sums to at
// most 2·128·127 < 2^15.
func q8SumsShared(w Mem, x, l, tmp VecPhysical) {
	VMOVDQU(w, tmp)
	VPSIGNB(tmp, x, l)
	VPABSB(tmp, tmp)
	VPMADDUBSW(l, tmp, l)
	VPMADDWD(Y14, l, l)
}

// q4Pairs sets l to the 16 int16 pair sums of the nibbles q (0…15) of the
// Q4_0 block whose payload is at w times the Q8_0 values at x (at most
// 2·15·128 in magnitude); Y12 holds the q4shift counts, Y15 0x0f bytes.
func q4Pairs(w, x Mem, l VecPhysical) {
	VBROADCASTI128(w, l)
	VPSRLVD(Y12, l, l)
	VPAND(Y15, l, l)
	VPMADDUBSW(x, l, l)
}

// chainsStep adds the products of the four float32 block sums s and
// scale products d (lanes 0…3, blocks in order) to the chains in lanes 0
// (even blocks) and 1 (odd) of acc: blocks 0 and 1, then 2 and 3. Lanes
// 2 and 3 of acc are left meaningless; s and d are clobbered.
func chainsStep(s, d, acc VecPhysical) {
	VFMADD231PS(d, s, acc)
	VMOVHLPS(s, s, s)
	VMOVHLPS(d, d, d)
	VFMADD231PS(d, s, acc)
}

// chainsLoop emits the loop over groups of four blocks shared by the
// single-row and decode forms: group(n) handles the next n ≤ 4 blocks
// and advance(n) moves past them; CX holds the blocks left.
func chainsLoop(l func(string) string, group, advance func(n int)) {
	SUBQ(U8(4), RCX)
	JL(LabelRef(l("tail")))
	Label(l("loop"))
	group(4)
	advance(4)
	SUBQ(U8(4), RCX)
	JGE(LabelRef(l("loop")))
	Label(l("tail"))
	ADDQ(U8(4), RCX)
	JZ(LabelRef(l("done")))
	CMPQ(RCX, U8(2))
	JL(LabelRef(l("one")))
	JE(LabelRef(l("two")))
	group(3)
	JMP(LabelRef(l("done")))
	Label(l("two"))
	group(2)
	JMP(LabelRef(l("done")))
	Label(l("one"))
	group(1)
	Label(l("done"))
}

// r4Advance returns the decode forms' advance for chainsLoop: the four
// rows wp and the activations past n blocks.
func r4Advance(t wtype, wp []GPPhysical) func(n int) {
	return func(n int) {
		for _, r := range wp {
			ADDQ(U32(n*t.wbytes), r)
		}
		ADDQ(U32(n*xbytes), RDI)
	}
}

// chainsConsts loads the constants of the single-row and decode forms.
func chainsConsts() {
	broadcastD(0x00010001, EDX, X14, Y14)
	broadcastD(0x0f0f0f0f, EDX, X15, Y15)
	broadcastD(0x08080808, EDX, X13, Y13)
	VMOVDQU(q4shift, Y12)
}

// avx2ChainsX1 emits the single-row form: four blocks per step, each
// block's pair sums Σ(q-8)·x (VPMADDUBSW of the nibbles with x less that
// of eights with x, in int16: at most 2·8·128) reduced to one sum per
// block (lanes 0…3 of X1), times the four scale products, added to the
// two chains in X0.
// Registers: SI the weights, DI the activations, CX the blocks left,
// Y1…Y4 a step's lanes, Y5 8·x, X6 X7 the scales, DX BX gathering them;
// Y12…Y15 the constants of chainsConsts.
func avx2ChainsX1(t wtype) {
	name := t.name + "AVX2"
	TEXT(name, NOSPLIT, signature(1))
	Pragma("noescape")
	Doc(fmt.Sprintf("%s returns the two-chain product of nblocks ≥ 1 weight blocks at w with the Q8_0 blocks at x (AVX2).", name))
	Load(Param("w"), RSI)
	Load(Param("x"), RDI)
	Load(Param("nblocks"), RCX)
	chainsConsts()
	VXORPS(X0, X0, X0)
	ls := []VecPhysical{Y1, Y2, Y3, Y4}
	group := func(n int) {
		for b, l := range ls {
			if b >= n {
				VPXOR(l, l, l)
				continue
			}
			x := Mem{Base: RDI, Disp: b*xbytes + 2}
			if !t.q4 {
				q8Sums(Mem{Base: RSI, Disp: b*t.wbytes + 2}, x, l, Y5)
				continue
			}
			q4Pairs(Mem{Base: RSI, Disp: b*t.wbytes + 2}, x, l)
			VPMADDUBSW(x, Y13, Y5)
			VPSUBW(Y5, l, l)
		}
		if t.q4 {
			reduce4(ls)
		} else {
			reduce4D(ls)
		}
		VCVTDQ2PS(X1, X1)
		gatherScalesN(func(b int) Mem { return Mem{Base: RSI, Disp: b * t.wbytes} }, n, RDX, X6)
		gatherScalesN(func(b int) Mem { return Mem{Base: RDI, Disp: b * xbytes} }, n, RBX, X7)
		VMULPS(X7, X6, X6)
		chainsStep(X1, X6, X0)
	}
	advance := func(n int) {
		ADDQ(U32(n*t.wbytes), RSI)
		ADDQ(U32(n*xbytes), RDI)
	}
	chainsLoop(func(s string) string { return name + "_" + s }, group, advance)
	VMOVSHDUP(X0, X1)
	VADDSS(X1, X0, X0)
	VZEROUPPER()
	Store(X0, ReturnIndex(0))
	RET()
}

// avx2ChainsR4 emits the Q8_0 decode form: four weight rows (stride bytes
// apart) against one activation row, each result the single-row form's
// bit for bit. Here a register's lanes are the rows: per block the four
// rows' sums (q8SumsShared, reduce4D), times the four rows' scale
// products, go into the even or the odd blocks' chains with one
// multiply-add. Registers: SI R8 R9 R10 the rows, DI the activations, CX
// the blocks left, AX the output, R12 the prefetch pointer (r4Entry); X0
// X1 the chains (lane i row i), Y2 a block's activations, Y4…Y7 the rows'
// sums, X3 X10 the activation scales and one broadcast, X9 the rows'
// scales, BX DX gathering scales; Y14 int16 ones.
func avx2ChainsR4(t wtype) {
	name := t.name + "r4AVX2"
	wp := r4Entry(name, "single-row AVX2", "")
	broadcastD(0x00010001, EDX, X14, Y14)
	VXORPS(X0, X0, X0)
	VXORPS(X1, X1, X1)
	ls := []VecPhysical{Y4, Y5, Y6, Y7}
	group := func(n int) {
		if n == 4 {
			prefetchR4Step(t)
		}
		gatherScalesN(func(b int) Mem { return Mem{Base: RDI, Disp: b * xbytes} }, n, RBX, X3)
		for b := range n {
			VMOVDQU(Mem{Base: RDI, Disp: b*xbytes + 2}, Y2)
			for i, r := range wp {
				q8SumsShared(Mem{Base: r, Disp: b*t.wbytes + 2}, Y2, ls[i], Y8)
			}
			reduce4D(ls)
			VCVTDQ2PS(X4, X4)
			gatherScalesN(func(i int) Mem { return Mem{Base: wp[i], Disp: b * t.wbytes} }, 4, RDX, X9)
			VPSHUFD(U8(uint8(b*0x55)), X3, X10)
			VMULPS(X10, X9, X9)
			VFMADD231PS(X9, X4, []VecPhysical{X0, X1}[b%2])
		}
	}
	chainsLoop(func(s string) string { return name + "_" + s }, group, r4Advance(t, wp))
	VADDPS(X1, X0, X0)
	VMOVUPS(X0, Mem{Base: RAX})
	VZEROUPPER()
	RET()
}

// avx2ChainsR4Q4 emits the Q4_0 decode form (avx2ChainsR4's contract)
// with two weight rows to a register, one in each 128-bit half, so that
// the sums of two blocks of four rows come out of one short tree.
//
// Per block, the payloads of rows 0 and 1 (and of rows 2 and 3) share a
// register; its low nibbles against the first 16 activations (broadcast
// to both halves, Y1) and its high nibbles against the last 16 (Y2) give
// by VPMADDUBSW and VPADDW eight int16 lanes a row, less those of eight
// times the activations (Y3) so that each lane is Σ(q-8)·x over four
// values: at most 4·8·128 in magnitude. VPHADDW of the two row pairs (Y4
// Y5), then of an even block's result (Y9) with the odd one's, and
// VPMADDWD of ones leave the eight int32 sums of the two blocks in Y9:
// lanes [row 0, row 2] of the even block, the same of the odd block, in
// the low half; rows 1 and 3 likewise in the high half (the partial sums
// stay below 16·8·128 = 2^14 in int16). Their scale products, gathered
// in the same order (Y10, Y11), make one multiply-add into Y0, whose
// lanes are the even and odd chains of each row.
// Registers: SI R8 R9 R10 the rows, DI the activations, CX the blocks
// left, AX the output, R12 the prefetch pointer (r4Entry); DX BX R11
// gathering scales; Y6 Y7 Y8 temporaries; Y13 eights, Y14 int16 ones,
// Y15 0x0f bytes.
func avx2ChainsR4Q4(t wtype) {
	name := t.name + "r4AVX2"
	wp := r4Entry(name, "single-row AVX2", "")
	broadcastD(0x00010001, EDX, X14, Y14)
	broadcastD(0x0f0f0f0f, EDX, X15, Y15)
	broadcastD(0x08080808, EDX, X13, Y13)
	VXORPS(Y0, Y0, Y0)
	// pair sets dst to the int16 lanes of rows a (low half) and b (high
	// half) of block bi; Y1 Y2 Y3 hold the block's activations and eights
	// times them.
	pair := func(bi int, a, b GPPhysical, dst, tmp VecPhysical) {
		wo := bi*t.wbytes + 2
		VMOVDQU(Mem{Base: a, Disp: wo}, dst.AsX())
		VINSERTI128(U8(1), Mem{Base: b, Disp: wo}, dst, dst)
		VPSRLW(U8(4), dst, tmp)
		VPAND(Y15, tmp, tmp)
		VPAND(Y15, dst, dst)
		VPMADDUBSW(Y1, dst, dst)
		VPMADDUBSW(Y2, tmp, tmp)
		VPADDW(tmp, dst, dst)
		VPSUBW(Y3, dst, dst)
	}
	// block leaves in dst the VPHADDW of block bi's two row pairs.
	block := func(bi int, dst VecPhysical) {
		xo := bi*xbytes + 2
		VBROADCASTI128(Mem{Base: RDI, Disp: xo}, Y1)
		VBROADCASTI128(Mem{Base: RDI, Disp: xo + 16}, Y2)
		VPMADDUBSW(Y1, Y13, Y3)
		VPMADDUBSW(Y2, Y13, Y6)
		VPADDW(Y6, Y3, Y3)
		pair(bi, wp[0], wp[1], dst, Y7)
		pair(bi, wp[2], wp[3], Y5, Y8)
		VPHADDW(Y5, dst, dst)
	}
	// blocks adds the products of blocks b0 and b0+1 (b0 alone if one).
	blocks := func(b0 int, two bool) {
		block(b0, Y9)
		if two {
			block(b0+1, Y4)
		} else {
			VPXOR(Y4, Y4, Y4)
		}
		VPHADDW(Y4, Y9, Y9)
		VPMADDWD(Y14, Y9, Y9)
		VCVTDQ2PS(Y9, Y9)
		// Scale words in the sums' order: word i of block b0 + i/2, of
		// row a for even i and row b for odd i.
		words := 4
		if !two {
			words = 2
		}
		rows := func(a, b GPPhysical) func(int) Mem {
			return func(i int) Mem {
				r := a
				if i%2 == 1 {
					r = b
				}
				return Mem{Base: r, Disp: (b0 + i/2) * t.wbytes}
			}
		}
		gatherWords(rows(wp[0], wp[2]), words, RDX)
		gatherWords(rows(wp[1], wp[3]), words, RBX)
		VMOVQ(RDX, X10)
		VPINSRQ(U8(1), RBX, X10, X10)
		VCVTPH2PS(X10, Y10)
		gatherWords(func(i int) Mem { return Mem{Base: RDI, Disp: (b0 + i/2) * xbytes} }, words, R11)
		VMOVQ(R11, X11)
		VPUNPCKLQDQ(X11, X11, X11)
		VCVTPH2PS(X11, Y11)
		VMULPS(Y11, Y10, Y10)
		VFMADD231PS(Y10, Y9, Y0)
	}
	group := func(n int) {
		if n == 4 {
			prefetchR4Step(t)
		}
		for b0 := 0; b0 < n; b0 += 2 {
			blocks(b0, b0+1 < n)
		}
	}
	chainsLoop(func(s string) string { return name + "_" + s }, group, r4Advance(t, wp))
	// Y0: [r0 even, r2 even, r0 odd, r2 odd | r1 …, r3 …]; each row's
	// result is its even chain plus its odd one.
	VEXTRACTF128(U8(1), Y0, X1)
	VMOVHLPS(X0, X0, X2)
	VADDPS(X2, X0, X0)
	VMOVHLPS(X1, X1, X2)
	VADDPS(X2, X1, X1)
	VUNPCKLPS(X1, X0, X0)
	VMOVUPS(X0, Mem{Base: RAX})
	VZEROUPPER()
	RET()
}

// avx2ChainsG8Q8 emits the Q8_0 prefill form (g8Form). The weights are
// signed, so each group of four values takes ggml's sign move, as in
// q8SumsShared: the dword broadcast from memory (Y3 or Y6), its
// absolute value the unsigned operand of VPMADDUBSW (Y4 Y7), the eight
// rows' values (Y5 Y8) carrying its signs (VPSIGNB). A lane's pair sum is
// at most 2·128·127, so every group of four values goes to int32 at once
// (VPMADDWD of ones, Y14) and adds to the block's sums (Y9 Y10).
func avx2ChainsG8Q8(t wtype) {
	sets := [][3]VecPhysical{{Y3, Y4, Y5}, {Y6, Y7, Y8}}
	sums := []VecPhysical{Y9, Y10}
	g8Form(t, func() { broadcastD(0x00010001, EDX, X14, Y14) }, func(b int) VecPhysical {
		wo, gob := b*t.wbytes, b*g8Block
		for j := range 8 {
			s := sets[j%2]
			VPBROADCASTD(Mem{Base: RSI, Disp: wo + 2 + 4*j}, s[0])
			VPABSB(s[0], s[1])
			VMOVDQU(Mem{Base: RDI, Disp: gob + 32*j}, s[2])
			VPSIGNB(s[0], s[2], s[2])
			VPMADDUBSW(s[2], s[1], s[2])
			if j < 2 {
				VPMADDWD(Y14, s[2], sums[j])
			} else {
				VPMADDWD(Y14, s[2], s[2])
				VPADDD(s[2], sums[j%2], sums[j%2])
			}
		}
		VPADDD(Y10, Y9, Y9)
		return Y9
	})
}
