package grammar

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/q3m/q3m/tokenizer"
)

// smallVocab is every byte as a token, pieces of JSON markup, words,
// multi-byte characters whole and split, and a stop token (the last id).
func smallVocab(t testing.TB) (*Vocab, int32) {
	t.Helper()
	var pieces []string
	for b := range 256 {
		pieces = append(pieces, string([]byte{byte(b)}))
	}
	pieces = append(pieces, `{"`, `":`, `": `, `",`, `", "`, `"}`, `"},`, `}}`, `]}`, `"]`, `["`, `[{"`, `},{"`, `{}`, `[]`,
		"true", "false", "null", "nul", "tr", "12", "0.5", "-3", "1e", "e+", "99",
		"name", "age", "tags", "hello", " world", "é", "日本", "\xe6\x97", "\xa5", "\\u00e9", "\\n", `\"`,
		"  ", "\n", "\n  ", "    ", `"name"`, `"age":`, "<tool_call>", "</tool_call>", "")
	stop := int32(len(pieces) - 1)
	pieces[stop] = "<|im_end|>"
	added := []int32{int32(len(pieces) - 3), int32(len(pieces) - 2)}
	v, err := newVocab(pieces, added, []int32{stop})
	if err != nil {
		t.Fatal(err)
	}
	return v, stop
}

var qwen struct {
	once sync.Once
	v    *Vocab
	tok  *tokenizer.Tokenizer
	err  error
}

// qwenVocab is the real Qwen3 vocabulary (151,936 logits), from the
// tokenizer.json the tokenizer package tests with.
func qwenVocab(t testing.TB) (*Vocab, *tokenizer.Tokenizer) {
	t.Helper()
	qwen.once.Do(func() {
		f, err := os.Open("../synth/qwen3/tokenizer.json.gz")
		if err != nil {
			qwen.err = err
			return
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			qwen.err = err
			return
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			qwen.err = err
			return
		}
		if qwen.tok, qwen.err = tokenizer.FromHF(b, 151936); qwen.err != nil {
			return
		}
		var stops []int32
		for _, s := range []string{"<|im_end|>", "<|endoftext|>"} {
			id, _ := qwen.tok.Lookup(s)
			stops = append(stops, id)
		}
		qwen.v, qwen.err = NewVocab(qwen.tok, 151936, stops)
	})
	if qwen.err != nil {
		t.Fatal(qwen.err)
	}
	return qwen.v, qwen.tok
}

// generate picks uniformly among the allowed tokens (a model with no
// preference) until a stop token or the budget, and returns the text.
func generate(t *testing.T, g *Grammar, v *Vocab, budget int, rng *rand.Rand) (string, bool) {
	t.Helper()
	m := NewMatcher(g, v)
	var sb strings.Builder
	var ids []int32
	for n := 0; n < budget; n++ {
		bits, err := m.Allowed(budget - n)
		if err != nil {
			t.Fatalf("after %q: %v", sb.String(), err)
		}
		ids = ids[:0]
		for w, word := range bits {
			for word != 0 {
				i := int32(w*64) + int32(trailingZeros(word))
				word &= word - 1
				ids = append(ids, i)
			}
		}
		id := ids[rng.IntN(len(ids))]
		if err := m.Accept(id); err != nil {
			t.Fatalf("after %q: accept allowed token %d %q: %v", sb.String(), id, v.pieces[id], err)
		}
		if v.isStop.has(id) {
			return sb.String(), true
		}
		sb.WriteString(v.pieces[id])
	}
	return sb.String(), m.Complete()
}

func trailingZeros(x uint64) int {
	n := 0
	for x&1 == 0 {
		x >>= 1
		n++
	}
	return n
}

var schemaCases = []struct {
	name, schema string
}{
	{"person", `{"type":"object","properties":{"name":{"type":"string","minLength":1,"maxLength":12},"age":{"type":"integer"},"tags":{"type":"array","items":{"type":"string"},"maxItems":3}},"required":["name","age"],"additionalProperties":false}`},
	{"enums and consts", `{"type":"object","properties":{"unit":{"enum":["celsius","fahrenheit"]},"v":{"const":1.5},"ok":{"type":"boolean"},"n":{"type":"null"}},"required":["unit","v","ok","n"]}`},
	{"nullable anyOf", `{"type":"object","properties":{"a":{"anyOf":[{"type":"string","maxLength":3},{"type":"null"},{"type":"number"}]},"b":{"type":["integer","null"]}},"required":["a","b"]}`},
	{"min items", `{"type":"array","items":{"type":"object","properties":{"x":{"type":"number"}},"required":["x"]},"minItems":2,"maxItems":4}`},
	{"recursive tree", `{"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer"},"kids":{"type":"array","items":{"$ref":"#/$defs/node"}}},"required":["v"]}},"$ref":"#/$defs/node"}`},
	{"free properties", `{"type":"object","properties":{"id":{"type":"string"}},"required":["id"],"additionalProperties":{"type":"integer"}}`},
	{"optional only", `{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"boolean"},"c":{"type":"integer"}}}`},
	{"recursive anyOf", `{"$defs":{"a":{"type":"array","maxItems":3,"items":{"anyOf":[{"$ref":"#/$defs/a"},{"type":"null"},{"type":"integer"}]}}},"$ref":"#/$defs/a"}`},
	{"string bounds", `{"type":"string","minLength":3,"maxLength":5}`},
	{"any object", `{"type":"object","additionalProperties":true}`},
	{"object with nothing declared", `{"type":"object","required":["x"]}`},
}

func TestSchemaGenerationsParseAndValidate(t *testing.T) {
	v, _ := smallVocab(t)
	for _, c := range schemaCases {
		t.Run(c.name, func(t *testing.T) {
			g, err := Schema([]byte(c.schema))
			if err != nil {
				t.Fatal(err)
			}
			schema, _ := decodeUseNumber(c.schema)
			rng := rand.New(rand.NewPCG(1, uint64(len(c.name))))
			for _, budget := range []int{g.root.min, g.root.min + 1, g.root.min + 3, 20, 40, 120} {
				budget = max(budget, g.root.min) // the shortest instance fits
				for range 15 {
					out, complete := generate(t, g, v, budget, rng)
					if !complete {
						t.Fatalf("budget %d: incomplete %q", budget, out)
					}
					inst, err := decodeUseNumber(out)
					if err != nil {
						t.Fatalf("budget %d: %q does not parse: %v", budget, out, err)
					}
					if err := validate(schema, schema, inst); err != nil {
						t.Fatalf("budget %d: %q: %v", budget, out, err)
					}
				}
			}
		})
	}
}

func TestJSONObjectGenerationsParse(t *testing.T) {
	v, _ := smallVocab(t)
	rng := rand.New(rand.NewPCG(2, 3))
	for _, budget := range []int{2, 3, 8, 30, 200} {
		for range 30 {
			out, complete := generate(t, JSONObject(), v, budget, rng)
			var obj map[string]any
			if !complete || json.Unmarshal([]byte(out), &obj) != nil {
				t.Fatalf("budget %d: %q is not a JSON object", budget, out)
			}
		}
	}
}

func TestQwenVocabGenerationsParseAndValidate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the Qwen3 vocabulary")
	}
	v, _ := qwenVocab(t)
	for _, c := range schemaCases[:5] {
		g, err := Schema([]byte(c.schema))
		if err != nil {
			t.Fatal(err)
		}
		schema, _ := decodeUseNumber(c.schema)
		rng := rand.New(rand.NewPCG(4, 5))
		for _, budget := range []int{g.root.min, 12, 30} {
			budget = max(budget, g.root.min)
			out, complete := generate(t, g, v, budget, rng)
			inst, err := decodeUseNumber(out)
			if !complete || err != nil {
				t.Fatalf("%s budget %d: %q: complete %v, %v", c.name, budget, out, complete, err)
			}
			if err := validate(schema, schema, inst); err != nil {
				t.Fatalf("%s budget %d: %q: %v", c.name, budget, out, err)
			}
		}
	}
}

func TestMatcherAcceptsAndRefusesTexts(t *testing.T) {
	person := schemaCases[0].schema
	for _, c := range []struct {
		schema, text string
		ok, complete bool
	}{
		{person, `{"name": "Ann", "age": 41}`, true, true},
		{person, `{"name":"Ann","age":41,"tags":["a","b"]}`, true, true},
		{person, "{\n  \"name\": \"Ann\",\n  \"age\": -0\n}", true, true},
		{person, `{"age": 41, "name": "Ann"}`, false, false},  // schema order
		{person, `{"name": "Ann"}`, false, false},             // age required
		{person, `{"name": "", "age": 1}`, false, false},      // minLength 1
		{person, `{"name": "Ann", "age": 1.5}`, false, false}, // integer
		{person, `{"name": "Ann", "age": 01}`, false, false},  // leading zero
		{person, `{"name": "Ann", "age": 1, "x": 2}`, false, false},
		{person, `{"name": "Ann", "age": 1, "tags": ["a","b","c","d"]}`, false, false},
		{person, `{"name": "An`, true, false},
		{person, `{"name": "\u00e9\n", "age": 1}`, true, true},
		{person, `{"name": "\ud83d", "age": 1}`, false, false}, // no surrogates
		{`{"enum": [1, 12, "a"]}`, `1`, true, true},
		{`{"enum": [1, 12, "a"]}`, `12`, true, true},
		{`{"enum": [1, 12, "a"]}`, `13`, false, false},
		{`{"type": "number"}`, `-1.25e+07`, true, true},
		{`{"$defs":{"a":{"anyOf":[{"$ref":"#/$defs/a"},{"type":"boolean"}]}},"$ref":"#/$defs/a"}`, `true`, true, true},
		{`{"$defs":{"a":{"anyOf":[{"$ref":"#/$defs/a"},{"type":"boolean"}]}},"$ref":"#/$defs/a"}`, `null`, false, false},
		{`{"type": "number"}`, `1e999`, false, false},
		{`{"type": "string"}`, "\"\xff\"", false, false},
		{`{"type": "string"}`, "\"\xed\xa0\x80\"", false, false},
		{`{"type": "object", "additionalProperties": {"type": "integer"}, "properties": {"a": {"type": "string"}}}`, `{"a": "x", "b": 1}`, true, true},
		{`{"type": "object", "additionalProperties": {"type": "integer"}, "properties": {"a": {"type": "string"}}}`, `{"b": 1, "a": "x"}`, false, false},
	} {
		g, err := Schema([]byte(c.schema))
		if err != nil {
			t.Fatal(err)
		}
		v, _ := smallVocab(t)
		m := NewMatcher(g, v)
		err = m.AcceptText(c.text)
		if (err == nil) != c.ok || err == nil && m.Complete() != c.complete {
			t.Errorf("%s on %s: err %v, complete %v; want ok %v, complete %v", c.text, c.schema, err, err == nil && m.Complete(), c.ok, c.complete)
		}
	}
}

func TestSchemaRefusals(t *testing.T) {
	for _, c := range []struct{ schema, want string }{
		{`{"type": "string", "pattern": "^a"}`, `"pattern" is not supported`},
		{`{"type": "object", "properties": {"d": {"type": "string", "format": "date"}}}`, `#/properties/d: keyword "format"`},
		{`{"type": "integer", "minimum": 3}`, `"minimum"`},
		{`{"allOf": [{"type": "string"}]}`, `"allOf"`},
		{`{"type": "strin"}`, `unknown type "strin"`},
		{`false`, `matches nothing`},
		{`{"$ref": "http://x/y"}`, `only local references`},
		{`{"$ref": "#/$defs/missing"}`, `no "$defs"`},
		{`{"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}`, `refers to itself`},
		{`{"$defs": {"n": {"type": "object", "properties": {"k": {"$ref": "#/$defs/n"}}, "required": ["k"]}}, "$ref": "#/$defs/n"}`, `no instance shorter`},
		{`{"anyOf": [{"type": "object"}, {"type": "object", "required": ["a"], "additionalProperties": true}]}`, `distinct types`},
		{`{"oneOf": [{"type": "number"}, {"type": "integer"}]}`, `match both`},
		{`{"type": "string", "minLength": 5, "maxLength": 2}`, `above maxLength`},
		{`{"type": "object", "properties": {}, "required": ["x"]}`, `not declared`},
		{`{"type": "array", "items": [{"type": "string"}]}`, `tuple`},
		{`{"enum": []}`, `non-empty`},
		{strings.Repeat(`{"items":`, 70) + `{}` + strings.Repeat(`}`, 70), `nested deeper`},
		{`{"type": "string"} {}`, `more than one`},
		{`{"minLength": 1e9}`, `non-negative integer`},
	} {
		_, err := Schema([]byte(c.schema))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%.60s: error %v, want it to say %q", c.schema, err, c.want)
		}
	}
}

func TestToolCallGrammarPicksNameThenArguments(t *testing.T) {
	args := []string{
		`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}`,
		`{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"],"additionalProperties":false}`,
	}
	var thens []*Grammar
	for _, a := range args {
		g, err := Schema([]byte(a))
		if err != nil {
			t.Fatal(err)
		}
		s, err := Seq(g, Literal("}\n</tool_call>"))
		if err != nil {
			t.Fatal(err)
		}
		thens = append(thens, s)
	}
	g, err := Switch([]string{`get_weather", "arguments": `, `count", "arguments": `}, thens)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := smallVocab(t)
	rng := rand.New(rand.NewPCG(7, 7))
	for _, budget := range []int{g.root.min, 60, 80} {
		budget = max(budget, g.root.min)
		for range 20 {
			out, complete := generate(t, g, v, budget, rng)
			body := `{"name": "` + out
			body, ok := strings.CutSuffix(body, "\n</tool_call>")
			var call struct {
				Name      string         `json:"name"`
				Arguments map[string]any `json:"arguments"`
			}
			if !complete || !ok || json.Unmarshal([]byte(body), &call) != nil {
				t.Fatalf("budget %d: %q", budget, out)
			}
			want := map[string]string{"get_weather": "city", "count": "n"}[call.Name]
			if _, has := call.Arguments[want]; !has || len(call.Arguments) != 1 {
				t.Fatalf("budget %d: %q: arguments %v", budget, out, call.Arguments)
			}
		}
	}
}

func TestAddedTokensStayOutOfStrings(t *testing.T) {
	v, _ := smallVocab(t)
	g, _ := Seq(JSONObject(), Literal("</tool_call>"))
	m := NewMatcher(g, v)
	if err := m.AcceptText(`{"a": "`); err != nil {
		t.Fatal(err)
	}
	bits, _ := m.Allowed(0)
	close := int32(len(v.pieces) - 2)
	if bitset(bits).has(close) {
		t.Error("</tool_call> allowed inside a string")
	}
	m.AcceptText(`x"}`)
	bits, _ = m.Allowed(0)
	if !bitset(bits).has(close) {
		t.Error("</tool_call> not allowed where the grammar spells it")
	}
}

// The plain-token shortcut inside strings allows exactly the tokens a walk
// of the whole trie allows.
func TestPlainShortcutAllowsWhatTheWalkAllows(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the Qwen3 vocabulary")
	}
	v, _ := qwenVocab(t)
	small, _ := smallVocab(t)
	person, _ := Schema([]byte(schemaCases[0].schema))
	for _, c := range []struct {
		g      *Grammar
		prefix string
		budget int
	}{
		{person, `{"name": "`, 0},
		{person, `{"name": "abcdefgh`, 0}, // maxLength 12: room for 4
		{person, `{"name": "abc\u00e9`, 0},
		{person, `{"name": "abc`, 22}, // the budget just fits
		{JSONObject(), `{"a`, 0},
		{JSONObject(), `{"a": "x`, 0},
		{JSONObject(), `{"a": "x`, 3},
		{coderText(t), ``, 0},
		{coderText(t), "x = 1\n", 0},    // after a newline: a delimiter may be under way
		{coderText(t), "if a ", 13},     // the budget just fits the delimiter
		{coderText(t), "if a ", 12},     // and then does not
		{coderText(t), "\n</parame", 0}, // deep in a delimiter
		{coderText(t), "a <", 0},
		{coderText(t), "a </", 0},
		{coderText(t), "a </tool_cal", 0},
		{coderText(t), "\xe6\x97", 0}, // a character under way
	} {
		for _, voc := range []*Vocab{v, small} {
			fast, full := NewMatcher(c.g, voc), NewMatcher(c.g, voc)
			full.walkAll = true
			if err := fast.AcceptText(c.prefix); err != nil {
				t.Fatal(err)
			}
			full.AcceptText(c.prefix)
			a, err1 := fast.Allowed(c.budget)
			a = append([]uint64(nil), a...)
			b, err2 := full.Allowed(c.budget)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			n := 0
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("%q budget %d: allowed sets differ in word %d: %x vs %x", c.prefix, c.budget, i, a[i], b[i])
				}
				n += bitsOnes(a[i])
			}
			if n == 0 {
				t.Errorf("%q: nothing allowed", c.prefix)
			}
		}
	}
}

func bitsOnes(x uint64) int {
	n := 0
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n
}

// Below the shortest completion the tokens that shorten it most are
// allowed (a greedy close); within it, those whose completion fits.
func TestBudgetPicksTheTokensThatCloseFastest(t *testing.T) {
	v, _ := smallVocab(t)
	person, _ := Schema([]byte(schemaCases[0].schema))
	for _, c := range []struct {
		g         *Grammar
		prefix    string
		remaining int
		want      []string
	}{
		{JSONObject(), ``, 1, []string{`{}`}},
		{person, ``, 1, []string{`{"`}},                      // 29 bytes needed: the longest start
		{person, `{"name": "x`, 1, []string{`", "`}},         // ","age":0} needed: ", " leaves 7
		{person, `{"name": "x", "age": 4`, 1, []string{`}`}}, // fits exactly
		{person, `{"name": "x", "age": 4`, 2, []string{"\t", "\n", " ", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "}", "12", "99", "  ", "\n  ", "    "}},
	} {
		m := NewMatcher(c.g, v)
		if err := m.AcceptText(c.prefix); err != nil {
			t.Fatal(err)
		}
		bits, err := m.Allowed(c.remaining)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for id, p := range v.pieces {
			if bitset(bits).has(int32(id)) {
				got = append(got, p)
			}
		}
		want := map[string]bool{}
		for _, w := range c.want {
			want[w] = true
		}
		gotSet := map[string]bool{}
		for _, g := range got {
			gotSet[g] = true
		}
		if len(gotSet) != len(want) {
			t.Errorf("%q with %d left: allowed %q, want %q", c.prefix, c.remaining, got, c.want)
			continue
		}
		for _, g := range got {
			if !want[g] {
				t.Errorf("%q with %d left: allowed %q, want %q", c.prefix, c.remaining, got, c.want)
			}
		}
	}
}
