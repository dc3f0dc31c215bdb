package runtime

import (
	"fmt"
	"strings"

	"github.com/q3m/q3m/ops"
	"github.com/q3m/q3m/quant"
)

// KVType is the element type of a session's KV cache. The zero value is
// KVF16, the default.
type KVType uint8

// The KV cache types. Keys and values are rounded to the type as they are
// stored and dequantized as attention reads them; prefill and decode store
// and read them alike, so their results stay bit-identical under each type.
const (
	KVF16  KVType = iota // 2 bytes a value
	KVQ8_0               // 34 bytes per 32 values; needs a head dim multiple of 32
	KVF32                // 4 bytes a value, no rounding
)

var kvTypes = [...]struct {
	name string
	typ  quant.Type
}{KVF16: {"f16", quant.F16}, KVQ8_0: {"q8_0", quant.Q8_0}, KVF32: {"f32", quant.F32}}

// String returns the type's name as ParseKVType reads it: f16, q8_0 or f32.
func (t KVType) String() string {
	if int(t) < len(kvTypes) {
		return kvTypes[t].name
	}
	return fmt.Sprintf("KVType(%d)", uint8(t))
}

// ParseKVType reads a KV cache type name: f16, q8_0 or f32 (any case).
func ParseKVType(s string) (KVType, error) {
	for i, k := range kvTypes {
		if strings.EqualFold(s, k.name) {
			return KVType(i), nil
		}
	}
	return 0, fmt.Errorf("runtime: unknown KV cache type %q (want f16, q8_0 or f32)", s)
}

// quantType returns the type's element type, checking that it suits heads
// of hd values.
func (t KVType) quantType(hd int) (quant.Type, error) {
	if int(t) >= len(kvTypes) {
		return 0, fmt.Errorf("runtime: unknown KV cache type %d", uint8(t))
	}
	q := kvTypes[t].typ
	if !ops.KVTypeOK(q, hd) {
		return 0, fmt.Errorf("runtime: KV cache type %v needs a head dim multiple of %d, not %d", t, q.BlockSize(), hd)
	}
	return q, nil
}

// KVBytesPerToken returns the bytes of KV cache one position takes in a
// session of model configuration c with cache type t (keys and values of
// every layer), or an error if t does not suit c's head dim.
func KVBytesPerToken(c Config, t KVType) (int, error) {
	q, err := t.quantType(c.HeadDim)
	if err != nil {
		return 0, err
	}
	rb, err := q.RowBytes(c.KVHeads * c.HeadDim)
	if err != nil {
		return 0, fmt.Errorf("runtime: KV cache row: %w", err)
	}
	return 2 * c.Layers * rb, nil
}

// kvCache is a session's keys and values, per layer, grown by growKV.
type kvCache struct {
	kind   KVType
	typ    quant.Type
	rowLen int // values per row: KVHeads·HeadDim
	rowB   int // bytes per row in typ
	k, v   []ops.KVRows
}

func newKVCache(c Config, t KVType) (kvCache, error) {
	q, err := t.quantType(c.HeadDim)
	if err != nil {
		return kvCache{}, err
	}
	n := c.KVHeads * c.HeadDim
	rb, err := q.RowBytes(n)
	if err != nil {
		return kvCache{}, fmt.Errorf("runtime: KV cache row: %w", err)
	}
	kv := kvCache{kind: t, typ: q, rowLen: n, rowB: rb, k: make([]ops.KVRows, c.Layers), v: make([]ops.KVRows, c.Layers)}
	for i := range kv.k {
		kv.k[i].Type, kv.v[i].Type = q, q
	}
	return kv, nil
}

// rows returns the number of positions the cache holds.
func (kv *kvCache) rows() int {
	if len(kv.k) == 0 {
		return 0
	}
	if kv.typ == quant.F32 {
		return len(kv.k[0].F32) / kv.rowLen
	}
	return len(kv.k[0].Data) / kv.rowB
}

// grow makes every layer hold size positions.
func (kv *kvCache) grow(size int) {
	for i := range kv.k {
		for _, r := range []*ops.KVRows{&kv.k[i], &kv.v[i]} {
			if kv.typ == quant.F32 {
				r.F32 = append(r.F32, make([]float32, size*kv.rowLen-len(r.F32))...)
			} else {
				r.Data = append(r.Data, make([]byte, size*kv.rowB-len(r.Data))...)
			}
		}
	}
}

// store writes row x (rowLen values) at position p of r, rounded to the
// cache's type.
func (kv *kvCache) store(r *ops.KVRows, p int, x []float32) {
	if kv.typ == quant.F32 {
		copy(r.F32[p*kv.rowLen:(p+1)*kv.rowLen], x)
		return
	}
	// Sizes are the type's by construction: this cannot fail.
	_ = quant.Quantize(kv.typ, r.Data[p*kv.rowB:(p+1)*kv.rowB], x)
}

// upTo returns r's rows for positions [0, n).
func (kv *kvCache) upTo(r ops.KVRows, n int) ops.KVRows {
	if kv.typ == quant.F32 {
		r.F32 = r.F32[:n*kv.rowLen]
	} else {
		r.Data = r.Data[:n*kv.rowB]
	}
	return r
}
