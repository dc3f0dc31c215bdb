package synth

import (
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/q3m/q3m/format"
	"github.com/q3m/q3m/quant"
)

// GGUFOptions controls WriteGGUF.
type GGUFOptions struct {
	Type    quant.Type // weight matrices' type: any quant.Type that is Convertible
	Name    string     // general.name; "" means "synth-random"
	Workers int        // experts quantized at once; 0 means GOMAXPROCS, at most 64
	// Preset is the q3m.quantization name of the preset whose pure form
	// Type is, as convert writes it ("q4_k_m" for Q4_K); "" means Type's
	// name in lower case, which is the preset's for the legacy types.
	Preset string
	// Progress, when set, is called after each tensor with the bytes of
	// tensor data written so far and in all.
	Progress func(done, total int64)
}

// Alignment of the tensor data in files from WriteGGUF: one page, as convert
// writes them, so that every expert starts on a page boundary.
const ggufAlignment = 4096

// chunkValues bounds the values generated and quantized at once for a tensor
// of one stream (embedding, lm_head): 16 MiB of float32.
const chunkValues = 1 << 22

// ggTensor is one tensor of the GGUF file: name, type, dims (fastest
// first) and the value streams whose concatenation fills it, in order.
type ggTensor struct {
	name string
	typ  quant.Type
	dims []uint64
	segs []segment
}

// WriteGGUF writes the model of s straight to a quantized GGUF file at path,
// with the tensors, names, metadata and tokenizer that `q3m convert` would
// write from the checkpoint Write makes of s (the weights rounded to
// s.DType first, as convert reads them), but without the checkpoint: tensors
// are generated, quantized and written one expert or one chunk at a time, so
// memory stays near Workers × one expert whatever the file's size. The file
// appears at path only when complete. YaRN specs are refused.
func WriteGGUF(path string, s Spec, o GGUFOptions) (err error) {
	if err := s.Validate(); err != nil {
		return err
	}
	if s.YaRN != nil {
		return fmt.Errorf("synth: %s: YaRN specs are not supported by WriteGGUF (use Write and convert)", path)
	}
	ftype, ok := fileType(o.Type)
	if !ok {
		return fmt.Errorf("synth: %s: weight type %s cannot be written (want a storage type with a quantizer)", path, o.Type)
	}
	if o.Name == "" {
		o.Name = "synth-random"
	}
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, 64)
	ts, fallback := s.ggufTensors(o.Type)
	voc, err := s.vocab()
	if err != nil {
		return err
	}
	w, err := format.Create(path, ggufAlignment)
	if err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	defer func() {
		if err != nil {
			w.Abort()
		}
	}()
	for _, m := range append(s.ggufMetadata(o, ftype, fallback), voc.kvs()...) {
		if err := w.AddKV(m.key, m.value); err != nil {
			return fmt.Errorf("synth: %w", err)
		}
	}
	var total, done int64
	for _, t := range ts {
		if err := w.AddTensor(t.name, t.typ, t.dims...); err != nil {
			return fmt.Errorf("synth: %w", err)
		}
		total += t.bytes()
	}
	for _, t := range ts {
		if err := s.writeTensor(w, t, workers); err != nil {
			return fmt.Errorf("synth: %s: tensor %s: %w", path, t.name, err)
		}
		done += t.bytes()
		if o.Progress != nil {
			o.Progress(done, total)
		}
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	return nil
}

// GGUFBytes returns the size of the tensor data WriteGGUF writes for s at
// type t (alignment padding and header excluded).
func (s Spec) GGUFBytes(t quant.Type) int64 {
	ts, _ := s.ggufTensors(t)
	var n int64
	for _, x := range ts {
		n += x.bytes()
	}
	return n
}

func (t ggTensor) bytes() int64 {
	n, _ := t.typ.RowBytes(int(t.dims[0]))
	rows := int64(1)
	for _, d := range t.dims[1:] {
		rows *= int64(d)
	}
	return int64(n) * rows
}

// fileType returns llama.cpp's general.file_type for a file whose matrices
// are all of type t (the "_S" variant for K-quants, which is what a pure
// K-quant file comes closest to).
func fileType(t quant.Type) (uint32, bool) {
	if !t.Convertible() {
		return 0, false
	}
	ft, ok := map[quant.Type]uint32{
		quant.F32: 0, quant.F16: 1, quant.Q4_0: 2, quant.Q4_1: 3, quant.Q8_0: 7,
		quant.Q5_0: 8, quant.Q5_1: 9, quant.Q2_K: 10, quant.Q3_K: 11, quant.Q4_K: 14,
		quant.Q5_K: 16, quant.Q6_K: 18, quant.IQ4_NL: 25, quant.IQ4_XS: 30, quant.BF16: 32,
	}[t]
	return ft, ok
}

// ggufTensors lays out the file as convert does (llama.cpp's names, experts
// stacked into one 3-D tensor per projection) and returns the matrices that
// fall back to F16 because their rows are not whole blocks of typ.
func (s Spec) ggufTensors(typ quant.Type) ([]ggTensor, []string) {
	flat := s
	flat.Fused = false // same values, one segment per expert matrix
	segs := map[string]segment{}
	for _, t := range flat.tensors() {
		segs[t.name] = t.segs[0]
	}
	var out, fallback = []ggTensor{}, []string{}
	matType := func(name string, n int) quant.Type {
		if n%typ.BlockSize() != 0 {
			fallback = append(fallback, name)
			return quant.F16
		}
		return typ
	}
	vector := func(name, hf string, n int) {
		out = append(out, ggTensor{name, quant.F32, []uint64{uint64(n)}, []segment{segs[hf]}})
	}
	matrix := func(name, hf string, outDim, in int) {
		out = append(out, ggTensor{name, matType(name, in), []uint64{uint64(in), uint64(outDim)}, []segment{segs[hf]}})
	}
	h, hd := s.Hidden, s.HeadDimOrDefault()
	q, kv := s.Heads*hd, s.KVHeads*hd
	matrix("token_embd.weight", "model.embed_tokens.weight", s.Vocab, h)
	for i := range s.Layers {
		hf, gg := fmt.Sprintf("model.layers.%d.", i), fmt.Sprintf("blk.%d.", i)
		vector(gg+"attn_norm.weight", hf+"input_layernorm.weight", h)
		matrix(gg+"attn_q.weight", hf+"self_attn.q_proj.weight", q, h)
		matrix(gg+"attn_k.weight", hf+"self_attn.k_proj.weight", kv, h)
		matrix(gg+"attn_v.weight", hf+"self_attn.v_proj.weight", kv, h)
		matrix(gg+"attn_output.weight", hf+"self_attn.o_proj.weight", h, q)
		if s.AttentionBias {
			vector(gg+"attn_q.bias", hf+"self_attn.q_proj.bias", q)
			vector(gg+"attn_k.bias", hf+"self_attn.k_proj.bias", kv)
			vector(gg+"attn_v.bias", hf+"self_attn.v_proj.bias", kv)
			vector(gg+"attn_output.bias", hf+"self_attn.o_proj.bias", h)
		}
		vector(gg+"attn_q_norm.weight", hf+"self_attn.q_norm.weight", hd)
		vector(gg+"attn_k_norm.weight", hf+"self_attn.k_norm.weight", hd)
		vector(gg+"ffn_norm.weight", hf+"post_attention_layernorm.weight", h)
		if !s.Sparse(i) {
			matrix(gg+"ffn_gate.weight", hf+"mlp.gate_proj.weight", s.FFN, h)
			matrix(gg+"ffn_up.weight", hf+"mlp.up_proj.weight", s.FFN, h)
			matrix(gg+"ffn_down.weight", hf+"mlp.down_proj.weight", h, s.FFN)
			continue
		}
		e, ffn := s.Experts, s.ExpertFFN
		out = append(out, ggTensor{gg + "ffn_gate_inp.weight", quant.F32, []uint64{uint64(h), uint64(e)}, []segment{segs[hf+"mlp.gate.weight"]}})
		for _, p := range []struct{ gg, hf string }{{"ffn_gate_exps", "gate_proj"}, {"ffn_up_exps", "up_proj"}, {"ffn_down_exps", "down_proj"}} {
			in, o := h, ffn
			if p.hf == "down_proj" {
				in, o = ffn, h
			}
			t := ggTensor{name: gg + p.gg + ".weight", dims: []uint64{uint64(in), uint64(o), uint64(e)}}
			t.typ = matType(t.name, in)
			for x := range e {
				t.segs = append(t.segs, segs[fmt.Sprintf("%smlp.experts.%d.%s.weight", hf, x, p.hf)])
			}
			out = append(out, t)
		}
	}
	vector("output_norm.weight", "model.norm.weight", h)
	if !s.Tied {
		matrix("output.weight", "lm_head.weight", s.Vocab, h)
	}
	return out, fallback
}

type ggufKV struct {
	key   string
	value any
}

// ggufMetadata returns the general.*, qwen3moe.* and q3m.* pairs convert
// writes for the config.json of s.
func (s Spec) ggufMetadata(o GGUFOptions, ftype uint32, fallback []string) []ggufKV {
	u := func(v int) uint32 { return uint32(v) }
	eps := s.RMSNormEps
	if eps == 0 {
		eps = 1e-6
	}
	quantization := o.Preset
	if quantization == "" {
		quantization = strings.ToLower(o.Type.String())
	}
	quantization += " pure" // every matrix in the one type, as convert's Options.Type
	if len(fallback) > 0 {
		quantization += "; f16: " + strings.Join(fallback, ",")
	}
	m := []ggufKV{
		{"general.architecture", "qwen3moe"},
		{"general.name", o.Name},
		{"general.file_type", ftype},
		{"general.quantization_version", uint32(2)}, // ggml's GGML_QNT_VERSION, as convert writes it
		{"qwen3moe.vocab_size", u(s.Vocab)},
		{"qwen3moe.block_count", u(s.Layers)},
		{"qwen3moe.context_length", u(s.MaxPos)},
		{"qwen3moe.embedding_length", u(s.Hidden)},
		{"qwen3moe.feed_forward_length", u(s.FFN)},
		{"qwen3moe.attention.head_count", u(s.Heads)},
		{"qwen3moe.attention.head_count_kv", u(s.KVHeads)},
		{"qwen3moe.attention.key_length", u(s.HeadDimOrDefault())},
		{"qwen3moe.attention.value_length", u(s.HeadDimOrDefault())},
		{"qwen3moe.rope.freq_base", float32(s.RopeTheta)},
		{"qwen3moe.attention.layer_norm_rms_epsilon", float32(eps)},
		{"qwen3moe.expert_count", u(s.Experts)},
		{"qwen3moe.expert_used_count", u(s.ExpertsUsed)},
		{"qwen3moe.expert_feed_forward_length", u(s.ExpertFFN)},
		{"q3m.version", "synth"},
		{"q3m.quantization", quantization},
		{"q3m.norm_topk_prob", s.NormTopKProb},
	}
	if s.AttentionBias {
		m = append(m, ggufKV{"q3m.attention_bias", true})
	}
	var dense []int32
	for i := range s.Layers {
		if !s.Sparse(i) {
			dense = append(dense, int32(i))
		}
	}
	if len(dense) > 0 {
		m = append(m, ggufKV{"q3m.dense_layers", dense})
	}
	if s.UseSlidingWindow {
		m = append(m, ggufKV{"q3m.sliding_window", u(s.SlidingWindow)})
	}
	return m
}

// slot is one worker's scratch: values and their encoding.
type slot struct {
	vals []float32
	out  []byte
	err  error
}

// writeTensor generates, rounds, quantizes and writes t. A tensor of one
// stream goes in chunks of whole rows; a stack of experts goes up to
// workers experts at a time, each whole, written in order.
func (s Spec) writeTensor(w *format.Writer, t ggTensor, workers int) error {
	rowLen := int(t.dims[0])
	if len(t.segs) == 1 {
		rows := max(1, chunkValues/rowLen)
		if rowLen%4 != 0 { // keep chunk boundaries on the stream's 4-value words
			rows = max(4, rows&^3)
		}
		var sl slot
		r := newStream(s.Seed, t.segs[0])
		for left := t.segs[0].n; left > 0; {
			n := min(left, int64(rows*rowLen))
			if err := s.encodeValues(&sl, r, int(n), t.typ); err != nil {
				return err
			}
			if _, err := w.Write(sl.out); err != nil {
				return err
			}
			left -= n
		}
		return nil
	}
	slots := make([]slot, min(workers, len(t.segs)))
	for first := 0; first < len(t.segs); first += len(slots) {
		batch := t.segs[first:min(first+len(slots), len(t.segs))]
		var wg sync.WaitGroup
		for i, seg := range batch {
			wg.Add(1)
			go func() {
				defer wg.Done()
				slots[i].err = s.encodeValues(&slots[i], newStream(s.Seed, seg), int(seg.n), t.typ)
			}()
		}
		wg.Wait()
		for i := range batch {
			if slots[i].err != nil {
				return slots[i].err
			}
			if _, err := w.Write(slots[i].out); err != nil {
				return err
			}
		}
	}
	return nil
}

// encodeValues draws the next n values of r into sl.vals, rounds them to
// the checkpoint's dtype and encodes them as typ into sl.out.
func (s Spec) encodeValues(sl *slot, r *stream, n int, typ quant.Type) error {
	if cap(sl.vals) < n {
		sl.vals = make([]float32, n)
	}
	vals := sl.vals[:n]
	r.fill(vals)
	switch s.DType {
	case "bf16":
		for i, v := range vals {
			vals[i] = quant.FromBF16(quant.ToBF16(v))
		}
	case "f16":
		for i, v := range vals {
			vals[i] = quant.FromF16(quant.ToF16(v))
		}
	}
	nb, err := typ.RowBytes(n)
	if err != nil {
		return err
	}
	if cap(sl.out) < nb {
		sl.out = make([]byte, nb)
	}
	sl.out = sl.out[:nb]
	return quant.Quantize(typ, sl.out, vals)
}
