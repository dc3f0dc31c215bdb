package convert

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/q3m/q3m/quant"
	"github.com/q3m/q3m/synth"
)

// TestConvertStoresEachClassHead converts every synthetic head variant and
// checks the head's tensors (bit for bit against the checkpoint's), the
// absence of output.weight, and the keys describing the head.
func TestConvertStoresEachClassHead(t *testing.T) {
	want := map[string]struct {
		class  string
		hf     string // head tensor name in the checkpoint; "" none
		rows   uint64
		bias   bool
		labels []string
		pad    any // uint64, or nil for absent
	}{
		"backbone":     {"Qwen3MoeModel", "", 0, false, nil, nil},
		"seqcls":       {"Qwen3MoeForSequenceClassification", "score", 3, false, []string{"negative", "neutral", "positive"}, uint64(500)},
		"seqcls-nopad": {"Qwen3MoeForSequenceClassification", "score", 1, false, []string{"LABEL_0"}, nil},
		"tokcls":       {"Qwen3MoeForTokenClassification", "score", 5, true, []string{"O", "B-PER", "I-PER", "B-LOC", "I-LOC"}, nil},
		"qa":           {"Qwen3MoeForQuestionAnswering", "qa_outputs", 2, true, nil, nil},
	}
	variants := synth.HeadVariants()
	for name, w := range want {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), name)
			if err := synth.Write(dir, variants[name]); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "out.gguf")
			if err := Convert(context.Background(), dir, out, Options{Type: quant.Q8_0, Threads: 1}); err != nil {
				t.Fatal(err)
			}
			f := openOut(t, out)
			keys := map[string]any{"q3m.class": w.class, "q3m.pad_token_id": w.pad, "qwen3moe.classifier.output_labels": nil}
			if w.labels != nil {
				keys["qwen3moe.classifier.output_labels"] = w.labels
			}
			checkKeys(t, f, keys)
			if _, ok := f.Tensor("output.weight"); ok {
				t.Error("output.weight present in a file without lm_head")
			}
			if _, ok := f.Tensor("token_embd.weight"); !ok {
				t.Error("token_embd.weight missing")
			}
			if w.hf == "" {
				if _, ok := f.Tensor("cls.output.weight"); ok {
					t.Error("cls.output.weight present in a backbone")
				}
				return
			}
			ck, err := openCheckpoint(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer ck.Close()
			for _, n := range []struct {
				gguf, hf string
				dims     []uint64
			}{
				{"cls.output.weight", w.hf + ".weight", []uint64{64, w.rows}},
				{"cls.output.bias", w.hf + ".bias", []uint64{w.rows}},
			} {
				g, ok := f.Tensor(n.gguf)
				if !ok != (n.gguf == "cls.output.bias" && !w.bias) {
					t.Fatalf("%s present %v, want %v", n.gguf, ok, !ok)
				}
				if !ok {
					continue
				}
				if g.Type != quant.F32 || !slices.Equal(g.Dims, n.dims) {
					t.Errorf("%s: %s %v, want F32 %v", n.gguf, g.Type, g.Dims, n.dims)
				}
				src := ck.tensors[n.hf]
				raw := make([]byte, src.Bytes)
				if _, err := src.shard.f.ReadAt(raw, src.Off); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(f.Data(g), raw) {
					t.Errorf("%s differs from the checkpoint's %s", n.gguf, n.hf)
				}
			}
		})
	}
}

// TestConvertBackboneAcceptsPrefixedKeys converts a Qwen3MoeModel whose
// keys carry "model." (as a wrapper saves them), like the bare keys.
func TestConvertBackboneAcceptsPrefixedKeys(t *testing.T) {
	cfg := tinyConfig()
	cfg["architectures"] = []string{"Qwen3MoeModel"}
	m := buildModel(cfg, false, "", "F32", 1)
	m.Tensors = slices.DeleteFunc(m.Tensors, func(t hfTensor) bool { return t.Name == "lm_head.weight" })
	f := openOut(t, convertModel(t, m, single, quant.F32))
	checkKeys(t, f, map[string]any{"q3m.class": "Qwen3MoeModel"})
}

func TestConvertRefusesUnknownClass(t *testing.T) {
	cfg := tinyConfig()
	cfg["architectures"] = []string{"Qwen3MoeForMaskedLM"}
	dir := writeModel(t, buildModel(cfg, false, "", "F32", 1), single)
	err := Convert(context.Background(), dir, filepath.Join(t.TempDir(), "o.gguf"), Options{Type: quant.F32})
	if err == nil || !strings.Contains(err.Error(), `"Qwen3MoeForMaskedLM"`) {
		t.Fatalf("err = %v, want a refusal naming Qwen3MoeForMaskedLM", err)
	}
}

// TestConvertRefusesHeadMismatch: a score matrix whose rows differ from
// id2label, or a classifier checkpoint still holding lm_head.
func TestConvertRefusesHeadMismatch(t *testing.T) {
	spec := synth.HeadVariants()["seqcls"]
	dir := filepath.Join(t.TempDir(), "m")
	if err := synth.Write(dir, spec); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(raw), `"0": "negative",`, `"0": "negative", "3": "extra",`, 1)
	bad = strings.Replace(bad, `"positive": 2`, `"positive": 2, "extra": 3`, 1)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	err = Convert(context.Background(), dir, filepath.Join(t.TempDir(), "o.gguf"), Options{Type: quant.F32})
	if err == nil || !strings.Contains(err.Error(), `"score.weight" has shape [3 64], config.json implies [4 64]`) {
		t.Fatalf("err = %v, want the score shape refused", err)
	}
}

// TestParseHeadIgnoresACausalLMsPadID: a causal LM converts whatever its
// pad_token_id says; only sequence classification reads it.
func TestParseHeadIgnoresACausalLMsPadID(t *testing.T) {
	f, err := parseFields([]byte(`{"architectures": ["Qwen3MoeForCausalLM"], "pad_token_id": -1}`))
	if err != nil {
		t.Fatal(err)
	}
	if h, err := parseHead(f); err != nil || h.Kind() != CausalLM || h.PadTokenID != -1 {
		t.Fatalf("head %+v, err %v", h, err)
	}
}

func TestParseHeadLabels(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		labels     []string
		pad        int
		err        string
	}{
		{"default two labels", `{}`, []string{"LABEL_0", "LABEL_1"}, -1, ""},
		{"num_labels only", `{"num_labels": 3}`, []string{"LABEL_0", "LABEL_1", "LABEL_2"}, -1, ""},
		{"id2label in id order", `{"id2label": {"1": "b", "0": "a"}, "pad_token_id": 7}`, []string{"a", "b"}, 7, ""},
		{"null pad", `{"pad_token_id": null}`, []string{"LABEL_0", "LABEL_1"}, -1, ""},
		{"gap in ids", `{"id2label": {"0": "a", "2": "c"}}`, nil, 0, `id2label key "2"`},
		{"leading zero", `{"id2label": {"00": "a"}}`, nil, 0, `id2label key "00"`},
		{"count mismatch", `{"num_labels": 3, "id2label": {"0": "a"}}`, nil, 0, "num_labels 3 but id2label has 1"},
		{"empty", `{"id2label": {}}`, nil, 0, "id2label has 0 labels"},
		{"not strings", `{"id2label": {"0": 1}}`, nil, 0, "id2label: want an object"},
		{"negative pad", `{"pad_token_id": -1}`, nil, 0, "pad_token_id: -1 out of range"},
		{"huge num_labels", `{"num_labels": 100000000}`, nil, 0, "num_labels 100000000 above"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			js := strings.Replace(tc.json, "{", `{"architectures": ["Qwen3MoeForSequenceClassification"], `, 1)
			js = strings.Replace(js, ", }", "}", 1)
			f, err := parseFields([]byte(js))
			if err != nil {
				t.Fatal(err)
			}
			h, err := parseHead(f)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !slices.Equal(h.Labels, tc.labels) || h.PadTokenID != tc.pad {
				t.Fatalf("labels %q pad %d err %v, want %q pad %d", h.Labels, h.PadTokenID, err, tc.labels, tc.pad)
			}
		})
	}
}

// TestConvertReadsEachClassBackbonePrefix: the synthetic checkpoints hold
// the backbone under the prefix transformers saves it with, and convert.
func TestConvertReadsEachClassBackbonePrefix(t *testing.T) {
	for variant, key := range map[string]string{
		"backbone": "embed_tokens.weight",
		"qa":       "transformer.embed_tokens.weight",
		"seqcls":   "model.embed_tokens.weight",
	} {
		dir := filepath.Join(t.TempDir(), variant)
		if err := synth.Write(dir, synth.HeadVariants()[variant]); err != nil {
			t.Fatal(err)
		}
		ck, err := openCheckpoint(dir)
		if err != nil {
			t.Fatal(err)
		}
		has := ck.has(key)
		ck.Close()
		if !has {
			t.Errorf("%s: checkpoint lacks %s", variant, key)
		}
		if err := Convert(context.Background(), dir, filepath.Join(t.TempDir(), "o.gguf"), Options{Type: quant.F32, Threads: 1}); err != nil {
			t.Errorf("%s: %v", variant, err)
		}
	}
}
