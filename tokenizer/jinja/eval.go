package jinja

import (
	"fmt"
	"strings"
)

func (r *renderer) eval(x expr, sc *scope) (Value, error) {
	switch x := x.(type) {
	case *constExpr:
		return x.v, nil
	case *nameExpr:
		if v, ok := sc.lookup(x.name); ok {
			return v, nil
		}
		if f, ok := globals[x.name]; ok {
			return f, nil
		}
		return Undefined{hint: fmt.Sprintf("'%s' is undefined", x.name)}, nil
	case *attrExpr:
		obj, err := r.eval(x.x, sc)
		if err != nil {
			return nil, err
		}
		return getAttr(obj, x.name)
	case *itemExpr:
		obj, err := r.eval(x.x, sc)
		if err != nil {
			return nil, err
		}
		key, err := r.eval(x.key, sc)
		if err != nil {
			return nil, err
		}
		return getItem(obj, key)
	case *sliceExpr:
		return r.evalSlice(x, sc)
	case *callExpr:
		return r.evalCall(x, sc)
	case *filterExpr:
		v, err := r.eval(x.x, sc)
		if err != nil {
			return nil, err
		}
		return r.applyFilter(x, v, sc)
	case *testExpr:
		v, err := r.eval(x.x, sc)
		if err != nil {
			return nil, err
		}
		args, err := r.evalList(x.args, sc)
		if err != nil {
			return nil, err
		}
		ok, err := tests[x.name](v, args)
		if err != nil {
			return nil, err
		}
		return ok != x.negate, nil
	case *unaryExpr:
		v, err := r.eval(x.x, sc)
		if err != nil {
			return nil, err
		}
		return unary(x.op, v)
	case *binExpr:
		return r.evalBinary(x, sc)
	case *cmpExpr:
		return r.evalCompare(x, sc)
	case *condExpr:
		c, err := r.eval(x.cond, sc)
		if err != nil {
			return nil, err
		}
		if truth(c) {
			return r.eval(x.then, sc)
		}
		if x.els == nil {
			return Undefined{hint: "the inline if expression evaluated to false and no else section was defined"}, nil
		}
		return r.eval(x.els, sc)
	case *listExpr:
		items, err := r.evalList(x.items, sc)
		if err != nil {
			return nil, err
		}
		return &List{Items: items, Tuple: x.tuple}, nil
	case *dictExpr:
		d := NewDict()
		for i := range x.keys {
			k, err := r.eval(x.keys[i], sc)
			if err != nil {
				return nil, err
			}
			v, err := r.eval(x.vals[i], sc)
			if err != nil {
				return nil, err
			}
			if err := d.Set(k, v); err != nil {
				return nil, &Error{Msg: err.Error()}
			}
		}
		return d, nil
	}
	return nil, fmt.Errorf("unknown expression %T", x)
}

func (r *renderer) evalList(xs []expr, sc *scope) ([]Value, error) {
	out := make([]Value, len(xs))
	for i, x := range xs {
		v, err := r.eval(x, sc)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (r *renderer) evalKwargs(kws []kwarg, sc *scope) (*Dict, error) {
	d := NewDict()
	for _, kw := range kws {
		v, err := r.eval(kw.x, sc)
		if err != nil {
			return nil, err
		}
		d.Set(kw.name, v)
	}
	return d, nil
}

func (r *renderer) evalCall(x *callExpr, sc *scope) (Value, error) {
	fn, err := r.eval(x.fn, sc)
	if err != nil {
		return nil, err
	}
	args, err := r.evalList(x.args, sc)
	if err != nil {
		return nil, err
	}
	kwargs, err := r.evalKwargs(x.kwargs, sc)
	if err != nil {
		return nil, err
	}
	switch f := fn.(type) {
	case Func:
		return f(r, args, kwargs)
	case *Macro:
		return r.callMacro(f, args, kwargs)
	case Undefined:
		return nil, undefinedError(f)
	}
	return nil, errorf("'%s' object is not callable", typeName(fn))
}

func undefinedError(u Undefined) error {
	if u.hint == "" {
		return errorf("value is undefined")
	}
	return errorf("%s", u.hint)
}

func (r *renderer) evalBinary(x *binExpr, sc *scope) (Value, error) {
	l, err := r.eval(x.l, sc)
	if err != nil {
		return nil, err
	}
	switch x.op {
	case "and":
		if !truth(l) {
			return l, nil
		}
		return r.eval(x.r, sc)
	case "or":
		if truth(l) {
			return l, nil
		}
		return r.eval(x.r, sc)
	}
	rv, err := r.eval(x.r, sc)
	if err != nil {
		return nil, err
	}
	if x.op == "~" {
		ls, rs := str(l), str(rv)
		if len(ls)+len(rs) > maxOutput {
			return nil, errorf("string longer than %d bytes", maxOutput)
		}
		return ls + rs, nil
	}
	return binary(x.op, l, rv)
}

func (r *renderer) evalCompare(x *cmpExpr, sc *scope) (Value, error) {
	l, err := r.eval(x.first, sc)
	if err != nil {
		return nil, err
	}
	for i, op := range x.ops {
		rv, err := r.eval(x.rest[i], sc)
		if err != nil {
			return nil, err
		}
		ok, err := compareOp(op, l, rv)
		if err != nil {
			return nil, err
		}
		if !ok {
			return false, nil
		}
		l = rv
	}
	return true, nil
}

func compareOp(op string, l, r Value) (bool, error) {
	switch op {
	case "==":
		return equal(l, r), nil
	case "!=":
		return !equal(l, r), nil
	case "in", "notin":
		ok, err := contains(r, l)
		return ok != (op == "notin"), err
	}
	if u, ok := l.(Undefined); ok {
		return false, undefinedError(u)
	}
	if u, ok := r.(Undefined); ok {
		return false, undefinedError(u)
	}
	c, err := compare(l, r)
	if err != nil {
		return false, &Error{Msg: strings.Replace(err.Error(), "'<'", "'"+op+"'", 1)}
	}
	switch op {
	case "<":
		return c < 0, nil
	case "<=":
		return c <= 0, nil
	case ">":
		return c > 0, nil
	}
	return c >= 0, nil
}

// contains is Python's "needle in haystack".
func contains(haystack, needle Value) (bool, error) {
	switch h := haystack.(type) {
	case string:
		s, ok := needle.(string)
		if !ok {
			return false, errorf("'in <string>' requires string as left operand, not %s", typeName(needle))
		}
		return strings.Contains(h, s), nil
	case *List:
		for _, v := range h.Items {
			if equal(v, needle) {
				return true, nil
			}
		}
		return false, nil
	case *Dict:
		if _, err := dictKey(needle); err != nil {
			return false, &Error{Msg: err.Error()}
		}
		_, ok := h.Get(needle)
		return ok, nil
	case Undefined:
		return false, nil
	}
	return false, errorf("argument of type '%s' is not iterable", typeName(haystack))
}
