package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/q3m/q3m/routing"
)

// `q3m trace gen|stats|sim` makes and studies routing traces (package
// routing; docs/expert-cache.md): what --trace-experts records and bench
// --route-trace replays.

func traceCommand() *cli.Command {
	return &cli.Command{
		Name:  "trace",
		Usage: "generate expert-routing traces, measure them and simulate the expert cache's policies on them",
		Description: "A trace is JSON lines, one routing decision a line:\n" +
			`  {"token":0,"layer":0,"experts":[12,3,77,5,101,9,64,30],"weights":[0.31,0.2,...]}` + "\n" +
			"as run, generate and bench write with --trace-experts.",
		Subcommands: []*cli.Command{traceGenCommand(), traceStatsCommand(), traceSimCommand()},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				msg := fmt.Sprintf("q3m trace: unknown command %q: want gen, stats or sim", c.Args().First())
				if s := suggest(c.Args().First(), []string{"gen", "stats", "sim"}); s != "" {
					msg += fmt.Sprintf("; did you mean %q?", s)
				}
				return cli.Exit(msg, 2)
			}
			return cli.ShowSubcommandHelp(c)
		},
	}
}

// patterns are the values of trace gen --pattern.
var patterns = []string{string(routing.Qwen3), string(routing.Uniform)}

func traceGenCommand() *cli.Command {
	return &cli.Command{
		Name:      "gen",
		Usage:     "write a synthetic routing trace (qwen3: the published Qwen3-30B-A3B statistics; uniform)",
		ArgsUsage: " ",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "layers", Value: 48, Usage: "MoE layers"},
			&cli.IntFlag{Name: "experts", Value: 128, Usage: "experts per layer"},
			&cli.IntFlag{Name: "k", Value: 8, Usage: "experts per token"},
			&cli.IntFlag{Name: "tokens", Value: 4096, Usage: "tokens"},
			&cli.StringFlag{Name: "pattern", Value: string(routing.Qwen3), Usage: "qwen3 or uniform"},
			&cli.Uint64Flag{Name: "seed", Aliases: []string{"s"}, Value: 1, Usage: "random seed"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the trace to `FILE`", DefaultText: "standard output"},
		},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return cli.Exit(fmt.Sprintf("q3m trace gen: unexpected argument %q (the file goes in -o)", c.Args().First()), 2)
			}
			pattern := c.String("pattern")
			if !slices.Contains(patterns, pattern) {
				msg := fmt.Sprintf("q3m trace gen: --pattern %q: want qwen3 or uniform", pattern)
				if s := suggest(pattern, patterns); s != "" {
					msg += fmt.Sprintf("; did you mean %q?", s)
				}
				return cli.Exit(msg, 2)
			}
			g := routing.GenSpec{Layers: c.Int("layers"), Experts: c.Int("experts"), K: c.Int("k"), Tokens: c.Int("tokens"),
				Pattern: routing.Pattern(pattern), Seed: c.Uint64("seed")}
			if g.K > g.Experts {
				return fmt.Errorf("trace gen: -k %d: more than the %d experts", g.K, g.Experts)
			}
			path := c.String("output")
			var o *output
			if path != "" && path != "-" {
				var err error
				if o, err = createOutput(c.Context, "output", path); err != nil {
					return err
				}
				defer o.discard()
			}
			tr, err := routing.Generate(g)
			if err != nil {
				return fmt.Errorf("trace gen: %w", err)
			}
			if o == nil {
				_, err = tr.WriteTo(os.Stdout)
				return err
			}
			if err := writeFile(o.temp, func(w io.Writer) error { _, err := tr.WriteTo(w); return err }); err != nil {
				return fmt.Errorf("-o %s: %w", path, err)
			}
			return o.commit()
		},
	}
}

// traceFileFlags are the flags of trace stats and sim.
func traceFileFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "experts", Usage: "experts per layer", DefaultText: "the largest id in the trace + 1"},
	}
}

func traceStatsCommand() *cli.Command {
	return &cli.Command{
		Name:      "stats",
		Usage:     "measure routing traces: how often a token reuses the experts of the tokens before it",
		ArgsUsage: "FILE...",
		Flags:     traceFileFlags(),
		Action:    func(c *cli.Context) error { return traceFiles(c, false) },
	}
}

func traceSimCommand() *cli.Command {
	return &cli.Command{
		Name:      "sim",
		Usage:     "simulate the expert cache's policies (and Bélády's optimum) on routing traces",
		ArgsUsage: "FILE...",
		Flags: append(traceFileFlags(),
			&cli.StringFlag{Name: "shares", Value: "0.1,0.25,0.4,0.6", Usage: "shares of the experts cached, comma-separated"}),
		Action: func(c *cli.Context) error { return traceFiles(c, true) },
	}
}

// traceFiles measures (and with sim, simulates) each trace file.
func traceFiles(c *cli.Context, sim bool) error {
	name := "q3m trace " + c.Command.Name
	if !c.Args().Present() {
		return cli.Exit(name+": give one or more trace files", 2)
	}
	var shares []float64
	if sim {
		for s := range strings.SplitSeq(c.String("shares"), ",") {
			v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil || !(v > 0 && v <= 1) {
				return fmt.Errorf("--shares: %q is not a share in (0, 1]", s)
			}
			shares = append(shares, v)
		}
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	for _, path := range c.Args().Slice() {
		if err := c.Context.Err(); err != nil {
			return err
		}
		tr, err := routing.ReadFile(path, routing.Geometry{Experts: c.Int("experts")})
		if err != nil {
			return err
		}
		st := routing.Measure(tr)
		fmt.Fprintf(w, "%s: %d tokens × %d layers × k %d; previous token %.1f%%, last 8 tokens %.1f%%, 90%% of choices on %.1f experts a layer (%.1f%%), %d experts used\n",
			path, tr.Tokens(), len(tr.Layers), tr.K, 100*st.PrevShare, 100*st.WindowShare, st.MassExperts, 100*st.MassShare, st.Distinct)
		if !sim {
			continue
		}
		E := c.Int("experts")
		if E == 0 {
			for _, e := range tr.Experts {
				E = max(E, int(e)+1)
			}
		}
		table, err := routing.Table(tr, E, shares)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if err := routing.WriteTable(w, table, shares); err != nil {
			return err
		}
		fmt.Fprintf(w, "best online: %s\n\n", routing.Best(table))
	}
	return w.Flush()
}

// writeFile writes a new file at path with write, through a buffer,
// synced before closing.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := write(w); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// routeRecorder writes a session's routing decisions to the file of
// --trace-experts, through an output: the file appears only complete.
type routeRecorder struct {
	o *output
	f *os.File
	w *bufio.Writer
}

// startRouteTrace opens the file of --trace-experts, or returns nil when
// the flag is not given.
func startRouteTrace(c *cli.Context, model string) (*routeRecorder, error) {
	path := c.String("trace-experts")
	if path == "" {
		return nil, nil
	}
	o, err := createOutput(c.Context, "trace-experts", path, model)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(o.temp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		o.discard()
		return nil, fmt.Errorf("--trace-experts %s: %w", path, err)
	}
	return &routeRecorder{o: o, f: f, w: bufio.NewWriterSize(f, 1<<16)}, nil
}

// Write is what the session records through.
func (r *routeRecorder) Write(p []byte) (int, error) { return r.w.Write(p) }

// finish writes out the trace and puts it in place, unless recording
// failed (recErr, the session's RecordingError).
func (r *routeRecorder) finish(recErr error) error {
	if r == nil {
		return nil
	}
	defer r.discard()
	if recErr != nil {
		return fmt.Errorf("--trace-experts %s: %w", r.o.path, recErr)
	}
	err := r.w.Flush()
	if err == nil {
		err = r.f.Sync()
	}
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	r.f = nil
	if err != nil {
		return fmt.Errorf("--trace-experts %s: %w", r.o.path, err)
	}
	return r.o.commit()
}

// discard drops the trace unless finish put it in place.
func (r *routeRecorder) discard() {
	if r == nil {
		return
	}
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
	r.o.discard()
}
