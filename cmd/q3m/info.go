package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/q3m/q3m/format"
	"github.com/q3m/q3m/runtime"
)

func infoCommand() *cli.Command {
	return &cli.Command{
		Name:      "info",
		Usage:     "describe a GGUF file: architecture, hyperparameters, tensors, expert byte ranges",
		ArgsUsage: "MODEL",
		Flags: []cli.Flag{
			modelFlag(),
			&cli.IntFlag{Name: "layer", Value: 0, Usage: "layer whose per-expert byte ranges are listed"},
			boolFlag("json", "print the description as one JSON object"),
			ctxFlag(),
			&cli.StringFlag{Name: "mem-limit", EnvVars: []string{"Q3M_MEM_LIMIT"}, DefaultText: "detected: the cgroup's limit or MemAvailable",
				Usage: "memory the process may use, which the memory plan divides, e.g. 16GiB"},
		},
		Action: func(c *cli.Context) error {
			model, args, err := modelArgs(c)
			if err != nil {
				return err
			}
			if len(args) > 0 {
				return cli.Exit(fmt.Sprintf("q3m info: unexpected argument %q; usage: q3m info MODEL", args[0]), 2)
			}
			f, err := format.Open(model)
			if err != nil {
				return err
			}
			defer f.Close()
			limit, err := parseSize(c.String("mem-limit"))
			if err != nil {
				return fmt.Errorf("--mem-limit: %w", err)
			}
			plan := infoPlan{ctx: c.Int("ctx"), limit: limit}
			if c.Bool("json") {
				return printInfoJSON(os.Stdout, f, c.Int("layer"), plan)
			}
			return printInfo(os.Stdout, f, c.Int("layer"), plan)
		},
	}
}

// infoPlan is what info plans the memory for: a context (0: the default)
// and a memory limit (0: detected).
type infoPlan struct {
	ctx   int
	limit int64
}

// plan makes the memory plan of f, or says why there is none.
func (p infoPlan) plan(f *format.File, cfg runtime.Config) (runtime.MemoryPlan, error) {
	if p.ctx > cfg.ContextLen {
		return runtime.MemoryPlan{}, fmt.Errorf("--ctx %d: above the model's trained context of %d tokens", p.ctx, cfg.ContextLen)
	}
	return runtime.PlanMemory(f, p.ctx, p.limit)
}

func printInfo(w io.Writer, f *format.File, layer int, ip infoPlan) error {
	cfg, cfgErr := runtime.ConfigFromFile(f)
	if cfgErr == nil && layer >= cfg.Layers {
		return fmt.Errorf("--layer %d: the model has %d layers (0 to %d)", layer, cfg.Layers, cfg.Layers-1)
	}
	var plan runtime.MemoryPlan
	if cfgErr == nil {
		var err error
		if plan, err = ip.plan(f, cfg); err != nil {
			return err
		}
	}
	arch, _, _ := f.String("general.architecture")
	fmt.Fprintf(w, "file:          %s\n", f.Path)
	fmt.Fprintf(w, "gguf version:  %d, alignment %d, data at %d\n", f.Version, f.Alignment, f.DataOffset)
	fmt.Fprintf(w, "architecture:  %s\n", arch)
	fmt.Fprintf(w, "chat template: %s\n", runtime.DescribeChatTemplate(f))
	if cfgErr != nil {
		fmt.Fprintf(w, "model:         q3m cannot run this file: %v\n", cfgErr)
	} else {
		printConfig(w, cfg)
		fmt.Fprint(w, indent("\nmemory plan:\n", plan.String()))
	}

	fmt.Fprintln(w, "\nmetadata:")
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	for _, kv := range f.KV {
		fmt.Fprintf(tw, "  %s\t%s\n", kv.Key, describeValue(kv.Value))
	}
	tw.Flush()

	fmt.Fprintln(w, "\ntensors:")
	tw = tabwriter.NewWriter(w, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "name\ttype\tshape\toffset\tsize\t\n")
	var total uint64
	byType := map[string]uint64{}
	var params uint64
	for _, t := range f.Tensors {
		dims := make([]string, len(t.Dims))
		for i, d := range t.Dims {
			dims[i] = fmt.Sprint(d)
		}
		fmt.Fprintf(tw, "%s\t%s\t{%s}\t%d\t%s\t\n", t.Name, t.Type, strings.Join(dims, ", "), f.DataOffset+t.Offset, humanBytes(int64(t.Bytes())))
		total += t.Bytes()
		byType[t.Type.String()] += t.Bytes()
		params += t.Elements()
	}
	tw.Flush()

	var experts []format.TensorInfo
	if cfgErr == nil {
		var err error
		if experts, err = expertTensors(f, cfg, layer); err != nil {
			return err
		}
	}
	if len(experts) > 0 {
		fmt.Fprintf(w, "\nper-expert byte ranges of layer %d (absolute file offsets):\n", layer)
		tw = tabwriter.NewWriter(w, 2, 8, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "tensor\texpert\tstart\tend\tsize\tpage-aligned\t\n")
		for _, t := range experts {
			for e := 0; e < int(t.Dims[2]); e++ {
				off, n, err := f.ExpertRange(t, e)
				if err != nil {
					return err
				}
				fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%v\t\n", t.Name, e, off, off+n, humanBytes(int64(n)), off%4096 == 0)
			}
		}
		tw.Flush()
	}
	sharing, err := runtime.ExpertPageSharing(f, os.Getpagesize())
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nexpert pages: %s\n", sharing)

	fmt.Fprintf(w, "\ntotals: %d tensors, %s parameters, %s of tensor data", len(f.Tensors), humanCount(params), humanBytes(int64(total)))
	types := make([]string, 0, len(byType))
	for k := range byType {
		types = append(types, k)
	}
	slices.Sort(types)
	for _, k := range types {
		fmt.Fprintf(w, "; %s %s", k, humanBytes(int64(byType[k])))
	}
	fmt.Fprintln(w)
	return nil
}

// printConfig summarizes the hyperparameters q3m runs the model with.
func printConfig(w io.Writer, c runtime.Config) {
	fmt.Fprintf(w, "model:         %d layers, hidden %d, vocab %d, context %d\n", c.Layers, c.Hidden, c.Vocab, c.ContextLen)
	fmt.Fprintf(w, "attention:     %d query / %d kv heads of %d, rope theta %g", c.Heads, c.KVHeads, c.HeadDim, c.RopeTheta)
	if c.RopeScaling != "" {
		fmt.Fprintf(w, ", %s ×%g from %d", c.RopeScaling, c.RopeFactor, c.RopeOrigCtx)
	}
	if c.SlidingWindow > 0 {
		fmt.Fprintf(w, ", sliding window %d", c.SlidingWindow)
	}
	if c.AttentionBias {
		fmt.Fprint(w, ", q/k/v/o biases")
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "experts:       %d routed, %d per token, FFN %d, top-k weights renormalized: %v\n",
		c.Experts, c.ExpertsUsed, c.ExpertFFN, c.NormTopKProb)
	if len(c.DenseLayers) > 0 {
		fmt.Fprintf(w, "dense layers:  %v (FFN %d)\n", c.DenseLayers, c.FFN)
	}
	printHead(w, c) // a head other than lm_head (logits_heads.go)
	if c.Tied && c.Head.Class == runtime.CausalLM {
		fmt.Fprintln(w, "output:        tied to the token embedding")
	}
}

// describeValue prints a metadata value briefly: arrays show their length
// and first few elements.
func describeValue(v any) string {
	a, ok := v.(format.Array)
	if !ok {
		if s, ok := v.(string); ok {
			if len(s) > 60 {
				return fmt.Sprintf("%q… (%d bytes)", s[:60], len(s))
			}
			return fmt.Sprintf("%q", s)
		}
		return fmt.Sprint(v)
	}
	s := fmt.Sprintf("%v", a.Values)
	if len(s) > 70 {
		s = s[:70] + "…"
	}
	return fmt.Sprintf("[%s × %s] %s", arrayLen(a), a.Elem, s)
}

func arrayLen(a format.Array) string {
	switch v := a.Values.(type) {
	case []string:
		return fmt.Sprint(len(v))
	case []int32:
		return fmt.Sprint(len(v))
	case []uint32:
		return fmt.Sprint(len(v))
	case []float32:
		return fmt.Sprint(len(v))
	case []format.Array:
		return fmt.Sprint(len(v))
	}
	return "?"
}
