package runtime

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/q3m/q3m/tokenizer"
)

// TestChatContextShiftKeepsSystemPrompt runs a chat in a tiny context for
// many more turns than fit: each Send succeeds, the oldest turns go, and
// the kept prompt still starts with the system prompt and ends with the
// latest turn.
func TestChatContextShiftKeepsSystemPrompt(t *testing.T) {
	m, _ := chatModel(t)
	const system = "be brief"
	c := newTestChat(t, m, ChatOptions{System: system, ContextLen: 96})
	tok := c.enc.Tokenizer()
	end := mustLookup(t, tok, "<|im_end|>")
	sys, _, err := c.enc.Encode(c.History(), tokenizer.ChatOptions{})
	if err != nil {
		t.Fatal(err)
	}
	shifted := false
	for turn := range 30 {
		c.pick = script(append(tok.Encode(fmt.Sprintf("answer %d", turn)), end)...)
		msg := fmt.Sprintf("question %d", turn)
		r, err := c.Send(context.Background(), msg, nil)
		if err != nil || r.Stop != StopEnd {
			t.Fatalf("turn %d: %+v, %v", turn, r, err)
		}
		h := c.History()
		if h[0].Role != "system" || h[0].Content != system {
			t.Fatalf("turn %d: history starts with %+v, want the system prompt", turn, h[0])
		}
		if last := h[len(h)-2]; last.Content != msg {
			t.Fatalf("turn %d: last user message %q, want %q", turn, last.Content, msg)
		}
		if len(h) < 2*(turn+1)+1 {
			shifted = true
		}
		if used, size := c.ContextUsed(); used > size {
			t.Fatalf("turn %d: %d positions used of %d", turn, used, size)
		}
		if !hasPrefix(c.cached, sys) {
			t.Fatalf("turn %d: the kept prompt does not start with the system prompt", turn)
		}
	}
	if !shifted {
		t.Fatal("30 turns fit in a context of 96: the test shifts nothing")
	}
}

// TestChatContextShiftDuringAnswer fills the context in the middle of an
// answer: the oldest turns go and the answer goes on, its tokens so far
// evaluated again after the kept prompt.
func TestChatContextShiftDuringAnswer(t *testing.T) {
	m, _ := chatModel(t)
	c := newTestChat(t, m, ChatOptions{System: "s", ContextLen: 96})
	tok := c.enc.Tokenizer()
	end := mustLookup(t, tok, "<|im_end|>")
	for turn := range 3 {
		c.pick = script(append(tok.Encode(fmt.Sprintf("short %d", turn)), end)...)
		if _, err := c.Send(context.Background(), fmt.Sprintf("q%d", turn), nil); err != nil {
			t.Fatal(err)
		}
	}
	used, _ := c.ContextUsed()
	long := strings.Repeat(" a", 96-used) // more than the context has left
	c.pick = script(append(tok.Encode(long), end)...)
	r, err := c.Send(context.Background(), "long", nil)
	if err != nil || r.Stop != StopEnd || r.Content != long {
		t.Fatalf("answer across a shift: stop %v, %d bytes, %v; want the whole answer", r.Stop, len(r.Content), err)
	}
	h := c.History()
	if len(h) >= 9 || h[0].Content != "s" {
		t.Fatalf("history after the shift: %d messages starting %+v; want old turns dropped, the system prompt kept", len(h), h[0])
	}
	// The cache holds exactly the kept conversation rendered afresh, then
	// the answer's tokens.
	off := false
	prompt, _, err := c.enc.Encode(h[:len(h)-1], tokenizer.ChatOptions{AddGenerationPrompt: true, EnableThinking: &off})
	if err != nil {
		t.Fatal(err)
	}
	if want := append(prompt, tok.Encode(long)...); !slices.Equal(c.cached, want) {
		t.Errorf("after the shift the cache holds %d tokens, want the %d of the kept prompt and the answer", len(c.cached), len(want))
	}
}

// TestChatNoContextShiftFails checks that with NoContextShift a chat that
// fills its context fails as before.
func TestChatNoContextShiftFails(t *testing.T) {
	m, _ := chatModel(t)
	c := newTestChat(t, m, ChatOptions{System: "be brief", ContextLen: 96, NoContextShift: true})
	tok := c.enc.Tokenizer()
	end := mustLookup(t, tok, "<|im_end|>")
	for turn := range 30 {
		c.pick = script(append(tok.Encode(fmt.Sprintf("answer %d", turn)), end)...)
		if _, err := c.Send(context.Background(), fmt.Sprintf("question %d", turn), nil); err != nil {
			if !errors.Is(err, ErrContextFull) {
				t.Fatalf("turn %d: %v, want ErrContextFull", turn, err)
			}
			return
		}
	}
	t.Fatal("30 turns without a context shift fit in a context of 96")
}

func hasPrefix(ids, prefix []int32) bool {
	if len(prefix) > len(ids) {
		return false
	}
	for i, id := range prefix {
		if ids[i] != id {
			return false
		}
	}
	return true
}
