package synth

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/q3m/q3m/quant"
)

// chunk is the number of values generated and encoded at a time.
const chunk = 1 << 16

// Write writes the checkpoint s into dir (created if missing): config.json,
// model.safetensors or model-0000i-of-0000n.safetensors shards with
// model.safetensors.index.json, tokenizer.json and tokenizer_config.json.
func Write(dir string, s Spec) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	cfg, err := s.configJSON()
	if err != nil {
		return err
	}
	tok, tokCfg := tokenizerJSON(), tokenizerConfigJSON()
	if s.Qwen3Tokenizer {
		if tok, err = qwen3TokenizerJSON(); err != nil {
			return err
		}
		tokCfg = qwen3TokenizerConfig
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{"config.json", cfg}, {"tokenizer.json", tok}, {"tokenizer_config.json", tokCfg}} {
		if err := writeAtomic(filepath.Join(dir, f.name), func(w *bufio.Writer) error {
			_, err := w.Write(f.data)
			return err
		}); err != nil {
			return err
		}
	}
	ts := s.tensors()
	groups := split(ts, max(s.Shards, 1))
	if len(groups) == 1 {
		return writeSafetensors(filepath.Join(dir, "model.safetensors"), groups[0], s)
	}
	weightMap := map[string]string{}
	var total int64
	for i, g := range groups {
		name := fmt.Sprintf("model-%05d-of-%05d.safetensors", i+1, len(groups))
		for _, t := range g {
			weightMap[t.name] = name
			total += t.elems() * int64(mustSize(s.DType))
		}
		if err := writeSafetensors(filepath.Join(dir, name), g, s); err != nil {
			return err
		}
	}
	idx := indexJSON(total, weightMap)
	return writeAtomic(filepath.Join(dir, "model.safetensors.index.json"), func(w *bufio.Writer) error {
		_, err := w.Write(idx)
		return err
	})
}

func mustSize(d string) int {
	n, err := dtypeSize(d)
	if err != nil {
		panic(err) // Validate has accepted d
	}
	return n
}

// split cuts ts into at most n contiguous groups of about equal bytes.
func split(ts []tensor, n int) [][]tensor {
	if n > len(ts) {
		n = len(ts)
	}
	var total int64
	for _, t := range ts {
		total += t.elems()
	}
	groups := make([][]tensor, 0, n)
	var done int64
	start := 0
	for i, t := range ts {
		done += t.elems()
		left := len(ts) - i - 1
		want := len(groups) + 1
		if want < n && (done*int64(n) >= total*int64(want) || left == n-want) {
			groups = append(groups, ts[start:i+1])
			start = i + 1
		}
	}
	return append(groups, ts[start:])
}

func indexJSON(total int64, weightMap map[string]string) []byte {
	names := make([]string, 0, len(weightMap))
	for k := range weightMap {
		names = append(names, k)
	}
	slices.Sort(names)
	var b strings.Builder
	fmt.Fprintf(&b, "{\n  \"metadata\": {\n    \"total_size\": %d\n  },\n  \"weight_map\": {\n", total)
	for i, k := range names {
		sep := ","
		if i == len(names)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "    %s: %s%s\n", jsonString(k), jsonString(weightMap[k]), sep)
	}
	b.WriteString("  }\n}\n")
	return []byte(b.String())
}

var stDType = map[string]string{"f32": "F32", "bf16": "BF16", "f16": "F16"}

// header returns the safetensors header (length prefix included) for ts.
func header(ts []tensor, dtype string) []byte {
	var b strings.Builder
	b.WriteString(`{"__metadata__":{"format":"pt"}`)
	var off int64
	size := int64(mustSize(dtype))
	for _, t := range ts {
		end := off + t.elems()*size
		shape := make([]string, len(t.shape))
		for i, d := range t.shape {
			shape[i] = strconv.Itoa(d)
		}
		fmt.Fprintf(&b, `,%s:{"dtype":%q,"shape":[%s],"data_offsets":[%d,%d]}`,
			jsonString(t.name), stDType[dtype], strings.Join(shape, ","), off, end)
		off = end
	}
	b.WriteString("}")
	for b.Len()%8 != 0 {
		b.WriteByte(' ')
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(b.Len()))
	return append(out, b.String()...)
}

func writeSafetensors(path string, ts []tensor, s Spec) error {
	return writeAtomic(path, func(w *bufio.Writer) error {
		if _, err := w.Write(header(ts, s.DType)); err != nil {
			return err
		}
		vals := make([]float32, chunk)
		buf := make([]byte, chunk*4)
		for _, t := range ts {
			for _, seg := range t.segs {
				r := newStream(s.Seed, seg)
				for left := seg.n; left > 0; {
					n := int(min(left, chunk))
					r.fill(vals[:n])
					if _, err := w.Write(encode(buf, vals[:n], s.DType)); err != nil {
						return fmt.Errorf("tensor %s: %w", t.name, err)
					}
					left -= int64(n)
				}
			}
		}
		return nil
	})
}

// encode stores vals little-endian in dtype, rounding to nearest even.
func encode(buf []byte, vals []float32, dtype string) []byte {
	switch dtype {
	case "f32":
		for i, v := range vals {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
		}
		return buf[:4*len(vals)]
	case "bf16":
		for i, v := range vals {
			binary.LittleEndian.PutUint16(buf[2*i:], quant.ToBF16(v))
		}
	default:
		for i, v := range vals {
			binary.LittleEndian.PutUint16(buf[2*i:], quant.ToF16(v))
		}
	}
	return buf[:2*len(vals)]
}

// writeAtomic writes path through a temporary file renamed into place.
func writeAtomic(path string, fill func(*bufio.Writer) error) (err error) {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
			err = fmt.Errorf("synth: writing %s: %w", path, err)
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	if err := fill(w); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return errors.Join(err, os.Remove(tmp))
	}
	return nil
}
