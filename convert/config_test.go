package convert

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// cfgJSON returns the tiny config with edits applied (nil deletes a key).
func cfgJSON(edits map[string]any) []byte {
	c := tinyConfig()
	for k, v := range edits {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	b, err := json.Marshal(c)
	if err != nil {
		panic(err)
	}
	return b
}

func TestParseConfig(t *testing.T) {
	yarn := RopeScaling{Type: "yarn", Factor: 4, OriginalMaxPositionEmbeddings: 1024, BetaFast: 32, BetaSlow: 1,
		AttentionFactor: 0.1*math.Log(4) + 1, Truncate: true}
	tests := []struct {
		name  string
		edits map[string]any
		check func(c *HFConfig) bool
	}{
		{"tiny config", nil, func(c *HFConfig) bool {
			return c.VocabSize == 64 && c.HiddenSize == 32 && c.NumLayers == 3 && c.NumHeads == 4 && c.NumKVHeads == 2 &&
				c.HeadDim == 16 && c.IntermediateSize == 64 && c.MoEIntermediateSize == 32 && c.NumExperts == 4 &&
				c.NumExpertsPerTok == 2 && c.NormTopKProb && c.RMSNormEps == 1e-6 && c.RopeTheta == 1e6 &&
				c.MaxPositionEmbeddings == 4096 && c.Rope.Type == "" && len(c.DenseLayers()) == 0
		}},
		{"head_dim absent is H/nh", map[string]any{"head_dim": nil}, func(c *HFConfig) bool { return c.HeadDim == 8 }},
		{"head_dim null is H/nh", map[string]any{"head_dim": json.RawMessage("null")}, func(c *HFConfig) bool { return c.HeadDim == 8 }},
		{"num_key_value_heads absent is nh", map[string]any{"num_key_value_heads": nil}, func(c *HFConfig) bool { return c.NumKVHeads == 4 }},
		{"norm_topk_prob defaults to false", map[string]any{"norm_topk_prob": nil}, func(c *HFConfig) bool { return !c.NormTopKProb }},
		{"num_local_experts", map[string]any{"num_experts": nil, "num_local_experts": 8}, func(c *HFConfig) bool { return c.NumExperts == 8 }},
		{"integers written as floats", map[string]any{"hidden_size": 32.0}, func(c *HFConfig) bool { return c.HiddenSize == 32 }},
		{"unknown fields ignored", map[string]any{"torch_dtype": "bfloat16", "foo": []int{1}}, func(c *HFConfig) bool { return true }},
		{"sparse step and mlp_only_layers", map[string]any{"decoder_sparse_step": 2, "mlp_only_layers": []int{1}},
			func(c *HFConfig) bool { d := c.DenseLayers(); return len(d) == 3 }},
		{"mlp_only_layers null", map[string]any{"mlp_only_layers": json.RawMessage("null")}, func(c *HFConfig) bool { return len(c.DenseLayers()) == 0 }},
		{"sliding window only when used", map[string]any{"use_sliding_window": true, "sliding_window": 128},
			func(c *HFConfig) bool { return c.UseSlidingWindow && c.SlidingWindow == 128 }},
		{"rope_theta defaults to 10000", map[string]any{"rope_theta": nil}, func(c *HFConfig) bool { return c.RopeTheta == 10000 }},
		{"rope_scaling null", map[string]any{"rope_scaling": json.RawMessage("null")}, func(c *HFConfig) bool { return c.Rope.Type == "" }},
		{"rope_scaling default", map[string]any{"rope_scaling": map[string]any{"rope_type": "default"}}, func(c *HFConfig) bool { return c.Rope.Type == "" }},
		{"rope_scaling yarn", map[string]any{"rope_scaling": map[string]any{"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 1024}},
			func(c *HFConfig) bool { return c.Rope == yarn && c.RopeTheta == 1e6 }},
		{"rope_scaling legacy type", map[string]any{"rope_scaling": map[string]any{"type": "yarn", "factor": 4, "original_max_position_embeddings": 1024}},
			func(c *HFConfig) bool { return c.Rope == yarn }},
		{"rope_parameters v5", map[string]any{"rope_theta": nil, "rope_parameters": map[string]any{"rope_type": "yarn", "rope_theta": 5e5,
			"factor": 4, "original_max_position_embeddings": 1024, "beta_fast": 16, "beta_slow": 2, "attention_factor": 1.5, "truncate": false}},
			func(c *HFConfig) bool {
				r := c.Rope
				return c.RopeTheta == 5e5 && r.Factor == 4 && r.BetaFast == 16 && r.BetaSlow == 2 && r.AttentionFactor == 1.5 && !r.Truncate
			}},
		{"rope_parameters default", map[string]any{"rope_theta": nil, "rope_parameters": map[string]any{"rope_type": "default", "rope_theta": 5e5}},
			func(c *HFConfig) bool { return c.RopeTheta == 5e5 && c.Rope.Type == "" }},
		{"yarn factor derived", map[string]any{"max_position_embeddings": 8192, "rope_parameters": map[string]any{"rope_type": "yarn", "original_max_position_embeddings": 2048}},
			func(c *HFConfig) bool { return c.Rope.Factor == 4 && c.Rope.AttentionFactor == 0.1*math.Log(4)+1 }},
		{"yarn factor given wins", map[string]any{"max_position_embeddings": 8192, "rope_scaling": map[string]any{"rope_type": "yarn", "factor": 2, "original_max_position_embeddings": 2048}},
			func(c *HFConfig) bool { return c.Rope.Factor == 2 && c.Rope.OriginalMaxPositionEmbeddings == 2048 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseConfig(cfgJSON(tt.edits))
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Errorf("unexpected config %+v", c)
			}
		})
	}
}

func TestParseConfigRejects(t *testing.T) {
	tests := []struct {
		name  string
		data  []byte
		error string // substring of the error
	}{
		{"wrong model_type", cfgJSON(map[string]any{"model_type": "qwen2_moe"}), `model_type "qwen2_moe"`},
		{"missing model_type", cfgJSON(map[string]any{"model_type": nil}), "model_type missing"},
		{"bad JSON", []byte(`{"model_type": "qwen3_moe",`), "config.json"},
		{"not an object", []byte(`[1]`), "config.json"},
		{"string size", cfgJSON(map[string]any{"hidden_size": "32"}), "hidden_size"},
		{"fractional size", cfgJSON(map[string]any{"hidden_size": 32.5}), "hidden_size"},
		{"bool as string", cfgJSON(map[string]any{"norm_topk_prob": "true"}), "norm_topk_prob"},
		{"eps as string", cfgJSON(map[string]any{"rms_norm_eps": "1e-6"}), "rms_norm_eps"},
		{"mlp_only_layers not a list", cfgJSON(map[string]any{"mlp_only_layers": 3}), "mlp_only_layers"},
		{"mlp_only_layers out of range", cfgJSON(map[string]any{"mlp_only_layers": []int{3}}), "mlp_only_layers"},
		{"zero heads", cfgJSON(map[string]any{"num_attention_heads": 0}), "num_attention_heads"},
		{"negative vocab", cfgJSON(map[string]any{"vocab_size": -1}), "vocab_size"},
		{"huge size", cfgJSON(map[string]any{"hidden_size": 1 << 40}), "hidden_size"},
		{"heads not multiple of kv heads", cfgJSON(map[string]any{"num_key_value_heads": 3}), "num_key_value_heads"},
		{"odd head_dim", cfgJSON(map[string]any{"head_dim": 15}), "head_dim"},
		{"k above E", cfgJSON(map[string]any{"num_experts_per_tok": 5}), "num_experts_per_tok"},
		{"zero sparse step", cfgJSON(map[string]any{"decoder_sparse_step": 0}), "decoder_sparse_step"},
		{"gelu activation", cfgJSON(map[string]any{"hidden_act": "gelu"}), `hidden_act "gelu"`},
		{"rope type linear", cfgJSON(map[string]any{"rope_scaling": map[string]any{"rope_type": "linear", "factor": 2}}), `rope type "linear" not supported`},
		{"rope_parameters llama3", cfgJSON(map[string]any{"rope_parameters": map[string]any{"rope_type": "llama3"}}), `rope type "llama3" not supported`},
		{"rope_scaling not an object", cfgJSON(map[string]any{"rope_scaling": "yarn"}), "rope_scaling"},
		{"yarn factor not a number", cfgJSON(map[string]any{"rope_scaling": map[string]any{"type": "yarn", "factor": "4"}}), "rope_scaling.factor"},
		{"yarn negative factor", cfgJSON(map[string]any{"rope_scaling": map[string]any{"type": "yarn", "factor": -4}}), "factor"},
		{"sliding window of 0", cfgJSON(map[string]any{"use_sliding_window": true, "sliding_window": 0}), "sliding_window"},
		{"invalid UTF-8", []byte("{\"model_type\": \"qwen3_moe\", \"x\": \"\xff\"}"), "invalid UTF-8 at byte 34"},
		{"lone surrogate", []byte(`{"model_type": "qwen3_moe", "x": "\ud800"}`), "lone high surrogate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig(tt.data)
			if err == nil || !strings.Contains(err.Error(), tt.error) {
				t.Errorf("error %v, want one containing %q", err, tt.error)
			}
		})
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add(cfgJSON(nil))
	f.Add(cfgJSON(map[string]any{"rope_parameters": map[string]any{"rope_type": "yarn", "factor": 4, "original_max_position_embeddings": 1024}}))
	f.Add(cfgJSON(map[string]any{"mlp_only_layers": []int{0, 2}, "decoder_sparse_step": 2, "head_dim": nil}))
	f.Add([]byte(`{"model_type":"qwen3_moe","num_experts":0}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			return
		}
		if c.NumHeads <= 0 || c.NumKVHeads <= 0 || c.NumHeads%c.NumKVHeads != 0 || c.HeadDim <= 0 || c.HeadDim%2 != 0 ||
			c.DecoderSparseStep <= 0 || c.VocabSize <= 0 || c.HiddenSize <= 0 {
			t.Fatalf("accepted invalid config %+v", c)
		}
		for _, v := range []float64{c.RMSNormEps, c.RopeTheta} {
			if f := float32(v); !(f > 0) || math.IsInf(float64(f), 0) {
				t.Fatalf("accepted a hyperparameter %g that is not a positive finite float32: %+v", v, c)
			}
		}
		if c.Rope.Type == "yarn" {
			for _, v := range []float64{c.Rope.Factor, c.Rope.BetaFast, c.Rope.BetaSlow, c.Rope.AttentionFactor} {
				if f := float32(v); !(f > 0) || math.IsInf(float64(f), 0) {
					t.Fatalf("accepted a YaRN value %g that is not a positive finite float32: %+v", v, c.Rope)
				}
			}
		}
		if c.VocabSize > maxVocab || c.HiddenSize > maxWidth || c.NumLayers*c.NumExperts > maxLayerExperts || c.MaxPositionEmbeddings > maxContext {
			t.Fatalf("accepted sizes above the limits: %+v", c)
		}
		for i := range c.NumLayers {
			if c.Sparse(i) && (c.NumExpertsPerTok < 1 || c.NumExpertsPerTok > c.NumExperts || c.MoEIntermediateSize <= 0) {
				t.Fatalf("accepted invalid MoE config %+v", c)
			}
		}
	})
}
