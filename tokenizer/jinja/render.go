package jinja

import (
	"errors"
	"fmt"
	"strings"
)

// Limits that keep a render bounded whatever the template and its input.
const (
	maxOutput     = 16 << 20 // bytes of rendered text (macro results included) and of any string
	maxSteps      = 1 << 20  // loop iterations and macro calls
	maxCallDepth  = 200      // nested macro calls
	maxDepth      = 512      // nesting of values when printed or serialized
	maxRange      = 100000   // jinja2's sandbox limit on range()
	maxRepetition = 16 << 20 // bytes a string repetition may make
	maxListLen    = 1 << 20  // items of a list made by + or *
)

// Template is a parsed template.
type Template struct {
	body []node
}

// Parse parses a template's source.
func Parse(src string) (*Template, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, fmt.Errorf("jinja: %w", err)
	}
	p := &parser{toks: toks}
	body, _, err := p.parseBody()
	if err != nil {
		return nil, fmt.Errorf("jinja: %w", err)
	}
	return &Template{body: body}, nil
}

// Error is an error raised while rendering: by the template's
// raise_exception (Raised set, Msg its message), or by an operation that
// fails in jinja2 too.
type Error struct {
	Msg    string
	Raised bool
}

func (e *Error) Error() string {
	if e.Raised {
		return "jinja: template raised: " + e.Msg
	}
	return "jinja: " + e.Msg
}

func errorf(format string, args ...any) error {
	return &Error{Msg: fmt.Sprintf(format, args...)}
}

// Render renders t with the variables in vars.
func (t *Template) Render(vars map[string]Value) (string, error) {
	return t.render(vars, maxSteps)
}

func (t *Template) render(vars map[string]Value, stepLimit int) (string, error) {
	r := &renderer{stepLimit: stepLimit}
	root := &scope{}
	for k, v := range vars {
		root.set(k, v)
	}
	r.root = root
	var out strings.Builder
	if err := r.exec(t.body, root, &out); err != nil {
		var ctl loopControl
		if errors.As(err, &ctl) {
			return "", errorf("'%s' outside a loop", ctl)
		}
		var je *Error
		if errors.As(err, &je) {
			return "", err
		}
		return "", &Error{Msg: err.Error()}
	}
	return out.String(), nil
}

// scope holds the variables of one level (the template, a loop iteration,
// a macro call) in a few pairs: a map would cost more than the lookups.
type scope struct {
	names  []string
	vals   []Value
	parent *scope
}

func (s *scope) set(name string, v Value) {
	for i, n := range s.names {
		if n == name {
			s.vals[i] = v
			return
		}
	}
	s.names = append(s.names, name)
	s.vals = append(s.vals, v)
}

func (s *scope) lookup(name string) (Value, bool) {
	for ; s != nil; s = s.parent {
		for i := len(s.names) - 1; i >= 0; i-- {
			if s.names[i] == name {
				return s.vals[i], true
			}
		}
	}
	return nil, false
}

type renderer struct {
	root      *scope
	steps     int
	stepLimit int
	depth     int
	out       int // bytes written, all outputs together
}

type loopControl string

func (c loopControl) Error() string { return string(c) }

func (r *renderer) step() error {
	r.steps++
	if r.steps > r.stepLimit {
		return errorf("template ran more than %d loop iterations and macro calls", r.stepLimit)
	}
	return nil
}

func (r *renderer) write(out *strings.Builder, s string) error {
	r.out += len(s)
	if r.out > maxOutput {
		return errorf("template output exceeds %d bytes", maxOutput)
	}
	out.WriteString(s)
	return nil
}

func (r *renderer) exec(body []node, sc *scope, out *strings.Builder) error {
	for _, n := range body {
		if err := r.execNode(n, sc, out); err != nil {
			return err
		}
	}
	return nil
}

func (r *renderer) execNode(n node, sc *scope, out *strings.Builder) error {
	switch n := n.(type) {
	case *textNode:
		return r.write(out, n.s)
	case *outputNode:
		v, err := r.eval(n.x, sc)
		if err != nil {
			return err
		}
		return r.write(out, str(v))
	case *ifNode:
		for i, c := range n.conds {
			v, err := r.eval(c, sc)
			if err != nil {
				return err
			}
			if truth(v) {
				return r.exec(n.bodies[i], sc, out)
			}
		}
		return r.exec(n.els, sc, out)
	case *forNode:
		return r.execFor(n, sc, out)
	case *setNode:
		return r.execSet(n, sc)
	case *macroNode:
		sc.set(n.m.name, n.m)
		return nil
	case *breakNode:
		return loopControl("break")
	case *contNode:
		return loopControl("continue")
	}
	return fmt.Errorf("unknown node %T", n)
}

func (r *renderer) execFor(n *forNode, sc *scope, out *strings.Builder) error {
	it, err := r.eval(n.iter, sc)
	if err != nil {
		return err
	}
	all, err := iterate(it)
	if err != nil {
		return err
	}
	items := all
	if n.cond != nil {
		items = nil
		for _, v := range all {
			inner := &scope{parent: sc}
			if err := bindTargets(inner, n.targets, v); err != nil {
				return err
			}
			c, err := r.eval(n.cond, inner)
			if err != nil {
				return err
			}
			if truth(c) {
				items = append(items, v)
			}
		}
	}
	if len(items) == 0 {
		return r.exec(n.els, sc, out)
	}
	loop := &loopInfo{items: items}
	for i, v := range items {
		if err := r.step(); err != nil {
			return err
		}
		loop.i = i
		inner := &scope{names: []string{"loop"}, vals: []Value{loop}, parent: sc}
		if err := bindTargets(inner, n.targets, v); err != nil {
			return err
		}
		err := r.exec(n.body, inner, out)
		if err == loopControl("break") {
			break
		}
		if err != nil && err != loopControl("continue") {
			return err
		}
	}
	return nil
}

func bindTargets(sc *scope, targets []string, v Value) error {
	if len(targets) == 1 {
		sc.set(targets[0], v)
		return nil
	}
	items, err := iterate(v)
	if err != nil {
		return errorf("cannot unpack non-iterable %s object", typeName(v))
	}
	if len(items) != len(targets) {
		return errorf("not enough values to unpack (expected %d, got %d)", len(targets), len(items))
	}
	for i, t := range targets {
		sc.set(t, items[i])
	}
	return nil
}

func (r *renderer) execSet(n *setNode, sc *scope) error {
	var v Value
	if n.body != nil || n.x == nil {
		var b strings.Builder
		if err := r.exec(n.body, sc, &b); err != nil {
			return err
		}
		v = b.String()
		for _, f := range n.filters {
			var err error
			if v, err = r.applyFilter(f, v, sc); err != nil {
				return err
			}
		}
	} else {
		var err error
		if v, err = r.eval(n.x, sc); err != nil {
			return err
		}
	}
	if n.ns != "" {
		obj, _ := sc.lookup(n.ns)
		ns, ok := obj.(*Namespace)
		if !ok {
			return errorf("cannot assign attribute on non-namespace object")
		}
		return ns.attrs.Set(n.attr, v)
	}
	return bindTargets(sc, n.targets, v)
}

// callMacro renders m's body with args bound to its parameters.
func (r *renderer) callMacro(m *Macro, args []Value, kwargs *Dict) (Value, error) {
	if err := r.step(); err != nil {
		return nil, err
	}
	if r.depth >= maxCallDepth {
		return nil, errorf("macro calls nested more than %d deep", maxCallDepth)
	}
	r.depth++
	defer func() { r.depth-- }()
	if len(args) > len(m.params) {
		return nil, errorf("macro '%s' takes not more than %d argument(s)", m.name, len(m.params))
	}
	sc := &scope{parent: r.root}
	for i, p := range m.params {
		switch {
		case i < len(args):
			sc.set(p, args[i])
		default:
			if v, ok := kwargs.Get(p); ok {
				sc.set(p, v)
				continue
			}
			if d := i - (len(m.params) - len(m.defaults)); d >= 0 {
				v, err := r.eval(m.defaults[d], sc)
				if err != nil {
					return nil, err
				}
				sc.set(p, v)
			} else {
				sc.set(p, Undefined{hint: fmt.Sprintf("parameter '%s' was not provided", p)})
			}
		}
	}
	for _, k := range kwargs.keys {
		if ks, _ := k.(string); !containsString(m.params, ks) {
			return nil, errorf("macro '%s' takes no keyword argument '%v'", m.name, k)
		}
	}
	var b strings.Builder
	if err := r.exec(m.body, sc, &b); err != nil {
		return nil, err
	}
	return b.String(), nil
}

func containsString(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
