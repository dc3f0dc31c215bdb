// Package asm holds the hot inner loops of q3m: dot products of one weight
// row with one activation row, and for prefill of one quantized weight row
// with four or two activation rows at once (multirow.go), each result equal
// bit for bit to the same kernel's single-row product.
//
// One table (types.go), like ggml's type traits, says for every weight type
// which type activations are quantized to and how; each kernel holds its
// dot products per weight type (Kernel.Dots), so callers never switch on
// the type. Each loop has a portable Go version (the oracle, in generic.go);
// faster assembly versions register themselves per type under their
// kernel's name, so that tests can run every available kernel in turn:
// "avx2" on amd64 CPUs with AVX2, FMA and F16C, "neon" on arm64 and
// "neon-dotprod" on arm64 CPUs with SDOT. A kernel without its own version
// of a type uses the generic one. The purego build tag leaves the assembly
// out.
//
// Quantized dot products follow ggml's semantics exactly: per 32-value block
// an integer sum of products, then a float32 accumulation of
// isum × (weight scale) × (activation scale). The assembly kernels compute
// the integer sums exactly for every int8 value (-128 included) and differ
// from the generic ones only in the order and fusing of the float
// accumulation.
package asm
