package asm

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/q3m/q3m/quant"
	"github.com/x448/float16"
)

// f16Bits32 converts every fp16 value as VCVTPH2PS does, NaN payloads and
// their quiet bit included (checked against the instruction where the CPU
// has it), and as package float16 does for every other value.
func TestF16Bits32ConvertsAsVCVTPH2PS(t *testing.T) {
	src := make([]byte, 2<<16)
	for h := range 1 << 16 {
		binary.LittleEndian.PutUint16(src[2*h:], uint16(h))
	}
	hw := make([]float32, 1<<16)
	n := f16ToF32Arch(hw, src)
	for h := range 1 << 16 {
		got := f16Bits32(uint16(h))
		f := float16.Frombits(uint16(h))
		if !f.IsNaN() && got != math.Float32bits(f.Float32()) {
			t.Fatalf("%#04x: %#08x, float16 %#08x", h, got, math.Float32bits(f.Float32()))
		}
		if h < n && got != math.Float32bits(hw[h]) {
			t.Fatalf("%#04x: %#08x, VCVTPH2PS %#08x", h, got, math.Float32bits(hw[h]))
		}
	}
	if n == 0 {
		t.Log("no VCVTPH2PS here: NaNs checked by the rule only")
	}
	if got := f16Bits32(0x7c01); got != 0x7fc02000 {
		t.Errorf("signalling NaN 0x7c01: %#08x, want the quiet 0x7fc02000", got)
	}
}

// The runtime's Q8_0 activation rows are QuantizeQ8_0's blocks followed by
// the tail: per whole group of four blocks their values, the values plus
// 128 and their scales as float32.
func TestQ8_0TailFollowsBlocks(t *testing.T) {
	r := rand.New(rand.NewPCG(71, 72))
	tr, _ := TypeTraits(quant.Q4_0)
	for _, nb := range []int{1, 3, 4, 5, 8, 64, 67} {
		x := make([]float32, nb*QK)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		row := make([]byte, tr.ActivationBytes(len(x)))
		if want := nb*Q8_0Bytes + nb/4*q8_0TailGroup; len(row) != want {
			t.Fatalf("nb=%d: row of %d bytes, want %d", nb, len(row), want)
		}
		tr.Quantize(row, x)
		blocks := make([]byte, nb*Q8_0Bytes)
		QuantizeQ8_0(blocks, x)
		if string(row[:len(blocks)]) != string(blocks) {
			t.Fatalf("nb=%d: the row's blocks differ from QuantizeQ8_0's", nb)
		}
		tail := row[len(blocks):]
		if q8_0TailGroup == 0 {
			continue // no tail here: the blocks are the row
		}
		for b := range nb / 4 * 4 {
			g, k := tail[b/4*q8_0TailGroup:], b%4
			vals := blocks[b*Q8_0Bytes+2 : (b+1)*Q8_0Bytes]
			if string(g[32*k:32*k+32]) != string(vals) {
				t.Fatalf("nb=%d block %d: tail values % x, block % x", nb, b, g[32*k:32*k+32], vals)
			}
			for i, v := range vals {
				if g[128+32*k+i] != v^0x80 {
					t.Fatalf("nb=%d block %d value %d: tail %#x, block %#x", nb, b, i, g[128+32*k+i], v)
				}
			}
			h := binary.LittleEndian.Uint16(blocks[b*Q8_0Bytes:])
			got := math.Float32frombits(binary.LittleEndian.Uint32(g[256+4*k:]))
			if want := float16.Frombits(h).Float32(); got != want {
				t.Fatalf("nb=%d block %d: tail scale %v, block scale %v", nb, b, got, want)
			}
		}
	}
}

// withTails returns the Q8_0 activation rows xs of n blocks each as the
// runtime's quantizer lays them out, followed by their tails: copies at
// the same address offset mod 8, rows that alias in xs aliasing in the
// result.
func withTails(xs [][]byte, n int) [][]byte {
	out := make([][]byte, len(xs))
	seen := map[*byte][]byte{}
	for i, x := range xs {
		if len(x) == 0 {
			out[i] = x
			continue
		}
		if c, ok := seen[&x[0]]; ok {
			out[i] = c
			continue
		}
		off := int(uintptr(unsafe.Pointer(&x[0])) % 8)
		c := make([]byte, off+q8_0Row(n))[off:]
		copy(c, x[:n*Q8_0Bytes])
		q8_0Tail(c, n)
		seen[&x[0]], out[i] = c, c
	}
	return out
}
