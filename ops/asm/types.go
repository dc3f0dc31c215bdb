package asm

import (
	"slices"

	"github.com/q3m/q3m/quant"
)

// Traits say how products with weights of one type are computed, as ggml's
// type_traits_cpu do (vec_dot_type, from_float): the type activations are
// quantized to and the quantizer. Each kernel's dot products for the type
// are in its Dots.
type Traits struct {
	Weight quant.Type
	// Activation is the type activation rows are quantized to (Q8_0, Q8_1
	// or Q8_K, as llama.cpp pairs them), or F32 when they stay float32.
	Activation quant.Type
	// Quantize encodes an activation row of a multiple of
	// Activation.BlockSize() values into dst, ActivationBytes(len(x))
	// bytes: the Activation blocks as llama.cpp's x86 code makes them and,
	// for Q8_0 on CPUs whose eight-row forms read one, a tail derived from
	// them (the other forms read the blocks only). Every quantized
	// activation value lies in [-127, 127], whatever x holds (NaN and
	// infinities included): kernels may rely on that to multiply with
	// VPMADDUBSW / VPSIGNB.
	Quantize func(dst []byte, x []float32)
}

// Quantized reports whether activations are quantized for this weight type.
func (tr Traits) Quantized() bool { return tr.Activation != quant.F32 }

// ActivationBytes returns the size of one quantized activation row of cols
// values, or 0 if activations stay float32 or cols is not a whole number of
// activation blocks.
func (tr Traits) ActivationBytes(cols int) int {
	if !tr.Quantized() {
		return 0
	}
	n, err := tr.Activation.RowBytes(cols)
	if err != nil {
		return 0
	}
	if tr.Activation == quant.Q8_0 {
		n += q8_0TailBytes(cols / QK)
	}
	return n
}

// table holds one entry per weight type products are implemented for.
// Adding a type is one entry here, its generic dot products in genericDots,
// and optionally assembly registered by the kernels that have it.
var table = map[quant.Type]Traits{
	quant.F32:  {quant.F32, quant.F32, nil},
	quant.F16:  {quant.F16, quant.F32, nil},
	quant.BF16: {quant.BF16, quant.F32, nil},
	quant.Q8_0: {quant.Q8_0, quant.Q8_0, quantizeQ8_0Row},
	quant.Q4_0: {quant.Q4_0, quant.Q8_0, quantizeQ8_0Row},

	quant.Q4_1:   {quant.Q4_1, quant.Q8_1, QuantizeQ8_1},
	quant.Q5_0:   {quant.Q5_0, quant.Q8_0, quantizeQ8_0Row},
	quant.Q5_1:   {quant.Q5_1, quant.Q8_1, QuantizeQ8_1},
	quant.IQ4_NL: {quant.IQ4_NL, quant.Q8_0, quantizeQ8_0Row},

	quant.Q2_K:   {quant.Q2_K, quant.Q8_K, QuantizeQ8_K},
	quant.Q3_K:   {quant.Q3_K, quant.Q8_K, QuantizeQ8_K},
	quant.Q4_K:   {quant.Q4_K, quant.Q8_K, QuantizeQ8_K},
	quant.Q5_K:   {quant.Q5_K, quant.Q8_K, QuantizeQ8_K},
	quant.Q6_K:   {quant.Q6_K, quant.Q8_K, QuantizeQ8_K},
	quant.IQ4_XS: {quant.IQ4_XS, quant.Q8_K, QuantizeQ8_K},
}

// genericDots are the portable Go dot products, the oracle for every
// assembly version.
var genericDots = map[quant.Type]Dots{
	quant.F32:  {Float: DotF32},
	quant.F16:  {Float: DotF16F32},
	quant.BF16: {Float: DotBF16F32},
	quant.Q8_0: {X1: DotQ8_0, X2: DotQ8_0x2, X4: DotQ8_0x4},
	quant.Q4_0: {X1: DotQ4_0Q8_0, X2: DotQ4_0Q8_0x2, X4: DotQ4_0Q8_0x4},

	quant.Q4_1:   {X1: DotQ4_1Q8_1},
	quant.Q5_0:   {X1: DotQ5_0Q8_0},
	quant.Q5_1:   {X1: DotQ5_1Q8_1},
	quant.IQ4_NL: {X1: DotIQ4_NLQ8_0},

	quant.Q2_K:   {X1: DotQ2_KQ8_K, X2: kX2(kQ2_K), X4: kX4(kQ2_K)},
	quant.Q3_K:   {X1: DotQ3_KQ8_K, X2: kX2(kQ3_K), X4: kX4(kQ3_K)},
	quant.Q4_K:   {X1: DotQ4_KQ8_K, X2: kX2(kQ4_K), X4: kX4(kQ4_K)},
	quant.Q5_K:   {X1: DotQ5_KQ8_K, X2: kX2(kQ5_K), X4: kX4(kQ5_K)},
	quant.Q6_K:   {X1: DotQ6_KQ8_K, X2: kX2(kQ6_K), X4: kX4(kQ6_K)},
	quant.IQ4_XS: {X1: DotIQ4_XSQ8_K, X2: kX2(kIQ4_XS), X4: kX4(kIQ4_XS)},
}

// TypeTraits returns the traits of weight type t, and false if products
// with t are not implemented.
func TypeTraits(t quant.Type) (Traits, bool) {
	tr, ok := table[t]
	return tr, ok
}

// Types returns the weight types products are implemented for, in type id
// order.
func Types() []quant.Type {
	ts := make([]quant.Type, 0, len(table))
	for t := range table {
		ts = append(ts, t)
	}
	slices.Sort(ts)
	return ts
}

// MaxActivationBytes returns the largest quantized activation row of at
// most cols values over all weight types, for sizing scratch memory before
// the weight types and row lengths are known.
func MaxActivationBytes(cols int) int {
	n := 0
	for _, tr := range table {
		if bs := tr.Activation.BlockSize(); tr.Quantized() && bs > 0 {
			n = max(n, tr.ActivationBytes(cols/bs*bs))
		}
	}
	return n
}
