package runtime

import (
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
