package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestEveryNumericFlagHasARule walks every command's flags: each numeric
// one has a rule, and its default value passes it.
func TestEveryNumericFlagHasARule(t *testing.T) {
	rules := numericFlags()
	for _, cmd := range newApp().Commands {
		for _, f := range cmd.Flags {
			name := f.Names()[0]
			var def float64
			switch ff := f.(type) {
			case *cli.IntFlag:
				def = float64(ff.Value)
			case *cli.Float64Flag:
				def = ff.Value
			case *cli.Uint64Flag:
				def = float64(ff.Value)
			case *cli.StringFlag:
				r, ok := rules[name]
				if !ok {
					continue // not numeric
				}
				if r.size {
					break
				}
				list, err := parseIntList(ff.Value)
				if err != nil {
					t.Errorf("%s --%s: default %q: %v", cmd.Name, name, ff.Value, err)
				}
				for _, v := range list {
					if err := r.check(name, "default", float64(v)); err != nil {
						t.Errorf("%s: default refused: %v", cmd.Name, err)
					}
				}
				continue
			default:
				continue
			}
			r, ok := rules[name]
			if !ok {
				t.Errorf("%s --%s: numeric flag without a rule", cmd.Name, name)
				continue
			}
			if err := r.check(name, "default", def); err != nil {
				t.Errorf("%s: default refused: %v", cmd.Name, err)
			}
		}
		if cmd.Before == nil {
			t.Errorf("%s: flags not checked", cmd.Name)
		}
	}
}

// TestCLIRefusesNonsenseFlagValues runs each command with each numeric
// flag out of range. The model does not exist: the flag must be refused
// first, by name.
func TestCLIRefusesNonsenseFlagValues(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.gguf")
	gen := func(f ...string) []string { return append([]string{"generate", "-m", missing, "--ids", "1"}, f...) }
	run := func(f ...string) []string { return append([]string{"run", "-m", missing, "-p", "hi"}, f...) }
	logits := func(f ...string) []string { return append([]string{"logits", "-m", missing, "--ids", "1"}, f...) }
	bench := func(f ...string) []string { return append([]string{"bench", "-m", missing}, f...) }
	tests := []struct {
		args []string
		flag string
	}{
		{gen("-n", "-1"), "--max-tokens -1"},
		{gen("--temp", "-1"), "--temp -1"},
		{gen("--temp", "nan"), "--temp NaN"},
		{gen("--temp", "inf"), "--temp +Inf"},
		{gen("--top-p", "5"), "--top-p 5"},
		{gen("--top-p", "-0.1"), "--top-p -0.1"},
		{gen("--min-p", "2"), "--min-p 2"},
		{gen("--top-k", "-3"), "--top-k -3"},
		{gen("--threads", "1000000"), "--threads 1000000"},
		{gen("--threads", "-2"), "--threads -2"},
		{gen("--ctx", "100000000"), "--ctx 100000000"},
		{gen("--ctx", "-1"), "--ctx -1"},
		{gen("--mem-budget", "nan"), "--mem-budget"},
		{gen("--mem-budget", "-1G"), "--mem-budget"},
		{run("--repeat-penalty", "0"), "--repeat-penalty 0"},
		{run("--repeat-penalty", "-1"), "--repeat-penalty -1"},
		{run("--presence-penalty", "nan"), "--presence-penalty NaN"},
		{run("--max-tokens", "-1"), "--max-tokens -1"},
		{run("--min-p", "1.5"), "--min-p 1.5"},
		{run("--temp", "-0.5"), "--temp -0.5"},
		{run("--threads", "1000000"), "--threads 1000000"},
		{run("--ctx", "-5"), "--ctx -5"},
		{logits("--threads", "-1"), "--threads -1"},
		{logits("--ctx", "100000000"), "--ctx 100000000"},
		{logits("--mem-budget", "nan"), "--mem-budget"},
		{logits("--mem-budget", "nonee"), "--mem-budget"},
		{gen("--mem-limit", "-1G"), "--mem-limit"},
		{run("--mem-limit", "none"), "--mem-limit"},
		{bench("--mem-limit", "nan"), "--mem-limit"},
		{[]string{"info", "--mem-limit", "-5", missing}, "--mem-limit"},
		{[]string{"info", "--ctx", "-5", missing}, "--ctx -5"},
		{[]string{"trace", "gen", "--layers", "0"}, "--layers 0"},
		{[]string{"trace", "gen", "-k", "0"}, "-k 0"},
		{bench("-p", "-1"), "--n-prompt -1"},
		{bench("-n", "-1"), "--n-gen -1"}, {bench("-p", "64,-1"), "--n-prompt -1"}, {bench("-t", "1,1000000"), "--threads 1000000"},
		{bench("-r", "0"), "--repetitions 0"},
		{bench("-t", "1000000"), "--threads 1000000"},
		{[]string{"convert", "--threads", "-1", missing}, "--threads -1"},
		{[]string{"convert", "--threads", "100000", missing}, "--threads 100000"},
		{[]string{"demo", "-n", "-1"}, "--max-tokens -1"},
		{[]string{"info", "--layer", "-1", missing}, "--layer -1"},
	}
	for _, tt := range tests {
		_, stderr, err := q3mRun(t, tt.args...)
		if err == nil || !strings.Contains(stderr, tt.flag+": out of range") && !strings.Contains(stderr, tt.flag+": ") ||
			strings.Contains(stderr, "missing.gguf") || strings.Contains(stderr, "panic") {
			t.Errorf("q3m %s: err %v, stderr %q; want the flag refused as %q", strings.Join(tt.args, " "), err, stderr, tt.flag)
		}
	}
}

// TestCLIRefusesFlagsBeyondTheModel: --ctx above the trained context and
// --layer past the last layer are refused by name once the model is known.
func TestCLIRefusesFlagsBeyondTheModel(t *testing.T) {
	model, _ := chatTestModel(t, 256)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"generate", "-m", model, "--ids", "1", "--ctx", "300"}, "--ctx 300: above the model's trained context of 256 tokens"},
		{[]string{"logits", "-m", model, "--ids", "1", "--ctx", "257"}, "--ctx 257: above the model's trained context of 256 tokens"},
		{[]string{"run", "-m", model, "-p", "hi", "--ctx", "100000"}, "--ctx 100000: above the model's trained context of 256 tokens"},
		{[]string{"info", "--layer", "2", model}, "--layer 2: the model has 2 layers"},
	} {
		stdout, stderr, err := q3mRun(t, tt.args...)
		if err == nil || !strings.Contains(stderr, tt.want) || stdout != "" {
			t.Errorf("q3m %s: err %v, stdout %q, stderr %q; want %q", strings.Join(tt.args, " "), err, stdout, stderr, tt.want)
		}
	}
}
