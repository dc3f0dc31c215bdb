package format

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	goruntime "runtime"
	"strings"
	"testing"

	"github.com/q3m/q3m/quant"
)

// raw builds GGUF bytes by hand, independently of the package's encoder.
type raw struct{ b []byte }

func (r *raw) u8(v uint8)   { r.b = append(r.b, v) }
func (r *raw) u32(v uint32) { r.b = binary.LittleEndian.AppendUint32(r.b, v) }
func (r *raw) u64(v uint64) { r.b = binary.LittleEndian.AppendUint64(r.b, v) }
func (r *raw) str(s string) { r.u64(uint64(len(s))); r.b = append(r.b, s...) }

// tensor writes a tensor info.
func (r *raw) tensor(name string, typ uint32, off uint64, dims ...uint64) {
	r.str(name)
	r.u32(uint32(len(dims)))
	for _, d := range dims {
		r.u64(d)
	}
	r.u32(typ)
	r.u64(off)
}

// image builds a file: header with the given counts, body (metadata then
// tensor infos), zero padding to align, then dataLen bytes of data.
func image(version uint32, nTensors, nKV uint64, body func(r *raw), align, dataLen int) []byte {
	r := &raw{}
	r.b = append(r.b, "GGUF"...)
	r.u32(version)
	r.u64(nTensors)
	r.u64(nKV)
	body(r)
	for len(r.b)%align != 0 {
		r.u8(0)
	}
	for i := 0; i < dataLen; i++ {
		r.u8(byte(i))
	}
	return r.b
}

// oneTensor is a valid body: general.alignment 32 and one F32 tensor of 8 values.
func oneTensor(r *raw) {
	r.str("general.alignment")
	r.u32(uint32(TypeUint32))
	r.u32(32)
	r.tensor("w", 0, 0, 8)
}

func TestWriterOutputMatchesHandBuiltBytes(t *testing.T) {
	want := image(3, 2, 3, func(r *raw) {
		r.str("general.alignment")
		r.u32(4)
		r.u32(32)
		r.str("general.architecture")
		r.u32(8)
		r.str("qwen3moe")
		r.str("a.b")
		r.u32(9)
		r.u32(5)
		r.u64(2)
		r.u32(1)
		r.u32(math.MaxUint32)       // -1
		r.tensor("w", 0, 0, 8)      // F32, 32 bytes
		r.tensor("q", 8, 32, 32, 2) // Q8_0, 2 rows of 34 bytes
	}, 32, 32+68)
	// tail padding of the last tensor to the alignment
	want = append(want, make([]byte, 96-68)...)

	data := want[len(want)-128:]
	specs := []tensorSpec{
		{name: "w", typ: quant.F32, dims: []uint64{8}, data: data[:32]},
		{name: "q", typ: quant.Q8_0, dims: []uint64{32, 2}, data: data[32:100]},
	}
	path := writeTestFile(t, t.TempDir(), 32, []KV{
		{"general.architecture", "qwen3moe"},
		{"a.b", []int32{1, -1}},
	}, specs, 5)
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("writer output differs from the hand-built file:\n got %x\nwant %x", got, want)
	}
	f, err := Parse(want)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := f.Lookup("a.b"); !reflect.DeepEqual(v, Array{TypeInt32, []int32{1, -1}}) {
		t.Errorf("a.b = %#v", v)
	}
	if f.DataOffset != uint64(len(want)-128) || f.Tensors[1].Offset != 32 {
		t.Errorf("data offset %d, q offset %d", f.DataOffset, f.Tensors[1].Offset)
	}
}

func TestParseAcceptsVersion2AndNoAlignmentKey(t *testing.T) {
	b := image(2, 1, 0, func(r *raw) { r.tensor("w", 0, 0, 8) }, 32, 32)
	f, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != 2 || f.Alignment != DefaultAlignment {
		t.Errorf("version %d alignment %d", f.Version, f.Alignment)
	}
}

func TestParseRejectsTruncationAtEveryByte(t *testing.T) {
	specs := []tensorSpec{
		{name: "a", typ: quant.Q8_0, dims: []uint64{32, 3}, data: make([]byte, 102)},
		{name: "b", typ: quant.F32, dims: []uint64{8}, data: make([]byte, 32)}, // ends aligned: no tail padding
	}
	kvs := []KV{{"s", "text"}, {"arr", []string{"x", "yz"}}, {"n", Array{TypeArray, []Array{{TypeUint16, []uint16{1}}}}}}
	full, err := os.ReadFile(writeTestFile(t, t.TempDir(), 32, kvs, specs, 64))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(full); err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(full); n++ {
		_, err := Parse(full[:n:n])
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d of %d bytes: error %v does not wrap ErrCorrupt", n, len(full), err)
		}
	}
}

func TestParseRejectsCorruption(t *testing.T) {
	valid := image(3, 1, 1, oneTensor, 32, 32)
	if _, err := Parse(valid); err != nil {
		t.Fatal(err)
	}
	patch := func(at int, v uint64, size int) []byte {
		b := bytes.Clone(valid)
		for i := 0; i < size; i++ {
			b[at+i] = byte(v >> (8 * i))
		}
		return b
	}
	kv := func(key string, typ uint32, value func(r *raw)) []byte {
		return image(3, 0, 1, func(r *raw) { r.str(key); r.u32(typ); value(r) }, 32, 0)
	}
	tensors := func(n uint64, align uint32, dataLen int, infos func(r *raw)) []byte {
		return image(3, n, 1, func(r *raw) {
			r.str("general.alignment")
			r.u32(4)
			r.u32(align)
			infos(r)
		}, int(align), dataLen)
	}
	nested := func(depth int) func(r *raw) {
		return func(r *raw) {
			for i := 0; i < depth-1; i++ {
				r.u32(9)
				r.u64(1)
			}
			r.u32(0)
			r.u64(0)
		}
	}
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"bad magic", patch(0, 'X', 1), "magic"},
		{"version 1", patch(4, 1, 4), "version"},
		{"version 4", patch(4, 4, 4), "version"},
		{"big-endian version", patch(4, 3<<24, 4), "big-endian"},
		{"huge tensor count", patch(8, 1<<62, 8), "tensor count"},
		{"huge metadata count", patch(16, math.MaxUint64, 8), "metadata count"},
		{"huge key length", patch(24, 1<<60, 8), "length"},
		{"unknown value type", kv("k", 13, func(r *raw) { r.u32(0) }), "unknown value type"},
		{"unknown array type", kv("k", 9, func(r *raw) { r.u32(99); r.u64(0) }), "unknown array element type"},
		{"huge array count", kv("k", 9, func(r *raw) { r.u32(12); r.u64(1 << 61) }), "exceeds"},
		{"huge string array", kv("k", 9, func(r *raw) { r.u32(8); r.u64(1 << 40) }), "exceeds"},
		{"huge string in array", kv("k", 9, func(r *raw) { r.u32(8); r.u64(1); r.u64(1 << 40) }), "length"},
		{"bool value 2", kv("k", 7, func(r *raw) { r.u8(2) }), "bool"},
		{"bool element 3", kv("k", 9, func(r *raw) { r.u32(7); r.u64(2); r.u8(1); r.u8(3) }), "bool"},
		{"arrays nested too deep", kv("k", 9, nested(maxArrayDepth+1)), "nested"},
		{"alignment not uint32", kv(KeyAlignment, 10, func(r *raw) { r.u64(32) }), "want uint32"},
		{"alignment zero", kv(KeyAlignment, 4, func(r *raw) { r.u32(0) }), "multiple of 8"},
		{"alignment 12", kv(KeyAlignment, 4, func(r *raw) { r.u32(12) }), "multiple of 8"},
		{"duplicate key", image(3, 0, 2, func(r *raw) {
			r.str("k")
			r.u32(0)
			r.u8(1)
			r.str("k")
			r.u32(0)
			r.u8(1)
		}, 32, 0), "duplicate metadata key"},
		{"duplicate tensor", tensors(2, 32, 64, func(r *raw) { r.tensor("w", 0, 0, 8); r.tensor("w", 0, 32, 8) }), "duplicate tensor"},
		{"name too long", tensors(1, 32, 32, func(r *raw) { r.tensor(strings.Repeat("n", 64), 0, 0, 8) }), "longer than 63"},
		{"no dimensions", tensors(1, 32, 32, func(r *raw) { r.tensor("w", 0, 0) }), "dimensions"},
		{"five dimensions", tensors(1, 32, 32, func(r *raw) { r.tensor("w", 0, 0, 1, 1, 1, 1, 8) }), "dimensions"},
		{"zero dimension", tensors(1, 32, 32, func(r *raw) { r.tensor("w", 0, 0, 8, 0) }), "is 0"},
		{"type id past ggml's", tensors(1, 32, 32, func(r *raw) { r.tensor("w", 99, 0, 8) }), "type id 99 is not a ggml type"},
		{"first type id past ggml's", tensors(1, 32, 32, func(r *raw) { r.tensor("w", 43, 0, 8) }), "type id 43 is not a ggml type"},
		{"unsupported type, partial block", tensors(1, 32, 96, func(r *raw) { r.tensor("w", 16, 0, 128) }), "whole number of IQ2_XXS blocks"},
		{"unsupported type, past the end", tensors(1, 32, 64, func(r *raw) { r.tensor("w", 16, 0, 256) }), "66 bytes at offset 0"},
		{"unsupported type, then a corrupt tensor", tensors(2, 32, 128, func(r *raw) { r.tensor("a", 34, 0, 256); r.tensor("b", 0, 16, 4) }), "not a multiple"},
		{"partial block", tensors(1, 32, 64, func(r *raw) { r.tensor("w", 8, 0, 16, 2) }), "whole number"},
		{"element count overflow", tensors(1, 32, 32, func(r *raw) { r.tensor("w", 0, 0, 1<<32, 1<<32) }), "overflows"},
		{"byte size overflow", tensors(1, 32, 32, func(r *raw) { r.tensor("w", 0, 0, 1<<62) }), "overflows"},
		{"misaligned offset", tensors(1, 32, 64, func(r *raw) { r.tensor("w", 0, 16, 4) }), "not a multiple"},
		{"misaligned to 64", tensors(1, 64, 128, func(r *raw) { r.tensor("w", 0, 32, 4) }), "not a multiple"},
		{"offset past end", tensors(1, 32, 32, func(r *raw) { r.tensor("w", 0, 32, 8) }), "past the end"},
		{"huge offset", tensors(1, 32, 32, func(r *raw) { r.tensor("w", 0, math.MaxUint64-31, 8) }), "past the end"},
		{"overlapping tensors", tensors(2, 32, 128, func(r *raw) { r.tensor("a", 0, 32, 8); r.tensor("b", 0, 0, 16) }), "overlap"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.data)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
		})
	}
}

func TestParseRefusesHeadersOverTheLimit(t *testing.T) {
	b := image(3, 1, 2, func(r *raw) {
		r.str("big")
		r.u32(uint32(TypeArray))
		r.u32(uint32(TypeUint32))
		r.u64(100)
		r.b = append(r.b, make([]byte, 400)...)
		oneTensor(r)
	}, 32, 32)
	if _, err := parseLimit("", b, len(b)); err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{300, 470} { // inside the array, inside the tensor info
		_, err := parseLimit("", b, limit)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), fmt.Sprintf("header limit of %d bytes", limit)) {
			t.Errorf("limit %d: error %v", limit, err)
		}
	}
}

func TestParseErrorsNameTheFile(t *testing.T) {
	path := t.TempDir() + "/bad.gguf"
	if err := os.WriteFile(path, image(3, 1, 1, oneTensor, 32, 16), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), `"w"`) {
		t.Errorf("error %v should wrap ErrCorrupt and name %s and the tensor", err, path)
	}
}

func FuzzParse(f *testing.F) {
	dir := f.TempDir()
	seeds := [][]KV{nil, allValueKVs(), {{"general.architecture", "qwen3moe"}, {"tok", []string{"a", "b"}}}}
	for i, kvs := range seeds {
		var specs []tensorSpec
		if i > 0 {
			specs = randomTensors(rand.New(rand.NewPCG(uint64(i), 0)))[(i-1)*4 : (i-1)*4+5]
		}
		b, err := os.ReadFile(writeTestFile(f, dir, 32, kvs, specs, 1<<20))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(image(3, 1, 1, oneTensor, 32, 32))
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after goruntime.MemStats
		goruntime.ReadMemStats(&before)
		file, err := Parse(data)
		goruntime.ReadMemStats(&after)
		// Every count, length and dimension is checked against the bytes
		// left before it drives an allocation: what parsing allocates
		// follows the file's size. The worst case is a header of minimal
		// 13-byte metadata pairs, each costing a KV, a map entry and a
		// boxed value: about 13 times its encoding.
		if n := after.TotalAlloc - before.TotalAlloc; n > 32*uint64(len(data))+(1<<20) {
			t.Fatalf("parsing %d bytes allocated %d", len(data), n)
		}
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		// A parsed header encodes back to the very same bytes.
		if enc := appendHeader(nil, file.Version, file.KV, file.Tensors); !bytes.Equal(enc, data[:file.headerEnd]) {
			t.Fatalf("header re-encodes differently")
		}
		for _, ti := range file.Tensors {
			if uint64(len(file.Data(ti))) != ti.Bytes() || ti.Offset%file.Alignment != 0 {
				t.Fatalf("tensor %q: %d bytes of data, want %d", ti.Name, len(file.Data(ti)), ti.Bytes())
			}
			if len(ti.Dims) == 3 {
				for e := 0; uint64(e) < min(ti.Dims[2], 4); e++ {
					if _, err := file.ExpertData(ti, e); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	})
}
