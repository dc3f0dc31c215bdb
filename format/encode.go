package format

import (
	"encoding/binary"
	"fmt"
	"math"
)

// maxArrayDepth bounds the nesting of arrays (an array of scalars has depth 1).
const maxArrayDepth = 8

// typeOf returns the GGUF type of a metadata value of a supported Go type.
func typeOf(v any) (ValueType, bool) {
	switch v.(type) {
	case uint8:
		return TypeUint8, true
	case int8:
		return TypeInt8, true
	case uint16:
		return TypeUint16, true
	case int16:
		return TypeInt16, true
	case uint32:
		return TypeUint32, true
	case int32:
		return TypeInt32, true
	case float32:
		return TypeFloat32, true
	case bool:
		return TypeBool, true
	case string:
		return TypeString, true
	case uint64:
		return TypeUint64, true
	case int64:
		return TypeInt64, true
	case float64:
		return TypeFloat64, true
	case Array:
		return TypeArray, true
	}
	return 0, false
}

// arrayLen returns the length of a.Values, reporting false when its Go type
// does not match a.Elem. A nil Values is an empty array.
func arrayLen(a Array) (int, bool) {
	if a.Values == nil {
		return 0, a.Elem.Valid()
	}
	switch s := a.Values.(type) {
	case []uint8:
		return len(s), a.Elem == TypeUint8
	case []int8:
		return len(s), a.Elem == TypeInt8
	case []uint16:
		return len(s), a.Elem == TypeUint16
	case []int16:
		return len(s), a.Elem == TypeInt16
	case []uint32:
		return len(s), a.Elem == TypeUint32
	case []int32:
		return len(s), a.Elem == TypeInt32
	case []float32:
		return len(s), a.Elem == TypeFloat32
	case []bool:
		return len(s), a.Elem == TypeBool
	case []string:
		return len(s), a.Elem == TypeString
	case []uint64:
		return len(s), a.Elem == TypeUint64
	case []int64:
		return len(s), a.Elem == TypeInt64
	case []float64:
		return len(s), a.Elem == TypeFloat64
	case []Array:
		return len(s), a.Elem == TypeArray
	}
	return 0, false
}

// asArray turns a plain typed slice into an Array.
func asArray(v any) (Array, bool) {
	switch v.(type) {
	case []uint8:
		return Array{TypeUint8, v}, true
	case []int8:
		return Array{TypeInt8, v}, true
	case []uint16:
		return Array{TypeUint16, v}, true
	case []int16:
		return Array{TypeInt16, v}, true
	case []uint32:
		return Array{TypeUint32, v}, true
	case []int32:
		return Array{TypeInt32, v}, true
	case []float32:
		return Array{TypeFloat32, v}, true
	case []bool:
		return Array{TypeBool, v}, true
	case []string:
		return Array{TypeString, v}, true
	case []uint64:
		return Array{TypeUint64, v}, true
	case []int64:
		return Array{TypeInt64, v}, true
	case []float64:
		return Array{TypeFloat64, v}, true
	case []Array:
		return Array{TypeArray, v}, true
	}
	return Array{}, false
}

// checkValue reports why v cannot be written as a metadata value.
func checkValue(v any, depth int) error {
	a, isArray := v.(Array)
	if !isArray {
		if _, ok := typeOf(v); !ok {
			return fmt.Errorf("unsupported value type %T", v)
		}
		return nil
	}
	if depth >= maxArrayDepth {
		return fmt.Errorf("arrays nested deeper than %d", maxArrayDepth)
	}
	if _, ok := arrayLen(a); !ok {
		return fmt.Errorf("array of %s holds %T", a.Elem, a.Values)
	}
	if inner, ok := a.Values.([]Array); ok {
		for i, x := range inner {
			if err := checkValue(x, depth+1); err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
		}
	}
	return nil
}

// appendHeader encodes the file header: magic, version, counts, metadata and
// tensor infos. Values must have passed checkValue.
func appendHeader(b []byte, version uint32, kvs []KV, tensors []TensorInfo) []byte {
	b = append(b, "GGUF"...)
	b = binary.LittleEndian.AppendUint32(b, version)
	b = binary.LittleEndian.AppendUint64(b, uint64(len(tensors)))
	b = binary.LittleEndian.AppendUint64(b, uint64(len(kvs)))
	for _, kv := range kvs {
		b = appendString(b, kv.Key)
		t, _ := typeOf(kv.Value)
		b = binary.LittleEndian.AppendUint32(b, uint32(t))
		b = appendValue(b, kv.Value)
	}
	for _, t := range tensors {
		b = appendString(b, t.Name)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(t.Dims)))
		for _, d := range t.Dims {
			b = binary.LittleEndian.AppendUint64(b, d)
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(t.Type))
		b = binary.LittleEndian.AppendUint64(b, t.Offset)
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}

func appendBool(b []byte, x bool) []byte {
	if x {
		return append(b, 1)
	}
	return append(b, 0)
}

// appendValue encodes a value without its type id.
func appendValue(b []byte, v any) []byte {
	le := binary.LittleEndian
	switch x := v.(type) {
	case uint8:
		return append(b, x)
	case int8:
		return append(b, byte(x))
	case uint16:
		return le.AppendUint16(b, x)
	case int16:
		return le.AppendUint16(b, uint16(x))
	case uint32:
		return le.AppendUint32(b, x)
	case int32:
		return le.AppendUint32(b, uint32(x))
	case float32:
		return le.AppendUint32(b, math.Float32bits(x))
	case bool:
		return appendBool(b, x)
	case string:
		return appendString(b, x)
	case uint64:
		return le.AppendUint64(b, x)
	case int64:
		return le.AppendUint64(b, uint64(x))
	case float64:
		return le.AppendUint64(b, math.Float64bits(x))
	case Array:
		return appendArray(b, x)
	}
	return b
}

func appendArray(b []byte, a Array) []byte {
	le := binary.LittleEndian
	n, _ := arrayLen(a)
	b = le.AppendUint32(b, uint32(a.Elem))
	b = le.AppendUint64(b, uint64(n))
	switch s := a.Values.(type) {
	case []uint8:
		b = append(b, s...)
	case []int8:
		for _, x := range s {
			b = append(b, byte(x))
		}
	case []uint16:
		for _, x := range s {
			b = le.AppendUint16(b, x)
		}
	case []int16:
		for _, x := range s {
			b = le.AppendUint16(b, uint16(x))
		}
	case []uint32:
		for _, x := range s {
			b = le.AppendUint32(b, x)
		}
	case []int32:
		for _, x := range s {
			b = le.AppendUint32(b, uint32(x))
		}
	case []float32:
		for _, x := range s {
			b = le.AppendUint32(b, math.Float32bits(x))
		}
	case []bool:
		for _, x := range s {
			b = appendBool(b, x)
		}
	case []string:
		for _, x := range s {
			b = appendString(b, x)
		}
	case []uint64:
		for _, x := range s {
			b = le.AppendUint64(b, x)
		}
	case []int64:
		for _, x := range s {
			b = le.AppendUint64(b, uint64(x))
		}
	case []float64:
		for _, x := range s {
			b = le.AppendUint64(b, math.Float64bits(x))
		}
	case []Array:
		for _, x := range s {
			b = appendArray(b, x)
		}
	}
	return b
}
