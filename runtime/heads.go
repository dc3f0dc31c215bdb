package runtime

import (
	"fmt"

	"github.com/q3m/q3m/ops"
)

// Class is the transformers class a model file was converted from: which
// head follows the final norm.
type Class int

const (
	CausalLM               Class = iota // lm_head: logits over the vocabulary
	Backbone                            // Qwen3MoeModel: the last hidden state
	SequenceClassification              // score at one pooled position
	TokenClassification                 // score (with bias) at every position
	QuestionAnswering                   // qa_outputs (with bias): start and end logits
)

var classNames = [...]string{
	"Qwen3MoeForCausalLM", "Qwen3MoeModel", "Qwen3MoeForSequenceClassification",
	"Qwen3MoeForTokenClassification", "Qwen3MoeForQuestionAnswering",
}

// String returns the transformers class name.
func (c Class) String() string {
	if c < 0 || int(c) >= len(classNames) {
		return fmt.Sprintf("Class(%d)", int(c))
	}
	return classNames[c]
}

// maxLabels bounds a classifier's label count read from a file.
const maxLabels = 1 << 20

// Head describes the model's head (keys q3m.class, q3m.pad_token_id and
// llama.cpp's qwen3moe.classifier.output_labels).
type Head struct {
	Class Class
	// Labels names the outputs of a sequence or token classifier.
	Labels []string
	// PadTokenID, for sequence classification only, is the token not
	// pooled; -1 when the model has none (the last token is pooled).
	PadTokenID int
}

// Outputs returns the number of values the head gives per position (per
// sequence for sequence classification).
func (h Head) Outputs(c Config) int {
	switch h.Class {
	case CausalLM:
		return c.Vocab
	case Backbone:
		return c.Hidden
	case QuestionAnswering:
		return 2
	}
	return len(h.Labels)
}

// readHead reads the head's keys; an absent q3m.class is the causal LM,
// the zero Head.
func readHead(r *metaReader) Head {
	var h Head
	name := r.string("q3m.class")
	if name == "" {
		return h
	}
	found := false
	for i, n := range classNames {
		if n == name {
			h.Class, found = Class(i), true
		}
	}
	if !found {
		r.fail(fmt.Errorf("runtime: %s: q3m.class %q is not a Qwen3-MoE class q3m runs: %w", r.f.Path, name, ErrUnsupported))
		return h
	}
	if h.Class == SequenceClassification || h.Class == TokenClassification {
		labels, ok, err := r.f.Strings("qwen3moe.classifier.output_labels")
		switch {
		case err != nil:
			r.fail(err)
		case !ok || len(labels) == 0 || len(labels) > maxLabels:
			r.fail(fmt.Errorf("runtime: %s: %s needs 1 to %d labels in qwen3moe.classifier.output_labels, has %d", r.f.Path, h.Class, maxLabels, len(labels)))
		}
		h.Labels = labels
	}
	if h.Class == SequenceClassification {
		h.PadTokenID = r.uint("q3m.pad_token_id", -1, false)
	}
	return h
}

// headWeights is the projection after the final norm: cls.output, {H, n}.
type headWeights struct {
	w ops.Matrix
	b []float32 // nil without bias
}

// head loads the head's tensors (none for the causal LM and the backbone).
func (ld *loader) head(c Config) headWeights {
	var h headWeights
	n := c.Head.Outputs(c)
	switch c.Head.Class {
	case SequenceClassification:
		h.w = ld.matrix("cls.output.weight", c.Hidden, n)
	case TokenClassification, QuestionAnswering:
		h.w = ld.matrix("cls.output.weight", c.Hidden, n)
		h.b = ld.vector("cls.output.bias", n)
	}
	return h
}

// RunOptions selects what Run computes besides the head's output.
type RunOptions struct {
	// HiddenStates records every hidden state as transformers'
	// output_hidden_states returns them.
	HiddenStates bool
	// RouterLogits records every MoE layer's router logits (before the
	// softmax) and computes the load-balancing loss from them.
	RouterLogits bool
}

// Result is the output of Run for a sequence of Tokens ids. Only the fields
// of the model's class, and those RunOptions asked for, are set.
type Result struct {
	Class  Class
	Tokens int

	Logits         []float32 // CausalLM: [Tokens × Vocab]
	LastHidden     []float32 // Backbone: [Tokens × Hidden], after the final norm
	SequenceLogits []float32 // SequenceClassification: [labels], at position Pooled
	Pooled         int       // SequenceClassification: the position pooled
	TokenLogits    []float32 // TokenClassification: [Tokens × labels]
	StartLogits    []float32 // QuestionAnswering: [Tokens]
	EndLogits      []float32 // QuestionAnswering: [Tokens]

	// HiddenStates has Layers+1 entries of [Tokens × Hidden]: the
	// embeddings, the outputs of layers 0 to Layers-2, and the last
	// layer's output after the final norm (transformers replaces the last
	// recorded state by last_hidden_state).
	HiddenStates [][]float32
	// RouterLogits has one [Tokens × Experts] entry per MoE layer, in the
	// order of RouterLayers; AuxLoss is load_balancing_loss_func of them
	// with no attention mask, before router_aux_loss_coef.
	RouterLogits [][]float32
	RouterLayers []int
	AuxLoss      float64
}

// HeadOutput returns the head's output as rows: CausalLM [Tokens × Vocab],
// Backbone [Tokens × Hidden], SequenceClassification [labels],
// TokenClassification [Tokens × labels], QuestionAnswering [Tokens × 2]
// (start, end).
func (r *Result) HeadOutput() []float32 {
	switch r.Class {
	case CausalLM:
		return r.Logits
	case Backbone:
		return r.LastHidden
	case SequenceClassification:
		return r.SequenceLogits
	case TokenClassification:
		return r.TokenLogits
	}
	out := make([]float32, 0, 2*len(r.StartLogits))
	for t := range r.StartLogits {
		out = append(out, r.StartLogits[t], r.EndLogits[t])
	}
	return out
}

// PoolPosition returns the position sequence classification pools, as
// transformers' GenericForSequenceClassification does: the rightmost token
// that is not pad (0 when every token is pad), the last when pad < 0.
func PoolPosition(ids []int32, pad int) int {
	if pad < 0 {
		return len(ids) - 1
	}
	for i := len(ids) - 1; i >= 0; i-- {
		if int(ids[i]) != pad {
			return i
		}
	}
	return 0
}

// capture records hidden states and router logits during Run.
type capture struct {
	first  int         // position of the batch's first token
	hidden [][]float32 // per layer input, [T × H]; nil unless asked
	router [][]float32 // per MoE layer, [T × E]; nil unless asked
	moeIdx []int       // layer → index into router, -1 for dense layers
}

// layerInput records x, the input of layer li for the batch's tokens.
func (cp *capture) layerInput(li, H int, x []float32) {
	if cp.hidden != nil {
		copy(cp.hidden[li][cp.first*H:], x)
	}
}

// routerLogits records the router logits of MoE layer li for the batch.
func (cp *capture) routerLogits(li, E int, logits []float32) {
	if cp.router != nil {
		copy(cp.router[cp.moeIdx[li]][cp.first*E:], logits)
	}
}
