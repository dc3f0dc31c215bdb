package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkPerson validates v against personSchema, written from the schema's
// text: name a string of at most 10 characters, age an integer, tags at
// most 3 of "a", "b", "c", ok a boolean; name and age required; nothing
// else.
func checkPerson(v map[string]any) error {
	name, ok := v["name"].(string)
	if !ok || len([]rune(name)) > 10 {
		return fmt.Errorf("name %v", v["name"])
	}
	age, ok := v["age"].(json.Number)
	if _, err := age.Int64(); !ok || err != nil {
		return fmt.Errorf("age %v", v["age"])
	}
	for k, x := range v {
		switch k {
		case "name", "age":
		case "tags":
			tags, ok := x.([]any)
			if !ok || len(tags) > 3 {
				return fmt.Errorf("tags %v", x)
			}
			for _, t := range tags {
				if t != "a" && t != "b" && t != "c" {
					return fmt.Errorf("tag %v", t)
				}
			}
		case "ok":
			if _, ok := x.(bool); !ok {
				return fmt.Errorf("ok %v", x)
			}
		default:
			return fmt.Errorf("property %q not in the schema", k)
		}
	}
	return nil
}

const personSchema = `{"type": "object", "properties": {
	"name": {"type": "string", "maxLength": 10},
	"age": {"type": "integer"},
	"tags": {"type": "array", "items": {"enum": ["a", "b", "c"]}, "maxItems": 3},
	"ok": {"type": "boolean"}},
	"required": ["name", "age"], "additionalProperties": false}`

func TestRunJSONSchemaAnswersMatchTheSchema(t *testing.T) {
	path, _ := chatTestModel(t, 512)
	schema := filepath.Join(t.TempDir(), "person.json")
	if err := os.WriteFile(schema, []byte(personSchema), 0o644); err != nil {
		t.Fatal(err)
	}
	// The shortest instance, {"name":"","age":0}, is 20 bytes: 21 tokens
	// still close it however the random model samples.
	for _, maxTokens := range []string{"21", "60", "300"} {
		for _, seed := range []string{"1", "2"} {
			cmd := q3mCommand("run", "-m", path, "--prompt", "who?", "--json-schema", schema, "--max-tokens", maxTokens,
				"--seed", seed, "--temp", "1.5", "--threads", "1")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				skipIfNotExecutable(t, err)
				t.Fatalf("%v\n%s", err, stderr.String())
			}
			dec := json.NewDecoder(strings.NewReader(stdout.String()))
			dec.UseNumber()
			var v map[string]any
			if err := dec.Decode(&v); err != nil || dec.More() {
				t.Fatalf("max-tokens %s seed %s: %q is not one JSON object: %v", maxTokens, seed, stdout.String(), err)
			}
			if err := checkPerson(v); err != nil {
				t.Fatalf("max-tokens %s seed %s: %s: %v", maxTokens, seed, stdout.String(), err)
			}
		}
	}
}

func TestRunJSONObjectAnswersParse(t *testing.T) {
	path, _ := chatTestModel(t, 512)
	cmd := q3mCommand("run", "-m", path, "--prompt", "json", "--json-object", "--max-tokens", "40", "--seed", "5", "--temp", "1.5", "--threads", "1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		skipIfNotExecutable(t, err)
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var v map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &v); err != nil {
		t.Fatalf("%q: %v", stdout.String(), err)
	}
}

func TestRunJSONSchemaRefusals(t *testing.T) {
	path, _ := chatTestModel(t, 256)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"type": "object", "properties": {"a": {"type": "strin"}}}`), 0o644)
	good := filepath.Join(dir, "good.json")
	os.WriteFile(good, []byte(personSchema), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--json-schema", filepath.Join(dir, "none.json")}, "none.json"},
		{[]string{"--json-schema", bad}, "bad.json"},
		{[]string{"--json-schema", dir}, "not a regular file"},
		{[]string{"--json-schema", good, "--json-object"}, "not both"},
		{[]string{"--json-schema", good, "--think"}, "cannot think"},
	} {
		cmd := q3mCommand(append([]string{"run", "-m", path, "--prompt", "x", "--threads", "1"}, tc.args...)...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		skipIfNotExecutable(t, err)
		if err == nil || !strings.Contains(stderr.String(), tc.want) || stdout.Len() != 0 {
			t.Errorf("%v: err %v, stderr %q, stdout %q; want a failure naming %q", tc.args, err, stderr.String(), stdout.String(), tc.want)
		}
	}
}
