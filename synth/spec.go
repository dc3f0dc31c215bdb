// Package synth synthesizes random Qwen3-MoE checkpoints in the Hugging Face
// layout: config.json, safetensors (single file, or sharded with an index),
// tokenizer.json and tokenizer_config.json, exactly as the hub spells them.
//
// Output is a pure function of the Spec: the same Spec (and Seed) gives
// byte-identical files on every machine. Each weight is drawn from its own
// stream, seeded by the Spec's Seed and the tensor's per-expert hub name, so
// variants that differ only in storage (dtype, sharding, fused expert names)
// hold the same values up to rounding. Tensors are generated and written in
// chunks, never held whole, so checkpoints of real geometry can be written.
package synth

import (
	"fmt"
	"math"
	"slices"
)

// Spec describes a synthetic checkpoint: its geometry, the config.json
// spellings to use and how the weights are stored.
type Spec struct {
	Vocab, Hidden, Layers   int
	Heads, KVHeads, HeadDim int // HeadDim 0: omit head_dim from config.json (it is then Hidden/Heads)
	FFN                     int // intermediate_size of dense MLP layers
	Experts, ExpertsUsed    int
	ExpertFFN               int // moe_intermediate_size
	MaxPos                  int
	RMSNormEps              float64 // 0 means 1e-6

	NormTopKProb, Tied, AttentionBias bool
	MLPOnlyLayers                     []int
	SparseStep                        int // decoder_sparse_step; 0 means 1

	UseSlidingWindow bool
	SlidingWindow    int // written as sliding_window (null when 0)

	RopeTheta      float64
	YaRN           *YaRN // nil: no rope scaling
	RopeParameters bool  // write transformers v5 rope_parameters instead of rope_theta + rope_scaling

	NumLocalExperts bool   // spell num_experts as num_local_experts
	DType           string // "bf16", "f16" or "f32"
	Shards          int    // 0 or 1: model.safetensors; more: an index and this many shards
	Fused           bool   // transformers v5 fused expert tensors (gate_up_proj, down_proj)

	Seed uint64
	// Qwen3Tokenizer writes Qwen3's real tokenizer (151,669 tokens, chat
	// template included) instead of the tiny synthetic one; Vocab must then
	// be at least 151669.
	Qwen3Tokenizer bool
	// Std, when positive, is the standard deviation of every matrix (the
	// router gets 3·Std). When zero, a matrix with fan-in n has std 1/√n,
	// the embedding std 1, lm_head 2/√H and the router 3/√H, which keeps
	// activations of order one and gives logits and routing clear margins.
	Std float32

	// Head selects the transformers class and its head (heads.go); the
	// zero Head is Qwen3MoeForCausalLM.
	Head Head
}

// YaRN is the rope_scaling (or rope_parameters) entry of a YaRN checkpoint.
// Zero fields are omitted from config.json.
type YaRN struct {
	Factor          float64 // omitted when 0: readers derive MaxPos/OrigMaxPos
	OrigMaxPos      int     // original_max_position_embeddings
	BetaFast        float64
	BetaSlow        float64
	AttentionFactor float64
	LegacyType      bool // spell rope_type as "type" (older hub configs)
}

// HeadDimOrDefault returns head_dim, or Hidden/Heads when HeadDim is 0.
func (s Spec) HeadDimOrDefault() int {
	if s.HeadDim > 0 {
		return s.HeadDim
	}
	if s.Heads == 0 {
		return 0
	}
	return s.Hidden / s.Heads
}

// Sparse reports whether layer i has an MoE block rather than a dense MLP.
func (s Spec) Sparse(i int) bool {
	step := max(s.SparseStep, 1)
	return !slices.Contains(s.MLPOnlyLayers, i) && s.Experts > 0 && (i+1)%step == 0
}

// Params returns the number of weights the checkpoint holds.
func (s Spec) Params() int64 {
	var n int64
	for _, t := range s.tensors() {
		n += t.elems()
	}
	return n
}

// Bytes returns the size of the tensor data (headers excluded).
func (s Spec) Bytes() int64 {
	sz, _ := dtypeSize(s.DType)
	return s.Params() * int64(sz)
}

func dtypeSize(d string) (int, error) {
	switch d {
	case "f32":
		return 4, nil
	case "bf16", "f16":
		return 2, nil
	}
	return 0, fmt.Errorf("synth: unknown dtype %q (want bf16, f16 or f32)", d)
}

// Validate reports the first inconsistency in s.
func (s Spec) Validate() error {
	if _, err := dtypeSize(s.DType); err != nil {
		return err
	}
	hd := s.HeadDimOrDefault()
	switch {
	case s.Hidden <= 0 || s.Layers <= 0 || s.Heads <= 0 || s.KVHeads <= 0:
		return fmt.Errorf("synth: hidden %d, layers %d, heads %d, kv heads %d must be positive", s.Hidden, s.Layers, s.Heads, s.KVHeads)
	case s.Heads%s.KVHeads != 0:
		return fmt.Errorf("synth: heads %d not a multiple of kv heads %d", s.Heads, s.KVHeads)
	case hd <= 0 || hd%2 != 0:
		return fmt.Errorf("synth: head dim %d must be positive and even", hd)
	case s.HeadDim == 0 && s.Hidden%s.Heads != 0:
		return fmt.Errorf("synth: hidden %d not a multiple of heads %d and no head_dim", s.Hidden, s.Heads)
	case s.Vocab < minVocab() || s.Qwen3Tokenizer && s.Vocab < qwen3Tokens:
		return fmt.Errorf("synth: vocab %d smaller than the tokenizer's tokens", s.Vocab)
	case s.MaxPos <= 0 || s.RopeTheta <= 0:
		return fmt.Errorf("synth: max positions %d and rope theta %g must be positive", s.MaxPos, s.RopeTheta)
	case s.Shards < 0:
		return fmt.Errorf("synth: negative shard count %d", s.Shards)
	case s.UseSlidingWindow && s.SlidingWindow <= 0:
		return fmt.Errorf("synth: sliding window %d must be positive", s.SlidingWindow)
	case s.YaRN != nil && s.YaRN.OrigMaxPos <= 0:
		return fmt.Errorf("synth: yarn original max positions %d must be positive", s.YaRN.OrigMaxPos)
	}
	anySparse, anyDense := false, false
	for i := range s.Layers {
		if s.Sparse(i) {
			anySparse = true
		} else {
			anyDense = true
		}
	}
	if anySparse && (s.ExpertsUsed <= 0 || s.ExpertsUsed > s.Experts || s.ExpertFFN <= 0) {
		return fmt.Errorf("synth: experts %d, used %d, expert ffn %d inconsistent", s.Experts, s.ExpertsUsed, s.ExpertFFN)
	}
	if anyDense && s.FFN <= 0 {
		return fmt.Errorf("synth: dense layers need a positive ffn, got %d", s.FFN)
	}
	return nil
}

// tinyBase is the geometry shared by the test variants: nh·hd (128) differs
// from H (64), every matrix width is a multiple of 32 (Q8_0/Q4_0 blocks), and
// theta is small so that RoPE turns visibly over a few positions.
func tinyBase() Spec {
	return Spec{
		Vocab: 512, Hidden: 64, Layers: 3, Heads: 4, KVHeads: 2, HeadDim: 32,
		FFN: 96, Experts: 8, ExpertsUsed: 2, ExpertFFN: 32, MaxPos: 256,
		NormTopKProb: true, RopeTheta: 10000, DType: "f32", Seed: 1,
	}
}

// Variants returns the parity test matrix: one small checkpoint per config
// feature, keyed by a short name. Each differs from "base" in one respect.
func Variants() map[string]Spec {
	v := map[string]Spec{}
	add := func(name string, seed uint64, f func(*Spec)) {
		s := tinyBase()
		s.Seed = seed
		f(&s)
		v[name] = s
	}
	add("base", 1, func(s *Spec) {})
	add("tied", 2, func(s *Spec) { s.Tied = true })
	add("bias", 3, func(s *Spec) { s.AttentionBias = true })
	add("dense-mix", 4, func(s *Spec) { s.Layers = 4; s.MLPOnlyLayers = []int{0}; s.SparseStep = 2 })
	add("sharded-bf16", 5, func(s *Spec) { s.DType = "bf16"; s.Shards = 3 })
	add("f16", 6, func(s *Spec) { s.DType = "f16" })
	add("fused", 7, func(s *Spec) { s.Fused = true })
	add("yarn", 8, func(s *Spec) {
		s.RopeParameters = true
		s.YaRN = &YaRN{Factor: 4, OrigMaxPos: 64, BetaFast: 32, BetaSlow: 1}
	})
	add("yarn-legacy", 9, func(s *Spec) { s.YaRN = &YaRN{OrigMaxPos: 64, LegacyType: true} })
	// An explicit factor (2) other than max/original (8): transformers v5 uses the factor.
	add("yarn-factor", 14, func(s *Spec) {
		s.RopeParameters = true
		s.MaxPos = 8192
		s.YaRN = &YaRN{Factor: 2, OrigMaxPos: 1024}
	})
	// Explicit attention_factor and non-default betas, in rope_scaling, factor 3 ≠ 256/128.
	add("yarn-params", 15, func(s *Spec) {
		s.YaRN = &YaRN{Factor: 3, OrigMaxPos: 128, BetaFast: 8, BetaSlow: 2, AttentionFactor: 1.25}
	})
	add("no-head-dim", 10, func(s *Spec) { s.HeadDim = 0; s.NumLocalExperts = true })
	add("sliding", 11, func(s *Spec) { s.UseSlidingWindow = true; s.SlidingWindow = 5 })
	add("top1-raw", 12, func(s *Spec) { s.NormTopKProb = false; s.ExpertsUsed = 1 })
	add("mha", 13, func(s *Spec) { s.KVHeads = 4; s.RopeTheta = 1e6; s.RMSNormEps = 1e-5 })
	return v
}

// shardBytes is the target shard size of presets, as on the hub.
const shardBytes = 5e9

// Preset returns a named geometry: "qwen3-30b-a3b" and "qwen3-235b-a22b"
// (real shapes, BF16, sharded like the hub), "tiny" (small, with a tiny
// synthetic tokenizer) and "demo" (tiny's shapes with Qwen3's real tokenizer). layers
// > 0 overrides the layer count, which keeps real-geometry checkpoints small.
func Preset(name string, layers int) (Spec, error) {
	var s Spec
	switch name {
	case "qwen3-30b-a3b":
		s = Spec{
			Vocab: 151936, Hidden: 2048, Layers: 48, Heads: 32, KVHeads: 4, HeadDim: 128,
			FFN: 6144, Experts: 128, ExpertsUsed: 8, ExpertFFN: 768, MaxPos: 40960,
			NormTopKProb: true, RopeTheta: 1e6, DType: "bf16", Seed: 30,
		}
	case "qwen3-235b-a22b":
		s = Spec{
			Vocab: 151936, Hidden: 4096, Layers: 94, Heads: 64, KVHeads: 4, HeadDim: 128,
			FFN: 12288, Experts: 128, ExpertsUsed: 8, ExpertFFN: 1536, MaxPos: 40960,
			NormTopKProb: true, RopeTheta: 1e6, DType: "bf16", Seed: 235,
		}
	case "tiny":
		s = Spec{
			Vocab: 2048, Hidden: 256, Layers: 4, Heads: 8, KVHeads: 2, HeadDim: 32,
			FFN: 512, Experts: 16, ExpertsUsed: 4, ExpertFFN: 128, MaxPos: 4096,
			NormTopKProb: true, RopeTheta: 1e6, DType: "bf16", Seed: 7,
		}
	case "demo":
		s = Spec{
			Vocab: 151936, Hidden: 256, Layers: 4, Heads: 8, KVHeads: 2, HeadDim: 32,
			FFN: 512, Experts: 16, ExpertsUsed: 4, ExpertFFN: 128, MaxPos: 4096,
			NormTopKProb: true, RopeTheta: 1e6, DType: "bf16", Seed: 7, Qwen3Tokenizer: true,
		}
	default:
		return Spec{}, fmt.Errorf("synth: unknown preset %q (want qwen3-30b-a3b, qwen3-235b-a22b, tiny or demo)", name)
	}
	if layers < 0 {
		return Spec{}, fmt.Errorf("synth: preset %q: negative layer count %d", name, layers)
	}
	if layers > 0 {
		s.Layers = layers
	}
	s.Shards = max(1, int(math.Ceil(float64(s.Bytes())/shardBytes)))
	return s, nil
}
