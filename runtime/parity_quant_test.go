package runtime_test

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/q3m/q3m/runtime"
)

// sourceBounds bound how far a converted file may drift from the model's
// original weights: mean KL(original ‖ runtime) over positions and the share
// of positions whose top-1 id agrees, on the original golden's ids.
// Measured: bf16 KL 4e-5, f16 5e-7, q8_0 5e-4 (96% top-1), q4_0 0.064 (61%
// top-1). Uniform random weights make near ties common (docs/model.md), so
// Q4_0 is checked tightly only against its own dequantized golden.
var sourceBounds = map[string]struct{ kl, top1 float64 }{
	"bf16": {1e-3, 0.9},
	"f16":  {1e-4, 0.95},
	"q8_0": {5e-3, 0.85},
	"q4_0": {0.3, 0.4},
}

// checkAgainstSource reports the KL divergence and top-1 agreement of the
// converted model against the golden of the original weights.
func checkAgainstSource(t *testing.T, c parityCase, m *runtime.Model, src *parityGolden) {
	t.Helper()
	out, err := newParitySession(t, m).Eval(src.ids(), true)
	if err != nil {
		t.Fatal(err)
	}
	V := src.Vocab
	var kl float64
	agree := 0
	for r := range src.Rows {
		got, want := out[r*V:(r+1)*V], src.row(r)
		kl += klDiv(want, got)
		if argmax(got) == argmax(want) {
			agree++
		}
	}
	kl /= float64(src.Rows)
	top1 := float64(agree) / float64(src.Rows)
	t.Logf("%s vs original weights: mean KL %.3g, top-1 agreement %.3f over %d positions", c.Type, kl, top1, src.Rows)
	if b, ok := sourceBounds[c.Type]; ok && (kl > b.kl || top1 < b.top1) {
		t.Errorf("%s vs original weights: KL %.3g (bound %.3g), top-1 %.3f (bound %.3f)", c.Type, kl, b.kl, top1, b.top1)
	}
}

// klDiv returns KL(softmax(p) ‖ softmax(q)) in nats.
func klDiv(p, q []float32) float64 {
	lp, lq := logSoftmax(p), logSoftmax(q)
	var kl float64
	for i := range lp {
		kl += math.Exp(lp[i]) * (lp[i] - lq[i])
	}
	return kl
}

func logSoftmax(v []float32) []float64 {
	mx := math.Inf(-1)
	for _, x := range v {
		mx = math.Max(mx, float64(x))
	}
	var sum float64
	for _, x := range v {
		sum += math.Exp(float64(x) - mx)
	}
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x) - mx - math.Log(sum)
	}
	return out
}

// TestParityPrefillMatchesDecode checks, on every float32 parity model, that
// evaluating a sequence in one batch gives bit for bit the logits of feeding
// it one token at a time through the KV cache.
func TestParityPrefillMatchesDecode(t *testing.T) {
	entries, err := os.ReadDir(parityDir)
	if err != nil {
		t.Fatal(err)
	}
	models := &parityModels{dir: t.TempDir(), hf: map[string]string{}}
	for _, e := range entries {
		c, g := readParityCase(t, e.Name())
		if c.Type != "f32" {
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			m := openParity(t, models.file(t, c))
			ids, V := g.ids(), g.Vocab
			batch, err := newParitySession(t, m).Eval(ids, true)
			if err != nil {
				t.Fatal(err)
			}
			one := newParitySession(t, m)
			differ, worst := 0, 0.0
			for i, id := range ids {
				out, err := one.Eval([]int32{id}, false)
				if err != nil {
					t.Fatal(err)
				}
				for j, v := range out {
					if math.Float32bits(v) != math.Float32bits(batch[i*V+j]) {
						differ++
						worst = math.Max(worst, math.Abs(float64(v-batch[i*V+j])))
					}
				}
			}
			if differ > 0 {
				t.Errorf("prefill and token-by-token decode differ in %d of %d logits, by up to %.3g", differ, len(ids)*V, worst)
			}
		})
	}
	if len(entries) == 0 {
		t.Fatalf("no cases in %s", filepath.Clean(parityDir))
	}
}
