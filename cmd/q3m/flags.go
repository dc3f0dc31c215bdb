package main

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/q3m/q3m/runtime"
)

// maxThreads caps --threads as llama.cpp does: ggml's GGML_MAX_N_THREADS
// is 512. Above it, goroutines only add scheduling and scratch memory.
const maxThreads = 512

// maxTokens bounds the token counts of flags (--ctx, --max-tokens, bench's
// -p and -n, --top-k): 16M, far above any model's context.
const maxTokens = 1 << 24

// flagRule is the range of values a numeric flag accepts. A flag name means
// the same in every command, so it has one rule.
type flagRule struct {
	min, max float64
	minOpen  bool   // min itself is refused
	size     bool   // a byte count such as 8GiB, read by parseSize
	none     bool   // a size that may also be "none"
	meaning  string // printed with the range, e.g. "0: all cores"
}

// numericFlags returns the rule of every numeric flag of every command.
// TestEveryNumericFlagHasARule keeps it complete.
func numericFlags() map[string]flagRule {
	return map[string]flagRule{
		"threads":           {min: 0, max: maxThreads, meaning: "0: all cores; 512 is llama.cpp's GGML_MAX_N_THREADS"},
		"ctx":               {min: 0, max: maxTokens, meaning: "0: the model's, at most 4096; never above the model's trained context"},
		"n-gen":             {min: 0, max: maxTokens, meaning: "tokens to generate, 0 skips the test"},
		"n-prompt":          {min: 0, max: maxTokens, meaning: "prompt tokens, 0 skips the test"},
		"max-tokens":        {min: 0, max: maxTokens, meaning: "0: until the context is full"},
		"repetitions":       {min: 1, max: 1000},
		"layer":             {min: 0, max: 1 << 12},
		"temp":              {min: 0, max: 1000, meaning: "0: greedy"},
		"top-k":             {min: 0, max: maxTokens, meaning: "0: all tokens"},
		"top-p":             {min: 0, max: 1, meaning: "1: off"},
		"min-p":             {min: 0, max: 1, meaning: "0: off"},
		"presence-penalty":  {min: -2, max: 2, meaning: "0: off"},
		"frequency-penalty": {min: -2, max: 2, meaning: "0: off"},
		"port":              {min: 0, max: 65535, meaning: "0: any free port"},
		"parallel":          {min: 1, max: 256, meaning: "requests generated at once"},
		"queue":             {min: 0, max: 1 << 16, meaning: "requests waiting for a slot"},
		"repeat-penalty":    {min: 0, max: 100, minOpen: true, meaning: "1: off"},
		"seed":              {min: 0, max: math.MaxUint64},
		"mem-budget":        {min: 0, max: 1 << 62, size: true, none: true, meaning: "0 or none: no cap"},
		"mem-limit":         {min: 0, max: 1 << 62, size: true, meaning: "0: detected"},
		"layers":            {min: 1, max: 1 << 12},
		"experts":           {min: 0, max: 1 << 16, meaning: "sim: 0, the largest id in the trace + 1"},
		"k":                 {min: 1, max: 1 << 16},
		"tokens":            {min: 1, max: maxTokens},
	}
}

// checkFlags refuses a numeric flag set on c's command outside its rule,
// before the command does anything. newApp makes it every command's Before.
func checkFlags(c *cli.Context) error {
	rules := numericFlags()
	for _, f := range c.Command.Flags {
		name := f.Names()[0]
		r, ok := rules[name]
		if !ok || !c.IsSet(name) {
			continue
		}
		var v float64
		text := ""
		switch f.(type) {
		case *cli.IntFlag:
			v, text = float64(c.Int(name)), strconv.Itoa(c.Int(name))
		case *cli.Float64Flag:
			v, text = c.Float64(name), strconv.FormatFloat(c.Float64(name), 'g', -1, 64)
		case *cli.UintFlag:
			v, text = float64(c.Uint(name)), strconv.FormatUint(uint64(c.Uint(name)), 10)
		case *cli.Uint64Flag:
			continue // every uint64 is a seed
		case *cli.StringFlag:
			text = c.String(name)
			if !r.size { // a list, such as bench's -p 64,512
				list, err := parseIntList(text)
				if err != nil {
					return fmt.Errorf("%s: %w", flagName(name), err)
				}
				for _, n := range list {
					if err := r.check(name, strconv.Itoa(n), float64(n)); err != nil {
						return fromEnv(f, text, err)
					}
				}
				continue
			}
			if r.none && strings.EqualFold(strings.TrimSpace(text), "none") {
				continue
			}
			n, err := parseSize(text)
			if err != nil {
				return fmt.Errorf("%s: %w", flagName(name), err)
			}
			v = float64(n)
		}
		if err := r.check(name, text, v); err != nil {
			return fromEnv(f, text, err)
		}
	}
	return nil
}

// fromEnv adds to err the environment variable that set the flag, if one
// holds its text (all of it, for a list).
func fromEnv(f cli.Flag, text string, err error) error {
	if df, ok := f.(cli.DocGenerationFlag); ok {
		for _, env := range df.GetEnvVars() {
			if v, ok := os.LookupEnv(env); ok && v == text {
				return fmt.Errorf("%w (from $%s)", err, env)
			}
		}
	}
	return err
}

func (r flagRule) check(name, text string, v float64) error {
	low := v >= r.min
	if r.minOpen {
		low = v > r.min
	}
	if low && v <= r.max { // false for NaN
		return nil
	}
	open := "["
	if r.minOpen {
		open = "("
	}
	num := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	bounds := fmt.Sprintf("%s%s, %s]", open, num(r.min), num(r.max))
	if r.size {
		bounds = fmt.Sprintf("[%s bytes, %s]", num(r.min), humanBytes(int64(r.max)))
	}
	msg := fmt.Sprintf("%s %s: out of range, want a value in %s", flagName(name), text, bounds)
	if r.meaning != "" {
		msg += " (" + r.meaning + ")"
	}
	return fmt.Errorf("%s", msg)
}

// checkContextFlag refuses a --ctx above the model's trained context.
// llama.cpp warns and goes on there; q3m's sessions stop at the trained
// context (runtime.NewSession), so the flag is refused before any work.
func checkContextFlag(c *cli.Context, m *runtime.Model) error {
	if n, trained := c.Int("ctx"), m.Config().ContextLen; n > trained {
		return fmt.Errorf("--ctx %d: above the model's trained context of %d tokens", n, trained)
	}
	return nil
}

// flagName spells a flag as it is typed: -n, --ctx.
func flagName(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// noContextShiftFlag is --no-context-shift, llama.cpp's name: a chat whose
// context fills stops the answer there (stop "context") instead of
// dropping its oldest turns after the system prompt and going on.
func noContextShiftFlag() cli.Flag {
	return boolFlag("no-context-shift", "when the context fills, stop the answer there (stop \"context\") instead of dropping the oldest turns and going on")
}
