package convert

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/q3m/q3m/quant"
)

// Preset is one of llama-quantize's file types (its LLAMA_FTYPE_*): a base
// weight type plus llama.cpp's rules for which tensors get more bits.
type Preset struct {
	Name     string     // lower-case name as llama-quantize spells it, such as "q4_k_m"
	FileType uint32     // general.file_type (LLAMA_FTYPE_MOSTLY_Q4_K_M = 15, ...)
	Base     quant.Type // the type of tensors no rule picks out
}

// presets lists the file types Convert writes, in the order
// `q3m convert --help` shows them.
var presets = []Preset{
	{"q4_k_m", 15, quant.Q4_K},
	{"q4_k_s", 14, quant.Q4_K},
	{"q5_k_m", 17, quant.Q5_K},
	{"q5_k_s", 16, quant.Q5_K},
	{"q6_k", 18, quant.Q6_K},
	{"q3_k_m", 12, quant.Q3_K},
	{"q2_k", 10, quant.Q2_K},
	{"iq4_xs", 30, quant.IQ4_XS},
	{"iq4_nl", 25, quant.IQ4_NL},
	{"q8_0", 7, quant.Q8_0},
	{"q5_1", 9, quant.Q5_1},
	{"q5_0", 8, quant.Q5_0},
	{"q4_1", 3, quant.Q4_1},
	{"q4_0", 2, quant.Q4_0},
	{"bf16", 32, quant.BF16},
	{"f16", 1, quant.F16},
	{"f32", 0, quant.F32},
}

// Presets returns every preset Convert accepts.
func Presets() []Preset { return slices.Clone(presets) }

// PresetNames returns the preset names, comma-separated.
func PresetNames() string {
	names := make([]string, len(presets))
	for i, p := range presets {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// ParsePreset returns the preset named s (case-insensitive).
func ParsePreset(s string) (Preset, error) {
	for _, p := range presets {
		if strings.EqualFold(s, p.Name) {
			return p, nil
		}
	}
	return Preset{}, fmt.Errorf("convert: unknown type %q (want one of %s)", s, PresetNames())
}

// presetOfType returns the preset whose base type is t; for the K-quants
// that is llama-quantize's alias (Q4_K is Q4_K_M, Q3_K is Q3_K_M...).
func presetOfType(t quant.Type) (Preset, bool) {
	for _, p := range presets {
		if p.Base == t && !strings.HasSuffix(p.Name, "_s") {
			return p, true
		}
	}
	return Preset{}, false
}

// category is llama.cpp's coarse kind of a tensor for type selection.
type category int

const (
	catOther category = iota
	catOutput
	catTokenEmbd
	catAttnV
	catAttnK
	catAttnQ
	catAttnOutput
	catFFNUp
	catFFNGate
	catFFNDown
)

// categoryOf classifies a GGUF tensor name as llama.cpp does, by substring.
func categoryOf(name string) category {
	switch {
	case name == "output.weight":
		return catOutput
	case name == "token_embd.weight":
		return catTokenEmbd
	case strings.Contains(name, "attn_v.weight"):
		return catAttnV
	case strings.Contains(name, "attn_k.weight"):
		return catAttnK
	case strings.Contains(name, "attn_q.weight"):
		return catAttnQ
	case strings.Contains(name, "attn_output.weight"):
		return catAttnOutput
	case strings.Contains(name, "ffn_up"):
		return catFFNUp
	case strings.Contains(name, "ffn_gate"):
		return catFFNGate
	case strings.Contains(name, "ffn_down"):
		return catFFNDown
	}
	return catOther
}

// site is what a rule may ask about the tensor being typed.
type site struct {
	base    quant.Type
	cols    uint64 // row length, Dims[0]
	layer   int    // block index of an ffn_down tensor
	layers  int    // block count
	attnV   int    // index of this attn_v among the model's, in llama.cpp's order
	attnVs  int    // number of attn_v tensors
	gqa     int    // heads per KV head
	experts int
}

// moreBits is llama.cpp's use_more_bits: the first and last eighth of the
// layers and every third layer in between.
func moreBits(i, n int) bool { return i < n/8 || i >= 7*n/8 || (i-n/8)%3 == 2 }

// rule gives tensors of one category the type typ, in the listed presets
// (all quantized presets when nil), when cond holds. For each tensor the
// first matching rule of its category wins; no match keeps the base type.
type rule struct {
	cat     category
	presets []string
	cond    func(s site) bool
	typ     quant.Type
}

func always(site) bool { return true }

// rules are llama.cpp's llama_tensor_get_type choices for the presets above
// (src/llama-quant.cpp, without an importance matrix, for an architecture
// that is neither Falcon nor a 70B Llama). The output matrix (or the
// embedding, when it is also the output) is ruled by catOutput.
var rules = []rule{
	{catOutput, nil, func(s site) bool { return s.cols%uint64(s.base.BlockSize()) != 0 }, quant.Q8_0},
	{catOutput, nil, func(s site) bool { return s.base != quant.Q8_0 }, quant.Q6_K},

	{catAttnV, nil, func(s site) bool { return s.experts == 8 }, quant.Q8_0},
	{catAttnV, []string{"q2_k"}, func(s site) bool { return s.gqa >= 4 }, quant.Q4_K},
	{catAttnV, []string{"q2_k"}, always, quant.Q3_K},
	{catAttnV, []string{"q3_k_m"}, func(s site) bool { return s.attnV < 2 }, quant.Q5_K},
	{catAttnV, []string{"q3_k_m"}, always, quant.Q4_K},
	{catAttnV, []string{"iq4_nl", "iq4_xs"}, func(s site) bool { return s.gqa >= 4 }, quant.Q5_K},
	{catAttnV, []string{"q4_k_m", "q5_k_m"}, func(s site) bool { return moreBits(s.attnV, s.attnVs) }, quant.Q6_K},
	{catAttnV, []string{"q4_k_s"}, func(s site) bool { return s.attnV < 4 }, quant.Q5_K},

	{catAttnK, nil, func(s site) bool { return s.experts == 8 }, quant.Q8_0},

	{catFFNDown, []string{"q2_k"}, always, quant.Q3_K},
	{catFFNDown, []string{"q3_k_m"}, func(s site) bool { return s.layer < s.layers/16 }, quant.Q5_K},
	{catFFNDown, []string{"q3_k_m"}, always, quant.Q4_K},
	{catFFNDown, []string{"q4_k_m", "q5_k_m"}, func(s site) bool { return moreBits(s.layer, s.layers) }, quant.Q6_K},
	{catFFNDown, []string{"iq4_nl", "iq4_xs", "q4_k_s"}, func(s site) bool { return s.layer < s.layers/8 }, quant.Q5_K},

	{catAttnOutput, []string{"q2_k", "q3_k_m", "iq4_nl", "q4_k_s", "q4_k_m", "iq4_xs"},
		func(s site) bool { return s.experts == 8 }, quant.Q5_K},
	{catAttnOutput, []string{"q2_k"}, func(s site) bool { return s.experts != 8 }, quant.Q3_K},
	{catAttnOutput, []string{"q3_k_m"}, func(s site) bool { return s.experts != 8 }, quant.Q4_K},
}

// fallbacks is llama.cpp's tensor_type_fallback: the type written instead
// when a row is not a whole number of blocks of the chosen type.
var fallbacks = map[quant.Type]quant.Type{
	quant.IQ4_XS: quant.IQ4_NL,
	quant.Q2_K:   quant.Q4_0,
	quant.Q3_K:   quant.Q4_0,
	quant.Q4_K:   quant.Q5_0,
	quant.Q5_K:   quant.Q5_1,
	quant.Q6_K:   quant.Q8_0,
}

// pick returns the rule-chosen type of a tensor of category c.
func (p Preset) pick(c category, s site) quant.Type {
	for _, r := range rules {
		if r.cat == c && (r.presets == nil || slices.Contains(r.presets, p.Name)) && r.cond(s) {
			return r.typ
		}
	}
	return p.Base
}

// fit returns t, or the fallback for rows of n values that are not whole
// blocks of t: llama.cpp's table, then F16. llama-quantize refuses the
// types the table lacks (Q8_0, Q4_0, IQ4_NL... on rows that are not whole
// blocks of 32); q3m writes those as F16 too.
func fit(t quant.Type, n uint64) quant.Type {
	if n%uint64(t.BlockSize()) == 0 {
		return t
	}
	if f, ok := fallbacks[t]; ok && n%uint64(f.BlockSize()) == 0 {
		return f
	}
	return quant.F16
}

// layerOf returns N of a "blk.N." name, or -1.
func layerOf(name string) int {
	rest, ok := strings.CutPrefix(name, "blk.")
	if !ok {
		return -1
	}
	num, _, ok := strings.Cut(rest, ".")
	if !ok {
		return -1
	}
	n, err := strconv.Atoi(num)
	if err != nil {
		return -1
	}
	return n
}

// assignTypes sets the type of every quantizable tensor of the plan as
// llama-quantize would for preset p. Tensors are visited in llama.cpp's
// order (by block index, then by name) since the attn_v rules depend on
// the count of attn_v tensors seen before.
func (p *plan) assignTypes(pr Preset, pure bool) {
	c := p.cfg
	order := make([]int, len(p.tensors))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		na, nb := p.tensors[a].Name, p.tensors[b].Name
		return cmp.Or(cmp.Compare(layerOf(na), layerOf(nb)), strings.Compare(na, nb))
	})
	tied := true
	attnVs := 0
	for _, t := range p.tensors {
		switch categoryOf(t.Name) {
		case catOutput:
			tied = false
		case catAttnV:
			attnVs++
		}
	}
	gqa := 0
	if c.NumKVHeads > 0 {
		gqa = c.NumHeads / c.NumKVHeads
	}
	s := site{base: pr.Base, layers: c.NumLayers, attnVs: attnVs, gqa: gqa, experts: max(1, c.NumExperts)}
	quantized := pr.Base.BlockSize() > 1
	downs := 0
	for _, i := range order {
		t := &p.tensors[i]
		if !t.quantizable {
			continue
		}
		typ := pr.Base
		if quantized && !pure {
			cat := categoryOf(t.Name)
			if cat == catTokenEmbd && tied {
				cat = catOutput
			}
			s.cols = t.Dims[0]
			s.layer = downs
			if s.experts > 1 {
				s.layer = layerOf(t.Name)
			}
			typ = pr.pick(cat, s)
			switch cat {
			case catAttnV:
				s.attnV++
			case catFFNDown:
				downs++
			}
		}
		if quantized {
			if f := fit(typ, t.Dims[0]); f != typ {
				p.fallback = append(p.fallback, fallback{t.Name, f})
				typ = f
			}
		}
		t.Type = typ
	}
}

// fallback records a tensor written in a type other than its rule's
// because its rows are not whole blocks.
type fallback struct {
	name string
	typ  quant.Type
}
