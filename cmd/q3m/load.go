package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/q3m/q3m/runtime"
)

// loadModel opens the model file at path with the pager settings of
// memFlags.
func loadModel(c *cli.Context, path string) (*runtime.Model, error) {
	budget, err := parseSize(c.String("mem-budget"))
	if err != nil {
		return nil, fmt.Errorf("--mem-budget: %w", err)
	}
	return runtime.LoadWith(path, runtime.LoadOptions{ExpertBudget: budget, NoPrefetch: c.Bool("no-prefetch")})
}

// parseSize reads a byte count with an optional binary or decimal unit:
// 512MiB, 8GiB, 2G, 1500000. Empty means 0.
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	units := []struct {
		suffix string
		mult   float64
	}{
		{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
		{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
		{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40}, {"b", 1},
	}
	num, mult := strings.ToLower(s), 1.0
	for _, u := range units {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || !(v >= 0) || v*mult > 1<<62 { // !(v >= 0) refuses NaN
		return 0, fmt.Errorf("%q is not a size such as 8GiB or 512MiB", s)
	}
	return int64(v * mult), nil
}
