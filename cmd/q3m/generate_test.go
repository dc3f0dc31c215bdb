package main

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/q3m/q3m/runtime"
)

// TestCLIGenerateIsTheLibrarysTokenLoop: q3m generate --ids prints what
// runtime's Session.Generate generates with the same sampling, seed and
// length, sampled (not greedy) so that the sampler's state and the
// penalties' history count too.
func TestCLIGenerateIsTheLibrarysTokenLoop(t *testing.T) {
	path, _ := benchTestModel(t)
	prompt := []int32{5, 9, 2, 7, 300, 41}
	stdout, stderr, err := q3mWith(t, nil, "", "generate", "-m", path, "--ids", joinIDs(prompt), "-n", "12",
		"--temp", "0.9", "--top-k", "40", "--repeat-penalty", "1.3", "-s", "7", "-t", "1")
	if err != nil {
		t.Fatalf("generate: %v\n%s", err, stderr)
	}
	got, err := parseIDs(strings.TrimSpace(stdout))
	if err != nil {
		t.Fatalf("generate printed %q: %v", stdout, err)
	}

	m, err := runtime.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s, err := m.NewSession(runtime.SessionOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	o := runtime.DefaultSampling(true)
	o.Temperature, o.TopK, o.RepetitionPenalty, o.Seed = 0.9, 40, 1.3, 7
	g, err := s.Generate(context.Background(), prompt, runtime.GenerateOptions{Sampling: o, MaxTokens: 12})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, g.IDs) {
		t.Errorf("q3m generate printed %v, Session.Generate gives %v", got, g.IDs)
	}
}
