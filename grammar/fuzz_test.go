package grammar

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzSchema compiles arbitrary schemas: no panic, and for those that
// compile, random generations within the budget parse as JSON.
func FuzzSchema(f *testing.F) {
	for _, c := range schemaCases {
		f.Add([]byte(c.schema), uint64(1))
	}
	f.Add([]byte(`{"anyOf":[{"type":"string"},{"enum":[1,[2],{"a":null}]}]}`), uint64(2))
	f.Add([]byte(`{"$defs":{"a":{"type":"array","items":{"$ref":"#/$defs/b"}},"b":{"anyOf":[{"$ref":"#/$defs/a"},{"type":"null"}]}},"$ref":"#/$defs/a"}`), uint64(3))
	f.Add([]byte(`{"type":"object","properties":{"a\"b":{"const":"\u00e9"}},"required":["a\"b"]}`), uint64(4))
	v, _ := smallVocab(f)
	f.Fuzz(func(t *testing.T, schema []byte, seed uint64) {
		g, err := Schema(schema)
		if err != nil {
			return
		}
		rng := rand.New(rand.NewPCG(seed, 9))
		budget := max(g.root.min, 1) + int(seed%40)
		if g.root.min > 400 {
			return
		}
		out, complete := generate(t, g, v, budget, rng)
		if complete && !json.Valid([]byte(out)) {
			t.Fatalf("schema %s: complete output %q is not JSON", schema, out)
		}
		if !complete {
			t.Fatalf("schema %s: budget %d ≥ shortest %d, yet incomplete %q", schema, budget, g.root.min, out)
		}
	})
}

// Hostile schemas are refused or compiled within bounds, quickly.
func TestHostileSchemasAreBounded(t *testing.T) {
	var wide strings.Builder
	wide.WriteString(`{"type":"object","properties":{`)
	for i := range 1001 {
		if i > 0 {
			wide.WriteString(",")
		}
		wide.WriteString(`"p` + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + itoa(i) + `":{"type":"integer"}`)
	}
	wide.WriteString(`}}`)
	var chain strings.Builder
	chain.WriteString(`{"$defs":{`)
	for i := range 3000 {
		if i > 0 {
			chain.WriteString(",")
		}
		chain.WriteString(`"d` + itoa(i) + `":{"type":"array","items":{"$ref":"#/$defs/d` + itoa(i+1) + `"}}`)
	}
	chain.WriteString(`,"d3000":{"type":"null"}},"$ref":"#/$defs/d0"}`)
	var enum strings.Builder
	enum.WriteString(`{"enum":[`)
	for i := range 5000 {
		if i > 0 {
			enum.WriteString(",")
		}
		enum.WriteString(itoa(i))
	}
	enum.WriteString(`]}`)
	for _, c := range []struct {
		name, schema string
		ok           bool
	}{
		{"1001 properties", wide.String(), false},
		{"3000 chained refs", chain.String(), false}, // compiling recursion is bounded
		{"5000 enum values", enum.String(), false},
		{"deep nesting", strings.Repeat(`{"items":`, 200) + `{}` + strings.Repeat(`}`, 200), false},
		{"huge minLength", `{"type":"string","minLength":100000}`, false},
		{"huge minItems product", `{"type":"array","minItems":4096,"items":{"type":"array","minItems":4096,"items":{"type":"string","minLength":4096}}}`, false},
		{"bounded minItems product", `{"type":"array","minItems":100,"items":{"type":"array","minItems":100,"items":{"type":"string","minLength":100}}}`, true},
		{"long document", `{"description":"` + strings.Repeat("x", MaxSchemaBytes) + `"}`, false},
	} {
		start := time.Now()
		g, err := Schema([]byte(c.schema))
		if el := time.Since(start); el > 2*time.Second {
			t.Errorf("%s: took %v", c.name, el)
		}
		if (err == nil) != c.ok {
			t.Errorf("%s: err %v, want ok %v", c.name, err, c.ok)
		}
		if g != nil && len(g.nodes) > maxNodes+200 {
			t.Errorf("%s: %d nodes", c.name, len(g.nodes))
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestSchemaKeysEndingInAQuote: a property name that ends (or starts) with
// a quote is matched on its escaped text, \", whole (FuzzSchema found
// `{"required":["\""]}` cut to a lone backslash that nothing continues).
func TestSchemaKeysEndingInAQuote(t *testing.T) {
	v, _ := smallVocab(t)
	for _, schema := range []string{
		`{"required":["\""]}`,
		`{"type":"object","properties":{"a\"":{"type":"null"}},"required":["a\""]}`,
		`{"type":"object","properties":{"\"b":{"type":"null"},"\"":{"type":"null"}},"required":["\"b","\""],"additionalProperties":false}`,
	} {
		g, err := Schema([]byte(schema))
		if err != nil {
			t.Fatalf("%s: %v", schema, err)
		}
		for seed := range uint64(8) {
			out, complete := generate(t, g, v, max(g.root.min, 1)+int(seed)*5, rand.New(rand.NewPCG(seed, 9)))
			var obj map[string]any
			if !complete || json.Unmarshal([]byte(out), &obj) != nil {
				t.Fatalf("%s: seed %d: %q (complete %v) is not a JSON object", schema, seed, out, complete)
			}
			var want map[string]any
			json.Unmarshal([]byte(schema), &want)
			for _, k := range want["required"].([]any) {
				if _, ok := obj[k.(string)]; !ok {
					t.Errorf("%s: seed %d: %q has no key %q", schema, seed, out, k)
				}
			}
		}
	}
}
