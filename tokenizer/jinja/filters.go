package jinja

import (
	"math"
	"math/big"
	"strconv"
	"strings"
)

type filterFunc func(r *renderer, v Value, args []Value, kwargs *Dict) (Value, error)

// filters are jinja2's built-in filters that chat templates use, with
// transformers' tojson.
var filters map[string]filterFunc

// tests are jinja2's built-in tests.
var tests map[string]func(v Value, args []Value) (bool, error)

// globals are jinja2's default globals and transformers' additions.
var globals map[string]Value

func init() {
	filters = map[string]filterFunc{
		"length": fLength, "count": fLength,
		"string": func(_ *renderer, v Value, _ []Value, _ *Dict) (Value, error) { return str(v), nil },
		"safe":   func(_ *renderer, v Value, _ []Value, _ *Dict) (Value, error) { return v, nil },
		"trim":   fTrim,
		"tojson": fToJSON,
		"items":  fItems,
		"replace": func(_ *renderer, v Value, args []Value, _ *Dict) (Value, error) {
			if len(args) < 2 || len(args) > 3 {
				return nil, errorf("replace filter takes 2 or 3 arguments")
			}
			n := int64(-1)
			if len(args) == 3 {
				c, ok := args[2].(int64)
				if !ok {
					return nil, errorf("replace count must be an integer")
				}
				n = max(min(c, int64(len(str(v)))+1), -1)
			}
			return pyReplace(str(v), str(args[0]), str(args[1]), int(n))
		},
		"default": fDefault, "d": fDefault,
		"join":  fJoin,
		"first": func(_ *renderer, v Value, _ []Value, _ *Dict) (Value, error) { return firstLast(v, true) },
		"last":  func(_ *renderer, v Value, _ []Value, _ *Dict) (Value, error) { return firstLast(v, false) },
		"lower": func(_ *renderer, v Value, _ []Value, _ *Dict) (Value, error) { return strings.ToLower(str(v)), nil },
		"upper": func(_ *renderer, v Value, _ []Value, _ *Dict) (Value, error) { return strings.ToUpper(str(v)), nil },
		"capitalize": func(_ *renderer, v Value, _ []Value, _ *Dict) (Value, error) {
			return caseMap("capitalize", str(v)), nil
		},
		"title": func(_ *renderer, v Value, _ []Value, _ *Dict) (Value, error) { return caseMap("title", str(v)), nil },
		"list": func(_ *renderer, v Value, _ []Value, _ *Dict) (Value, error) {
			items, err := iterate(v)
			return &List{Items: append([]Value(nil), items...)}, err
		},
		"reverse": fReverse,
		"int":     fInt,
		"float":   fFloat,
		"abs": func(_ *renderer, v Value, _ []Value, _ *Dict) (Value, error) {
			i, f, isF, ok := number(v)
			switch {
			case !ok:
				return nil, errorf("bad operand type for abs(): '%s'", typeName(v))
			case isF:
				return math.Abs(f), nil
			case i < 0:
				return unary("-", i)
			}
			return i, nil
		},
		"map":        fMap,
		"selectattr": func(r *renderer, v Value, a []Value, kw *Dict) (Value, error) { return selectAttr(r, v, a, true) },
		"rejectattr": func(r *renderer, v Value, a []Value, kw *Dict) (Value, error) { return selectAttr(r, v, a, false) },
		"select":     func(r *renderer, v Value, a []Value, kw *Dict) (Value, error) { return selectItems(v, a, true) },
		"reject":     func(r *renderer, v Value, a []Value, kw *Dict) (Value, error) { return selectItems(v, a, false) },
		"unique":     fUnique,
		"sort":       fSort,
		"dictsort": func(_ *renderer, v Value, _ []Value, _ *Dict) (Value, error) {
			d, ok := v.(*Dict)
			if !ok {
				return nil, errorf("You can only sort by either \"key\" or \"value\"")
			}
			items := dictItems(d).Items
			err := sortValues(items, func(x Value) Value { return foldCase(x.(*List).Items[0]) })
			return &List{Items: items}, err
		},
		"indent": fIndent,
		"sum":    fSum,
		"format": fFormat,
		"min":    func(_ *renderer, v Value, _ []Value, kw *Dict) (Value, error) { return minMax(v, kw, -1) },
		"max":    func(_ *renderer, v Value, _ []Value, kw *Dict) (Value, error) { return minMax(v, kw, 1) },
	}
	tests = map[string]func(v Value, args []Value) (bool, error){
		"defined":   func(v Value, _ []Value) (bool, error) { _, u := v.(Undefined); return !u, nil },
		"undefined": func(v Value, _ []Value) (bool, error) { _, u := v.(Undefined); return u, nil },
		"none":      func(v Value, _ []Value) (bool, error) { return v == nil, nil },
		"string":    func(v Value, _ []Value) (bool, error) { _, ok := v.(string); return ok, nil },
		"mapping":   func(v Value, _ []Value) (bool, error) { _, ok := v.(*Dict); return ok, nil },
		"boolean":   func(v Value, _ []Value) (bool, error) { _, ok := v.(bool); return ok, nil },
		"true":      func(v Value, _ []Value) (bool, error) { return v == true, nil },
		"false":     func(v Value, _ []Value) (bool, error) { return v == false, nil },
		"integer":   func(v Value, _ []Value) (bool, error) { return bigOrInt(v), nil },
		"float":     func(v Value, _ []Value) (bool, error) { _, ok := v.(float64); return ok, nil },
		"number": func(v Value, _ []Value) (bool, error) {
			_, _, _, ok := number(v)
			_, b := v.(*big.Int)
			return ok || b, nil
		},
		"iterable": func(v Value, _ []Value) (bool, error) {
			switch v.(type) {
			case string, *List, *Dict, Undefined:
				return true, nil
			}
			return false, nil
		},
		"sequence": func(v Value, _ []Value) (bool, error) {
			switch v.(type) {
			case string, *List, *Dict, Undefined:
				return true, nil
			}
			return false, nil
		},
		"callable": func(v Value, _ []Value) (bool, error) {
			switch v.(type) {
			case Func, *Macro:
				return true, nil
			}
			return false, nil
		},
		"odd":  func(v Value, _ []Value) (bool, error) { return parity(v, 1) },
		"even": func(v Value, _ []Value) (bool, error) { return parity(v, 0) },
		"divisibleby": func(v Value, a []Value) (bool, error) {
			if len(a) != 1 {
				return false, errorf("divisibleby takes one argument")
			}
			m, err := binary("%", v, a[0])
			return err == nil && equal(m, int64(0)), err
		},
		"lower": func(v Value, _ []Value) (bool, error) { s, ok := v.(string); return ok && strings.ToLower(s) == s, nil },
		"upper": func(v Value, _ []Value) (bool, error) { s, ok := v.(string); return ok && strings.ToUpper(s) == s, nil },
		"in": func(v Value, a []Value) (bool, error) {
			if len(a) != 1 {
				return false, errorf("in takes one argument")
			}
			return contains(a[0], v)
		},
		"sameas": func(v Value, a []Value) (bool, error) {
			if len(a) != 1 {
				return false, errorf("sameas takes one argument")
			}
			switch v.(type) {
			case nil, bool:
				return v == a[0], nil
			}
			return false, nil
		},
	}
	for _, op := range [][]string{{"==", "eq", "equalto"}, {"!=", "ne"}, {"<", "lt", "lessthan"}, {"<=", "le"}, {">", "gt", "greaterthan"}, {">=", "ge"}} {
		op0 := op[0]
		for _, name := range op {
			tests[name] = func(v Value, a []Value) (bool, error) {
				if len(a) != 1 {
					return false, errorf("%s takes one argument", name)
				}
				return compareOp(op0, v, a[0])
			}
		}
	}
	globals = map[string]Value{
		"raise_exception": Func(func(_ *renderer, args []Value, _ *Dict) (Value, error) {
			msg := ""
			if len(args) > 0 {
				msg = str(args[0])
			}
			return nil, &Error{Msg: msg, Raised: true}
		}),
		"namespace": Func(func(_ *renderer, args []Value, kwargs *Dict) (Value, error) {
			ns := &Namespace{attrs: NewDict()}
			for _, a := range args {
				d, ok := a.(*Dict)
				if !ok {
					return nil, errorf("namespace() positional argument must be a dict")
				}
				for i, k := range d.keys {
					ns.attrs.Set(k, d.vals[i])
				}
			}
			for i, k := range kwargs.keys {
				ns.attrs.Set(k, kwargs.vals[i])
			}
			return ns, nil
		}),
		"dict": Func(func(_ *renderer, args []Value, kwargs *Dict) (Value, error) {
			d := NewDict()
			if len(args) > 1 {
				return nil, errorf("dict expected at most 1 argument, got %d", len(args))
			}
			if len(args) == 1 {
				src, ok := args[0].(*Dict)
				if !ok {
					return nil, errorf("dict() argument must be a dict")
				}
				for i, k := range src.keys {
					d.Set(k, src.vals[i])
				}
			}
			for i, k := range kwargs.keys {
				d.Set(k, kwargs.vals[i])
			}
			return d, nil
		}),
		"range":        Func(fRange),
		"strftime_now": Func(fStrftimeNow),
	}
}

func (r *renderer) applyFilter(f *filterExpr, v Value, sc *scope) (Value, error) {
	args, err := r.evalList(f.args, sc)
	if err != nil {
		return nil, err
	}
	kwargs, err := r.evalKwargs(f.kwargs, sc)
	if err != nil {
		return nil, err
	}
	return filters[f.name](r, v, args, kwargs)
}

func parity(v Value, want int64) (bool, error) {
	m, err := binary("%", v, int64(2))
	return err == nil && equal(m, want), err
}

func fLength(_ *renderer, v Value, _ []Value, _ *Dict) (Value, error) {
	n, err := length(v)
	return int64(n), err
}

func fTrim(_ *renderer, v Value, args []Value, _ *Dict) (Value, error) {
	var chars *string
	if len(args) > 0 && args[0] != nil {
		s := str(args[0])
		chars = &s
	}
	return pyStrip(str(v), chars, true, true), nil
}

func fItems(_ *renderer, v Value, _ []Value, _ *Dict) (Value, error) {
	switch d := v.(type) {
	case Undefined:
		return &List{}, nil
	case *Dict:
		return dictItems(d), nil
	}
	return nil, errorf("Can only get item pairs from a mapping.")
}

func fDefault(_ *renderer, v Value, args []Value, kwargs *Dict) (Value, error) {
	var def Value = ""
	if len(args) > 0 {
		def = args[0]
	}
	boolean := false
	if len(args) > 1 {
		boolean = truth(args[1])
	}
	if b, ok := kwargs.Get("boolean"); ok {
		boolean = truth(b)
	}
	if _, u := v.(Undefined); u || (boolean && !truth(v)) {
		return def, nil
	}
	return v, nil
}

func fJoin(r *renderer, v Value, args []Value, kwargs *Dict) (Value, error) {
	sep := ""
	if len(args) > 0 {
		sep = str(args[0])
	}
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	if a, ok := kwargs.Get("attribute"); ok {
		for i, it := range items {
			if items[i], err = getItem(it, a); err != nil {
				return nil, err
			}
		}
	}
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = str(it)
	}
	return strings.Join(parts, sep), nil
}

func firstLast(v Value, first bool) (Value, error) {
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return Undefined{hint: "No first item, sequence was empty."}, nil
	}
	if first {
		return items[0], nil
	}
	return items[len(items)-1], nil
}

func fReverse(_ *renderer, v Value, _ []Value, _ *Dict) (Value, error) {
	if s, ok := v.(string); ok {
		rs := []rune(s)
		for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
			rs[i], rs[j] = rs[j], rs[i]
		}
		return string(rs), nil
	}
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	out := &List{Items: make([]Value, len(items))}
	for i, it := range items {
		out.Items[len(items)-1-i] = it
	}
	return out, nil
}

func fInt(_ *renderer, v Value, args []Value, _ *Dict) (Value, error) {
	var def Value = int64(0)
	if len(args) > 0 {
		def = args[0]
	}
	switch x := v.(type) {
	case int64:
		return x, nil
	case bool:
		return map[bool]int64{false: 0, true: 1}[x], nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) >= 1<<63 {
			return def, nil
		}
		return int64(x), nil
	case string:
		s := strings.TrimFunc(x, pyIsSpace)
		if n, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, 64); err == nil {
			return n, nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && math.Abs(f) < 1<<63 {
			return int64(f), nil
		}
	}
	return def, nil
}

func fFloat(_ *renderer, v Value, args []Value, _ *Dict) (Value, error) {
	var def Value = 0.0
	if len(args) > 0 {
		def = args[0]
	}
	if i, f, isF, ok := number(v); ok {
		if isF {
			return f, nil
		}
		return float64(i), nil
	}
	if s, ok := v.(string); ok {
		if f, err := strconv.ParseFloat(strings.TrimFunc(s, pyIsSpace), 64); err == nil {
			return f, nil
		}
	}
	return def, nil
}

func fMap(r *renderer, v Value, args []Value, kwargs *Dict) (Value, error) {
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	out := &List{Items: make([]Value, len(items))}
	if a, ok := kwargs.Get("attribute"); ok {
		def, hasDef := kwargs.Get("default")
		for i, it := range items {
			val, err := getItem(it, a)
			if err != nil {
				return nil, err
			}
			if _, u := val.(Undefined); u && hasDef {
				val = def
			}
			out.Items[i] = val
		}
		return out, nil
	}
	if len(args) == 0 {
		return nil, errorf("map requires a filter argument")
	}
	name, ok := args[0].(string)
	f, known := filters[name]
	if !ok || !known {
		return nil, errorf("No filter named %s", repr(args[0]))
	}
	for i, it := range items {
		if out.Items[i], err = f(r, it, args[1:], kwargs); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func runTest(v Value, args []Value) (bool, error) {
	if len(args) == 0 {
		return truth(v), nil
	}
	name, ok := args[0].(string)
	t, known := tests[name]
	if !ok || !known {
		return false, errorf("No test named %s", repr(args[0]))
	}
	return t(v, args[1:])
}

func selectAttr(_ *renderer, v Value, args []Value, keep bool) (Value, error) {
	if len(args) == 0 {
		return nil, errorf("Missing parameter for attribute name")
	}
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	out := &List{}
	for _, it := range items {
		a, err := getItem(it, args[0])
		if err != nil {
			return nil, err
		}
		ok, err := runTest(a, args[1:])
		if err != nil {
			return nil, err
		}
		if ok == keep {
			out.Items = append(out.Items, it)
		}
	}
	return out, nil
}

func selectItems(v Value, args []Value, keep bool) (Value, error) {
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	out := &List{}
	for _, it := range items {
		ok, err := runTest(it, args)
		if err != nil {
			return nil, err
		}
		if ok == keep {
			out.Items = append(out.Items, it)
		}
	}
	return out, nil
}

func fUnique(_ *renderer, v Value, _ []Value, _ *Dict) (Value, error) {
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	out := &List{}
	for _, it := range items {
		dup := false
		for _, seen := range out.Items {
			if equal(foldCase(seen), foldCase(it)) {
				dup = true
				break
			}
		}
		if !dup {
			out.Items = append(out.Items, it)
		}
	}
	return out, nil
}

func fSort(_ *renderer, v Value, args []Value, kwargs *Dict) (Value, error) {
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	items = append([]Value(nil), items...)
	key := caseKey(kwargs, len(args) > 1 && truth(args[1]))
	if err := sortValues(items, key); err != nil {
		return nil, &Error{Msg: err.Error()}
	}
	rev := len(args) > 0 && truth(args[0])
	if b, ok := kwargs.Get("reverse"); ok {
		rev = truth(b)
	}
	if rev {
		for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
			items[i], items[j] = items[j], items[i]
		}
	}
	return &List{Items: items}, nil
}

func fIndent(_ *renderer, v Value, args []Value, kwargs *Dict) (Value, error) {
	width := "    "
	if len(args) > 0 {
		if n, ok := args[0].(int64); ok {
			width = strings.Repeat(" ", int(max(0, min(n, 1024))))
		} else {
			width = str(args[0])
		}
	}
	first := len(args) > 1 && truth(args[1])
	if b, ok := kwargs.Get("first"); ok {
		first = truth(b)
	}
	blank := len(args) > 2 && truth(args[2])
	if b, ok := kwargs.Get("blank"); ok {
		blank = truth(b)
	}
	s := str(v)
	lines := strings.Split(s, "\n")
	for i := range lines {
		if i == 0 && !first {
			continue
		}
		if lines[i] != "" || blank {
			lines[i] = width + lines[i]
		}
	}
	return strings.Join(lines, "\n"), nil
}
