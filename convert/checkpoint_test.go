package convert

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/x448/float16"
)

// This file builds tiny Hugging Face checkpoints by hand for the tests.

// hfTensor is one source tensor: values are small multiples of 1/64 so that
// they are exact in BF16, F16 and F32.
type hfTensor struct {
	Name  string
	DType string // "F32", "F16", "BF16" or anything else for raw bytes
	Shape []int64
	Data  []float32
	Raw   []byte // used instead of Data when set
}

// hfModel is a checkpoint: config.json fields and tensors.
type hfModel struct {
	Config  map[string]any
	Tensors []hfTensor
}

func tinyConfig() map[string]any {
	return map[string]any{
		"architectures":           []string{"Qwen3MoeForCausalLM"},
		"model_type":              "qwen3_moe",
		"vocab_size":              64,
		"hidden_size":             32,
		"num_hidden_layers":       3,
		"num_attention_heads":     4,
		"num_key_value_heads":     2,
		"head_dim":                16,
		"intermediate_size":       64,
		"moe_intermediate_size":   32,
		"num_experts":             4,
		"num_experts_per_tok":     2,
		"norm_topk_prob":          true,
		"rms_norm_eps":            1e-6,
		"rope_theta":              1e6,
		"max_position_embeddings": 4096,
		"tie_word_embeddings":     false,
		"mlp_only_layers":         []int{},
		"decoder_sparse_step":     1,
	}
}

// cfgInt reads an int from a test config.
func cfgInt(c map[string]any, k string) int64 {
	switch v := c[k].(type) {
	case int:
		return int64(v)
	case float64:
		return int64(v)
	}
	panic("test config lacks " + k)
}

// buildModel makes random tensors for cfg, per-expert or fused (with
// ".weight" on the fused names when fusedSuffix), all of dtype.
func buildModel(cfg map[string]any, fused bool, fusedSuffix string, dtype string, seed uint64) hfModel {
	rng := rand.New(rand.NewPCG(seed, 1))
	m := hfModel{Config: cfg}
	add := func(name string, shape ...int64) []float32 {
		n := int64(1)
		for _, d := range shape {
			n *= d
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = float32(rng.IntN(129)-64) / 64
		}
		m.Tensors = append(m.Tensors, hfTensor{Name: name, DType: dtype, Shape: shape, Data: data})
		return data
	}
	V, H, L := cfgInt(cfg, "vocab_size"), cfgInt(cfg, "hidden_size"), cfgInt(cfg, "num_hidden_layers")
	nh, nkv, hd := cfgInt(cfg, "num_attention_heads"), cfgInt(cfg, "num_key_value_heads"), cfgInt(cfg, "head_dim")
	E, I, ID := cfgInt(cfg, "num_experts"), cfgInt(cfg, "moe_intermediate_size"), cfgInt(cfg, "intermediate_size")
	add("model.embed_tokens.weight", V, H)
	for l := range L {
		p := fmt.Sprintf("model.layers.%d.", l)
		add(p+"input_layernorm.weight", H)
		add(p+"post_attention_layernorm.weight", H)
		add(p+"self_attn.q_proj.weight", nh*hd, H)
		add(p+"self_attn.k_proj.weight", nkv*hd, H)
		add(p+"self_attn.v_proj.weight", nkv*hd, H)
		add(p+"self_attn.o_proj.weight", H, nh*hd)
		if cfg["attention_bias"] == true {
			add(p+"self_attn.q_proj.bias", nh*hd)
			add(p+"self_attn.k_proj.bias", nkv*hd)
			add(p+"self_attn.v_proj.bias", nkv*hd)
			add(p+"self_attn.o_proj.bias", H)
		}
		add(p+"self_attn.q_norm.weight", hd)
		add(p+"self_attn.k_norm.weight", hd)
		if !testSparse(cfg, l) {
			add(p+"mlp.gate_proj.weight", ID, H)
			add(p+"mlp.up_proj.weight", ID, H)
			add(p+"mlp.down_proj.weight", H, ID)
			continue
		}
		add(p+"mlp.gate.weight", E, H)
		var gates, ups, downs [][]float32
		for e := range E {
			x := fmt.Sprintf("%smlp.experts.%d.", p, e)
			gates = append(gates, add(x+"gate_proj.weight", I, H))
			ups = append(ups, add(x+"up_proj.weight", I, H))
			downs = append(downs, add(x+"down_proj.weight", H, I))
		}
		if fused {
			m.Tensors = m.Tensors[:len(m.Tensors)-int(3*E)]
			var gu, dn []float32
			for e := range E {
				gu = append(append(gu, gates[e]...), ups[e]...)
				dn = append(dn, downs[e]...)
			}
			m.Tensors = append(m.Tensors,
				hfTensor{Name: p + "mlp.experts.gate_up_proj" + fusedSuffix, DType: dtype, Shape: []int64{E, 2 * I, H}, Data: gu},
				hfTensor{Name: p + "mlp.experts.down_proj" + fusedSuffix, DType: dtype, Shape: []int64{E, H, I}, Data: dn})
		}
	}
	add("model.norm.weight", H)
	if cfg["tie_word_embeddings"] != true {
		add("lm_head.weight", V, H)
	}
	return m
}

// testSparse is the test's own statement of which layers are MoE.
func testSparse(cfg map[string]any, l int64) bool {
	if only, ok := cfg["mlp_only_layers"].([]int); ok {
		for _, d := range only {
			if int64(d) == l {
				return false
			}
		}
	}
	step := int64(1)
	if _, ok := cfg["decoder_sparse_step"]; ok {
		step = cfgInt(cfg, "decoder_sparse_step")
	}
	return cfgInt(cfg, "num_experts") > 0 && (l+1)%step == 0
}

// tensorBytes encodes t's data in its dtype.
func tensorBytes(t hfTensor) []byte {
	if t.Raw != nil {
		return t.Raw
	}
	var b []byte
	for _, v := range t.Data {
		switch t.DType {
		case "F32":
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		case "BF16":
			b = binary.LittleEndian.AppendUint16(b, uint16(math.Float32bits(v)>>16))
		case "F16":
			b = binary.LittleEndian.AppendUint16(b, float16.Fromfloat32(v).Bits())
		default:
			panic("test: no encoding for " + t.DType)
		}
	}
	return b
}

// safetensorsFile returns a safetensors image holding ts in order.
func safetensorsFile(ts []hfTensor) []byte {
	hdr := map[string]any{"__metadata__": map[string]string{"format": "pt"}}
	var data []byte
	for _, t := range ts {
		b := tensorBytes(t)
		hdr[t.Name] = map[string]any{"dtype": t.DType, "shape": t.Shape, "data_offsets": []int{len(data), len(data) + len(b)}}
		data = append(data, b...)
	}
	js, err := json.Marshal(hdr)
	if err != nil {
		panic(err)
	}
	for len(js)%8 != 0 {
		js = append(js, ' ')
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(js)))
	return append(append(out, js...), data...)
}

// layout says how writeModel stores the tensors.
type layout int

const (
	single  layout = iota // model.safetensors
	indexed               // 3 shards + model.safetensors.index.json
	noIndex               // 3 shards, no index
)

// writeModel writes config.json, the tokenizer files and the shards of m
// into a new directory and returns it.
func writeModel(t testing.TB, m hfModel, lay layout) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "Tiny-MoE")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeJSON(t, filepath.Join(dir, "config.json"), m.Config)
	writeTokenizer(t, dir)
	if lay == single {
		writeFile(t, filepath.Join(dir, "model.safetensors"), safetensorsFile(m.Tensors))
		return dir
	}
	const n = 3
	weightMap := map[string]string{}
	for s := range n {
		name := fmt.Sprintf("model-%05d-of-%05d.safetensors", s+1, n)
		lo, hi := s*len(m.Tensors)/n, (s+1)*len(m.Tensors)/n
		part := m.Tensors[lo:hi]
		for _, t := range part {
			weightMap[t.Name] = name
		}
		writeFile(t, filepath.Join(dir, name), safetensorsFile(part))
	}
	if lay == indexed {
		writeJSON(t, filepath.Join(dir, "model.safetensors.index.json"),
			map[string]any{"metadata": map[string]any{"total_size": 0}, "weight_map": weightMap})
	}
	return dir
}

// testTokens is the tokenizer vocabulary: 40 merge-vocabulary tokens and 4
// added ones; ids 44..63 are padding.
var testAdded = []struct {
	ID      int
	Content string
	Special bool
}{
	{40, "<|endoftext|>", true}, {41, "<|im_start|>", true}, {42, "<|im_end|>", true}, {43, "<think>", false},
}

const testTemplate = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"

func testVocab() map[string]int {
	v := map[string]int{}
	for i := range 26 {
		v[string(rune('a'+i))] = i
	}
	for i, s := range []string{"Ġ", "Ġa", "ab", "abc", "Ġb", "ĠĠ", "bc", "cd", "de", "ef", "fg", "gh", "hi", "ij"} {
		v[s] = 26 + i
	}
	return v
}

func writeTokenizer(t testing.TB, dir string) {
	var added []map[string]any
	for _, a := range testAdded {
		added = append(added, map[string]any{"id": a.ID, "content": a.Content, "special": a.Special,
			"single_word": false, "lstrip": false, "rstrip": false, "normalized": false})
	}
	writeJSON(t, filepath.Join(dir, "tokenizer.json"), map[string]any{
		"version":      "1.0",
		"added_tokens": added,
		"model": map[string]any{"type": "BPE", "vocab": testVocab(),
			"merges": []string{"Ġ a", "a b", "ab c", "Ġ b", "Ġ Ġ", "b c", "c d"}},
	})
	writeJSON(t, filepath.Join(dir, "tokenizer_config.json"), map[string]any{
		"add_bos_token": false, "bos_token": nil, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>",
		"chat_template": testTemplate,
	})
}

func writeJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, b)
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// dirEntries lists the names in dir, sorted.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}
