package runtime

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/q3m/q3m/quant"
)

// A session's batch scratch is sized by the longest batch it has run,
// rounded up to a power of two and capped at maxBatch: a session that only
// decodes holds one token's, not a full prefill batch's.
func TestSessionScratchGrowsWithTheLongestBatch(t *testing.T) {
	c := tinyConfig()
	c.ContextLen = maxBatch + 60
	s := newSession(t, openTiny(t, buildTiny(t, c, buildOptions{typ: quant.Q8_0, seed: 3})), 2)
	ids := randIDs(5, maxBatch+60, c.Vocab)
	H := c.Hidden
	for _, step := range []struct{ tokens, batch int }{
		{1, 1}, {1, 1}, {3, 4}, {2, 4}, {5, 8}, {maxBatch + 30, maxBatch},
	} {
		if _, err := s.Eval(ids[s.Pos():s.Pos()+step.tokens], false); err != nil {
			t.Fatal(err)
		}
		if s.batch != step.batch || len(s.buf.x) != step.batch*H || len(s.buf.expIn) != step.batch*c.ExpertsUsed*H {
			t.Fatalf("after %d tokens: batch %d, x %d values, expIn %d; want batch %d", step.tokens, s.batch, len(s.buf.x), len(s.buf.expIn), step.batch)
		}
	}
}

// A Q4_K/Q6_K model (the Q4_K_M preset's types) evaluated in one batch in
// which experts get eight tokens and more (the kernels' eight-row forms)
// gives the logits of decoding one token at a time, bit for bit.
func TestKQuantPrefillOfFullExpertsEqualsDecode(t *testing.T) {
	c := kquantConfig()
	types := map[string]quant.Type{"output.weight": quant.Q6_K}
	for l := range c.Layers {
		for _, name := range []string{"attn_q", "attn_k", "attn_output", "ffn_gate_exps", "ffn_up_exps", "ffn_gate", "ffn_up"} {
			types[fmt.Sprintf("blk.%d.%s.weight", l, name)] = quant.Q4_K
		}
		for _, name := range []string{"attn_v", "ffn_down_exps", "ffn_down"} {
			types[fmt.Sprintf("blk.%d.%s.weight", l, name)] = quant.Q6_K
		}
	}
	model := openTiny(t, buildTiny(t, c, buildOptions{seed: 12, typ: quant.Q4_K, override: types}))
	ids := randIDs(6, 48, c.Vocab) // 48·3 choices over 8 experts: 18 tokens each on average
	V := c.Vocab
	all, err := newSession(t, model, 2).Eval(ids, true)
	if err != nil {
		t.Fatal(err)
	}
	all = slices.Clone(all)
	dec := newSession(t, model, 1)
	for p, id := range ids {
		got, err := dec.Eval([]int32{id}, false)
		if err != nil {
			t.Fatal(err)
		}
		for i := range V {
			if math.Float32bits(got[i]) != math.Float32bits(all[p*V+i]) {
				t.Fatalf("position %d logit %d: decode %v, prefill %v", p, i, got[i], all[p*V+i])
			}
		}
	}
}
