package server

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/q3m/q3m/grammar"
)

// The grammar of a forced Qwen3-Coder call: after the opening the prompt
// forces (<tool_call>\n<function= for required, the whole function tag
// for a named one), the function's name among the tools, then its
// parameters in schema order — each required one, each optional one or
// not — each value raw text for a string parameter and JSON valid for its
// schema otherwise, then the closing tags.
const (
	xmlParamEnd = "\n" + tagParamClose + "\n"
	xmlCallEnd  = tagFunctionClose + "\n" + tagCallClose
)

// xmlParam is a declared parameter of a tool, in schema order.
type xmlParamDef struct {
	name     string
	schema   json.RawMessage
	required bool
}

// xmlToolGrammar is the grammar of what the model writes after the forced
// opening of a Qwen3-Coder call (see chatJob).
func (r *chatRequest) xmlToolGrammar(c toolChoice) (*grammar.Grammar, *apiError) {
	if c.kind == toolNamed {
		for i, t := range r.Tools {
			if t.Name == c.name {
				return xmlArguments(i, &t)
			}
		}
		return nil, invalid("tool_choice", "tool_choice names function %q, which is not among the tools", c.name)
	}
	var prefixes []string
	var thens []*grammar.Grammar
	seen := map[string]bool{}
	size := 0
	for i := range r.Tools {
		t := &r.Tools[i]
		if seen[t.Name] {
			return nil, invalid(fmt.Sprintf("tools[%d].function.name", i), "tool name %q repeated", t.Name)
		}
		seen[t.Name] = true
		g, e := xmlArguments(i, t)
		if e != nil {
			return nil, e
		}
		if size += g.Size(); size > maxToolNodes {
			return nil, invalid("tools", "the tools' parameter schemas are too large to constrain together (%d grammar nodes at tools[%d]; at most %d)", size, i, maxToolNodes)
		}
		prefixes = append(prefixes, t.Name+">\n")
		thens = append(thens, g)
	}
	g, err := grammar.Switch(prefixes, thens)
	if err != nil {
		return nil, invalid("tools", "%v", err)
	}
	return g, nil
}

// xmlArguments is the grammar of tool i's parameters and the call's close.
func xmlArguments(i int, t *toolDef) (*grammar.Grammar, *apiError) {
	field := fmt.Sprintf("tools[%d].function.parameters", i)
	params, err := xmlParams(t.Parameters)
	if err != nil {
		return nil, invalid(field, "%v", err)
	}
	text, err := grammar.Text("\n"+tagParamClose, tagParamClose, tagParamOpen, tagFunctionClose, tagCallClose)
	if err != nil {
		return nil, invalid(field, "%v", err)
	}
	// rest[k] is the grammar from parameter k on; then[k] the value of
	// parameter k followed by rest[k+1].
	n := len(params)
	rest := make([]*grammar.Grammar, n+1)
	then := make([]*grammar.Grammar, n)
	rest[n] = grammar.Literal(xmlCallEnd)
	for k := n - 1; k >= 0; k-- {
		p := params[k]
		var value *grammar.Grammar
		if kindOf(p.schema).str {
			value, err = grammar.Seq(text, grammar.Literal("\n"))
		} else {
			var js *grammar.Grammar
			if js, err = grammar.Schema(p.schema); err == nil {
				value, err = grammar.Seq(js, grammar.Literal(xmlParamEnd))
			}
		}
		if err == nil {
			then[k], err = grammar.Seq(value, rest[k+1])
		}
		if err != nil {
			return nil, invalid(field+".properties."+p.name, "%v", err)
		}
		// From k: any parameter up to and including the first required
		// one, or the close when none is required from k on.
		var prefixes []string
		var conts []*grammar.Grammar
		required := false
		for j := k; j < n && !required; j++ {
			prefixes = append(prefixes, tagParamOpen+params[j].name+">\n")
			conts = append(conts, then[j])
			required = params[j].required
		}
		if !required {
			prefixes = append(prefixes, xmlCallEnd)
			conts = append(conts, nil)
		}
		if rest[k], err = grammar.Switch(prefixes, conts); err != nil {
			return nil, invalid(field, "%v", err)
		}
		if rest[k].Size() > maxToolNodes {
			return nil, invalid(field, "the parameter schemas are too large to constrain (%d grammar nodes; at most %d)", rest[k].Size(), maxToolNodes)
		}
	}
	return rest[0], nil
}

// xmlParams reads the properties of a parameters schema in their order,
// with the required ones marked.
func xmlParams(raw json.RawMessage) ([]xmlParamDef, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var s struct {
		Type       string          `json:"type"`
		Properties json.RawMessage `json:"properties"`
		Required   []string        `json:"required"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("parameters must be the schema of an object: %v", err)
	}
	if s.Type != "" && s.Type != "object" {
		return nil, fmt.Errorf("parameters must be the schema of an object ({\"type\": \"object\", …}), got type %q", s.Type)
	}
	req := map[string]bool{}
	for _, r := range s.Required {
		req[r] = true
	}
	var out []xmlParamDef
	if len(bytes.TrimSpace(s.Properties)) == 0 || string(bytes.TrimSpace(s.Properties)) == "null" {
		if len(req) > 0 {
			return nil, fmt.Errorf("required parameters without properties")
		}
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(s.Properties))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("properties must be an object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("properties: %v", err)
		}
		name := tok.(string) // an object's keys are strings
		var schema json.RawMessage
		if err := dec.Decode(&schema); err != nil {
			return nil, fmt.Errorf("properties.%s: %v", name, err)
		}
		if seen[name] {
			return nil, fmt.Errorf("properties: %q repeated", name)
		}
		if name == "" || len(name) > maxXMLName || !validXMLName(name) {
			return nil, fmt.Errorf("properties: parameter name %q cannot be written in a Qwen3-Coder call (1 to %d bytes, no '<', '>' or newline)", name, maxXMLName)
		}
		seen[name] = true
		out = append(out, xmlParamDef{name: name, schema: schema, required: req[name]})
	}
	for r := range req {
		if !seen[r] {
			return nil, fmt.Errorf("required parameter %q is not among the properties", r)
		}
	}
	return out, nil
}

// validXMLName reports whether a parameter name reads back from its tag.
func validXMLName(s string) bool {
	for i := range len(s) {
		if s[i] == '<' || s[i] == '>' || s[i] == '\n' || s[i] == '\r' {
			return false
		}
	}
	return true
}
