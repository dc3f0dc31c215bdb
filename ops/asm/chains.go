package asm

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// group8Block is the size of one block of a group of eight Q8_0
// activation rows (Group8): the 256 values, dword j of row t (values
// 4j…4j+3) at 32·j + 4·t; the rows' eight scales as float32; the rows'
// eight int32 sums 8·Σx.
const group8Block = 320

// Group8Bytes returns the size of a group of eight activation rows of
// nblocks Q8_0 blocks each.
func Group8Bytes(nblocks int) int { return nblocks * group8Block }

// Group8 writes to dst (Group8Bytes(nblocks) bytes) the group of the Q8_0
// activation rows src[t·stride:] for t < rows ≤ 8, the values of every
// block side by side so that a kernel's register holds the eight rows'
// same four values; rows past rows are zeros.
func Group8(dst, src []byte, stride, rows, nblocks int) {
	dst = dst[:Group8Bytes(nblocks)]
	if rows == 8 && group8Arch(dst, src, stride, nblocks) {
		return
	}
	group8(dst, src, stride, rows, nblocks)
}

// group8 is Group8 in Go.
func group8(dst, src []byte, stride, rows, nblocks int) {
	dst = dst[:Group8Bytes(nblocks)]
	if rows < 8 {
		clear(dst)
	}
	for b := range nblocks {
		g := (*[group8Block]byte)(dst[b*group8Block:])
		for t := range rows {
			xb := (*[Q8_0Bytes]byte)(src[t*stride+b*Q8_0Bytes:])
			for j := range 8 {
				binary.LittleEndian.PutUint32(g[32*j+4*t:], binary.LittleEndian.Uint32(xb[2+4*j:]))
			}
			binary.LittleEndian.PutUint32(g[256+4*t:], math.Float32bits(f16(xb[:])))
			binary.LittleEndian.PutUint32(g[288+4*t:], uint32(8*byteSum(xb[2:])))
		}
	}
}

// byteSum returns the sum of the 32 int8 values at x.
func byteSum(x []byte) int32 {
	x = x[:32]
	const lo, hi = 0x00ff00ff00ff00ff, 0x8080808080808080
	var sum, neg uint64
	for i := 0; i < 32; i += 8 {
		v := binary.LittleEndian.Uint64(x[i:])
		sum += v&lo + v>>8&lo
		neg += uint64(bits.OnesCount64(v & hi))
	}
	// sum holds four 16-bit sums of at most 4·2·255: add them, then take
	// 256 off for every negative value.
	return int32(sum*0x0001000100010001>>48) - int32(256*neg)
}
