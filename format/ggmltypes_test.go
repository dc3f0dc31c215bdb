package format

import (
	"errors"
	"strings"
	"testing"

	"github.com/q3m/q3m/quant"
)

// TestParseReportsUnsupportedTypesByName checks that a well-formed file
// with a tensor of a ggml type q3m does not read is refused naming the
// type and its id, and is not called corrupt.
func TestParseReportsUnsupportedTypesByName(t *testing.T) {
	cases := []struct {
		id   uint32
		dims []uint64
		size int
		want string
	}{
		{16, []uint64{256}, 66, "unsupported tensor type IQ2_XXS (id 16)"},
		{34, []uint64{256, 2}, 108, "unsupported tensor type TQ1_0 (id 34)"},
		{39, []uint64{32}, 17, "unsupported tensor type MXFP4 (id 39)"},
		{29, []uint64{512}, 112, "unsupported tensor type IQ1_M (id 29)"},
		{4, []uint64{32}, 32, "unsupported tensor type Q4_2 (removed from ggml) (id 4)"},
		{24, []uint64{8}, 8, "unsupported tensor type I8 (id 24)"},
	}
	for _, c := range cases {
		t.Run(c.want, func(t *testing.T) {
			data := image(3, 2, 1, func(r *raw) {
				r.str("general.alignment")
				r.u32(uint32(TypeUint32))
				r.u32(32)
				r.tensor("ok", 0, 0, 8)
				r.tensor("blk.0.ffn_down_exps.weight", c.id, 32, c.dims...)
			}, 32, 32+c.size)
			_, err := Parse(data)
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, ErrCorrupt) {
				t.Errorf("error %q wraps ErrCorrupt", err)
			}
			if !errors.Is(err, ErrUnsupportedType) {
				t.Errorf("error %q does not wrap ErrUnsupportedType", err)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "blk.0.ffn_down_exps.weight") {
				t.Errorf("error %q does not say %q and name the tensor", err, c.want)
			}
		})
	}
}

// TestGGMLTypeNamesAgreeWithQuant checks the name table against the types
// q3m reads: same ids, same names.
func TestGGMLTypeNamesAgreeWithQuant(t *testing.T) {
	for id := range uint32(len(ggmlTypes)) {
		name, _ := GGMLTypeName(id)
		tensor := TensorInfo{Type: quant.Type(id), Dims: []uint64{ggmlTypes[id].blockSize * 2}}
		if !tensor.Type.Known() {
			continue
		}
		if tensor.Type.String() != name {
			t.Errorf("id %d: quant says %s, table %s", id, tensor.Type, name)
		}
		if uint64(tensor.Type.BlockSize()) != ggmlTypes[id].blockSize || uint64(tensor.Type.BlockBytes()) != ggmlTypes[id].blockBytes {
			t.Errorf("%s: quant has blocks of %d values in %d bytes, table %d in %d", name,
				tensor.Type.BlockSize(), tensor.Type.BlockBytes(), ggmlTypes[id].blockSize, ggmlTypes[id].blockBytes)
		}
	}
	if _, ok := GGMLTypeName(uint32(len(ggmlTypes))); ok {
		t.Error("id past the table has a name")
	}
}
