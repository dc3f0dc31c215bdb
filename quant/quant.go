// Package quant holds the tensor element types of GGUF files: their block
// layouts and sizes, and pure Go quantization and dequantization of rows.
//
// Quantization is bit-identical to ggml's reference quantizers (those that
// llama-quantize uses without an importance matrix).
package quant

import (
	"fmt"
	"strings"
)

// Type is a ggml tensor element type; its value is the GGUF type id.
type Type uint32

// Types with a known layout. Those whose Convertible reports false are known
// by size only, so that files holding them can be validated and described.
const (
	F32    Type = 0
	F16    Type = 1
	Q4_0   Type = 2
	Q4_1   Type = 3
	Q5_0   Type = 6
	Q5_1   Type = 7
	Q8_0   Type = 8
	Q8_1   Type = 9
	Q2_K   Type = 10
	Q3_K   Type = 11
	Q4_K   Type = 12
	Q5_K   Type = 13
	Q6_K   Type = 14
	Q8_K   Type = 15
	IQ4_NL Type = 20
	IQ4_XS Type = 23
	BF16   Type = 30
)

type layout struct {
	name       string
	blockSize  int // values per block
	blockBytes int // bytes per block
	convert    bool
}

var layouts = map[Type]layout{
	F32:    {"F32", 1, 4, true},
	F16:    {"F16", 1, 2, true},
	BF16:   {"BF16", 1, 2, true},
	Q8_0:   {"Q8_0", 32, 34, true},
	Q4_0:   {"Q4_0", 32, 18, true},
	Q4_1:   {"Q4_1", 32, 20, false},
	Q5_0:   {"Q5_0", 32, 22, false},
	Q5_1:   {"Q5_1", 32, 24, false},
	Q8_1:   {"Q8_1", 32, 36, false},
	Q2_K:   {"Q2_K", 256, 84, false},
	Q3_K:   {"Q3_K", 256, 110, false},
	Q4_K:   {"Q4_K", 256, 144, false},
	Q5_K:   {"Q5_K", 256, 176, false},
	Q6_K:   {"Q6_K", 256, 210, false},
	Q8_K:   {"Q8_K", 256, 292, false},
	IQ4_NL: {"IQ4_NL", 32, 18, false},
	IQ4_XS: {"IQ4_XS", 256, 136, false},
}

// Known reports whether t's layout is known.
func (t Type) Known() bool { _, ok := layouts[t]; return ok }

// Convertible reports whether rows of type t can be quantized and dequantized.
func (t Type) Convertible() bool { return layouts[t].convert }

// String returns ggml's name for t, such as "Q8_0".
func (t Type) String() string {
	if l, ok := layouts[t]; ok {
		return l.name
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// BlockSize returns the number of values in one block of t (1 for float types).
func (t Type) BlockSize() int { return layouts[t].blockSize }

// BlockBytes returns the size in bytes of one block of t.
func (t Type) BlockBytes() int { return layouts[t].blockBytes }

// RowBytes returns the size in bytes of n values of type t. n must be a
// whole number of blocks.
func (t Type) RowBytes(n int) (int, error) {
	l, ok := layouts[t]
	if !ok {
		return 0, fmt.Errorf("quant: unknown type id %d", uint32(t))
	}
	if n < 0 || n%l.blockSize != 0 {
		return 0, fmt.Errorf("quant: %s rows need a multiple of %d values, got %d", l.name, l.blockSize, n)
	}
	return n / l.blockSize * l.blockBytes, nil
}

// ParseType returns the type named s (case-insensitive), such as "q4_0".
func ParseType(s string) (Type, error) {
	for t, l := range layouts {
		if strings.EqualFold(l.name, s) {
			return t, nil
		}
	}
	return 0, fmt.Errorf("quant: unknown type %q", s)
}

// Quantize encodes src as type t into dst, which must be exactly
// t.RowBytes(len(src)) long.
func Quantize(t Type, dst []byte, src []float32) error {
	if err := checkSizes(t, len(dst), len(src)); err != nil {
		return err
	}
	switch t {
	case F32:
		putF32(dst, src)
	case F16:
		putF16(dst, src)
	case BF16:
		putBF16(dst, src)
	case Q8_0:
		quantizeQ8_0(dst, src)
	case Q4_0:
		quantizeQ4_0(dst, src)
	default:
		return fmt.Errorf("quant: cannot quantize to %s", t)
	}
	return nil
}

// Dequantize decodes src, holding len(dst) values of type t, into dst.
func Dequantize(t Type, dst []float32, src []byte) error {
	if err := checkSizes(t, len(src), len(dst)); err != nil {
		return err
	}
	switch t {
	case F32:
		getF32(dst, src)
	case F16:
		getF16(dst, src)
	case BF16:
		getBF16(dst, src)
	case Q8_0:
		dequantizeQ8_0(dst, src)
	case Q4_0:
		dequantizeQ4_0(dst, src)
	default:
		return fmt.Errorf("quant: cannot dequantize %s", t)
	}
	return nil
}

func checkSizes(t Type, nbytes, nvals int) error {
	want, err := t.RowBytes(nvals)
	if err != nil {
		return err
	}
	if nbytes != want {
		return fmt.Errorf("quant: %d values of %s take %d bytes, buffer has %d", nvals, t, want, nbytes)
	}
	return nil
}
