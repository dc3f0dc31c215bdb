package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// writeBench writes the report in format: md, csv, json or jsonl.
func writeBench(w io.Writer, r benchReport, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "jsonl":
		enc := json.NewEncoder(w)
		for _, row := range benchRows(r) {
			if err := enc.Encode(row); err != nil {
				return err
			}
		}
		return nil
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write([]string{"model", "file", "size_bytes", "params", "active_params", "backend", "threads",
			"test", "n_prompt", "n_gen", "n_depth", "repetitions", "avg_ts", "stddev_ts", "gb_per_s"})
		for _, row := range benchRows(r) {
			cw.Write([]string{row.Model, row.File, u64(row.SizeBytes), u64(row.Params), u64(row.ActiveParams), row.Backend,
				strconv.Itoa(row.Threads), row.Test, strconv.Itoa(row.NPrompt), strconv.Itoa(row.NGen), strconv.Itoa(row.NDepth),
				strconv.Itoa(len(row.Samples)), f64(row.Mean), f64(row.Stddev), f64(row.GBps)})
		}
		cw.Flush()
		return cw.Error()
	}
	return printBench(w, r)
}

// benchRow is one test with the model it ran on: a line of -o jsonl, a
// row of -o csv.
type benchRow struct {
	Model        string    `json:"model"`
	File         string    `json:"file"`
	SizeBytes    uint64    `json:"size_bytes"`
	Params       uint64    `json:"params"`
	ActiveParams uint64    `json:"active_params"`
	Backend      string    `json:"backend"`
	Threads      int       `json:"threads"`
	Test         string    `json:"test"`
	NPrompt      int       `json:"n_prompt"`
	NGen         int       `json:"n_gen"`
	NDepth       int       `json:"n_depth"`
	Samples      []float64 `json:"samples_ts"`
	Mean         float64   `json:"avg_ts"`
	Stddev       float64   `json:"stddev_ts"`
	GBps         float64   `json:"gb_per_s"`
	Bandwidth    []float64 `json:"read_bandwidth,omitempty"`
	Share        []float64 `json:"bandwidth_share,omitempty"`
}

func benchRows(r benchReport) []benchRow {
	rows := make([]benchRow, len(r.Tests))
	for i, t := range r.Tests {
		rows[i] = benchRow{Model: r.Model, File: r.File, SizeBytes: r.SizeBytes, Params: r.Params, ActiveParams: r.ActiveParams,
			Backend: "cpu/" + r.Kernel, Threads: t.Threads, Test: t.Name, NPrompt: t.NPrompt, NGen: t.NGen, NDepth: t.NDepth,
			Samples: t.Samples, Mean: t.Mean, Stddev: t.Stddev, GBps: t.GBps, Bandwidth: t.Bandwidth, Share: t.Share}
	}
	return rows
}

func u64(v uint64) string  { return strconv.FormatUint(v, 10) }
func f64(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }

// printBench writes llama-bench's table and a summary of the weights read.
func printBench(w io.Writer, r benchReport) error {
	fmt.Fprintln(w, "| model | size | params | backend | threads | test | t/s |")
	fmt.Fprintln(w, "| ----- | ---: | -----: | ------- | ------: | ---: | --: |")
	for _, t := range r.Tests {
		fmt.Fprintf(w, "| %s | %s | %s | cpu/%s | %d | %s | %.2f ± %.2f |\n",
			r.Model, humanBytes(int64(r.SizeBytes)), humanCount(r.Params), r.Kernel, t.Threads, t.Name, t.Mean, t.Stddev)
	}
	fmt.Fprintf(w, "\nactive params per token: %s; weights read per decoded token: %s\n",
		humanCount(r.ActiveParams), humanBytes(int64(r.TokenBytes)))
	for _, t := range r.Tests {
		if t.GBps > 0 {
			fmt.Fprintf(w, "%s, %s: %.1f ms/token, %.2f GB/s of weights%s\n", t.Name, plural(t.Threads, "thread"), 1000/t.Mean, t.GBps, shareText(t))
		}
		if t.TTFTSeconds > 0 {
			fmt.Fprintf(w, "%s, %s: time to first token %.2f s\n", t.Name, plural(t.Threads, "thread"), t.TTFTSeconds)
		}
		if t.MajorFaults >= 0 {
			fmt.Fprintf(w, "%s, %s: %.2f major page faults per token\n", t.Name, plural(t.Threads, "thread"), t.MajorFaults)
		}
		if t.ExpertHitRate > 0 || t.ExpertBytesIn > 0 {
			fmt.Fprintf(w, "%s, %s: expert hits %.1f%%, %s of experts read per token, %.1f ms per token waiting for them\n",
				t.Name, plural(t.Threads, "thread"), 100*t.ExpertHitRate, humanBytes(int64(t.ExpertBytesIn)), t.ReadWaitMs)
		}
	}
	if r.PeakRSSBytes > 0 {
		fmt.Fprintf(w, "peak RSS: %s (mapped weights count once touched)\n", humanBytes(r.PeakRSSBytes))
	}
	if r.MappedRSS > 0 {
		fmt.Fprintf(w, "weights resident at the end: %s of %s\n", humanBytes(r.MappedRSS), humanBytes(int64(r.SizeBytes)))
	}
	if p := r.Pager; p.Hits+p.Misses > 0 {
		budget := "none"
		if p.Budget > 0 {
			budget = humanBytes(p.Budget)
		}
		inMemory := "unknown here"
		if p.InMemory >= 0 {
			inMemory = fmt.Sprintf("%d (%s)", p.InMemory, humanBytes(p.InMemoryBytes))
		}
		slots := ""
		if p.Slots > 0 {
			slots = fmt.Sprintf(" in %d slots", p.Slots)
		}
		fmt.Fprintf(w, "expert pager: %s%s; budget %s; %d experts resident (%s), in memory %s; hits %d, misses %d, evictions %d; prefetch hits %d of %d predicted\n",
			p.ExpertIO, slots, budget, p.Resident, humanBytes(p.ResidentBytes), inMemory, p.Hits, p.Misses, p.Evictions, p.PrefetchHits, p.Predicted)
		fmt.Fprintf(w, "expert pager: read ahead %s used, %s wasted; prediction switched off %d times; %d major page faults since load; %d errors\n",
			humanBytes(int64(p.PrefetchUseful)), humanBytes(int64(p.PrefetchWasted)), p.PrefetchOff, p.MajorFaults, p.Errors)
		switch {
		case p.LockError != "":
			fmt.Fprintf(w, "non-expert weights: %s locked in memory; the rest not: %s\n", humanBytes(p.LockedBytes), p.LockError)
		case p.LockedBytes > 0:
			fmt.Fprintf(w, "non-expert weights: %s locked in memory\n", humanBytes(p.LockedBytes))
		}
	}
	if r.RouteTrace != "" {
		_, err := fmt.Fprintf(w, "routing forced from %s: the outputs are not the model's\n", r.RouteTrace)
		return err
	}
	return nil
}

// newBenchProgress reports each run of a test on f: on one line redrawn
// at a terminal, one line per test otherwise. A call with an empty test
// ends the report.
func newBenchProgress(f *os.File) func(test string, threads, run, runs int) {
	tty := isTerminal(f)
	return func(test string, threads, run, runs int) {
		switch {
		case test == "" && tty:
			fmt.Fprint(f, "\r\x1b[K")
		case test == "":
		case tty:
			fmt.Fprintf(f, "\r\x1b[Kbench: %s, %s: run %d of %d", test, plural(threads, "thread"), run, runs)
		case run == 1:
			fmt.Fprintf(f, "bench: %s, %s: %s\n", test, plural(threads, "thread"), plural(runs, "run"))
		}
	}
}

// plural writes n and the noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// shareText describes a generation test's reads as a share of the read
// bandwidth measured before each run (bench --bandwidth), or is empty.
func shareText(t benchTest) string {
	if len(t.Share) == 0 {
		return ""
	}
	parts := make([]string, len(t.Share))
	for i, s := range t.Share {
		parts[i] = fmt.Sprintf("%.0f%% of %.1f", 100*s, t.Bandwidth[i]/1e9)
	}
	return "; of the read bandwidth measured before each run: " + strings.Join(parts, ", ") + " GB/s"
}
