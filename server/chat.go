package server

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"time"

	mrand "math/rand/v2"

	"github.com/q3m/q3m/grammar"
	"github.com/q3m/q3m/runtime"
	"github.com/q3m/q3m/tokenizer"
)

// job is a generation prepared from a request: the engine's request and
// how to read the output.
type job struct {
	id           string
	req          Request
	raw          bool // completions: plain text
	tools        bool // parse tool calls
	stops        []string
	reasoning    bool     // the prompt opened the think block
	forced       string   // the prompt opened a tool call with this text after <tool_call>
	xml          xmlTools // Qwen3-Coder's XML tool calls: the tools' parameter kinds
	stream       bool
	includeUsage bool
}

// chatJob renders a chat request's prompt and settings.
func (s *Server) chatJob(r *chatRequest) (*job, *apiError) {
	choice, e := r.toolChoice()
	if e != nil {
		return nil, e
	}
	thinking := r.thinking()
	forced := ""
	switch {
	case choice.kind == toolRequired && s.coder:
		forced = "\n" + tagFunctionOpen
	case choice.kind == toolNamed && s.coder:
		forced = "\n" + tagFunctionOpen + choice.name + ">\n"
	case choice.kind == toolRequired:
		forced = "\n{\"name\": \""
	case choice.kind == toolNamed:
		forced = "\n{\"name\": \"" + choice.name + "\", \"arguments\": "
	}
	var g *grammar.Grammar
	switch {
	case forced != "" && s.coder:
		if g, e = r.xmlToolGrammar(choice); e != nil {
			return nil, e
		}
	case forced != "":
		if g, e = r.toolGrammar(choice); e != nil {
			return nil, e
		}
	case r.format != nil:
		g = r.format
	}
	if g != nil {
		// A forced call opens the answer, and JSON output is constrained
		// from the first token: there is no room to think first.
		thinking = false
	}
	opt := tokenizer.ChatOptions{AddGenerationPrompt: true, EnableThinking: &thinking}
	if choice.kind != toolNone {
		for _, t := range r.Tools {
			opt.Tools = append(opt.Tools, t.raw)
		}
	}
	ids, text, err := s.enc.Encode(r.messages(), opt)
	if err != nil {
		return nil, invalid("messages", "rendering the chat template: %v", err)
	}
	if forced != "" {
		ids = append(ids, s.tok.EncodeSpecial(tagCallOpen)...)
		ids = append(ids, s.tok.Encode(forced)...)
	}
	j := &job{
		id:     "chatcmpl-" + randomID(),
		tools:  choice.kind != toolNone,
		stops:  r.Stop,
		forced: forced,
		stream: r.Stream,
		// Some templates open the think block in the generation prompt.
		reasoning: forced == "" && strings.HasSuffix(strings.TrimRight(text, "\n"), tagThinkOpen),
	}
	if s.coder && j.tools {
		j.xml = newXMLTools(r.Tools)
	}
	j.includeUsage = r.Stream && r.StreamOptions != nil && r.StreamOptions.IncludeUsage
	if e := s.prepare(j, ids, &r.samplingFields, thinking); e != nil {
		return nil, e
	}
	if g != nil {
		v, err := s.vocab()
		if err != nil {
			return nil, &apiError{Status: http.StatusInternalServerError, Type: "server_error", Message: err.Error()}
		}
		j.req.Constraint = grammar.NewMatcher(g, v)
	}
	return j, nil
}

// prepare fills the engine request of j.
func (s *Server) prepare(j *job, ids []int32, f *samplingFields, thinking bool) *apiError {
	if len(ids) == 0 {
		return invalid("messages", "the prompt is empty")
	}
	if n := s.eng.ContextLen(); len(ids) >= n {
		return invalid("messages", "the prompt has %d tokens; the context holds %d, and one must be left for the answer", len(ids), n).
			withCode("context_length_exceeded")
	}
	j.req = Request{Prompt: ids, Stops: s.stops, MaxTokens: s.opt.MaxTokens}
	if f.MaxTokens != nil {
		j.req.MaxTokens = *f.MaxTokens
	}
	j.req.Sampling, j.req.FrequencyPenalty = s.sampling(f, thinking)
	j.req.IgnoreStops = f.IgnoreEOS
	return nil
}

// sampling resolves the sampler settings: the request's fields, else the
// server's defaults, else Qwen3's recommendation for the thinking mode.
func (s *Server) sampling(f *samplingFields, thinking bool) (runtime.SamplerOptions, float32) {
	o := runtime.DefaultSampling(thinking)
	d := s.opt.Sampling
	pick := func(dst *float32, req, def *float64) {
		if req != nil {
			*dst = float32(*req)
		} else if def != nil {
			*dst = float32(*def)
		}
	}
	pick(&o.Temperature, f.Temperature, d.Temperature)
	pick(&o.TopP, f.TopP, d.TopP)
	pick(&o.MinP, f.MinP, d.MinP)
	pick(&o.PresencePenalty, f.PresencePenalty, d.PresencePenalty)
	pick(&o.RepetitionPenalty, f.RepetitionPenalty, d.RepetitionPenalty)
	var freq float32
	pick(&freq, f.FrequencyPenalty, d.FrequencyPenalty)
	if f.TopK != nil {
		o.TopK = *f.TopK
	} else if d.TopK != nil {
		o.TopK = *d.TopK
	}
	if f.Seed != nil {
		o.Seed = uint64(*f.Seed)
	} else {
		o.Seed = mrand.Uint64()
	}
	return o, freq
}

// run generates j, passing the parsed output to emit as it comes; emit
// returns false when the client is gone. It returns the engine's result
// and the parser, which knows the tool calls and whether a stop string
// ended the output.
func (s *Server) run(r *http.Request, j *job, emit func([]event) bool) (Result, *outputParser, *apiError) {
	p := newOutputParser(j.tools, j.stops, j.reasoning, j.forced)
	p.raw, p.xml = j.raw, j.xml
	dec := s.tok.NewDecoder()
	ok := true
	res, e := s.generate(r.Context(), j.req, func(id int32) bool {
		if s.tok.IsSpecial(id) {
			return true // control tokens have no text to show
		}
		if evs := p.feed(dec.Add(id)); len(evs) > 0 {
			ok = emit(evs)
		}
		return ok && !p.stopped
	})
	if e != nil {
		return res, p, e
	}
	evs := slices.Clone(p.feed(dec.Flush())) // finish reuses the parser's buffer
	evs = append(evs, p.finish()...)
	if len(evs) > 0 && ok {
		emit(evs)
	}
	return res, p, nil
}

// finishReason names why the answer ended, as OpenAI does.
func finishReason(res Result, p *outputParser) string {
	switch {
	case res.Finish == FinishLength && !p.stopped:
		return "length"
	case p.calls > 0:
		return "tool_calls"
	}
	return "stop"
}

func usageOf(res Result) *usage {
	return &usage{PromptTokens: res.PromptTokens, CompletionTokens: res.GenTokens,
		TotalTokens: res.PromptTokens + res.GenTokens, PromptDetails: &promptDetails{CachedTokens: res.CachedTokens}}
}

func randomID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *Server) handleChat(w http.ResponseWriter, r *http.Request, body []byte) {
	req, e := decodeChatRequest(body)
	if e != nil {
		writeError(w, e)
		return
	}
	j, e := s.chatJob(req)
	if e != nil {
		writeError(w, e)
		return
	}
	if j.stream {
		s.streamChat(w, r, j)
		return
	}
	var content, reasoning strings.Builder
	var calls []respToolCall
	res, p, e := s.run(r, j, func(evs []event) bool {
		for _, ev := range evs {
			switch ev.kind {
			case evContent:
				content.WriteString(ev.text)
			case evReasoning:
				reasoning.WriteString(ev.text)
			case evCallStart:
				calls = append(calls, newRespToolCall(&toolCall{Name: ev.text}))
			case evCallArgs:
				calls[len(calls)-1].Function.Arguments += ev.text
			case evToolCall:
				calls = append(calls, newRespToolCall(ev.call))
			}
		}
		return true
	})
	if e != nil {
		writeError(w, e)
		return
	}
	msg := respMessage{Role: "assistant", ReasoningContent: reasoning.String(), ToolCalls: calls}
	if c := content.String(); c != "" || len(calls) == 0 {
		msg.Content = &c
	}
	writeJSON(w, http.StatusOK, chatResponse{
		ID: j.id, Object: "chat.completion", Created: time.Now().Unix(), Model: s.opt.ModelName,
		SystemFingerprint: fingerprint,
		Choices:           []respChoice{{Index: 0, Message: msg, FinishReason: finishReason(res, p)}},
		Usage:             usageOf(res),
	})
}

func newRespToolCall(c *toolCall) respToolCall {
	var t respToolCall
	t.ID, t.Type = "call_"+randomID(), "function"
	t.Function.Name, t.Function.Arguments = c.Name, c.Arguments
	return t
}

// callHead is the delta that begins tool call i.
func callHead(i int, name string) chatDelta {
	d := toolCallDelta{Index: i, ID: "call_" + randomID(), Type: "function"}
	d.Function.Name = name
	return chatDelta{ToolCalls: []toolCallDelta{d}}
}

// callArgs is a delta adding to the arguments of tool call i.
func callArgs(i int, args string) chatDelta {
	d := toolCallDelta{Index: i}
	d.Function.Arguments = args
	return chatDelta{ToolCalls: []toolCallDelta{d}}
}

// streamChat answers j as server-sent events.
func (s *Server) streamChat(w http.ResponseWriter, r *http.Request, j *job) {
	sse := newSSE(w)
	created := time.Now().Unix()
	chunk := func(d chatDelta, finish *string) chatChunk {
		return chatChunk{ID: j.id, Object: "chat.completion.chunk", Created: created, Model: s.opt.ModelName,
			SystemFingerprint: fingerprint, Choices: []chunkChoice{{Index: 0, Delta: d, FinishReason: finish}}}
	}
	ncalls := 0
	res, p, e := s.run(r, j, func(evs []event) bool {
		if !sse.started {
			empty := ""
			sse.send(chunk(chatDelta{Role: "assistant", Content: &empty}, nil))
		}
		for _, ev := range evs {
			text := ev.text
			switch ev.kind {
			case evContent:
				sse.send(chunk(chatDelta{Content: &text}, nil))
			case evReasoning:
				sse.send(chunk(chatDelta{ReasoningContent: &text}, nil))
			// OpenAI's incremental form: a call's id and name, then pieces
			// of its arguments.
			case evCallStart:
				sse.send(chunk(callHead(ncalls, ev.text), nil))
				ncalls++
			case evCallArgs:
				sse.send(chunk(callArgs(ncalls-1, ev.text), nil))
			case evToolCall:
				sse.send(chunk(callHead(ncalls, ev.call.Name), nil))
				sse.send(chunk(callArgs(ncalls, ev.call.Arguments), nil))
				ncalls++
			}
		}
		return sse.err == nil
	})
	if e != nil {
		if !sse.started {
			writeError(w, e)
			return
		}
		sse.send(map[string]*apiError{"error": e})
		return
	}
	if !sse.started {
		empty := ""
		sse.send(chunk(chatDelta{Role: "assistant", Content: &empty}, nil))
	}
	fr := finishReason(res, p)
	sse.send(chunk(chatDelta{}, &fr))
	if j.includeUsage {
		sse.send(chatChunk{ID: j.id, Object: "chat.completion.chunk", Created: created, Model: s.opt.ModelName,
			SystemFingerprint: fingerprint, Choices: []chunkChoice{}, Usage: usageOf(res)})
	}
	sse.done()
}
