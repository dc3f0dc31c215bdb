package asm

import (
	"encoding/binary"
	"math"

	"github.com/q3m/q3m/quant"
)

// Float64 references for the dot products of every quantized type: the
// weights and activations are dequantized as ggml's dequantize_row_* do,
// written here from those definitions and sharing no code with the
// kernels, and multiplied in float64.

// refDeq returns the values of n blocks of type t at b, and for each value
// a magnitude bounding the terms its kernel sums for it (for types with
// minimums, |d·sc·q| + |dmin·m| rather than the difference), so that a
// tolerance can be set against Σ|terms|.
func refDeq(t quant.Type, b []byte, n int) (vals, mags []float64) {
	h := func(o int) float64 { return float64(refScale(b[o:])) }
	put := func(v, m float64) {
		vals = append(vals, v)
		mags = append(mags, m)
	}
	kv := [16]float64{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}
	switch t {
	case quant.Q8_0:
		for i := range n {
			o := i * 34
			for j := range 32 {
				v := h(o) * float64(int8(b[o+2+j]))
				put(v, math.Abs(v))
			}
		}
	case quant.Q8_1:
		for i := range n {
			o := i * 36
			for j := range 32 {
				v := h(o) * float64(int8(b[o+4+j]))
				put(v, math.Abs(v))
			}
		}
	case quant.Q8_K:
		for i := range n {
			o := i * 292
			d := float64(math.Float32frombits(binary.LittleEndian.Uint32(b[o:])))
			for j := range 256 {
				v := d * float64(int8(b[o+4+j]))
				put(v, math.Abs(v))
			}
		}
	case quant.Q4_0:
		for i := range n {
			o := i * 18
			for j := range 32 {
				q := int(b[o+2+j%16] >> (4 * (j / 16)) & 15)
				v := h(o) * float64(q-8)
				put(v, math.Abs(v))
			}
		}
	case quant.Q4_1, quant.Q5_1:
		size, qs := 20, 4
		if t == quant.Q5_1 {
			size, qs = 24, 8
		}
		for i := range n {
			o := i * size
			d, m := h(o), h(o+2)
			for j := range 32 {
				q := int(b[o+qs+j%16] >> (4 * (j / 16)) & 15)
				if t == quant.Q5_1 {
					q |= int(binary.LittleEndian.Uint32(b[o+4:])>>j&1) << 4
				}
				put(d*float64(q)+m, math.Abs(d*float64(q))+math.Abs(m))
			}
		}
	case quant.Q5_0:
		for i := range n {
			o := i * 22
			for j := range 32 {
				q := int(b[o+6+j%16]>>(4*(j/16))&15) | int(binary.LittleEndian.Uint32(b[o+2:])>>j&1)<<4
				v := h(o) * float64(q-16)
				put(v, math.Abs(v))
			}
		}
	case quant.IQ4_NL:
		for i := range n {
			o := i * 18
			for j := range 32 {
				v := h(o) * kv[b[o+2+j%16]>>(4*(j/16))&15]
				put(v, math.Abs(v))
			}
		}
	case quant.Q2_K:
		for i := range n {
			o := i * 84
			d, dmin := h(o+80), h(o+82)
			for k := range 256 {
				half, s, l := k/128, k%128/32, k%32
				sc := b[o+k/16]
				q := b[o+16+32*half+l] >> (2 * s) & 3
				put(d*float64(sc&15)*float64(q)-dmin*float64(sc>>4), math.Abs(d*float64(sc&15)*float64(q))+math.Abs(dmin*float64(sc>>4)))
			}
		}
	case quant.Q3_K:
		for i := range n {
			o := i * 110
			d := h(o + 108)
			s := b[o+96 : o+108]
			var sc [16]int
			for j := range 16 {
				low := s[j%8] >> (4 * (j / 8)) & 15
				high := s[8+j%4] >> (2 * (j / 4)) & 3
				sc[j] = int(low|high<<4) - 32
			}
			for k := range 256 {
				half, sh, l := k/128, k%128/32, k%32
				q := int(b[o+32+32*half+l] >> (2 * sh) & 3)
				if b[o+l]>>(4*half+sh)&1 == 0 {
					q -= 4
				}
				v := d * float64(sc[k/16]) * float64(q)
				put(v, math.Abs(v))
			}
		}
	case quant.Q4_K, quant.Q5_K:
		size, qs := 144, 16
		if t == quant.Q5_K {
			size, qs = 176, 48
		}
		for i := range n {
			o := i * size
			d, dmin := h(o), h(o+2)
			sc := b[o+4 : o+16]
			for k := range 256 {
				j := k / 32 // sub-block: get_scale_min_k4(j)
				var s, m byte
				if j < 4 {
					s, m = sc[j]&63, sc[j+4]&63
				} else {
					s, m = sc[j+4]&0xF|(sc[j-4]>>6)<<4, sc[j+4]>>4|(sc[j]>>6)<<4
				}
				q := int(b[o+qs+32*(k/64)+k%32] >> (4 * (j % 2)) & 15)
				if t == quant.Q5_K {
					q += int(b[o+16+k%32]>>j&1) * 16
				}
				put(d*float64(s)*float64(q)-dmin*float64(m), math.Abs(d*float64(s)*float64(q))+math.Abs(dmin*float64(m)))
			}
		}
	case quant.Q6_K:
		for i := range n {
			o := i * 210
			d := h(o + 208)
			for k := range 256 {
				half, r, l := k/128, k%128/32, k%32
				lo := b[o+64*half+32*(r%2)+l] >> (4 * (r / 2)) & 15
				hi := b[o+128+32*half+l] >> (2 * r) & 3
				q := int(lo|hi<<4) - 32
				v := d * float64(int8(b[o+192+k/16])) * float64(q)
				put(v, math.Abs(v))
			}
		}
	case quant.IQ4_XS:
		for i := range n {
			o := i * 136
			d := h(o)
			sh := binary.LittleEndian.Uint16(b[o+2:])
			for k := range 256 {
				ib := k / 32
				ls := int(b[o+4+ib/2]>>(4*(ib%2))&15) | int(sh>>(2*ib)&3)<<4
				v := d * float64(ls-32) * kv[b[o+8+16*ib+k%16]>>(4*(k%32/16))&15]
				put(v, math.Abs(v))
			}
		}
	default:
		panic("refDeq: no reference for " + t.String())
	}
	return vals, mags
}

// refDotBound returns the float64 dot product of weights w of type t with
// activations x of type a over n blocks, and Σ|terms| for the tolerance.
// A Q8_1 block carries s ≈ d·Σq, rounded to fp16, and ggml multiplies the
// weight block's minimum m with that s: the reference does the same, with
// m·s in place of Σ m·x.
func refDotBound(t, a quant.Type, w, x []byte, n int) (dot, mag float64) {
	wv, wm := refDeq(t, w, n)
	xv, _ := refDeq(a, x, n)
	if a == quant.Q8_1 {
		size := t.BlockBytes()
		for b := range n {
			m, s := float64(refScale(w[b*size+2:])), float64(refScale(x[b*36+2:]))
			for j := b * 32; j < b*32+32; j++ {
				wv[j] -= m
				wm[j] -= math.Abs(m)
			}
			dot += m * s
			mag += math.Abs(m * s)
		}
	}
	for i := range wv {
		dot += wv[i] * xv[i]
		mag += wm[i] * math.Abs(xv[i])
	}
	return dot, mag
}
