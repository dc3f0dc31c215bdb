// Package asm holds the hot inner loops of q3m: dot products of one weight
// row with one activation row, and for prefill of one quantized weight row
// with four or two activation rows at once (multirow.go), each result equal
// bit for bit to the same kernel's single-row product. Each loop has a portable Go version (the
// oracle, in generic.go); faster assembly versions register themselves under
// their own names so that tests can run every available kernel in turn:
// "avx2" on amd64 CPUs with AVX2, FMA and F16C, "neon" on arm64 and
// "neon-dotprod" on arm64 CPUs with SDOT. The purego build tag leaves the
// assembly out.
//
// Quantized dot products follow ggml's semantics exactly: per 32-value block
// an integer sum of products, then a float32 accumulation of
// isum × (weight scale) × (activation scale). The assembly kernels compute
// the integer sums exactly for every int8 value (-128 included) and differ
// from the generic ones only in the order and fusing of the float
// accumulation.
package asm
