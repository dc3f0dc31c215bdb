package jinja

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The goldens in testdata/templates/jinja_golden.json are what Python's
// jinja2, set up as transformers sets it up, renders for the templates of
// jinja_snippets.json (scripts/templates/golden.py).

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "templates", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSnippetsRenderLikeJinja2(t *testing.T) {
	var snippets []struct {
		Name     string          `json:"name"`
		Template string          `json:"template"`
		Vars     json.RawMessage `json:"vars"`
	}
	if err := json.Unmarshal(readTestdata(t, "jinja_snippets.json"), &snippets); err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Results map[string]struct {
			Text   *string `json:"text"`
			Error  string  `json:"error"`
			Raised bool    `json:"raised"`
			Parse  bool    `json:"parse"`
		} `json:"results"`
	}
	if err := json.Unmarshal(readTestdata(t, "jinja_golden.json"), &golden); err != nil {
		t.Fatal(err)
	}
	if len(snippets) < 70 || len(golden.Results) != len(snippets) {
		t.Fatalf("%d snippets, %d goldens: regenerate with scripts/templates/golden.py", len(snippets), len(golden.Results))
	}
	for _, sn := range snippets {
		want, ok := golden.Results[sn.Name]
		if !ok {
			t.Fatalf("no golden for %s", sn.Name)
		}
		t.Run(sn.Name, func(t *testing.T) {
			v, err := FromJSON(sn.Vars)
			if err != nil {
				t.Fatal(err)
			}
			vars := map[string]Value{}
			d := v.(*Dict)
			for i, k := range d.keys {
				vars[k.(string)] = d.vals[i]
			}
			tmpl, err := Parse(sn.Template)
			if want.Parse {
				if err == nil {
					t.Fatalf("jinja2 cannot parse this (%s); q3m can", want.Error)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse: %v (jinja2: %+v)", err, want)
			}
			got, err := tmpl.Render(vars)
			if want.Text == nil {
				var je *Error
				if !errors.As(err, &je) {
					t.Fatalf("jinja2 fails with %s; q3m gave %q, %v", want.Error, got, err)
				}
				if want.Raised && (!je.Raised || je.Msg != want.Error) {
					t.Errorf("error %+v; want raise_exception(%q)", je, want.Error)
				}
				return
			}
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			if got != *want.Text {
				t.Errorf("render mismatch\n got: %q\nwant: %q", got, *want.Text)
			}
		})
	}
}

func TestRenderIsBounded(t *testing.T) {
	for name, c := range map[string]struct {
		src   string
		steps int
	}{
		// A lower step limit than Render's keeps the test fast; the
		// output limit is Render's.
		"nested ranges":     {"{% for a in range(99999) %}{% for b in range(99999) %}{% endfor %}{% endfor %}", 10000},
		"string repetition": {"{{ 'x' * 1000000000 }}", maxSteps},
		"doubling":          {"{% set ns = namespace(s='x') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}", maxSteps},
		"list doubling":     {"{% set ns = namespace(l=[1]) %}{% for i in range(60) %}{% set ns.l = ns.l + ns.l %}{% endfor %}", maxSteps},
		"deep recursion":    {"{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", maxSteps},
		"wide output":       {"{% for a in range(99999) %}{{ 'x' * 1000 }}{% endfor %}", maxSteps},
		"long replace":      {"{{ ('x' * 10000) | replace('x', 'y' * 10000) }}", maxSteps},
	} {
		tmpl, err := Parse(c.src)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := tmpl.render(nil, c.steps); err == nil {
			t.Errorf("%s: rendered without error", name)
		}
	}
}

func TestParseRejectsDeepNesting(t *testing.T) {
	for name, src := range map[string]string{
		"parentheses": "{{ " + strings.Repeat("(", 20000) + "1" + strings.Repeat(")", 20000) + " }}",
		"lists":       "{{ " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + " }}",
		"negations":   "{{ " + strings.Repeat("not ", 20000) + "1 }}",
		"minus signs": "{{ " + strings.Repeat("-", 20000) + "1 }}",
		"blocks":      strings.Repeat("{% if 1 %}", 20000),
	} {
		if _, err := Parse(src); err == nil || !strings.Contains(err.Error(), "nested") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestSelfContainingNamespacePrints(t *testing.T) {
	tmpl, err := Parse("{% set ns = namespace(a=1) %}{% set ns.me = ns %}{{ ns }}")
	if err != nil {
		t.Fatal(err)
	}
	out, err := tmpl.Render(nil)
	if err != nil || !strings.HasPrefix(out, "<Namespace {'a': 1, 'me': <Namespace {'a': 1, 'me': ") || !strings.Contains(out, "...") {
		t.Errorf("%.200q, %v", out, err)
	}
}

func TestFromGoMatchesPython(t *testing.T) {
	// Expected strings are Python 3's json.dumps(x, ensure_ascii=False) of
	// the value Python would hold.
	for _, c := range []struct {
		name string
		in   any
		want string
	}{
		{"map keys sorted", map[string]any{"b": 1.0, "a": []any{"x", true, nil}}, `{"a": ["x", true, null], "b": 1}`},
		{"integral float64 as int", 42.0, `42`},
		{"fractional float64", 0.1, `0.1`},
		{"small float64", 1.5e-7, `1.5e-07`},
		{"large float64", 1e300, `1e+300`},
		{"negative zero", float64(-0.0) * -1 * -1, `0`},
		{"float32", float32(0.25), `0.25`},
		{"ints", []any{int8(-3), uint64(1 << 63), int64(-1 << 63)}, `[-3, 9223372036854775808, -9223372036854775808]`},
		{"json.Number", json.Number("1e2"), `100.0`},
		{"struct via encoding/json", struct {
			Z string `json:"z"`
			A int    `json:"a"`
		}{"é", 1}, `{"z": "é", "a": 1}`},
		{"raw string", json.RawMessage(`"\u00e9\t"`), `"é\t"`},
		{"raw object keeps order, last duplicate wins", json.RawMessage(`{"k": 1, "j": 2, "k": 3}`), `{"k": 3, "j": 2}`},
		{"raw numbers", json.RawMessage(`[0, -0, 1.0, 1e400, 12345678901234567890123, 1E16, 1e-5]`), `[0, 0, 1.0, Infinity, 12345678901234567890123, 1e+16, 1e-05]`},
		{"escapes", "\x00\x1f\x7f\u2028\"\\", `"\u0000\u001f` + "\x7f\u2028" + `\"\\"`},
	} {
		v, err := FromGo(c.in)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		got, err := ToJSON(v)
		if err != nil || got != c.want {
			t.Errorf("%s: got %s, %v; want %s", c.name, got, err, c.want)
		}
	}
	for name, bad := range map[string]any{
		"broken json":   json.RawMessage(`{"a": `),
		"trailing data": json.RawMessage(`1 2`),
		"invalid utf8":  json.RawMessage("\"\xff\""),
		"deep":          json.RawMessage(strings.Repeat("[", 10000)),
		"func":          func() {},
	} {
		if _, err := FromGo(bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestPythonFloatRepr(t *testing.T) {
	// Pairs of (Go float, Python repr).
	for _, c := range []struct {
		f    float64
		want string
	}{
		{1, "1.0"}, {1e5, "100000.0"}, {1e16, "1e+16"}, {9999999999999998, "9999999999999998.0"},
		{1e-4, "0.0001"}, {1e-5, "1e-05"}, {123.456e-10, "1.23456e-08"}, {5e-324, "5e-324"},
		{1.7976931348623157e308, "1.7976931348623157e+308"}, {0.30000000000000004, "0.30000000000000004"},
		{-2.5e-5, "-2.5e-05"},
	} {
		var b strings.Builder
		writePyFloat(&b, c.f, false)
		if b.String() != c.want {
			t.Errorf("%v: got %s; want %s", c.f, b.String(), c.want)
		}
	}
}

// FuzzParseRender parses and renders arbitrary templates: no panic, no hang.
func FuzzParseRender(f *testing.F) {
	for _, s := range []string{
		"{% for x in xs %}{{ loop.index }}{% endfor %}", "{{ 'a'[::-1] }}", "{%- if x -%}{{ x | tojson }}{% endif %}",
		"{% macro m(a=1) %}{{ a }}{% endmacro %}{{ m() }}", "{% set ns = namespace(a=1) %}{% set ns.a = 2 %}{{ ns.a }}",
		"{{ {'a': [1, 2.5, none]} | items | list }}", "{# c #}{% raw %}{{{% endraw %}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		tmpl, err := Parse(src)
		if err != nil {
			return
		}
		xs := NewList(int64(1), "two", NewDict())
		tmpl.Render(map[string]Value{"xs": xs, "x": "s"})
	})
}
