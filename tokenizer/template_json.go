package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file reproduces the chat template's `tojson` filter, which in
// transformers is Python's json.dumps(x, ensure_ascii=False): ", " and ": "
// separators, non-ASCII text kept raw, floats printed with Python's repr and
// integers with arbitrary precision.
//
// Value mapping (Go → Python):
//   - json.RawMessage: decoded in order; objects keep their key order (a
//     repeated key keeps its first position and its last value, like a dict),
//     integer literals stay integers and other numbers become floats. This is
//     the form that reproduces transformers exactly.
//   - json.Number: the same literal rule as above.
//   - map[string]any: keys sorted, since a Go map has no order.
//   - float64, float32: Python's float repr, except that integral values
//     below 2^53 print as integers, because encoding/json decodes every JSON
//     number into float64 and 5 is the far likelier original than 5.0.
//   - other types (structs...) go through encoding/json first.

// tmplJSONObject is a decoded JSON object that keeps its key order.
type tmplJSONObject struct {
	keys []string
	vals []any
}

// tmplToJSON renders v as Python's json.dumps(v, ensure_ascii=False) would.
func tmplToJSON(v any) (string, error) {
	var b strings.Builder
	if err := tmplWriteJSON(&b, v, 0); err != nil {
		return "", err
	}
	return b.String(), nil
}

// tmplMaxJSONDepth bounds nesting so that hostile input cannot exhaust the stack.
const tmplMaxJSONDepth = 512

func tmplWriteJSON(b *strings.Builder, v any, depth int) error {
	if depth > tmplMaxJSONDepth {
		return errors.New("json value nested too deeply")
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case string:
		tmplWriteJSONString(b, x)
	case json.Number:
		return tmplWriteNumber(b, string(x))
	case float64:
		tmplWriteGoFloat(b, x)
	case float32:
		tmplWriteGoFloat(b, float64(x))
	case int:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case int8, int16, int32, int64:
		b.WriteString(strconv.FormatInt(reflect.ValueOf(x).Int(), 10))
	case uint, uint8, uint16, uint32, uint64:
		b.WriteString(strconv.FormatUint(reflect.ValueOf(x).Uint(), 10))
	case json.RawMessage:
		parsed, err := tmplParseJSON(x)
		if err != nil {
			return err
		}
		return tmplWriteJSON(b, parsed, depth)
	case *tmplJSONObject:
		b.WriteByte('{')
		for i, k := range x.keys {
			if i > 0 {
				b.WriteString(", ")
			}
			tmplWriteJSONString(b, k)
			b.WriteString(": ")
			if err := tmplWriteJSON(b, x.vals[i], depth+1); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := tmplWriteJSON(b, e, depth+1); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			tmplWriteJSONString(b, k)
			b.WriteString(": ")
			if err := tmplWriteJSON(b, x[k], depth+1); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		raw, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("json value of type %T: %w", v, err)
		}
		return tmplWriteJSON(b, json.RawMessage(raw), depth)
	}
	return nil
}

// tmplWriteJSONString quotes s the way Python's json module does with
// ensure_ascii=False: only '"', '\\' and control characters are escaped.
func tmplWriteJSONString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b.WriteString(s[start:i])
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		}
		start = i + 1
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}

// tmplWriteNumber writes a JSON number literal as Python prints the value
// json.loads makes of it: an int if the literal has no fraction or exponent,
// else a float.
func tmplWriteNumber(b *strings.Builder, lit string) error {
	if !tmplValidNumber(lit) {
		return fmt.Errorf("invalid JSON number %q", lit)
	}
	if !strings.ContainsAny(lit, ".eE") {
		if strings.Trim(lit, "-0") == "" {
			b.WriteByte('0') // Python's int("-0") is 0
			return nil
		}
		b.WriteString(lit)
		return nil
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return fmt.Errorf("invalid JSON number %q: %w", lit, err)
	}
	tmplWritePyFloat(b, f)
	return nil
}

// tmplValidNumber reports whether lit follows JSON's number grammar.
func tmplValidNumber(lit string) bool {
	i := 0
	if i < len(lit) && lit[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(lit) && lit[i] >= '0' && lit[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(lit) && lit[i] == '0' {
		i++
	} else if digits() == 0 {
		return false
	}
	if i < len(lit) && lit[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(lit) && (lit[i] == 'e' || lit[i] == 'E') {
		i++
		if i < len(lit) && (lit[i] == '+' || lit[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(lit)
}

// tmplWriteGoFloat writes a float that came from Go code; see the value
// mapping at the top of this file for why integral values print as integers.
func tmplWriteGoFloat(b *strings.Builder, f float64) {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 && !(f == 0 && math.Signbit(f)) {
		b.WriteString(strconv.FormatInt(int64(f), 10))
		return
	}
	tmplWritePyFloat(b, f)
}

// tmplWritePyFloat writes f as Python's float.__repr__ (and so json.dumps)
// does: shortest round-trip digits, positional notation for decimal
// exponents in [-4, 16), a ".0" on integral values, and "e+XX"/"e-XX"
// exponents of at least two digits otherwise.
func tmplWritePyFloat(b *strings.Builder, f float64) {
	switch {
	case math.IsNaN(f):
		b.WriteString("NaN")
		return
	case math.IsInf(f, 1):
		b.WriteString("Infinity")
		return
	case math.IsInf(f, -1):
		b.WriteString("-Infinity")
		return
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // [-]d[.ddd]e±XX
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	mant, expStr, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expStr)
	digits := strings.Replace(mant, ".", "", 1)
	if neg {
		b.WriteByte('-')
	}
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
	point := exp + 1 // digits before the decimal point
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

// tmplParseJSON decodes one JSON value keeping object key order and number
// literals.
func tmplParseJSON(raw []byte) (any, error) {
	if !utf8.Valid(raw) {
		return nil, errors.New("json value is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := tmplParseValue(dec, 0)
	if err != nil {
		return nil, fmt.Errorf("invalid json value: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid json value: trailing data")
	}
	return v, nil
}

func tmplParseValue(dec *json.Decoder, depth int) (any, error) {
	if depth > tmplMaxJSONDepth {
		return nil, errors.New("nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '[':
			arr := []any{}
			for dec.More() {
				e, err := tmplParseValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				arr = append(arr, e)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return arr, nil
		case '{':
			obj := &tmplJSONObject{}
			seen := map[string]int{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object key %v is not a string", kt)
				}
				e, err := tmplParseValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				if i, dup := seen[k]; dup {
					obj.vals[i] = e
				} else {
					seen[k] = len(obj.keys)
					obj.keys = append(obj.keys, k)
					obj.vals = append(obj.vals, e)
				}
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return obj, nil
		}
		return nil, fmt.Errorf("unexpected %v", t)
	default:
		return t, nil // nil, bool, string, json.Number
	}
}
