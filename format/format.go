package format

import (
	"errors"
	"fmt"
	"math"
	"math/bits"

	"github.com/q3m/q3m/quant"
)

// ValueType is a GGUF metadata value type id.
type ValueType uint32

// GGUF metadata value type ids.
const (
	TypeUint8   ValueType = 0
	TypeInt8    ValueType = 1
	TypeUint16  ValueType = 2
	TypeInt16   ValueType = 3
	TypeUint32  ValueType = 4
	TypeInt32   ValueType = 5
	TypeFloat32 ValueType = 6
	TypeBool    ValueType = 7
	TypeString  ValueType = 8
	TypeArray   ValueType = 9
	TypeUint64  ValueType = 10
	TypeInt64   ValueType = 11
	TypeFloat64 ValueType = 12
)

var valueTypeNames = [...]string{"uint8", "int8", "uint16", "int16", "uint32", "int32",
	"float32", "bool", "string", "array", "uint64", "int64", "float64"}

// String returns the GGUF name of the type, such as "uint32".
func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("ValueType(%d)", uint32(t))
}

// Valid reports whether t is a GGUF value type id.
func (t ValueType) Valid() bool { return int(t) < len(valueTypeNames) }

// Array is a GGUF array. Values is a typed Go slice matching Elem: []uint8,
// []int8, []uint16, []int16, []uint32, []int32, []float32, []bool, []string,
// []uint64, []int64, []float64, or []Array (nested arrays).
type Array struct {
	Elem   ValueType
	Values any
}

// Len returns the number of elements of the array (0 when Values does not match Elem).
func (a Array) Len() int {
	n, _ := arrayLen(a)
	return n
}

// KV is one metadata pair. Value has one of the Go types uint8, int8, uint16,
// int16, uint32, int32, float32, bool, string, uint64, int64, float64, Array.
type KV struct {
	Key   string
	Value any
}

// MaxNameLen is the longest tensor name accepted, in bytes (llama.cpp's
// GGML_MAX_NAME of 64 includes the terminating NUL).
const MaxNameLen = 63

// MaxDims is the largest number of tensor dimensions.
const MaxDims = 4

// DefaultAlignment is the data alignment of a file without general.alignment.
const DefaultAlignment = 32

// KeyAlignment is the metadata key holding the data alignment.
const KeyAlignment = "general.alignment"

// TensorInfo describes one tensor of a file.
type TensorInfo struct {
	Name   string
	Type   quant.Type
	Dims   []uint64 // Dims[0] varies fastest
	Offset uint64   // from the start of the data section
}

// Elements returns the number of values of the tensor.
func (t TensorInfo) Elements() uint64 {
	n := uint64(1)
	for _, d := range t.Dims {
		n *= d
	}
	return n
}

// Bytes returns the size of the tensor's data in bytes (0 for an unknown type).
func (t TensorInfo) Bytes() uint64 {
	bs := uint64(t.Type.BlockSize())
	if bs == 0 {
		return 0
	}
	return t.Elements() / bs * uint64(t.Type.BlockBytes())
}

// RowBytes returns the size in bytes of one row of Dims[0] values (0 for an
// unknown type or a tensor without dimensions).
func (t TensorInfo) RowBytes() uint64 {
	bs := uint64(t.Type.BlockSize())
	if bs == 0 || len(t.Dims) == 0 {
		return 0
	}
	return t.Dims[0] / bs * uint64(t.Type.BlockBytes())
}

// size returns Bytes, reporting false when the computation overflows.
func (t TensorInfo) size() (uint64, bool) {
	n := uint64(1)
	for _, d := range t.Dims {
		hi, lo := bits.Mul64(n, d)
		if hi != 0 {
			return 0, false
		}
		n = lo
	}
	bs := uint64(t.Type.BlockSize())
	if bs == 0 {
		return 0, false
	}
	hi, lo := bits.Mul64(n/bs, uint64(t.Type.BlockBytes()))
	return lo, hi == 0
}

// File is a parsed GGUF file. Slices returned by Data, ExpertData and Mapping
// are views of the file's memory and must not be used after Close.
type File struct {
	Path       string
	Version    uint32
	Alignment  uint64
	KV         []KV
	Tensors    []TensorInfo
	DataOffset uint64 // absolute file offset of the data section

	data      []byte
	unmap     func([]byte) error
	keys      map[string]int
	names     map[string]int
	headerEnd uint64
}

// ErrCorrupt is wrapped by every validation error: errors.Is(err, format.ErrCorrupt).
var ErrCorrupt = errors.New("format: corrupt or truncated GGUF file")

// where names the file in error messages.
func (f *File) where() string {
	if f.Path == "" {
		return "format"
	}
	return "format: " + f.Path
}

// Close releases the file's memory. It is safe to call twice.
func (f *File) Close() error {
	data, unmap := f.data, f.unmap
	f.data, f.unmap = nil, nil
	if data == nil || unmap == nil {
		return nil
	}
	if err := unmap(data); err != nil {
		return fmt.Errorf("%s: unmap: %w", f.where(), err)
	}
	return nil
}

// Mapping returns the whole file image (nil after Close).
func (f *File) Mapping() []byte { return f.data }

// Lookup returns the value of the metadata key.
func (f *File) Lookup(key string) (any, bool) {
	i, ok := f.keys[key]
	if !ok {
		return nil, false
	}
	return f.KV[i].Value, true
}

// Tensor returns the tensor with the given name.
func (f *File) Tensor(name string) (TensorInfo, bool) {
	i, ok := f.names[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.Tensors[i], true
}

// Data returns the tensor's bytes, a view of the file's memory. It returns nil
// when the tensor does not lie inside the file (or after Close).
func (f *File) Data(t TensorInfo) []byte {
	n, ok := t.size()
	if !ok {
		return nil
	}
	b, _ := f.slice(f.DataOffset, t.Offset, n)
	return b
}

// slice returns data[base+off : base+off+n] when it is inside the file.
func (f *File) slice(base, off, n uint64) ([]byte, bool) {
	start := base + off
	if start < base {
		return nil, false
	}
	end := start + n
	if end < start || end > uint64(len(f.data)) {
		return nil, false
	}
	return f.data[start:end:end], true
}

// ExpertRange returns the absolute file byte range [off, off+n) of expert e
// of a 3-D tensor whose Dims[2] counts the experts.
func (f *File) ExpertRange(t TensorInfo, e int) (off, n uint64, err error) {
	if len(t.Dims) != 3 {
		return 0, 0, fmt.Errorf("%s: tensor %q has %d dimensions, want 3 for experts", f.where(), t.Name, len(t.Dims))
	}
	if e < 0 || uint64(e) >= t.Dims[2] {
		return 0, 0, fmt.Errorf("%s: tensor %q: expert %d out of range [0, %d)", f.where(), t.Name, e, t.Dims[2])
	}
	size, ok := t.size()
	if !ok {
		return 0, 0, fmt.Errorf("%s: tensor %q: size overflows", f.where(), t.Name)
	}
	n = size / t.Dims[2]
	rel := t.Offset + uint64(e)*n
	if _, ok := f.slice(f.DataOffset, rel, n); !ok {
		return 0, 0, fmt.Errorf("%s: tensor %q: expert %d lies outside the file", f.where(), t.Name, e)
	}
	return f.DataOffset + rel, n, nil
}

// ExpertData returns the bytes of expert e of a 3-D tensor, a view of the file's memory.
func (f *File) ExpertData(t TensorInfo, e int) ([]byte, error) {
	off, n, err := f.ExpertRange(t, e)
	if err != nil {
		return nil, err
	}
	return f.data[off : off+n : off+n], nil
}

// typeError reports a metadata value of an unexpected type.
func (f *File) typeError(key string, v any, want string) error {
	return fmt.Errorf("%s: key %q is %s, want %s: %w", f.where(), key, describe(v), want, ErrCorrupt)
}

// describe names the GGUF type of a metadata value.
func describe(v any) string {
	if a, ok := v.(Array); ok {
		return "array of " + a.Elem.String()
	}
	if t, ok := typeOf(v); ok {
		return t.String()
	}
	return fmt.Sprintf("%T", v)
}

// Uint returns an integer value of any integer type, which must not be
// negative; (0, false, nil) when the key is absent.
func (f *File) Uint(key string) (uint64, bool, error) {
	v, ok := f.Lookup(key)
	if !ok {
		return 0, false, nil
	}
	if u, isU := asUint(v); isU {
		return u, true, nil
	}
	if i, isI := asInt(v); isI {
		if i < 0 {
			return 0, true, fmt.Errorf("%s: key %q is %d, want a value >= 0: %w", f.where(), key, i, ErrCorrupt)
		}
		return uint64(i), true, nil
	}
	return 0, true, f.typeError(key, v, "an integer")
}

// Float returns a float32, float64 or integer value as float64.
func (f *File) Float(key string) (float64, bool, error) {
	v, ok := f.Lookup(key)
	if !ok {
		return 0, false, nil
	}
	switch x := v.(type) {
	case float32:
		return float64(x), true, nil
	case float64:
		return x, true, nil
	}
	if u, isU := asUint(v); isU {
		return float64(u), true, nil
	}
	if i, isI := asInt(v); isI {
		return float64(i), true, nil
	}
	return 0, true, f.typeError(key, v, "a number")
}

// String returns a string value.
func (f *File) String(key string) (string, bool, error) {
	v, ok := f.Lookup(key)
	if !ok {
		return "", false, nil
	}
	s, isS := v.(string)
	if !isS {
		return "", true, f.typeError(key, v, "string")
	}
	return s, true, nil
}

// Bool returns a bool value.
func (f *File) Bool(key string) (bool, bool, error) {
	v, ok := f.Lookup(key)
	if !ok {
		return false, false, nil
	}
	b, isB := v.(bool)
	if !isB {
		return false, true, f.typeError(key, v, "bool")
	}
	return b, true, nil
}

// Strings returns an array of strings.
func (f *File) Strings(key string) ([]string, bool, error) {
	v, ok := f.Lookup(key)
	if !ok {
		return nil, false, nil
	}
	a, isA := v.(Array)
	s, isS := a.Values.([]string)
	if !isA || !isS {
		return nil, true, f.typeError(key, v, "array of string")
	}
	return s, true, nil
}

// Ints returns an array of any integer type as int64s.
func (f *File) Ints(key string) ([]int64, bool, error) {
	v, ok := f.Lookup(key)
	if !ok {
		return nil, false, nil
	}
	a, isA := v.(Array)
	if !isA {
		return nil, true, f.typeError(key, v, "array of integers")
	}
	var out []int64
	switch s := a.Values.(type) {
	case []uint8:
		out = convertInts(s)
	case []int8:
		out = convertInts(s)
	case []uint16:
		out = convertInts(s)
	case []int16:
		out = convertInts(s)
	case []uint32:
		out = convertInts(s)
	case []int32:
		out = convertInts(s)
	case []int64:
		out = append([]int64{}, s...)
	case []uint64:
		out = make([]int64, len(s))
		for i, x := range s {
			if x > math.MaxInt64 {
				return nil, true, fmt.Errorf("%s: key %q: element %d is %d, too large for int64: %w", f.where(), key, i, x, ErrCorrupt)
			}
			out[i] = int64(x)
		}
	default:
		return nil, true, f.typeError(key, v, "array of integers")
	}
	return out, true, nil
}

func convertInts[T uint8 | int8 | uint16 | int16 | uint32 | int32](s []T) []int64 {
	out := make([]int64, len(s))
	for i, x := range s {
		out[i] = int64(x)
	}
	return out
}

func asUint(v any) (uint64, bool) {
	switch x := v.(type) {
	case uint8:
		return uint64(x), true
	case uint16:
		return uint64(x), true
	case uint32:
		return uint64(x), true
	case uint64:
		return x, true
	}
	return 0, false
}

func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	}
	return 0, false
}
