package format

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/q3m/q3m/quant"
)

// tensorSpec is a tensor to write in a test, with its data.
type tensorSpec struct {
	name string
	typ  quant.Type
	dims []uint64
	data []byte
}

// writeTestFile writes a file with the given metadata and tensors, feeding
// the data through Write in chunks of chunk bytes, and returns its path.
func writeTestFile(t testing.TB, dir string, alignment uint64, kvs []KV, tensors []tensorSpec, chunk int) string {
	t.Helper()
	path := filepath.Join(dir, "test.gguf")
	w, err := Create(path, alignment)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	for _, kv := range kvs {
		if err := w.AddKV(kv.Key, kv.Value); err != nil {
			t.Fatal(err)
		}
	}
	var all []byte
	for _, ts := range tensors {
		if err := w.AddTensor(ts.name, ts.typ, ts.dims...); err != nil {
			t.Fatal(err)
		}
		all = append(all, ts.data...)
	}
	for len(all) > 0 {
		k := min(chunk, len(all))
		if n, err := w.Write(all[:k]); err != nil || n != k {
			t.Fatalf("Write(%d bytes) = %d, %v", k, n, err)
		}
		all = all[k:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func openTest(t testing.TB, path string) *File {
	t.Helper()
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// allValueKVs holds one pair of every value type, nested and empty arrays included.
func allValueKVs() []KV {
	return []KV{
		{"u8", uint8(200)},
		{"i8", int8(-100)},
		{"u16", uint16(60000)},
		{"i16", int16(-30000)},
		{"u32", uint32(4000000000)},
		{"i32", int32(-2000000000)},
		{"f32", float32(3.25)},
		{"bool.true", true},
		{"bool.false", false},
		{"str", "héllo wörld"},
		{"str.empty", ""},
		{"u64", uint64(math.MaxUint64)},
		{"i64", int64(math.MinInt64)},
		{"f64", float64(-1e300)},
		{"a.u8", Array{TypeUint8, []uint8{0, 1, 255}}},
		{"a.i8", Array{TypeInt8, []int8{-128, 0, 127}}},
		{"a.u16", Array{TypeUint16, []uint16{1, 65535}}},
		{"a.i16", Array{TypeInt16, []int16{-32768, 32767}}},
		{"a.u32", Array{TypeUint32, []uint32{7, 1 << 31}}},
		{"a.i32", Array{TypeInt32, []int32{-1, 2, -3}}},
		{"a.f32", Array{TypeFloat32, []float32{1.5, float32(math.Inf(-1))}}},
		{"a.bool", Array{TypeBool, []bool{true, false, true}}},
		{"a.str", Array{TypeString, []string{"a", "", "Ġ Ġ"}}},
		{"a.u64", Array{TypeUint64, []uint64{math.MaxUint64}}},
		{"a.i64", Array{TypeInt64, []int64{math.MinInt64, 5}}},
		{"a.f64", Array{TypeFloat64, []float64{math.Pi}}},
		{"a.empty.str", Array{TypeString, []string{}}},
		{"a.empty.i32", Array{TypeInt32, []int32{}}},
		{"a.empty.nested", Array{TypeArray, []Array{}}},
		{"a.nested", Array{TypeArray, []Array{
			{TypeInt32, []int32{1, 2}},
			{TypeString, []string{"x"}},
			{TypeArray, []Array{{TypeBool, []bool{true}}, {TypeUint8, []uint8{}}}},
		}}},
	}
}

func TestMetadataRoundTripsEveryValueType(t *testing.T) {
	kvs := allValueKVs()
	f := openTest(t, writeTestFile(t, t.TempDir(), 32, kvs, nil, 1))
	want := append([]KV{{KeyAlignment, uint32(32)}}, kvs...)
	if len(f.KV) != len(want) {
		t.Fatalf("got %d pairs, want %d", len(f.KV), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(f.KV[i], want[i]) {
			t.Errorf("pair %d: got %#v, want %#v", i, f.KV[i], want[i])
		}
		if v, ok := f.Lookup(want[i].Key); !ok || !reflect.DeepEqual(v, want[i].Value) {
			t.Errorf("Lookup(%q) = %#v, %v", want[i].Key, v, ok)
		}
	}
	if f.Version != 3 || f.Alignment != 32 || len(f.Tensors) != 0 {
		t.Errorf("version %d alignment %d tensors %d", f.Version, f.Alignment, len(f.Tensors))
	}
}

func TestWriterTakesPlainSlicesAndNilAsArrays(t *testing.T) {
	kvs := []KV{
		{"s", []string{"a", "b"}},
		{"i", []int32{1, -1}},
		{"f", []float32{0.5}},
		{"n", []Array{{TypeUint64, []uint64{9}}}},
		{"nil", Array{Elem: TypeFloat64}},
	}
	f := openTest(t, writeTestFile(t, t.TempDir(), 32, kvs, nil, 1))
	want := map[string]any{
		"s":   Array{TypeString, []string{"a", "b"}},
		"i":   Array{TypeInt32, []int32{1, -1}},
		"f":   Array{TypeFloat32, []float32{0.5}},
		"n":   Array{TypeArray, []Array{{TypeUint64, []uint64{9}}}},
		"nil": Array{TypeFloat64, []float64{}},
	}
	for k, w := range want {
		if v, _ := f.Lookup(k); !reflect.DeepEqual(v, w) {
			t.Errorf("%s: got %#v, want %#v", k, v, w)
		}
	}
}

func TestTypedAccessors(t *testing.T) {
	kvs := append(allValueKVs(), KV{"a.u64.big", Array{TypeUint64, []uint64{1 << 63}}})
	f := openTest(t, writeTestFile(t, t.TempDir(), 32, kvs, nil, 1))

	uints := []struct {
		key     string
		want    uint64
		present bool
		wantErr bool
	}{
		{"u8", 200, true, false},
		{"u16", 60000, true, false},
		{"u32", 4000000000, true, false},
		{"u64", math.MaxUint64, true, false},
		{"i64", 0, true, true}, // negative
		{"i8", 0, true, true},
		{"str", 0, true, true},
		{"f32", 0, true, true},
		{"absent", 0, false, false},
		{KeyAlignment, 32, true, false},
	}
	for _, c := range uints {
		got, ok, err := f.Uint(c.key)
		if got != c.want || ok != c.present || (err != nil) != c.wantErr {
			t.Errorf("Uint(%q) = %d, %v, %v", c.key, got, ok, err)
		}
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Errorf("Uint(%q) error %v does not wrap ErrCorrupt", c.key, err)
		}
	}
	if _, _, err := f.Uint("str"); err == nil || !strings.Contains(err.Error(), f.Path) || !strings.Contains(err.Error(), "string") {
		t.Errorf("type error %v should name the file and the type", err)
	}

	floats := []struct {
		key     string
		want    float64
		wantErr bool
	}{
		{"f32", 3.25, false}, {"f64", -1e300, false}, {"i16", -30000, false}, {"u32", 4000000000, false}, {"str", 0, true}, {"bool.true", 0, true},
	}
	for _, c := range floats {
		got, ok, err := f.Float(c.key)
		if got != c.want || !ok || (err != nil) != c.wantErr {
			t.Errorf("Float(%q) = %v, %v, %v", c.key, got, ok, err)
		}
	}
	if s, ok, err := f.String("str"); s != "héllo wörld" || !ok || err != nil {
		t.Errorf("String = %q, %v, %v", s, ok, err)
	}
	if _, ok, err := f.String("u8"); !ok || err == nil {
		t.Errorf("String of uint8: %v, %v", ok, err)
	}
	if b, ok, err := f.Bool("bool.true"); !b || !ok || err != nil {
		t.Errorf("Bool = %v, %v, %v", b, ok, err)
	}
	if _, _, err := f.Bool("u8"); err == nil {
		t.Error("Bool of uint8 gave no error")
	}
	if s, ok, err := f.Strings("a.str"); !reflect.DeepEqual(s, []string{"a", "", "Ġ Ġ"}) || !ok || err != nil {
		t.Errorf("Strings = %q, %v, %v", s, ok, err)
	}
	if _, _, err := f.Strings("a.i32"); err == nil {
		t.Error("Strings of int32 array gave no error")
	}
	if _, ok, err := f.Strings("absent"); ok || err != nil {
		t.Errorf("Strings(absent) = %v, %v", ok, err)
	}
	ints := map[string][]int64{
		"a.u8": {0, 1, 255}, "a.i8": {-128, 0, 127}, "a.u16": {1, 65535}, "a.i16": {-32768, 32767},
		"a.u32": {7, 1 << 31}, "a.i32": {-1, 2, -3}, "a.i64": {math.MinInt64, 5}, "a.empty.i32": {},
	}
	for k, w := range ints {
		if got, ok, err := f.Ints(k); !reflect.DeepEqual(got, w) || !ok || err != nil {
			t.Errorf("Ints(%q) = %v, %v, %v", k, got, ok, err)
		}
	}
	for _, k := range []string{"a.u64.big", "a.f32", "a.str", "u32"} {
		if _, _, err := f.Ints(k); err == nil {
			t.Errorf("Ints(%q) gave no error", k)
		}
	}
}

// bytesPerBlock is the reference size table of the block types, from the GGUF spec.
var bytesPerBlock = map[quant.Type][2]uint64{
	quant.F32: {1, 4}, quant.F16: {1, 2}, quant.BF16: {1, 2},
	quant.Q8_0: {32, 34}, quant.Q4_0: {32, 18}, quant.Q4_K: {256, 144}, quant.Q6_K: {256, 210},
}

func randomTensors(r *rand.Rand) []tensorSpec {
	specs := []tensorSpec{
		{name: "token_embd.weight", typ: quant.Q8_0, dims: []uint64{64, 10}},
		{name: "norm", typ: quant.F32, dims: []uint64{7}},
		{name: "half", typ: quant.F16, dims: []uint64{3, 5}},
		{name: "bf", typ: quant.BF16, dims: []uint64{9, 1, 2}},
		{name: "q4", typ: quant.Q4_0, dims: []uint64{32, 3}},
		{name: "k4", typ: quant.Q4_K, dims: []uint64{256, 2}},
		{name: "k6", typ: quant.Q6_K, dims: []uint64{512}},
		{name: "blk.0.ffn_up_exps.weight", typ: quant.Q8_0, dims: []uint64{64, 32, 4}},
		{name: "four", typ: quant.F32, dims: []uint64{2, 3, 4, 5}},
	}
	for i := range specs {
		bb := bytesPerBlock[specs[i].typ]
		n := uint64(1)
		for _, d := range specs[i].dims {
			n *= d
		}
		specs[i].data = make([]byte, n/bb[0]*bb[1])
		for j := range specs[i].data {
			specs[i].data[j] = byte(r.Uint32())
		}
	}
	return specs
}

func TestTensorDataRoundTrip(t *testing.T) {
	for _, align := range []uint64{32, 4096} {
		for _, chunk := range []int{1 << 20, 7} {
			specs := randomTensors(rand.New(rand.NewPCG(1, align)))
			f := openTest(t, writeTestFile(t, t.TempDir(), align, []KV{{"general.architecture", "qwen3moe"}}, specs, chunk))
			if f.Alignment != align || f.DataOffset%align != 0 {
				t.Fatalf("alignment %d, data offset %d", f.Alignment, f.DataOffset)
			}
			var next uint64
			for i, s := range specs {
				ti, ok := f.Tensor(s.name)
				if !ok {
					t.Fatalf("tensor %q missing", s.name)
				}
				if !reflect.DeepEqual(ti, f.Tensors[i]) || ti.Type != s.typ || !reflect.DeepEqual(ti.Dims, s.dims) {
					t.Errorf("tensor %q: got %+v", s.name, ti)
				}
				if ti.Offset != next || ti.Offset%align != 0 {
					t.Errorf("tensor %q at offset %d, want %d", s.name, ti.Offset, next)
				}
				next = (ti.Offset + uint64(len(s.data)) + align - 1) / align * align
				if ti.Bytes() != uint64(len(s.data)) {
					t.Errorf("tensor %q: Bytes %d, want %d", s.name, ti.Bytes(), len(s.data))
				}
				bb := bytesPerBlock[s.typ]
				if ti.RowBytes() != s.dims[0]/bb[0]*bb[1] {
					t.Errorf("tensor %q: RowBytes %d", s.name, ti.RowBytes())
				}
				if got := f.Data(ti); !bytes.Equal(got, s.data) {
					t.Errorf("tensor %q: data differs (align %d, chunk %d)", s.name, align, chunk)
				}
				abs := f.DataOffset + ti.Offset
				if !bytes.Equal(f.Mapping()[abs:abs+uint64(len(s.data))], s.data) {
					t.Errorf("tensor %q: mapping differs at %d", s.name, abs)
				}
			}
			st, _ := os.Stat(f.Path)
			if uint64(st.Size()) != f.DataOffset+next {
				t.Errorf("file size %d, want data offset %d + %d padded data bytes", st.Size(), f.DataOffset, next)
			}
			if _, ok := f.Tensor("nope"); ok {
				t.Error("Tensor found an undeclared name")
			}
		}
	}
}

func TestExpertRangeIsOffsetPlusExpertIndexTimesExpertBytes(t *testing.T) {
	const h, i, e = 64, 32, 4
	per := uint64(h * i / 32 * 34) // Q8_0: 34 bytes per 32 values
	data := make([]byte, per*e)
	for j := range data {
		data[j] = byte(j * 7)
	}
	specs := []tensorSpec{
		{name: "router", typ: quant.F32, dims: []uint64{h, e}, data: make([]byte, h*e*4)},
		{name: "exps", typ: quant.Q8_0, dims: []uint64{h, i, e}, data: data},
	}
	f := openTest(t, writeTestFile(t, t.TempDir(), 4096, nil, specs, 1000))
	ti, _ := f.Tensor("exps")
	for x := 0; x < e; x++ {
		off, n, err := f.ExpertRange(ti, x)
		if err != nil {
			t.Fatal(err)
		}
		if off != f.DataOffset+ti.Offset+uint64(x)*per || n != per {
			t.Errorf("expert %d: range (%d, %d), want (%d, %d)", x, off, n, f.DataOffset+ti.Offset+uint64(x)*per, per)
		}
		got, err := f.ExpertData(ti, x)
		if err != nil || !bytes.Equal(got, data[uint64(x)*per:uint64(x+1)*per]) {
			t.Errorf("expert %d: data differs (%v)", x, err)
		}
	}
	router, _ := f.Tensor("router")
	for _, c := range []struct {
		t TensorInfo
		e int
	}{{ti, -1}, {ti, e}, {router, 0}} {
		if _, _, err := f.ExpertRange(c.t, c.e); err == nil {
			t.Errorf("ExpertRange(%q, %d) gave no error", c.t.Name, c.e)
		}
	}
}

func TestCloseUnmapsAndIsSafeTwice(t *testing.T) {
	specs := randomTensors(rand.New(rand.NewPCG(2, 2)))
	f, err := Open(writeTestFile(t, t.TempDir(), 32, nil, specs, 4096))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if f.Mapping() != nil || f.Data(f.Tensors[0]) != nil {
		t.Error("memory still reachable after Close")
	}
}

func TestOpenRejectsEmptyAndMissingFiles(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.gguf")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(empty)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), empty) {
		t.Errorf("empty file: %v", err)
	}
	missing := filepath.Join(dir, "missing.gguf")
	if _, err := Open(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: %v", err)
	}
}

func TestValueTypeString(t *testing.T) {
	if TypeFloat32.String() != "float32" || TypeArray.String() != "array" || ValueType(99).String() != "ValueType(99)" {
		t.Error("ValueType.String")
	}
}
