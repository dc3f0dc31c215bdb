package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/q3m/q3m/format"
	"github.com/q3m/q3m/runtime"
)

// infoJSON is what `info --json` prints. Sizes are in bytes, offsets are
// absolute file offsets.
type infoJSON struct {
	File         string            `json:"file"`
	GGUFVersion  uint32            `json:"gguf_version"`
	Alignment    uint64            `json:"alignment"`
	DataOffset   uint64            `json:"data_offset"`
	Architecture string            `json:"architecture"`
	Config       *configJSON       `json:"config,omitempty"`
	ConfigError  string            `json:"config_error,omitempty"` // why q3m cannot run the file
	MemoryPlan   *memoryPlanJSON   `json:"memory_plan,omitempty"`  // runtime.MemoryPlan, when q3m can run the file
	Metadata     map[string]any    `json:"metadata"`
	Tensors      []tensorJSON      `json:"tensors"`
	Layer        int               `json:"expert_ranges_layer"`
	ExpertRanges []expertRangeJSON `json:"expert_ranges"`
	// ExpertPages says how much of the experts' ranges shares a page
	// with a neighbour (runtime.ExpertPageSharing).
	ExpertPages expertPagesJSON `json:"expert_pages"`
	Totals      totalsJSON      `json:"totals"`
}

type expertPagesJSON struct {
	PageSize            int     `json:"page_size"`
	Experts             int     `json:"experts"`
	Ranges              int     `json:"ranges"`
	Bytes               uint64  `json:"bytes"`
	SharedBytes         uint64  `json:"shared_bytes"`
	SharedRanges        int     `json:"shared_ranges"`
	MeanSharedPerExpert float64 `json:"mean_shared_per_expert"`
	MaxSharedPerExpert  uint64  `json:"max_shared_per_expert"`
}

type configJSON struct {
	Vocab          int     `json:"vocab"`
	Hidden         int     `json:"hidden"`
	Layers         int     `json:"layers"`
	Heads          int     `json:"heads"`
	KVHeads        int     `json:"kv_heads"`
	HeadDim        int     `json:"head_dim"`
	FFN            int     `json:"ffn"`
	Experts        int     `json:"experts"`
	ExpertsUsed    int     `json:"experts_used"`
	ExpertFFN      int     `json:"expert_ffn"`
	ContextLen     int     `json:"context_length"`
	RopeTheta      float64 `json:"rope_theta"`
	RMSEps         float64 `json:"rms_eps"`
	NormTopKProb   bool    `json:"norm_topk_prob"`
	AttentionBias  bool    `json:"attention_bias"`
	DenseLayers    []int   `json:"dense_layers"`
	SlidingWindow  int     `json:"sliding_window"`
	RopeScaling    string  `json:"rope_scaling,omitempty"`
	RopeFactor     float64 `json:"rope_factor,omitempty"`
	RopeOrigCtx    int     `json:"rope_original_context,omitempty"`
	TiedEmbeddings bool    `json:"tied_embeddings"`
}

// memoryPlanJSON is runtime.MemoryPlan; sizes in bytes.
type memoryPlanJSON struct {
	Available       int64   `json:"available"`
	Source          string  `json:"source"`
	NonExpertBytes  int64   `json:"non_expert_bytes"`
	ExpertBytes     int64   `json:"expert_bytes"`
	Experts         int     `json:"experts"`
	KVBytesPerToken int64   `json:"kv_bytes_per_token"`
	ContextLen      int     `json:"context_length"`
	KVBytes         int64   `json:"kv_bytes"`
	ScratchBytes    int64   `json:"scratch_bytes"`
	Margin          int64   `json:"margin"`
	ExpertCache     int64   `json:"expert_cache"`
	Fits            bool    `json:"fits"`
	ResidentShare   float64 `json:"resident_share"`
	WorkingSet      int64   `json:"working_set"`
	Budget          int64   `json:"budget"` // the ExpertBudget the plan implies, 0: no cap
	Warning         string  `json:"warning,omitempty"`
	ExpertIO        string  `json:"expert_io"` // the mechanism --expert-io auto picks for the plan
}

func planJSON(p runtime.MemoryPlan) *memoryPlanJSON {
	return &memoryPlanJSON{Available: p.Available, Source: p.Source, NonExpertBytes: p.NonExpertBytes, ExpertBytes: p.ExpertBytes,
		Experts: p.Experts, KVBytesPerToken: p.KVBytesPerToken, ContextLen: p.ContextLen, KVBytes: p.KVBytes,
		ScratchBytes: p.ScratchBytes, Margin: p.Margin, ExpertCache: p.ExpertCache, Fits: p.Fits,
		ResidentShare: p.ResidentShare, WorkingSet: p.WorkingSet, Budget: p.Budget(), Warning: p.Warning(), ExpertIO: p.ExpertIO.String()}
}

type tensorJSON struct {
	Name   string   `json:"name"`
	Type   string   `json:"type"`
	Shape  []uint64 `json:"shape"`
	Offset uint64   `json:"offset"`
	Bytes  uint64   `json:"bytes"`
}

type expertRangeJSON struct {
	Tensor string `json:"tensor"`
	Expert int    `json:"expert"`
	Offset uint64 `json:"offset"`
	Bytes  uint64 `json:"bytes"`
}

type totalsJSON struct {
	Tensors     int               `json:"tensors"`
	Params      uint64            `json:"params"`
	Bytes       uint64            `json:"bytes"`
	BytesByType map[string]uint64 `json:"bytes_by_type"`
}

// maxJSONArray is the longest metadata array printed in full; longer ones
// (the vocabulary, the merges) show their type and length only.
const maxJSONArray = 64

func printInfoJSON(w io.Writer, f *format.File, layer int, ip infoPlan) error {
	cfg, cfgErr := runtime.ConfigFromFile(f)
	if cfgErr == nil && layer >= cfg.Layers {
		return fmt.Errorf("--layer %d: the model has %d layers (0 to %d)", layer, cfg.Layers, cfg.Layers-1)
	}
	arch, _, _ := f.String("general.architecture")
	out := infoJSON{
		File: f.Path, GGUFVersion: uint32(f.Version), Alignment: uint64(f.Alignment), DataOffset: uint64(f.DataOffset),
		Architecture: arch, Metadata: map[string]any{}, Layer: layer, ExpertRanges: []expertRangeJSON{},
		Totals: totalsJSON{BytesByType: map[string]uint64{}},
	}
	if cfgErr != nil {
		out.ConfigError = cfgErr.Error()
	} else {
		c := cfg
		out.Config = &configJSON{Vocab: c.Vocab, Hidden: c.Hidden, Layers: c.Layers, Heads: c.Heads, KVHeads: c.KVHeads,
			HeadDim: c.HeadDim, FFN: c.FFN, Experts: c.Experts, ExpertsUsed: c.ExpertsUsed, ExpertFFN: c.ExpertFFN,
			ContextLen: c.ContextLen, RopeTheta: c.RopeTheta, RMSEps: c.RMSEps, NormTopKProb: c.NormTopKProb,
			AttentionBias: c.AttentionBias, DenseLayers: append([]int{}, c.DenseLayers...), SlidingWindow: c.SlidingWindow,
			RopeScaling: c.RopeScaling, RopeFactor: c.RopeFactor, RopeOrigCtx: c.RopeOrigCtx, TiedEmbeddings: c.Tied}
		plan, err := ip.plan(f, cfg)
		if err != nil {
			return err
		}
		out.MemoryPlan = planJSON(plan)
	}
	sh, err := runtime.ExpertPageSharing(f, os.Getpagesize())
	if err != nil {
		return err
	}
	out.ExpertPages = expertPagesJSON{PageSize: sh.PageSize, Experts: sh.Experts, Ranges: sh.Ranges, Bytes: sh.Bytes,
		SharedBytes: sh.Shared, SharedRanges: sh.SharedRanges, MeanSharedPerExpert: sh.MeanSharedPerExpert(), MaxSharedPerExpert: sh.MaxShared}
	for _, kv := range f.KV {
		out.Metadata[kv.Key] = jsonValue(kv.Value)
	}
	for _, t := range f.Tensors {
		shape := make([]uint64, len(t.Dims))
		for i, d := range t.Dims {
			shape[i] = uint64(d)
		}
		out.Tensors = append(out.Tensors, tensorJSON{Name: t.Name, Type: t.Type.String(), Shape: shape,
			Offset: uint64(f.DataOffset) + uint64(t.Offset), Bytes: t.Bytes()})
		out.Totals.Tensors++
		out.Totals.Params += t.Elements()
		out.Totals.Bytes += t.Bytes()
		out.Totals.BytesByType[t.Type.String()] += t.Bytes()
	}
	if cfgErr == nil {
		experts, err := expertTensors(f, cfg, layer)
		if err != nil {
			return err
		}
		for _, t := range experts {
			for e := 0; e < int(t.Dims[2]); e++ {
				off, n, err := f.ExpertRange(t, e)
				if err != nil {
					return err
				}
				out.ExpertRanges = append(out.ExpertRanges, expertRangeJSON{Tensor: t.Name, Expert: e, Offset: uint64(off), Bytes: uint64(n)})
			}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

// jsonValue makes a metadata value JSON-safe: non-finite floats become
// strings, long arrays their type and length.
func jsonValue(v any) any {
	switch x := v.(type) {
	case float32:
		return jsonFloat(float64(x))
	case float64:
		return jsonFloat(x)
	case format.Array:
		if n := x.Len(); n > maxJSONArray {
			return map[string]any{"type": fmt.Sprint(x.Elem), "length": n}
		}
		switch vals := x.Values.(type) {
		case []float32:
			out := make([]any, len(vals))
			for i, f := range vals {
				out[i] = jsonFloat(float64(f))
			}
			return out
		case []float64:
			out := make([]any, len(vals))
			for i, f := range vals {
				out[i] = jsonFloat(f)
			}
			return out
		case []uint8: // not base64, as encoding/json would write it
			out := make([]int, len(vals))
			for i, b := range vals {
				out[i] = int(b)
			}
			return out
		case []format.Array:
			out := make([]any, len(vals))
			for i, a := range vals {
				out[i] = jsonValue(a)
			}
			return out
		}
		return x.Values
	}
	return v
}

func jsonFloat(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Sprint(f)
	}
	return f
}
