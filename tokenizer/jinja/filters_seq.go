package jinja

import (
	"fmt"
	"math"
	"strings"
)

// Sequence filters that compare items: the case-insensitive keys of
// jinja2 and the aggregates.

// foldCase lowercases strings, the key jinja2's sort, unique, min, max and
// dictsort filters compare with unless case_sensitive is set.
func foldCase(v Value) Value {
	if s, ok := v.(string); ok {
		return strings.ToLower(s)
	}
	return v
}

// caseKey returns the sort key of the filters that take attribute and
// case_sensitive arguments.
func caseKey(kwargs *Dict, caseSensitive bool) func(Value) Value {
	if b, ok := kwargs.Get("case_sensitive"); ok {
		caseSensitive = truth(b)
	}
	a, byAttr := kwargs.Get("attribute")
	return func(x Value) Value {
		if byAttr {
			x, _ = getItem(x, a)
		}
		if !caseSensitive {
			x = foldCase(x)
		}
		return x
	}
}

func fSum(_ *renderer, v Value, args []Value, kwargs *Dict) (Value, error) {
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	var total Value = int64(0)
	if len(args) > 1 {
		total = args[1]
	}
	if s, ok := kwargs.Get("start"); ok {
		total = s
	}
	a, byAttr := kwargs.Get("attribute")
	if len(args) > 0 {
		a, byAttr = args[0], args[0] != nil
	}
	for _, it := range items {
		if byAttr {
			if it, err = getItem(it, a); err != nil {
				return nil, err
			}
		}
		if total, err = binary("+", total, it); err != nil {
			return nil, err
		}
	}
	return total, nil
}

func minMax(v Value, kwargs *Dict, sign int) (Value, error) {
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return Undefined{hint: "No aggregated item, sequence was empty."}, nil
	}
	key := caseKey(kwargs, false)
	best := items[0]
	for _, it := range items[1:] {
		c, err := compare(key(it), key(best))
		if err != nil {
			return nil, &Error{Msg: err.Error()}
		}
		if c == sign {
			best = it
		}
	}
	return best, nil
}

// pyFormat is Python's printf-style "fmt % args" for the conversions
// templates use: %s %r %d %i %f %x %% with optional width and precision.
func pyFormat(format string, args []Value) (string, error) {
	var b strings.Builder
	next := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		for j < len(format) && strings.IndexByte("-+ 0#", format[j]) >= 0 {
			j++
		}
		for j < len(format) && (format[j] == '.' || (format[j] >= '0' && format[j] <= '9')) {
			j++
		}
		if j >= len(format) {
			return "", errorf("incomplete format")
		}
		spec, verb := format[i+1:j], format[j]
		i = j
		if verb == '%' {
			b.WriteByte('%')
			continue
		}
		if next >= len(args) {
			return "", errorf("not enough arguments for format string")
		}
		a := args[next]
		next++
		switch verb {
		case 's':
			b.WriteString(fmt.Sprintf("%"+spec+"s", str(a)))
		case 'r':
			b.WriteString(fmt.Sprintf("%"+spec+"s", repr(a)))
		case 'd', 'i', 'x', 'f':
			n, f, isF, ok := number(a)
			if !ok {
				return "", errorf("%%%c format: a real number is required, not %s", verb, typeName(a))
			}
			switch {
			case verb == 'f':
				if !isF {
					f = float64(n)
				}
				if !strings.Contains(spec, ".") {
					spec += ".6"
				}
				b.WriteString(fmt.Sprintf("%"+spec+"f", f))
			default:
				if isF {
					if math.IsNaN(f) || math.IsInf(f, 0) {
						return "", errorf("cannot convert float %s to integer", repr(f))
					}
					n = int64(f)
				}
				v := verb
				if v == 'i' {
					v = 'd'
				}
				b.WriteString(fmt.Sprintf("%"+spec+string(v), n))
			}
		default:
			return "", errorf("unsupported format character '%c'", verb)
		}
	}
	if next < len(args) {
		return "", errorf("not all arguments converted during string formatting")
	}
	return b.String(), nil
}

func fFormat(_ *renderer, v Value, args []Value, _ *Dict) (Value, error) {
	return pyFormat(str(v), args)
}
