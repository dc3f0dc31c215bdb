package quant

import (
	"encoding/binary"
	"math"
)

// QK is the number of values in a Q8_0 or Q4_0 block.
const QK = 32

// quantizeQ8_0 follows ggml's quantize_row_q8_0_ref: d = amax/127 and
// q = round(x/d), half away from zero, with d stored as fp16.
func quantizeQ8_0(dst []byte, src []float32) {
	for b := 0; b < len(src)/QK; b++ {
		x := src[b*QK : (b+1)*QK]
		out := dst[b*34 : (b+1)*34]
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
		binary.LittleEndian.PutUint16(out, scaleF16(d))
		for j, v := range x {
			out[2+j] = byte(int8(roundAway(float32(v * id))))
		}
	}
}

func dequantizeQ8_0(dst []float32, src []byte) {
	for b := 0; b < len(dst)/QK; b++ {
		in := src[b*34 : (b+1)*34]
		d := FromF16(binary.LittleEndian.Uint16(in))
		for j := range QK {
			dst[b*QK+j] = float32(int8(in[2+j])) * d
		}
	}
}

// quantizeQ4_0 follows ggml's quantize_row_q4_0_ref: d = max/-8 where max is
// the value of largest magnitude (first wins), q = min(15, trunc(x/d + 8.5)).
func quantizeQ4_0(dst []byte, src []float32) {
	for b := 0; b < len(src)/QK; b++ {
		x := src[b*QK : (b+1)*QK]
		out := dst[b*18 : (b+1)*18]
		var amax, mx float32
		for _, v := range x {
			if a := abs32(v); a > amax {
				amax, mx = a, v
			}
		}
		d := mx / -8
		var id float32
		if d != 0 {
			id = 1 / d
		}
		binary.LittleEndian.PutUint16(out, scaleF16(d))
		for j := range QK / 2 {
			x0 := float32(x[j]*id) + 8.5
			x1 := float32(x[j+QK/2]*id) + 8.5
			q0 := min(15, int8(cvtt(x0)))
			q1 := min(15, int8(cvtt(x1)))
			out[2+j] = byte(q0) | byte(q1)<<4
		}
	}
}

func dequantizeQ4_0(dst []float32, src []byte) {
	for b := 0; b < len(dst)/QK; b++ {
		in := src[b*18 : (b+1)*18]
		d := FromF16(binary.LittleEndian.Uint16(in))
		for j := range QK / 2 {
			dst[b*QK+j] = float32(int(in[2+j]&0x0f)-8) * d
			dst[b*QK+j+QK/2] = float32(int(in[2+j]>>4)-8) * d
		}
	}
}

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }

// roundAway rounds half away from zero, as C's roundf, and converts the
// result as cvtt does (NaN and values outside int32 give math.MinInt32).
// Adding ±0.5 in float64 is exact for every float32 in range, so truncation
// gives roundf's result without math.Round's bit fiddling.
func roundAway(v float32) int32 {
	if !(v > -2147483904 && v < 2147483648) {
		return math.MinInt32
	}
	d := float64(v)
	if d < 0 {
		return int32(d - 0.5)
	}
	return int32(d + 0.5)
}
