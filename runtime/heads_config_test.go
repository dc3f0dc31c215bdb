package runtime

import (
	"errors"
	"strings"
	"testing"
)

// TestConfigRefusesBadHeads: an unknown q3m.class, a classifier without
// labels and a classifier file without its head tensor are refused, naming
// the file and the problem.
func TestConfigRefusesBadHeads(t *testing.T) {
	seq := "Qwen3MoeForSequenceClassification"
	for _, tc := range []struct {
		name string
		kv   map[string]any
		want []string
		is   error
	}{
		{"unknown class", map[string]any{"q3m.class": "Qwen3MoeForMaskedLM"}, []string{`"Qwen3MoeForMaskedLM"`}, ErrUnsupported},
		{"classifier without labels", map[string]any{"q3m.class": seq}, []string{"qwen3moe.classifier.output_labels", "has 0"}, nil},
		{"labels of the wrong type", map[string]any{"q3m.class": seq, "qwen3moe.classifier.output_labels": []int32{1, 2}}, []string{"qwen3moe.classifier.output_labels"}, nil},
		{"classifier without its head", map[string]any{"q3m.class": seq, "qwen3moe.classifier.output_labels": []string{"a", "b"}}, []string{`"cls.output.weight"`, "missing"}, nil},
		{"QA without its head", map[string]any{"q3m.class": "Qwen3MoeForQuestionAnswering"}, []string{`"cls.output.weight"`, "missing"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := buildTiny(t, tinyConfig(), buildOptions{extraKV: tc.kv})
			_, err := Load(m.path)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range append(tc.want, m.path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v does not wrap %v", err, tc.is)
			}
		})
	}
}
