package convert

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

func FuzzSafetensorsHeader(f *testing.F) {
	f.Add(safetensorsFile([]hfTensor{
		{Name: "a", DType: "F32", Shape: []int64{2, 2}, Data: []float32{1, 2, 3, 4}},
		{Name: "b", DType: "BF16", Shape: []int64{3}, Data: []float32{1, 2, 3}},
		{Name: "c", DType: "F16", Shape: []int64{0}},
	}))
	js := `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F16","shape":[4],"data_offsets":[4,12]}}`
	f.Add(append(append(binary.LittleEndian.AppendUint64(nil, uint64(len(js))), js...), make([]byte, 12)...))
	f.Add([]byte{2, 0, 0, 0, 0, 0, 0, 0, '{', '}'})
	f.Fuzz(func(t *testing.T, file []byte) {
		ts, err := parseSafetensors(bytes.NewReader(file), int64(len(file)))
		if err != nil {
			return
		}
		for name, tt := range ts {
			if tt.Off < 8 || tt.Bytes < 0 || tt.Off+tt.Bytes > int64(len(file)) {
				t.Fatalf("tensor %q: range [%d, +%d) outside the %d-byte file", name, tt.Off, tt.Bytes, len(file))
			}
			n, ok := shapeBytes(tt.Shape, int64(tt.Type.BlockBytes()))
			if !ok || n != tt.Bytes {
				t.Fatalf("tensor %q: shape %v does not match %d bytes", name, tt.Shape, tt.Bytes)
			}
			for other, o := range ts {
				if other != name && tt.Bytes > 0 && o.Bytes > 0 && tt.Off < o.Off+o.Bytes && o.Off < tt.Off+tt.Bytes {
					t.Fatalf("tensors %q and %q overlap", name, other)
				}
			}
		}
	})
}
