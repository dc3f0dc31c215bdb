package synth

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/q3m/q3m/quant"
)

// stTensor is one entry of a safetensors header, as read back by the tests.
type stTensor struct {
	DType   string  `json:"dtype"`
	Shape   []int   `json:"shape"`
	Offsets []int64 `json:"data_offsets"`
	data    []byte
}

// readSafetensors parses a file independently of the writer and checks the
// invariants of the format: 8-byte aligned header, contiguous data, sizes
// matching shape and dtype, nothing after the last tensor.
func readSafetensors(t *testing.T, path string) map[string]stTensor {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(raw)
	if n%8 != 0 || 8+n > uint64(len(raw)) {
		t.Fatalf("%s: header length %d", path, n)
	}
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(raw[8:8+n], &hdr); err != nil {
		t.Fatalf("%s: header: %v", path, err)
	}
	data := raw[8+n:]
	out := map[string]stTensor{}
	var ends []int64
	for name, msg := range hdr {
		if name == "__metadata__" {
			continue
		}
		var ti stTensor
		if err := json.Unmarshal(msg, &ti); err != nil {
			t.Fatalf("%s: %s: %v", path, name, err)
		}
		size := map[string]int64{"F32": 4, "BF16": 2, "F16": 2}[ti.DType]
		elems := int64(1)
		for _, d := range ti.Shape {
			elems *= int64(d)
		}
		if size == 0 || len(ti.Offsets) != 2 || ti.Offsets[1]-ti.Offsets[0] != elems*size || ti.Offsets[1] > int64(len(data)) {
			t.Fatalf("%s: %s: bad entry %+v", path, name, ti)
		}
		ti.data = data[ti.Offsets[0]:ti.Offsets[1]]
		out[name] = ti
		ends = append(ends, ti.Offsets[0], ti.Offsets[1])
	}
	slices.Sort(ends)
	if ends[0] != 0 || ends[len(ends)-1] != int64(len(data)) {
		t.Fatalf("%s: data spans [%d,%d] of %d bytes", path, ends[0], ends[len(ends)-1], len(data))
	}
	for i := 1; i+1 < len(ends); i += 2 {
		if ends[i] != ends[i+1] {
			t.Fatalf("%s: gap or overlap at byte %d", path, ends[i])
		}
	}
	return out
}

// readCheckpoint reads every tensor of dir, through the index when sharded.
func readCheckpoint(t *testing.T, dir string) map[string]stTensor {
	t.Helper()
	idxPath := filepath.Join(dir, "model.safetensors.index.json")
	raw, err := os.ReadFile(idxPath)
	if os.IsNotExist(err) {
		return readSafetensors(t, filepath.Join(dir, "model.safetensors"))
	}
	var idx struct {
		Metadata struct {
			TotalSize int64 `json:"total_size"`
		} `json:"metadata"`
		WeightMap map[string]string `json:"weight_map"`
	}
	if err != nil || json.Unmarshal(raw, &idx) != nil {
		t.Fatalf("index: %v", err)
	}
	all := map[string]stTensor{}
	var total int64
	for _, f := range slices.Compact(slices.Sorted(func(yield func(string) bool) {
		for _, v := range idx.WeightMap {
			if !yield(v) {
				return
			}
		}
	})) {
		for name, ti := range readSafetensors(t, filepath.Join(dir, f)) {
			if idx.WeightMap[name] != f {
				t.Errorf("index puts %s in %s, found in %s", name, idx.WeightMap[name], f)
			}
			all[name] = ti
			total += int64(len(ti.data))
		}
	}
	if len(all) != len(idx.WeightMap) || total != idx.Metadata.TotalSize {
		t.Errorf("index: %d names, total %d; files hold %d tensors, %d bytes", len(idx.WeightMap), idx.Metadata.TotalSize, len(all), total)
	}
	return all
}

func writeVariant(t *testing.T, name string) (string, Spec) {
	t.Helper()
	s, ok := Variants()[name]
	if !ok {
		t.Fatalf("no variant %q", name)
	}
	dir := t.TempDir()
	if err := Write(dir, s); err != nil {
		t.Fatal(err)
	}
	return dir, s
}

func TestWriteIsDeterministic(t *testing.T) {
	for _, name := range []string{"base", "sharded-bf16", "fused"} {
		a, _ := writeVariant(t, name)
		b, _ := writeVariant(t, name)
		files, _ := os.ReadDir(a)
		for _, f := range files {
			x, _ := os.ReadFile(filepath.Join(a, f.Name()))
			y, err := os.ReadFile(filepath.Join(b, f.Name()))
			if err != nil || !bytes.Equal(x, y) {
				t.Errorf("%s: %s differs between two writes (%v)", name, f.Name(), err)
			}
		}
	}
}

func TestConfigHasEachVariantsFields(t *testing.T) {
	absent := struct{}{}
	cases := map[string]map[string]any{
		"base": {"head_dim": 32.0, "num_experts": 8.0, "num_experts_per_tok": 2.0, "rope_theta": 10000.0,
			"rope_scaling": nil, "tie_word_embeddings": false, "norm_topk_prob": true, "model_type": "qwen3_moe",
			"decoder_sparse_step": 1.0, "mlp_only_layers": []any{}, "use_sliding_window": false, "rms_norm_eps": 1e-6},
		"tied":         {"tie_word_embeddings": true},
		"bias":         {"attention_bias": true},
		"dense-mix":    {"mlp_only_layers": []any{0.0}, "decoder_sparse_step": 2.0, "num_hidden_layers": 4.0},
		"sharded-bf16": {"torch_dtype": "bfloat16"},
		"f16":          {"torch_dtype": "float16"},
		"fused":        {"num_experts": 8.0},
		"yarn": {"rope_theta": absent, "rope_scaling": absent, "rope_parameters": map[string]any{"rope_type": "yarn",
			"rope_theta": 10000.0, "factor": 4.0, "original_max_position_embeddings": 64.0, "beta_fast": 32.0, "beta_slow": 1.0}},
		"yarn-legacy": {"rope_scaling": map[string]any{"type": "yarn", "original_max_position_embeddings": 64.0}},
		"yarn-factor": {"max_position_embeddings": 8192.0, "rope_theta": absent, "rope_scaling": absent,
			"rope_parameters": map[string]any{"rope_type": "yarn", "rope_theta": 10000.0, "factor": 2.0,
				"original_max_position_embeddings": 1024.0}},
		"yarn-params": {"rope_theta": 10000.0, "rope_scaling": map[string]any{"rope_type": "yarn", "factor": 3.0,
			"original_max_position_embeddings": 128.0, "beta_fast": 8.0, "beta_slow": 2.0, "attention_factor": 1.25}},
		"no-head-dim": {"head_dim": absent, "num_experts": absent, "num_local_experts": 8.0},
		"sliding":     {"use_sliding_window": true, "sliding_window": 5.0},
		"top1-raw":    {"norm_topk_prob": false, "num_experts_per_tok": 1.0},
		"mha":         {"num_key_value_heads": 4.0, "rope_theta": 1e6, "rms_norm_eps": 1e-5},
	}
	if len(cases) != len(Variants()) {
		t.Errorf("%d cases for %d variants", len(cases), len(Variants()))
	}
	for name, want := range cases {
		raw, err := Variants()[name].configJSON()
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for k, w := range want {
			v, ok := got[k]
			if w == absent {
				if ok {
					t.Errorf("%s: %s = %v, want absent", name, k, v)
				}
				continue
			}
			if !ok || !reflect.DeepEqual(v, w) {
				t.Errorf("%s: %s = %#v, want %#v", name, k, v, w)
			}
		}
	}
}

func TestCheckpointHoldsHubTensorNames(t *testing.T) {
	for name, s := range Variants() {
		t.Run(name, func(t *testing.T) {
			dir, _ := writeVariant(t, name)
			got := readCheckpoint(t, dir)
			hd := s.HeadDimOrDefault()
			want := map[string][]int{"model.embed_tokens.weight": {s.Vocab, s.Hidden}, "model.norm.weight": {s.Hidden}}
			if !s.Tied {
				want["lm_head.weight"] = []int{s.Vocab, s.Hidden}
			}
			for i := range s.Layers {
				p := "model.layers." + itoa(i) + "."
				want[p+"self_attn.q_proj.weight"] = []int{s.Heads * hd, s.Hidden}
				want[p+"self_attn.k_norm.weight"] = []int{hd}
				if s.AttentionBias {
					want[p+"self_attn.o_proj.bias"] = []int{s.Hidden}
				}
				switch {
				case !s.Sparse(i):
					want[p+"mlp.down_proj.weight"] = []int{s.Hidden, s.FFN}
				case s.Fused:
					want[p+"mlp.experts.gate_up_proj"] = []int{s.Experts, 2 * s.ExpertFFN, s.Hidden}
					want[p+"mlp.experts.down_proj"] = []int{s.Experts, s.Hidden, s.ExpertFFN}
				default:
					want[p+"mlp.gate.weight"] = []int{s.Experts, s.Hidden}
					want[p+"mlp.experts."+itoa(s.Experts-1)+".up_proj.weight"] = []int{s.ExpertFFN, s.Hidden}
				}
			}
			for n, shape := range want {
				if ti, ok := got[n]; !ok || !slices.Equal(ti.Shape, shape) || ti.DType != stDType[s.DType] {
					t.Errorf("%s: got %+v, want shape %v dtype %s", n, ti, shape, stDType[s.DType])
				}
			}
			if _, ok := got["lm_head.weight"]; ok && s.Tied {
				t.Error("tied checkpoint has lm_head.weight")
			}
			if int64(len(got)) != int64(len(s.tensors())) {
				t.Errorf("%d tensors, want %d", len(got), len(s.tensors()))
			}
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func f32s(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

func TestStorageVariantsHoldTheSameValues(t *testing.T) {
	base := Variants()["base"]
	fused, bf16 := base, base
	fused.Fused = true
	bf16.DType, bf16.Shards = "bf16", 2
	write := func(s Spec) map[string]stTensor {
		dir := t.TempDir()
		if err := Write(dir, s); err != nil {
			t.Fatal(err)
		}
		return readCheckpoint(t, dir)
	}
	a, f, b := write(base), write(fused), write(bf16)
	p := "model.layers.1.mlp.experts."
	gateUp := f32s(f[p+"gate_up_proj"].data)
	n := base.ExpertFFN * base.Hidden
	e := 5
	if !slices.Equal(gateUp[2*e*n:2*e*n+n], f32s(a[p+"5.gate_proj.weight"].data)) ||
		!slices.Equal(gateUp[2*e*n+n:2*e*n+2*n], f32s(a[p+"5.up_proj.weight"].data)) {
		t.Error("fused gate_up_proj of expert 5 is not its gate rows then its up rows")
	}
	if !slices.Equal(f32s(f[p+"down_proj"].data)[e*n:(e+1)*n], f32s(a[p+"5.down_proj.weight"].data)) {
		t.Error("fused down_proj of expert 5 differs from down_proj of expert 5")
	}
	w := f32s(a["lm_head.weight"].data)
	hb := b["lm_head.weight"].data
	for i, v := range w {
		if got := binary.LittleEndian.Uint16(hb[2*i:]); got != quant.ToBF16(v) {
			t.Fatalf("bf16 lm_head[%d] = %#x, want %#x (bf16 of %g)", i, got, quant.ToBF16(v), v)
		}
	}
	var sum, sq float64
	for _, v := range w {
		sum += float64(v)
		sq += float64(v) * float64(v)
	}
	mean, std := sum/float64(len(w)), math.Sqrt(sq/float64(len(w)))
	if want := 2 / math.Sqrt(float64(base.Hidden)); math.Abs(mean) > 0.01 || math.Abs(std-want) > 0.02*want {
		t.Errorf("lm_head mean %g std %g, want 0 and %g", mean, std, want)
	}
}

func TestTokenizerIsAValidByteLevelBPE(t *testing.T) {
	vocab := map[string]int{}
	for i, tok := range byteTokens() {
		vocab[tok] = i
	}
	if len(vocab) != 256 || byteTokens()[0] != "!" || vocab["Ġ"] == 0 || vocab["Ċ"] == 0 {
		t.Fatalf("byte tokens: %d distinct, first %q", len(vocab), byteTokens()[0])
	}
	for _, m := range merges {
		a, b, ok := strings.Cut(m, " ")
		_, okA := vocab[a]
		_, okB := vocab[b]
		if _, dup := vocab[a+b]; !ok || !okA || !okB || dup {
			t.Fatalf("merge %q: parts known %v %v, result new %v", m, okA, okB, !dup)
		}
		vocab[a+b] = len(vocab)
	}
	var tj struct {
		AddedTokens []struct {
			ID      int    `json:"id"`
			Content string `json:"content"`
		} `json:"added_tokens"`
		Model struct {
			Vocab  map[string]int `json:"vocab"`
			Merges []string       `json:"merges"`
		} `json:"model"`
	}
	if err := json.Unmarshal(tokenizerJSON(), &tj); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(tj.Model.Vocab, vocab) || !slices.Equal(tj.Model.Merges, merges) {
		t.Error("tokenizer.json vocab or merges differ from the BPE built here")
	}
	for i, a := range tj.AddedTokens {
		if a.ID != len(vocab)+i {
			t.Errorf("added token %s has id %d, want %d", a.Content, a.ID, len(vocab)+i)
		}
	}
	var tc map[string]any
	if err := json.Unmarshal(tokenizerConfigJSON(), &tc); err != nil {
		t.Fatal(err)
	}
	if tc["eos_token"] != "<|im_end|>" || !strings.Contains(tc["chat_template"].(string), "<|im_start|>") {
		t.Errorf("tokenizer_config.json: eos %v, template %v", tc["eos_token"], tc["chat_template"])
	}
}

func TestPresetsHaveRealGeometry(t *testing.T) {
	s, err := Preset("qwen3-30b-a3b", 0)
	if err != nil {
		t.Fatal(err)
	}
	if p := s.Params(); p < 30.4e9 || p > 30.6e9 {
		t.Errorf("qwen3-30b-a3b has %d params, want 30.5e9", p)
	}
	s, _ = Preset("qwen3-30b-a3b", 8)
	if p := s.Params(); s.Layers != 8 || p < 5.5e9 || p > 5.7e9 || s.Shards != 3 {
		t.Errorf("8-layer preset: %d layers, %d params, %d shards", s.Layers, p, s.Shards)
	}
	for _, name := range []string{"qwen3-30b-a3b", "qwen3-235b-a22b", "tiny"} {
		s, err := Preset(name, 2)
		if err != nil || s.Validate() != nil {
			t.Errorf("%s: %v %v", name, err, s.Validate())
		}
	}
	if _, err := Preset("llama", 0); err == nil {
		t.Error("unknown preset accepted")
	}
}

func TestValidateRejectsInconsistentSpecs(t *testing.T) {
	for name, f := range map[string]func(*Spec){
		"dtype":        func(s *Spec) { s.DType = "q4" },
		"heads":        func(s *Spec) { s.KVHeads = 3 },
		"odd head dim": func(s *Spec) { s.HeadDim = 15 },
		"vocab":        func(s *Spec) { s.Vocab = 300 },
		"top-k":        func(s *Spec) { s.ExpertsUsed = 9 },
		"dense ffn":    func(s *Spec) { s.SparseStep = 2; s.FFN = 0 },
		"window":       func(s *Spec) { s.UseSlidingWindow = true; s.SlidingWindow = 0 },
		"yarn":         func(s *Spec) { s.YaRN = &YaRN{Factor: 4} },
	} {
		s := tinyBase()
		f(&s)
		if err := s.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
		if err := Write(t.TempDir(), s); err == nil {
			t.Errorf("%s: written", name)
		}
	}
}

func TestPyFloatMatchesPythonRepr(t *testing.T) {
	for v, want := range map[float64]string{
		0: "0.0", 1e6: "1000000.0", 1e-6: "1e-06", 1e-5: "1e-05", 0.02: "0.02", 0.001: "0.001",
		10000: "10000.0", 1e16: "1e+16", 1.5e-7: "1.5e-07", -2.5: "-2.5", 0.0001: "0.0001",
	} {
		if got := pyFloat(v); got != want {
			t.Errorf("pyFloat(%g) = %s, want %s", v, got, want)
		}
	}
}

func BenchmarkWriteBF16(b *testing.B) {
	s, _ := Preset("tiny", 0)
	b.SetBytes(s.Bytes())
	dir := b.TempDir()
	for b.Loop() {
		if err := Write(dir, s); err != nil {
			b.Fatal(err)
		}
	}
}

func TestQwen3TokenizerIsWrittenWhole(t *testing.T) {
	s, err := Preset("demo", 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := Write(dir, s); err != nil {
		t.Fatal(err)
	}
	var tj struct {
		Model struct {
			Vocab map[string]int `json:"vocab"`
		} `json:"model"`
		AddedTokens []struct {
			ID int `json:"id"`
		} `json:"added_tokens"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &tj); err != nil {
		t.Fatal(err)
	}
	if n := len(tj.Model.Vocab) + len(tj.AddedTokens); n != qwen3Tokens {
		t.Errorf("tokenizer.json has %d tokens, want %d", n, qwen3Tokens)
	}
	cfg, err := os.ReadFile(filepath.Join(dir, "tokenizer_config.json"))
	if err != nil || !bytes.Contains(cfg, []byte("enable_thinking")) {
		t.Errorf("tokenizer_config.json lacks Qwen3's chat template (err %v)", err)
	}
	s.Vocab = 1000
	if err := Write(t.TempDir(), s); err == nil {
		t.Error("a vocabulary smaller than Qwen3's tokenizer was accepted")
	}
}
