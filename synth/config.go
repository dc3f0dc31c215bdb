package synth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// obj is a JSON object whose keys keep their order, as Python writes them.
type obj []field

type field struct {
	key string
	val any // string, bool, int, float64 (written as Python does), []int, nil or obj
}

var torchDType = map[string]string{"f32": "float32", "bf16": "bfloat16", "f16": "float16"}

// configJSON returns config.json as transformers writes it for Qwen3-MoE.
func (s Spec) configJSON() ([]byte, error) {
	eps := s.RMSNormEps
	if eps == 0 {
		eps = 1e-6
	}
	mlpOnly := s.MLPOnlyLayers
	if mlpOnly == nil {
		mlpOnly = []int{}
	}
	experts := "num_experts"
	if s.NumLocalExperts {
		experts = "num_local_experts"
	}
	version := "4.51.0"
	if s.RopeParameters {
		version = "5.0.0"
	}
	var window any
	if s.SlidingWindow > 0 {
		window = s.SlidingWindow
	}
	o := obj{
		{"architectures", []string{s.Head.class()}},
		{"attention_bias", s.AttentionBias},
		{"attention_dropout", 0.0},
		{"bos_token_id", specialID("<|endoftext|>")},
		{"decoder_sparse_step", max(s.SparseStep, 1)},
		{"eos_token_id", specialID("<|im_end|>")},
	}
	if s.HeadDim > 0 {
		o = append(o, field{"head_dim", s.HeadDim})
	}
	o = append(o, obj{
		{"hidden_act", "silu"},
		{"hidden_size", s.Hidden},
		{"initializer_range", 0.02},
		{"intermediate_size", s.FFN},
		{"max_position_embeddings", s.MaxPos},
		{"max_window_layers", s.Layers},
		{"mlp_only_layers", mlpOnly},
		{"model_type", "qwen3_moe"},
		{"moe_intermediate_size", s.ExpertFFN},
		{"norm_topk_prob", s.NormTopKProb},
		{"num_attention_heads", s.Heads},
		{experts, s.Experts},
		{"num_experts_per_tok", s.ExpertsUsed},
		{"num_hidden_layers", s.Layers},
		{"num_key_value_heads", s.KVHeads},
		{"output_router_logits", false},
		{"rms_norm_eps", eps},
	}...)
	if s.RopeParameters {
		o = append(o, field{"rope_parameters", s.rope(true)})
	} else {
		var scaling any
		if s.YaRN != nil {
			scaling = s.rope(false)
		}
		o = append(o, field{"rope_scaling", scaling}, field{"rope_theta", s.RopeTheta})
	}
	o = append(o, obj{
		{"router_aux_loss_coef", 0.001},
		{"sliding_window", window},
		{"tie_word_embeddings", s.Tied},
		{"torch_dtype", torchDType[s.DType]},
		{"transformers_version", version},
		{"use_cache", true},
		{"use_sliding_window", s.UseSlidingWindow},
		{"vocab_size", s.Vocab},
	}...)
	o = s.Head.fields(o)
	var b bytes.Buffer
	if err := writeJSON(&b, o, ""); err != nil {
		return nil, fmt.Errorf("synth: config.json: %w", err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// rope returns the rope_parameters (withTheta) or rope_scaling object.
func (s Spec) rope(withTheta bool) obj {
	typ := "default"
	if s.YaRN != nil {
		typ = "yarn"
	}
	typeKey := "rope_type"
	if s.YaRN != nil && s.YaRN.LegacyType {
		typeKey = "type"
	}
	o := obj{{typeKey, typ}}
	if withTheta {
		o = append(o, field{"rope_theta", s.RopeTheta})
	}
	y := s.YaRN
	if y == nil {
		return o
	}
	for _, f := range []field{
		{"factor", y.Factor}, {"original_max_position_embeddings", y.OrigMaxPos},
		{"beta_fast", y.BetaFast}, {"beta_slow", y.BetaSlow}, {"attention_factor", y.AttentionFactor},
	} {
		switch v := f.val.(type) {
		case float64:
			if v == 0 {
				continue
			}
		case int:
			if v == 0 {
				continue
			}
		}
		o = append(o, f)
	}
	return o
}

// writeJSON writes v indented by two spaces per level, like Python's json.dump(indent=2).
func writeJSON(b *bytes.Buffer, v any, indent string) error {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case int:
		b.WriteString(strconv.Itoa(v))
	case float64:
		b.WriteString(pyFloat(v))
	case string:
		b.WriteString(jsonString(v))
	case []string:
		b.WriteString("[\n")
		for i, x := range v {
			b.WriteString(indent + "  " + jsonString(x))
			if i < len(v)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "]")
	case []int:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = strconv.Itoa(x)
		}
		b.WriteString("[" + strings.Join(parts, ", ") + "]")
	case obj:
		b.WriteString("{\n")
		for i, f := range v {
			b.WriteString(indent + "  " + jsonString(f.key) + ": ")
			if err := writeJSON(b, f.val, indent+"  "); err != nil {
				return err
			}
			if i < len(v)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "}")
	default:
		return fmt.Errorf("unsupported JSON value %T", v)
	}
	return nil
}

// pyFloat formats v as Python's repr does: shortest round-trip digits, a
// ".0" on integral values, and an exponent below 1e-4 or from 1e16 on.
func pyFloat(v float64) string {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return "null"
	}
	e := strconv.FormatFloat(v, 'e', -1, 64) // shortest digits, e.g. "1e-06"
	i := strings.IndexByte(e, 'e')
	exp, _ := strconv.Atoi(e[i+1:])
	if v != 0 && (exp < -4 || exp >= 16) {
		digits := strings.TrimLeft(e[i+2:], "0")
		for len(digits) < 2 {
			digits = "0" + digits
		}
		return e[:i] + "e" + e[i+1:i+2] + digits
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// jsonString quotes s as JSON without escaping <, > and & (as Python does).
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		panic(err) // a string always encodes
	}
	return strings.TrimSuffix(b.String(), "\n")
}
