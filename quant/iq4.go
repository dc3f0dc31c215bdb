package quant

import (
	"encoding/binary"
	"math"
)

// IQ4_NL and IQ4_XS: 4-bit indices into a fixed non-linear table of 16
// levels. IQ4_NL has one fp16 scale per 32 values; IQ4_XS has a fp16 scale
// per 256 and a 6-bit scale per 32.

// kvaluesIQ4NL is ggml's kvalues_iq4nl.
var kvaluesIQ4NL = [16]int8{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}

// bestIndexIQ4 returns the index of the level nearest x, the higher one on
// ties, as ggml's best_index_int8 does: it counts the thresholds at or
// below x (a NaN gives 15, as in ggml's search).
func bestIndexIQ4(x float32) uint8 {
	if x != x {
		return 15
	}
	var i uint8
	for _, t := range iq4Thresholds {
		if x >= t {
			i++
		}
	}
	return i
}

// iq4Thresholds[k] is the least float32 x in (v[k], v[k+1]] for which
// best_index_int8 picks k+1 over k, that is for which
// x - v[k] < v[k+1] - x is false in float32 arithmetic. The comparison is
// monotone in x, so the thresholds reproduce ggml's binary search.
var iq4Thresholds = func() (t [15]float32) {
	for k := range t {
		a, b := float32(kvaluesIQ4NL[k]), float32(kvaluesIQ4NL[k+1])
		picksLow := func(x float32) bool { return float32(x-a) < float32(b-x) }
		x := (a + b) / 2
		for picksLow(x) {
			x = math.Nextafter32(x, b)
		}
		for !picksLow(math.Nextafter32(x, a)) {
			x = math.Nextafter32(x, a)
		}
		t[k] = x
	}
	return t
}()

// iq4Scale returns the scale of the 32 values xb as ggml's
// quantize_row_iq4_nl_impl finds it with no importance weights and
// ntry = 7 (the path llama-quantize takes): the weighted least-squares
// scale for the best of 16 trial grids, weights x². Groups whose largest
// magnitude is below 1e-15 get 0.
func iq4Scale(xb []float32) float32 {
	var amax, mx float32
	for _, v := range xb {
		if a := abs32(v); a > amax {
			amax, mx = a, v
		}
	}
	if amax < groupMaxEps {
		return 0
	}
	fit := func(id float32) (sumqx, sumq2 float32) {
		for _, v := range xb {
			q := float32(kvaluesIQ4NL[bestIndexIQ4(float32(id*v))])
			w := float32(v * v)
			sumqx += float32(w * q * v)
			sumq2 += float32(w * q * q)
		}
		return sumqx, sumq2
	}
	d := -mx / float32(kvaluesIQ4NL[0])
	sumqx, sumq2 := fit(1 / d)
	d = 0
	if sumq2 > 0 {
		d = sumqx / sumq2
	}
	best := d * sumqx
	for itry := int32(-7); itry <= 7; itry++ {
		sumqx, sumq2 = fit(float32(itry+int32(kvaluesIQ4NL[0])) / mx)
		if sumq2 > 0 && float32(sumqx*sumqx) > float32(best*sumq2) {
			d = sumqx / sumq2
			best = d * sumqx
		}
	}
	return d
}

// packIQ4 stores the indices of x/d for 32 values: byte j holds values j
// (low nibble) and j+16 (high nibble). id is 1/d, or 0.
func packIQ4(qs []byte, xb []float32, id float32) {
	for j := range 16 {
		qs[j] = bestIndexIQ4(float32(id*xb[j])) | bestIndexIQ4(float32(id*xb[j+16]))<<4
	}
}

// quantizeIQ4_NL follows ggml's quantize_iq4_nl with no importance
// weights. A block is d (fp16) and qs[16].
func quantizeIQ4_NL(dst []byte, src []float32) {
	for b := 0; b < len(src)/QK; b++ {
		xb := src[b*QK : (b+1)*QK]
		out := dst[b*18 : (b+1)*18]
		d := iq4Scale(xb)
		binary.LittleEndian.PutUint16(out, scaleF16(d))
		var id float32
		if d != 0 {
			id = 1 / d
		}
		packIQ4(out[2:], xb, id)
	}
}

func dequantizeIQ4_NL(dst []float32, src []byte) {
	for b := 0; b < len(dst)/QK; b++ {
		in := src[b*18 : (b+1)*18]
		d := FromF16(binary.LittleEndian.Uint16(in))
		y := dst[b*QK : (b+1)*QK]
		for j := range QK / 2 {
			y[j] = d * float32(kvaluesIQ4NL[in[2+j]&0x0f])
			y[j+QK/2] = d * float32(kvaluesIQ4NL[in[2+j]>>4])
		}
	}
}

// quantizeIQ4_XS follows ggml's quantize_iq4_xs with no importance
// weights. A block is d (fp16), scales_h (uint16: high 2 bits of each
// 6-bit scale), scales_l[4] (low 4 bits) and qs[128].
func quantizeIQ4_XS(dst []byte, src []float32) {
	var scales [QKK / 32]float32
	for b := 0; b < len(src)/QKK; b++ {
		x := src[b*QKK : (b+1)*QKK]
		out := dst[b*136 : (b+1)*136]
		var amax, maxScl float32
		for ib := range scales {
			scales[ib] = iq4Scale(x[32*ib : 32*ib+32])
			if a := abs32(scales[ib]); a > amax {
				amax, maxScl = a, scales[ib]
			}
		}
		d := -maxScl / 32
		binary.LittleEndian.PutUint16(out, scaleF16(d))
		var id float32
		if d != 0 {
			id = 1 / d
		}
		var scalesH uint16
		scalesL := out[4:8]
		for ib := range scales {
			l := clamp(nearestInt(float32(id*scales[ib])), -32, 31)
			dl := d * float32(l)
			var idl float32
			if dl != 0 {
				idl = 1 / dl
			}
			packIQ4(out[8+16*ib:], x[32*ib:32*ib+32], idl)
			l += 32
			if ib%2 == 0 {
				scalesL[ib/2] = byte(l & 0x0f)
			} else {
				scalesL[ib/2] |= byte(l&0x0f) << 4
			}
			scalesH |= uint16(l>>4) << (2 * (ib % 8))
		}
		binary.LittleEndian.PutUint16(out[2:], scalesH)
	}
}

func dequantizeIQ4_XS(dst []float32, src []byte) {
	for b := 0; b < len(dst)/QKK; b++ {
		in := src[b*136 : (b+1)*136]
		d := FromF16(binary.LittleEndian.Uint16(in))
		scalesH := binary.LittleEndian.Uint16(in[2:])
		y := dst[b*QKK : (b+1)*QKK]
		for ib := range QKK / 32 {
			ls := int32((in[4+ib/2]>>(4*(ib%2)))&0x0f) | int32((scalesH>>(2*ib))&3)<<4
			dl := d * float32(ls-32)
			qs := in[8+16*ib : 8+16*ib+16]
			for j := range 16 {
				y[32*ib+j] = dl * float32(kvaluesIQ4NL[qs[j]&0x0f])
				y[32*ib+j+16] = dl * float32(kvaluesIQ4NL[qs[j]>>4])
			}
		}
	}
}
