package server

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// Qwen3-Coder's tool calls are XML, one parameter a block:
//
//	<tool_call>
//	<function=NAME>
//	<parameter=P>
//	VALUE
//	</parameter>
//	</function>
//	</tool_call>
//
// A value is raw text; it becomes a JSON value by the type the function's
// parameter schema gives it, as Qwen's own parser (vLLM's
// qwen3coder_tool_parser) and llama.cpp's qwen3-coder handler read it: a
// string parameter keeps the text, any other type takes the text as JSON
// (or as the Python literal the template renders objects as), falling back
// to the text as a string when it is neither. A string parameter whose
// schema admits null reads "null" (vLLM's reading) and "None" (what the
// template prints for null) as null; other string parameters keep the text,
// as llama.cpp does.
const (
	tagFunctionOpen  = "<function="
	tagFunctionClose = "</function>"
	tagParamOpen     = "<parameter="
	tagParamClose    = "</parameter>"
)

// maxXMLName bounds a function or parameter name in the markup; a longer
// one is not markup.
const maxXMLName = 256

// paramKind is how a parameter's text becomes its JSON value.
type paramKind struct {
	str      bool // the schema admits a string: the text is the value
	nullable bool // a string parameter whose schema admits null: "null" and "None" are null
}

// xmlTools holds the parameter kinds of a request's tools, by function and
// parameter name, for reading Qwen3-Coder calls.
type xmlTools map[string]map[string]paramKind

// newXMLTools reads the tools' parameter schemas.
func newXMLTools(tools []toolDef) xmlTools {
	x := make(xmlTools, len(tools))
	for _, t := range tools {
		params := map[string]paramKind{}
		var schema struct {
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if json.Unmarshal(t.Parameters, &schema) == nil {
			for name, ps := range schema.Properties {
				params[name] = kindOf(ps)
			}
		}
		x[t.Name] = params
	}
	return x
}

// kindOf classifies a parameter schema: a string one when its type is or
// includes "string", when one of its anyOf/oneOf alternatives is, or when
// it has no type but an enum or const of strings only.
func kindOf(raw json.RawMessage) paramKind {
	var s struct {
		Type  json.RawMessage   `json:"type"`
		AnyOf []json.RawMessage `json:"anyOf"`
		OneOf []json.RawMessage `json:"oneOf"`
		Enum  []json.RawMessage `json:"enum"`
		Const json.RawMessage   `json:"const"`
	}
	if json.Unmarshal(raw, &s) != nil {
		return paramKind{}
	}
	var k paramKind
	var one string
	var many []string
	switch {
	case json.Unmarshal(s.Type, &one) == nil:
		k.str = one == "string"
	case json.Unmarshal(s.Type, &many) == nil:
		for _, t := range many {
			k.str = k.str || t == "string"
			k.nullable = k.nullable || t == "null"
		}
	case len(s.Type) == 0 && len(s.Enum) > 0:
		k.str = true
		for _, e := range s.Enum {
			k.str = k.str && len(e) > 0 && e[0] == '"'
		}
	case len(s.Type) == 0 && len(s.Const) > 0:
		k.str = s.Const[0] == '"'
	}
	for _, alt := range append(s.AnyOf, s.OneOf...) {
		a := kindOf(alt)
		k.str = k.str || a.str
		var t struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(alt, &t) == nil && t.Type == "null" {
			k.nullable = true
		}
	}
	k.nullable = k.nullable && k.str
	return k
}

// paramJSON converts a parameter's text (its one opening and closing
// newline already removed) to the JSON text of its value.
func (x xmlTools) paramJSON(fn, param, text string) string {
	k, known := x[fn][param]
	if !known || k.str {
		if k.nullable && (text == "null" || text == "None") {
			return "null"
		}
		return jsonString(text)
	}
	t := strings.TrimSpace(text)
	if json.Valid([]byte(t)) {
		var b bytes.Buffer
		if json.Compact(&b, []byte(t)) == nil {
			return b.String()
		}
	}
	if v, ok := pyLiteralJSON(t); ok {
		return v
	}
	return jsonString(text)
}

// jsonString returns s as a JSON string, without escaping <, > and &.
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// xmlState is where a Qwen3-Coder call's reading is.
type xmlState int

const (
	xHeader    xmlState = iota // before <function=NAME>
	xParams                    // between parameters
	xValue                     // inside a parameter's value
	xAfterFunc                 // after </function>, before </tool_call>
)

// xmlCall is the state of the call being read.
type xmlCall struct {
	state xmlState
	bare  bool   // opened by <function= without <tool_call>
	fn    string // the function's name, once read
	param string // the parameter being read (xValue)
	// searched is how much of the value held has been searched for its end.
	searched int
	// A string value being streamed: its key and quote are sent (open),
	// and sent bytes of its text.
	open bool
	sent int
	args int // parameters emitted
}

// scanXMLCall reads the Qwen3-Coder call in p.hold as far as it can,
// emitting its start once the name is read and each parameter as it
// closes. It reports whether the call ended (the parser is then back in
// content) or more text is needed.
func (p *outputParser) scanXMLCall(final bool) bool {
	c := &p.xcall
	for {
		switch c.state {
		case xHeader:
			s := strings.TrimLeft(p.hold, " \t\r\n")
			if len(s) < len(tagFunctionOpen) && strings.HasPrefix(tagFunctionOpen, s) && !final {
				return false
			}
			if !strings.HasPrefix(s, tagFunctionOpen) {
				p.notXMLCall()
				return true
			}
			j := strings.IndexByte(s, '>')
			if j < 0 && len(s) <= len(tagFunctionOpen)+maxXMLName && !final {
				return false
			}
			name := ""
			if j >= 0 {
				name = s[len(tagFunctionOpen):j]
			}
			if name == "" || len(name) > maxXMLName || strings.ContainsAny(name, "<\n") {
				p.notXMLCall()
				return true
			}
			c.fn, c.state, c.args = name, xParams, 0
			p.hold = s[j+1:]
			p.calls++
			p.streaming = true
			p.out = append(p.out, event{kind: evCallStart, text: name})
		case xParams:
			i, tag := firstTag(p.hold, []string{tagParamOpen, tagFunctionClose, tagCallClose})
			switch {
			case i < 0:
				if final {
					p.endXMLCall("")
					return true
				}
				keep := partialSuffix(p.hold, []string{tagParamOpen, tagFunctionClose, tagCallClose})
				p.hold = p.hold[len(p.hold)-keep:]
				return false
			case tag == tagParamOpen:
				rest := p.hold[i+len(tag):]
				j := strings.IndexByte(rest, '>')
				if j < 0 {
					if final || len(rest) > maxXMLName {
						p.endXMLCall("")
						return true
					}
					p.hold = p.hold[i:]
					return false
				}
				c.param, c.state = rest[:j], xValue
				p.hold = rest[j+1:]
			case tag == tagFunctionClose:
				p.hold = p.hold[i+len(tag):]
				c.state = xAfterFunc
			default:
				p.endXMLCall(p.hold[i+len(tag):])
				return true
			}
		case xValue:
			// A value grows a token at a time: search only the text not
			// searched yet, and the tail of a tag that may end in it.
			tags := []string{tagParamClose, tagParamOpen, tagFunctionClose, tagCallClose}
			from := max(0, c.searched-len(tagParamClose)+1)
			i, tag := firstTag(p.hold[from:], tags)
			if i < 0 {
				if final {
					// Cut short: the value is what was written before a
					// tag that had begun.
					v := p.hold
					p.xmlParam(v[:len(v)-partialSuffix(v, append(tags, "\n"+tagParamClose))])
					p.endXMLCall("")
					return true
				}
				c.searched = len(p.hold)
				p.streamParam(partialSuffix(p.hold, append(tags, "\n"+tagParamClose)))
				return false
			}
			i += from
			c.searched = 0
			p.xmlParam(p.hold[:i])
			if tag == tagParamClose {
				i += len(tag)
			}
			p.hold = p.hold[i:]
			c.state = xParams
		case xAfterFunc:
			s := strings.TrimLeft(p.hold, " \t\r\n")
			if rest, ok := strings.CutPrefix(s, tagCallClose); ok {
				p.endXMLCall(rest)
				return true
			}
			if strings.HasPrefix(tagCallClose, s) && !final {
				return false
			}
			p.endXMLCall(p.hold) // the model left out </tool_call>
			return true
		}
	}
}

// notXMLCall shows the tag that opened what is not a call as text and
// reads what follows it as content again.
func (p *outputParser) notXMLCall() {
	tag := tagCallOpen
	if p.xcall.bare {
		tag = tagFunctionOpen
		p.hold = strings.TrimPrefix(p.hold, tag)
	}
	p.xcall = xmlCall{}
	p.mode, p.partState = modeContent, p.before
	p.content(tag)
}

// xmlParam emits the parameter being read with its text.
func (p *outputParser) xmlParam(text string) {
	c := &p.xcall
	text = strings.TrimPrefix(text, "\n")
	text = strings.TrimSuffix(text, "\n")
	if c.open {
		p.out = append(p.out, event{kind: evCallArgs, text: jsonStringBody(text[c.sent:]) + `"`})
		c.open, c.sent = false, 0
		return
	}
	p.out = append(p.out, event{kind: evCallArgs, text: p.paramKey() + p.xml.paramJSON(c.fn, c.param, text)})
}

// paramKey is what precedes the value of the parameter being read in the
// arguments: the object's brace or a comma, and the key.
func (p *outputParser) paramKey() string {
	c := &p.xcall
	sep := ", "
	if c.args == 0 {
		sep = "{"
	}
	c.args++
	return sep + jsonString(c.param) + ": "
}

// streamParam sends what can be told of a string parameter's value while
// it is still being written: its key and opening quote, then its text up
// to what may still be the end's markup (the last held bytes), the newline
// that may come before </parameter>, or a character not yet whole. Values
// of other types, and strings that may be null, are sent whole when they
// end.
func (p *outputParser) streamParam(held int) {
	c := &p.xcall
	if k, known := p.xml[c.fn][c.param]; known && (!k.str || k.nullable) || p.hold == "" {
		return
	}
	v := strings.TrimPrefix(p.hold[:len(p.hold)-held], "\n")
	v = strings.TrimSuffix(v, "\n") // perhaps the one before the closing tag
	for n := 0; n < utf8.UTFMax && len(v) > c.sent && !utf8.ValidString(v[c.sent:]); n++ {
		v = v[:len(v)-1] // a character still being written
	}
	if !c.open {
		p.out = append(p.out, event{kind: evCallArgs, text: p.paramKey() + `"`})
		c.open = true
	}
	if len(v) > c.sent {
		p.out = append(p.out, event{kind: evCallArgs, text: jsonStringBody(v[c.sent:])})
		c.sent = len(v)
	}
}

// jsonStringBody is s as it reads between the quotes of a JSON string.
func jsonStringBody(s string) string {
	q := jsonString(s)
	return q[1 : len(q)-1]
}

// endXMLCall closes the arguments of the call and goes back to content
// with rest.
func (p *outputParser) endXMLCall(rest string) {
	close := "}"
	if p.xcall.args == 0 {
		close = "{}"
	}
	p.out = append(p.out, event{kind: evCallArgs, text: close})
	p.xcall = xmlCall{}
	p.streaming = false
	p.setMode(modeContent)
	p.hold = rest
}
