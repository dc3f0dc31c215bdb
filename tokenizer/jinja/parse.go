package jinja

import "fmt"

type parser struct {
	toks  []token
	pos   int
	depth int // nesting of blocks and expressions being parsed
}

// maxParseDepth bounds the nesting of blocks and expressions, so that a
// hostile template cannot exhaust the stack.
const maxParseDepth = 256

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxParseDepth {
		return p.errorf("template nested more than %d deep", maxParseDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) peek() token { return p.toks[p.pos] }
func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tkEOF {
		p.pos++
	}
	return t
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("line %d: %s", p.peek().line, fmt.Sprintf(format, args...))
}

func (p *parser) isOp(op string) bool {
	t := p.peek()
	return t.kind == tkOp && t.val == op
}

func (p *parser) isName(name string) bool {
	t := p.peek()
	return t.kind == tkName && t.val == name
}

func (p *parser) expectOp(op string) error {
	if !p.isOp(op) {
		return p.errorf("expected '%s', got %s", op, p.peek())
	}
	p.next()
	return nil
}

func (p *parser) expectName() (string, error) {
	t := p.peek()
	if t.kind != tkName {
		return "", p.errorf("expected a name, got %s", t)
	}
	p.next()
	return t.val, nil
}

func (p *parser) expectBlockEnd() error {
	if p.peek().kind != tkBlockEnd {
		return p.errorf("expected end of statement block, got %s", p.peek())
	}
	p.next()
	return nil
}

// parseBody parses nodes until a block tag whose keyword is in ends (left
// unconsumed, just after "{%") or the end of the template.
func (p *parser) parseBody(ends ...string) ([]node, string, error) {
	if err := p.enter(); err != nil {
		return nil, "", err
	}
	defer p.leave()
	var out []node
	for {
		t := p.peek()
		switch t.kind {
		case tkEOF:
			if len(ends) > 0 {
				return nil, "", p.errorf("unexpected end of template, expected '%s'", ends[0])
			}
			return out, "", nil
		case tkText:
			p.next()
			out = append(out, &textNode{t.val})
		case tkVarBegin:
			p.next()
			x, err := p.parseTuple(true)
			if err != nil {
				return nil, "", err
			}
			if p.peek().kind != tkVarEnd {
				return nil, "", p.errorf("expected end of print statement, got %s", p.peek())
			}
			p.next()
			out = append(out, &outputNode{x})
		case tkBlockBegin:
			p.next()
			kw := p.peek()
			if kw.kind != tkName {
				return nil, "", p.errorf("expected a statement name, got %s", kw)
			}
			for _, e := range ends {
				if kw.val == e {
					return out, e, nil
				}
			}
			n, err := p.parseStatement()
			if err != nil {
				return nil, "", err
			}
			if n != nil {
				out = append(out, n)
			}
		default:
			return nil, "", p.errorf("unexpected %s", t)
		}
	}
}

func (p *parser) parseStatement() (node, error) {
	kw := p.next()
	switch kw.val {
	case "if":
		return p.parseIf()
	case "for":
		return p.parseFor(kw.line)
	case "set":
		return p.parseSet()
	case "macro":
		return p.parseMacro()
	case "break", "continue":
		if err := p.expectBlockEnd(); err != nil {
			return nil, err
		}
		if kw.val == "break" {
			return &breakNode{}, nil
		}
		return &contNode{}, nil
	case "generation":
		// transformers' AssistantTracker marks assistant text; the
		// body renders as is.
		if err := p.expectBlockEnd(); err != nil {
			return nil, err
		}
		body, _, err := p.parseBody("endgeneration")
		if err != nil {
			return nil, err
		}
		p.next()
		if err := p.expectBlockEnd(); err != nil {
			return nil, err
		}
		return &ifNode{conds: []expr{&constExpr{true}}, bodies: [][]node{body}}, nil
	}
	return nil, fmt.Errorf("line %d: unsupported statement '%s'", kw.line, kw.val)
}

func (p *parser) parseIf() (node, error) {
	n := &ifNode{}
	for {
		cond, err := p.parseTuple(false)
		if err != nil {
			return nil, err
		}
		if err := p.expectBlockEnd(); err != nil {
			return nil, err
		}
		body, end, err := p.parseBody("elif", "else", "endif")
		if err != nil {
			return nil, err
		}
		p.next()
		n.conds = append(n.conds, cond)
		n.bodies = append(n.bodies, body)
		switch end {
		case "elif":
			continue
		case "else":
			if err := p.expectBlockEnd(); err != nil {
				return nil, err
			}
			if n.els, _, err = p.parseBody("endif"); err != nil {
				return nil, err
			}
			p.next()
		}
		return n, p.expectBlockEnd()
	}
}

func (p *parser) parseTargets() ([]string, error) {
	var names []string
	paren := p.isOp("(")
	if paren {
		p.next()
	}
	for {
		name, err := p.expectName()
		if err != nil {
			return nil, err
		}
		names = append(names, name)
		if !p.isOp(",") {
			break
		}
		p.next()
		if p.peek().kind != tkName {
			break
		}
	}
	if paren {
		if err := p.expectOp(")"); err != nil {
			return nil, err
		}
	}
	return names, nil
}

func (p *parser) parseFor(line int) (node, error) {
	n := &forNode{line: line}
	var err error
	if n.targets, err = p.parseTargets(); err != nil {
		return nil, err
	}
	if !p.isName("in") {
		return nil, p.errorf("expected 'in', got %s", p.peek())
	}
	p.next()
	if n.iter, err = p.parseTupleNoCond(); err != nil {
		return nil, err
	}
	if p.isName("if") {
		p.next()
		if n.cond, err = p.parseExpr(true); err != nil {
			return nil, err
		}
	}
	if p.isName("recursive") {
		return nil, p.errorf("recursive for loops are not supported")
	}
	if err := p.expectBlockEnd(); err != nil {
		return nil, err
	}
	body, end, err := p.parseBody("else", "endfor")
	if err != nil {
		return nil, err
	}
	p.next()
	n.body = body
	if end == "else" {
		if err := p.expectBlockEnd(); err != nil {
			return nil, err
		}
		if n.els, _, err = p.parseBody("endfor"); err != nil {
			return nil, err
		}
		p.next()
	}
	return n, p.expectBlockEnd()
}

func (p *parser) parseSet() (node, error) {
	n := &setNode{}
	first, err := p.expectName()
	if err != nil {
		return nil, err
	}
	switch {
	case p.isOp("."):
		p.next()
		n.ns = first
		if n.attr, err = p.expectName(); err != nil {
			return nil, err
		}
	case p.isOp(","):
		p.next()
		rest, err := p.parseTargets()
		if err != nil {
			return nil, err
		}
		n.targets = append([]string{first}, rest...)
	default:
		n.targets = []string{first}
	}
	if p.isOp("=") {
		p.next()
		if n.x, err = p.parseTuple(true); err != nil {
			return nil, err
		}
		return n, p.expectBlockEnd()
	}
	if n.ns != "" || len(n.targets) != 1 {
		return nil, p.errorf("expected '='")
	}
	for p.isOp("|") {
		p.next()
		f, err := p.parseFilter(nil)
		if err != nil {
			return nil, err
		}
		n.filters = append(n.filters, f)
	}
	if err := p.expectBlockEnd(); err != nil {
		return nil, err
	}
	if n.body, _, err = p.parseBody("endset"); err != nil {
		return nil, err
	}
	p.next()
	return n, p.expectBlockEnd()
}

func (p *parser) parseMacro() (node, error) {
	m := &Macro{}
	var err error
	if m.name, err = p.expectName(); err != nil {
		return nil, err
	}
	if err := p.expectOp("("); err != nil {
		return nil, err
	}
	for !p.isOp(")") {
		name, err := p.expectName()
		if err != nil {
			return nil, err
		}
		m.params = append(m.params, name)
		if p.isOp("=") {
			p.next()
			d, err := p.parseExpr(true)
			if err != nil {
				return nil, err
			}
			m.defaults = append(m.defaults, d)
		} else if len(m.defaults) > 0 {
			return nil, p.errorf("non-default argument follows default argument")
		}
		if !p.isOp(",") {
			break
		}
		p.next()
	}
	if err := p.expectOp(")"); err != nil {
		return nil, err
	}
	if err := p.expectBlockEnd(); err != nil {
		return nil, err
	}
	if m.body, _, err = p.parseBody("endmacro"); err != nil {
		return nil, err
	}
	p.next()
	if p.peek().kind == tkName && p.peek().val == m.name {
		p.next()
	}
	return &macroNode{m}, p.expectBlockEnd()
}

// parseTuple parses an expression, or a tuple of them without parentheses.
