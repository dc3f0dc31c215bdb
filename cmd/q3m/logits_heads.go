package main

import (
	"bufio"
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

// headFlags are the logits command's flags for the outputs besides the
// head's: every hidden state and the router logits.
func headFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "hidden-out", Usage: "write every hidden state, float32 little-endian [layers+1 × T × hidden], as transformers' output_hidden_states (embeddings, layer outputs, the last one normed)"},
		&cli.StringFlag{Name: "router-out", Usage: "write the router logits, float32 little-endian [MoE layers × T × experts], and print aux_loss VALUE (load-balancing loss before router_aux_loss_coef)"},
	}
}

// runHeads serves the logits command for a model without an LM head, or
// when --hidden-out or --router-out is given: one Run computes all that is
// asked. out is --out's file (nil for none or "-"). For a causal LM it
// returns the logits for logitsCommand to write or print; otherwise done
// is true and the head's output has been written (or printed).
func runHeads(c *cli.Context, m *runtime.Model, s *runtime.Session, ids []int32, out *output) (logits []float32, done bool, err error) {
	cfg := m.Config()
	hidPath, routerPath := c.String("hidden-out"), c.String("router-out")
	if cfg.Head.Class == runtime.CausalLM && hidPath == "" && routerPath == "" {
		return nil, false, nil
	}
	if routerPath != "" && c.String("out") == "-" {
		return nil, false, errors.New("--router-out prints aux_loss on stdout, which --out - holds: write --out to a file")
	}
	files := map[string]*output{}
	for flag, path := range map[string]string{"hidden-out": hidPath, "router-out": routerPath} {
		if path == "" {
			continue
		}
		if path == "-" {
			return nil, false, fmt.Errorf("--%s: give a file (stdout is for --out)", flag)
		}
		o, err := createOutput(c.Context, flag, path, c.String("model"))
		if err != nil {
			return nil, false, err
		}
		defer o.discard()
		files[flag] = o
	}
	r, err := s.Run(ids, runtime.RunOptions{HiddenStates: hidPath != "", RouterLogits: routerPath != ""})
	if err != nil {
		return nil, false, err
	}
	if err := c.Context.Err(); err != nil {
		return nil, false, err
	}
	for flag, rows := range map[string][][]float32{"hidden-out": r.HiddenStates, "router-out": r.RouterLogits} {
		if o := files[flag]; o != nil {
			if err := writeFloatsFile(o.temp, slices.Concat(rows...)); err != nil {
				return nil, false, fmt.Errorf("--%s %s: %w", flag, o.path, err)
			}
			if err := o.commit(); err != nil {
				return nil, false, err
			}
		}
	}
	if routerPath != "" {
		fmt.Printf("aux_loss %s\n", strconv.FormatFloat(r.AuxLoss, 'g', -1, 64))
	}
	if r.Class == runtime.CausalLM {
		return r.Logits, false, nil
	}
	head := r.HeadOutput()
	switch {
	case out != nil:
		if err := writeFloatsFile(out.temp, head); err != nil {
			return nil, false, fmt.Errorf("--out %s: %w", out.path, err)
		}
		return nil, true, out.commit()
	case c.String("out") == "-":
		w := bufio.NewWriter(os.Stdout)
		if err := writeFloats(w, head); err != nil {
			return nil, false, fmt.Errorf("--out -: %w", err)
		}
		return nil, true, w.Flush()
	}
	w := bufio.NewWriter(os.Stdout)
	printResult(w, cfg, r, ids, nil)
	return nil, true, w.Flush()
}

// printResult prints a head's output for people: labels with their
// probabilities for classifiers, start and end logits for question
// answering, the norm of each last hidden state for a backbone. tokenText,
// when set, names each position's token.
func printResult(w io.Writer, cfg runtime.Config, r *runtime.Result, ids []int32, tokenText func(int32) string) {
	pos := func(t int) string {
		if tokenText != nil {
			return fmt.Sprintf("pos %d (id %d %q)", t, ids[t], tokenText(ids[t]))
		}
		return fmt.Sprintf("pos %d (id %d)", t, ids[t])
	}
	labels := cfg.Head.Labels
	switch r.Class {
	case runtime.SequenceClassification:
		fmt.Fprintf(w, "pooled %s\n", pos(r.Pooled))
		p := labelProbs(r.SequenceLogits)
		order := make([]int, len(p))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return -cmpFloat(p[a], p[b]) })
		for _, i := range order {
			fmt.Fprintf(w, "%s\t%.4f\t(logit %.4f)\n", labels[i], p[i], r.SequenceLogits[i])
		}
	case runtime.TokenClassification:
		n := len(labels)
		for t := range r.Tokens {
			row := r.TokenLogits[t*n : (t+1)*n]
			p := labelProbs(row)
			best := 0
			for i := range p {
				if p[i] > p[best] {
					best = i
				}
			}
			fmt.Fprintf(w, "%s: %s %.4f\n", pos(t), labels[best], p[best])
		}
	case runtime.QuestionAnswering:
		for t := range r.Tokens {
			fmt.Fprintf(w, "%s: start %.4f end %.4f\n", pos(t), r.StartLogits[t], r.EndLogits[t])
		}
	case runtime.Backbone:
		H := cfg.Hidden
		for t := range r.Tokens {
			sum := 0.0
			for _, v := range r.LastHidden[t*H : (t+1)*H] {
				sum += float64(v) * float64(v)
			}
			fmt.Fprintf(w, "%s: |h| %.4f\n", pos(t), math.Sqrt(sum))
		}
	}
}

// labelProbs turns a classifier's logits into probabilities as
// transformers' text-classification pipeline does by default: softmax over
// the labels, or the sigmoid of the single score of a one-label model.
func labelProbs(logits []float32) []float64 {
	p := make([]float64, len(logits))
	if len(logits) == 1 {
		p[0] = 1 / (1 + math.Exp(-float64(logits[0])))
		return p
	}
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = math.Max(mx, float64(v))
	}
	sum := 0.0
	for i, v := range logits {
		p[i] = math.Exp(float64(v) - mx)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	return p
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// printHead prints the info line of a model's head.
func printHead(w io.Writer, c runtime.Config) {
	h := c.Head
	switch h.Class {
	case runtime.CausalLM:
		return
	case runtime.SequenceClassification, runtime.TokenClassification:
		fmt.Fprintf(w, "head:          %s, %d labels: %s", h.Class, len(h.Labels), strings.Join(h.Labels, ", "))
		if h.Class == runtime.SequenceClassification {
			if h.PadTokenID >= 0 {
				fmt.Fprintf(w, "; pools the last token that is not %d", h.PadTokenID)
			} else {
				fmt.Fprint(w, "; pools the last token")
			}
		}
		fmt.Fprintln(w)
	case runtime.QuestionAnswering:
		fmt.Fprintf(w, "head:          %s, start and end logits per token\n", h.Class)
	default:
		fmt.Fprintf(w, "head:          %s, no head: the last hidden state\n", h.Class)
	}
}
