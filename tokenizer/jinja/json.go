package jinja

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// fToJSON is transformers' tojson filter: json.dumps(x, ensure_ascii=False,
// indent=None, separators=None, sort_keys=False).
func fToJSON(_ *renderer, v Value, args []Value, kwargs *Dict) (Value, error) {
	o := jsonOpts{itemSep: ", ", keySep: ": "}
	names := []string{"ensure_ascii", "indent", "separators", "sort_keys"}
	if len(args) > len(names) {
		return nil, errorf("tojson() takes at most %d arguments", len(names))
	}
	opt := map[string]Value{}
	for i, a := range args {
		opt[names[i]] = a
	}
	for i, k := range kwargs.keys {
		name, _ := k.(string)
		if !containsString(names, name) {
			return nil, errorf("tojson() got an unexpected keyword argument '%v'", k)
		}
		opt[name] = kwargs.vals[i]
	}
	o.ascii = truth(opt["ensure_ascii"])
	o.sortKeys = truth(opt["sort_keys"])
	switch ind := opt["indent"].(type) {
	case nil:
	case int64:
		o.indent = strings.Repeat(" ", int(max(0, min(ind, 64))))
		o.pretty = true
		o.itemSep = ","
	case string:
		o.indent, o.pretty, o.itemSep = ind, true, ","
	default:
		return nil, errorf("tojson indent must be an int or a str")
	}
	if sep, ok := opt["separators"].(*List); ok {
		if len(sep.Items) != 2 {
			return nil, errorf("tojson separators must be a pair of strings")
		}
		o.itemSep, o.keySep = str(sep.Items[0]), str(sep.Items[1])
	}
	var b strings.Builder
	if err := o.write(&b, v, 0); err != nil {
		return nil, err
	}
	return b.String(), nil
}

// ToJSON serializes v as Python's json.dumps(v, ensure_ascii=False) does.
func ToJSON(v Value) (string, error) {
	var b strings.Builder
	o := jsonOpts{itemSep: ", ", keySep: ": "}
	if err := o.write(&b, v, 0); err != nil {
		return "", err
	}
	return b.String(), nil
}

type jsonOpts struct {
	ascii, sortKeys, pretty bool
	indent                  string
	itemSep, keySep         string
}

func (o *jsonOpts) newline(b *strings.Builder, depth int) {
	if o.pretty {
		b.WriteByte('\n')
		for range depth {
			b.WriteString(o.indent)
		}
	}
}

func (o *jsonOpts) write(b *strings.Builder, v Value, depth int) error {
	if depth > maxDepth {
		return errorf("maximum recursion depth exceeded while encoding a JSON object")
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(map[bool]string{false: "false", true: "true"}[x])
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case *big.Int:
		b.WriteString(x.String())
	case float64:
		writePyFloat(b, x, true)
	case string:
		writeJSONString(b, x, o.ascii)
	case *List:
		if len(x.Items) == 0 {
			b.WriteString("[]")
			return nil
		}
		b.WriteByte('[')
		for i, e := range x.Items {
			if i > 0 {
				b.WriteString(o.itemSep)
			}
			o.newline(b, depth+1)
			if err := o.write(b, e, depth+1); err != nil {
				return err
			}
		}
		o.newline(b, depth)
		b.WriteByte(']')
	case *Dict:
		if x.Len() == 0 {
			b.WriteString("{}")
			return nil
		}
		order := make([]int, x.Len())
		keys := make([]string, x.Len())
		for i, k := range x.keys {
			order[i] = i
			switch kk := k.(type) {
			case string:
				keys[i] = kk
			case nil:
				keys[i] = "null"
			case bool:
				keys[i] = map[bool]string{false: "false", true: "true"}[kk]
			case int64, float64, *big.Int:
				var kb strings.Builder
				if err := o.write(&kb, kk, depth+1); err != nil {
					return err
				}
				keys[i] = kb.String()
			default:
				return errorf("keys must be str, int, float, bool or None, not %s", typeName(k))
			}
		}
		if o.sortKeys {
			for _, k := range x.keys {
				if _, ok := k.(string); !ok {
					return errorf("'<' not supported between instances of '%s' and 'str'", typeName(k))
				}
			}
			sort.SliceStable(order, func(i, j int) bool { return keys[order[i]] < keys[order[j]] })
		}
		b.WriteByte('{')
		for n, i := range order {
			if n > 0 {
				b.WriteString(o.itemSep)
			}
			o.newline(b, depth+1)
			writeJSONString(b, keys[i], o.ascii)
			b.WriteString(o.keySep)
			if err := o.write(b, x.vals[i], depth+1); err != nil {
				return err
			}
		}
		o.newline(b, depth)
		b.WriteByte('}')
	default:
		return errorf("Object of type %s is not JSON serializable", typeName(v))
	}
	return nil
}

// writeJSONString quotes s as Python's json module does: '"', '\\' and
// control characters escaped, and with ascii every non-ASCII character as
// \uXXXX (surrogate pairs beyond the BMP).
func writeJSONString(b *strings.Builder, s string, ascii bool) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20:
			fmt.Fprintf(b, `\u%04x`, r)
		case ascii && r > 0x7e:
			if r > 0xffff {
				r -= 0x10000
				fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
			} else {
				fmt.Fprintf(b, `\u%04x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// FromJSON decodes one JSON value as Python's json.loads does: objects
// become dicts in key order (a repeated key keeps its first position and
// its last value), integer literals ints and other numbers floats.
func FromJSON(raw []byte) (Value, error) {
	if !utf8.Valid(raw) {
		return nil, errors.New("json value is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := fromJSONValue(dec, 0)
	if err != nil {
		return nil, fmt.Errorf("invalid json value: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid json value: trailing data")
	}
	return v, nil
}

func fromJSONValue(dec *json.Decoder, depth int) (Value, error) {
	if depth > maxDepth {
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
			l := &List{Items: []Value{}}
			for dec.More() {
				e, err := fromJSONValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				l.Items = append(l.Items, e)
			}
			_, err := dec.Token()
			return l, err
		case '{':
			d := NewDict()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object key %v is not a string", kt)
				}
				e, err := fromJSONValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				d.Set(k, e)
			}
			_, err := dec.Token()
			return d, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case json.Number:
		return numberLiteral(string(t))
	default:
		return t, nil // nil, bool, string
	}
}

// numberLiteral converts a JSON number literal as Python's json.loads
// does: an int without fraction or exponent, else a float.
func numberLiteral(lit string) (Value, error) {
	if !strings.ContainsAny(lit, ".eE") {
		if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
			return n, nil
		}
		b, ok := new(big.Int).SetString(lit, 10)
		if !ok {
			return nil, fmt.Errorf("invalid JSON number %q", lit)
		}
		return b, nil
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, fmt.Errorf("invalid JSON number %q: %w", lit, err)
	}
	return f, nil
}

// FromGo converts a Go value to a template value:
//   - json.RawMessage: as FromJSON (key order kept; the exact form);
//   - json.Number: as a JSON number literal;
//   - nil, bool, string, integers: None, bool, str, int;
//   - float64, float32: a float, except that integral values below 2^53
//     become ints, because encoding/json decodes every JSON number into
//     float64 and 5 is the far likelier original than 5.0;
//   - []any, map[string]any (keys sorted, a Go map having no order);
//   - values of this package (*Dict, *List…) as they are;
//   - any other type through encoding/json.
func FromGo(v any) (Value, error) { return fromGo(v, 0) }

func fromGo(v any, depth int) (Value, error) {
	if depth > maxDepth {
		return nil, errors.New("json value nested too deeply")
	}
	switch x := v.(type) {
	case nil, bool, string, int64, *big.Int, *Dict, *List, Undefined:
		return x, nil
	case json.RawMessage:
		return FromJSON(x)
	case json.Number:
		return numberLiteral(string(x))
	case float64:
		return goFloat(x), nil
	case float32:
		return goFloat(float64(x)), nil
	case int, int8, int16, int32:
		return reflect.ValueOf(x).Int(), nil
	case uint, uint8, uint16, uint32, uint64:
		u := reflect.ValueOf(x).Uint()
		if u > math.MaxInt64 {
			return new(big.Int).SetUint64(u), nil
		}
		return int64(u), nil
	case []any:
		l := &List{Items: make([]Value, len(x))}
		for i, e := range x {
			var err error
			if l.Items[i], err = fromGo(e, depth+1); err != nil {
				return nil, err
			}
		}
		return l, nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		d := NewDict()
		for _, k := range keys {
			e, err := fromGo(x[k], depth+1)
			if err != nil {
				return nil, err
			}
			d.Set(k, e)
		}
		return d, nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("json value of type %T: %w", v, err)
	}
	return FromJSON(raw)
}

func goFloat(f float64) Value {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 && !(f == 0 && math.Signbit(f)) {
		return int64(f)
	}
	return f
}
