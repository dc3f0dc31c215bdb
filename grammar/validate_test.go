package grammar

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"unicode/utf8"
)

// validate checks instance v against schema s (both as encoding/json
// decodes them, numbers as json.Number) for the keywords the compiler
// supports. It is written from the JSON Schema text, not from the
// compiler's nodes, so that the tests check one against the other.
func validate(root, s, v any) error {
	switch s := s.(type) {
	case bool:
		if !s {
			return fmt.Errorf("false schema")
		}
		return nil
	case map[string]any:
		return validateObj(root, s, v)
	}
	return fmt.Errorf("bad schema %v", s)
}

func typeOf(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		f, _ := v.Float64()
		if f == math.Trunc(f) {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "?"
}

func validateObj(root any, s map[string]any, v any) error {
	if r, ok := s["$ref"].(string); ok {
		t := root
		for _, tok := range strings.Split(strings.TrimPrefix(r, "#"), "/")[1:] {
			t = t.(map[string]any)[tok]
		}
		return validate(root, t, v)
	}
	if e, ok := s["enum"].([]any); ok {
		found := false
		for _, x := range e {
			if equalJSON(x, v) {
				found = true
			}
		}
		if !found {
			return fmt.Errorf("%v not in enum", v)
		}
	}
	if c, ok := s["const"]; ok && !equalJSON(c, v) {
		return fmt.Errorf("%v is not the const %v", v, c)
	}
	for _, k := range []string{"anyOf", "oneOf"} {
		if alts, ok := s[k].([]any); ok {
			n := 0
			for _, a := range alts {
				if validate(root, a, v) == nil {
					n++
				}
			}
			if n == 0 || k == "oneOf" && n > 1 {
				return fmt.Errorf("%s: %d alternatives match %v", k, n, v)
			}
		}
	}
	if t, ok := s["type"]; ok {
		var types []any
		if ts, ok := t.(string); ok {
			types = []any{ts}
		} else {
			types = t.([]any)
		}
		got, ok := typeOf(v), false
		for _, x := range types {
			if x == got || x == "number" && got == "integer" {
				ok = true
			}
		}
		if !ok {
			return fmt.Errorf("%v has type %s, want %v", v, got, types)
		}
	}
	num := func(k string) (int, bool) {
		n, ok := s[k].(json.Number)
		if !ok {
			return 0, false
		}
		i, _ := n.Int64()
		return int(i), true
	}
	switch v := v.(type) {
	case string:
		n := utf8.RuneCountInString(v)
		if m, ok := num("minLength"); ok && n < m {
			return fmt.Errorf("%q shorter than %d", v, m)
		}
		if m, ok := num("maxLength"); ok && n > m {
			return fmt.Errorf("%q longer than %d", v, m)
		}
	case []any:
		if m, ok := num("minItems"); ok && len(v) < m {
			return fmt.Errorf("%d items, fewer than %d", len(v), m)
		}
		if m, ok := num("maxItems"); ok && len(v) > m {
			return fmt.Errorf("%d items, more than %d", len(v), m)
		}
		if it, ok := s["items"]; ok {
			for i, x := range v {
				if err := validate(root, it, x); err != nil {
					return fmt.Errorf("item %d: %w", i, err)
				}
			}
		}
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		req, _ := s["required"].([]any)
		for _, r := range req {
			if _, ok := v[r.(string)]; !ok {
				return fmt.Errorf("required %q missing", r)
			}
		}
		for k, x := range v {
			if ps, ok := props[k]; ok {
				if err := validate(root, ps, x); err != nil {
					return fmt.Errorf("property %q: %w", k, err)
				}
				continue
			}
			switch a := s["additionalProperties"].(type) {
			case bool:
				if !a {
					return fmt.Errorf("additional property %q", k)
				}
			case map[string]any:
				if err := validate(root, a, x); err != nil {
					return fmt.Errorf("property %q: %w", k, err)
				}
			}
		}
	}
	return nil
}

func equalJSON(a, b any) bool {
	if an, ok := a.(json.Number); ok {
		bn, ok := b.(json.Number)
		if !ok {
			return false
		}
		x, _ := an.Float64()
		y, _ := bn.Float64()
		return x == y
	}
	return reflect.DeepEqual(a, b)
}

// decodeUseNumber decodes one JSON text, numbers as json.Number.
func decodeUseNumber(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data")
	}
	return v, nil
}
