package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// personSchema is the response_format schema of the tests; checkPerson
// checks an answer against it.
var personSchema = map[string]any{
	"type": "object",
	"properties": map[string]any{
		"name": map[string]any{"type": "string", "minLength": 1, "maxLength": 10},
		"age":  map[string]any{"type": "integer"},
		"unit": map[string]any{"enum": []any{"cm", "in"}},
		"tags": map[string]any{"type": "array", "items": map[string]any{"type": "boolean"}, "maxItems": 2},
	},
	"required":             []any{"name", "age", "unit"},
	"additionalProperties": false,
}

func checkPerson(text string) error {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return fmt.Errorf("not one JSON object: %v", err)
	}
	for k, x := range v {
		switch k {
		case "name":
			s, ok := x.(string)
			if n := len([]rune(s)); !ok || n < 1 || n > 10 {
				return fmt.Errorf("name %v", x)
			}
		case "age":
			n, ok := x.(json.Number)
			if _, err := n.Int64(); !ok || err != nil {
				return fmt.Errorf("age %v", x)
			}
		case "unit":
			if x != "cm" && x != "in" {
				return fmt.Errorf("unit %v", x)
			}
		case "tags":
			a, ok := x.([]any)
			if !ok || len(a) > 2 {
				return fmt.Errorf("tags %v", x)
			}
			for _, b := range a {
				if _, ok := b.(bool); !ok {
					return fmt.Errorf("tag %v", b)
				}
			}
		default:
			return fmt.Errorf("property %q not in the schema", k)
		}
	}
	for _, k := range []string{"name", "age", "unit"} {
		if _, ok := v[k]; !ok {
			return fmt.Errorf("%q missing", k)
		}
	}
	return nil
}

// The tiny model's weights are random: whatever it samples, the answer
// parses and matches the schema, also when max_tokens cuts it short (the
// shortest instance, {"name":"a","age":0,"unit":"cm"}, is 32 bytes, one
// token a byte at worst).
func TestChatJSONSchemaAnswersValidateWithRandomWeights(t *testing.T) {
	_, hs := testServer(t, EngineOptions{ContextLen: 1024}, Options{})
	rf := map[string]any{"type": "json_schema", "json_schema": map[string]any{"name": "person", "strict": true, "schema": personSchema}}
	for _, maxTokens := range []int{32, 33, 36, 45, 80, 200} {
		for seed := range 4 {
			for _, stream := range []bool{false, true} {
				req := map[string]any{"messages": userMsg("who?"), "response_format": rf, "max_tokens": maxTokens,
					"seed": seed, "temperature": 1.5, "stream": stream}
				resp, body := post(t, hs.URL+"/v1/chat/completions", req)
				if resp.StatusCode != 200 {
					t.Fatalf("status %d: %s", resp.StatusCode, body)
				}
				var content, reasoning, finish string
				var completion int
				if stream {
					st := assemble(t, body)
					content, reasoning, finish = st.content, st.reasoning, st.finish
					completion = -1
				} else {
					r := decodeResponse[chatResponse](t, body)
					c := r.Choices[0]
					content, reasoning, finish, completion = *c.Message.Content, c.Message.ReasoningContent, c.FinishReason, r.Usage.CompletionTokens
				}
				if err := checkPerson(content); err != nil {
					t.Fatalf("max_tokens %d seed %d stream %v: %q: %v", maxTokens, seed, stream, content, err)
				}
				if reasoning != "" || finish != "stop" || completion > maxTokens {
					t.Errorf("max_tokens %d: reasoning %q finish %q completion tokens %d", maxTokens, reasoning, finish, completion)
				}
			}
		}
	}
}

func TestChatJSONObjectAnswersParse(t *testing.T) {
	_, hs := testServer(t, EngineOptions{ContextLen: 1024}, Options{})
	for _, maxTokens := range []int{2, 5, 30, 120} {
		for seed := range 3 {
			req := map[string]any{"messages": userMsg("json please"), "response_format": map[string]any{"type": "json_object"},
				"max_tokens": maxTokens, "seed": seed, "temperature": 1.2}
			_, body := post(t, hs.URL+"/v1/chat/completions", req)
			c := decodeResponse[chatResponse](t, body).Choices[0]
			var obj map[string]any
			if c.Message.Content == nil || json.Unmarshal([]byte(*c.Message.Content), &obj) != nil {
				t.Fatalf("max_tokens %d seed %d: %s", maxTokens, seed, body)
			}
		}
	}
}

func TestChatRequiredToolCallArgumentsMatchTheirSchema(t *testing.T) {
	_, hs := testServer(t, EngineOptions{ContextLen: 1024}, Options{})
	tools := []any{
		map[string]any{"type": "function", "function": map[string]any{"name": "get_weather", "parameters": map[string]any{
			"type": "object", "properties": map[string]any{
				"city": map[string]any{"type": "string", "maxLength": 12},
				"days": map[string]any{"type": "integer"}},
			"required": []any{"city", "days"}, "additionalProperties": false}}},
		map[string]any{"type": "function", "function": map[string]any{"name": "set_alarm", "parameters": map[string]any{
			"type": "object", "properties": map[string]any{"on": map[string]any{"type": "boolean"}},
			"required": []any{"on"}, "additionalProperties": false}}},
	}
	check := func(name, args string) error {
		dec := json.NewDecoder(strings.NewReader(args))
		dec.UseNumber()
		var v map[string]any
		if err := dec.Decode(&v); err != nil {
			return err
		}
		switch name {
		case "get_weather":
			city, ok := v["city"].(string)
			days, ok2 := v["days"].(json.Number)
			if _, err := days.Int64(); !ok || !ok2 || err != nil || len([]rune(city)) > 12 || len(v) != 2 {
				return fmt.Errorf("arguments %v", v)
			}
		case "set_alarm":
			if _, ok := v["on"].(bool); !ok || len(v) != 1 {
				return fmt.Errorf("arguments %v", v)
			}
		default:
			return fmt.Errorf("name %q", name)
		}
		return nil
	}
	named := map[string]any{"type": "function", "function": map[string]any{"name": "set_alarm"}}
	for _, choice := range []any{"required", named} {
		// The longest shortest call is 61 bytes: get_weather", "arguments":
		// {"city":"","days":0}}, a newline and </tool_call>.
		budgets, seeds := []int{61, 70, 150}, 3
		if testing.Short() {
			budgets, seeds = budgets[:1], 1 // the race run: the tightest budget
		}
		for _, maxTokens := range budgets {
			for seed := range seeds {
				for _, stream := range []bool{false, true} {
					req := map[string]any{"messages": userMsg("do it"), "tools": tools, "tool_choice": choice,
						"max_tokens": maxTokens, "seed": seed, "temperature": 1.5, "stream": stream}
					resp, body := post(t, hs.URL+"/v1/chat/completions", req)
					if resp.StatusCode != 200 {
						t.Fatalf("status %d: %s", resp.StatusCode, body)
					}
					var calls []respToolCall
					var finish string
					if stream {
						st := assemble(t, body)
						calls, finish = st.calls, st.finish
					} else {
						c := decodeResponse[chatResponse](t, body).Choices[0]
						calls, finish = c.Message.ToolCalls, c.FinishReason
					}
					if len(calls) != 1 || finish != "tool_calls" {
						t.Fatalf("%v max_tokens %d seed %d: finish %q calls %+v: %s", choice, maxTokens, seed, finish, calls, body)
					}
					if err := check(calls[0].Function.Name, calls[0].Function.Arguments); err != nil {
						t.Fatalf("%v max_tokens %d seed %d: %v: %s", choice, maxTokens, seed, err, body)
					}
					if choice != "required" && calls[0].Function.Name != "set_alarm" {
						t.Fatalf("named choice called %q", calls[0].Function.Name)
					}
				}
			}
		}
	}
}

func TestChatToolSchemaErrorsAre400(t *testing.T) {
	_, hs := testServer(t, EngineOptions{ContextLen: 512}, Options{})
	tools := []any{map[string]any{"type": "function", "function": map[string]any{"name": "f",
		"parameters": map[string]any{"type": "object", "properties": map[string]any{"x": map[string]any{"type": "number", "minimum": 0}}}}}}
	resp, body := post(t, hs.URL+"/v1/chat/completions", map[string]any{"messages": userMsg("a"), "tools": tools, "tool_choice": "required"})
	e := errorOf(t, body)
	if resp.StatusCode != 400 || e.Param == nil || *e.Param != "tools[0].function.parameters" || !strings.Contains(e.Message, `"minimum" is not supported`) {
		t.Errorf("status %d: %s", resp.StatusCode, body)
	}
	tools[0].(map[string]any)["function"].(map[string]any)["parameters"] = map[string]any{"type": "string"}
	resp, body = post(t, hs.URL+"/v1/chat/completions", map[string]any{"messages": userMsg("a"), "tools": tools, "tool_choice": "required"})
	if e := errorOf(t, body); resp.StatusCode != 400 || !strings.Contains(e.Message, "schema of an object") {
		t.Errorf("string parameters: status %d: %s", resp.StatusCode, body)
	}
	// With tool_choice auto the schema is only shown to the model.
	resp, body = post(t, hs.URL+"/v1/chat/completions", map[string]any{"messages": userMsg("a"), "tools": tools, "max_tokens": 2})
	if resp.StatusCode != 200 || bytes.Contains(body, []byte("error")) {
		t.Errorf("auto: status %d: %s", resp.StatusCode, body)
	}
}

func TestChatRequiredRefusesToolSchemasTooLargeTogether(t *testing.T) {
	_, hs := testServer(t, EngineOptions{ContextLen: 512}, Options{})
	var tools []any
	for i := range 300 { // any object: ~100 nodes each
		tools = append(tools, map[string]any{"type": "function", "function": map[string]any{"name": fmt.Sprintf("f%d", i), "parameters": map[string]any{"type": "object"}}})
	}
	resp, body := post(t, hs.URL+"/v1/chat/completions", map[string]any{"messages": userMsg("a"), "tools": tools, "tool_choice": "required"})
	if e := errorOf(t, body); resp.StatusCode != 400 || !strings.Contains(e.Message, "too large") {
		t.Errorf("status %d: %s", resp.StatusCode, body)
	}
}

// With no max_tokens, the context's end is the budget: the answer closes
// within the positions left after the prompt.
func TestChatJSONSchemaClosesBeforeTheContextEnds(t *testing.T) {
	rf := map[string]any{"type": "json_schema", "json_schema": map[string]any{"name": "person", "schema": personSchema}}
	req := map[string]any{"messages": userMsg("who?"), "response_format": rf, "max_tokens": 1}
	_, hs := testServer(t, EngineOptions{ContextLen: 1024}, Options{})
	_, body := post(t, hs.URL+"/v1/chat/completions", req)
	prompt := decodeResponse[chatResponse](t, body).Usage.PromptTokens
	// The last position still yields a token: ctx - prompt + 1 tokens, 32
	// (the shortest instance) and a few more.
	for _, left := range []int{32, 34, 40} {
		_, hs := testServer(t, EngineOptions{ContextLen: prompt + left - 1}, Options{})
		for seed := range 3 {
			req := map[string]any{"messages": userMsg("who?"), "response_format": rf, "seed": seed, "temperature": 1.5}
			resp, body := post(t, hs.URL+"/v1/chat/completions", req)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			r := decodeResponse[chatResponse](t, body)
			if err := checkPerson(*r.Choices[0].Message.Content); err != nil || r.Usage.CompletionTokens > left {
				t.Fatalf("%d left, seed %d: %d tokens: %v: %s", left, seed, r.Usage.CompletionTokens, err, body)
			}
		}
	}
}
