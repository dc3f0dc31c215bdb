package synth

import (
	"math"
	"strconv"
	"strings"
)

// Head is the transformers class of a checkpoint and its head, as
// modeling_layers.py's generic heads save them: sequence classification
// score.weight [n, H] (no bias), token classification score.weight and
// score.bias, question answering qa_outputs.weight [2, H] and its bias, and
// a bare Qwen3MoeModel with no head and no "model." prefix on its keys. The
// question-answering class keeps its backbone under "transformer.", not
// "model." (LlamaForQuestionAnswering's base_model_prefix, which
// Qwen3MoeForQuestionAnswering inherits).
type Head struct {
	Class      string   // transformers class; "" means Qwen3MoeForCausalLM
	Labels     []string // written as id2label and label2id when non-nil
	NumLabels  int      // written as num_labels when positive
	PadTokenID int      // written as pad_token_id when HasPad
	HasPad     bool
}

func (h Head) class() string {
	if h.Class == "" {
		return "Qwen3MoeForCausalLM"
	}
	return h.Class
}

// labels returns the classifier's number of outputs: len(Labels), else
// NumLabels, else transformers' default of 2.
func (h Head) labels() int {
	switch {
	case h.Labels != nil:
		return len(h.Labels)
	case h.NumLabels > 0:
		return h.NumLabels
	}
	return 2
}

// fields adds the head's keys to config.json, keeping its keys sorted.
func (h Head) fields(o obj) obj {
	var add []field
	if h.Labels != nil {
		var id2, l2 obj
		for i, l := range h.Labels {
			id2 = append(id2, field{strconv.Itoa(i), l})
		}
		for i, l := range h.Labels { // label2id is written sorted by label
			l2 = append(l2, field{l, i})
		}
		sortObj(l2)
		add = append(add, field{"id2label", id2}, field{"label2id", l2})
	}
	if h.NumLabels > 0 {
		add = append(add, field{"num_labels", h.NumLabels})
	}
	if h.HasPad {
		add = append(add, field{"pad_token_id", h.PadTokenID})
	}
	for _, f := range add {
		i := 1 // after architectures, which transformers writes first
		for i < len(o) && o[i].key < f.key {
			i++
		}
		o = append(o[:i], append(obj{f}, o[i:]...)...)
	}
	return o
}

func sortObj(o obj) {
	for i := 1; i < len(o); i++ {
		for j := i; j > 0 && o[j].key < o[j-1].key; j-- {
			o[j], o[j-1] = o[j-1], o[j]
		}
	}
}

// tensors replaces lm_head by the class's head. Values are drawn from
// streams keyed by the wrapped model's names, so a backbone holds the same
// weights as the causal LM of the same seed.
func (h Head) tensors(ts []tensor, hidden int) []tensor {
	cls := h.class()
	if cls == "Qwen3MoeForCausalLM" {
		return ts
	}
	out := ts[:0]
	for _, t := range ts {
		if t.name == "lm_head.weight" {
			continue
		}
		switch cls {
		case "Qwen3MoeModel":
			t.name = strings.TrimPrefix(t.name, "model.")
		case "Qwen3MoeForQuestionAnswering": // base_model_prefix "transformer"
			t.name = "transformer." + strings.TrimPrefix(t.name, "model.")
		}
		out = append(out, t)
	}
	one := func(name string, shape []int, std float32) {
		n := int64(1)
		for _, d := range shape {
			n *= int64(d)
		}
		out = append(out, tensor{name, shape, []segment{{name, n, 0, std}}})
	}
	std := lmHeadGain / float32(math.Sqrt(float64(hidden)))
	switch cls {
	case "Qwen3MoeForSequenceClassification":
		one("score.weight", []int{h.labels(), hidden}, std)
	case "Qwen3MoeForTokenClassification":
		one("score.weight", []int{h.labels(), hidden}, std)
		one("score.bias", []int{h.labels()}, biasStd)
	case "Qwen3MoeForQuestionAnswering":
		one("qa_outputs.weight", []int{2, hidden}, std)
		one("qa_outputs.bias", []int{2}, biasStd)
	}
	return out
}

// HeadVariants returns the parity cases of the classes other than the causal
// LM, on the geometry of Variants' "base". "backbone" has base's seed and so
// base's weights.
func HeadVariants() map[string]Spec {
	v := map[string]Spec{}
	add := func(name string, seed uint64, h Head) {
		s := tinyBase()
		s.Seed, s.Head = seed, h
		v[name] = s
	}
	add("backbone", 1, Head{Class: "Qwen3MoeModel"})
	add("seqcls", 21, Head{Class: "Qwen3MoeForSequenceClassification",
		Labels: []string{"negative", "neutral", "positive"}, PadTokenID: 500, HasPad: true})
	add("seqcls-nopad", 22, Head{Class: "Qwen3MoeForSequenceClassification", NumLabels: 1})
	add("tokcls", 23, Head{Class: "Qwen3MoeForTokenClassification",
		Labels: []string{"O", "B-PER", "I-PER", "B-LOC", "I-LOC"}, PadTokenID: 500, HasPad: true})
	add("qa", 24, Head{Class: "Qwen3MoeForQuestionAnswering", PadTokenID: 500, HasPad: true})
	return v
}
