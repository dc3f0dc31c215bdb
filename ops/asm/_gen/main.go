// Command _gen writes the amd64 assembly of package asm's Q8_0·Q8_0 and
// Q4_0·Q8_0 dot products (q8_0_amd64.s and its Go declarations) with avo:
// for AVX2 the forms of the chain model for both types (chains.go:
// single-row, four-weight-row decode and eight-token prefill); for
// AVX-512 (F, BW, VL) with VNNI the single-, two- and four-row forms of
// both types (the two- and four-row forms, like the eight-activation-row
// prefill forms, in x8.go) and their four-weight-row decode forms (r4.go).
//
// Every AVX-512 form follows the lane model bit for bit (each form the
// same kernel's single-row one): per 32-value block eight exact int32 lane
// sums (lane l holds values 4l…4l+3), converted to float32, multiplied by
// the float32 product of the two fp16 scales (rounded once) and added with
// a fused multiply-add into one of two accumulators, even blocks into the
// first and odd ones into the second; at the end the two are added and
// reduced as ((s0+s4)+(s1+s5)) + ((s2+s6)+(s3+s7)). Package asm's dotQ8_0Lanes and
// dotQ4_0Q8_0Lanes are the Go models of that order.
//
// The AVX-512 forms hold two blocks per 512-bit register: the even block
// in lanes 0…7 and the odd one in lanes 8…15, so one accumulator register
// carries both accumulators and a pair costs one VPDPBUSD and one fused
// multiply-add.
package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
)

// wtype describes one weight block type; activations are always Q8_0.
type wtype struct {
	name   string // routine name prefix
	wbytes int    // bytes per weight block
	q4     bool   // Q4_0 nibbles (else Q8_0 int8)
}

var (
	q8_0 = wtype{"q8_0", 34, false}
	q4_0 = wtype{"q4_0Q8_0", 18, true}
)

// xbytes is the size of a Q8_0 activation block.
const xbytes = 34

// tailGroup is the size of one group of four blocks in the tail of an
// activation row (package asm's q8_0TailGroup): 128 values, the same plus
// 128, four float32 scales.
const tailGroup = 272

func main() {
	ConstraintExpr("!purego")
	avx2Consts()
	avx512Consts()
	avx2ChainsX1(q8_0)
	avx2ChainsR4(q8_0)
	avx2ChainsX1(q4_0)
	avx2ChainsR4Q4(q4_0)
	avx2ChainsG8Q8(q8_0)
	avx2ChainsG8(q4_0)
	avx2Group8()
	for _, t := range []wtype{q8_0, q4_0} {
		avx512X1(t)
		avx512Rows(t, 4)
		avx512Rows(t, 2)
		avx512R4(t)
		avx512X8(t)
	}
	Generate()
}

// signature returns the Go signature of a form for rows activation rows.
func signature(rows int) string {
	switch rows {
	case 1:
		return "func(w, x *byte, nblocks int) float32"
	case 2:
		return "func(w, x0, x1 *byte, nblocks int, out *[2]float32)"
	default:
		return "func(w, x0, x1, x2, x3 *byte, nblocks int, out *[4]float32)"
	}
}

// broadcastD sets every dword of y to v, through the general register g.
func broadcastD(v uint32, g, x, y Op) {
	MOVL(U32(v), g)
	VMOVD(g, x)
	VPBROADCASTD(x, y)
}
