// Command routes generates expert-routing traces, measures them and runs
// them through the expert-cache policies (package routing), until q3m has
// a trace command:
//
//	go run ./scripts/routes gen -layers 48 -experts 128 -k 8 -tokens 4096 -pattern qwen3 -o qwen3.jsonl
//	go run ./scripts/routes stats qwen3.jsonl
//	go run ./scripts/routes sim -experts 128 qwen3.jsonl
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/q3m/q3m/routing"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "routes:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: routes gen|stats|sim [flags] [FILE…]")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	switch args[0] {
	case "gen":
		g := routing.GenSpec{}
		fs.IntVar(&g.Layers, "layers", 48, "MoE layers")
		fs.IntVar(&g.Experts, "experts", 128, "experts per layer")
		fs.IntVar(&g.K, "k", 8, "experts per token")
		fs.IntVar(&g.Tokens, "tokens", 4096, "tokens")
		pattern := fs.String("pattern", "qwen3", "qwen3 or uniform")
		fs.Uint64Var(&g.Seed, "seed", 1, "random seed")
		out := fs.String("o", "", "output file (default: standard output)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		g.Pattern = routing.Pattern(*pattern)
		tr, err := routing.Generate(g)
		if err != nil {
			return err
		}
		if *out == "" {
			_, err = tr.WriteTo(os.Stdout)
			return err
		}
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		if _, err := tr.WriteTo(f); err != nil {
			f.Close()
			os.Remove(*out)
			return fmt.Errorf("%s: %w", *out, err)
		}
		return f.Close()
	case "stats", "sim":
		experts := fs.Int("experts", 0, "experts per layer (default: the largest id in the trace + 1)")
		shares := fs.String("shares", "0.1,0.25,0.4,0.6", "shares of the experts cached")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		var sh []float64
		for s := range strings.SplitSeq(*shares, ",") {
			v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil || v <= 0 || v > 1 {
				return fmt.Errorf("-shares: %q is not a share in (0, 1]", s)
			}
			sh = append(sh, v)
		}
		for _, path := range fs.Args() {
			tr, err := routing.ReadFile(path, routing.Geometry{Experts: *experts})
			if err != nil {
				return err
			}
			st := routing.Measure(tr)
			fmt.Printf("%s: %d tokens × %d layers × k %d; previous token %.1f%%, last 8 tokens %.1f%%, 90%% of choices on %.1f experts a layer (%.1f%%), %d experts used\n",
				path, tr.Tokens(), len(tr.Layers), tr.K, 100*st.PrevShare, 100*st.WindowShare, st.MassExperts, 100*st.MassShare, st.Distinct)
			if args[0] == "stats" {
				continue
			}
			E := *experts
			if E == 0 {
				for _, e := range tr.Experts {
					E = max(E, int(e)+1)
				}
			}
			table, err := routing.Table(tr, E, sh)
			if err != nil {
				return err
			}
			if err := routing.WriteTable(os.Stdout, table, sh); err != nil {
				return err
			}
			fmt.Printf("best online: %s\n\n", routing.Best(table))
		}
		return nil
	}
	return fmt.Errorf("unknown command %q: want gen, stats or sim", args[0])
}
