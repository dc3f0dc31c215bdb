package runtime

import (
	"testing"
	"time"

	"github.com/q3m/q3m/quant"
)

// BenchmarkPrefill evaluates a 64-token prompt (two batches) on the model of
// BenchmarkDecode, reporting ns per prompt token and tokens per second.
func BenchmarkPrefill(b *testing.B) {
	c := Config{Vocab: 4096, Hidden: 512, Layers: 4, Heads: 8, KVHeads: 2, HeadDim: 64,
		Experts: 16, ExpertsUsed: 4, ExpertFFN: 256, ContextLen: 4096,
		RopeTheta: 1e6, RMSEps: 1e-6, NormTopKProb: true}
	tm := buildTiny(b, c, buildOptions{typ: quant.Q8_0, seed: 11})
	model, err := Load(tm.path)
	if err != nil {
		b.Fatal(err)
	}
	defer model.Close()
	s, err := model.NewSession(SessionOptions{})
	if err != nil {
		b.Fatal(err)
	}
	ids := randIDs(3, 64, c.Vocab)
	tokens := 0
	start := time.Now()
	for b.Loop() {
		s.Reset()
		if _, err := s.Eval(ids, false); err != nil {
			b.Fatal(err)
		}
		tokens += len(ids)
	}
	el := time.Since(start)
	b.ReportMetric(float64(el.Nanoseconds())/float64(tokens), "ns/token")
	b.ReportMetric(float64(tokens)/el.Seconds(), "tokens/s")
}
