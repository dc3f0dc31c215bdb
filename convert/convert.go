package convert

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/q3m/q3m/format"
	"github.com/q3m/q3m/quant"
)

// Version is the converter version written as q3m.version.
const Version = "0.1.0"

// quantizationVersion is ggml's GGML_QNT_VERSION, which llama-quantize
// writes as general.quantization_version.
const quantizationVersion = 2

// Alignment is the tensor data alignment of the output file: one page, so
// that tensor (and, for real models, expert) starts are page-aligned.
const Alignment = 4096

// Options controls a conversion.
type Options struct {
	// Preset is the llama-quantize file type to write, such as "q4_k_m"
	// (see Presets): its base type for most weight matrices and llama.cpp's
	// rules for those that get another. Without an importance matrix the
	// tensors are byte-identical to llama-quantize's from a BF16 GGUF file
	// of the same weights.
	Preset string
	// Pure gives every weight matrix the preset's base type, as
	// llama-quantize --pure does; rows that are not whole blocks still
	// fall back.
	Pure bool
	// Type, used when Preset is "", is the type of every weight matrix:
	// the pure form of the preset with that base type (Q4_K is Q4_K_M's).
	Type     quant.Type
	Threads  int            // 0 = runtime.NumCPU(); at most 512
	Progress func(Progress) // optional; see Progress
}

// Progress reports how far a conversion is. It is sent at most about ten
// times a second, plus once at the start and once at the end, never
// concurrently.
type Progress struct {
	Done, Total int64  // bytes of source tensor data
	Tensor      string // output tensor being written
	Elapsed     time.Duration
}

// PresetOfType returns the preset whose pure form Options.Type t asks for.
func PresetOfType(t quant.Type) (Preset, error) {
	if p, ok := presetOfType(t); ok {
		return p, nil
	}
	var names []string
	for _, p := range presets {
		if q, _ := presetOfType(p.Base); q == p {
			names = append(names, strings.ToLower(p.Base.String()))
		}
	}
	return Preset{}, fmt.Errorf("convert: type %s not supported (want one of %s)", t, strings.Join(names, ", "))
}

// preset returns the preset and pureness that opt asks for.
func (opt Options) preset() (Preset, bool, error) {
	if opt.Preset != "" {
		p, err := ParsePreset(opt.Preset)
		return p, opt.Pure, err
	}
	p, err := PresetOfType(opt.Type)
	return p, true, err
}

// DefaultOutput returns <hfDir>/<dirname>-<PRESET>.gguf, the preset name in
// upper case as in llama.cpp's file names (Qwen3-30B-A3B-Q4_K_M.gguf).
func DefaultOutput(hfDir string, preset string) string {
	return filepath.Join(hfDir, modelName(hfDir)+"-"+strings.ToUpper(preset)+".gguf")
}

func modelName(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return filepath.Base(filepath.Clean(dir))
}

// Convert writes the checkpoint in hfDir as one GGUF file at outPath. On any
// error, including cancellation of ctx, no file is left at outPath. It
// refuses, before any work, an outPath that CheckOutput refuses (one of the
// checkpoint's files, a directory, a device, a link…), inputs that are not
// regular files, and config.json sizes that the checkpoint's tensors do not
// confirm.
func Convert(ctx context.Context, hfDir, outPath string, opt Options) (err error) {
	preset, pure, err := opt.preset()
	if err != nil {
		return err
	}
	inputs, err := InputFiles(hfDir)
	if err != nil {
		return err
	}
	if err := CheckOutput(outPath, inputs...); err != nil {
		return fmt.Errorf("convert: %w", err)
	}
	data, err := readRegular(filepath.Join(hfDir, "config.json"), maxConfigBytes)
	if err != nil {
		return fmt.Errorf("convert: %w", err)
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return fmt.Errorf("convert: %s: %w", hfDir, err)
	}
	ck, err := openCheckpoint(hfDir)
	if err != nil {
		return err
	}
	defer ck.Close()
	// The plan checks every size of config.json against the tensors, so
	// vocab_size is confirmed by the embedding before readVocab allocates.
	backboneNames(cfg, ck) // a bare Qwen3MoeModel's keys (heads.go)
	p, err := makePlan(cfg, ck, preset, pure)
	if err != nil {
		return err
	}
	voc, err := readVocab(hfDir, cfg.VocabSize)
	if err != nil {
		return err
	}
	w, err := format.Create(outPath, Alignment)
	if err != nil {
		return fmt.Errorf("convert: %w", err)
	}
	defer func() {
		if err != nil {
			w.Abort()
		}
	}()
	for _, m := range metadata(cfg, p, modelName(hfDir), preset.FileType) {
		if err := w.AddKV(m.Key, m.Value); err != nil {
			return fmt.Errorf("convert: key %s: %w", m.Key, err)
		}
	}
	for _, m := range voc.kvs() {
		if err := w.AddKV(m.Key, m.Value); err != nil {
			return fmt.Errorf("convert: key %s: %w", m.Key, err)
		}
	}
	for _, t := range p.tensors {
		if err := w.AddTensor(t.Name, t.Type, t.Dims...); err != nil {
			return fmt.Errorf("convert: tensor %s: %w", t.Name, err)
		}
	}
	if err := newStreamer(w, opt, p.tensors).run(ctx); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("convert: %s: %w", outPath, err)
	}
	return nil
}

// InputFiles returns the paths of the files of hfDir that Convert reads and
// that exist: config.json, the tokenizer files, the index and the shards.
func InputFiles(hfDir string) ([]string, error) {
	shards, _, err := shardFiles(hfDir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, name := range append([]string{"config.json", "tokenizer.json", "tokenizer_config.json",
		"chat_template.jinja", "model.safetensors.index.json"}, shards...) {
		p := filepath.Join(hfDir, name)
		if _, err := os.Lstat(p); err == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// metadata returns the general.*, qwen3moe.* and q3m.* pairs.
func metadata(c *HFConfig, p *plan, name string, ftype uint32) []kv {
	u := func(v int) uint32 { return uint32(v) }
	m := []kv{
		{"general.architecture", "qwen3moe"},
		{"general.name", name},
		{"general.file_type", ftype},
		{"general.quantization_version", uint32(quantizationVersion)},
		{"qwen3moe.vocab_size", u(c.VocabSize)},
		{"qwen3moe.block_count", u(c.NumLayers)},
		{"qwen3moe.context_length", u(c.MaxPositionEmbeddings)},
		{"qwen3moe.embedding_length", u(c.HiddenSize)},
		{"qwen3moe.feed_forward_length", u(c.IntermediateSize)},
		{"qwen3moe.attention.head_count", u(c.NumHeads)},
		{"qwen3moe.attention.head_count_kv", u(c.NumKVHeads)},
		{"qwen3moe.attention.key_length", u(c.HeadDim)},
		{"qwen3moe.attention.value_length", u(c.HeadDim)},
		{"qwen3moe.rope.freq_base", float32(c.RopeTheta)},
		{"qwen3moe.attention.layer_norm_rms_epsilon", float32(c.RMSNormEps)},
		{"qwen3moe.expert_count", u(c.NumExperts)},
		{"qwen3moe.expert_used_count", u(c.NumExpertsPerTok)},
		{"qwen3moe.expert_feed_forward_length", u(c.MoEIntermediateSize)},
	}
	if r := c.Rope; r.Type == "yarn" {
		m = append(m,
			kv{"qwen3moe.rope.scaling.type", "yarn"},
			kv{"qwen3moe.rope.scaling.factor", float32(r.Factor)},
			kv{"qwen3moe.rope.scaling.original_context_length", u(r.OriginalMaxPositionEmbeddings)},
			kv{"q3m.rope.yarn.beta_fast", float32(r.BetaFast)},
			kv{"q3m.rope.yarn.beta_slow", float32(r.BetaSlow)},
			kv{"q3m.rope.yarn.attention_factor", float32(r.AttentionFactor)},
			kv{"q3m.rope.yarn.truncate", r.Truncate},
		)
	}
	m = append(m,
		kv{"q3m.version", Version},
		kv{"q3m.quantization", p.quantization()},
		kv{"q3m.norm_topk_prob", c.NormTopKProb},
	)
	if c.AttentionBias {
		m = append(m, kv{"q3m.attention_bias", true})
	}
	if d := c.DenseLayers(); len(d) > 0 {
		ids := make([]int32, len(d))
		for i, l := range d {
			ids[i] = int32(l)
		}
		m = append(m, kv{"q3m.dense_layers", ids})
	}
	if c.UseSlidingWindow {
		m = append(m, kv{"q3m.sliding_window", u(c.SlidingWindow)})
	}
	return append(m, headMetadata(c.Head)...)
}
