package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/q3m/q3m/runtime"
)

// sessionFlags are the flags of the commands that evaluate token ids.
func sessionFlags() []cli.Flag {
	return append([]cli.Flag{
		modelFlag(),
		&cli.StringFlag{Name: "ids", Usage: "prompt token ids, comma-separated"},
		ctxFlag(),
		threadsFlag(),
	}, memFlags()...)
}

func logitsCommand() *cli.Command {
	return &cli.Command{
		Name:      "logits",
		Usage:     "run one prefill over token ids and print the top-5 logits per position (or write them all)",
		ArgsUsage: "MODEL",
		Flags: append(append(sessionFlags(),
			&cli.StringFlag{Name: "out", Usage: "write float32 little-endian logits, row-major [T × vocab_size], to this file (-: stdout); other classes write their head's output"},
		), headFlags()...),
		Action: func(c *cli.Context) error {
			model, args, err := modelArgs(c)
			if err != nil {
				return err
			}
			if len(args) > 0 {
				return fmt.Errorf("logits: unexpected argument %q (the ids go in --ids)", args[0])
			}
			if !c.IsSet("ids") {
				return cli.Exit("q3m logits: give the token ids with --ids", 2)
			}
			ids, err := parseIDs(c.String("ids"))
			if err != nil {
				return err
			}
			var o *output
			switch out := c.String("out"); {
			case out == "-" && isTerminal(os.Stdout):
				return errors.New("--out -: stdout is a terminal; redirect it to a file or a pipe")
			case out != "" && out != "-":
				if o, err = createOutput(c.Context, "out", out, model); err != nil {
					return err
				}
				defer o.discard()
			}
			m, s, err := openSession(c, model)
			if err != nil {
				return err
			}
			defer m.Close()
			logits, done, err := runHeads(c, m, s, ids, o) // other classes, --hidden-out, --router-out
			if done || err != nil {
				return err
			}
			// The rows come from runHeads's one Run when it computed them,
			// else from the session a batch at a time (logitRows): without
			// --hidden-out or --router-out, T × vocab logits are never held.
			vocab := m.Config().Vocab
			rows := func(row func(t int, logits []float32) error) error {
				if logits == nil {
					return logitRows(c.Context, s, vocab, ids, row)
				}
				for t := range ids {
					if err := row(t, logits[t*vocab:(t+1)*vocab]); err != nil {
						return err
					}
				}
				return nil
			}
			switch {
			case o != nil:
				err := writeFile(o.temp, func(w io.Writer) error {
					return rows(func(_ int, row []float32) error { return writeFloats(w, row) })
				})
				if err != nil {
					return fmt.Errorf("--out %s: %w", o.path, err)
				}
				if err := c.Context.Err(); err != nil {
					return err
				}
				return o.commit()
			case c.String("out") == "-":
				w := bufio.NewWriter(os.Stdout)
				if err := rows(func(_ int, row []float32) error { return writeFloats(w, row) }); err != nil {
					return fmt.Errorf("--out -: %w", err)
				}
				return w.Flush()
			}
			return printTopLogits(os.Stdout, ids, rows)
		},
	}
}

func generateCommand() *cli.Command {
	return &cli.Command{
		Name:      "generate",
		Usage:     "prefill token ids (or a chat prompt), then decode through the KV cache",
		ArgsUsage: "MODEL [PROMPT]",
		Description: "With --ids, prints the generated ids comma-separated. With a prompt (arguments, -p or -f),\n" +
			"renders the text as one user message with the model's chat template and prints the generated\n" +
			"text, stopping at the end-of-turn token. Sampling, seed and length defaults are those of run.",
		Flags: append(append(sessionFlags(),
			promptFlag("a user message, instead of --ids"),
			fileFlag(),
			chatTemplateFileFlag(),
			traceExpertsFlag(),
			&cli.BoolFlag{Name: "think", Value: true, Usage: "with a prompt: let the model think first (--think=false: answer directly)"},
			maxTokensFlag(0),
		), samplingFlags()...),
		Action: func(c *cli.Context) error {
			model, args, err := modelArgs(c)
			if err != nil {
				return err
			}
			prompt, hasPrompt, err := promptText(c, args)
			if err != nil {
				return fmt.Errorf("generate: %w", err)
			}
			if hasPrompt == c.IsSet("ids") {
				return cli.Exit("q3m generate: give either --ids or a prompt (arguments, -p or -f)", 2)
			}
			o, err := chatOptions(c)
			if err != nil {
				return err
			}
			sampling := runtime.DefaultSampling(o.Thinking)
			sampling.Seed = o.Seed
			if o.Sampling != nil {
				sampling = *o.Sampling
			}
			if !hasPrompt && c.IsSet("chat-template-file") {
				return cli.Exit("q3m generate: --chat-template-file renders a prompt; --ids are not rendered", 2)
			}
			tmpl, err := chatTemplateFile(c)
			if err != nil {
				return err
			}
			rec, err := startRouteTrace(c, model)
			if err != nil {
				return err
			}
			defer rec.discard()
			m, s, err := openSession(c, model)
			if err != nil {
				return err
			}
			defer m.Close()
			var ids, stops []int32
			if hasPrompt {
				if ids, err = promptIDs(m, tmpl, prompt, o.Thinking); err != nil {
					return err
				}
				if stops, err = endOfTurn(m); err != nil {
					return err
				}
			} else if ids, err = parseIDs(c.String("ids")); err != nil {
				return err
			}
			n := c.Int("max-tokens")
			if room := s.ContextLen() - len(ids); n == 0 || n > room {
				n = max(room, 0)
			}
			if rec != nil {
				s.RecordRouting(rec)
			}
			out, err := generateIDs(c.Context, s, ids, n, stops, sampling)
			if err != nil {
				return err
			}
			if err := rec.finish(s.RecordingError()); err != nil {
				return err
			}
			if !hasPrompt {
				fmt.Println(joinIDs(out))
				return nil
			}
			tok, err := m.Tokenizer()
			if err != nil {
				return err
			}
			fmt.Println(tok.Decode(out))
			return nil
		},
	}
}

// endOfTurn returns the tokens that end an answer: the file's EOS,
// <|im_end|> and <|endoftext|>.
func endOfTurn(m *runtime.Model) ([]int32, error) {
	tok, err := m.Tokenizer()
	if err != nil {
		return nil, err
	}
	stops := []int32{tok.EOS()}
	for _, s := range []string{"<|im_end|>", "<|endoftext|>"} {
		if id, ok := tok.Lookup(s); ok && !slices.Contains(stops, id) {
			stops = append(stops, id)
		}
	}
	return stops, nil
}

// generateIDs runs the library's token loop (Session.Generate): it
// evaluates prompt and samples up to n tokens (none when n is 0), ending
// early at a token of stops, which is not returned. The last token is
// sampled but not evaluated.
func generateIDs(ctx context.Context, s *runtime.Session, prompt []int32, n int, stops []int32, opt runtime.SamplerOptions) ([]int32, error) {
	if n == 0 { // Generate's MaxTokens 0 means "until the context is full"
		_, err := s.Eval(prompt, false)
		return nil, err
	}
	g, err := s.Generate(ctx, prompt, runtime.GenerateOptions{Sampling: opt, MaxTokens: n, StopIDs: stops})
	return g.IDs, err
}

func openSession(c *cli.Context, model string) (*runtime.Model, *runtime.Session, error) {
	m, err := loadModel(c, model)
	if err != nil {
		return nil, nil, err
	}
	if err := checkContextFlag(c, m); err != nil {
		m.Close()
		return nil, nil, err
	}
	kv, err := kvType(c)
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	s, err := m.NewSession(runtime.SessionOptions{ContextLen: c.Int("ctx"), Threads: c.Int("threads"), KVType: kv})
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	return m, s, nil
}

func parseIDs(s string) ([]int32, error) {
	var ids []int32
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, err := strconv.ParseInt(f, 10, 32)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("--ids: %q is not a token id", f)
		}
		ids = append(ids, int32(v))
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("--ids: no token ids given")
	}
	return ids, nil
}

func joinIDs(ids []int32) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(int(id))
	}
	return strings.Join(s, ",")
}

// writeFloats writes v as float32 little-endian.
func writeFloats(w io.Writer, v []float32) error {
	var b [4]byte
	for _, x := range v {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(x))
		if _, err := w.Write(b[:]); err != nil {
			return err
		}
	}
	return nil
}

// writeFloatsFile writes v as float32 little-endian to a new file at path.
func writeFloatsFile(path string, v []float32) error {
	return writeFile(path, func(w io.Writer) error { return writeFloats(w, v) })
}
