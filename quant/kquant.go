package quant

import (
	"encoding/binary"
	"math"
)

// QKK is the number of values in a K-quant super-block (ggml's QK_K).
const QKK = 256

// groupMaxEps is ggml's GROUP_MAX_EPS: groups whose largest magnitude is
// below it quantize to zero.
const groupMaxEps = float32(1e-15)

// nearestInt rounds v to the nearest integer, ties to even, as ggml's
// nearest_int: adding 1.5·2²³ leaves the integer in the low mantissa bits.
// Like ggml it is meant for |v| < 2²²; larger values give the same
// (meaningless) result as ggml's.
func nearestInt(v float32) int32 {
	f := float32(v) + 12582912
	return int32(math.Float32bits(f)&0x007fffff) - 0x00400000
}

func clamp(v, lo, hi int32) int32 { return max(lo, min(hi, v)) }

func sqrt32(v float32) float32 { return float32(math.Sqrt(float64(v))) }

// makeQxQuants follows ggml's make_qx_quants with rmse_type 1 and no
// importance weights (weights x²): symmetric levels -nmax..nmax-1 stored as
// L+nmax, with the scale refined over 18 trial steps.
func makeQxQuants(nmax int32, x []float32, L []int8) float32 {
	var amax, mx float32
	for _, v := range x {
		if a := abs32(v); a > amax {
			amax, mx = a, v
		}
	}
	if amax < groupMaxEps {
		clear(L)
		return 0
	}
	iscale := float32(-nmax) / mx
	var sumlx, suml2 float32
	for i, v := range x {
		l := clamp(nearestInt(float32(iscale*v)), -nmax, nmax-1)
		L[i] = int8(l + nmax)
		w, fl := float32(v*v), float32(l)
		sumlx += float32(w * v * fl)
		suml2 += float32(w * fl * fl)
	}
	var scale float32
	if suml2 != 0 {
		scale = sumlx / suml2
	}
	best := scale * sumlx
	for is := int32(-9); is <= 9; is++ {
		if is == 0 {
			continue
		}
		iscale = -(float32(nmax) + float32(0.1*float32(is))) / mx
		sumlx, suml2 = 0, 0
		for _, v := range x {
			l := clamp(nearestInt(float32(iscale*v)), -nmax, nmax-1)
			w, fl := float32(v*v), float32(l)
			sumlx += float32(w * v * fl)
			suml2 += float32(w * fl * fl)
		}
		if suml2 > 0 && float32(sumlx*sumlx) > float32(best*suml2) {
			for i, v := range x {
				L[i] = int8(nmax + clamp(nearestInt(float32(iscale*v)), -nmax, nmax-1))
			}
			scale = sumlx / suml2
			best = scale * sumlx
		}
	}
	return scale
}

// makeQ3Quants follows ggml's make_q3_quants with do_rmse: symmetric levels
// refined one value at a time (weights x²), stored as L+nmax.
func makeQ3Quants(nmax int32, x []float32, L []int8) float32 {
	var amax, mx float32
	for _, v := range x {
		if a := abs32(v); a > amax {
			amax, mx = a, v
		}
	}
	if amax < groupMaxEps {
		clear(L)
		return 0
	}
	iscale := float32(-nmax) / mx
	var sumlx, suml2 float32
	for i, v := range x {
		l := clamp(nearestInt(float32(iscale*v)), -nmax, nmax-1)
		L[i] = int8(l)
		w, fl := float32(v*v), float32(l)
		sumlx += float32(w * v * fl)
		suml2 += float32(w * fl * fl)
	}
	for range 5 {
		changed := false
		for i, v := range x {
			w, fl := float32(v*v), float32(L[i])
			slx := sumlx - float32(w*v*fl)
			if !(slx > 0) {
				continue
			}
			sl2 := suml2 - float32(w*fl*fl)
			nl := clamp(nearestInt(float32(v*sl2)/slx), -nmax, nmax-1)
			if nl == int32(L[i]) {
				continue
			}
			fn := float32(nl)
			slx += float32(w * v * fn)
			sl2 += float32(w * fn * fn)
			if sl2 > 0 && float32(slx*slx*suml2) > float32(sumlx*sumlx*sl2) {
				L[i], sumlx, suml2 = int8(nl), slx, sl2
				changed = true
			}
		}
		if !changed {
			break
		}
	}
	for i := range L {
		L[i] += int8(nmax)
	}
	if suml2 > 0 {
		return sumlx / suml2
	}
	return 0
}

// makeQkx2Quants follows ggml's make_qkx2_quants: levels 0..nmax for
// x - min with min <= 0, searching nstep+1 trial scales for the least
// weighted error (absolute when useMad, else squared). It returns the scale
// and -min.
func makeQkx2Quants(nmax int32, x, weights []float32, L, Laux []uint8, rmin, rdelta float32, nstep int, useMad bool) (float32, float32) {
	lo, hi := x[0], x[0]
	sumW := weights[0]
	sumX := float32(sumW * x[0])
	for i := 1; i < len(x); i++ {
		if x[i] < lo {
			lo = x[i]
		}
		if x[i] > hi {
			hi = x[i]
		}
		sumW += weights[i]
		sumX += float32(weights[i] * x[i])
	}
	if lo > 0 {
		lo = 0
	}
	if hi == lo {
		clear(L[:len(x)])
		return 0, -lo
	}
	errOf := func(diff float32) float32 {
		if useMad {
			return abs32(diff)
		}
		return diff * diff
	}
	iscale := float32(nmax) / (hi - lo)
	scale := 1 / iscale
	var bestErr float32
	for i, v := range x {
		L[i] = uint8(clamp(nearestInt(float32(iscale*(v-lo))), 0, nmax))
		diff := float32(scale*float32(L[i])) + lo - v
		bestErr += float32(weights[i] * errOf(diff))
	}
	if nstep < 1 {
		return scale, -lo
	}
	for is := 0; is <= nstep; is++ {
		iscale = (rmin + float32(rdelta*float32(is)) + float32(nmax)) / (hi - lo)
		var sumL, sumL2, sumXL float32
		for i, v := range x {
			l := clamp(nearestInt(float32(iscale*(v-lo))), 0, nmax)
			Laux[i] = uint8(l)
			w, fl := weights[i], float32(l)
			sumL += float32(w * fl)
			sumL2 += float32(w * fl * fl)
			sumXL += float32(w * fl * v)
		}
		D := float32(sumW*sumL2) - float32(sumL*sumL)
		if !(D > 0) {
			continue
		}
		thisScale := (float32(sumW*sumXL) - float32(sumX*sumL)) / D
		thisMin := (float32(sumL2*sumX) - float32(sumL*sumXL)) / D
		if thisMin > 0 {
			thisMin = 0
			thisScale = sumXL / sumL2
		}
		var curErr float32
		for i, v := range x {
			diff := float32(thisScale*float32(Laux[i])) + thisMin - v
			curErr += float32(weights[i] * errOf(diff))
		}
		if curErr < bestErr {
			copy(L[:len(x)], Laux[:len(x)])
			bestErr, scale, lo = curErr, thisScale, thisMin
		}
	}
	return scale, -lo
}

// scaleMinK4 unpacks the 6-bit scale and min of sub-block j from the 12
// packed bytes of a Q4_K or Q5_K block (ggml's get_scale_min_k4).
func scaleMinK4(j int, q []byte) (sc, m uint8) {
	if j < 4 {
		return q[j] & 63, q[j+4] & 63
	}
	return q[j+4]&0x0f | (q[j-4]>>6)<<4, q[j+4]>>4 | (q[j]>>6)<<4
}

// packScaleMinK4 packs the 6-bit scale and min of sub-block j as
// scaleMinK4 reads them; q must start zeroed.
func packScaleMinK4(j int, q []byte, ls, lm uint8) {
	if j < 4 {
		q[j], q[j+4] = ls, lm
		return
	}
	q[j+4] = ls&0x0f | (lm&0x0f)<<4
	q[j-4] |= (ls >> 4) << 6
	q[j] |= (lm >> 4) << 6
}

// pack2Bits stores 256 two-bit values as Q2_K and Q3_K do: byte l of each
// 32-byte group holds values l, l+32, l+64, l+96 of its 128.
func pack2Bits(qs []byte, L []uint8) {
	for j := 0; j < QKK; j += 128 {
		for l := range 32 {
			qs[j/4+l] = L[j+l] | L[j+l+32]<<2 | L[j+l+64]<<4 | L[j+l+96]<<6
		}
	}
}

// quantizeQ8_K follows ggml's quantize_row_q8_K_ref: d = max/-127 where max
// is the value of largest magnitude (stored as float32), q = nearest(x/d),
// and the sums of each 16 quants. All-zero blocks are all zero bytes.
func quantizeQ8_K(dst []byte, src []float32) {
	for b := 0; b < len(src)/QKK; b++ {
		x := src[b*QKK : (b+1)*QKK]
		out := dst[b*292 : (b+1)*292]
		var amax, mx float32
		for _, v := range x {
			if a := abs32(v); a > amax {
				amax, mx = a, v
			}
		}
		if amax == 0 {
			clear(out)
			continue
		}
		iscale := -127 / mx
		qs := out[4 : 4+QKK]
		for j, v := range x {
			qs[j] = byte(int8(min(127, nearestInt(float32(iscale*v)))))
		}
		for j := range QKK / 16 {
			var sum int16
			for _, q := range qs[16*j : 16*j+16] {
				sum += int16(int8(q))
			}
			binary.LittleEndian.PutUint16(out[4+QKK+2*j:], uint16(sum))
		}
		binary.LittleEndian.PutUint32(out, math.Float32bits(1/iscale))
	}
}

func dequantizeQ8_K(dst []float32, src []byte) {
	for b := 0; b < len(dst)/QKK; b++ {
		in := src[b*292 : (b+1)*292]
		d := math.Float32frombits(binary.LittleEndian.Uint32(in))
		for j := range QKK {
			dst[b*QKK+j] = d * float32(int8(in[4+j]))
		}
	}
}
