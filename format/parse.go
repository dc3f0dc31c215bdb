package format

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"

	"github.com/q3m/q3m/quant"
)

// Smallest encodings, used to bound counts read from the file by the bytes left.
const (
	minKVBytes     = 8 + 4 + 1         // empty key, type, uint8 value
	minTensorBytes = 8 + 4 + 8 + 4 + 8 // empty name, n_dims, one dim, type, offset
	minArrayBytes  = 4 + 8             // elem type, count
)

// maxHeaderBytes bounds the header (metadata and tensor infos), and with it
// the memory a corrupt count can make the parser allocate. Real headers,
// large vocabularies included, take a few megabytes.
const maxHeaderBytes = 256 << 20

// maxPrealloc bounds the capacity reserved from a count read from the file;
// longer lists grow as their entries are decoded.
const maxPrealloc = 1 << 12

// corruptError is a validation failure; it wraps ErrCorrupt.
type corruptError struct {
	path string
	at   int64 // byte offset in the file, or -1
	msg  string
}

func (e *corruptError) Error() string {
	s := "format: "
	if e.path != "" {
		s += e.path + ": "
	}
	s += "corrupt GGUF file: " + e.msg
	if e.at >= 0 {
		s += fmt.Sprintf(" (at byte %d)", e.at)
	}
	return s
}

func (e *corruptError) Unwrap() error { return ErrCorrupt }

// decoder reads the header of a file image.
type decoder struct {
	path   string
	data   []byte // the header part of the file, at most maxHeaderBytes
	capped bool   // the file is longer than data
	pos    uint64
	// unsupported lists the tensors of ggml types q3m does not read,
	// reported once the rest of the file checks out.
	unsupported []unsupportedTensor
}

func (d *decoder) errAt(at uint64, format string, args ...any) error {
	return &corruptError{path: d.path, at: int64(at), msg: fmt.Sprintf(format, args...)}
}

func (d *decoder) remaining() uint64 { return uint64(len(d.data)) - d.pos }

// room describes the bytes left, for messages.
func (d *decoder) room() string {
	if d.capped {
		return fmt.Sprintf("the header limit of %d bytes", len(d.data))
	}
	return fmt.Sprintf("the %d bytes left", d.remaining())
}

// take returns the next n bytes; what (a format and its arguments) names
// them in the error.
func (d *decoder) take(n uint64, what string, args ...any) ([]byte, error) {
	if n > d.remaining() {
		if d.capped {
			return nil, d.errAt(d.pos, "reading %s: beyond %s", fmt.Sprintf(what, args...), d.room())
		}
		return nil, d.errAt(d.pos, "truncated reading %s: need %d bytes, %d left", fmt.Sprintf(what, args...), n, d.remaining())
	}
	b := d.data[d.pos : d.pos+n]
	d.pos += n
	return b, nil
}

func (d *decoder) u32(what string, args ...any) (uint32, error) {
	b, err := d.take(4, what, args...)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (d *decoder) u64(what string, args ...any) (uint64, error) {
	b, err := d.take(8, what, args...)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

func (d *decoder) str(what string, args ...any) (string, error) {
	at := d.pos
	n, err := d.u64(what+" length", args...)
	if err != nil {
		return "", err
	}
	if n > d.remaining() {
		return "", d.errAt(at, "%s length %d exceeds %s", fmt.Sprintf(what, args...), n, d.room())
	}
	b, _ := d.take(n, what, args...)
	return string(b), nil
}

// strings decodes n strings, copying their bytes once and slicing that copy.
func (d *decoder) strings(n uint64, key string) ([]string, error) {
	le := binary.LittleEndian
	start, end := d.pos, d.pos
	for i := uint64(0); i < n; i++ {
		if uint64(len(d.data))-end < 8 || le.Uint64(d.data[end:]) > uint64(len(d.data))-end-8 {
			d.pos = end
			_, err := d.str("element %d of key %q", i, key)
			return nil, err
		}
		end += 8 + le.Uint64(d.data[end:])
	}
	blob := string(d.data[start:end])
	s := make([]string, n)
	p := uint64(0)
	for i := range s {
		l := le.Uint64(d.data[start+p:])
		s[i] = blob[p+8 : p+8+l]
		p += 8 + l
	}
	d.pos = end
	return s, nil
}

// Parse parses and validates a whole GGUF file image held in memory. The
// returned File refers to data, which must not change while it is in use.
func Parse(data []byte) (*File, error) { return parse("", data) }

func parse(path string, data []byte) (*File, error) { return parseLimit(path, data, maxHeaderBytes) }

// parseLimit parses a file whose header may take at most limit bytes.
func parseLimit(path string, data []byte, limit int) (*File, error) {
	d := &decoder{path: path, data: data}
	if len(data) > limit {
		d.data, d.capped = data[:limit], true
	}
	if len(data) == 0 {
		return nil, d.errAt(0, "empty file")
	}
	magic, err := d.take(4, "magic")
	if err != nil {
		return nil, err
	}
	if string(magic) != "GGUF" {
		return nil, d.errAt(0, "bad magic %q, want \"GGUF\"", magic)
	}
	version, err := d.u32("version")
	if err != nil {
		return nil, err
	}
	switch {
	case version == 2 || version == 3:
	case version&0xFFFF == 0 && version != 0:
		return nil, d.errAt(4, "unsupported version %#x (big-endian file?)", version)
	default:
		return nil, d.errAt(4, "unsupported version %d, want 3", version)
	}
	nTensors, err := d.u64("tensor count")
	if err != nil {
		return nil, err
	}
	nKV, err := d.u64("metadata count")
	if err != nil {
		return nil, err
	}
	if nKV > d.remaining()/minKVBytes {
		return nil, d.errAt(16, "metadata count %d exceeds what fits in %s", nKV, d.room())
	}
	if nTensors > (d.remaining()-nKV*minKVBytes)/minTensorBytes {
		return nil, d.errAt(8, "tensor count %d exceeds what fits in %s", nTensors, d.room())
	}
	f := &File{
		Path:      path,
		Version:   version,
		Alignment: DefaultAlignment,
		KV:        make([]KV, 0, min(nKV, maxPrealloc)),
		Tensors:   make([]TensorInfo, 0, min(nTensors, maxPrealloc)),
		keys:      make(map[string]int, min(nKV, maxPrealloc)),
		names:     make(map[string]int, min(nTensors, maxPrealloc)),
		data:      data,
	}
	for i := uint64(0); i < nKV; i++ {
		if err := d.kv(f, i); err != nil {
			return nil, err
		}
	}
	for i := uint64(0); i < nTensors; i++ {
		if err := d.tensorInfo(f, i); err != nil {
			return nil, err
		}
	}
	if err := f.setAlignment(d); err != nil {
		return nil, err
	}
	f.headerEnd = d.pos
	f.DataOffset = alignUp(d.pos, f.Alignment)
	if err := f.checkLayout(); err != nil {
		return nil, err
	}
	if err := f.checkUnsupported(d.unsupported); err != nil {
		return nil, err
	}
	return f, nil
}

func (d *decoder) kv(f *File, i uint64) error {
	at := d.pos
	key, err := d.str("metadata key %d", i)
	if err != nil {
		return err
	}
	if _, dup := f.keys[key]; dup {
		return d.errAt(at, "duplicate metadata key %q", key)
	}
	typAt := d.pos
	t, err := d.u32("type of key %q", key)
	if err != nil {
		return err
	}
	v, err := d.value(ValueType(t), 0, typAt, key)
	if err != nil {
		return err
	}
	f.keys[key] = len(f.KV)
	f.KV = append(f.KV, KV{Key: key, Value: v})
	return nil
}

// elemSize returns the smallest encoding of a value of type t.
func elemSize(t ValueType) uint64 {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeUint16, TypeInt16:
		return 2
	case TypeUint32, TypeInt32, TypeFloat32:
		return 4
	case TypeString, TypeUint64, TypeInt64, TypeFloat64:
		return 8
	}
	return minArrayBytes
}

// value decodes a value of type t of the key; typAt is where its type id was read.
func (d *decoder) value(t ValueType, depth int, typAt uint64, key string) (any, error) {
	if !t.Valid() {
		return nil, d.errAt(typAt, "key %q: unknown value type %d", key, uint32(t))
	}
	if t == TypeArray {
		return d.array(depth+1, key)
	}
	if t == TypeString {
		return d.str("value of key %q", key)
	}
	at := d.pos
	b, err := d.take(elemSize(t), "value of key %q", key)
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	switch t {
	case TypeUint8:
		return b[0], nil
	case TypeInt8:
		return int8(b[0]), nil
	case TypeUint16:
		return le.Uint16(b), nil
	case TypeInt16:
		return int16(le.Uint16(b)), nil
	case TypeUint32:
		return le.Uint32(b), nil
	case TypeInt32:
		return int32(le.Uint32(b)), nil
	case TypeFloat32:
		return math.Float32frombits(le.Uint32(b)), nil
	case TypeBool:
		if b[0] > 1 {
			return nil, d.errAt(at, "key %q: bool value %d, want 0 or 1", key, b[0])
		}
		return b[0] == 1, nil
	case TypeUint64:
		return le.Uint64(b), nil
	case TypeInt64:
		return int64(le.Uint64(b)), nil
	default: // TypeFloat64
		return math.Float64frombits(le.Uint64(b)), nil
	}
}

func (d *decoder) array(depth int, key string) (Array, error) {
	at := d.pos
	if depth > maxArrayDepth {
		return Array{}, d.errAt(at, "key %q: arrays nested deeper than %d", key, maxArrayDepth)
	}
	et, err := d.u32("array type of key %q", key)
	if err != nil {
		return Array{}, err
	}
	elem := ValueType(et)
	if !elem.Valid() {
		return Array{}, d.errAt(at, "key %q: unknown array element type %d", key, et)
	}
	n, err := d.u64("array length of key %q", key)
	if err != nil {
		return Array{}, err
	}
	size := elemSize(elem)
	if n > d.remaining()/size {
		return Array{}, d.errAt(at+4, "key %q: array of %d %s exceeds %s", key, n, elem, d.room())
	}
	a := Array{Elem: elem}
	switch elem {
	case TypeString:
		s, err := d.strings(n, key)
		if err != nil {
			return Array{}, err
		}
		a.Values = s
	case TypeArray:
		s := make([]Array, 0, min(n, maxPrealloc))
		for i := uint64(0); i < n; i++ {
			x, err := d.array(depth+1, key)
			if err != nil {
				return Array{}, err
			}
			s = append(s, x)
		}
		a.Values = s
	case TypeBool:
		b, _ := d.take(n, "array")
		s := make([]bool, n)
		for i, x := range b {
			if x > 1 {
				return Array{}, d.errAt(d.pos-n+uint64(i), "key %q: bool element %d is %d, want 0 or 1", key, i, x)
			}
			s[i] = x == 1
		}
		a.Values = s
	default:
		b, _ := d.take(n*size, "array")
		a.Values = decodeFixed(elem, b, n)
	}
	return a, nil
}

// decodeFixed decodes n little-endian numbers of type t from b.
func decodeFixed(t ValueType, b []byte, n uint64) any {
	le := binary.LittleEndian
	switch t {
	case TypeUint8:
		return append(make([]uint8, 0, n), b...)
	case TypeInt8:
		return fill(make([]int8, n), func(i int) int8 { return int8(b[i]) })
	case TypeUint16:
		return fill(make([]uint16, n), func(i int) uint16 { return le.Uint16(b[2*i:]) })
	case TypeInt16:
		return fill(make([]int16, n), func(i int) int16 { return int16(le.Uint16(b[2*i:])) })
	case TypeUint32:
		return fill(make([]uint32, n), func(i int) uint32 { return le.Uint32(b[4*i:]) })
	case TypeInt32:
		return fill(make([]int32, n), func(i int) int32 { return int32(le.Uint32(b[4*i:])) })
	case TypeFloat32:
		return fill(make([]float32, n), func(i int) float32 { return math.Float32frombits(le.Uint32(b[4*i:])) })
	case TypeUint64:
		return fill(make([]uint64, n), func(i int) uint64 { return le.Uint64(b[8*i:]) })
	case TypeInt64:
		return fill(make([]int64, n), func(i int) int64 { return int64(le.Uint64(b[8*i:])) })
	default: // TypeFloat64
		return fill(make([]float64, n), func(i int) float64 { return math.Float64frombits(le.Uint64(b[8*i:])) })
	}
}

func fill[T any](s []T, at func(int) T) []T {
	for i := range s {
		s[i] = at(i)
	}
	return s
}

func (d *decoder) tensorInfo(f *File, i uint64) error {
	at := d.pos
	name, err := d.str("name of tensor %d", i)
	if err != nil {
		return err
	}
	if len(name) > MaxNameLen {
		return d.errAt(at, "tensor %d: name of %d bytes is longer than %d", i, len(name), MaxNameLen)
	}
	if _, dup := f.names[name]; dup {
		return d.errAt(at, "duplicate tensor name %q", name)
	}
	dimsAt := d.pos
	nDims, err := d.u32("dimension count of tensor %q", name)
	if err != nil {
		return err
	}
	if nDims == 0 || nDims > MaxDims {
		return d.errAt(dimsAt, "tensor %q: %d dimensions, want 1 to %d", name, nDims, MaxDims)
	}
	t := TensorInfo{Name: name, Dims: make([]uint64, nDims)}
	for j := range t.Dims {
		at := d.pos
		if t.Dims[j], err = d.u64("dimensions of tensor %q", name); err != nil {
			return err
		}
		if t.Dims[j] == 0 {
			return d.errAt(at, "tensor %q: dimension %d is 0", name, j)
		}
	}
	typAt := d.pos
	typ, err := d.u32("type of tensor %q", name)
	if err != nil {
		return err
	}
	t.Type = quant.Type(typ)
	if !t.Type.Known() {
		u, size, sized, err := d.unsupportedTensor(name, t.Dims, typ, typAt, dimsAt)
		if err != nil {
			return err
		}
		if t.Offset, err = d.u64("offset of tensor %q", name); err != nil {
			return err
		}
		d.unsupported = append(d.unsupported, unsupportedTensor{len(f.Tensors), size, sized, u})
		f.names[name] = len(f.Tensors)
		f.Tensors = append(f.Tensors, t)
		return nil
	}
	if bs := uint64(t.Type.BlockSize()); t.Dims[0]%bs != 0 {
		return d.errAt(dimsAt, "tensor %q: rows of %d values are not a whole number of %s blocks of %d", name, t.Dims[0], t.Type, bs)
	}
	if _, ok := t.size(); !ok {
		return d.errAt(dimsAt, "tensor %q: size of dimensions %v overflows", name, t.Dims)
	}
	if t.Offset, err = d.u64("offset of tensor %q", name); err != nil {
		return err
	}
	f.names[name] = len(f.Tensors)
	f.Tensors = append(f.Tensors, t)
	return nil
}

// setAlignment reads general.alignment, once the whole header is known.
func (f *File) setAlignment(d *decoder) error {
	v, ok := f.Lookup(KeyAlignment)
	if !ok {
		return nil
	}
	a, isU32 := v.(uint32)
	if !isU32 {
		return &corruptError{path: f.Path, at: -1, msg: fmt.Sprintf("%s is %s, want uint32", KeyAlignment, describe(v))}
	}
	if a == 0 || a%8 != 0 {
		return &corruptError{path: f.Path, at: -1, msg: fmt.Sprintf("%s is %d, want a non-zero multiple of 8", KeyAlignment, a)}
	}
	f.Alignment = uint64(a)
	return nil
}

func alignUp(n, a uint64) uint64 { return (n + a - 1) / a * a }

// checkLayout checks that every tensor is aligned, inside the file and
// overlaps no other.
func (f *File) checkLayout() error {
	bad := func(format string, args ...any) error {
		return &corruptError{path: f.Path, at: -1, msg: fmt.Sprintf(format, args...)}
	}
	order := make([]int, len(f.Tensors))
	for i, t := range f.Tensors {
		order[i] = i
		if t.Offset%f.Alignment != 0 {
			return bad("tensor %q: offset %d is not a multiple of the alignment %d", t.Name, t.Offset, f.Alignment)
		}
		size, _ := t.size()
		if _, ok := f.slice(f.DataOffset, t.Offset, size); !ok {
			return bad("tensor %q: %d bytes at offset %d (data section at %d) extend past the end of the %d-byte file",
				t.Name, size, t.Offset, f.DataOffset, len(f.data))
		}
	}
	sort.Slice(order, func(a, b int) bool { return f.Tensors[order[a]].Offset < f.Tensors[order[b]].Offset })
	for k := 1; k < len(order); k++ {
		prev, next := f.Tensors[order[k-1]], f.Tensors[order[k]]
		size, _ := prev.size()
		if prev.Offset+size > next.Offset {
			return bad("tensors %q (offset %d, %d bytes) and %q (offset %d) overlap",
				prev.Name, prev.Offset, size, next.Name, next.Offset)
		}
	}
	return nil
}
