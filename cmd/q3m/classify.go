package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/q3m/q3m/runtime"
)

func classifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "classify",
		Usage:     "run a sequence or token classifier on a text and print its labels with probabilities",
		ArgsUsage: "MODEL TEXT",
		Description: "Encodes TEXT as transformers' tokenizer(text) does (no chat template; the text of added\n" +
			"tokens becomes those tokens), or takes --ids, and runs the model's classifier head.\n" +
			"Probabilities are the softmax over the labels (the sigmoid of a one-label model's score),\n" +
			"as transformers' text-classification pipeline computes them.",
		Flags: sessionFlags(),
		Action: func(c *cli.Context) error {
			model, args, err := modelArgs(c)
			if err != nil {
				return err
			}
			if (len(args) == 1) == c.IsSet("ids") || len(args) > 1 {
				return cli.Exit("q3m classify: give one TEXT argument or --ids", 2)
			}
			m, s, err := openSession(c, model)
			if err != nil {
				return err
			}
			defer m.Close()
			cfg := m.Config()
			if k := cfg.Head.Class; k != runtime.SequenceClassification && k != runtime.TokenClassification {
				return fmt.Errorf("classify: %s is a %s, not a classifier; use q3m logits", model, k)
			}
			tok, err := m.Tokenizer()
			if err != nil {
				return err
			}
			var ids []int32
			if c.IsSet("ids") {
				if ids, err = parseIDs(c.String("ids")); err != nil {
					return err
				}
			} else if ids = tok.EncodeSpecial(args[0]); len(ids) == 0 {
				return errors.New("classify: the text encodes to no tokens")
			}
			r, err := s.Run(ids, runtime.RunOptions{})
			if err != nil {
				return err
			}
			w := bufio.NewWriter(os.Stdout)
			printResult(w, cfg, r, ids, tok.Token)
			return w.Flush()
		},
	}
}
