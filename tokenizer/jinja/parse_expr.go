package jinja

import (
	"fmt"
	"math/big"
	"strconv"
)

func (p *parser) parseTuple(withCond bool) (expr, error) {
	first, err := p.parseExpr(withCond)
	if err != nil {
		return nil, err
	}
	if !p.isOp(",") {
		return first, nil
	}
	items := []expr{first}
	for p.isOp(",") {
		p.next()
		if t := p.peek(); t.kind == tkBlockEnd || t.kind == tkVarEnd || p.isOp(")") {
			break
		}
		x, err := p.parseExpr(withCond)
		if err != nil {
			return nil, err
		}
		items = append(items, x)
	}
	return &listExpr{items: items, tuple: true}, nil
}

// parseTupleNoCond parses a for loop's iterable, where "if" starts the
// loop's filter rather than a conditional expression.
func (p *parser) parseTupleNoCond() (expr, error) { return p.parseTuple(false) }

func (p *parser) parseExpr(withCond bool) (expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	x, err := p.parseOr()
	if err != nil || !withCond {
		return x, err
	}
	for p.isName("if") {
		p.next()
		cond, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		var els expr
		if p.isName("else") {
			p.next()
			if els, err = p.parseExpr(true); err != nil {
				return nil, err
			}
		}
		x = &condExpr{then: x, cond: cond, els: els}
	}
	return x, nil
}

func (p *parser) parseOr() (expr, error) {
	x, err := p.parseAnd()
	for err == nil && p.isName("or") {
		p.next()
		var r expr
		r, err = p.parseAnd()
		x = &binExpr{op: "or", l: x, r: r}
	}
	return x, err
}

func (p *parser) parseAnd() (expr, error) {
	x, err := p.parseNot()
	for err == nil && p.isName("and") {
		p.next()
		var r expr
		r, err = p.parseNot()
		x = &binExpr{op: "and", l: x, r: r}
	}
	return x, err
}

func (p *parser) parseNot() (expr, error) {
	if p.isName("not") {
		p.next()
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		x, err := p.parseNot()
		return &unaryExpr{op: "not", x: x}, err
	}
	return p.parseCompare()
}

func (p *parser) parseCompare() (expr, error) {
	x, err := p.parseMath1()
	if err != nil {
		return nil, err
	}
	c := &cmpExpr{first: x}
	for {
		t := p.peek()
		op := ""
		switch {
		case t.kind == tkOp && (t.val == "==" || t.val == "!=" || t.val == "<" || t.val == "<=" || t.val == ">" || t.val == ">="):
			op = t.val
			p.next()
		case p.isName("in"):
			op = "in"
			p.next()
		case p.isName("not") && p.toks[p.pos+1].kind == tkName && p.toks[p.pos+1].val == "in":
			op = "notin"
			p.next()
			p.next()
		}
		if op == "" {
			break
		}
		r, err := p.parseMath1()
		if err != nil {
			return nil, err
		}
		c.ops = append(c.ops, op)
		c.rest = append(c.rest, r)
	}
	if len(c.ops) == 0 {
		return x, nil
	}
	return c, nil
}

func (p *parser) parseMath1() (expr, error) {
	x, err := p.parseConcat()
	for err == nil && (p.isOp("+") || p.isOp("-")) {
		op := p.next().val
		var r expr
		r, err = p.parseConcat()
		x = &binExpr{op: op, l: x, r: r}
	}
	return x, err
}

func (p *parser) parseConcat() (expr, error) {
	x, err := p.parseMath2()
	for err == nil && p.isOp("~") {
		p.next()
		var r expr
		r, err = p.parseMath2()
		x = &binExpr{op: "~", l: x, r: r}
	}
	return x, err
}

func (p *parser) parseMath2() (expr, error) {
	x, err := p.parsePow()
	for err == nil && (p.isOp("*") || p.isOp("/") || p.isOp("//") || p.isOp("%")) {
		op := p.next().val
		var r expr
		r, err = p.parsePow()
		x = &binExpr{op: op, l: x, r: r}
	}
	return x, err
}

func (p *parser) parsePow() (expr, error) {
	x, err := p.parseUnary(true)
	for err == nil && p.isOp("**") {
		p.next()
		var r expr
		r, err = p.parseUnary(true)
		x = &binExpr{op: "**", l: x, r: r}
	}
	return x, err
}

func (p *parser) parseUnary(withFilter bool) (expr, error) {
	var x expr
	var err error
	if p.isOp("-") || p.isOp("+") {
		op := p.next().val
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		inner, err := p.parseUnary(false)
		if err != nil {
			return nil, err
		}
		x = &unaryExpr{op: op, x: inner}
	} else if x, err = p.parsePrimary(); err != nil {
		return nil, err
	}
	if x, err = p.parsePostfix(x); err != nil {
		return nil, err
	}
	if !withFilter {
		return x, nil
	}
	return p.parseFilterExpr(x)
}

func (p *parser) parsePrimary() (expr, error) {
	t := p.next()
	switch t.kind {
	case tkName:
		switch t.val {
		case "true", "True":
			return &constExpr{true}, nil
		case "false", "False":
			return &constExpr{false}, nil
		case "none", "None":
			return &constExpr{nil}, nil
		}
		return &nameExpr{t.val}, nil
	case tkString:
		s := t.val
		for p.peek().kind == tkString {
			s += p.next().val
		}
		return &constExpr{s}, nil
	case tkInt:
		if v, err := strconv.ParseInt(t.val, 10, 64); err == nil {
			return &constExpr{v}, nil
		}
		b, ok := new(big.Int).SetString(t.val, 10)
		if !ok {
			return nil, fmt.Errorf("line %d: bad integer %s", t.line, t.val)
		}
		return &constExpr{b}, nil
	case tkFloat:
		f, err := strconv.ParseFloat(t.val, 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: bad float %s", t.line, t.val)
		}
		return &constExpr{f}, nil
	case tkOp:
		switch t.val {
		case "(":
			if p.isOp(")") {
				p.next()
				return &listExpr{tuple: true}, nil
			}
			x, err := p.parseTuple(true)
			if err != nil {
				return nil, err
			}
			if l, ok := x.(*listExpr); ok && l.tuple && !p.isOp(")") {
				return nil, p.errorf("expected ')'")
			}
			return x, p.expectOp(")")
		case "[":
			l := &listExpr{}
			for !p.isOp("]") {
				x, err := p.parseExpr(true)
				if err != nil {
					return nil, err
				}
				l.items = append(l.items, x)
				if !p.isOp(",") {
					break
				}
				p.next()
			}
			return l, p.expectOp("]")
		case "{":
			d := &dictExpr{}
			for !p.isOp("}") {
				k, err := p.parseExpr(true)
				if err != nil {
					return nil, err
				}
				if err := p.expectOp(":"); err != nil {
					return nil, err
				}
				v, err := p.parseExpr(true)
				if err != nil {
					return nil, err
				}
				d.keys = append(d.keys, k)
				d.vals = append(d.vals, v)
				if !p.isOp(",") {
					break
				}
				p.next()
			}
			return d, p.expectOp("}")
		}
	}
	return nil, fmt.Errorf("line %d: unexpected %s", t.line, t)
}

func (p *parser) parsePostfix(x expr) (expr, error) {
	for {
		switch {
		case p.isOp("."):
			p.next()
			t := p.next()
			switch t.kind {
			case tkName:
				x = &attrExpr{x: x, name: t.val}
			case tkInt:
				v, _ := strconv.ParseInt(t.val, 10, 64)
				x = &itemExpr{x: x, key: &constExpr{v}}
			default:
				return nil, fmt.Errorf("line %d: expected an attribute name, got %s", t.line, t)
			}
		case p.isOp("["):
			p.next()
			var err error
			if x, err = p.parseSubscript(x); err != nil {
				return nil, err
			}
		case p.isOp("("):
			var err error
			if x, err = p.parseCall(x); err != nil {
				return nil, err
			}
		default:
			return x, nil
		}
	}
}

func (p *parser) parseSubscript(x expr) (expr, error) {
	var parts [3]expr
	n := 0
	isSlice := false
	for {
		if !p.isOp(":") && !p.isOp("]") {
			e, err := p.parseExpr(true)
			if err != nil {
				return nil, err
			}
			parts[n] = e
		}
		if p.isOp(":") && n < 2 {
			p.next()
			isSlice = true
			n++
			continue
		}
		break
	}
	if err := p.expectOp("]"); err != nil {
		return nil, err
	}
	if !isSlice {
		if parts[0] == nil {
			return nil, p.errorf("empty subscript")
		}
		return &itemExpr{x: x, key: parts[0]}, nil
	}
	return &sliceExpr{x: x, lo: parts[0], hi: parts[1], step: parts[2]}, nil
}

func (p *parser) parseArgs() ([]expr, []kwarg, error) {
	if err := p.expectOp("("); err != nil {
		return nil, nil, err
	}
	var args []expr
	var kwargs []kwarg
	for !p.isOp(")") {
		if p.peek().kind == tkName && p.toks[p.pos+1].kind == tkOp && p.toks[p.pos+1].val == "=" {
			name := p.next().val
			p.next()
			x, err := p.parseExpr(true)
			if err != nil {
				return nil, nil, err
			}
			kwargs = append(kwargs, kwarg{name, x})
		} else {
			if len(kwargs) > 0 {
				return nil, nil, p.errorf("positional argument follows keyword argument")
			}
			x, err := p.parseExpr(true)
			if err != nil {
				return nil, nil, err
			}
			args = append(args, x)
		}
		if !p.isOp(",") {
			break
		}
		p.next()
	}
	return args, kwargs, p.expectOp(")")
}

func (p *parser) parseCall(fn expr) (expr, error) {
	args, kwargs, err := p.parseArgs()
	return &callExpr{fn: fn, args: args, kwargs: kwargs}, err
}

func (p *parser) parseFilter(x expr) (*filterExpr, error) {
	name, err := p.expectName()
	if err != nil {
		return nil, err
	}
	for p.isOp(".") {
		p.next()
		part, err := p.expectName()
		if err != nil {
			return nil, err
		}
		name += "." + part
	}
	if _, ok := filters[name]; !ok {
		return nil, p.errorf("no filter named '%s'", name)
	}
	f := &filterExpr{x: x, name: name}
	if p.isOp("(") {
		if f.args, f.kwargs, err = p.parseArgs(); err != nil {
			return nil, err
		}
	}
	return f, nil
}

func (p *parser) parseFilterExpr(x expr) (expr, error) {
	for {
		switch {
		case p.isOp("|"):
			p.next()
			f, err := p.parseFilter(x)
			if err != nil {
				return nil, err
			}
			x = f
		case p.isName("is"):
			p.next()
			t := &testExpr{x: x}
			if p.isName("not") {
				p.next()
				t.negate = true
			}
			name, err := p.expectName()
			if err != nil {
				return nil, err
			}
			t.name = name
			if _, ok := tests[name]; !ok {
				return nil, p.errorf("no test named '%s'", name)
			}
			nt := p.peek()
			switch {
			case p.isOp("("):
				args, kwargs, err := p.parseArgs()
				if err != nil {
					return nil, err
				}
				if len(kwargs) > 0 {
					return nil, p.errorf("keyword arguments to tests are not supported")
				}
				t.args = args
			case nt.kind == tkString || nt.kind == tkInt || nt.kind == tkFloat || p.isOp("[") || p.isOp("{") ||
				(nt.kind == tkName && nt.val != "else" && nt.val != "or" && nt.val != "and"):
				a, err := p.parsePrimary()
				if err != nil {
					return nil, err
				}
				if a, err = p.parsePostfix(a); err != nil {
					return nil, err
				}
				t.args = []expr{a}
			}
			x = t
		case p.isOp("("):
			var err error
			if x, err = p.parseCall(x); err != nil {
				return nil, err
			}
		default:
			return x, nil
		}
	}
}
