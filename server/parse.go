package server

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Qwen3's output markup: thinking inside <think>…</think> (at the start of
// the answer), tool calls as <tool_call>\n{"name": …, "arguments": …}\n</tool_call>.
const (
	tagThinkOpen  = "<think>"
	tagThinkClose = "</think>"
	tagCallOpen   = "<tool_call>"
	tagCallClose  = "</tool_call>"
)

type eventKind int

const (
	evContent   eventKind = iota
	evReasoning           // text of the thinking
	evCallStart           // a tool call begins; text is its name
	evCallArgs            // text continues the arguments of the call begun last
	evToolCall            // a whole tool call, parsed at its end
)

// event is a piece of parsed output.
type event struct {
	kind eventKind
	text string    // evContent, evReasoning, evCallStart, evCallArgs
	call *toolCall // evToolCall
}

// toolCall is a parsed call; Arguments is a JSON text.
type toolCall struct {
	Name      string
	Arguments string
}

type parseMode int

const (
	modeContent parseMode = iota
	modeReasoning
	modeTool
)

// outputParser turns the text of generated tokens, fed piece by piece, into
// content, reasoning and tool-call events. It holds back text that may be
// the start of a tag or of a stop string until it can tell. Stop strings
// apply to content only: the first one found ends the output, itself not
// emitted. Newlines that open or close a part (the thinking, the answer, the
// text between tool calls) are dropped, as Qwen3's template writes them.
type outputParser struct {
	raw      bool     // plain text: no tags, no newline trimming (completions)
	tools    bool     // parse <tool_call> blocks
	stops    []string // non-empty
	mode     parseMode
	hold     string // raw text not yet classified
	stopHold string // content held back as a possible stop-string start
	seen     bool   // content other than whitespace was emitted
	stopped  bool   // a stop string was found
	calls    int    // tool calls begun
	// A call whose header ({"name": "…", "arguments": ) has been read and
	// whose object arguments stream as they are generated.
	streaming bool
	argsAt    int    // where the arguments start in the call's text
	argsSent  string // the arguments emitted so far
	partState
	before partState // of the content before the current tool call
	out    []event
	// Qwen3-Coder's XML calls instead of Qwen3's JSON ones, when set: the
	// tools' parameter kinds, and the call being read.
	xml   xmlTools
	xcall xmlCall
}

// partState is the newline trimming of the current part.
type partState struct {
	started   bool
	pendingNL string
}

// newOutputParser returns a parser; with reasoning set it starts inside the
// thinking (the prompt opened the think block), with prefix set inside a
// tool call whose opening text after <tool_call> is prefix (the prompt
// forced the call).
func newOutputParser(tools bool, stops []string, reasoning bool, forced string) *outputParser {
	p := &outputParser{tools: tools, stops: stops}
	if reasoning {
		p.mode = modeReasoning
	}
	if forced != "" {
		p.mode, p.hold = modeTool, forced
	}
	return p
}

// feed adds generated text and returns the events it completes.
func (p *outputParser) feed(s string) []event {
	p.out = p.out[:0]
	if p.stopped {
		return nil
	}
	p.hold += s
	p.scan(false)
	return p.out
}

// finish flushes what is held back at the end of the output.
func (p *outputParser) finish() []event {
	p.out = p.out[:0]
	if p.stopped {
		return nil
	}
	p.scan(true)
	switch p.mode {
	case modeContent:
		p.content(p.hold)
	case modeReasoning:
		p.emit(evReasoning, p.hold)
	case modeTool:
		if p.streaming || p.streamCall(p.hold, true) {
			p.endCall(p.hold) // cut short: the call is what was generated
		} else {
			p.unfinishedCall(p.hold)
		}
	}
	p.hold = ""
	if !p.stopped && p.stopHold != "" {
		p.emit(evContent, p.stopHold)
		p.stopHold = ""
	}
	return p.out
}

// scan classifies p.hold as far as it can.
func (p *outputParser) scan(final bool) {
	for !p.stopped {
		switch p.mode {
		case modeContent:
			tags := p.contentTags()
			i, tag := firstTag(p.hold, tags)
			if i < 0 {
				keep := 0
				if !final {
					keep = partialSuffix(p.hold, tags)
				}
				p.content(p.hold[:len(p.hold)-keep])
				p.hold = p.hold[len(p.hold)-keep:]
				return
			}
			if tag == tagThinkOpen && strings.TrimSpace(p.hold[:i]) != "" {
				// Thinking only opens the answer; later it is text.
				p.content(p.hold[:i+len(tag)])
				p.hold = p.hold[i+len(tag):]
				continue
			}
			p.content(p.hold[:i])
			p.hold = p.hold[i+len(tag):]
			if p.stopped {
				return
			}
			p.flushStopHold()
			switch tag {
			case tagThinkOpen:
				p.setMode(modeReasoning)
			case tagFunctionOpen:
				// Qwen3-Coder may leave out the <tool_call> before it.
				p.before = p.partState
				p.setMode(modeTool)
				p.hold = tag + p.hold
				p.xcall.bare = true
			default:
				p.before = p.partState
				p.setMode(modeTool)
			}
		case modeReasoning:
			i := strings.Index(p.hold, tagThinkClose)
			if i < 0 {
				keep := 0
				if !final {
					keep = partialSuffix(p.hold, []string{tagThinkClose})
				}
				p.emit(evReasoning, p.hold[:len(p.hold)-keep])
				p.hold = p.hold[len(p.hold)-keep:]
				return
			}
			p.emit(evReasoning, p.hold[:i])
			p.hold = p.hold[i+len(tagThinkClose):]
			p.setMode(modeContent)
		case modeTool:
			if p.xml != nil {
				if !p.scanXMLCall(final) {
					return
				}
				continue
			}
			i := strings.Index(p.hold, tagCallClose)
			if i < 0 {
				p.streamCall(p.hold, final)
				return
			}
			body := p.hold[:i]
			p.hold = p.hold[i+len(tagCallClose):]
			if p.streaming || p.streamCall(body, true) {
				p.endCall(body)
				p.setMode(modeContent)
			} else if call, ok := parseToolCall(body); ok {
				p.calls++
				p.out = append(p.out, event{kind: evToolCall, call: &call})
				p.setMode(modeContent)
			} else {
				p.unfinishedCall(body + tagCallClose)
			}
		}
	}
}

// streamCall emits what can be told of the tool call in body so far: its
// start once the header is read, then the arguments, holding back the
// closing brace, whitespace and a partial </tool_call> that may follow
// them. It reports whether the call is streaming; a call whose arguments
// are not an object, or whose keys come in another order, is parsed whole
// at its end instead.
func (p *outputParser) streamCall(body string, final bool) bool {
	if !p.streaming {
		name, at, ok := callHeader(body)
		if !ok || at == len(body) || body[at] != '{' {
			return false
		}
		p.streaming, p.argsAt, p.argsSent = true, at, ""
		p.calls++
		p.out = append(p.out, event{kind: evCallStart, text: name})
	}
	args := body[p.argsAt:]
	if !final {
		args = args[:len(args)-partialSuffix(args, []string{tagCallClose})]
	}
	whole := strings.TrimRight(args, " \t\r\n")
	args = whole
	if a, ok := strings.CutSuffix(args, "}"); ok {
		args = strings.TrimRight(a, " \t\r\n")
	}
	if final && !json.Valid([]byte(args)) && json.Valid([]byte(whole)) {
		args = whole // cut short right after the arguments
	}
	if len(args) > len(p.argsSent) && strings.HasPrefix(args, p.argsSent) {
		p.out = append(p.out, event{kind: evCallArgs, text: args[len(p.argsSent):]})
		p.argsSent = args
	}
	return true
}

// endCall finishes the streaming call whose text is body.
func (p *outputParser) endCall(body string) {
	p.streamCall(body, true)
	p.streaming, p.argsSent = false, ""
}

// callHeader reads the start of a Qwen3 tool call, {"name": "…",
// "arguments": , returning the name and where the arguments begin.
func callHeader(s string) (name string, at int, ok bool) {
	i := 0
	ws := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r') {
			i++
		}
	}
	lit := func(l string) bool {
		ws()
		if !strings.HasPrefix(s[i:], l) {
			return false
		}
		i += len(l)
		return true
	}
	if !lit("{") || !lit(`"name"`) || !lit(":") || !lit(`"`) {
		return "", 0, false
	}
	j := strings.IndexAny(s[i:], `"\`)
	if j <= 0 || s[i+j] == '\\' {
		return "", 0, false
	}
	name, i = s[i:i+j], i+j+1
	if !lit(",") || !lit(`"arguments"`) || !lit(":") {
		return "", 0, false
	}
	ws()
	return name, i, true
}

// unfinishedCall shows a tool call that does not parse as the text it is,
// in the content it interrupted.
func (p *outputParser) unfinishedCall(rest string) {
	p.mode, p.partState = modeContent, p.before
	p.content(tagCallOpen + rest)
}

// contentTags are the tags recognised in content.
func (p *outputParser) contentTags() []string {
	var tags []string
	if p.raw {
		return nil
	}
	if !p.seen {
		tags = append(tags, tagThinkOpen)
	}
	if p.tools {
		tags = append(tags, tagCallOpen)
		if p.xml != nil {
			tags = append(tags, tagFunctionOpen)
		}
	}
	return tags
}

func (p *outputParser) setMode(m parseMode) {
	p.mode = m
	p.started, p.pendingNL = false, ""
}

// content passes content text through the stop-string filter.
func (p *outputParser) content(s string) {
	if s == "" || p.stopped {
		return
	}
	if len(p.stops) == 0 {
		p.emit(evContent, s)
		return
	}
	buf := p.stopHold + s
	cut := -1
	for _, stop := range p.stops {
		if i := strings.Index(buf, stop); i >= 0 && (cut < 0 || i < cut) {
			cut = i
		}
	}
	if cut >= 0 {
		p.emit(evContent, buf[:cut])
		p.stopHold, p.stopped = "", true
		return
	}
	keep := partialSuffix(buf, p.stops)
	p.emit(evContent, buf[:len(buf)-keep])
	p.stopHold = buf[len(buf)-keep:]
}

func (p *outputParser) flushStopHold() {
	if p.stopHold != "" {
		p.emit(evContent, p.stopHold)
		p.stopHold = ""
	}
}

// emit adds text to the current part, dropping its opening newlines and
// holding back trailing ones until more text follows.
func (p *outputParser) emit(k eventKind, s string) {
	if p.raw {
		p.add(k, s)
		return
	}
	if !p.started {
		s = strings.TrimLeft(s, "\n")
		p.started = s != ""
	}
	body := strings.TrimRight(s, "\n")
	if body == "" {
		p.pendingNL += s
		return
	}
	text := p.pendingNL + body
	p.pendingNL = s[len(body):]
	if k == evContent && strings.TrimSpace(text) != "" {
		p.seen = true
	}
	p.add(k, text)
}

// add appends text to the events, merging it into the last one of its kind.
func (p *outputParser) add(k eventKind, text string) {
	if text == "" {
		return
	}
	if n := len(p.out); n > 0 && p.out[n-1].kind == k {
		p.out[n-1].text += text
		return
	}
	p.out = append(p.out, event{kind: k, text: text})
}

// firstTag returns the earliest occurrence in s of any of tags.
func firstTag(s string, tags []string) (int, string) {
	at, which := -1, ""
	for _, t := range tags {
		if i := strings.Index(s, t); i >= 0 && (at < 0 || i < at) {
			at, which = i, t
		}
	}
	return at, which
}

// partialSuffix returns the length of the longest suffix of s that is a
// proper prefix of one of pats.
func partialSuffix(s string, pats []string) int {
	best := 0
	for _, p := range pats {
		for n := min(len(p)-1, len(s)); n > best; n-- {
			if strings.HasSuffix(s, p[:n]) {
				best = n
				break
			}
		}
	}
	return best
}

// parseToolCall reads the JSON body of a <tool_call> block:
// {"name": string, "arguments": object (or a string holding one)}.
func parseToolCall(body string) (toolCall, bool) {
	var raw struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	}
	dec := json.NewDecoder(strings.NewReader(body))
	if err := dec.Decode(&raw); err != nil || raw.Name == "" || dec.More() {
		return toolCall{}, false
	}
	args := bytes.TrimSpace(raw.Arguments)
	if len(args) == 0 || string(args) == "null" {
		args = []byte("{}")
	}
	if args[0] == '"' {
		var s string
		if json.Unmarshal(args, &s) != nil || !json.Valid([]byte(s)) {
			return toolCall{}, false
		}
		args = []byte(s)
	}
	return toolCall{Name: raw.Name, Arguments: string(args)}, true
}
