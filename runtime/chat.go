package runtime

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/q3m/q3m/tokenizer"
)

// ChatOptions configures a Chat.
type ChatOptions struct {
	// System is the system prompt; "" means none.
	System string
	// Thinking lets the model think (inside <think>…</think>) before it
	// answers; off renders the template's empty think block.
	Thinking bool
	// Sampling is the sampler's settings; nil means DefaultSampling(Thinking),
	// which then follows SetThinking.
	Sampling *SamplerOptions
	// Seed seeds the default sampling; with Sampling set, its Seed is used.
	Seed uint64
	// ContextLen, Threads and KVType configure the chat's Session (see
	// SessionOptions).
	ContextLen, Threads int
	KVType              KVType
	// NoContextShift turns off the context shift: by default, when the
	// conversation no longer fits in the context, the oldest turns after
	// the system prompt are dropped (see Send).
	NoContextShift bool
	// MaxTokens caps the tokens of one answer, thinking included; 0 means
	// until the context is full.
	MaxTokens int
	// Engine, when set (an Engine of the same Model), evaluates the chat's
	// tokens in the engine's shared steps, batched with its other
	// sequences' tokens; the answers are the same as without it.
	Engine *Engine
	// Constrain, when set, is called at the start of every answer with the
	// ids that end an answer and returns the constraint the answer's tokens
	// follow (a grammar.Matcher over a grammar.Vocab built with those ids:
	// JSON matching a schema). Constrained answers do not think.
	Constrain func(stops []int32) (Constraint, error)
}

// Constraint restricts the tokens of an answer. Mask is called before each
// token is sampled with the tokens left, this one included (≤ 0: no
// limit), and sets the logits of forbidden tokens to -Inf, so that the
// text can still be completed in time; Accept is told each token chosen
// other than the one that ends the answer. grammar.Matcher is one.
type Constraint interface {
	Mask(logits []float32, remaining int) error
	Accept(id int32) error
}

// Chunk is a piece of an answer as it streams.
type Chunk struct {
	Text string
	// Thinking is set for text inside the model's <think>…</think> block.
	Thinking bool
}

// StopReason says why an answer ended.
type StopReason string

const (
	StopEnd         StopReason = "end"       // the model ended its turn
	StopLength      StopReason = "length"    // ChatOptions.MaxTokens reached
	StopContextFull StopReason = "context"   // no room left in the context
	StopCancelled   StopReason = "cancelled" // the context was cancelled or the callback failed
)

// Reply is one answer of the model.
type Reply struct {
	Content  string // the answer, without the thinking
	Thinking string // the text inside <think>…</think>, trimmed
	Stop     StopReason
	Stats    Stats
}

// Stats counts the work of one answer, or of a whole conversation.
type Stats struct {
	PromptTokens int           // prompt tokens evaluated
	CachedTokens int           // prompt tokens reused from the KV cache
	GenTokens    int           // tokens generated, the final end-of-turn token excluded
	Prefill      time.Duration // time to evaluate the prompt
	Decode       time.Duration // time to generate
}

// PrefillRate returns prompt tokens evaluated per second.
func (s Stats) PrefillRate() float64 { return rate(s.PromptTokens, s.Prefill) }

// DecodeRate returns generated tokens per second.
func (s Stats) DecodeRate() float64 { return rate(s.GenTokens, s.Decode) }

func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func (s *Stats) add(o Stats) {
	s.PromptTokens += o.PromptTokens
	s.CachedTokens += o.CachedTokens
	s.GenTokens += o.GenTokens
	s.Prefill += o.Prefill
	s.Decode += o.Decode
}

// Chat is a multi-turn conversation with a model, on its own Session.
//
// Each Send renders the whole conversation with the model's chat template,
// reuses the longest prefix of it already in the KV cache and evaluates only
// the rest. Because the template drops the thinking of earlier assistant
// turns, the reused prefix then ends at the start of the previous answer,
// which is evaluated again without it.
//
// Many Chats may share one Model concurrently; a Chat itself is not safe for
// concurrent use.
type Chat struct {
	enc        *PromptEncoder
	sess       *Session
	sampler    *Sampler
	custom     bool // sampling given by the caller: SetThinking keeps it
	seed       uint64
	system     string
	thinking   bool
	maxTokens  int
	shift      bool // drop the oldest turns when the context fills
	constrain  func(stops []int32) (Constraint, error)
	msgs       []tokenizer.Message // without the system prompt
	cached     []int32             // the tokens in the session's KV cache
	used       int                 // positions the conversation fills
	stops      []int32
	thinkOpen  int32 // -1 when the vocabulary has no <think>
	thinkClose int32
	total      Stats
	engine     *Engine   // ChatOptions.Engine
	seq        *Sequence // the session on engine during Send
	// pick, when set, replaces the sampler (tests script answers with it).
	pick func(logits []float32, history []int32) int32
}

// Tokenizer returns the model's tokenizer, built from the file's metadata
// on first use and shared by every caller (a Tokenizer is safe for
// concurrent use).
func (m *Model) Tokenizer() (*tokenizer.Tokenizer, error) {
	m.tokOnce.Do(func() { m.tok, m.tokErr = NewTokenizer(m.file) })
	return m.tok, m.tokErr
}

// NewChat starts an empty conversation. A chat template the tokenizer
// package does not know is rendered as plain ChatML (see ChatTemplate).
func (m *Model) NewChat(o ChatOptions) (*Chat, error) {
	if o.MaxTokens < 0 {
		return nil, fmt.Errorf("runtime: chat: negative MaxTokens %d", o.MaxTokens)
	}
	enc, err := m.PromptEncoder()
	if err != nil {
		return nil, err
	}
	return newChat(m, enc, o)
}

// PromptEncoder returns the encoder of the model's chat template and
// tokenizer; a template the tokenizer package does not know is rendered as
// plain ChatML (see ChatTemplate).
func (m *Model) PromptEncoder() (*PromptEncoder, error) {
	tok, err := m.Tokenizer()
	if err != nil {
		return nil, err
	}
	tmpl, err := m.ChatTemplate()
	if err != nil && !errors.Is(err, tokenizer.ErrUnsupportedTemplate) {
		return nil, err
	}
	return NewPromptEncoder(tok, tmpl), nil
}

func newChat(m *Model, enc *PromptEncoder, o ChatOptions) (*Chat, error) {
	if o.Engine != nil && o.Engine.m != m {
		return nil, errors.New("runtime: chat: the engine is of another model")
	}
	sess, err := m.NewSession(SessionOptions{ContextLen: o.ContextLen, Threads: o.Threads, KVType: o.KVType})
	if err != nil {
		return nil, err
	}
	tok := enc.Tokenizer()
	c := &Chat{
		enc: enc, sess: sess, system: o.System, thinking: o.Thinking, maxTokens: o.MaxTokens, shift: !o.NoContextShift,
		stops: chatStops(tok), thinkOpen: -1, thinkClose: -1, engine: o.Engine, constrain: o.Constrain,
	}
	if id, ok := tok.Lookup("<think>"); ok {
		c.thinkOpen = id
	}
	if id, ok := tok.Lookup("</think>"); ok {
		c.thinkClose = id
	}
	if len(c.stops) == 0 {
		return nil, fmt.Errorf("runtime: chat: %s: the vocabulary has no end-of-turn token", m.file.Path)
	}
	sampling := DefaultSampling(o.Thinking)
	sampling.Seed = o.Seed
	if o.Sampling != nil {
		sampling, c.custom = *o.Sampling, true
	}
	c.seed = sampling.Seed
	c.sampler = NewSampler(sampling)
	return c, nil
}

// SetThinking turns thinking on or off for the next answers. With default
// sampling it also switches to the recommended settings of the mode.
func (c *Chat) SetThinking(on bool) {
	c.thinking = on
	if !c.custom {
		o := DefaultSampling(on)
		o.Seed = c.seed
		c.sampler = NewSampler(o)
	}
}

// Thinking reports whether thinking is on.
func (c *Chat) Thinking() bool { return c.thinking }

// SetSystem replaces the system prompt ("" removes it). The conversation
// is kept.
func (c *Chat) SetSystem(s string) { c.system = s }

// System returns the system prompt.
func (c *Chat) System() string { return c.system }

// Reset forgets the conversation (the system prompt stays) and the totals
// of Stats. The KV cache is kept for what the next prompt shares with it.
func (c *Chat) Reset() {
	c.msgs = nil
	c.used = 0
	c.total = Stats{}
}

// Stats returns the totals of the answers since the chat began or was Reset.
func (c *Chat) Stats() Stats { return c.total }

// ContextUsed returns the positions the conversation fills in the KV cache
// and the size of the context.
func (c *Chat) ContextUsed() (used, size int) { return c.used, c.sess.ContextLen() }

// History returns a copy of the conversation, the system prompt first when
// there is one.
func (c *Chat) History() []tokenizer.Message {
	return c.conversation()
}

func (c *Chat) conversation() []tokenizer.Message {
	out := make([]tokenizer.Message, 0, len(c.msgs)+2)
	if c.system != "" {
		out = append(out, tokenizer.Message{Role: "system", Content: c.system})
	}
	return append(out, c.msgs...)
}

// Stream sends a user message and yields the answer as it is generated: each
// chunk with a nil error, then, if the answer failed, one final error.
// Breaking out of the loop stops the answer. See Send.
func (c *Chat) Stream(ctx context.Context, text string) iter.Seq2[Chunk, error] {
	return func(yield func(Chunk, error) bool) {
		stopped := errors.New("stopped")
		_, err := c.Send(ctx, text, func(ch Chunk) error {
			if !yield(ch, nil) {
				return stopped
			}
			return nil
		})
		if err != nil && err != stopped {
			yield(Chunk{}, err)
		}
	}
}

// Send adds a user message, generates the answer and adds it to the
// conversation. Each piece of text is passed to fn (which may be nil) as it
// is generated; an error from fn stops the answer and is returned.
//
// When the conversation no longer fits in the context — the prompt, or the
// prompt and the answer so far — Send shifts the context (unless
// ChatOptions.NoContextShift is set): it drops the oldest turns after the
// system prompt until the rest takes at most half of the context, renders
// and evaluates the kept conversation again (reusing the cache up to the
// first dropped turn) and goes on; Stats counts the tokens evaluated again
// as prompt tokens. When even the system prompt and the current turn do
// not fit (or shifting is off), a prompt that does not fit makes Send
// return an error wrapping ErrContextFull and leave the conversation as it
// was (Reset makes room). An answer cut short — by ctx, by fn, by MaxTokens
// or by the context filling up — is kept in the conversation as far as it
// got, as llama.cpp's CLI does, and the Reply says why it stopped; the
// error is ctx's, fn's or one wrapping ErrContextFull, and nil for
// MaxTokens. If the answer is cancelled before its first token, the message
// is dropped instead. Once the model is closing, Send fails with an error
// wrapping ErrClosed.
func (c *Chat) Send(ctx context.Context, text string, fn func(Chunk) error) (Reply, error) {
	if m := c.sess.m; m.closing.Load() {
		return Reply{}, fmt.Errorf("runtime: chat: %w", m.closedError())
	}
	t := chatTurn{msgs: append(slices.Clone(c.msgs), tokenizer.Message{Role: "user", Content: text})}
	if c.constrain != nil {
		if c.thinking {
			return Reply{}, errors.New("runtime: chat: a constrained answer cannot think first; turn thinking off")
		}
		var err error
		if t.con, err = c.constrain(slices.Clone(c.stops)); err != nil {
			return Reply{}, fmt.Errorf("runtime: chat: constraint: %w", err)
		}
	}
	if err := c.render(&t); err != nil {
		return Reply{}, err
	}
	size := c.sess.ContextLen()
	if len(t.ids) >= size && c.shift {
		if _, err := c.dropTurns(&t, 0); err != nil {
			return Reply{}, err
		}
	}
	if len(t.ids) >= size {
		return Reply{}, fmt.Errorf("runtime: chat: the conversation takes %d tokens, the context holds %d; reset it: %w",
			len(t.ids), size, ErrContextFull)
	}
	if err := c.attach(); err != nil {
		return Reply{}, err
	}
	defer c.detach()
	var st Stats
	start := time.Now()
	logits, err := c.prefill(ctx, t.ids, &st)
	st.Prefill = time.Since(start)
	if err != nil {
		c.total.add(st)
		return Reply{Stop: StopCancelled, Stats: st}, err
	}

	r := replyBuilder{dec: c.enc.Tokenizer().NewDecoder(), fn: fn}
	// Some templates open the think block in the generation prompt.
	r.thinking = c.thinkOpen >= 0 && strings.HasSuffix(strings.TrimRight(t.prompt, "\n"), "<think>")
	start, shifts := time.Now(), st.Prefill
	stop, err := c.decode(ctx, logits, &r, &st, &t)
	st.Decode = time.Since(start) - (st.Prefill - shifts) // a shift's prefill counts as prefill
	if err == nil {
		err = r.flush()
	}
	c.total.add(st)
	reply := Reply{Content: r.content.String(), Thinking: r.reasoning.String(), Stop: stop, Stats: st}
	if stop == StopCancelled && st.GenTokens == 0 {
		return reply, err
	}
	c.msgs = append(t.msgs, tokenizer.Message{Role: "assistant", Content: reply.Content, ReasoningContent: reply.Thinking})
	c.used = len(c.cached)
	return reply, err
}

// chatTurn is the conversation of one Send, without the system prompt and
// ending with the new user message, and its rendered prompt.
type chatTurn struct {
	msgs   []tokenizer.Message
	ids    []int32
	prompt string
	con    Constraint // the answer's constraint, if any
}

// render sets t's prompt from its messages and the system prompt.
func (c *Chat) render(t *chatTurn) error {
	msgs := t.msgs
	if c.system != "" {
		msgs = append([]tokenizer.Message{{Role: "system", Content: c.system}}, msgs...)
	}
	thinking := c.thinking
	ids, prompt, err := c.enc.Encode(msgs, tokenizer.ChatOptions{AddGenerationPrompt: true, EnableThinking: &thinking})
	if err != nil {
		return fmt.Errorf("runtime: chat: %w", err)
	}
	if len(ids) == 0 {
		return errors.New("runtime: chat: the chat template rendered an empty prompt")
	}
	t.ids, t.prompt = ids, prompt
	return nil
}

// dropTurns shifts the context: it drops t's oldest turns (a user message
// and the replies up to the next one), never the last user message, until
// its prompt and extra more tokens take at most half of the context. It
// reports whether any turn was dropped.
//
// The kept conversation is rendered and evaluated again rather than its
// keys moved in the cache (llama.cpp's shift re-rotates them): the
// template renders a shortened conversation differently from a cut of the
// longer one (earlier thinking dropped, a new first turn), the cached keys
// are rounded to the KV type after RoPE, and re-evaluating gives exactly
// the logits of a fresh chat holding the kept turns, at the cost of one
// prefill of at most half the context per shift.
func (c *Chat) dropTurns(t *chatTurn, extra int) (bool, error) {
	target := c.sess.ContextLen() / 2
	dropped := false
	for len(t.ids)+extra > target {
		next := -1 // the second user message: the start of the turns to keep
		for i := 1; i < len(t.msgs); i++ {
			if t.msgs[i].Role == "user" {
				next = i
				break
			}
		}
		if next < 0 {
			break
		}
		t.msgs = t.msgs[next:]
		dropped = true
		if err := c.render(t); err != nil {
			return dropped, err
		}
	}
	return dropped, nil
}

// prefillChunk is how many prompt tokens are evaluated between checks of
// the context's cancellation.
const prefillChunk = 64

// prefill brings the KV cache to ids, reusing its common prefix, and returns
// the logits of the last token.
func (c *Chat) prefill(ctx context.Context, ids []int32, st *Stats) ([]float32, error) {
	keep := min(commonPrefix(c.cached, ids), len(ids)-1) // evaluate at least one token for its logits
	if err := c.sess.Truncate(keep); err != nil {
		return nil, err
	}
	c.cached = c.cached[:keep]
	st.CachedTokens = keep
	var logits []float32
	for done := keep; done < len(ids); done += prefillChunk {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		part := ids[done:min(done+prefillChunk, len(ids))]
		var err error
		if logits, err = c.eval(ctx, part); err != nil {
			return nil, fmt.Errorf("runtime: chat: prompt: %w", err)
		}
		c.cached = append(c.cached, part...)
		st.PromptTokens += len(part)
	}
	return logits, nil
}

// decode samples the answer from logits on until a stop.
func (c *Chat) decode(ctx context.Context, logits []float32, r *replyBuilder, st *Stats, t *chatTurn) (StopReason, error) {
	var one [1]int32
	answerFrom := len(c.cached) // the prompt's tokens, then the answer's
	for {
		err := ctx.Err()
		if err != nil {
			return StopCancelled, err
		}
		if t.con != nil {
			if err := t.con.Mask(logits, c.tokensLeft(st)); err != nil {
				return StopCancelled, fmt.Errorf("runtime: chat: constraint: after %d tokens of the answer: %w", st.GenTokens, err)
			}
		}
		var id int32
		if c.pick != nil {
			id = c.pick(logits, c.cached)
		} else if id, err = c.sampler.Next(logits, c.cached); err != nil {
			return StopCancelled, fmt.Errorf("runtime: chat: after %d tokens of the answer: %w", st.GenTokens, err)
		}
		if containsID(c.stops, id) {
			return StopEnd, nil
		}
		if t.con != nil {
			if err := t.con.Accept(id); err != nil {
				return StopCancelled, fmt.Errorf("runtime: chat: constraint: %w", err)
			}
		}
		st.GenTokens++
		if err := r.token(c, id); err != nil {
			return StopCancelled, err
		}
		if c.maxTokens > 0 && st.GenTokens >= c.maxTokens {
			return StopLength, nil
		}
		one[0] = id
		if logits, err = c.eval(ctx, one[:]); err != nil {
			if errors.Is(err, ErrContextFull) && c.shift {
				var shifted bool
				if logits, shifted, err = c.shiftAnswer(ctx, t, append(slices.Clone(c.cached[answerFrom:]), id), st); shifted {
					answerFrom = len(t.ids)
					continue
				}
			}
			if errors.Is(err, ErrContextFull) {
				return StopContextFull, fmt.Errorf("runtime: chat: the answer filled the context of %d tokens; reset the conversation: %w",
					c.sess.ContextLen(), err)
			}
			return StopCancelled, fmt.Errorf("runtime: chat: %w", err)
		}
		c.cached = append(c.cached, id)
	}
}

// tokensLeft is how many tokens the answer may still take, this one
// included: up to MaxTokens, and, without the context shift, up to the
// context's end (whose last position still yields a token); 0 means no
// limit.
func (c *Chat) tokensLeft(st *Stats) int {
	left := 0
	if c.maxTokens > 0 {
		left = c.maxTokens - st.GenTokens
	}
	if !c.shift {
		room := c.sess.ContextLen() - c.sess.Pos() + 1
		if left == 0 || room < left {
			left = room
		}
	}
	return left
}

// shiftAnswer shifts the context in the middle of an answer: it drops the
// oldest turns of t (see dropTurns) and evaluates the kept prompt followed
// by the answer's tokens so far, returning the logits of the last. When no
// turn can be dropped it reports false with an error wrapping
// ErrContextFull.
func (c *Chat) shiftAnswer(ctx context.Context, t *chatTurn, answer []int32, st *Stats) ([]float32, bool, error) {
	full := fmt.Errorf("runtime: chat: %d tokens at position %d exceed the context of %d: %w", 1, c.sess.Pos(), c.sess.ContextLen(), ErrContextFull)
	dropped, err := c.dropTurns(t, len(answer))
	if err != nil {
		return nil, false, err
	}
	if !dropped || len(t.ids)+len(answer) >= c.sess.ContextLen() {
		return nil, false, full
	}
	start := time.Now()
	logits, err := c.prefill(ctx, append(slices.Clone(t.ids), answer...), st)
	st.Prefill += time.Since(start)
	if err != nil {
		return nil, false, err
	}
	return logits, true, nil
}

// replyBuilder splits generated tokens into thinking and answer text,
// dropping the newlines that open and close each part.
type replyBuilder struct {
	dec                *tokenizer.Decoder
	fn                 func(Chunk) error
	thinking           bool   // inside <think>…</think>
	started            bool   // the current part has text
	pendingNL          string // newlines held back until more text follows
	content, reasoning strings.Builder
}

func (r *replyBuilder) token(c *Chat, id int32) error {
	switch {
	case id == c.thinkOpen || id == c.thinkClose:
		if err := r.flush(); err != nil {
			return err
		}
		r.thinking = id == c.thinkOpen
		r.started, r.pendingNL = false, ""
		return nil
	case c.enc.Tokenizer().IsSpecial(id):
		return nil // control tokens have no text to show
	}
	return r.text(r.dec.Add(id))
}

// flush emits text the decoder held back.
func (r *replyBuilder) flush() error { return r.text(r.dec.Flush()) }

func (r *replyBuilder) text(s string) error {
	if !r.started {
		s = strings.TrimLeft(s, "\n")
		r.started = s != ""
	}
	body := strings.TrimRight(s, "\n")
	if body == "" {
		r.pendingNL += s
		return nil
	}
	out := r.pendingNL + body
	r.pendingNL = s[len(body):]
	if r.thinking {
		r.reasoning.WriteString(out)
	} else {
		r.content.WriteString(out)
	}
	if r.fn == nil {
		return nil
	}
	return r.fn(Chunk{Text: out, Thinking: r.thinking})
}
