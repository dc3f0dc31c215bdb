package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/q3m/q3m/grammar"
	"github.com/q3m/q3m/runtime"
)

// run --json-schema FILE and --json-object constrain every answer to JSON
// (matching the schema, or any object) with package grammar, as the
// server's response_format does: before each token the logits the grammar
// forbids are masked, and when the tokens left (--max-tokens) run low the
// answer is steered to close its strings and containers, so it parses even
// from a model with random weights. Constrained answers do not think.

// maxSchemaBytes bounds a --json-schema file.
const maxSchemaBytes = 4 << 20

// jsonFlags are run's constrained-output flags.
func jsonFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "json-schema", Usage: "answer with JSON matching the JSON schema in `FILE` (no thinking)"},
		boolFlag("json-object", "answer with a JSON object (no thinking)"),
	}
}

// jsonGrammar compiles the grammar --json-schema or --json-object ask
// for; nil when neither is given.
func jsonGrammar(c *cli.Context) (*grammar.Grammar, error) {
	path, object := c.String("json-schema"), c.Bool("json-object")
	switch {
	case path == "" && !object:
		return nil, nil
	case path != "" && object:
		return nil, errors.New("run: give --json-schema or --json-object, not both")
	case c.IsSet("think") && c.Bool("think") && !c.Bool("no-think"):
		return nil, errors.New("run: a constrained answer cannot think first; drop --think")
	case object:
		return grammar.JSONObject(), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("run: --json-schema: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return nil, fmt.Errorf("run: --json-schema: %w", err)
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("run: --json-schema %s: not a regular file", path)
	} else if st.Size() > maxSchemaBytes {
		return nil, fmt.Errorf("run: --json-schema %s: %d bytes; a schema may have at most %d", path, st.Size(), maxSchemaBytes)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSchemaBytes+1))
	if err != nil {
		return nil, fmt.Errorf("run: --json-schema %s: %w", path, err)
	}
	if len(data) > maxSchemaBytes {
		return nil, fmt.Errorf("run: --json-schema %s: larger than %d bytes", path, maxSchemaBytes)
	}
	g, err := grammar.Schema(data)
	if err != nil {
		return nil, fmt.Errorf("run: --json-schema %s: %w", path, err)
	}
	return g, nil
}

// constrainWith returns the ChatOptions.Constrain of g on m: a matcher per
// answer over m's vocabulary, prepared at the first answer.
func constrainWith(m *runtime.Model, g *grammar.Grammar) func([]int32) (runtime.Constraint, error) {
	var once sync.Once
	var v *grammar.Vocab
	var verr error
	return func(stops []int32) (runtime.Constraint, error) {
		once.Do(func() {
			tok, err := m.Tokenizer()
			if err != nil {
				verr = err
				return
			}
			v, verr = grammar.NewVocab(tok, m.Config().Vocab, stops)
		})
		if verr != nil {
			return nil, verr
		}
		return grammar.NewMatcher(g, v), nil
	}
}
