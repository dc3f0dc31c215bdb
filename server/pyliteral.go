package server

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxPyDepth bounds the nesting pyLiteralJSON follows.
const maxPyDepth = 64

// pyLiteralJSON converts a Python literal — what Qwen3-Coder's template
// prints for an object or list argument (Jinja's | string is Python's
// str: {'a': 1, 'b': True}) and so what the model may write — to JSON:
// dicts with string keys, lists, tuples, strings in either quote, ints,
// floats, True, False and None. It reports false for anything else, as
// Python's ast.literal_eval would fail or give what JSON cannot hold.
func pyLiteralJSON(s string) (string, bool) {
	r := pyReader{s: s}
	var b strings.Builder
	if !r.value(&b, 0) {
		return "", false
	}
	r.space()
	if r.i != len(r.s) {
		return "", false
	}
	return b.String(), true
}

type pyReader struct {
	s string
	i int
}

func (r *pyReader) space() {
	for r.i < len(r.s) && strings.IndexByte(" \t\r\n", r.s[r.i]) >= 0 {
		r.i++
	}
}

func (r *pyReader) value(b *strings.Builder, depth int) bool {
	r.space()
	if r.i >= len(r.s) || depth > maxPyDepth {
		return false
	}
	switch c := r.s[r.i]; {
	case c == '{':
		return r.container(b, depth, '}', true)
	case c == '[':
		return r.container(b, depth, ']', false)
	case c == '(':
		return r.container(b, depth, ')', false)
	case c == '\'' || c == '"':
		str, ok := r.str()
		if ok {
			b.WriteString(jsonString(str))
		}
		return ok
	}
	for _, w := range []struct{ py, js string }{{"True", "true"}, {"False", "false"}, {"None", "null"}} {
		if strings.HasPrefix(r.s[r.i:], w.py) {
			r.i += len(w.py)
			b.WriteString(w.js)
			return true
		}
	}
	return r.number(b)
}

// container reads a dict (keys strings), list or tuple, ended by end.
func (r *pyReader) container(b *strings.Builder, depth int, end byte, dict bool) bool {
	r.i++
	open := byte('[')
	if dict {
		open = '{'
	}
	b.WriteByte(open)
	for n := 0; ; n++ {
		r.space()
		if r.i < len(r.s) && r.s[r.i] == end {
			r.i++
			if dict {
				b.WriteByte('}')
			} else {
				b.WriteByte(']')
			}
			return true
		}
		if n > 0 {
			if r.i >= len(r.s) || r.s[r.i] != ',' {
				return false
			}
			r.i++
			r.space()
			if r.i < len(r.s) && r.s[r.i] == end { // a trailing comma
				continue
			}
			b.WriteString(", ")
		}
		if dict {
			r.space()
			if r.i >= len(r.s) || r.s[r.i] != '\'' && r.s[r.i] != '"' {
				return false
			}
			k, ok := r.str()
			if !ok {
				return false
			}
			r.space()
			if r.i >= len(r.s) || r.s[r.i] != ':' {
				return false
			}
			r.i++
			b.WriteString(jsonString(k))
			b.WriteString(": ")
		}
		if !r.value(b, depth+1) {
			return false
		}
	}
}

// str reads a quoted Python string (no prefixes, no triple quotes).
func (r *pyReader) str() (string, bool) {
	q := r.s[r.i]
	r.i++
	var b strings.Builder
	for r.i < len(r.s) {
		c := r.s[r.i]
		switch {
		case c == q:
			r.i++
			return b.String(), true
		case c == '\n':
			return "", false
		case c != '\\':
			b.WriteByte(c)
			r.i++
			continue
		}
		r.i++
		if r.i >= len(r.s) {
			return "", false
		}
		e := r.s[r.i]
		r.i++
		switch e {
		case '\\', '\'', '"':
			b.WriteByte(e)
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'x', 'u', 'U':
			n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			if r.i+n > len(r.s) {
				return "", false
			}
			v, err := strconv.ParseUint(r.s[r.i:r.i+n], 16, 32)
			if err != nil || !utf8.ValidRune(rune(v)) {
				return "", false
			}
			b.WriteRune(rune(v))
			r.i += n
		default:
			return "", false
		}
	}
	return "", false
}

// number reads an int or float as JSON writes it.
func (r *pyReader) number(b *strings.Builder) bool {
	j := r.i
	for j < len(r.s) && strings.IndexByte("+-0123456789.eE_", r.s[j]) >= 0 {
		j++
	}
	t := strings.ReplaceAll(r.s[r.i:j], "_", "")
	t = strings.TrimPrefix(t, "+")
	if t == "" {
		return false
	}
	if json.Valid([]byte(t)) {
		b.WriteString(t)
		r.i = j
		return true
	}
	f, err := strconv.ParseFloat(t, 64) // 1., .5, 007 and the like
	if err != nil || strings.ContainsAny(t, "xXpP") {
		return false
	}
	out, _ := json.Marshal(f)
	b.WriteString(string(out))
	r.i = j
	return true
}
