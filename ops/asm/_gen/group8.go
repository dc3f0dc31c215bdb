package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// avx2Group8 emits the writer of the prefill form's input (package asm's
// Group8, for eight rows): per block the eight rows' 32 values as an 8×8
// transpose of dwords (VUNPCKLPS/VUNPCKHPS, VUNPCKLPD/VUNPCKHPD,
// VPERM2I128), so that dword j of row t lands at 32·j + 4·t; the rows'
// sums 8·Σx from those registers (VPMADDUBSW of ones, int16 sums of at
// most 8·2·128, VPMADDWD of ones, a shift); the rows' fp16 scales
// gathered through 16-bit loads and converted to float32. Registers: SI
// rows 0…3 and R8 rows 4…7 (at 0, DX, 2·DX, BX = 3·DX), DI the output, CX
// the blocks left; Y15 byte ones, Y14 int16 ones.
func avx2Group8() {
	name := "group8AVX2"
	TEXT(name, NOSPLIT, "func(dst, src *byte, stride, nblocks int)")
	Pragma("noescape")
	Doc(name + " writes the group of the eight Q8_0 activation rows of nblocks ≥ 1 blocks at src + t·stride to dst (AVX2).")
	Load(Param("dst"), RDI)
	Load(Param("src"), RSI)
	Load(Param("stride"), RDX)
	Load(Param("nblocks"), RCX)
	LEAQ(Mem{Base: RDX, Index: RDX, Scale: 2}, RBX)
	LEAQ(Mem{Base: RSI, Index: RDX, Scale: 4}, R8)
	broadcastD(0x01010101, EAX, X15, Y15)
	broadcastD(0x00010001, EAX, X14, Y14)
	row := func(t, disp int) Mem {
		base := RSI
		if t >= 4 {
			base = R8
		}
		m := Mem{Base: base, Disp: disp}
		switch t % 4 {
		case 1:
			m.Index, m.Scale = RDX, 1
		case 2:
			m.Index, m.Scale = RDX, 2
		case 3:
			m.Index, m.Scale = RBX, 1
		}
		return m
	}
	Label(name + "_block")
	for t, y := range []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7} {
		VMOVDQU(row(t, 2), y)
	}
	// Rows (0,1) (2,3) (4,5) (6,7) interleaved by dwords, then by pairs.
	VUNPCKLPS(Y1, Y0, Y8)
	VUNPCKHPS(Y1, Y0, Y9)
	VUNPCKLPS(Y3, Y2, Y0)
	VUNPCKHPS(Y3, Y2, Y1)
	VUNPCKLPS(Y5, Y4, Y2)
	VUNPCKHPS(Y5, Y4, Y3)
	VUNPCKLPS(Y7, Y6, Y4)
	VUNPCKHPS(Y7, Y6, Y5)
	VUNPCKLPD(Y0, Y8, Y6)
	VUNPCKHPD(Y0, Y8, Y7)
	VUNPCKLPD(Y1, Y9, Y8)
	VUNPCKHPD(Y1, Y9, Y0)
	VUNPCKLPD(Y4, Y2, Y9)
	VUNPCKHPD(Y4, Y2, Y1)
	VUNPCKLPD(Y5, Y3, Y2)
	VUNPCKHPD(Y5, Y3, Y4)
	// Dwords j and j+4 of rows 0…3 and of rows 4…7: u[j] and v[j].
	u := []VecPhysical{Y6, Y7, Y8, Y0}
	v := []VecPhysical{Y9, Y1, Y2, Y4}
	for j := range 4 {
		for _, h := range []int{0, 1} {
			VPERM2I128(U8(uint8(0x20+0x11*h)), v[j], u[j], Y10)
			VMOVDQU(Y10, Mem{Base: RDI, Disp: 32 * (j + 4*h)})
			if j == 0 && h == 0 {
				VPMADDUBSW(Y10, Y15, Y12)
				continue
			}
			VPMADDUBSW(Y10, Y15, Y11)
			VPADDW(Y11, Y12, Y12)
		}
	}
	VPMADDWD(Y14, Y12, Y12)
	VPSLLD(U8(3), Y12, Y12)
	VMOVDQU(Y12, Mem{Base: RDI, Disp: 288})
	for h, g := range []GPPhysical{RAX, R9} {
		gatherWords(func(t int) Mem { return row(4*h+t, 0) }, 4, g)
	}
	VMOVQ(RAX, X13)
	VPINSRQ(U8(1), R9, X13, X13)
	VCVTPH2PS(X13, Y13)
	VMOVUPS(Y13, Mem{Base: RDI, Disp: 256})
	ADDQ(U8(xbytes), RSI)
	ADDQ(U8(xbytes), R8)
	ADDQ(U32(g8Block), RDI)
	DECQ(RCX)
	JNZ(LabelRef(name + "_block"))
	VZEROUPPER()
	RET()
}
