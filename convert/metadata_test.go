package convert

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/q3m/q3m/format"
	"github.com/q3m/q3m/quant"
)

// lookupAll reads every key of want from f, as the reader's typed getters see it.
func checkKeys(t *testing.T, f *format.File, want map[string]any) {
	t.Helper()
	for key, w := range want {
		var got any
		var ok bool
		var err error
		switch w.(type) {
		case uint64:
			got, ok, err = f.Uint(key)
		case float64:
			var v float64
			v, ok, err = f.Float(key)
			got = float64(float32(v)) // stored as float32
			w = float64(float32(w.(float64)))
		case string:
			got, ok, err = f.String(key)
		case bool:
			got, ok, err = f.Bool(key)
		case []string:
			got, ok, err = f.Strings(key)
		case []int64:
			got, ok, err = f.Ints(key)
		case nil:
			if _, there := f.Lookup(key); there {
				t.Errorf("key %s present, want absent", key)
			}
			continue
		}
		if err != nil || !ok || !reflect.DeepEqual(got, w) {
			t.Errorf("key %s = %v (present %v, err %v), want %v", key, got, ok, err, w)
		}
	}
}

func TestConvertWritesModelMetadata(t *testing.T) {
	cfg := tinyConfig()
	cfg["rope_scaling"] = map[string]any{"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 1024}
	cfg["norm_topk_prob"] = false
	cfg["use_sliding_window"] = true
	cfg["sliding_window"] = 512
	f := openOut(t, convertModel(t, buildModel(cfg, false, "", "BF16", 1), single, quant.Q4_0))
	checkKeys(t, f, map[string]any{
		"general.architecture":                          "qwen3moe",
		"general.name":                                  "Tiny-MoE",
		"general.alignment":                             uint64(4096),
		"general.file_type":                             uint64(2),
		"general.quantization_version":                  uint64(2),
		"qwen3moe.vocab_size":                           uint64(64),
		"qwen3moe.block_count":                          uint64(3),
		"qwen3moe.context_length":                       uint64(4096),
		"qwen3moe.embedding_length":                     uint64(32),
		"qwen3moe.feed_forward_length":                  uint64(64),
		"qwen3moe.attention.head_count":                 uint64(4),
		"qwen3moe.attention.head_count_kv":              uint64(2),
		"qwen3moe.attention.key_length":                 uint64(16),
		"qwen3moe.attention.value_length":               uint64(16),
		"qwen3moe.rope.freq_base":                       1e6,
		"qwen3moe.attention.layer_norm_rms_epsilon":     1e-6,
		"qwen3moe.expert_count":                         uint64(4),
		"qwen3moe.expert_used_count":                    uint64(2),
		"qwen3moe.expert_feed_forward_length":           uint64(32),
		"qwen3moe.rope.scaling.type":                    "yarn",
		"qwen3moe.rope.scaling.factor":                  4.0,
		"qwen3moe.rope.scaling.original_context_length": uint64(1024),
		"q3m.rope.yarn.beta_fast":                       32.0,
		"q3m.rope.yarn.beta_slow":                       1.0,
		"q3m.rope.yarn.attention_factor":                1.1386294361119891, // 0.1·ln 4 + 1
		"q3m.rope.yarn.truncate":                        true,
		"q3m.version":                                   "0.1.0",
		"q3m.quantization":                              "q4_0 pure",
		"q3m.norm_topk_prob":                            false,
		"q3m.sliding_window":                            uint64(512),
		"q3m.attention_bias":                            nil,
		"q3m.dense_layers":                              nil,
	})
	// The alignment is honoured: every tensor starts on a page.
	for _, ti := range f.Tensors {
		if (f.DataOffset+ti.Offset)%4096 != 0 {
			t.Errorf("%s starts at %d, not page-aligned", ti.Name, f.DataOffset+ti.Offset)
		}
	}
}

func TestConvertOmitsOptionalKeysForPlainModel(t *testing.T) {
	f := openOut(t, convertModel(t, buildModel(tinyConfig(), false, "", "BF16", 1), single, quant.Q8_0))
	checkKeys(t, f, map[string]any{
		"q3m.norm_topk_prob":         true,
		"qwen3moe.rope.scaling.type": nil,
		"q3m.rope.yarn.beta_fast":    nil,
		"q3m.sliding_window":         nil,
		"q3m.attention_bias":         nil,
		"q3m.dense_layers":           nil,
	})
}

func TestConvertWritesTokenizer(t *testing.T) {
	f := openOut(t, convertModel(t, buildModel(tinyConfig(), false, "", "BF16", 1), single, quant.Q8_0))
	tokens := make([]string, 64)
	types := make([]int64, 64)
	for s, id := range testVocab() {
		tokens[id], types[id] = s, 1
	}
	for _, a := range testAdded {
		tokens[a.ID], types[a.ID] = a.Content, 4
		if a.Special {
			types[a.ID] = 3
		}
	}
	for id := 44; id < 64; id++ {
		tokens[id], types[id] = fmt.Sprintf("[PAD%d]", id), 5
	}
	checkKeys(t, f, map[string]any{
		"tokenizer.ggml.model":            "gpt2",
		"tokenizer.ggml.pre":              "qwen2",
		"tokenizer.ggml.tokens":           tokens,
		"tokenizer.ggml.token_type":       types,
		"tokenizer.ggml.merges":           []string{"Ġ a", "a b", "ab c", "Ġ b", "Ġ Ġ", "b c", "c d"},
		"tokenizer.ggml.bos_token_id":     uint64(40),
		"tokenizer.ggml.eos_token_id":     uint64(42),
		"tokenizer.ggml.padding_token_id": uint64(40),
		"tokenizer.ggml.add_bos_token":    false,
		"tokenizer.chat_template":         testTemplate,
	})
}

func TestParseTokenizerVariants(t *testing.T) {
	tj := `{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":[["a","b"]]},
		"added_tokens":[{"id":3,"content":"<|endoftext|>","special":true}]}`
	tests := []struct {
		name     string
		config   string
		eos, bos uint32
		tmpl     string
	}{
		{"no config", `{}`, 3, 3, ""},
		{"eos as object", `{"eos_token":{"content":"ab"},"bos_token":null}`, 2, 3, ""},
		{"template list", `{"chat_template":[{"name":"tool_use","template":"T"},{"name":"default","template":"D"}]}`, 3, 3, "D"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := parseTokenizer([]byte(tj), 6)
			if err != nil {
				t.Fatal(err)
			}
			if err := v.applyConfig([]byte(tt.config)); err != nil {
				t.Fatal(err)
			}
			if v.EOS != tt.eos || v.BOS != tt.bos || v.Pad != 3 || v.ChatTemplate != tt.tmpl || v.Merges[0] != "a b" {
				t.Errorf("got eos %d bos %d pad %d template %q merges %q", v.EOS, v.BOS, v.Pad, v.ChatTemplate, v.Merges)
			}
		})
	}
	if _, err := parseTokenizer([]byte(`{"model":{"type":"Unigram"}}`), 4); err == nil {
		t.Error("Unigram tokenizer accepted")
	}
}

func TestConvertReportsProgress(t *testing.T) {
	dir := writeModel(t, buildModel(tinyConfig(), false, "", "BF16", 1), single)
	var got []Progress
	opt := Options{Type: quant.Q8_0, Threads: 2, Progress: func(p Progress) { got = append(got, p) }}
	if err := Convert(context.Background(), dir, filepath.Join(t.TempDir(), "o.gguf"), opt); err != nil {
		t.Fatal(err)
	}
	if len(got) < 2 {
		t.Fatalf("%d progress reports, want at least start and end", len(got))
	}
	first, last := got[0], got[len(got)-1]
	if first.Done != 0 || last.Done != last.Total || last.Total <= 0 {
		t.Errorf("first %+v, last %+v", first, last)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Done < got[i-1].Done || got[i].Total != last.Total {
			t.Errorf("report %d goes backwards: %+v after %+v", i, got[i], got[i-1])
		}
	}
}

func TestDefaultOutput(t *testing.T) {
	if got, want := DefaultOutput("/models/Qwen3-30B-A3B/", "q8_0"), "/models/Qwen3-30B-A3B/Qwen3-30B-A3B-Q8_0.gguf"; got != want {
		t.Errorf("DefaultOutput = %q, want %q", got, want)
	}
}
