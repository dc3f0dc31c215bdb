package convert

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/q3m/q3m/quant"
)

// Class is a transformers Qwen3-MoE model class, as config.json's
// architectures names it: which head follows the backbone's final norm.
type Class string

// The Qwen3-MoE classes Convert knows (transformers v5,
// models/qwen3_moe/modeling_qwen3_moe.py and modeling_layers.py).
const (
	CausalLM               Class = "Qwen3MoeForCausalLM"               // lm_head [V, H], no bias
	Backbone               Class = "Qwen3MoeModel"                     // no head; saved alone without the "model." prefix
	SequenceClassification Class = "Qwen3MoeForSequenceClassification" // score [num_labels, H], no bias
	TokenClassification    Class = "Qwen3MoeForTokenClassification"    // score [num_labels, H] with bias
	QuestionAnswering      Class = "Qwen3MoeForQuestionAnswering"      // qa_outputs [2, H] with bias; backbone under "transformer."
)

var classes = []Class{CausalLM, Backbone, SequenceClassification, TokenClassification, QuestionAnswering}

// maxLabels bounds num_labels and id2label before the score tensor confirms them.
const maxLabels = 1 << 20

// Head is what config.json says about the model's head.
type Head struct {
	Class Class // "" is read as CausalLM
	// Labels are id2label in id order (sequence and token classification).
	Labels []string
	// PadTokenID is pad_token_id, or -1 when config.json has none.
	PadTokenID int
}

// Kind returns the head's class, CausalLM for the zero Head.
func (h Head) Kind() Class {
	if h.Class == "" {
		return CausalLM
	}
	return h.Class
}

// classifier reports whether the head's outputs are labelled.
func (h Head) classifier() bool {
	return h.Class == SequenceClassification || h.Class == TokenClassification
}

// parseHead reads architectures, num_labels, id2label and pad_token_id. A
// config.json without architectures is a causal LM, as before.
func parseHead(f fields) (Head, error) {
	h := Head{Class: CausalLM, PadTokenID: -1}
	if raw, ok := f.get("architectures"); ok {
		var archs []string
		if err := json.Unmarshal(raw, &archs); err != nil {
			return h, f.typeErr("architectures", "a list of strings")
		}
		if len(archs) > 0 {
			h.Class = Class(archs[0])
		}
		known := false
		for _, c := range classes {
			known = known || c == h.Class
		}
		if !known {
			names := make([]string, len(classes))
			for i, c := range classes {
				names[i] = string(c)
			}
			return h, fmt.Errorf("config.json: architectures names %q, a class q3m does not convert (want one of %s)", h.Class, strings.Join(names, ", "))
		}
	}
	// Only sequence classification reads pad_token_id (for pooling), so a
	// causal LM's odd pad_token_id (some configs say -1) is no concern.
	if _, ok := f.get("pad_token_id"); ok && h.Class == SequenceClassification {
		id, err := f.intOr("pad_token_id", 0, true)
		if err != nil {
			return h, err
		}
		h.PadTokenID = id
	}
	if !h.classifier() {
		return h, nil
	}
	labels, err := parseLabels(f)
	if err != nil {
		return h, err
	}
	h.Labels = labels
	return h, nil
}

// parseLabels returns id2label in id order. Without id2label, transformers'
// PretrainedConfig names num_labels (default 2) labels LABEL_0, LABEL_1, …
func parseLabels(f fields) ([]string, error) {
	n := -1
	if _, ok := f.get("num_labels"); ok {
		v, err := f.intOr("num_labels", 0, false)
		if err != nil {
			return nil, err
		}
		if v > maxLabels {
			return nil, fmt.Errorf("config.json: num_labels %d above %d", v, maxLabels)
		}
		n = v
	}
	raw, ok := f.get("id2label")
	if !ok {
		if n < 0 {
			n = 2
		}
		labels := make([]string, n)
		for i := range labels {
			labels[i] = "LABEL_" + strconv.Itoa(i)
		}
		return labels, nil
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, f.typeErr("id2label", "an object of label names")
	}
	if len(m) == 0 || len(m) > maxLabels {
		return nil, fmt.Errorf("config.json: id2label has %d labels, want 1 to %d", len(m), maxLabels)
	}
	if n >= 0 && n != len(m) {
		return nil, fmt.Errorf("config.json: num_labels %d but id2label has %d labels", n, len(m))
	}
	labels := make([]string, len(m))
	for k, v := range m {
		i, err := strconv.Atoi(k)
		if err != nil || i < 0 || i >= len(m) || strconv.Itoa(i) != k {
			return nil, fmt.Errorf("config.json: id2label key %q: want the ids 0 to %d", k, len(m)-1)
		}
		labels[i] = v
	}
	return labels, nil
}

// backboneNames gives the backbone's tensors the "model." prefix that
// makePlan reads. transformers saves a bare Qwen3MoeModel without prefix
// (embed_tokens.weight, layers.N.…, norm.weight) and a
// Qwen3MoeForQuestionAnswering under "transformer." (its base_model_prefix,
// kept from LlamaForQuestionAnswering for backward compatibility); the
// other classes use "model.". Either class is also read with "model.".
func backboneNames(c *HFConfig, ck *checkpoint) {
	var from string
	switch c.Head.Kind() {
	case Backbone:
		from = ""
	case QuestionAnswering:
		from = "transformer."
	default:
		return
	}
	if ck.has("model.embed_tokens.weight") || !ck.has(from+"embed_tokens.weight") {
		return
	}
	renamed := make(map[string]*srcTensor, len(ck.tensors))
	for name, t := range ck.tensors {
		if rest, ok := strings.CutPrefix(name, from); ok {
			name = "model." + rest
		}
		renamed[name] = t
	}
	ck.tensors = renamed
}

// head plans the head after the final norm, stored as llama.cpp stores a
// classifier's output projection (cls.output.weight {H, n}, F32, and
// cls.output.bias {n}). It returns false for the causal LM, whose lm_head
// makePlan plans itself.
func (p *plan) head() bool {
	h := p.cfg.Head
	H := int64(p.cfg.HiddenSize)
	var name string
	var n int64
	bias := true
	switch h.Kind() {
	case CausalLM:
		return false
	case Backbone:
		return true
	case SequenceClassification:
		name, n, bias = "score", int64(len(h.Labels)), false
	case TokenClassification:
		name, n = "score", int64(len(h.Labels))
	case QuestionAnswering:
		name, n = "qa_outputs", 2
	}
	if t := p.src(name+".weight", n, H); t != nil {
		p.add("cls.output.weight", quant.F32, []uint64{uint64(H), uint64(n)}, segment{t, 0, n * H, H})
	}
	if bias {
		p.vector("cls.output.bias", name+".bias", n)
	}
	return true
}

// headMetadata returns the keys that describe a head other than lm_head.
func headMetadata(h Head) []kv {
	if h.Kind() == CausalLM {
		return nil
	}
	m := []kv{{"q3m.class", string(h.Kind())}}
	if h.classifier() {
		m = append(m, kv{"qwen3moe.classifier.output_labels", h.Labels})
	}
	if h.Kind() == SequenceClassification && h.PadTokenID >= 0 {
		m = append(m, kv{"q3m.pad_token_id", uint32(h.PadTokenID)})
	}
	return m
}
