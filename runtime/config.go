package runtime

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/q3m/q3m/format"
	"github.com/q3m/q3m/ops"
)

// Architecture is the general.architecture value of the files q3m runs.
const Architecture = "qwen3moe"

// ErrUnsupported is wrapped by errors about files that are well formed but
// describe a model (or a tensor type) this runtime cannot run.
var ErrUnsupported = errors.New("runtime: unsupported model")

// Config is the shape and arithmetic settings of a Qwen3-MoE model, as read
// from a file's metadata (defaults as in docs/metadata.md).
type Config struct {
	Vocab, Hidden, Layers      int
	Heads, KVHeads, HeadDim    int
	FFN                        int // dense MLP intermediate size
	Experts, ExpertsUsed       int
	ExpertFFN                  int // expert MLP intermediate size
	ContextLen                 int
	RopeTheta, RMSEps          float64
	NormTopKProb               bool
	AttentionBias              bool
	DenseLayers                []int // layers with a dense MLP, ascending
	SlidingWindow              int   // 0: no window
	RopeScaling                string
	RopeFactor                 float64
	RopeOrigCtx                int
	YarnBetaFast, YarnBetaSlow float64
	YarnAttnFactor             float64
	YarnTruncate               bool
	Tied                       bool // token_embd is also the output matrix
	Head                       Head // the head after the final norm (heads.go)
}

// MoE reports whether layer i has a routed-expert MLP (else a dense one).
func (c Config) MoE(i int) bool {
	return c.Experts > 0 && !slices.Contains(c.DenseLayers, i)
}

// metaReader reads keys of one file, remembering the first error.
type metaReader struct {
	f   *format.File
	err error
}

func (r *metaReader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *metaReader) uint(key string, def int, required bool) int {
	v, ok, err := r.f.Uint(key)
	switch {
	case err != nil:
		r.fail(err)
	case !ok && required:
		r.fail(fmt.Errorf("runtime: %s: required key %q missing", r.f.Path, key))
	case !ok:
		return def
	case v > math.MaxInt32:
		r.fail(fmt.Errorf("runtime: %s: key %q = %d is too large", r.f.Path, key, v))
	default:
		return int(v)
	}
	return def
}

// float reads a number key. A float32 value is widened to the float64 of
// its shortest decimal form (1e-6, not 9.99999997e-7): the value config.json
// held, which the reference implementation uses.
func (r *metaReader) float(key string, def float64) float64 {
	v, ok, err := r.f.Float(key)
	if err != nil {
		r.fail(err)
	}
	if !ok || err != nil {
		return def
	}
	if raw, _ := r.f.Lookup(key); raw != nil {
		if f32, is := raw.(float32); is {
			v, _ = strconv.ParseFloat(strconv.FormatFloat(float64(f32), 'g', -1, 32), 64)
		}
	}
	return v
}

func (r *metaReader) bool(key string, def bool) bool {
	v, ok, err := r.f.Bool(key)
	if err != nil {
		r.fail(err)
	}
	if !ok || err != nil {
		return def
	}
	return v
}

func (r *metaReader) string(key string) string {
	v, _, err := r.f.String(key)
	if err != nil {
		r.fail(err)
	}
	return v
}

// ConfigFromFile reads and validates the model configuration of f: metadata
// values, and the presence, shapes and types of every tensor the forward
// pass reads.
func ConfigFromFile(f *format.File) (Config, error) {
	r := &metaReader{f: f}
	if arch := r.string("general.architecture"); r.err == nil && arch != Architecture {
		return Config{}, fmt.Errorf("runtime: %s: general.architecture is %q, want %q: %w", f.Path, arch, Architecture, ErrUnsupported)
	}
	a := Architecture + "."
	var c Config
	c.Layers = r.uint(a+"block_count", 0, true)
	c.ContextLen = r.uint(a+"context_length", 0, true)
	c.Hidden = r.uint(a+"embedding_length", 0, true)
	c.FFN = r.uint(a+"feed_forward_length", 0, false)
	c.Heads = r.uint(a+"attention.head_count", 0, true)
	c.KVHeads = r.uint(a+"attention.head_count_kv", c.Heads, false)
	hd := 0
	if c.Heads > 0 {
		hd = c.Hidden / c.Heads
	}
	c.HeadDim = r.uint(a+"attention.key_length", hd, false)
	vd := r.uint(a+"attention.value_length", c.HeadDim, false)
	c.RopeTheta = r.float(a+"rope.freq_base", 10000)
	c.RMSEps = r.float(a+"attention.layer_norm_rms_epsilon", 1e-6)
	c.Experts = r.uint(a+"expert_count", 0, false)
	c.ExpertsUsed = r.uint(a+"expert_used_count", 0, false)
	c.ExpertFFN = r.uint(a+"expert_feed_forward_length", 0, c.Experts > 0)
	c.NormTopKProb = r.bool("q3m.norm_topk_prob", true)
	c.AttentionBias = r.bool("q3m.attention_bias", false)
	c.SlidingWindow = r.uint("q3m.sliding_window", 0, false)
	if dl, ok, err := f.Ints("q3m.dense_layers"); err != nil {
		r.fail(err)
	} else if ok {
		for _, i := range dl {
			if i < 0 || i >= int64(c.Layers) {
				r.fail(fmt.Errorf("runtime: %s: q3m.dense_layers holds %d, outside [0, %d)", f.Path, i, c.Layers))
				break
			}
			c.DenseLayers = append(c.DenseLayers, int(i))
		}
		slices.Sort(c.DenseLayers)
		c.DenseLayers = slices.Compact(c.DenseLayers)
	}
	readRopeScaling(r, &c)
	c.Head = readHead(r)
	c.Vocab = r.uint(a+"vocab_size", 0, false)
	if c.Vocab == 0 && r.err == nil {
		if toks, ok, err := f.Strings("tokenizer.ggml.tokens"); err == nil && ok {
			c.Vocab = len(toks)
		} else if t, ok := f.Tensor("token_embd.weight"); ok && len(t.Dims) == 2 && t.Dims[1] <= math.MaxInt32 {
			c.Vocab = int(t.Dims[1])
		}
	}
	if r.err != nil {
		return Config{}, r.err
	}
	// Each layer has several tensors: a block count beyond the tensors is
	// refused before anything loops over the layers.
	if c.Layers > len(f.Tensors) {
		return Config{}, fmt.Errorf("runtime: %s: block_count %d but only %d tensors: %w", f.Path, c.Layers, len(f.Tensors), format.ErrCorrupt)
	}
	if err := c.validate(vd); err != nil {
		return Config{}, fmt.Errorf("runtime: %s: %w", f.Path, err)
	}
	_, hasOut := f.Tensor("output.weight")
	c.Tied = !hasOut
	if err := checkTensors(f, c); err != nil {
		return Config{}, err
	}
	return c, nil
}

func readRopeScaling(r *metaReader, c *Config) {
	a := Architecture + "."
	switch typ := r.string(a + "rope.scaling.type"); typ {
	case "", "none":
		return
	case "yarn":
		c.RopeScaling = typ
	default:
		r.fail(fmt.Errorf("runtime: %s: rope scaling %q: %w", r.f.Path, typ, ErrUnsupported))
		return
	}
	c.RopeOrigCtx = r.uint(a+"rope.scaling.original_context_length", c.ContextLen, false)
	def := 0.0
	if c.RopeOrigCtx > 0 {
		def = float64(c.ContextLen) / float64(c.RopeOrigCtx)
	}
	c.RopeFactor = r.float(a+"rope.scaling.factor", def)
	c.YarnBetaFast = r.float("q3m.rope.yarn.beta_fast", 32)
	c.YarnBetaSlow = r.float("q3m.rope.yarn.beta_slow", 1)
	c.YarnAttnFactor = r.float("q3m.rope.yarn.attention_factor", yarnMscale(c.RopeFactor))
	c.YarnTruncate = r.bool("q3m.rope.yarn.truncate", true)
}

// yarnMscale is transformers' default YaRN attention factor.
func yarnMscale(factor float64) float64 {
	if factor <= 1 {
		return 1
	}
	return 0.1*math.Log(factor) + 1
}

func (c Config) validate(valueDim int) error {
	pos := []struct {
		name string
		v    int
	}{{"vocab size", c.Vocab}, {"block_count", c.Layers}, {"embedding_length", c.Hidden},
		{"head_count", c.Heads}, {"head_count_kv", c.KVHeads}, {"key_length", c.HeadDim},
		{"context_length", c.ContextLen}}
	for _, p := range pos {
		if p.v <= 0 {
			return fmt.Errorf("%s is %d, want > 0", p.name, p.v)
		}
	}
	switch {
	case c.Heads%c.KVHeads != 0:
		return fmt.Errorf("head_count %d is not a multiple of head_count_kv %d", c.Heads, c.KVHeads)
	case c.HeadDim%2 != 0:
		return fmt.Errorf("key_length %d is odd; RoPE needs pairs", c.HeadDim)
	case valueDim != c.HeadDim:
		return fmt.Errorf("value_length %d differs from key_length %d: %w", valueDim, c.HeadDim, ErrUnsupported)
	case c.Experts > 0 && (c.ExpertsUsed < 1 || c.ExpertsUsed > c.Experts):
		return fmt.Errorf("expert_used_count %d outside [1, expert_count %d]", c.ExpertsUsed, c.Experts)
	case c.Experts > 0 && c.ExpertFFN <= 0:
		return fmt.Errorf("expert_feed_forward_length %d, want > 0", c.ExpertFFN)
	case c.RopeScaling == "yarn" && c.RopeOrigCtx <= 0:
		return fmt.Errorf("rope.scaling.original_context_length is %d, want > 0", c.RopeOrigCtx)
	}
	if err := c.checkFloats(); err != nil {
		return err
	}
	for i := range c.Layers {
		if !c.MoE(i) && c.FFN <= 0 {
			return fmt.Errorf("layer %d has a dense MLP but feed_forward_length is %d", i, c.FFN)
		}
	}
	return nil
}

// checkFloats refuses a hyperparameter that is NaN, infinite, outside the
// float32 range the forward pass computes in, or outside its domain,
// naming its key.
func (c Config) checkFloats() error {
	a := Architecture + "."
	type check struct {
		key  string
		v    float64
		ok   bool
		want string
	}
	checks := []check{
		{a + "attention.layer_norm_rms_epsilon", c.RMSEps, c.RMSEps >= 0, ">= 0"},
		{a + "rope.freq_base", c.RopeTheta, c.RopeTheta > 1, "> 1"},
	}
	if c.RopeScaling == "yarn" {
		checks = append(checks,
			check{a + "rope.scaling.factor", c.RopeFactor, c.RopeFactor > 0, "> 0"},
			check{"q3m.rope.yarn.beta_fast", c.YarnBetaFast, c.YarnBetaFast > 0, "> 0"},
			check{"q3m.rope.yarn.beta_slow", c.YarnBetaSlow, c.YarnBetaSlow > 0, "> 0"},
			check{"q3m.rope.yarn.attention_factor", c.YarnAttnFactor, c.YarnAttnFactor > 0, "> 0"})
	}
	for _, ch := range checks {
		if !ch.ok || math.IsInf(ch.v, 0) || math.Abs(ch.v) > math.MaxFloat32 {
			return fmt.Errorf("%s is %g, want a finite float32 %s", ch.key, ch.v, ch.want)
		}
	}
	return nil
}

func checkTensors(f *format.File, c Config) error {
	for _, s := range c.Tensors() {
		if _, err := lookup(f, s); err != nil {
			return err
		}
	}
	return nil
}

// lookup finds the tensor of spec s and checks its shape and type.
func lookup(f *format.File, s TensorSpec) (format.TensorInfo, error) {
	t, ok := f.Tensor(s.Name)
	if !ok {
		return t, fmt.Errorf("runtime: %s: tensor %q missing", f.Path, s.Name)
	}
	same := len(t.Dims) == len(s.Dims)
	for i := 0; same && i < len(s.Dims); i++ {
		same = t.Dims[i] == uint64(s.Dims[i])
	}
	if !same {
		return t, fmt.Errorf("runtime: %s: tensor %q has dims %v, want %v", f.Path, s.Name, t.Dims, s.Dims)
	}
	// Vectors are dequantized; matrices are multiplied in place by the
	// kernels of ops, and token_embd's rows are dequantized as well for the
	// embedding lookup.
	supported := t.Type.Convertible()
	if s.Matrix {
		supported = ops.Supported(t.Type) && (s.Name != "token_embd.weight" || t.Type.Convertible())
	}
	if !supported {
		return t, fmt.Errorf("runtime: %s: tensor %q has type %s: %w", f.Path, s.Name, t.Type, ErrUnsupported)
	}
	if n := len(f.Data(t)); uint64(n) != t.Bytes() {
		return t, fmt.Errorf("runtime: %s: tensor %q: %d data bytes, want %d: %w", f.Path, s.Name, n, t.Bytes(), format.ErrCorrupt)
	}
	return t, nil
}
