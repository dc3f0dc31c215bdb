package jinja

import (
	"fmt"
	"strings"
	"time"
)

// The global functions jinja2 and transformers add to the defaults.

func fRange(_ *renderer, args []Value, _ *Dict) (Value, error) {
	var b [3]int64
	b[2] = 1
	for i, a := range args {
		n, ok := a.(int64)
		if !ok {
			return nil, errorf("'%s' object cannot be interpreted as an integer", typeName(a))
		}
		b[i] = n
	}
	start, stop, step := b[0], b[1], b[2]
	switch len(args) {
	case 1:
		start, stop = 0, b[0]
	case 2, 3:
	default:
		return nil, errorf("range expected 1 to 3 arguments, got %d", len(args))
	}
	if step == 0 {
		return nil, errorf("range() arg 3 must not be zero")
	}
	out := &List{}
	for i := start; (step > 0 && i < stop) || (step < 0 && i > stop); i += step {
		if len(out.Items) >= maxRange {
			return nil, errorf("Range too big. The sandbox blocks ranges larger than MAX_RANGE (%d).", maxRange)
		}
		out.Items = append(out.Items, i)
	}
	return out, nil
}

// fStrftimeNow formats the current local time with the common strftime
// directives.
func fStrftimeNow(_ *renderer, args []Value, _ *Dict) (Value, error) {
	if len(args) != 1 {
		return nil, errorf("strftime_now() takes 1 argument")
	}
	layout, ok := args[0].(string)
	if !ok {
		return nil, errorf("strftime() argument 1 must be str, not %s", typeName(args[0]))
	}
	now := time.Now()
	var b strings.Builder
	for i := 0; i < len(layout); i++ {
		if layout[i] != '%' || i+1 == len(layout) {
			b.WriteByte(layout[i])
			continue
		}
		i++
		switch layout[i] {
		case 'd':
			b.WriteString(now.Format("02"))
		case 'm':
			b.WriteString(now.Format("01"))
		case 'Y':
			b.WriteString(now.Format("2006"))
		case 'y':
			b.WriteString(now.Format("06"))
		case 'H':
			b.WriteString(now.Format("15"))
		case 'M':
			b.WriteString(now.Format("04"))
		case 'S':
			b.WriteString(now.Format("05"))
		case 'b':
			b.WriteString(now.Format("Jan"))
		case 'B':
			b.WriteString(now.Format("January"))
		case 'a':
			b.WriteString(now.Format("Mon"))
		case 'A':
			b.WriteString(now.Format("Monday"))
		case 'p':
			b.WriteString(now.Format("PM"))
		case 'I':
			b.WriteString(now.Format("03"))
		case 'j':
			b.WriteString(fmt.Sprintf("%03d", now.YearDay()))
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(layout[i])
		}
	}
	return b.String(), nil
}
