package server

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/q3m/q3m/grammar"
)

// Constrained decoding: response_format json_object / json_schema, and
// tool_choice required / a named function, whose call's JSON the grammar
// writes after the opening the prompt forces (see chatJob). Constrained
// requests do not think: the template's thinking is switched off, so the
// constraint applies from the answer's first token.

// Constraint restricts the tokens of a generation. Mask is called before
// each token is sampled, with the tokens left (this one included), and
// sets the logits of forbidden tokens to -Inf; Accept is called with the
// token chosen; Complete reports whether the text may end here (a
// generation that reaches max_tokens then finishes "stop", not "length").
// A grammar.Matcher is one.
type Constraint interface {
	Mask(logits []float32, remaining int) error
	Accept(id int32) error
	Complete() bool
}

// responseFormat is the request's response_format.
type responseFormat struct {
	Type       string `json:"type"`
	JSONSchema *struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Schema      json.RawMessage `json:"schema"`
		Strict      *bool           `json:"strict"`
	} `json:"json_schema"`
}

// parseResponseFormat compiles response_format: nil for text or none.
func parseResponseFormat(raw json.RawMessage) (*grammar.Grammar, *apiError) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var rf responseFormat
	if err := json.Unmarshal(raw, &rf); err != nil {
		return nil, invalid("response_format", "response_format must be {\"type\": \"text\" | \"json_object\" | \"json_schema\", …}: %v", err)
	}
	switch rf.Type {
	case "text":
		return nil, nil
	case "json_object":
		return grammar.JSONObject(), nil
	case "json_schema":
		js := rf.JSONSchema
		if js == nil {
			return nil, invalid("response_format.json_schema", "response_format json_schema needs a json_schema object with a name and a schema")
		}
		if !validName(js.Name) {
			return nil, invalid("response_format.json_schema.name", "json_schema name %q must be 1 to 64 letters, digits, _ or -", js.Name)
		}
		schema := bytes.TrimSpace(js.Schema)
		if len(schema) == 0 || string(schema) == "null" {
			return grammar.JSONObject(), nil
		}
		g, err := grammar.Schema(schema)
		if err != nil {
			return nil, invalid("response_format.json_schema.schema", "%v", err)
		}
		return g, nil
	}
	return nil, invalid("response_format.type", "response_format type must be text, json_object or json_schema, got %q", rf.Type)
}

// maxToolNodes bounds the grammar of tool_choice required, over all tools,
// so that many tools cannot make a request's memory unbounded.
const maxToolNodes = 20000

// callClose is what follows a tool call's arguments: the call object's
// brace and the closing tag.
const callClose = "}\n" + tagCallClose

// toolGrammar is the grammar of what the model writes after the forced
// opening of a tool call: for a named function its arguments and the
// close; for required, the name of one of the tools, then its arguments.
func (r *chatRequest) toolGrammar(c toolChoice) (*grammar.Grammar, *apiError) {
	args := func(i int) (*grammar.Grammar, *apiError) {
		g, err := r.Tools[i].arguments()
		if err != nil {
			return nil, invalid(fmt.Sprintf("tools[%d].function.parameters", i), "%v", err)
		}
		s, err := grammar.Seq(g, grammar.Literal(callClose))
		if err != nil {
			return nil, invalid(fmt.Sprintf("tools[%d].function.parameters", i), "%v", err)
		}
		return s, nil
	}
	if c.kind == toolNamed {
		for i, t := range r.Tools {
			if t.Name == c.name {
				return args(i)
			}
		}
		return nil, invalid("tool_choice", "tool_choice names function %q, which is not among the tools", c.name)
	}
	var prefixes []string
	var thens []*grammar.Grammar
	seen := map[string]bool{}
	size := 0
	for i, t := range r.Tools {
		if seen[t.Name] {
			return nil, invalid(fmt.Sprintf("tools[%d].function.name", i), "tool name %q repeated", t.Name)
		}
		seen[t.Name] = true
		g, e := args(i)
		if e != nil {
			return nil, e
		}
		if size += g.Size(); size > maxToolNodes {
			return nil, invalid("tools", "the tools' parameter schemas are too large to constrain together (%d grammar nodes at tools[%d]; at most %d)", size, i, maxToolNodes)
		}
		prefixes = append(prefixes, t.Name+`", "arguments": `)
		thens = append(thens, g)
	}
	g, err := grammar.Switch(prefixes, thens)
	if err != nil {
		return nil, invalid("tools", "%v", err)
	}
	return g, nil
}

// arguments compiles the tool's parameters schema, which must describe an
// object; no parameters means an empty argument object, as OpenAI reads
// it, and the empty schema {} any object.
func (t *toolDef) arguments() (*grammar.Grammar, error) {
	p := bytes.TrimSpace(t.Parameters)
	if len(p) == 0 || string(p) == "null" {
		p = []byte(`{"type": "object", "properties": {}}`)
	}
	g, err := grammar.Schema(p)
	if err != nil {
		return nil, err
	}
	if !g.OnlyObjects() {
		var v map[string]json.RawMessage
		if json.Unmarshal(p, &v) == nil && len(v) == 0 {
			return grammar.JSONObject(), nil
		}
		return nil, fmt.Errorf("parameters must be the schema of an object ({\"type\": \"object\", …})")
	}
	return g, nil
}

// vocab returns the grammar vocabulary of the server's model, built at the
// first constrained request.
func (s *Server) vocab() (*grammar.Vocab, error) {
	s.vocabOnce.Do(func() {
		s.gvocab, s.gvocabErr = grammar.NewVocab(s.tok, s.eng.Model().Config().Vocab, s.stops)
	})
	return s.gvocab, s.gvocabErr
}
