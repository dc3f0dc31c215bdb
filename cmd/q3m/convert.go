package main

import (
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/q3m/q3m/convert"
	"github.com/q3m/q3m/quant"
)

func convertCommand() *cli.Command {
	return &cli.Command{
		Name:      "convert",
		Usage:     "convert a Hugging Face Qwen3-MoE checkpoint directory into one GGUF file",
		ArgsUsage: "HF_DIR",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "type", Value: "q8_0", Usage: "weight type: f32, f16, bf16, q8_0 or q4_0"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "output file", DefaultText: "HF_DIR-TYPE.gguf beside the checkpoint"},
			threadsFlag(),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return cli.Exit("usage: q3m convert [--type T] [-o OUT] HF_DIR", 2)
			}
			dir := c.Args().First()
			typ, err := parseWeightType(c.String("type"))
			if err != nil {
				return err
			}
			out := c.String("output")
			if out == "" {
				out = convert.DefaultOutput(dir, typ)
			}
			inputs, err := convert.InputFiles(dir)
			if err != nil {
				return err
			}
			o, err := createOutput(c.Context, "output", out, inputs...)
			if err != nil {
				return err
			}
			defer o.discard()
			start := time.Now()
			bar := newProgressBar(os.Stderr, "converting")
			err = convert.Convert(c.Context, dir, o.temp, convert.Options{
				Type:    typ,
				Threads: c.Int("threads"),
				Progress: func(p convert.Progress) {
					bar.update(p.Done, p.Total, p.Tensor)
				},
			})
			bar.finish()
			if err != nil {
				return err
			}
			if err := o.commit(); err != nil {
				return err
			}
			st, err := os.Stat(out)
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "wrote %s (%s, %s) in %s\n", out, typ, humanBytes(st.Size()), time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
}

func parseWeightType(s string) (quant.Type, error) {
	t, err := quant.ParseType(s)
	if err != nil || !t.Convertible() {
		return 0, fmt.Errorf("--type %q: want f32, f16, bf16, q8_0 or q4_0", s)
	}
	return t, nil
}
