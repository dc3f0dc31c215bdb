package runtime

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/q3m/q3m/ops"
	"github.com/q3m/q3m/quant"
)

// kquantConfig is tinyConfig with every matrix row a multiple of 256
// values, so that K-quant types fit everywhere.
func kquantConfig() Config {
	c := tinyConfig()
	c.Hidden, c.HeadDim, c.FFN, c.ExpertFFN = 256, 64, 256, 256
	return c
}

// mixedTypes gives the matrices of a kquantConfig model the types
// llama.cpp's presets mix, each type of the kernel table at least once.
func mixedTypes() map[string]quant.Type {
	return map[string]quant.Type{
		"output.weight":              quant.Q6_K,
		"blk.0.attn_q.weight":        quant.Q4_K,
		"blk.0.attn_k.weight":        quant.Q6_K,
		"blk.0.attn_v.weight":        quant.Q5_K,
		"blk.0.attn_output.weight":   quant.Q3_K,
		"blk.0.ffn_gate_exps.weight": quant.Q4_K,
		"blk.0.ffn_up_exps.weight":   quant.Q2_K,
		"blk.0.ffn_down_exps.weight": quant.IQ4_XS,
		"blk.1.attn_q.weight":        quant.IQ4_NL,
		"blk.1.attn_k.weight":        quant.Q4_1,
		"blk.1.attn_v.weight":        quant.Q5_1,
		"blk.1.attn_output.weight":   quant.Q5_0,
		"blk.1.ffn_gate.weight":      quant.Q4_0,
		"blk.1.ffn_up.weight":        quant.Q8_0,
		"blk.1.ffn_down.weight":      quant.BF16,
		"blk.2.ffn_gate_exps.weight": quant.Q5_K,
		"blk.2.ffn_up_exps.weight":   quant.Q4_K,
		"blk.2.ffn_down_exps.weight": quant.Q6_K,
	}
}

// A file mixing every type of the kernel table loads and runs, prefill
// giving decode's logits bit for bit.
func TestLoadsAndRunsFilesMixingEveryTableType(t *testing.T) {
	c := kquantConfig()
	tm := buildTiny(t, c, buildOptions{seed: 7, typ: quant.F16, override: mixedTypes()})
	model := openTiny(t, tm)
	ids := randIDs(4, 11, c.Vocab)
	V := c.Vocab
	all, err := newSession(t, model, 2).Eval(ids, true)
	if err != nil {
		t.Fatal(err)
	}
	all = slices.Clone(all)
	dec := newSession(t, model, 1)
	for p, id := range ids {
		got, err := dec.Eval([]int32{id}, false)
		if err != nil {
			t.Fatal(err)
		}
		for i := range V {
			if math.Float32bits(got[i]) != math.Float32bits(all[p*V+i]) {
				t.Fatalf("position %d logit %d: decode %v, prefill %v", p, i, got[i], all[p*V+i])
			}
		}
	}
	spread := slices.Max(all) - slices.Min(all)
	for _, v := range all {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("logit %v", v)
		}
	}
	if spread == 0 {
		t.Errorf("all logits equal: the weights do not reach them")
	}
}

// token_embd's rows are dequantized for the embedding lookup: a type the
// kernels multiply but package quant cannot dequantize is refused there
// with ErrUnsupported, and accepted as the output matrix.
func TestTokenEmbeddingNeedsADequantizableType(t *testing.T) {
	c := kquantConfig()
	for _, typ := range []quant.Type{quant.Q4_K, quant.Q6_K, quant.IQ4_XS, quant.Q5_0} {
		if !ops.Supported(typ) {
			t.Fatalf("%s not supported by ops", typ)
		}
		tm := buildTiny(t, c, buildOptions{seed: 8, override: map[string]quant.Type{"token_embd.weight": typ, "output.weight": typ}})
		m, err := Load(tm.path)
		if typ.Convertible() {
			if err != nil {
				t.Errorf("%s token_embd: %v", typ, err)
			} else {
				m.Close()
			}
			continue
		}
		if err == nil {
			m.Close()
			t.Errorf("%s token_embd accepted though quant cannot dequantize it", typ)
		} else if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "token_embd.weight") {
			t.Errorf("%s token_embd: %v, want ErrUnsupported naming the tensor", typ, err)
		}
	}
}

// Decoding a token of a file mixing every type allocates nothing once
// warm: products whose input is quantized to several activation types
// grow the scratch memory once.
func TestDecodeOfMixedTypesAllocatesNothing(t *testing.T) {
	s := newSession(t, openTiny(t, buildTiny(t, kquantConfig(), buildOptions{seed: 9, typ: quant.F16, override: mixedTypes()})), 2)
	if _, err := s.Eval([]int32{1, 2}, false); err != nil {
		t.Fatal(err)
	}
	id := []int32{3}
	allocs := testing.AllocsPerRun(10, func() {
		s.Truncate(2)
		if _, err := s.Eval(id, false); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per decoded token", allocs)
	}
}
