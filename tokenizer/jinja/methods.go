package jinja

import (
	"math/big"
	"strings"
	"unicode"
	"unicode/utf8"
)

// getAttr is jinja2's obj.name: an attribute (a method, a loop variable)
// first, then an item.
func getAttr(obj Value, name string) (Value, error) {
	switch o := obj.(type) {
	case Undefined:
		return nil, undefinedError(o)
	case *Dict:
		if m := dictMethod(o, name); m != nil {
			return m, nil
		}
		if v, ok := o.Get(name); ok {
			return v, nil
		}
	case *Namespace:
		if v, ok := o.attrs.Get(name); ok {
			return v, nil
		}
	case string:
		if m := strMethod(o, name); m != nil {
			return m, nil
		}
	case *List:
		if m := listMethod(o, name); m != nil {
			return m, nil
		}
	case *loopInfo:
		if v, ok := o.attr(name); ok {
			return v, nil
		}
	}
	return Undefined{hint: "'" + typeName(obj) + " object' has no attribute '" + name + "'"}, nil
}

// getItem is jinja2's obj[key]: an item first, then an attribute.
func getItem(obj Value, key Value) (Value, error) {
	switch o := obj.(type) {
	case Undefined:
		return nil, undefinedError(o)
	case *Dict:
		if v, ok := o.Get(key); ok {
			return v, nil
		}
	case *List:
		if i, ok := index(key, len(o.Items)); ok {
			return o.Items[i], nil
		}
	case string:
		if _, ok := key.(int64); ok {
			rs := []rune(o)
			if i, ok := index(key, len(rs)); ok {
				return string(rs[i]), nil
			}
		}
	}
	if name, ok := key.(string); ok {
		return getAttr(obj, name)
	}
	return Undefined{hint: "'" + typeName(obj) + " object' has no attribute '" + str(key) + "'"}, nil
}

func index(key Value, n int) (int, bool) {
	var i int64
	switch k := key.(type) {
	case int64:
		i = k
	case bool:
		if k {
			i = 1
		}
	default:
		return 0, false
	}
	if i < 0 {
		i += int64(n)
	}
	if i < 0 || i >= int64(n) {
		return 0, false
	}
	return int(i), true
}

func (l *loopInfo) attr(name string) (Value, bool) {
	n := int64(len(l.items))
	i := int64(l.i)
	switch name {
	case "index":
		return i + 1, true
	case "index0":
		return i, true
	case "revindex":
		return n - i, true
	case "revindex0":
		return n - i - 1, true
	case "first":
		return i == 0, true
	case "last":
		return i == n-1, true
	case "length":
		return n, true
	case "depth":
		return int64(1), true
	case "depth0":
		return int64(0), true
	case "previtem":
		if i == 0 {
			return Undefined{hint: "there is no previous item"}, true
		}
		return l.items[i-1], true
	case "nextitem":
		if i == n-1 {
			return Undefined{hint: "there is no next item"}, true
		}
		return l.items[i+1], true
	case "cycle":
		return Func(func(r *renderer, args []Value, _ *Dict) (Value, error) {
			if len(args) == 0 {
				return nil, errorf("no items for cycling given")
			}
			return args[l.i%len(args)], nil
		}), true
	}
	return nil, false
}

func argCount(name string, args []Value, lo, hi int) error {
	if len(args) < lo || len(args) > hi {
		return errorf("%s() takes from %d to %d arguments (%d given)", name, lo, hi, len(args))
	}
	return nil
}

func dictMethod(d *Dict, name string) Value {
	switch name {
	case "items":
		return Func(func(r *renderer, args []Value, _ *Dict) (Value, error) {
			if err := argCount(name, args, 0, 0); err != nil {
				return nil, err
			}
			return dictItems(d), nil
		})
	case "keys":
		return Func(func(r *renderer, args []Value, _ *Dict) (Value, error) {
			return &List{Items: append([]Value(nil), d.keys...)}, argCount(name, args, 0, 0)
		})
	case "values":
		return Func(func(r *renderer, args []Value, _ *Dict) (Value, error) {
			return &List{Items: append([]Value(nil), d.vals...)}, argCount(name, args, 0, 0)
		})
	case "get":
		return Func(func(r *renderer, args []Value, _ *Dict) (Value, error) {
			if err := argCount(name, args, 1, 2); err != nil {
				return nil, err
			}
			if v, ok := d.Get(args[0]); ok {
				return v, nil
			}
			if len(args) == 2 {
				return args[1], nil
			}
			return nil, nil
		})
	case "copy", "pop", "popitem", "clear", "update", "setdefault", "fromkeys":
		return unsafeMethod("dict", name)
	}
	return nil
}

func dictItems(d *Dict) *List {
	out := &List{Items: make([]Value, d.Len())}
	for i, k := range d.keys {
		out.Items[i] = &List{Items: []Value{k, d.vals[i]}, Tuple: true}
	}
	return out
}

func unsafeMethod(typ, name string) Value {
	return Func(func(*renderer, []Value, *Dict) (Value, error) {
		return nil, errorf("access to attribute '%s' of '%s' object is unsafe", name, typ)
	})
}

func listMethod(l *List, name string) Value {
	switch name {
	case "index":
		return Func(func(r *renderer, args []Value, _ *Dict) (Value, error) {
			if err := argCount(name, args, 1, 1); err != nil {
				return nil, err
			}
			for i, v := range l.Items {
				if equal(v, args[0]) {
					return int64(i), nil
				}
			}
			return nil, errorf("%s is not in list", repr(args[0]))
		})
	case "count":
		return Func(func(r *renderer, args []Value, _ *Dict) (Value, error) {
			if err := argCount(name, args, 1, 1); err != nil {
				return nil, err
			}
			n := int64(0)
			for _, v := range l.Items {
				if equal(v, args[0]) {
					n++
				}
			}
			return n, nil
		})
	case "append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse", "copy":
		return unsafeMethod(typeName(l), name)
	}
	return nil
}

// strArgs checks that a string method got between lo and hi string (or
// None) arguments.
func strArgs(name string, args []Value, lo, hi int) ([]*string, error) {
	if err := argCount(name, args, lo, hi); err != nil {
		return nil, err
	}
	out := make([]*string, len(args))
	for i, a := range args {
		switch s := a.(type) {
		case nil:
		case string:
			out[i] = &s
		default:
			return nil, errorf("%s() argument must be str or None, not %s", name, typeName(a))
		}
	}
	return out, nil
}

func pyStrip(s string, chars *string, left, right bool) string {
	in := pyIsSpace
	if chars != nil {
		set := *chars
		in = func(r rune) bool { return strings.ContainsRune(set, r) }
	}
	if left {
		s = strings.TrimLeftFunc(s, in)
	}
	if right {
		s = strings.TrimRightFunc(s, in)
	}
	return s
}

// pySplit is str.split and str.rsplit.
func pySplit(s string, sep *string, maxsplit int64, fromRight bool) ([]string, error) {
	if sep != nil && *sep == "" {
		return nil, errorf("empty separator")
	}
	if sep != nil {
		if maxsplit < 0 {
			return strings.Split(s, *sep), nil
		}
		if !fromRight {
			return strings.SplitN(s, *sep, int(min(maxsplit, int64(len(s))))+1), nil
		}
		var parts []string
		for ; maxsplit > 0; maxsplit-- {
			k := strings.LastIndex(s, *sep)
			if k < 0 {
				break
			}
			parts = append([]string{s[k+len(*sep):]}, parts...)
			s = s[:k]
		}
		return append([]string{s}, parts...), nil
	}
	fields := strings.FieldsFunc(s, pyIsSpace)
	if maxsplit < 0 || int64(len(fields)) <= maxsplit {
		return fields, nil
	}
	if fromRight {
		rest := s
		var parts []string
		for ; maxsplit > 0; maxsplit-- {
			rest = strings.TrimRightFunc(rest, pyIsSpace)
			k := strings.LastIndexFunc(rest, pyIsSpace)
			parts = append([]string{rest[k+1:]}, parts...)
			rest = rest[:k+1]
		}
		return append([]string{strings.TrimRightFunc(rest, pyIsSpace)}, parts...), nil
	}
	rest := s
	var parts []string
	for ; maxsplit > 0; maxsplit-- {
		rest = strings.TrimLeftFunc(rest, pyIsSpace)
		k := strings.IndexFunc(rest, pyIsSpace)
		parts = append(parts, rest[:k])
		rest = rest[k:]
	}
	return append(parts, strings.TrimLeftFunc(rest, pyIsSpace)), nil
}

func strList(ss []string) *List {
	out := &List{Items: make([]Value, len(ss))}
	for i, s := range ss {
		out.Items[i] = s
	}
	return out
}

func strMethod(s, name string) Value {
	m := func(f func(args []Value, kwargs *Dict) (Value, error)) Value {
		return Func(func(_ *renderer, args []Value, kwargs *Dict) (Value, error) { return f(args, kwargs) })
	}
	switch name {
	case "strip", "lstrip", "rstrip":
		return m(func(args []Value, _ *Dict) (Value, error) {
			a, err := strArgs(name, args, 0, 1)
			if err != nil {
				return nil, err
			}
			var chars *string
			if len(a) == 1 {
				chars = a[0]
			}
			return pyStrip(s, chars, name != "rstrip", name != "lstrip"), nil
		})
	case "startswith", "endswith":
		return m(func(args []Value, _ *Dict) (Value, error) {
			if err := argCount(name, args, 1, 1); err != nil {
				return nil, err
			}
			var prefixes []Value
			switch p := args[0].(type) {
			case string:
				prefixes = []Value{p}
			case *List:
				if !p.Tuple {
					return nil, errorf("%s first arg must be str or a tuple of str, not list", name)
				}
				prefixes = p.Items
			default:
				return nil, errorf("%s first arg must be str or a tuple of str, not %s", name, typeName(args[0]))
			}
			for _, p := range prefixes {
				ps, ok := p.(string)
				if !ok {
					return nil, errorf("tuple for %s must only contain str, not %s", name, typeName(p))
				}
				if (name == "startswith" && strings.HasPrefix(s, ps)) || (name == "endswith" && strings.HasSuffix(s, ps)) {
					return true, nil
				}
			}
			return false, nil
		})
	case "split", "rsplit":
		return m(func(args []Value, kwargs *Dict) (Value, error) {
			if v, ok := kwargs.Get("sep"); ok {
				args = append([]Value{v}, args...)
			}
			maxsplit := int64(-1)
			if v, ok := kwargs.Get("maxsplit"); ok {
				args = append(args, v)
			}
			if len(args) == 2 {
				n, ok := args[1].(int64)
				if !ok {
					return nil, errorf("'%s' object cannot be interpreted as an integer", typeName(args[1]))
				}
				maxsplit = n
				args = args[:1]
			}
			a, err := strArgs(name, args, 0, 1)
			if err != nil {
				return nil, err
			}
			var sep *string
			if len(a) == 1 {
				sep = a[0]
			}
			parts, err := pySplit(s, sep, maxsplit, name == "rsplit")
			if err != nil {
				return nil, err
			}
			return strList(parts), nil
		})
	case "upper", "lower", "title", "capitalize", "swapcase":
		return m(func(args []Value, _ *Dict) (Value, error) {
			if err := argCount(name, args, 0, 0); err != nil {
				return nil, err
			}
			return caseMap(name, s), nil
		})
	case "replace":
		return m(func(args []Value, _ *Dict) (Value, error) {
			n := -1
			if len(args) == 3 {
				c, ok := args[2].(int64)
				if !ok {
					return nil, errorf("'%s' object cannot be interpreted as an integer", typeName(args[2]))
				}
				n = int(max(min(c, int64(len(s))+1), -1))
				args = args[:2]
			}
			a, err := strArgs(name, args, 2, 2)
			if err != nil || a[0] == nil || a[1] == nil {
				return nil, errorf("replace() arguments must be str")
			}
			return pyReplace(s, *a[0], *a[1], n)
		})
	case "find", "rfind", "index", "rindex", "count":
		return m(func(args []Value, _ *Dict) (Value, error) {
			a, err := strArgs(name, args, 1, 1)
			if err != nil || a[0] == nil {
				return nil, errorf("%s() argument must be str", name)
			}
			sub := *a[0]
			var k int
			switch name {
			case "count":
				if sub == "" {
					return int64(utf8.RuneCountInString(s) + 1), nil
				}
				return int64(strings.Count(s, sub)), nil
			case "find", "index":
				k = strings.Index(s, sub)
			default:
				k = strings.LastIndex(s, sub)
			}
			if k < 0 {
				if name == "index" || name == "rindex" {
					return nil, errorf("substring not found")
				}
				return int64(-1), nil
			}
			return int64(utf8.RuneCountInString(s[:k])), nil
		})
	case "join":
		return m(func(args []Value, _ *Dict) (Value, error) {
			if err := argCount(name, args, 1, 1); err != nil {
				return nil, err
			}
			items, err := iterate(args[0])
			if err != nil {
				return nil, err
			}
			parts := make([]string, len(items))
			for i, it := range items {
				p, ok := it.(string)
				if !ok {
					return nil, errorf("sequence item %d: expected str instance, %s found", i, typeName(it))
				}
				parts[i] = p
			}
			return strings.Join(parts, s), nil
		})
	case "isdigit", "isalpha", "isalnum", "isspace", "isupper", "islower":
		return m(func(args []Value, _ *Dict) (Value, error) {
			return strPredicate(name, s), argCount(name, args, 0, 0)
		})
	}
	return nil
}

func pyReplace(s, old, new string, n int) (Value, error) {
	if old == "" {
		count := utf8.RuneCountInString(s) + 1
		if n >= 0 && n < count {
			count = n
		}
		if int64(len(s))+int64(count)*int64(len(new)) > maxRepetition {
			return nil, errorf("replace() result longer than %d bytes", maxRepetition)
		}
	} else if c := strings.Count(s, old); c > 0 && int64(len(s))+int64(c)*int64(len(new)) > maxRepetition {
		return nil, errorf("replace() result longer than %d bytes", maxRepetition)
	}
	return strings.Replace(s, old, new, n), nil
}

func caseMap(name, s string) string {
	switch name {
	case "upper":
		return strings.ToUpper(s)
	case "lower":
		return strings.ToLower(s)
	case "swapcase":
		return strings.Map(func(r rune) rune {
			if unicode.IsUpper(r) {
				return unicode.ToLower(r)
			}
			return unicode.ToUpper(r)
		}, s)
	case "capitalize":
		r, n := utf8.DecodeRuneInString(s)
		if n == 0 {
			return s
		}
		return string(unicode.ToTitle(r)) + strings.ToLower(s[n:])
	}
	// title: uppercase after a non-letter, lowercase after a letter.
	var b strings.Builder
	prevLetter := false
	for _, r := range s {
		if prevLetter {
			b.WriteRune(unicode.ToLower(r))
		} else {
			b.WriteRune(unicode.ToTitle(r))
		}
		prevLetter = unicode.IsLetter(r)
	}
	return b.String()
}

func strPredicate(name, s string) bool {
	if s == "" {
		return false
	}
	cased := false
	for _, r := range s {
		switch name {
		case "isdigit":
			if !unicode.IsDigit(r) {
				return false
			}
		case "isalpha":
			if !unicode.IsLetter(r) {
				return false
			}
		case "isalnum":
			if !unicode.IsLetter(r) && !unicode.IsNumber(r) {
				return false
			}
		case "isspace":
			if !pyIsSpace(r) {
				return false
			}
		case "isupper":
			if unicode.IsLower(r) {
				return false
			}
			cased = cased || unicode.IsUpper(r)
		case "islower":
			if unicode.IsUpper(r) {
				return false
			}
			cased = cased || unicode.IsLower(r)
		}
	}
	if name == "isupper" || name == "islower" {
		return cased
	}
	return true
}

// bigOrInt reports whether v is an integer (not a bool).
func bigOrInt(v Value) bool {
	switch v.(type) {
	case int64, *big.Int:
		return true
	}
	return false
}
