// Package ops is the arithmetic of q3m: matrix-vector and matrix-matrix
// products over quantized weight matrices, activation quantization, RMSNorm,
// RoPE, softmax, SiLU and attention, plus the worker pool that spreads rows
// across threads.
//
// Weights are read in place (Matrix.Data is typically a view of a mapped
// file). For quantized weights the activation rows are quantized to the
// type llama.cpp pairs with the weight type (Q8_0, Q8_1 or Q8_K; see
// package asm's table) once per product (once per distinct input and
// activation type of a fused MatMuls) and integer block dot products are
// used, as llama.cpp does; for F32, F16 and BF16 weights activations stay
// float32.
//
// Scratch memory belongs to an Exec, one per caller (a runtime.Session);
// a Pool may be shared by any number of Execs used from different goroutines.
// An Exec itself is not safe for concurrent use. After warm-up, no operation
// allocates.
package ops
