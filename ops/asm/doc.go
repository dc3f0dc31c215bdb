// Package asm holds the hot inner loops of q3m: dot products of one weight
// row with one activation row, and for prefill of one quantized weight row
// with eight, four or two activation rows at once (multirow.go), each
// result equal bit for bit to the same kernel's single-row product.
//
// One table (types.go), like ggml's type traits, says for every weight type
// which type activations are quantized to (Q8_0, Q8_1 or Q8_K, as llama.cpp
// pairs them) and how; each kernel holds its dot products per weight type
// (Kernel.Dots), so callers never switch on the type. Each loop has a
// portable Go version (the oracle, in generic*.go); faster assembly
// versions register themselves per type under their kernel's name, so
// that tests can run every available kernel in turn: "avx2" on amd64 CPUs
// with AVX2, FMA and F16C (Q8_0 and Q4_0 in one activation row, four
// weight rows, and a group of eight activation rows), "avx512vnni" (the avx2 kernel
// with AVX-512 VNNI forms of Q8_0 and Q4_0 — one to eight activation rows,
// four weight rows — generated into q8_0_amd64.s, and eight-row K-quant forms,
// kquant_avx512_amd64.s) on CPUs that also have AVX-512 F, BW, VL and
// VNNI, "neon" on arm64, "neon-dotprod" on arm64 CPUs with SDOT, and
// "neon-i8mm" (neon-dotprod with Q8_0 and Q4_0 products in one to eight
// activation rows, the multi-row forms with SMMLA, i8mm_arm64.s) on those
// that also have the int8 matrix multiply extension. A kernel without its
// own version of a type uses the generic one. The purego build tag leaves
// the assembly out.
//
// Activation quantizers keep every value in [-127, 127], whatever the
// input (activations.go); kernels rely on it where they move the weights'
// signs onto the activations to multiply with VPMADDUBSW.
//
// Q8_0 and Q4_0 products follow ggml's scalar code: per 32-value block an
// integer sum of products, then a float32 accumulation of
// isum × (weight scale) × (activation scale); their assembly computes the
// integer sums exactly (for every int8 weight, and every activation the
// quantizers write) and differs only in the order and fusing of the float
// accumulation. Two orders are
// modelled in Go. The lane models, dotQ8_0Lanes and dotQ4_0Q8_0Lanes
// (eight int32 lanes a block, ggml's x86 order), are followed bit for bit
// by every form of the avx512vnni kernel's products. The chain models,
// dotQ8_0Chains and dotQ4_0Q8_0Chains (one exact sum per block, two fused
// multiply-add chains), by every form of the neon-i8mm and avx2 kernels'
// products; the avx2 prefill form (G8) holds eight tokens side by side in
// a register and so costs about one conversion and one multiply-add per
// block and token instead of eight. The amd64 assembly
// (q8_0_amd64.s) is generated with avo by the program in _gen. Every other type's
// generic twin follows llama.cpp's x86 AVX2 kernel instead — its
// eight int32 lanes, fused multiply-adds and horizontal sums (fma32,
// hsum8) — so that it, and the assembly registered for it, equal ggml's
// AVX2 result bit for bit (testdata/ops/vecdot.bin.gz).
package asm
