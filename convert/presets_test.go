package convert

import (
	"strings"
	"testing"

	"github.com/q3m/q3m/quant"
)

func TestParsePresetAcceptsLlamaQuantizeNames(t *testing.T) {
	for _, tt := range []struct {
		in       string
		name     string
		fileType uint32
		base     quant.Type
	}{
		// File types from llama.h's enum llama_ftype.
		{"Q4_K_M", "q4_k_m", 15, quant.Q4_K},
		{"q4_k_s", "q4_k_s", 14, quant.Q4_K},
		{"q5_k_m", "q5_k_m", 17, quant.Q5_K},
		{"Q5_K_S", "q5_k_s", 16, quant.Q5_K},
		{"q6_k", "q6_k", 18, quant.Q6_K},
		{"q3_k_m", "q3_k_m", 12, quant.Q3_K},
		{"q2_k", "q2_k", 10, quant.Q2_K},
		{"IQ4_XS", "iq4_xs", 30, quant.IQ4_XS},
		{"iq4_nl", "iq4_nl", 25, quant.IQ4_NL},
		{"q4_1", "q4_1", 3, quant.Q4_1},
		{"q5_0", "q5_0", 8, quant.Q5_0},
		{"q5_1", "q5_1", 9, quant.Q5_1},
		{"q8_0", "q8_0", 7, quant.Q8_0},
		{"q4_0", "q4_0", 2, quant.Q4_0},
		{"BF16", "bf16", 32, quant.BF16},
		{"f16", "f16", 1, quant.F16},
		{"f32", "f32", 0, quant.F32},
	} {
		p, err := ParsePreset(tt.in)
		if err != nil || p.Name != tt.name || p.FileType != tt.fileType || p.Base != tt.base {
			t.Errorf("ParsePreset(%q) = %+v, %v; want %s, file type %d, base %s", tt.in, p, err, tt.name, tt.fileType, tt.base)
		}
	}
	if len(Presets()) != 17 {
		t.Errorf("%d presets, want 17", len(Presets()))
	}
}

func TestParsePresetRefusalNamesEveryChoice(t *testing.T) {
	for _, in := range []string{"", "q4_k", "q4_k_l", "iq2_xxs", "q8_0 "} {
		_, err := ParsePreset(in)
		if err == nil {
			t.Errorf("ParsePreset(%q) accepted", in)
			continue
		}
		for _, p := range Presets() {
			if !strings.Contains(err.Error(), p.Name) {
				t.Errorf("ParsePreset(%q): error %q does not name %s", in, err, p.Name)
			}
		}
	}
}

// TestFitFallsBackAsLlamaQuantize checks the fallback for rows that are not
// whole blocks: llama.cpp's tensor_type_fallback table, then F16 (where
// llama-quantize uses F16 too, or refuses).
func TestFitFallsBackAsLlamaQuantize(t *testing.T) {
	for _, tt := range []struct {
		typ  quant.Type
		cols uint64
		want quant.Type
	}{
		{quant.Q4_K, 512, quant.Q4_K},
		{quant.Q4_K, 96, quant.Q5_0},
		{quant.Q5_K, 96, quant.Q5_1},
		{quant.Q6_K, 96, quant.Q8_0},
		{quant.Q2_K, 96, quant.Q4_0},
		{quant.Q3_K, 96, quant.Q4_0},
		{quant.IQ4_XS, 96, quant.IQ4_NL},
		{quant.Q4_K, 48, quant.F16}, // Q5_0 does not fit either
		{quant.Q8_0, 48, quant.F16}, // llama-quantize refuses
		{quant.IQ4_NL, 96, quant.IQ4_NL},
		{quant.Q4_0, 32, quant.Q4_0},
	} {
		if got := fit(tt.typ, tt.cols); got != tt.want {
			t.Errorf("fit(%s, %d) = %s, want %s", tt.typ, tt.cols, got, tt.want)
		}
	}
}

func TestCategoryOfMatchesLlamaQuantizeSubstrings(t *testing.T) {
	for name, want := range map[string]category{
		"output.weight":              catOutput,
		"token_embd.weight":          catTokenEmbd,
		"blk.3.attn_v.weight":        catAttnV,
		"blk.3.attn_k.weight":        catAttnK,
		"blk.3.attn_k_norm.weight":   catOther,
		"blk.3.attn_q.weight":        catAttnQ,
		"blk.3.attn_output.weight":   catAttnOutput,
		"blk.3.ffn_up_exps.weight":   catFFNUp,
		"blk.3.ffn_gate_exps.weight": catFFNGate,
		"blk.3.ffn_gate_inp.weight":  catFFNGate, // typed by no rule: not quantizable
		"blk.3.ffn_down_exps.weight": catFFNDown,
		"blk.3.ffn_down.weight":      catFFNDown,
		"output_norm.weight":         catOther,
	} {
		if got := categoryOf(name); got != want {
			t.Errorf("categoryOf(%q) = %d, want %d", name, got, want)
		}
	}
}

func TestLayerOf(t *testing.T) {
	for name, want := range map[string]int{
		"blk.0.attn_v.weight": 0, "blk.47.ffn_down_exps.weight": 47,
		"output.weight": -1, "blk.x.attn_v.weight": -1, "blk.12": -1,
	} {
		if got := layerOf(name); got != want {
			t.Errorf("layerOf(%q) = %d, want %d", name, got, want)
		}
	}
}
