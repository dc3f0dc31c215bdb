package jinja

import (
	"math"
	"math/big"
	"strings"
)

func unary(op string, v Value) (Value, error) {
	if op == "not" {
		return !truth(v), nil
	}
	if u, ok := v.(Undefined); ok {
		return nil, undefinedError(u)
	}
	i, f, isF, ok := number(v)
	if !ok {
		return nil, errorf("bad operand type for unary %s: '%s'", op, typeName(v))
	}
	if op == "+" {
		if isF {
			return f, nil
		}
		return i, nil
	}
	if isF {
		return -f, nil
	}
	if i == math.MinInt64 {
		return nil, errorf("integer overflow")
	}
	return -i, nil
}

// binary applies an arithmetic operator with Python's rules.
func binary(op string, l, r Value) (Value, error) {
	if u, ok := l.(Undefined); ok {
		return nil, undefinedError(u)
	}
	if u, ok := r.(Undefined); ok {
		return nil, undefinedError(u)
	}
	li, lf, lF, lok := number(l)
	ri, rf, rF, rok := number(r)
	if lok && rok {
		if lF || rF {
			if !lF {
				lf = float64(li)
			}
			if !rF {
				rf = float64(ri)
			}
			return floatOp(op, lf, rf)
		}
		return intOp(op, li, ri)
	}
	switch op {
	case "+":
		if ls, ok := l.(string); ok {
			if rs, ok := r.(string); ok {
				if len(ls)+len(rs) > maxOutput {
					return nil, errorf("string longer than %d bytes", maxOutput)
				}
				return ls + rs, nil
			}
			return nil, errorf("can only concatenate str (not \"%s\") to str", typeName(r))
		}
		if ll, ok := l.(*List); ok {
			if rl, ok := r.(*List); ok && rl.Tuple == ll.Tuple {
				if len(ll.Items)+len(rl.Items) > maxListLen {
					return nil, errorf("list longer than %d items", maxListLen)
				}
				return &List{Items: append(append([]Value(nil), ll.Items...), rl.Items...), Tuple: ll.Tuple}, nil
			}
			return nil, errorf("can only concatenate %s (not \"%s\") to %s", typeName(l), typeName(r), typeName(l))
		}
	case "%":
		if f, ok := l.(string); ok {
			if t, ok := r.(*List); ok && t.Tuple {
				return pyFormat(f, t.Items)
			}
			return pyFormat(f, []Value{r})
		}
	case "*":
		if s, n, ok := repetition(l, r); ok {
			return repeat(s, n)
		}
		if s, n, ok := repetition(r, l); ok {
			return repeat(s, n)
		}
	}
	return nil, errorf("unsupported operand type(s) for %s: '%s' and '%s'", op, typeName(l), typeName(r))
}

func repetition(seq, count Value) (Value, int64, bool) {
	n, ok := count.(int64)
	if b, isBool := count.(bool); isBool {
		n, ok = map[bool]int64{false: 0, true: 1}[b], true
	}
	if !ok {
		return nil, 0, false
	}
	switch seq.(type) {
	case string, *List:
		return seq, n, true
	}
	return nil, 0, false
}

func repeat(seq Value, n int64) (Value, error) {
	if n < 0 {
		n = 0
	}
	switch s := seq.(type) {
	case string:
		if int64(len(s))*n > maxRepetition {
			return nil, errorf("string repetition longer than %d bytes", maxRepetition)
		}
		return strings.Repeat(s, int(n)), nil
	case *List:
		if int64(len(s.Items))*n > maxListLen {
			return nil, errorf("list repetition longer than %d items", maxListLen)
		}
		out := &List{Tuple: s.Tuple}
		for range n {
			out.Items = append(out.Items, s.Items...)
		}
		return out, nil
	}
	return nil, errorf("bad repetition")
}

func intOp(op string, a, b int64) (Value, error) {
	overflow := errorf("integer overflow in %d %s %d", a, op, b)
	switch op {
	case "+":
		c := a + b
		if (c > a) != (b > 0) {
			return nil, overflow
		}
		return c, nil
	case "-":
		c := a - b
		if (c < a) != (b > 0) {
			return nil, overflow
		}
		return c, nil
	case "*":
		c := new(big.Int).Mul(big.NewInt(a), big.NewInt(b))
		if !c.IsInt64() {
			return nil, overflow
		}
		return c.Int64(), nil
	case "/":
		if b == 0 {
			return nil, errorf("division by zero")
		}
		return float64(a) / float64(b), nil
	case "//", "%":
		if b == 0 {
			return nil, errorf("integer division or modulo by zero")
		}
		if a == math.MinInt64 && b == -1 {
			return nil, overflow
		}
		q, m := a/b, a%b
		if m != 0 && (m < 0) != (b < 0) {
			q--
			m += b
		}
		if op == "//" {
			return q, nil
		}
		return m, nil
	case "**":
		if b < 0 {
			return math.Pow(float64(a), float64(b)), nil
		}
		c := new(big.Int).Exp(big.NewInt(a), big.NewInt(min(b, 64)), nil)
		if !c.IsInt64() || (b > 64 && a != 0 && a != 1 && a != -1) {
			return nil, overflow
		}
		if b > 64 && a == -1 && b%2 == 0 {
			return int64(1), nil
		}
		return c.Int64(), nil
	}
	return nil, errorf("unknown operator %s", op)
}

func floatOp(op string, a, b float64) (Value, error) {
	switch op {
	case "+":
		return a + b, nil
	case "-":
		return a - b, nil
	case "*":
		return a * b, nil
	case "/":
		if b == 0 {
			return nil, errorf("float division by zero")
		}
		return a / b, nil
	case "//", "%":
		if b == 0 {
			return nil, errorf("float modulo")
		}
		m := math.Mod(a, b)
		if m != 0 && (m < 0) != (b < 0) {
			m += b
		}
		if op == "%" {
			return m, nil
		}
		return math.Floor((a - m) / b), nil
	case "**":
		return math.Pow(a, b), nil
	}
	return nil, errorf("unknown operator %s", op)
}

func (r *renderer) evalSlice(x *sliceExpr, sc *scope) (Value, error) {
	obj, err := r.eval(x.x, sc)
	if err != nil {
		return nil, err
	}
	var bounds [3]*int64
	for i, e := range []expr{x.lo, x.hi, x.step} {
		if e == nil {
			continue
		}
		v, err := r.eval(e, sc)
		if err != nil {
			return nil, err
		}
		if v == nil {
			continue
		}
		n, ok := v.(int64)
		if !ok {
			return nil, errorf("slice indices must be integers or None")
		}
		bounds[i] = &n
	}
	switch o := obj.(type) {
	case Undefined:
		return nil, undefinedError(o)
	case *List:
		idx, err := sliceIndices(len(o.Items), bounds)
		if err != nil {
			return nil, err
		}
		out := &List{Tuple: o.Tuple, Items: make([]Value, 0, len(idx))}
		for _, i := range idx {
			out.Items = append(out.Items, o.Items[i])
		}
		return out, nil
	case string:
		rs := []rune(o)
		idx, err := sliceIndices(len(rs), bounds)
		if err != nil {
			return nil, err
		}
		out := make([]rune, 0, len(idx))
		for _, i := range idx {
			out = append(out, rs[i])
		}
		return string(out), nil
	}
	return nil, errorf("'%s' object is not subscriptable", typeName(obj))
}

// sliceIndices lists the indices seq[lo:hi:step] selects, as Python does.
func sliceIndices(n int, b [3]*int64) ([]int, error) {
	step := int64(1)
	if b[2] != nil {
		step = *b[2]
	}
	if step == 0 {
		return nil, errorf("slice step cannot be zero")
	}
	clamp := func(p *int64, def int64, lo, hi int64) int64 {
		if p == nil {
			return def
		}
		v := *p
		if v < 0 {
			v += int64(n)
			if v < lo {
				v = lo
			}
		} else if v > hi {
			v = hi
		}
		return v
	}
	var out []int
	if step > 0 {
		lo, hi := clamp(b[0], 0, 0, int64(n)), clamp(b[1], int64(n), 0, int64(n))
		for i := lo; i < hi; i += step {
			out = append(out, int(i))
		}
	} else {
		lo, hi := clamp(b[0], int64(n)-1, -1, int64(n)-1), clamp(b[1], -1, -1, int64(n)-1)
		for i := lo; i > hi; i += step {
			out = append(out, int(i))
		}
	}
	return out, nil
}
