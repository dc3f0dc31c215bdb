package runtime

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/q3m/q3m/format"
	"github.com/q3m/q3m/quant"
)

func readConfig(t *testing.T, m *tinyModel) (Config, error) {
	t.Helper()
	f, err := format.Open(m.path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return ConfigFromFile(f)
}

func TestConfigFromFileReadsQ3MKeys(t *testing.T) {
	c := tinyConfig()
	c.SlidingWindow = 5
	c.NormTopKProb = false
	c.RopeScaling, c.RopeFactor, c.RopeOrigCtx = "yarn", 4, 16
	c.YarnBetaFast, c.YarnBetaSlow, c.YarnAttnFactor, c.YarnTruncate = 16, 2, 1.25, false
	c.Tied = true
	got, err := readConfig(t, buildTiny(t, c, buildOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Errorf("read\n%+v\nwant\n%+v", got, c)
	}
}

func TestConfigFromFileAppliesLlamaCppDefaults(t *testing.T) {
	c := Config{Vocab: 40, Hidden: 64, Layers: 2, Heads: 4, KVHeads: 4, HeadDim: 16,
		Experts: 4, ExpertsUsed: 2, ExpertFFN: 32, ContextLen: 128,
		RopeScaling: "yarn", RopeFactor: 2, RopeOrigCtx: 64}
	a := Architecture + "."
	drop := map[string]bool{a + "attention.head_count_kv": true, a + "attention.key_length": true,
		a + "attention.value_length": true, a + "rope.freq_base": true, a + "feed_forward_length": true,
		a + "attention.layer_norm_rms_epsilon": true, a + "vocab_size": true}
	want := c
	want.RopeTheta, want.RMSEps, want.NormTopKProb = 10000, 1e-6, true
	want.YarnBetaFast, want.YarnBetaSlow, want.YarnTruncate = 32, 1, true
	want.YarnAttnFactor = 0.1*math.Log(2) + 1
	for _, withTokens := range []bool{false, true} {
		t.Run(fmt.Sprintf("tokens=%v", withTokens), func(t *testing.T) {
			o := buildOptions{llamaCpp: true, drop: drop}
			if withTokens {
				o.extraKV = map[string]any{"tokenizer.ggml.tokens": make([]string, c.Vocab)}
			}
			got, err := readConfig(t, buildTiny(t, c, o))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("read\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

func TestConfigFromFileRejectsBadFiles(t *testing.T) {
	a := Architecture + "."
	base := tinyConfig()
	withCfg := func(f func(*Config)) Config { c := base; f(&c); return c }
	big := Config{Vocab: 32, Hidden: 256, Layers: 1, Heads: 4, KVHeads: 2, HeadDim: 64,
		Experts: 2, ExpertsUsed: 1, ExpertFFN: 32, ContextLen: 16, RopeTheta: 1e4, RMSEps: 1e-6, NormTopKProb: true}
	cases := []struct {
		name string
		cfg  Config
		o    buildOptions
		want []string // substrings of the error
		is   error
	}{
		{"other architecture", base, buildOptions{extraKV: map[string]any{"general.architecture": "llama"}}, []string{"llama"}, ErrUnsupported},
		{"missing block count", base, buildOptions{drop: map[string]bool{a + "block_count": true}}, []string{"block_count"}, nil},
		{"heads not a multiple of kv heads", withCfg(func(c *Config) { c.KVHeads = 3 }), buildOptions{}, []string{"head_count_kv"}, nil},
		{"odd head dim", withCfg(func(c *Config) { c.HeadDim = 17 }), buildOptions{}, []string{"odd"}, nil},
		{"more experts used than exist", base, buildOptions{extraKV: map[string]any{a + "expert_used_count": uint32(9)}}, []string{"expert_used_count"}, nil},
		{"dense layer out of range", base, buildOptions{extraKV: map[string]any{"q3m.dense_layers": []int32{7}}}, []string{"dense_layers"}, nil},
		{"unknown rope scaling", base, buildOptions{extraKV: map[string]any{a + "rope.scaling.type": "linear"}}, []string{"linear"}, ErrUnsupported},
		{"missing tensor", base, buildOptions{skip: "blk.1.ffn_up.weight"}, []string{`"blk.1.ffn_up.weight"`, "missing"}, nil},
		{"missing bias", base, buildOptions{skip: "blk.2.attn_k.bias"}, []string{`"blk.2.attn_k.bias"`}, nil},
		{"wrong shape", base, buildOptions{extraKV: map[string]any{a + "expert_feed_forward_length": uint32(64)}}, []string{`"blk.0.ffn_gate_exps.weight"`, "dims"}, nil},
		{"unsupported matrix type", big, buildOptions{override: map[string]quant.Type{"blk.0.attn_q.weight": quant.Q8_K}}, []string{`"blk.0.attn_q.weight"`, "Q8_K"}, ErrUnsupported},
	}
	yarn := withCfg(func(c *Config) {
		c.RopeScaling, c.RopeFactor, c.RopeOrigCtx = "yarn", 4, 16
		c.YarnBetaFast, c.YarnBetaSlow, c.YarnAttnFactor, c.YarnTruncate = 32, 1, 1.1, true
	})
	nan, inf := math.NaN(), math.Inf(1)
	for _, k := range []struct {
		key  string
		yarn bool
	}{
		{a + "attention.layer_norm_rms_epsilon", false},
		{a + "rope.freq_base", false},
		{a + "rope.scaling.factor", true},
		{"q3m.rope.yarn.beta_fast", true},
		{"q3m.rope.yarn.beta_slow", true},
		{"q3m.rope.yarn.attention_factor", true},
	} {
		cfg := base
		if k.yarn {
			cfg = yarn
		}
		for _, v := range []any{float32(nan), float32(inf), float32(-inf), nan, inf, 1e39} {
			cases = append(cases, struct {
				name string
				cfg  Config
				o    buildOptions
				want []string
				is   error
			}{fmt.Sprintf("%s %T %v", k.key, v, v), cfg, buildOptions{extraKV: map[string]any{k.key: v}}, []string{k.key}, nil})
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := buildTiny(t, c.cfg, c.o)
			_, err := readConfig(t, m)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range append(c.want, m.path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %v does not wrap %v", err, c.is)
			}
			if _, err := Load(m.path); err == nil {
				t.Error("Load accepted the file")
			}
		})
	}
}
