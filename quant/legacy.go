package quant

import (
	"encoding/binary"
	"math"
)

// The 32-value block types besides Q4_0 and Q8_0: Q4_1 and Q5_1 store a
// scale and a minimum, Q5_0 a scale and a fifth bit per value, Q8_1 (an
// activation type) a scale and the scaled sum of its values.

// minMax returns the smallest and largest of x as ggml's Q4_1/Q5_1 loops
// find them, starting from ±FLT_MAX so that NaNs are skipped.
func minMax(x []float32) (lo, hi float32) {
	lo, hi = math.MaxFloat32, -math.MaxFloat32
	for _, v := range x {
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	return lo, hi
}

// signedMax returns the value of largest magnitude in x, the first one on
// ties, as ggml's Q4_0/Q5_0 loops find it.
func signedMax(x []float32) float32 {
	var amax, mx float32
	for _, v := range x {
		if a := abs32(v); amax < a {
			amax, mx = a, v
		}
	}
	return mx
}

// quantizeQ4_1 follows ggml's quantize_row_q4_1_ref: d = (max-min)/15 and
// q = min(15, trunc((x-min)/d + 0.5)), with d and min stored as fp16.
func quantizeQ4_1(dst []byte, src []float32) {
	for b := 0; b < len(src)/QK; b++ {
		x := src[b*QK : (b+1)*QK]
		out := dst[b*20 : (b+1)*20]
		lo, hi := minMax(x)
		d := (hi - lo) / 15
		var id float32
		if d != 0 {
			id = 1 / d
		}
		binary.LittleEndian.PutUint16(out, scaleF16(d))
		binary.LittleEndian.PutUint16(out[2:], scaleF16(lo))
		for j := range QK / 2 {
			q0 := min(15, int8(cvtt(float32((x[j]-lo)*id)+0.5)))
			q1 := min(15, int8(cvtt(float32((x[j+QK/2]-lo)*id)+0.5)))
			out[4+j] = byte(q0) | byte(q1)<<4
		}
	}
}

func dequantizeQ4_1(dst []float32, src []byte) {
	for b := 0; b < len(dst)/QK; b++ {
		in := src[b*20 : (b+1)*20]
		d := FromF16(binary.LittleEndian.Uint16(in))
		m := FromF16(binary.LittleEndian.Uint16(in[2:]))
		y := dst[b*QK : (b+1)*QK]
		for j := range QK / 2 {
			y[j] = float32(float32(in[4+j]&0x0f)*d) + m
			y[j+QK/2] = float32(float32(in[4+j]>>4)*d) + m
		}
	}
}

// quantizeQ5_0 follows ggml's quantize_row_q5_0_ref: d = max/-16 where max
// is the value of largest magnitude, q = min(31, trunc(x/d + 16.5)); the
// fifth bits go to a little-endian 32-bit mask.
func quantizeQ5_0(dst []byte, src []float32) {
	for b := 0; b < len(src)/QK; b++ {
		x := src[b*QK : (b+1)*QK]
		out := dst[b*22 : (b+1)*22]
		d := signedMax(x) / -16
		var id float32
		if d != 0 {
			id = 1 / d
		}
		binary.LittleEndian.PutUint16(out, scaleF16(d))
		var qh uint32
		for j := range QK / 2 {
			q0 := uint8(min(31, int8(cvtt(float32(x[j]*id)+16.5))))
			q1 := uint8(min(31, int8(cvtt(float32(x[j+QK/2]*id)+16.5))))
			out[6+j] = q0&0x0f | (q1&0x0f)<<4
			qh |= uint32(q0&0x10)>>4<<j | uint32(q1&0x10)>>4<<(j+QK/2)
		}
		binary.LittleEndian.PutUint32(out[2:], qh)
	}
}

func dequantizeQ5_0(dst []float32, src []byte) {
	for b := 0; b < len(dst)/QK; b++ {
		in := src[b*22 : (b+1)*22]
		d := FromF16(binary.LittleEndian.Uint16(in))
		qh := binary.LittleEndian.Uint32(in[2:])
		y := dst[b*QK : (b+1)*QK]
		for j := range QK / 2 {
			h0 := byte(qh>>j<<4) & 0x10
			h1 := byte(qh>>(j+12)) & 0x10
			y[j] = float32(int32(in[6+j]&0x0f|h0)-16) * d
			y[j+QK/2] = float32(int32(in[6+j]>>4|h1)-16) * d
		}
	}
}

// quantizeQ5_1 follows ggml's quantize_row_q5_1_ref: d = (max-min)/31 and
// q = trunc((x-min)/d + 0.5), with no upper clamp (as in ggml).
func quantizeQ5_1(dst []byte, src []float32) {
	for b := 0; b < len(src)/QK; b++ {
		x := src[b*QK : (b+1)*QK]
		out := dst[b*24 : (b+1)*24]
		lo, hi := minMax(x)
		d := (hi - lo) / 31
		var id float32
		if d != 0 {
			id = 1 / d
		}
		binary.LittleEndian.PutUint16(out, scaleF16(d))
		binary.LittleEndian.PutUint16(out[2:], scaleF16(lo))
		var qh uint32
		for j := range QK / 2 {
			q0 := uint8(cvtt(float32((x[j]-lo)*id) + 0.5))
			q1 := uint8(cvtt(float32((x[j+QK/2]-lo)*id) + 0.5))
			out[8+j] = q0&0x0f | (q1&0x0f)<<4
			qh |= uint32(q0&0x10)>>4<<j | uint32(q1&0x10)>>4<<(j+QK/2)
		}
		binary.LittleEndian.PutUint32(out[4:], qh)
	}
}

func dequantizeQ5_1(dst []float32, src []byte) {
	for b := 0; b < len(dst)/QK; b++ {
		in := src[b*24 : (b+1)*24]
		d := FromF16(binary.LittleEndian.Uint16(in))
		m := FromF16(binary.LittleEndian.Uint16(in[2:]))
		qh := binary.LittleEndian.Uint32(in[4:])
		y := dst[b*QK : (b+1)*QK]
		for j := range QK / 2 {
			h0 := byte(qh>>j<<4) & 0x10
			h1 := byte(qh>>(j+12)) & 0x10
			y[j] = float32(float32(in[8+j]&0x0f|h0)*d) + m
			y[j+QK/2] = float32(float32(in[8+j]>>4|h1)*d) + m
		}
	}
}

// quantizeQ8_1 follows ggml's quantize_row_q8_1_ref: Q8_0's d and q, plus
// s = fp16(d·Σq).
func quantizeQ8_1(dst []byte, src []float32) {
	for b := 0; b < len(src)/QK; b++ {
		x := src[b*QK : (b+1)*QK]
		out := dst[b*36 : (b+1)*36]
		var amax float32
		for _, v := range x {
			if a := abs32(v); !(amax > a) { // C's MAX(amax, a), NaN included
				amax = a
			}
		}
		d := amax / 127
		var id float32
		if d != 0 {
			id = 1 / d
		}
		var sum int32
		for j, v := range x {
			q := int8(roundAway(float32(v * id)))
			out[4+j] = byte(q)
			sum += int32(q)
		}
		binary.LittleEndian.PutUint16(out, scaleF16(d))
		binary.LittleEndian.PutUint16(out[2:], scaleF16(float32(sum)*d))
	}
}

// dequantizeQ8_1 returns q·d. ggml has no Q8_1 dequantizer; this is the
// value the block stands for in ggml's dot products (s is redundant).
func dequantizeQ8_1(dst []float32, src []byte) {
	for b := 0; b < len(dst)/QK; b++ {
		in := src[b*36 : (b+1)*36]
		d := FromF16(binary.LittleEndian.Uint16(in))
		for j := range QK {
			dst[b*QK+j] = float32(int8(in[4+j])) * d
		}
	}
}

// cvtt converts v to int32 by truncation as x86's CVTTSS2SI does, the
// conversion ggml's C casts compile to on amd64: NaN and values outside
// int32's range give math.MinInt32. Go leaves those cases to the platform.
func cvtt(v float32) int32 {
	if v > -2147483904 && v < 2147483648 {
		return int32(v)
	}
	return math.MinInt32
}
