package runtime_test

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/q3m/q3m/runtime"
)

// headModel loads the F32 file of a synth variant (head or causal).
func headModel(t *testing.T, models headModels, variant string) *runtime.Model {
	t.Helper()
	return openParity(t, models.file(t, headCase{Variant: variant, Type: "f32", Weights: "hf"}))
}

var headIDs = []int32{500, 1, 302, 27, 500, 511, 42, 333, 128, 7, 500, 500}

func equalBits(a, b []float32) bool { return len(a) > 0 && sameBits(a, b) < 0 }

// TestRunCausalLogitsMatchEval: Run's logits are Eval's, bit for bit.
func TestRunCausalLogitsMatchEval(t *testing.T) {
	m := headModel(t, headModels{t.TempDir()}, "base")
	r, err := newParitySession(t, m).Run(headIDs, runtime.RunOptions{HiddenStates: true, RouterLogits: true})
	if err != nil {
		t.Fatal(err)
	}
	want, err := newParitySession(t, m).Eval(headIDs, true)
	if err != nil {
		t.Fatal(err)
	}
	if !equalBits(r.Logits, want) {
		t.Error("Run's logits differ from Eval's")
	}
}

// TestRunBackboneIsTheCausalLMsLastHiddenState: the backbone variant has
// the causal LM's weights; its output is the causal LM's last hidden state
// and every hidden state is the same, bit for bit.
func TestRunBackboneIsTheCausalLMsLastHiddenState(t *testing.T) {
	models := headModels{t.TempDir()}
	opt := runtime.RunOptions{HiddenStates: true}
	lm, err := newParitySession(t, headModel(t, models, "base")).Run(headIDs, opt)
	if err != nil {
		t.Fatal(err)
	}
	bb, err := newParitySession(t, headModel(t, models, "backbone")).Run(headIDs, opt)
	if err != nil {
		t.Fatal(err)
	}
	L := len(lm.HiddenStates) - 1
	if !equalBits(bb.LastHidden, lm.HiddenStates[L]) || !equalBits(bb.LastHidden, bb.HiddenStates[L]) {
		t.Error("backbone output is not the last (normed) hidden state")
	}
	for i := range lm.HiddenStates {
		if !equalBits(bb.HiddenStates[i], lm.HiddenStates[i]) {
			t.Errorf("hidden state %d differs between backbone and causal LM", i)
		}
	}
}

// TestRunComputesOnlyWhatIsAsked: without options no hidden states or router
// logits are kept, a classifier has no vocabulary logits, and asking for
// them does not change the head's output.
func TestRunComputesOnlyWhatIsAsked(t *testing.T) {
	models := headModels{t.TempDir()}
	for _, v := range []string{"base", "backbone", "seqcls", "tokcls", "qa"} {
		t.Run(v, func(t *testing.T) {
			m := headModel(t, models, v)
			s := newParitySession(t, m)
			plain, err := s.Run(headIDs, runtime.RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if plain.HiddenStates != nil || plain.RouterLogits != nil || plain.AuxLoss != 0 {
				t.Error("hidden states or router logits kept without being asked")
			}
			if (plain.Logits != nil) != (plain.Class == runtime.CausalLM) {
				t.Errorf("%s: vocabulary logits present %v", plain.Class, plain.Logits != nil)
			}
			head := slices.Clone(plain.HeadOutput())
			full, err := s.Run(headIDs, runtime.RunOptions{HiddenStates: true, RouterLogits: true})
			if err != nil {
				t.Fatal(err)
			}
			if !equalBits(full.HeadOutput(), head) {
				t.Error("head output changes when hidden states and router logits are recorded")
			}
			if len(head) == 0 || len(full.RouterLogits) != len(full.RouterLayers) || len(full.RouterLayers) == 0 {
				t.Errorf("head of %d values, %d router logits for %d layers", len(head), len(full.RouterLogits), len(full.RouterLayers))
			}
		})
	}
}

// TestRunSequenceIgnoresTrailingPads: the pooled score of a prompt with
// trailing pads is that of the prompt cut after its last non-pad token.
func TestRunSequenceIgnoresTrailingPads(t *testing.T) {
	m := headModel(t, headModels{t.TempDir()}, "seqcls")
	s := newParitySession(t, m)
	padded, err := s.Run(headIDs, runtime.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cut, err := s.Run(headIDs[:10], runtime.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if padded.Pooled != 9 || cut.Pooled != 9 || !equalBits(padded.SequenceLogits, cut.SequenceLogits) {
		t.Errorf("pooled %d and %d, logits %v and %v", padded.Pooled, cut.Pooled, padded.SequenceLogits, cut.SequenceLogits)
	}
}

func TestEvalRefusesModelsWithoutLMHead(t *testing.T) {
	m := headModel(t, headModels{t.TempDir()}, "qa")
	_, err := newParitySession(t, m).Eval(headIDs, true)
	if err == nil || !strings.Contains(err.Error(), "Qwen3MoeForQuestionAnswering") {
		t.Fatalf("err = %v, want a refusal naming the class", err)
	}
}

func TestPoolPosition(t *testing.T) {
	for _, tc := range []struct {
		name string
		ids  []int32
		pad  int
		want int
	}{
		{"no pad id: last token", []int32{5, 9, 9}, -1, 2},
		{"trailing pads", []int32{5, 6, 9, 9}, 9, 1},
		{"leading and inner pads", []int32{9, 5, 9, 6, 9}, 9, 3},
		{"no pad present", []int32{5, 6}, 9, 1},
		{"all pads: position 0", []int32{9, 9, 9}, 9, 0},
	} {
		if got := runtime.PoolPosition(tc.ids, tc.pad); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestLoadBalancingLoss(t *testing.T) {
	ln3 := float32(math.Log(3))
	for _, tc := range []struct {
		name   string
		router [][]float32
		e, k   int
		want   float64
	}{
		{"uniform: k", [][]float32{{0, 0, 0, 0, 0, 0, 0, 0}, {1, 1, 1, 1, 1, 1, 1, 1}}, 4, 2, 2},
		{"one row", [][]float32{{0, ln3}}, 2, 1, 1.5},                           // 2·(1·0.75)
		{"balanced rows over layers", [][]float32{{ln3, 0}, {0, ln3}}, 2, 1, 1}, // 2·(0.5·0.5+0.5·0.5)
		{"no rows", [][]float32{{}}, 2, 1, 0},
	} {
		if got := runtime.LoadBalancingLoss(tc.router, tc.e, tc.k); math.Abs(got-tc.want) > 1e-7 {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
