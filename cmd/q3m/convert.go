package main

import (
	"fmt"
	"os"
	"strings"
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
			&cli.StringFlag{Name: "type", Value: "q8_0", Usage: "llama-quantize preset: " + convert.PresetNames()},
			&cli.BoolFlag{Name: "pure", DisableDefaultText: true, Usage: "every weight matrix in the preset's base type (llama-quantize --pure)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "output file", DefaultText: "HF_DIR-TYPE.gguf beside the checkpoint"},
			threadsFlag(),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return cli.Exit("usage: q3m convert [--type PRESET] [--pure] [-o OUT] HF_DIR", 2)
			}
			dir := c.Args().First()
			preset, err := convert.ParsePreset(c.String("type"))
			if err != nil {
				return fmt.Errorf("--type %q: want one of %s", c.String("type"), convert.PresetNames())
			}
			out := c.String("output")
			if out == "" {
				out = convert.DefaultOutput(dir, preset.Name)
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
				Preset:  preset.Name,
				Pure:    c.Bool("pure"),
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
			fmt.Fprintf(os.Stderr, "wrote %s (%s, %s) in %s\n", out, strings.ToUpper(preset.Name), humanBytes(st.Size()), time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
}

// parseWeightType returns the type every weight matrix gets under
// --type s (the pure form of a preset).
func parseWeightType(s string) (quant.Type, error) {
	if t, err := quant.ParseType(s); err == nil {
		if _, err := convert.PresetOfType(t); err == nil {
			return t, nil
		}
	}
	var names []string
	for _, p := range convert.Presets() {
		if q, _ := convert.PresetOfType(p.Base); q == p {
			names = append(names, strings.ToLower(p.Base.String()))
		}
	}
	return 0, fmt.Errorf("--type %q: want one of %s", s, strings.Join(names, ", "))
}
