// Package quant holds the tensor element types of GGUF files: their block
// layouts and sizes, and pure Go quantization and dequantization of rows.
//
// Every type is described once, in a table of traits (as ggml's
// type_traits): name, block size and bytes, row quantizer and dequantizer,
// and the activation type ggml's CPU backend pairs with it for dot products.
//
// Quantization is bit-identical to what llama-quantize writes without an
// importance matrix (ggml_quantize_chunk with no weights), and
// dequantization to ggml's dequantize_row functions (Q8_1, which ggml
// cannot dequantize, reads as q·d), on every platform: products that C
// rounds to float are rounded explicitly, so Go never fuses them into an
// FMA, and a NaN scale made from infinities is written as on x86. Rows
// holding NaNs are the exception: which NaN an operation propagates
// depends on the compiler's operand order, in C as in Go, and ggml's
// rounding helpers read the NaN's payload.
package quant

import (
	"fmt"
	"strings"
)

// Type is a ggml tensor element type; its value is the GGUF type id.
type Type uint32

// The types this package knows, with their GGUF ids.
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

// traits describe one type. A zero name marks an unknown id.
type traits struct {
	name       string
	blockSize  int // values per block
	blockBytes int // bytes per block
	quantize   func(dst []byte, src []float32)
	dequantize func(dst []float32, src []byte)
	// activation is the type ggml-cpu quantizes the other operand to for
	// dot products with rows of this type (its vec_dot_type).
	activation Type
	// activationOnly marks the types ggml uses for activations only
	// (Q8_1, Q8_K): llama-quantize never writes them to a model file.
	activationOnly bool
}

var table = [...]traits{
	F32:    {"F32", 1, 4, putF32, getF32, F32, false},
	F16:    {"F16", 1, 2, putF16, getF16, F32, false},
	BF16:   {"BF16", 1, 2, putBF16, getBF16, F32, false},
	Q4_0:   {"Q4_0", 32, 18, quantizeQ4_0, dequantizeQ4_0, Q8_0, false},
	Q4_1:   {"Q4_1", 32, 20, quantizeQ4_1, dequantizeQ4_1, Q8_1, false},
	Q5_0:   {"Q5_0", 32, 22, quantizeQ5_0, dequantizeQ5_0, Q8_0, false},
	Q5_1:   {"Q5_1", 32, 24, quantizeQ5_1, dequantizeQ5_1, Q8_1, false},
	Q8_0:   {"Q8_0", 32, 34, quantizeQ8_0, dequantizeQ8_0, Q8_0, false},
	Q8_1:   {"Q8_1", 32, 36, quantizeQ8_1, dequantizeQ8_1, Q8_1, true},
	Q2_K:   {"Q2_K", 256, 84, quantizeQ2_K, dequantizeQ2_K, Q8_K, false},
	Q3_K:   {"Q3_K", 256, 110, quantizeQ3_K, dequantizeQ3_K, Q8_K, false},
	Q4_K:   {"Q4_K", 256, 144, quantizeQ4_K, dequantizeQ4_K, Q8_K, false},
	Q5_K:   {"Q5_K", 256, 176, quantizeQ5_K, dequantizeQ5_K, Q8_K, false},
	Q6_K:   {"Q6_K", 256, 210, quantizeQ6_K, dequantizeQ6_K, Q8_K, false},
	Q8_K:   {"Q8_K", 256, 292, quantizeQ8_K, dequantizeQ8_K, F32, true},
	IQ4_NL: {"IQ4_NL", 32, 18, quantizeIQ4_NL, dequantizeIQ4_NL, Q8_0, false},
	IQ4_XS: {"IQ4_XS", 256, 136, quantizeIQ4_XS, dequantizeIQ4_XS, Q8_K, false},
}

// lookup returns t's traits, or nil when t is unknown.
func (t Type) lookup() *traits {
	if uint64(t) < uint64(len(table)) && table[t].name != "" {
		return &table[t]
	}
	return nil
}

// Types returns every known type in id order.
func Types() []Type {
	var ts []Type
	for i := range table {
		if table[i].name != "" {
			ts = append(ts, Type(i))
		}
	}
	return ts
}

// Known reports whether t's layout is known.
func (t Type) Known() bool { return t.lookup() != nil }

// Convertible reports whether tensors of type t can be written and read:
// rows of t quantize and dequantize, and t is a storage type rather than an
// activation-only one (see ActivationOnly).
func (t Type) Convertible() bool {
	tr := t.lookup()
	return tr != nil && tr.quantize != nil && tr.dequantize != nil && !tr.activationOnly
}

// ActivationOnly reports whether t is a type ggml quantizes activations to
// (Q8_1, Q8_K) rather than one llama-quantize stores weights in. Rows of
// such types still quantize and dequantize.
func (t Type) ActivationOnly() bool {
	tr := t.lookup()
	return tr != nil && tr.activationOnly
}

// ActivationType returns the type ggml's CPU backend converts activations to
// for dot products with rows of t (ggml-cpu's vec_dot_type): Q8_0 for Q4_0,
// Q5_0, Q8_0 and IQ4_NL; Q8_1 for Q4_1, Q5_1 and Q8_1; Q8_K for the
// K-quants and IQ4_XS; F32 for F32, F16 and BF16 (q3m multiplies half
// precision weights with float32 activations), for Q8_K (which ggml pairs
// with nothing) and for unknown types.
func (t Type) ActivationType() Type {
	if tr := t.lookup(); tr != nil {
		return tr.activation
	}
	return F32
}

// String returns ggml's name for t, such as "Q8_0".
func (t Type) String() string {
	if tr := t.lookup(); tr != nil {
		return tr.name
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// BlockSize returns the number of values in one block of t (1 for float
// types, 0 for unknown types).
func (t Type) BlockSize() int {
	if tr := t.lookup(); tr != nil {
		return tr.blockSize
	}
	return 0
}

// BlockBytes returns the size in bytes of one block of t (0 for unknown
// types).
func (t Type) BlockBytes() int {
	if tr := t.lookup(); tr != nil {
		return tr.blockBytes
	}
	return 0
}

// RowBytes returns the size in bytes of n values of type t. n must be a
// whole number of blocks.
func (t Type) RowBytes(n int) (int, error) {
	tr := t.lookup()
	if tr == nil {
		return 0, fmt.Errorf("quant: unknown type id %d", uint32(t))
	}
	if n < 0 || n%tr.blockSize != 0 {
		return 0, fmt.Errorf("quant: %s rows need a multiple of %d values, got %d", tr.name, tr.blockSize, n)
	}
	return n / tr.blockSize * tr.blockBytes, nil
}

// ParseType returns the type named s (case-insensitive), such as "q4_k".
// Activation-only types parse too; callers choosing a storage type should
// also check Convertible.
func ParseType(s string) (Type, error) {
	for i := range table {
		if table[i].name != "" && strings.EqualFold(table[i].name, s) {
			return Type(i), nil
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
	tr := t.lookup()
	if tr.quantize == nil {
		return fmt.Errorf("quant: cannot quantize to %s", t)
	}
	tr.quantize(dst, src)
	return nil
}

// Dequantize decodes src, holding len(dst) values of type t, into dst.
func Dequantize(t Type, dst []float32, src []byte) error {
	if err := checkSizes(t, len(src), len(dst)); err != nil {
		return err
	}
	tr := t.lookup()
	if tr.dequantize == nil {
		return fmt.Errorf("quant: cannot dequantize %s", t)
	}
	tr.dequantize(dst, src)
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
