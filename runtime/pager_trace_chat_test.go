package runtime

import (
	"bytes"
	"context"
	"testing"

	"github.com/q3m/q3m/routing"
)

func TestChatRecordsTheRoutingOfEveryToken(t *testing.T) {
	m, _ := chatModel(t)
	c := newTestChat(t, m, ChatOptions{})
	var buf bytes.Buffer
	c.RecordRouting(&buf)
	tok := c.enc.Tokenizer()
	c.pick = script(append(tok.Encode("a b"), mustLookup(t, tok, "<|im_end|>"))...)
	r, err := c.Send(context.Background(), "hello", nil)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := routing.Read(&buf, "chat", m.RouteGeometry())
	if err != nil {
		t.Fatal(err)
	}
	// Every prompt token and every answer token routes once (the end
	// token is picked, never evaluated).
	if want := r.Stats.PromptTokens + r.Stats.GenTokens; tr.Tokens() != want || c.RecordingError() != nil {
		t.Errorf("%d tokens recorded, want %d (%+v); error %v", tr.Tokens(), want, r.Stats, c.RecordingError())
	}
}
