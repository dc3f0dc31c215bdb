package runtime

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

// onlyConstraint allows one token n times, then only the stops.
type onlyConstraint struct {
	id        int32
	n         int
	stops     []int32
	remaining []int
	accepted  []int32
}

func (c *onlyConstraint) Mask(logits []float32, remaining int) error {
	c.remaining = append(c.remaining, remaining)
	for i := range logits {
		allowed := len(c.accepted) < c.n && int32(i) == c.id || len(c.accepted) >= c.n && slices.Contains(c.stops, int32(i))
		if !allowed {
			logits[i] = float32(math.Inf(-1))
		}
	}
	return nil
}

func (c *onlyConstraint) Accept(id int32) error {
	c.accepted = append(c.accepted, id)
	return nil
}

func TestChatConstraintMasksEachTokenWithTheTokensLeft(t *testing.T) {
	m, _ := chatModel(t)
	tok, err := m.Tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	b := tok.Encode("b")[0]
	end, _ := tok.Lookup("<|im_end|>")
	var con *onlyConstraint
	c := newTestChat(t, m, ChatOptions{MaxTokens: 5, Sampling: &SamplerOptions{Temperature: 1.5, TopK: 0, TopP: 1}, Seed: 9,
		Constrain: func(stops []int32) (Constraint, error) {
			if !slices.Contains(stops, end) {
				t.Errorf("stops %v lack <|im_end|> %d", stops, end)
			}
			con = &onlyConstraint{id: b, n: 3, stops: stops}
			return con, nil
		}})
	r, err := c.Send(context.Background(), "hi", nil)
	if err != nil || r.Content != "bbb" || r.Stop != StopEnd {
		t.Fatalf("reply %+v, %v", r, err)
	}
	if want := []int{5, 4, 3, 2}; !slices.Equal(con.remaining, want) {
		t.Errorf("tokens left told to Mask %v, want %v", con.remaining, want)
	}
	if want := []int32{b, b, b}; !slices.Equal(con.accepted, want) {
		t.Errorf("accepted %v, want %v (the ending token is not accepted)", con.accepted, want)
	}
}

func TestChatConstraintRefusals(t *testing.T) {
	m, _ := chatModel(t)
	c := newTestChat(t, m, ChatOptions{Thinking: true, Constrain: func([]int32) (Constraint, error) { return &onlyConstraint{}, nil }})
	if _, err := c.Send(context.Background(), "hi", nil); err == nil || !strings.Contains(err.Error(), "cannot think") {
		t.Errorf("thinking with a constraint: %v", err)
	}
	bad := errors.New("no vocabulary")
	c = newTestChat(t, m, ChatOptions{Constrain: func([]int32) (Constraint, error) { return nil, bad }})
	if _, err := c.Send(context.Background(), "hi", nil); !errors.Is(err, bad) {
		t.Errorf("a failing Constrain: %v", err)
	}
}
