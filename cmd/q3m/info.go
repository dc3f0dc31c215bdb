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
		ArgsUsage: "FILE",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "layer", Value: 0, Usage: "layer whose per-expert byte ranges are listed"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return cli.Exit("usage: q3m info FILE", 2)
			}
			f, err := format.Open(c.Args().First())
			if err != nil {
				return err
			}
			defer f.Close()
			return printInfo(os.Stdout, f, c.Int("layer"))
		},
	}
}

func printInfo(w io.Writer, f *format.File, layer int) error {
	cfg, cfgErr := runtime.ConfigFromFile(f)
	if cfgErr == nil && layer >= cfg.Layers {
		return fmt.Errorf("--layer %d: the model has %d layers (0 to %d)", layer, cfg.Layers, cfg.Layers-1)
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
	}

	fmt.Fprintln(w, "\nmetadata:")
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	for _, kv := range f.KV {
		fmt.Fprintf(tw, "  %s\t%s\n", kv.Key, describeValue(kv.Value))
	}
	tw.Flush()

	fmt.Fprintln(w, "\ntensors:")
	tw = tabwriter.NewWriter(w, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "name\ttype\tshape\toffset\tbytes\t\n")
	var total uint64
	byType := map[string]uint64{}
	var params uint64
	for _, t := range f.Tensors {
		dims := make([]string, len(t.Dims))
		for i, d := range t.Dims {
			dims[i] = fmt.Sprint(d)
		}
		fmt.Fprintf(tw, "%s\t%s\t{%s}\t%d\t%d\t\n", t.Name, t.Type, strings.Join(dims, ", "), f.DataOffset+t.Offset, t.Bytes())
		total += t.Bytes()
		byType[t.Type.String()] += t.Bytes()
		params += t.Elements()
	}
	tw.Flush()

	prefix := fmt.Sprintf("blk.%d.", layer)
	var experts []format.TensorInfo
	for _, t := range f.Tensors {
		if strings.HasPrefix(t.Name, prefix) && strings.HasSuffix(t.Name, "_exps.weight") && len(t.Dims) == 3 {
			experts = append(experts, t)
		}
	}
	if len(experts) > 0 {
		fmt.Fprintf(w, "\nper-expert byte ranges of layer %d (absolute file offsets):\n", layer)
		tw = tabwriter.NewWriter(w, 2, 8, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "tensor\texpert\tstart\tend\tbytes\tpage-aligned\t\n")
		for _, t := range experts {
			for e := 0; e < int(t.Dims[2]); e++ {
				off, n, err := f.ExpertRange(t, e)
				if err != nil {
					return err
				}
				fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%v\t\n", t.Name, e, off, off+n, n, off%4096 == 0)
			}
		}
		tw.Flush()
	}

	fmt.Fprintf(w, "\ntotals: %d tensors, %d parameters, %s of tensor data", len(f.Tensors), params, humanBytes(int64(total)))
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
