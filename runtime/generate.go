package runtime

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// GenerateOptions configures Session.Generate.
type GenerateOptions struct {
	// Sampling is the sampler's settings (the zero value is greedy).
	Sampling SamplerOptions
	// MaxTokens caps the tokens generated; 0 means until the context is
	// full.
	MaxTokens int
	// StopIDs end the generation when sampled (an end-of-turn token, say);
	// the stop token is not part of the result.
	StopIDs []int32
	// OnToken, when set, is called with each generated token as it is
	// sampled (never with a stop token); an error from it ends the
	// generation and is returned.
	OnToken func(id int32) error
}

// Generation is the result of Session.Generate.
type Generation struct {
	IDs   []int32    // the tokens generated, a stop token excluded
	Stop  StopReason // why the generation ended
	Stats Stats      // prompt and generated tokens, and the time each took
}

// Generate is the token loop: it evaluates prompt at the session's
// position, then samples a token from the last logits, evaluates it and so
// on, until a token of StopIDs is sampled (Stop StopEnd), MaxTokens tokens
// are generated (StopLength) or the context is full (StopContextFull; the
// last token generated is then sampled but not evaluated). The sampler's
// penalties see prompt and the tokens generated. The prompt is evaluated
// in chunks, and ctx is checked between chunks and between tokens: once it
// is done, Generate returns what it generated so far, Stop StopCancelled
// and ctx's error, as it does with OnToken's error. A prompt that does not
// fit in the context is an error wrapping ErrContextFull, like logits that
// are not numbers (ErrBadLogits).
func (s *Session) Generate(ctx context.Context, prompt []int32, o GenerateOptions) (Generation, error) {
	var g Generation
	if len(prompt) == 0 {
		return g, errors.New("runtime: generate: empty prompt")
	}
	if o.MaxTokens < 0 {
		return g, fmt.Errorf("runtime: generate: negative MaxTokens %d", o.MaxTokens)
	}
	if s.pos+len(prompt) > s.ctx {
		return g, fmt.Errorf("runtime: generate: a prompt of %d tokens at position %d exceeds the context of %d: %w",
			len(prompt), s.pos, s.ctx, ErrContextFull)
	}
	start := time.Now()
	var logits []float32
	for done := 0; done < len(prompt); done += prefillChunk {
		if err := ctx.Err(); err != nil {
			g.Stop, g.Stats.Prefill = StopCancelled, time.Since(start)
			return g, err
		}
		part := prompt[done:min(done+prefillChunk, len(prompt))]
		var err error
		if logits, err = s.Eval(part, false); err != nil {
			g.Stop, g.Stats.Prefill = StopCancelled, time.Since(start)
			return g, fmt.Errorf("runtime: generate: prompt: %w", err)
		}
		g.Stats.PromptTokens += len(part)
	}
	g.Stats.Prefill = time.Since(start)
	start = time.Now()
	var err error
	g.Stop, err = s.decodeLoop(ctx, logits, slices.Clip(prompt), o, &g)
	g.Stats.Decode = time.Since(start)
	g.Stats.GenTokens = len(g.IDs)
	return g, err
}

// decodeLoop samples from logits on, appending to g.IDs, until a stop.
func (s *Session) decodeLoop(ctx context.Context, logits []float32, prompt []int32, o GenerateOptions, g *Generation) (StopReason, error) {
	sampler := NewSampler(o.Sampling)
	history := prompt // appended to: a copy once it grows (prompt is clipped)
	var one [1]int32
	for {
		if err := ctx.Err(); err != nil {
			return StopCancelled, err
		}
		id, err := sampler.Next(logits, history)
		if err != nil {
			return StopCancelled, fmt.Errorf("runtime: generate: after %d tokens: %w", len(g.IDs), err)
		}
		if slices.Contains(o.StopIDs, id) {
			return StopEnd, nil
		}
		g.IDs = append(g.IDs, id)
		history = append(history, id)
		if o.OnToken != nil {
			if err := o.OnToken(id); err != nil {
				return StopCancelled, err
			}
		}
		if o.MaxTokens > 0 && len(g.IDs) >= o.MaxTokens {
			return StopLength, nil
		}
		if s.pos == s.ctx {
			return StopContextFull, nil
		}
		one[0] = id
		if logits, err = s.Eval(one[:], false); err != nil {
			return StopCancelled, fmt.Errorf("runtime: generate: after %d tokens: %w", len(g.IDs), err)
		}
	}
}
