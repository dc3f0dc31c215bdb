package convert

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/q3m/q3m/quant"
)

// maxHeader is the largest safetensors JSON header accepted (the format's own limit).
const maxHeader = 100 << 20

// srcTensor is one tensor of a safetensors shard.
type srcTensor struct {
	Name  string
	Type  quant.Type // F32, F16 or BF16
	Shape []int64
	Off   int64 // absolute file offset of the data
	Bytes int64
	shard *shard
}

// shard is one open safetensors file.
type shard struct {
	path    string
	f       *os.File
	tensors map[string]*srcTensor
}

// openShard opens path and validates its header against the file size.
func openShard(path string) (*shard, error) {
	f, st, err := openRegular(path)
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	s := &shard{path: path, f: f}
	if s.tensors, err = parseSafetensors(f, st.Size()); err != nil {
		f.Close()
		return nil, fmt.Errorf("convert: %s: %w", path, err)
	}
	for _, t := range s.tensors {
		t.shard = s
	}
	return s, nil
}

// ReadAt reads len(p) bytes of tensor data at absolute offset off.
func (s *shard) ReadAt(p []byte, off int64) error {
	if _, err := s.f.ReadAt(p, off); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("convert: %s: %w", s.path, err)
	}
	return nil
}

type stEntry struct {
	DType       string  `json:"dtype"`
	Shape       []int64 `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// stType returns the element type of a supported safetensors dtype.
func stType(dtype string) (quant.Type, bool) {
	switch dtype {
	case "F32":
		return quant.F32, true
	case "F16":
		return quant.F16, true
	case "BF16":
		return quant.BF16, true
	}
	return 0, false
}

// parseSafetensors reads and validates the header of a safetensors file of
// the given size: 8-byte little-endian header length, JSON header, data.
// Every tensor must be F32, F16 or BF16, lie inside the data, have exactly
// prod(shape)·size bytes and overlap no other tensor.
func parseSafetensors(r io.ReaderAt, size int64) (map[string]*srcTensor, error) {
	var lenBuf [8]byte
	if size < 8 {
		return nil, fmt.Errorf("safetensors: file of %d bytes is too short", size)
	}
	if _, err := r.ReadAt(lenBuf[:], 0); err != nil {
		return nil, fmt.Errorf("safetensors: reading header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n < 2 || n > maxHeader || n > uint64(size-8) {
		return nil, fmt.Errorf("safetensors: header length %d out of bounds (file has %d bytes)", n, size)
	}
	hdr := make([]byte, n)
	if _, err := r.ReadAt(hdr, 8); err != nil {
		return nil, fmt.Errorf("safetensors: reading header: %w", err)
	}
	var raw map[string]json.RawMessage
	if err := CheckJSONText(hdr); err != nil {
		return nil, fmt.Errorf("safetensors: header JSON: %w", err)
	}
	if err := json.Unmarshal(hdr, &raw); err != nil {
		return nil, fmt.Errorf("safetensors: header JSON: %w", err)
	}
	if raw == nil {
		return nil, fmt.Errorf("safetensors: header is not a JSON object")
	}
	base := 8 + int64(n)
	dataLen := size - base
	out := make(map[string]*srcTensor, len(raw))
	for name, msg := range raw {
		if name == "__metadata__" {
			continue
		}
		var e stEntry
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: %w", name, err)
		}
		typ, ok := stType(e.DType)
		if !ok {
			return nil, fmt.Errorf("safetensors: tensor %q: dtype %q not supported (want BF16, F16 or F32)", name, e.DType)
		}
		if len(e.DataOffsets) != 2 {
			return nil, fmt.Errorf("safetensors: tensor %q: data_offsets must hold 2 numbers", name)
		}
		begin, end := e.DataOffsets[0], e.DataOffsets[1]
		if begin < 0 || end < begin || end > dataLen {
			return nil, fmt.Errorf("safetensors: tensor %q: data_offsets [%d, %d] outside the %d data bytes (truncated file?)", name, begin, end, dataLen)
		}
		nbytes, ok := shapeBytes(e.Shape, int64(typ.BlockBytes()))
		if !ok || nbytes != end-begin {
			return nil, fmt.Errorf("safetensors: tensor %q: shape %v of %s does not take the %d bytes of data_offsets", name, e.Shape, e.DType, end-begin)
		}
		if e.Shape == nil {
			e.Shape = []int64{}
		}
		out[name] = &srcTensor{Name: name, Type: typ, Shape: e.Shape, Off: base + begin, Bytes: nbytes}
	}
	list := make([]*srcTensor, 0, len(out))
	for _, t := range out {
		list = append(list, t)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].Off != list[j].Off {
			return list[i].Off < list[j].Off
		}
		return list[i].Bytes < list[j].Bytes
	})
	for i := 1; i < len(list); i++ {
		if p := list[i-1]; p.Off+p.Bytes > list[i].Off {
			return nil, fmt.Errorf("safetensors: tensors %q and %q overlap", p.Name, list[i].Name)
		}
	}
	return out, nil
}

// shapeBytes returns prod(shape)·elem, or false on a negative dimension or overflow.
func shapeBytes(shape []int64, elem int64) (int64, bool) {
	n := uint64(elem)
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, false
		}
		n = lo
	}
	return int64(n), true
}

// checkpoint is the set of shards of one model, with the tensors not yet
// consumed by the conversion plan.
type checkpoint struct {
	shards  []*shard
	tensors map[string]*srcTensor
	used    map[string]bool
}

// openCheckpoint opens the shards of dir: those listed in
// model.safetensors.index.json, else model.safetensors, else every
// *.safetensors file.
func openCheckpoint(dir string) (*checkpoint, error) {
	files, want, err := shardFiles(dir)
	if err != nil {
		return nil, err
	}
	c := &checkpoint{tensors: map[string]*srcTensor{}, used: map[string]bool{}}
	for _, name := range files {
		s, err := openShard(filepath.Join(dir, name))
		if err != nil {
			c.Close()
			return nil, err
		}
		c.shards = append(c.shards, s)
		for tn, t := range s.tensors {
			if prev, ok := c.tensors[tn]; ok {
				c.Close()
				return nil, fmt.Errorf("convert: tensor %q is in both %s and %s", tn, prev.shard.path, s.path)
			}
			c.tensors[tn] = t
		}
	}
	for tn, file := range want {
		t, ok := c.tensors[tn]
		if !ok || filepath.Base(t.shard.path) != file {
			c.Close()
			return nil, fmt.Errorf("convert: %s: tensor %q listed in weight_map is not in %s",
				filepath.Join(dir, "model.safetensors.index.json"), tn, file)
		}
	}
	return c, nil
}

// shardFiles returns the shard file names of dir and, when an index exists,
// its weight_map.
func shardFiles(dir string) ([]string, map[string]string, error) {
	idxPath := filepath.Join(dir, "model.safetensors.index.json")
	data, err := readRegular(idxPath, maxIndexBytes)
	if err == nil {
		var idx struct {
			WeightMap map[string]string `json:"weight_map"`
		}
		if err := CheckJSONText(data); err != nil {
			return nil, nil, fmt.Errorf("convert: %s: %w", idxPath, err)
		}
		if err := json.Unmarshal(data, &idx); err != nil {
			return nil, nil, fmt.Errorf("convert: %s: %w", idxPath, err)
		}
		if len(idx.WeightMap) == 0 {
			return nil, nil, fmt.Errorf("convert: %s: weight_map is empty", idxPath)
		}
		seen := map[string]bool{}
		var files []string
		for tn, f := range idx.WeightMap {
			if f == "" || f != filepath.Base(f) || strings.ContainsAny(f, `/\`) || f == "." || f == ".." {
				return nil, nil, fmt.Errorf("convert: %s: tensor %q: shard name %q is not a file name in the directory", idxPath, tn, f)
			}
			if !seen[f] {
				seen[f] = true
				files = append(files, f)
			}
		}
		sort.Strings(files)
		return files, idx.WeightMap, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("convert: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err == nil {
		return []string{"model.safetensors"}, nil, nil
	}
	matches, err := filepath.Glob(filepath.Join(dir, "*.safetensors"))
	if err != nil {
		return nil, nil, fmt.Errorf("convert: %w", err)
	}
	if len(matches) == 0 {
		return nil, nil, fmt.Errorf("convert: %s: no model.safetensors, index or *.safetensors shards", dir)
	}
	files := make([]string, len(matches))
	for i, m := range matches {
		files[i] = filepath.Base(m)
	}
	sort.Strings(files)
	return files, nil, nil
}

// take returns the named tensor and marks it consumed.
func (c *checkpoint) take(name string) (*srcTensor, bool) {
	t, ok := c.tensors[name]
	if ok {
		c.used[name] = true
	}
	return t, ok
}

// has reports whether the named tensor exists.
func (c *checkpoint) has(name string) bool { _, ok := c.tensors[name]; return ok }

// unused returns the names of the tensors never taken, sorted.
func (c *checkpoint) unused() []string {
	var out []string
	for n := range c.tensors {
		if !c.used[n] {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// paths returns the shard paths.
func (c *checkpoint) paths() []string {
	out := make([]string, len(c.shards))
	for i, s := range c.shards {
		out[i] = s.path
	}
	return out
}

// Close closes every shard.
func (c *checkpoint) Close() error {
	var first error
	for _, s := range c.shards {
		if err := s.f.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
