package jinja

import (
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Values are Go values standing for Python's:
//
//	nil          None
//	Undefined    jinja2's Undefined
//	bool         bool
//	int64        int (and *big.Int for integers beyond int64, which can
//	             only be printed, compared and serialized)
//	float64      float
//	string       str
//	*List        list, or tuple when Tuple is set
//	*Dict        dict (insertion-ordered)
//	*Namespace, *Macro, Func, *loopInfo: jinja2's objects
type Value = any

// Undefined is the value of a name or attribute that does not exist.
type Undefined struct{ hint string }

// List is a Python list or tuple.
type List struct {
	Items []Value
	Tuple bool
}

// NewList returns a list of items.
func NewList(items ...Value) *List { return &List{Items: items} }

// Dict is a Python dict: keys are strings, ints, floats, bools or None and
// keep their insertion order.
type Dict struct {
	keys []Value
	vals []Value
	idx  map[Value]int
}

// NewDict returns an empty dict.
func NewDict() *Dict { return &Dict{idx: map[Value]int{}} }

// dictKey maps a key to its hash identity: Python's 1, 1.0 and True are
// one key.
func dictKey(k Value) (Value, error) {
	switch x := k.(type) {
	case nil, string, int64:
		return x, nil
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<62 {
			return int64(x), nil
		}
		return x, nil
	}
	return nil, fmt.Errorf("unhashable type: '%s'", typeName(k))
}

// Set stores v under k, keeping k's first position if it is already there.
func (d *Dict) Set(k, v Value) error {
	h, err := dictKey(k)
	if err != nil {
		return err
	}
	if i, ok := d.idx[h]; ok {
		d.vals[i] = v
		return nil
	}
	d.idx[h] = len(d.keys)
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, v)
	return nil
}

// Get returns the value under k.
func (d *Dict) Get(k Value) (Value, bool) {
	h, err := dictKey(k)
	if err != nil {
		return nil, false
	}
	i, ok := d.idx[h]
	if !ok {
		return nil, false
	}
	return d.vals[i], true
}

// Len returns the number of keys.
func (d *Dict) Len() int { return len(d.keys) }

// Namespace is the mutable object namespace() returns.
type Namespace struct{ attrs *Dict }

// Func is a callable: a global function, a filter-like builtin or a bound
// method.
type Func func(r *renderer, args []Value, kwargs *Dict) (Value, error)

type loopInfo struct {
	items []Value
	i     int
}

// truth is Python's bool(v).
func truth(v Value) bool {
	switch x := v.(type) {
	case nil, Undefined:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case *big.Int:
		return x.Sign() != 0
	case float64:
		return x != 0
	case string:
		return x != ""
	case *List:
		return len(x.Items) > 0
	case *Dict:
		return x.Len() > 0
	}
	return true
}

func typeName(v Value) string {
	switch x := v.(type) {
	case nil:
		return "NoneType"
	case Undefined:
		return "Undefined"
	case bool:
		return "bool"
	case int64, *big.Int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case *List:
		if x.Tuple {
			return "tuple"
		}
		return "list"
	case *Dict:
		return "dict"
	case *Namespace:
		return "Namespace"
	case *Macro:
		return "Macro"
	case Func:
		return "builtin_function_or_method"
	case *loopInfo:
		return "LoopContext"
	}
	return fmt.Sprintf("%T", v)
}

// str is Python's str(v) (jinja2 prints Undefined as "").
func str(v Value) string {
	switch x := v.(type) {
	case string:
		return x
	case Undefined:
		return ""
	}
	return repr(v)
}

// repr is Python's repr(v).
func repr(v Value) string {
	var b strings.Builder
	writeRepr(&b, v, 0)
	return b.String()
}

func writeRepr(b *strings.Builder, v Value, depth int) {
	if depth > maxDepth {
		b.WriteString("...")
		return
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("None")
	case Undefined:
		b.WriteString("Undefined")
	case bool:
		if x {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case *big.Int:
		b.WriteString(x.String())
	case float64:
		writePyFloat(b, x, false)
	case string:
		writeStrRepr(b, x)
	case *List:
		open, close := "[", "]"
		if x.Tuple {
			open, close = "(", ")"
		}
		b.WriteString(open)
		for i, e := range x.Items {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, e, depth+1)
		}
		if x.Tuple && len(x.Items) == 1 {
			b.WriteByte(',')
		}
		b.WriteString(close)
	case *Dict:
		b.WriteByte('{')
		for i, k := range x.keys {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, k, depth+1)
			b.WriteString(": ")
			writeRepr(b, x.vals[i], depth+1)
		}
		b.WriteByte('}')
	case *Namespace:
		b.WriteString("<Namespace ")
		writeRepr(b, x.attrs, depth+1)
		b.WriteByte('>')
	case *Macro:
		b.WriteString("<Macro '" + x.name + "'>")
	case Func:
		b.WriteString("<built-in function>")
	case *loopInfo:
		fmt.Fprintf(b, "<LoopContext %d/%d>", x.i+1, len(x.items))
	default:
		fmt.Fprintf(b, "%v", x)
	}
}

// writeStrRepr quotes s as Python's repr does.
func writeStrRepr(b *strings.Builder, s string) {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == utf8.RuneError:
			b.WriteString(`\ufffd`)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(b, `\x%02x`, r)
		case r < 0x80 || pyPrintable(r):
			b.WriteRune(r)
		case r <= 0xff:
			fmt.Fprintf(b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			fmt.Fprintf(b, `\U%08x`, r)
		}
	}
	b.WriteByte(q)
}

// pyPrintable approximates Python's str.isprintable for one character:
// everything but control, format, surrogate, private-use, unassigned and
// separator characters other than the ASCII space.
func pyPrintable(r rune) bool {
	if r == ' ' {
		return true
	}
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S)
}

// writePyFloat writes f as Python's float repr; json selects json.dumps'
// spelling of the non-finite values.
func writePyFloat(b *strings.Builder, f float64, json bool) {
	switch {
	case math.IsNaN(f):
		b.WriteString(map[bool]string{false: "nan", true: "NaN"}[json])
		return
	case math.IsInf(f, 1):
		b.WriteString(map[bool]string{false: "inf", true: "Infinity"}[json])
		return
	case math.IsInf(f, -1):
		b.WriteString(map[bool]string{false: "-inf", true: "-Infinity"}[json])
		return
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // [-]d[.ddd]e±XX
	if s[0] == '-' {
		b.WriteByte('-')
		s = s[1:]
	}
	mant, expStr, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expStr)
	digits := strings.Replace(mant, ".", "", 1)
	if exp < -4 || exp >= 16 {
		b.WriteString(digits[:1])
		if len(digits) > 1 {
			b.WriteByte('.')
			b.WriteString(digits[1:])
		}
		b.WriteByte('e')
		if exp < 0 {
			b.WriteByte('-')
			exp = -exp
		} else {
			b.WriteByte('+')
		}
		if exp < 10 {
			b.WriteByte('0')
		}
		b.WriteString(strconv.Itoa(exp))
		return
	}
	point := exp + 1
	switch {
	case point <= 0:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", -point))
		b.WriteString(digits)
	case point >= len(digits):
		b.WriteString(digits)
		b.WriteString(strings.Repeat("0", point-len(digits)))
		b.WriteString(".0")
	default:
		b.WriteString(digits[:point])
		b.WriteByte('.')
		b.WriteString(digits[point:])
	}
}

// number returns v as a float64 or int64 for arithmetic; bools are ints.
func number(v Value) (i int64, f float64, isFloat, ok bool) {
	switch x := v.(type) {
	case bool:
		if x {
			return 1, 0, false, true
		}
		return 0, 0, false, true
	case int64:
		return x, 0, false, true
	case float64:
		return 0, x, true, true
	}
	return 0, 0, false, false
}

// equal is Python's ==.
func equal(a, b Value) bool {
	if ai, af, aF, ok := number(a); ok {
		if bi, bf, bF, ok := number(b); ok {
			switch {
			case !aF && !bF:
				return ai == bi
			case aF && bF:
				return af == bf
			case aF:
				return af == float64(bi)
			default:
				return float64(ai) == bf
			}
		}
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case Undefined:
		_, ok := b.(Undefined)
		return ok
	case string:
		y, ok := b.(string)
		return ok && x == y
	case *big.Int:
		y, ok := b.(*big.Int)
		return ok && x.Cmp(y) == 0
	case *List:
		y, ok := b.(*List)
		if !ok || x.Tuple != y.Tuple || len(x.Items) != len(y.Items) {
			return false
		}
		for i := range x.Items {
			if !equal(x.Items[i], y.Items[i]) {
				return false
			}
		}
		return true
	case *Dict:
		y, ok := b.(*Dict)
		if !ok || x.Len() != y.Len() {
			return false
		}
		for i, k := range x.keys {
			v, ok := y.Get(k)
			if !ok || !equal(x.vals[i], v) {
				return false
			}
		}
		return true
	}
	return a == b
}

// compare orders a and b as Python's < does, or fails for unorderable types.
func compare(a, b Value) (int, error) {
	if ai, af, aF, ok := number(a); ok {
		if bi, bf, bF, ok := number(b); ok {
			if !aF && !bF {
				return cmpOrdered(ai, bi), nil
			}
			x, y := af, bf
			if !aF {
				x = float64(ai)
			}
			if !bF {
				y = float64(bi)
			}
			return cmpOrdered(x, y), nil
		}
	}
	if x, ok := a.(string); ok {
		if y, ok := b.(string); ok {
			return strings.Compare(x, y), nil
		}
	}
	if x, ok := a.(*List); ok {
		if y, ok := b.(*List); ok && x.Tuple == y.Tuple {
			for i := 0; i < len(x.Items) && i < len(y.Items); i++ {
				if !equal(x.Items[i], y.Items[i]) {
					return compare(x.Items[i], y.Items[i])
				}
			}
			return cmpOrdered(len(x.Items), len(y.Items)), nil
		}
	}
	return 0, fmt.Errorf("'<' not supported between instances of '%s' and '%s'", typeName(a), typeName(b))
}

func cmpOrdered[T int | int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// sortValues sorts vs in place as Python's sorted() would, or fails.
func sortValues(vs []Value, key func(Value) Value) error {
	var err error
	sort.SliceStable(vs, func(i, j int) bool {
		a, b := vs[i], vs[j]
		if key != nil {
			a, b = key(a), key(b)
		}
		c, e := compare(a, b)
		if e != nil && err == nil {
			err = e
		}
		return c < 0
	})
	return err
}

// iterate returns the items a for loop over v visits.
func iterate(v Value) ([]Value, error) {
	switch x := v.(type) {
	case Undefined:
		return nil, nil
	case *List:
		return x.Items, nil
	case *Dict:
		return append([]Value(nil), x.keys...), nil
	case string:
		var out []Value
		for _, r := range x {
			out = append(out, string(r))
		}
		return out, nil
	}
	return nil, fmt.Errorf("'%s' object is not iterable", typeName(v))
}

// length is Python's len(v).
func length(v Value) (int, error) {
	switch x := v.(type) {
	case Undefined:
		return 0, nil
	case string:
		return utf8.RuneCountInString(x), nil
	case *List:
		return len(x.Items), nil
	case *Dict:
		return x.Len(), nil
	}
	return 0, fmt.Errorf("object of type '%s' has no len()", typeName(v))
}
