package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/q3m/q3m/convert"
	"github.com/q3m/q3m/quant"
	"github.com/q3m/q3m/runtime"
	"github.com/q3m/q3m/synth"
)

func demoCommand() *cli.Command {
	return &cli.Command{
		Name:  "demo",
		Usage: "synthesize a small random Qwen3-MoE checkpoint, convert it and generate from it",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "dir", Usage: "working directory, kept afterwards", DefaultText: "a temporary one, removed afterwards"},
			&cli.StringFlag{Name: "type", Value: "q8_0", Usage: "weight type of the converted file"},
			maxTokensFlag(24),
			threadsFlag(),
			&cli.StringFlag{Name: "preset", Usage: "instead: write a random model of this geometry (qwen3-30b-a3b, qwen3-235b-a22b, tiny) straight to a GGUF file at -o, streaming"},
			&cli.UintFlag{Name: "layers", Usage: "with --preset: layers to write", DefaultText: "all of the preset's"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "with --preset: the GGUF file to write"},
		},
		Action: func(c *cli.Context) error {
			typ, err := parseWeightType(c.String("type"))
			if err != nil {
				return err
			}
			if c.IsSet("preset") || c.IsSet("output") || c.IsSet("layers") {
				return writePreset(c, typ)
			}
			dir := c.String("dir")
			if dir == "" {
				if dir, err = os.MkdirTemp("", "q3m-demo-"); err != nil {
					return err
				}
				defer os.RemoveAll(dir)
				defer atExit(c.Context, func() { os.RemoveAll(dir) })()
			}
			return runDemo(c, dir, typ)
		},
	}
}

// writePreset streams a random model of a real geometry to a GGUF file:
// no checkpoint is written, and memory stays far below the file's size.
func writePreset(c *cli.Context, typ quant.Type) error {
	name, out := c.String("preset"), c.String("output")
	if name == "" || out == "" {
		return fmt.Errorf("demo: --preset and -o go together (e.g. --preset qwen3-30b-a3b --layers 8 --type q4_0 -o model.gguf)")
	}
	full, err := synth.Preset(name, 0)
	if err != nil {
		return err
	}
	layers := int(min(c.Uint("layers"), 1<<12))
	if layers > full.Layers {
		return fmt.Errorf("demo: --layers %d: preset %s has %d layers", c.Uint("layers"), name, full.Layers)
	}
	spec, err := synth.Preset(name, layers)
	if err != nil {
		return err
	}
	gguf, err := createOutput(c.Context, "output", out)
	if err != nil {
		return err
	}
	defer gguf.discard()
	fmt.Printf("q3m demo: writing %s: RANDOM weights, %s geometry, %d layers, %s, %s of tensor data\n",
		out, name, spec.Layers, typ, humanBytes(spec.GGUFBytes(typ)))
	start := time.Now()
	bar := newProgressBar(os.Stderr, "synth")
	preset, err := convert.PresetOfType(typ)
	if err != nil {
		return err
	}
	opt := synth.GGUFOptions{Type: typ, Name: name + "-random", Preset: preset.Name, Progress: func(done, total int64) {
		bar.update(done, total, "")
	}}
	err = synth.WriteGGUF(gguf.temp, spec, opt)
	bar.finish()
	if err != nil {
		return err
	}
	if err := gguf.commit(); err != nil {
		return err
	}
	fmt.Printf("wrote %s in %s\n", out, time.Since(start).Round(time.Millisecond))
	return nil
}

func runDemo(c *cli.Context, dir string, typ quant.Type) error {
	fmt.Println("q3m demo: the weights below are RANDOM. This shows the pipeline (checkpoint → convert → generate),")
	fmt.Println("not a language model; point `q3m convert` at real Qwen3-MoE weights for that (see README).")
	spec, err := synth.Preset("demo", 0)
	if err != nil {
		return err
	}
	hf := filepath.Join(dir, "qwen3-moe-demo-random")
	start := time.Now()
	if err := synth.Write(hf, spec); err != nil {
		return err
	}
	fmt.Printf("1. synthesized a Hugging Face checkpoint in %s (%s)\n", hf, time.Since(start).Round(time.Millisecond))

	out := filepath.Join(dir, "qwen3-moe-demo-random-"+typ.String()+".gguf")
	start = time.Now()
	inputs, err := convert.InputFiles(hf)
	if err != nil {
		return err
	}
	gguf, err := createOutput(c.Context, "dir", out, inputs...)
	if err != nil {
		return err
	}
	defer gguf.discard()
	if err := convert.Convert(c.Context, hf, gguf.temp, convert.Options{Type: typ}); err != nil {
		return err
	}
	if err := gguf.commit(); err != nil {
		return err
	}
	fmt.Printf("2. converted it to %s (%s)\n", out, time.Since(start).Round(time.Millisecond))

	m, err := runtime.Load(out)
	if err != nil {
		return err
	}
	defer m.Close()
	s, err := m.NewSession(runtime.SessionOptions{Threads: c.Int("threads")})
	if err != nil {
		return err
	}
	cfg := m.Config()
	fmt.Printf("3. loaded: %d layers, hidden %d, %d experts (%d active), vocab %d\n",
		cfg.Layers, cfg.Hidden, cfg.Experts, cfg.ExpertsUsed, cfg.Vocab)
	prompt := []int32{1, 2, 3, 4, 5}
	start = time.Now()
	ids, err := generateIDs(c.Context, s, prompt, c.Int("max-tokens"), nil, runtime.SamplerOptions{Temperature: 0.7, TopK: 20, TopP: 0.8, Seed: 1})
	if err != nil {
		return err
	}
	el := time.Since(start)
	fmt.Printf("4. generated %d tokens from prompt ids %s in %s (%.1f tokens/s):\n   %s\n",
		len(ids), joinIDs(prompt), el.Round(time.Millisecond), float64(len(ids))/el.Seconds(), joinIDs(ids))

	const hello = "Hello! What can you do?"
	o := runtime.ChatOptions{Thinking: false, MaxTokens: c.Int("max-tokens"), Threads: c.Int("threads"), Seed: 1}
	chat, err := m.NewChat(o)
	if err != nil {
		return err
	}
	fmt.Printf("5. chat (random weights, so the answer is noise; each answer is capped at %d tokens):\n>>> %s\n", o.MaxTokens, hello)
	reply, err := chat.Send(c.Context, hello, func(ch runtime.Chunk) error {
		_, err := fmt.Print(ch.Text)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Printf("\n%s\n", statsLine(reply))
	if c.IsSet("dir") {
		fmt.Printf("The model stays in %s: `q3m run %s` chats with it.\n", dir, out)
	} else {
		fmt.Println("`q3m demo --dir DIR` keeps the model in DIR for `q3m run`, `bench`, `info`, ….")
	}
	if !isTerminal(os.Stdin) || !isTerminal(os.Stdout) {
		fmt.Println("Done. At a terminal the demo continues as an interactive chat; for real weights see README.")
		return nil
	}
	fmt.Println("Your turn: this is `q3m run` on the demo model.")
	if chat, err = m.NewChat(o); err != nil {
		return err
	}
	return chatWith(c, m, chat, "", false)
}
