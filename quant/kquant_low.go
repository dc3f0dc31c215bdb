package quant

import "encoding/binary"

// Q2_K and Q3_K: 256-value super-blocks of sixteen 16-value groups, with
// 2-bit quants (Q3_K adds a high bit per value) and per-group scales.

// quantizeQ2_K follows ggml's quantize_row_q2_K_ref. A block is
// scales[16] (4-bit scale | 4-bit min), qs[64], d and dmin (fp16).
func quantizeQ2_K(dst []byte, src []float32) {
	var (
		L              [QKK]uint8
		laux           [16]uint8
		weights        [16]float32
		scales, mins   [QKK / 16]float32
		q4scale        = float32(15)
		maxScl, maxMin float32
	)
	for b := 0; b < len(src)/QKK; b++ {
		x := src[b*QKK : (b+1)*QKK]
		out := dst[b*84 : (b+1)*84]
		sc := out[:16]
		maxScl, maxMin = 0, 0
		for j := range QKK / 16 {
			xj := x[16*j : 16*j+16]
			for l, v := range xj {
				weights[l] = abs32(v)
			}
			scales[j], mins[j] = makeQkx2Quants(3, xj, weights[:], L[16*j:16*j+16], laux[:], -0.5, 0.1, 15, true)
			if scales[j] > maxScl {
				maxScl = scales[j]
			}
			if mins[j] > maxMin {
				maxMin = mins[j]
			}
		}
		var d, dmin uint16
		clear(sc)
		if maxScl > 0 {
			iscale := q4scale / maxScl
			for j := range sc {
				sc[j] = byte(nearestInt(float32(iscale * scales[j])))
			}
			d = scaleF16(maxScl / q4scale)
		}
		if maxMin > 0 {
			iscale := q4scale / maxMin
			for j := range sc {
				sc[j] |= byte(nearestInt(float32(iscale*mins[j])) << 4)
			}
			dmin = scaleF16(maxMin / q4scale)
		}
		binary.LittleEndian.PutUint16(out[80:], d)
		binary.LittleEndian.PutUint16(out[82:], dmin)
		fd, fmin := FromF16(d), FromF16(dmin)
		for j := range QKK / 16 {
			dl := fd * float32(sc[j]&0x0f)
			if dl == 0 {
				continue
			}
			dm := float32(fmin * float32(sc[j]>>4))
			for i, v := range x[16*j : 16*j+16] {
				L[16*j+i] = uint8(clamp(nearestInt((v+dm)/dl), 0, 3))
			}
		}
		pack2Bits(out[16:80], L[:])
	}
}

func dequantizeQ2_K(dst []float32, src []byte) {
	for b := 0; b < len(dst)/QKK; b++ {
		in := src[b*84 : (b+1)*84]
		y := dst[b*QKK : (b+1)*QKK]
		d := FromF16(binary.LittleEndian.Uint16(in[80:]))
		dmin := FromF16(binary.LittleEndian.Uint16(in[82:]))
		is := 0
		for n := 0; n < QKK; n += 128 {
			q := in[16+n/4 : 16+n/4+32]
			for shift := 0; shift < 8; shift += 2 {
				for half := 0; half < 2; half++ {
					sc := in[is]
					is++
					dl := d * float32(sc&0x0f)
					ml := float32(dmin * float32(sc>>4))
					for l := range 16 {
						y[l] = float32(dl*float32((q[16*half+l]>>shift)&3)) - ml
					}
					y = y[16:]
				}
			}
		}
	}
}

// quantizeQ3_K follows ggml's quantize_row_q3_K_ref. A block is hmask[32]
// (the high bit of value j in bit j/32 of byte j%32), qs[64] (low 2 bits),
// scales[12] (sixteen 6-bit scales) and d (fp16).
func quantizeQ3_K(dst []byte, src []float32) {
	var (
		L      [QKK]int8
		scales [QKK / 16]float32
	)
	for b := 0; b < len(src)/QKK; b++ {
		x := src[b*QKK : (b+1)*QKK]
		out := dst[b*110 : (b+1)*110]
		hmask, qs, sc := out[:32], out[32:96], out[96:108]
		var amax, maxScl float32
		for j := range QKK / 16 {
			scales[j] = makeQ3Quants(4, x[16*j:16*j+16], L[16*j:16*j+16])
			if a := abs32(scales[j]); a > amax {
				amax, maxScl = a, scales[j]
			}
		}
		clear(sc)
		var d uint16
		if maxScl != 0 {
			iscale := -32 / maxScl
			for j := range QKK / 16 {
				l := int8(nearestInt(float32(iscale * scales[j])))
				l = max(-32, min(31, l)) + 32
				if j < 8 {
					sc[j] = byte(l) & 0x0f
				} else {
					sc[j-8] |= (byte(l) & 0x0f) << 4
				}
				sc[j%4+8] |= byte(l>>4) << (2 * (j / 4))
			}
			d = scaleF16(1 / iscale)
		}
		binary.LittleEndian.PutUint16(out[108:], d)
		fd := FromF16(d)
		for j := range QKK / 16 {
			dl := fd * float32(q3Scale(sc, j))
			if dl == 0 {
				continue
			}
			for i, v := range x[16*j : 16*j+16] {
				L[16*j+i] = int8(clamp(nearestInt(v/dl), -4, 3) + 4)
			}
		}
		clear(hmask)
		var low [QKK]uint8
		for j, l := range L {
			if l > 3 {
				hmask[j%32] |= 1 << (j / 32)
				l -= 4
			}
			low[j] = uint8(l)
		}
		pack2Bits(qs, low[:])
	}
}

// q3Scale unpacks the signed 6-bit scale of group j from Q3_K's 12 bytes.
func q3Scale(sc []byte, j int) int32 {
	lo := sc[j%8] & 0x0f
	if j >= 8 {
		lo = sc[j-8] >> 4
	}
	hi := (sc[8+j%4] >> (2 * (j / 4))) & 3
	return int32(lo|hi<<4) - 32
}

func dequantizeQ3_K(dst []float32, src []byte) {
	for b := 0; b < len(dst)/QKK; b++ {
		in := src[b*110 : (b+1)*110]
		y := dst[b*QKK : (b+1)*QKK]
		hm, sc := in[:32], in[96:108]
		d := FromF16(binary.LittleEndian.Uint16(in[108:]))
		is := 0
		m := uint8(1)
		for n := 0; n < QKK; n += 128 {
			q := in[32+n/4 : 32+n/4+32]
			for shift := 0; shift < 8; shift += 2 {
				for half := 0; half < 2; half++ {
					dl := d * float32(q3Scale(sc, is))
					is++
					for l := range 16 {
						v := int32((q[16*half+l] >> shift) & 3)
						if hm[16*half+l]&m == 0 {
							v -= 4
						}
						y[l] = dl * float32(v)
					}
					y = y[16:]
				}
				m <<= 1
			}
		}
	}
}
