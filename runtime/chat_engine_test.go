package runtime

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestChatsOnAnEngineAnswerAsAlone holds three two-turn conversations at
// once on one engine and checks that every reply is the one the same chat
// gives on its own session (sampling at temperature 1 with a seed, so the
// replies follow the logits).
func TestChatsOnAnEngineAnswerAsAlone(t *testing.T) {
	m, _ := chatModel(t)
	turns := [][]string{
		{"tell me about the sea", "and the mountains?"},
		{"hello", "what is two plus two?"},
		{"write a haiku about rain", "another one, about snow"},
	}
	opts := func(i int) ChatOptions {
		return ChatOptions{Threads: 2, ContextLen: 512, MaxTokens: 12 + 3*i,
			Sampling: &SamplerOptions{Temperature: 1, Seed: uint64(i + 1)}}
	}
	converse := func(c *Chat, msgs []string) ([]Reply, error) {
		var out []Reply
		for _, msg := range msgs {
			r, err := c.Send(context.Background(), msg, nil)
			if err != nil {
				return out, err
			}
			r.Stats = Stats{}
			out = append(out, r)
		}
		return out, nil
	}
	want := make([][]Reply, len(turns))
	for i, msgs := range turns {
		c, err := m.NewChat(opts(i))
		if err != nil {
			t.Fatal(err)
		}
		if want[i], err = converse(c, msgs); err != nil {
			t.Fatal(err)
		}
	}
	e, err := m.NewEngine(EngineOptions{Seqs: len(turns), Threads: 2, Wait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	got := make([][]Reply, len(turns))
	errs := make([]error, len(turns))
	var wg sync.WaitGroup
	for i, msgs := range turns {
		o := opts(i)
		o.Engine = e
		c, err := m.NewChat(o)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { got[i], errs[i] = converse(c, msgs) })
	}
	wg.Wait()
	for i := range turns {
		if errs[i] != nil {
			t.Fatalf("chat %d: %v", i, errs[i])
		}
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Errorf("chat %d, turn %d: %+v on the engine, %+v alone", i, j, got[i][j], want[i][j])
			}
		}
	}
	// Whether the chats overlapped depends on the scheduler (a chat
	// attaches inside Send); that shared steps give each sequence its own
	// result is TestEngineLogitsEqualSessionAloneBitForBit's, which lines
	// its sequences up.
	st := e.Stats()
	t.Logf("%d steps advanced %d sequences", st.Steps, st.Seqs)
	other, _ := chatModel(t)
	if _, err := other.NewChat(ChatOptions{Engine: e}); err == nil {
		t.Error("a chat on another model's engine accepted")
	}
}
