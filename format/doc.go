// Package format reads and writes GGUF v3 files: the header, typed metadata,
// the tensor table and the aligned tensor data section. It knows nothing of
// models or of the values inside tensors beyond their byte sizes.
//
// Invariants of a File returned by Open or Parse: keys and tensor names are
// unique, every tensor has a known type, 1 to 4 non-zero dimensions and rows
// that are a whole number of blocks, every tensor's offset is a multiple of
// the alignment, its bytes lie inside the file and no two tensors overlap.
// Every validation failure is an error wrapping ErrCorrupt; no input makes
// the parser panic or allocate much more than the size of the file.
//
// A Writer produces a file atomically: the file appears at its path only
// when Close succeeds.
package format
