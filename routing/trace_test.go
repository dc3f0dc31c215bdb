package routing

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestReadTakesLinesInAnyOrder(t *testing.T) {
	in := `{"token": 1, "layer": 4, "experts": [3, 0], "weights": [0.75, 0.25]}

{"token": 0, "layer": 4, "experts": [1, 2], "weights": [0.5, 0.5]}
{"layer": 2, "token": 0, "experts": [0, 3], "weights": [1, 0]}
{"token": 1, "layer": 2, "experts": [2, 1], "weights": [0.6, 0.4]}
`
	tr, err := Read(strings.NewReader(in), "t.jsonl", Geometry{Layers: 5, Experts: 4, K: 2})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Tokens() != 2 || !slices.Equal(tr.Layers, []int{2, 4}) || tr.K != 2 {
		t.Fatalf("%d tokens of layers %v, k %d", tr.Tokens(), tr.Layers, tr.K)
	}
	if want := []int32{0, 3, 1, 2, 2, 1, 3, 0}; !slices.Equal(tr.Experts, want) {
		t.Errorf("experts %v, want %v", tr.Experts, want)
	}
	if want := []float32{1, 0, 0.5, 0.5, 0.6, 0.4, 0.75, 0.25}; !slices.Equal(tr.Weights, want) {
		t.Errorf("weights %v, want %v", tr.Weights, want)
	}
	var out bytes.Buffer
	if _, err := tr.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	want := `{"token":0,"layer":2,"experts":[0,3],"weights":[1,0]}
{"token":0,"layer":4,"experts":[1,2],"weights":[0.5,0.5]}
{"token":1,"layer":2,"experts":[2,1],"weights":[0.6,0.4]}
{"token":1,"layer":4,"experts":[3,0],"weights":[0.75,0.25]}
`
	if out.String() != want {
		t.Errorf("written\n%s\nwant\n%s", out.String(), want)
	}
	back, err := Read(&out, "back", Geometry{})
	if err != nil || !slices.Equal(back.Experts, tr.Experts) || !slices.Equal(back.Weights, tr.Weights) {
		t.Errorf("read back %+v, %v", back, err)
	}
}

func TestReadWithoutWeights(t *testing.T) {
	tr, err := Read(strings.NewReader(`{"token":0,"layer":0,"experts":[5]}`+"\n"), "t", Geometry{})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Weights != nil || tr.Tokens() != 1 || tr.Experts[0] != 5 {
		t.Errorf("%+v", tr)
	}
}

func TestReadRejectsMalformedTraces(t *testing.T) {
	g := Geometry{Layers: 4, Experts: 8, K: 2}
	line := func(tok, layer int, rest string) string {
		return `{"token":` + strconv.Itoa(tok) + `,"layer":` + strconv.Itoa(layer) + `,` + rest + "}\n"
	}
	for _, c := range []struct{ name, in, want string }{
		{"empty", "\n\n", "f.jsonl: no routing decisions"},
		{"not JSON", "{token: 1}\n", "f.jsonl: line 1: invalid character"},
		{"two values", `{"token":0,"layer":0,"experts":[1,2]} {}` + "\n", "line 1: more than one JSON value"},
		{"unknown field", `{"token":0,"layer":0,"experts":[1,2],"probs":[1]}` + "\n", `line 1: json: unknown field "probs"`},
		{"token missing", `{"layer":0,"experts":[1,2]}` + "\n", `line 1: "token", "layer" and "experts" are required`},
		{"negative token", line(-1, 0, `"experts":[1,2]`), "line 1: token -1 outside"},
		{"layer beyond the model", "\n" + line(0, 4, `"experts":[1,2]`), "line 2: layer 4 outside [0, 4)"},
		{"expert beyond the model", line(0, 0, `"experts":[1,8]`), "line 1: expert 8 outside [0, 8)"},
		{"negative expert", line(0, 0, `"experts":[-1,2]`), "line 1: expert -1 outside"},
		{"fractional expert", line(0, 0, `"experts":[1.5,2]`), "line 1: json: cannot unmarshal number 1.5"},
		{"wrong k", line(0, 0, `"experts":[1,2,3]`), "line 1: 3 experts, want 2"},
		{"expert twice", line(0, 0, `"experts":[3,3]`), "line 1: expert 3 chosen twice"},
		{"weights count", line(0, 0, `"experts":[1,2],"weights":[1]`), "line 1: 1 weights for 2 experts"},
		{"negative weight", line(0, 0, `"experts":[1,2],"weights":[1,-0.5]`), "line 1: weight -0.5"},
		{"weights on some lines only", line(0, 0, `"experts":[1,2],"weights":[1,0]`) + line(0, 1, `"experts":[1,2]`), "line 2: weights given on some lines only"},
		{"duplicate", line(0, 0, `"experts":[1,2]`) + line(1, 0, `"experts":[1,2]`) + line(0, 0, `"experts":[3,2]`), "line 3: token 0 layer 0 given again (first at line 1)"},
		{"a token lacks a layer", line(0, 0, `"experts":[1,2]`) + line(0, 1, `"experts":[1,2]`) + line(1, 1, `"experts":[1,2]`), "token 1 has no routing for layer 0"},
		{"the last token lacks a layer", line(0, 0, `"experts":[1,2]`) + line(0, 1, `"experts":[1,2]`) + line(1, 0, `"experts":[1,2]`), "token 1 has no routing for layer 1"},
		{"a token has an extra layer", line(0, 0, `"experts":[1,2]`) + line(1, 0, `"experts":[1,2]`) + line(1, 1, `"experts":[1,2]`), "line 3: token 1 has layer 1, which token 0 lacks"},
		{"a token missing", line(0, 0, `"experts":[1,2]`) + line(2, 0, `"experts":[1,2]`), "token 1 has no routing for layer 0"},
		{"line too long", `{"token":0,"layer":0,"experts":[1,2]` + strings.Repeat(" ", MaxLine) + "}\n", "line 1: longer than 65536 bytes"},
	} {
		_, err := Read(strings.NewReader(c.in), "f.jsonl", g)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "f.jsonl") {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}
