package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/q3m/q3m/routing"
	"github.com/q3m/q3m/runtime"
)

// loadModel opens the model file at path with the pager settings of
// memFlags.
func loadModel(c *cli.Context, path string) (*runtime.Model, error) {
	opt, err := loadOptions(c)
	if err != nil {
		return nil, err
	}
	return runtime.LoadWith(path, opt)
}

// loadOptions reads memFlags and --ctx into the pager's options (the plan
// reserves a KV cache of --ctx positions of --kv-type). An unset
// --mem-budget leaves the budget to the memory plan; --mem-budget 0 or
// none means no cap at all.
func loadOptions(c *cli.Context) (runtime.LoadOptions, error) {
	opt := runtime.LoadOptions{NoPrefetch: c.Bool("no-prefetch"), Policy: c.String("expert-policy")}
	if hasFlag(c, "ctx") {
		opt.ContextLen = c.Int("ctx")
	}
	if c.IsSet("mem-budget") {
		budget, none, err := parseBudget(c.String("mem-budget"))
		if err != nil {
			return opt, fmt.Errorf("--mem-budget: %w", err)
		}
		opt.ExpertBudget, opt.NoAutoBudget = budget, none
	}
	limit, err := parseSize(c.String("mem-limit"))
	if err != nil {
		return opt, fmt.Errorf("--mem-limit: %w", err)
	}
	opt.MemoryLimit = limit
	if opt.KVType, err = kvType(c); err != nil {
		return opt, err
	}
	if err := checkPolicy(opt.Policy); err != nil {
		return opt, err
	}
	if hasFlag(c, "expert-io") {
		if opt.ExpertIO, err = runtime.ParseExpertIO(c.String("expert-io")); err != nil {
			return opt, cli.Exit(fmt.Sprintf("q3m: --expert-io %q: want one of %s", c.String("expert-io"), strings.Join(runtime.ExpertIOs, ", ")), 2)
		}
	}
	return opt, nil
}

// hasFlag reports whether c's command defines the flag name.
func hasFlag(c *cli.Context, name string) bool {
	for _, f := range c.Command.Flags {
		if slices.Contains(f.Names(), name) {
			return true
		}
	}
	return false
}

// parseBudget reads --mem-budget: a size, or none; 0 and none both mean
// no cap (none is true).
func parseBudget(s string) (budget int64, none bool, err error) {
	if strings.EqualFold(strings.TrimSpace(s), "none") {
		return 0, true, nil
	}
	n, err := parseSize(s)
	if err != nil {
		return 0, false, fmt.Errorf("%q is not a size such as 8GiB or 512MiB, nor none", s)
	}
	return n, n == 0, nil
}

// checkPolicy refuses an expert policy routing does not know, suggesting
// the one meant. "" is the default.
func checkPolicy(name string) error {
	if name == "" || slices.Contains(routing.Policies, name) {
		return nil
	}
	msg := fmt.Sprintf("--expert-policy %q: want one of %s", name, strings.Join(routing.Policies, ", "))
	if s := suggest(name, routing.Policies); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	return cli.Exit("q3m: "+msg, 2)
}

// printMemoryPlan writes the model's memory plan to stderr once, when a
// budget caps its experts, and warns when the cap is below one token's
// experts or the other weights could not all be locked in memory.
func printMemoryPlan(m *runtime.Model) {
	st := m.PagerStats()
	if st.Budget == 0 {
		return
	}
	if st.LockError != "" {
		fmt.Fprintf(os.Stderr, "q3m: non-expert weights: %s locked in memory, the rest not (expert reads may evict them): %s\n", humanBytes(st.LockedBytes), st.LockError)
	}
	plan, err := m.MemoryPlan()
	if err != nil {
		fmt.Fprintf(os.Stderr, "q3m: memory plan: %v\n", err)
		return
	}
	if !plan.Fits && plan.Budget() == st.Budget {
		fmt.Fprint(os.Stderr, indent("q3m: memory plan\n", plan.String()))
		return // the plan's own warning is in it
	}
	fmt.Fprintf(os.Stderr, "q3m: expert budget %s (given) of %s of experts, read with %s\n", humanBytes(st.Budget), humanBytes(plan.ExpertBytes), st.ExpertIO)
	if plan.ExpertIONote != "" {
		fmt.Fprintf(os.Stderr, "q3m: note: %s\n", plan.ExpertIONote)
	}
	if plan.WorkingSet > 0 && st.Budget < plan.WorkingSet {
		fmt.Fprintf(os.Stderr, "q3m: warning: the expert budget (%s) is below one token's expert working set (%s): nearly every expert is read from disk for every token\n",
			humanBytes(st.Budget), humanBytes(plan.WorkingSet))
	}
}

// indent puts the lines of body under head, two spaces in.
func indent(head, body string) string {
	var b strings.Builder
	b.WriteString(head)
	for line := range strings.Lines(body) {
		b.WriteString("  " + line)
	}
	return b.String()
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
