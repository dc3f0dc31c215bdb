package grammar

import (
	"math"
	"testing"
)

// BenchmarkMaskQwen3 times one mask over Qwen3's 151,936 logits in the
// states a JSON answer spends its tokens in.
func BenchmarkMaskQwen3(b *testing.B) {
	v, _ := qwenVocab(b)
	person, err := Schema([]byte(schemaCases[0].schema))
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		g      *Grammar
		prefix string
	}{
		{"object start", person, `{`},
		{"key", person, `{"name": "Ann", "`},
		{"string", person, `{"name": "An`},
		{"number", person, `{"name": "Ann", "age": 4`},
		{"after value", person, `{"name": "Ann", "age": 41`},
		{"any value", JSONObject(), `{"a": `},
		{"free key", JSONObject(), `{"a": 1, "b`},
		{"free string", JSONObject(), `{"a": "xy`},
		{"coder text", coderText(b), "def f(x):\n    return"},
		{"coder text after <", coderText(b), "a <"},
	} {
		b.Run(c.name, func(b *testing.B) {
			m := NewMatcher(c.g, v)
			if err := m.AcceptText(c.prefix); err != nil {
				b.Fatal(err)
			}
			logits := make([]float32, v.Size())
			b.ResetTimer()
			for b.Loop() {
				if err := m.Mask(logits, 1000); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			n := 0
			for _, l := range logits {
				if !math.IsInf(float64(l), -1) {
					n++
				}
			}
			b.ReportMetric(float64(n), "allowed")
		})
	}
}

// BenchmarkNewVocabQwen3 times preparing Qwen3's vocabulary (done once per
// server, at the first constrained request).
func BenchmarkNewVocabQwen3(b *testing.B) {
	qwenVocab(b)
	for b.Loop() {
		if _, err := NewVocab(qwen.tok, 151936, nil); err != nil {
			b.Fatal(err)
		}
	}
}
