// Package asm holds the hot inner loops of q3m: dot products of one weight
// row with one activation row. Each loop has a portable Go version (the
// oracle, in generic.go); faster assembly versions register themselves under
// their own names so that tests can run every available kernel in turn.
//
// Quantized dot products follow ggml's semantics exactly: per 32-value block
// an integer sum of products, then a float32 accumulation of
// isum × (weight scale) × (activation scale).
package asm
