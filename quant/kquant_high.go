package quant

import "encoding/binary"

// Q4_K, Q5_K and Q6_K: 256-value super-blocks. Q4_K and Q5_K have eight
// 32-value groups with a 6-bit scale and min each; Q6_K has sixteen
// 16-value groups with signed 8-bit scales.

// kScalesMins quantizes the eight groups of x as Q4_K and Q5_K do (ggml's
// quantize_row_q4_K_ref and q5_K_ref up to the packing of the quants): it
// fills out's d, dmin and 12 scale bytes and L with levels 0..nmax.
func kScalesMins(out []byte, x []float32, L []uint8, nmax int32, rmin float32, nstep int) {
	var (
		laux         [32]uint8
		weights      [32]float32
		scales, mins [QKK / 32]float32
		maxScl, maxM float32
	)
	for j := range QKK / 32 {
		xj := x[32*j : 32*j+32]
		var sumX2 float32
		for _, v := range xj {
			sumX2 += float32(v * v)
		}
		avX := sqrt32(sumX2 / 32)
		for l, v := range xj {
			weights[l] = avX + abs32(v)
		}
		scales[j], mins[j] = makeQkx2Quants(nmax, xj, weights[:], L[32*j:32*j+32], laux[:], rmin, 0.1, nstep, false)
		if scales[j] > maxScl {
			maxScl = scales[j]
		}
		if mins[j] > maxM {
			maxM = mins[j]
		}
	}
	var invScale, invMin float32
	if maxScl > 0 {
		invScale = 63 / maxScl
	}
	if maxM > 0 {
		invMin = 63 / maxM
	}
	sc := out[4:16]
	clear(sc)
	for j := range QKK / 32 {
		ls := min(63, uint8(nearestInt(float32(invScale*scales[j]))))
		lm := min(63, uint8(nearestInt(float32(invMin*mins[j]))))
		packScaleMinK4(j, sc, ls, lm)
	}
	d, dmin := scaleF16(maxScl/63), scaleF16(maxM/63)
	binary.LittleEndian.PutUint16(out, d)
	binary.LittleEndian.PutUint16(out[2:], dmin)
	fd, fmin := FromF16(d), FromF16(dmin)
	for j := range QKK / 32 {
		s, m := scaleMinK4(j, sc)
		dl := fd * float32(s)
		if dl == 0 {
			continue
		}
		dm := float32(fmin * float32(m))
		for i, v := range x[32*j : 32*j+32] {
			L[32*j+i] = uint8(clamp(nearestInt((v+dm)/dl), 0, nmax))
		}
	}
}

// quantizeQ4_K follows ggml's quantize_row_q4_K_ref. A block is d, dmin
// (fp16), scales[12] and qs[128]: byte l of each 32-byte group holds values
// l (low nibble) and l+32 (high nibble) of its 64.
func quantizeQ4_K(dst []byte, src []float32) {
	var L [QKK]uint8
	for b := 0; b < len(src)/QKK; b++ {
		out := dst[b*144 : (b+1)*144]
		kScalesMins(out, src[b*QKK:(b+1)*QKK], L[:], 15, -1, 20)
		q := out[16:]
		for j := 0; j < QKK; j += 64 {
			for l := range 32 {
				q[j/2+l] = L[j+l] | L[j+l+32]<<4
			}
		}
	}
}

func dequantizeQ4_K(dst []float32, src []byte) {
	for b := 0; b < len(dst)/QKK; b++ {
		in := src[b*144 : (b+1)*144]
		y := dst[b*QKK : (b+1)*QKK]
		d := FromF16(binary.LittleEndian.Uint16(in))
		dmin := FromF16(binary.LittleEndian.Uint16(in[2:]))
		for j := 0; j < QKK/64; j++ {
			q := in[16+32*j : 16+32*j+32]
			s1, m1 := scaleMinK4(2*j, in[4:16])
			s2, m2 := scaleMinK4(2*j+1, in[4:16])
			d1, dm1 := d*float32(s1), float32(dmin*float32(m1))
			d2, dm2 := d*float32(s2), float32(dmin*float32(m2))
			for l := range 32 {
				y[64*j+l] = float32(d1*float32(q[l]&0x0f)) - dm1
				y[64*j+32+l] = float32(d2*float32(q[l]>>4)) - dm2
			}
		}
	}
}

// quantizeQ5_K follows ggml's quantize_row_q5_K_ref. A block is d, dmin,
// scales[12], qh[32] (the fifth bit of value 64k+j in bit 2k of byte j, of
// value 64k+32+j in bit 2k+1) and qs[128] as Q4_K's.
func quantizeQ5_K(dst []byte, src []float32) {
	var L [QKK]uint8
	for b := 0; b < len(src)/QKK; b++ {
		out := dst[b*176 : (b+1)*176]
		kScalesMins(out, src[b*QKK:(b+1)*QKK], L[:], 31, -0.5, 15)
		qh, ql := out[16:48], out[48:176]
		clear(qh)
		for k := range QKK / 64 {
			for j := range 32 {
				l1, l2 := L[64*k+j], L[64*k+j+32]
				if l1 > 15 {
					l1 -= 16
					qh[j] |= 1 << (2 * k)
				}
				if l2 > 15 {
					l2 -= 16
					qh[j] |= 2 << (2 * k)
				}
				ql[32*k+j] = l1 | l2<<4
			}
		}
	}
}

func dequantizeQ5_K(dst []float32, src []byte) {
	for b := 0; b < len(dst)/QKK; b++ {
		in := src[b*176 : (b+1)*176]
		y := dst[b*QKK : (b+1)*QKK]
		d := FromF16(binary.LittleEndian.Uint16(in))
		dmin := FromF16(binary.LittleEndian.Uint16(in[2:]))
		qh := in[16:48]
		for k := 0; k < QKK/64; k++ {
			ql := in[48+32*k : 48+32*k+32]
			s1, m1 := scaleMinK4(2*k, in[4:16])
			s2, m2 := scaleMinK4(2*k+1, in[4:16])
			d1, dm1 := d*float32(s1), float32(dmin*float32(m1))
			d2, dm2 := d*float32(s2), float32(dmin*float32(m2))
			u1, u2 := uint8(1)<<(2*k), uint8(2)<<(2*k)
			for l := range 32 {
				v1, v2 := ql[l]&0x0f, ql[l]>>4
				if qh[l]&u1 != 0 {
					v1 += 16
				}
				if qh[l]&u2 != 0 {
					v2 += 16
				}
				y[64*k+l] = float32(d1*float32(v1)) - dm1
				y[64*k+32+l] = float32(d2*float32(v2)) - dm2
			}
		}
	}
}

// quantizeQ6_K follows ggml's quantize_row_q6_K_ref. A block is ql[128]
// (low 4 bits), qh[64] (high 2 bits), scales[16] (int8) and d (fp16);
// blocks whose group scales are all below 1e-15 are zero bytes.
func quantizeQ6_K(dst []byte, src []float32) {
	var (
		L      [QKK]int8
		scales [QKK / 16]float32
	)
	for b := 0; b < len(src)/QKK; b++ {
		x := src[b*QKK : (b+1)*QKK]
		out := dst[b*210 : (b+1)*210]
		var maxAbs, maxScl float32
		for j := range QKK / 16 {
			scales[j] = makeQxQuants(32, x[16*j:16*j+16], L[16*j:16*j+16])
			if a := abs32(scales[j]); a > maxAbs {
				maxAbs, maxScl = a, scales[j]
			}
		}
		if maxAbs < groupMaxEps {
			clear(out)
			continue
		}
		iscale := -128 / maxScl
		d := scaleF16(1 / iscale)
		binary.LittleEndian.PutUint16(out[208:], d)
		sc := out[192:208]
		for j := range sc {
			sc[j] = byte(int8(min(127, nearestInt(float32(iscale*scales[j])))))
		}
		fd := FromF16(d)
		for j := range QKK / 16 {
			dl := fd * float32(int8(sc[j]))
			if dl == 0 {
				continue
			}
			for i, v := range x[16*j : 16*j+16] {
				L[16*j+i] = int8(clamp(nearestInt(v/dl), -32, 31) + 32)
			}
		}
		ql, qh := out[:128], out[128:192]
		for h := range 2 {
			Lh := L[128*h : 128*h+128]
			for l := range 32 {
				q1, q2, q3, q4 := uint8(Lh[l]), uint8(Lh[l+32]), uint8(Lh[l+64]), uint8(Lh[l+96])
				ql[64*h+l] = q1&0x0f | (q3&0x0f)<<4
				ql[64*h+l+32] = q2&0x0f | (q4&0x0f)<<4
				qh[32*h+l] = q1>>4 | (q2>>4)<<2 | (q3>>4)<<4 | (q4>>4)<<6
			}
		}
	}
}

func dequantizeQ6_K(dst []float32, src []byte) {
	for b := 0; b < len(dst)/QKK; b++ {
		in := src[b*210 : (b+1)*210]
		y := dst[b*QKK : (b+1)*QKK]
		d := FromF16(binary.LittleEndian.Uint16(in[208:]))
		for h := range 2 {
			ql, qh := in[64*h:64*h+64], in[128+32*h:128+32*h+32]
			sc := in[192+8*h : 192+8*h+8]
			yh := y[128*h : 128*h+128]
			for l := range 32 {
				is := l / 16
				q1 := int32(ql[l]&0x0f|(qh[l]&3)<<4) - 32
				q2 := int32(ql[l+32]&0x0f|((qh[l]>>2)&3)<<4) - 32
				q3 := int32(ql[l]>>4|((qh[l]>>4)&3)<<4) - 32
				q4 := int32(ql[l+32]>>4|((qh[l]>>6)&3)<<4) - 32
				yh[l] = d * float32(int8(sc[is])) * float32(q1)
				yh[l+32] = d * float32(int8(sc[is+2])) * float32(q2)
				yh[l+64] = d * float32(int8(sc[is+4])) * float32(q3)
				yh[l+96] = d * float32(int8(sc[is+6])) * float32(q4)
			}
		}
	}
}
