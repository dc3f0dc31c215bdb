package format

import (
	"errors"
	"fmt"
	"math/bits"
)

// ErrUnsupportedType is wrapped by the error for a tensor whose type id is
// one of ggml's that q3m does not read (IQ2_XXS, TQ1_0, MXFP4...). Such a
// file is not corrupt, so that error does not wrap ErrCorrupt.
var ErrUnsupportedType = errors.New("format: unsupported tensor type")

// ggmlType is one of ggml's tensor types: its name and, for types ggml
// still has, the values and bytes of a block.
type ggmlType struct {
	name                  string
	blockSize, blockBytes uint64
}

// ggmlTypes lists ggml's tensor type ids (ggml.h's enum ggml_type and
// ggml.c's type traits, ggml 0.18); ids past it are no ggml type. Removed
// types have no block size: ggml no longer reads them.
var ggmlTypes = [...]ggmlType{
	0: {"F32", 1, 4}, 1: {"F16", 1, 2}, 2: {"Q4_0", 32, 18}, 3: {"Q4_1", 32, 20},
	4: {"Q4_2 (removed from ggml)", 0, 0}, 5: {"Q4_3 (removed from ggml)", 0, 0},
	6: {"Q5_0", 32, 22}, 7: {"Q5_1", 32, 24}, 8: {"Q8_0", 32, 34}, 9: {"Q8_1", 32, 36},
	10: {"Q2_K", 256, 84}, 11: {"Q3_K", 256, 110}, 12: {"Q4_K", 256, 144},
	13: {"Q5_K", 256, 176}, 14: {"Q6_K", 256, 210}, 15: {"Q8_K", 256, 292},
	16: {"IQ2_XXS", 256, 66}, 17: {"IQ2_XS", 256, 74}, 18: {"IQ3_XXS", 256, 98},
	19: {"IQ1_S", 256, 50}, 20: {"IQ4_NL", 32, 18}, 21: {"IQ3_S", 256, 110},
	22: {"IQ2_S", 256, 82}, 23: {"IQ4_XS", 256, 136},
	24: {"I8", 1, 1}, 25: {"I16", 1, 2}, 26: {"I32", 1, 4}, 27: {"I64", 1, 8}, 28: {"F64", 1, 8},
	29: {"IQ1_M", 256, 56}, 30: {"BF16", 1, 2},
	31: {"Q4_0_4_4 (removed from ggml)", 0, 0}, 32: {"Q4_0_4_8 (removed from ggml)", 0, 0},
	33: {"Q4_0_8_8 (removed from ggml)", 0, 0},
	34: {"TQ1_0", 256, 54}, 35: {"TQ2_0", 256, 66},
	36: {"IQ4_NL_4_4 (removed from ggml)", 0, 0}, 37: {"IQ4_NL_4_8 (removed from ggml)", 0, 0},
	38: {"IQ4_NL_8_8 (removed from ggml)", 0, 0},
	39: {"MXFP4", 32, 17}, 40: {"NVFP4", 64, 36}, 41: {"Q1_0", 128, 18}, 42: {"Q2_0", 64, 18},
}

// GGMLTypeName returns ggml's name of type id, and false for an id that is
// no ggml type.
func GGMLTypeName(id uint32) (string, bool) {
	if id < uint32(len(ggmlTypes)) {
		return ggmlTypes[id].name, true
	}
	return "", false
}

// ggmlSize returns the data size of a tensor of a ggml type, checking that
// rows are whole blocks and the size does not overflow; ok is false for a
// removed type, whose size is unknown.
func (g ggmlType) size(dims []uint64) (size uint64, ok bool, err error) {
	if g.blockSize == 0 {
		return 0, false, nil
	}
	if dims[0]%g.blockSize != 0 {
		return 0, false, fmt.Errorf("rows of %d values are not a whole number of %s blocks of %d", dims[0], g.name, g.blockSize)
	}
	n := dims[0] / g.blockSize
	for _, d := range dims[1:] {
		hi, lo := bits.Mul64(n, d)
		if hi != 0 {
			return 0, false, fmt.Errorf("size of dimensions %v overflows", dims)
		}
		n = lo
	}
	hi, lo := bits.Mul64(n, g.blockBytes)
	if hi != 0 {
		return 0, false, fmt.Errorf("size of dimensions %v overflows", dims)
	}
	return lo, true, nil
}

// unsupportedTensor checks a tensor of a type q3m does not read as far as
// ggml's table allows, returning a corrupt error for a type id that is no
// ggml type or impossible dimensions, and otherwise the unsupported-type
// error to report once the rest of the file checks out.
func (d *decoder) unsupportedTensor(name string, dims []uint64, id uint32, typAt, dimsAt uint64) (unsupported *unsupportedTypeError, size uint64, sized bool, err error) {
	if id >= uint32(len(ggmlTypes)) {
		return nil, 0, false, d.errAt(typAt, "tensor %q: type id %d is not a ggml type", name, id)
	}
	g := ggmlTypes[id]
	size, sized, err = g.size(dims)
	if err != nil {
		return nil, 0, false, d.errAt(dimsAt, "tensor %q: %v", name, err)
	}
	return &unsupportedTypeError{path: d.path, tensor: name, name: g.name, id: id}, size, sized, nil
}

// checkUnsupported checks that the data of each tensor of a type q3m does
// not read lies inside the file, then reports the first such tensor.
func (f *File) checkUnsupported(us []unsupportedTensor) error {
	for _, u := range us {
		t := f.Tensors[u.index]
		if _, ok := f.slice(f.DataOffset, t.Offset, u.size); u.sized && !ok {
			return &corruptError{path: f.Path, at: -1, msg: fmt.Sprintf("tensor %q: %d bytes at offset %d (data section at %d) extend past the end of the %d-byte file",
				t.Name, u.size, t.Offset, f.DataOffset, len(f.data))}
		}
	}
	if len(us) > 0 {
		return us[0].err
	}
	return nil
}

// unsupportedTensor is a tensor of a ggml type q3m does not read.
type unsupportedTensor struct {
	index int
	size  uint64
	sized bool
	err   *unsupportedTypeError
}

// unsupportedTypeError reports a tensor of a ggml type q3m does not read.
type unsupportedTypeError struct {
	path, tensor, name string
	id                 uint32
}

func (e *unsupportedTypeError) Error() string {
	s := "format: "
	if e.path != "" {
		s += e.path + ": "
	}
	return s + fmt.Sprintf("tensor %q: unsupported tensor type %s (id %d)", e.tensor, e.name, e.id)
}

func (e *unsupportedTypeError) Unwrap() error { return ErrUnsupportedType }
