package convert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
)

// HFConfig holds every Qwen3MoeConfig field of config.json that changes the
// model's math, with transformers' defaults applied for absent fields.
type HFConfig struct {
	VocabSize             int
	HiddenSize            int // H
	NumLayers             int // L
	NumHeads              int // nh
	NumKVHeads            int // nkv; absent → nh
	HeadDim               int // hd; absent → H/nh
	IntermediateSize      int // dense MLP
	MoEIntermediateSize   int // one expert's MLP
	NumExperts            int // E; 0 means every layer is dense
	NumExpertsPerTok      int // k
	NormTopKProb          bool
	DecoderSparseStep     int
	MLPOnlyLayers         []int
	RMSNormEps            float64
	TieWordEmbeddings     bool
	AttentionBias         bool
	UseSlidingWindow      bool
	SlidingWindow         int
	MaxPositionEmbeddings int
	RopeTheta             float64
	Rope                  RopeScaling
	Head                  Head // architectures, labels, pad_token_id (heads.go)
}

// RopeScaling describes RoPE scaling. Type is "" for plain RoPE or "yarn";
// for YaRN every field is resolved (defaults applied, factor derived).
type RopeScaling struct {
	Type                          string
	Factor                        float64
	OriginalMaxPositionEmbeddings int
	BetaFast                      float64
	BetaSlow                      float64
	AttentionFactor               float64
	Truncate                      bool
}

// Sparse reports whether layer i is a MoE layer (else a dense MLP).
// MLPOnlyLayers must be sorted, as ParseConfig leaves it.
func (c *HFConfig) Sparse(i int) bool {
	if _, found := slices.BinarySearch(c.MLPOnlyLayers, i); found {
		return false
	}
	return c.NumExperts > 0 && (i+1)%c.DecoderSparseStep == 0
}

// DenseLayers returns the indices of the layers with a dense MLP.
func (c *HFConfig) DenseLayers() []int {
	var d []int
	for i := range c.NumLayers {
		if !c.Sparse(i) {
			d = append(d, i)
		}
	}
	return d
}

// maxDim bounds every size so that products of a few of them cannot overflow.
const maxDim = 1 << 31

// Limits on the sizes of config.json, far above real models (Qwen3-235B:
// vocabulary 151936, hidden 4096, 94 layers of 128 experts, 64 heads,
// context 40960; the largest vocabularies are about 256k), and low enough
// that the loops and tables they drive stay bounded before the tensors
// confirm them.
const (
	maxVocab        = 1 << 24
	maxWidth        = 1 << 20 // hidden_size, intermediate sizes, head_dim
	maxHeads        = 1 << 12
	maxLayers       = 1 << 12
	maxExperts      = 1 << 16
	maxLayerExperts = 1 << 20 // layers × experts
	maxContext      = 1 << 24 // max_position_embeddings, sliding_window
)

// positive32 checks that v stays positive and finite once stored as a
// float32, as GGUF stores hyperparameters: 1e39 would become +Inf, 1e-46
// would become 0.
func positive32(key string, v float64) error {
	if f := float32(v); !(f > 0) || math.IsInf(float64(f), 0) {
		return fmt.Errorf("config.json: %s %g is not a positive finite float32 (GGUF stores it in 32 bits)", key, v)
	}
	return nil
}

// ParseConfig parses config.json. It refuses other model types, fields of the
// wrong JSON type, unsupported RoPE scaling and inconsistent sizes.
func ParseConfig(data []byte) (*HFConfig, error) {
	f, err := parseFields(data)
	if err != nil {
		return nil, err
	}
	mt, ok, err := f.str("model_type")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("config.json: model_type missing (want %q)", "qwen3_moe")
	}
	if mt != "qwen3_moe" {
		return nil, fmt.Errorf("config.json: model_type %q is not supported (want %q)", mt, "qwen3_moe")
	}
	if act, ok, err := f.str("hidden_act"); err != nil {
		return nil, err
	} else if ok && act != "silu" {
		return nil, fmt.Errorf("config.json: hidden_act %q not supported (want silu)", act)
	}
	c := &HFConfig{}
	ints := []struct {
		dst  *int
		key  string
		def  int
		zero bool // 0 allowed
	}{
		{&c.VocabSize, "vocab_size", 151936, false},
		{&c.HiddenSize, "hidden_size", 2048, false},
		{&c.NumLayers, "num_hidden_layers", 24, false},
		{&c.NumHeads, "num_attention_heads", 32, false},
		{&c.IntermediateSize, "intermediate_size", 6144, true},
		{&c.MoEIntermediateSize, "moe_intermediate_size", 768, true},
		{&c.NumExpertsPerTok, "num_experts_per_tok", 8, true},
		{&c.DecoderSparseStep, "decoder_sparse_step", 1, false},
		{&c.MaxPositionEmbeddings, "max_position_embeddings", 32768, false},
		{&c.SlidingWindow, "sliding_window", 4096, true},
	}
	for _, d := range ints {
		if *d.dst, err = f.intOr(d.key, d.def, d.zero); err != nil {
			return nil, err
		}
	}
	if c.NumKVHeads, err = f.intOr("num_key_value_heads", c.NumHeads, false); err != nil {
		return nil, err
	}
	if c.HeadDim, err = f.intOr("head_dim", c.HiddenSize/c.NumHeads, false); err != nil {
		return nil, err
	}
	experts := "num_experts"
	if _, ok := f.m["num_experts"]; !ok {
		if _, ok := f.m["num_local_experts"]; ok {
			experts = "num_local_experts"
		}
	}
	if c.NumExperts, err = f.intOr(experts, 128, true); err != nil {
		return nil, err
	}
	bools := []struct {
		dst *bool
		key string
	}{
		{&c.NormTopKProb, "norm_topk_prob"},
		{&c.TieWordEmbeddings, "tie_word_embeddings"},
		{&c.AttentionBias, "attention_bias"},
		{&c.UseSlidingWindow, "use_sliding_window"},
	}
	for _, b := range bools {
		if *b.dst, _, err = f.boolean(b.key); err != nil {
			return nil, err
		}
	}
	if c.RMSNormEps, err = f.floatOr("rms_norm_eps", 1e-6); err != nil {
		return nil, err
	}
	if c.MLPOnlyLayers, err = f.intList("mlp_only_layers"); err != nil {
		return nil, err
	}
	if err := parseRope(f, c); err != nil {
		return nil, err
	}
	if c.Head, err = parseHead(f); err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *HFConfig) validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("config.json: "+format, a...)
	}
	limits := []struct {
		key    string
		v, max int
	}{
		{"vocab_size", c.VocabSize, maxVocab},
		{"hidden_size", c.HiddenSize, maxWidth},
		{"intermediate_size", c.IntermediateSize, maxWidth},
		{"moe_intermediate_size", c.MoEIntermediateSize, maxWidth},
		{"head_dim", c.HeadDim, maxWidth},
		{"num_attention_heads", c.NumHeads, maxHeads},
		{"num_key_value_heads", c.NumKVHeads, maxHeads},
		{"num_hidden_layers", c.NumLayers, maxLayers},
		{"num_experts", c.NumExperts, maxExperts},
		{"num_hidden_layers × num_experts", c.NumLayers * c.NumExperts, maxLayerExperts},
		{"max_position_embeddings", c.MaxPositionEmbeddings, maxContext},
		{"rope original_max_position_embeddings", c.Rope.OriginalMaxPositionEmbeddings, maxContext},
		{"sliding_window", c.SlidingWindow, maxContext},
	}
	for _, l := range limits {
		if l.v > l.max {
			return bad("%s %d above the limit of %d", l.key, l.v, l.max)
		}
	}
	c.MLPOnlyLayers = slices.Compact(slices.Sorted(slices.Values(c.MLPOnlyLayers)))
	if c.NumHeads%c.NumKVHeads != 0 {
		return bad("num_attention_heads %d is not a multiple of num_key_value_heads %d", c.NumHeads, c.NumKVHeads)
	}
	if c.HeadDim%2 != 0 {
		return bad("head_dim %d is odd (RoPE pairs values)", c.HeadDim)
	}
	if err := positive32("rms_norm_eps", c.RMSNormEps); err != nil {
		return err
	}
	if err := positive32("rope_theta", c.RopeTheta); err != nil {
		return err
	}
	if !(c.RopeTheta > 1) {
		return bad("rope_theta %g must be greater than 1", c.RopeTheta)
	}
	for _, l := range c.MLPOnlyLayers {
		if l < 0 || l >= c.NumLayers {
			return bad("mlp_only_layers: layer %d out of range [0, %d)", l, c.NumLayers)
		}
	}
	if c.UseSlidingWindow && c.SlidingWindow <= 0 {
		return bad("use_sliding_window is true but sliding_window is %d", c.SlidingWindow)
	}
	dense, sparse := false, false
	for i := range c.NumLayers {
		if c.Sparse(i) {
			sparse = true
		} else {
			dense = true
		}
	}
	if dense && c.IntermediateSize <= 0 {
		return bad("intermediate_size must be positive when some layers are dense")
	}
	if sparse {
		if c.MoEIntermediateSize <= 0 {
			return bad("moe_intermediate_size must be positive")
		}
		if c.NumExpertsPerTok < 1 || c.NumExpertsPerTok > c.NumExperts {
			return bad("num_experts_per_tok %d must be in [1, %d]", c.NumExpertsPerTok, c.NumExperts)
		}
	}
	return nil
}

// parseRope reads rope_parameters (transformers v5) or rope_theta +
// rope_scaling (hub configs) into c.RopeTheta and c.Rope.
func parseRope(f fields, c *HFConfig) error {
	theta, err := f.floatOr("rope_theta", 10000)
	if err != nil {
		return err
	}
	key := "rope_parameters"
	raw, ok := f.get(key)
	if !ok {
		key = "rope_scaling"
		raw, ok = f.get(key)
	}
	var p fields
	if ok {
		if err := json.Unmarshal(raw, &p); err != nil {
			return fmt.Errorf("config.json: field %s: want an object or null", key)
		}
		p.prefix = key + "."
	}
	if p.m == nil {
		c.RopeTheta = theta
		return nil
	}
	if c.RopeTheta, err = p.floatOr("rope_theta", theta); err != nil {
		return err
	}
	typ, ok, err := p.str("rope_type")
	if err != nil {
		return err
	}
	if !ok {
		if typ, _, err = p.str("type"); err != nil {
			return err
		}
	}
	switch typ {
	case "", "default":
		return nil
	case "yarn":
	default:
		return fmt.Errorf("config.json: %s: rope type %q not supported (want default or yarn)", key, typ)
	}
	if prf, err := p.floatOr("partial_rotary_factor", 1); err != nil || prf != 1 {
		if err == nil {
			err = fmt.Errorf("config.json: %s: partial_rotary_factor %g not supported", key, prf)
		}
		return err
	}
	r := &c.Rope
	r.Type = "yarn"
	if r.OriginalMaxPositionEmbeddings, err = p.intOr("original_max_position_embeddings", c.MaxPositionEmbeddings, false); err != nil {
		return err
	}
	if r.Factor, err = p.floatOr("factor", float64(c.MaxPositionEmbeddings)/float64(r.OriginalMaxPositionEmbeddings)); err != nil {
		return err
	}
	if err := positive32(key+".factor", r.Factor); err != nil {
		return err
	}
	// transformers uses `or`, so 0 also means the default.
	if r.BetaFast, err = p.floatOr("beta_fast", 32); err == nil && r.BetaFast == 0 {
		r.BetaFast = 32
	}
	if err != nil {
		return err
	}
	if r.BetaSlow, err = p.floatOr("beta_slow", 1); err == nil && r.BetaSlow == 0 {
		r.BetaSlow = 1
	}
	if err != nil {
		return err
	}
	if err := positive32(key+".beta_fast", r.BetaFast); err != nil {
		return err
	}
	if err := positive32(key+".beta_slow", r.BetaSlow); err != nil {
		return err
	}
	var def bool
	if r.Truncate, def, err = p.boolean("truncate"); err != nil {
		return err
	} else if !def {
		r.Truncate = true
	}
	mscale, err := p.floatOr("mscale", 0)
	if err != nil {
		return err
	}
	mscaleAll, err := p.floatOr("mscale_all_dim", 0)
	if err != nil {
		return err
	}
	getMscale := func(scale, m float64) float64 {
		if scale <= 1 {
			return 1
		}
		return 0.1*m*math.Log(scale) + 1
	}
	attn := getMscale(r.Factor, 1)
	if mscale != 0 && mscaleAll != 0 {
		attn = getMscale(r.Factor, mscale) / getMscale(r.Factor, mscaleAll)
	}
	if r.AttentionFactor, err = p.floatOr("attention_factor", attn); err != nil {
		return err
	}
	return positive32(key+".attention_factor", r.AttentionFactor)
}

// fields is a JSON object whose values are decoded on demand, so that a
// field of the wrong type is reported by name. null counts as absent.
type fields struct {
	m      map[string]json.RawMessage
	prefix string
}

func (f *fields) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return nil
	}
	return json.Unmarshal(b, &f.m)
}

func parseFields(data []byte) (fields, error) {
	var f fields
	if err := CheckJSONText(data); err != nil {
		return f, fmt.Errorf("config.json: %w", err)
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return f, fmt.Errorf("config.json: %w", err)
	}
	if f.m == nil {
		return f, fmt.Errorf("config.json: not a JSON object")
	}
	return f, nil
}

func (f fields) get(key string) (json.RawMessage, bool) {
	raw, ok := f.m[key]
	if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, false
	}
	return raw, true
}

func (f fields) typeErr(key, want string) error {
	return fmt.Errorf("config.json: field %s%s: want %s", f.prefix, key, want)
}

func (f fields) str(key string) (string, bool, error) {
	raw, ok := f.get(key)
	if !ok {
		return "", false, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false, f.typeErr(key, "a string")
	}
	return s, true, nil
}

func (f fields) boolean(key string) (bool, bool, error) {
	raw, ok := f.get(key)
	if !ok {
		return false, false, nil
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err != nil {
		return false, false, f.typeErr(key, "true or false")
	}
	return b, true, nil
}

func (f fields) floatOr(key string, def float64) (float64, error) {
	raw, ok := f.get(key)
	if !ok {
		return def, nil
	}
	var v float64
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, f.typeErr(key, "a number")
	}
	return v, nil
}

// intOr reads a whole number in [1, maxDim) (or [0, maxDim) if zero is true).
func (f fields) intOr(key string, def int, zero bool) (int, error) {
	raw, ok := f.get(key)
	if !ok {
		if def <= 0 && !zero {
			return 0, fmt.Errorf("config.json: field %s%s missing", f.prefix, key)
		}
		return def, nil
	}
	v, err := wholeNumber(raw)
	if err != nil {
		return 0, f.typeErr(key, "a whole number")
	}
	if v < 0 || (v == 0 && !zero) || v >= maxDim {
		return 0, fmt.Errorf("config.json: field %s%s: %d out of range", f.prefix, key, v)
	}
	return int(v), nil
}

func (f fields) intList(key string) ([]int, error) {
	raw, ok := f.get(key)
	if !ok {
		return nil, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, f.typeErr(key, "a list of whole numbers")
	}
	out := make([]int, len(list))
	for i, r := range list {
		v, err := wholeNumber(r)
		if err != nil || v < -maxDim || v >= maxDim {
			return nil, f.typeErr(key, "a list of whole numbers")
		}
		out[i] = int(v)
	}
	return out, nil
}

// wholeNumber accepts 12 and 12.0 (some tools write integers as floats).
func wholeNumber(raw json.RawMessage) (int64, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] == '"' {
		return 0, fmt.Errorf("not a number")
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, err
	}
	if v, err := n.Int64(); err == nil {
		return v, nil
	}
	v, err := n.Float64()
	if err != nil || v != math.Trunc(v) || math.Abs(v) > 1<<53 {
		return 0, fmt.Errorf("not a whole number: %s", n)
	}
	return int64(v), nil
}
