package runtime

import (
	"context"
	"fmt"
)

// attach puts the chat's session on its engine for one Send.
func (c *Chat) attach() error {
	if c.engine == nil {
		return nil
	}
	seq, err := c.engine.Attach(c.sess)
	if err != nil {
		return fmt.Errorf("runtime: chat: %w", err)
	}
	c.seq = seq
	return nil
}

// detach takes the chat's session off its engine after a Send.
func (c *Chat) detach() {
	if c.seq != nil {
		c.seq.Detach()
		c.seq = nil
	}
}

// eval evaluates ids at the session's position and returns the logits of
// the last: through the engine's shared steps during a Send on an engine,
// else on the session alone.
func (c *Chat) eval(ctx context.Context, ids []int32) ([]float32, error) {
	if c.seq != nil {
		return c.seq.Eval(ctx, ids)
	}
	return c.sess.Eval(ids, false)
}
