package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/q3m/q3m/convert"
	"github.com/q3m/q3m/runtime"
	"github.com/q3m/q3m/tokenizer"
)

// `q3m run` chats with a model. Where the output goes:
//   - at a terminal (the REPL): answers stream to stdout, thinking dimmed
//     before them, and a dim statistics line goes to stderr after each one;
//   - with --prompt, or with messages piped to stdin one per line: stdout
//     carries only the answers (one per message, each ending in a newline),
//     thinking goes to stderr (dim when it is a terminal) unless
//     --hide-thinking, and statistics too with --verbose. Thinking stays on
//     by default, as in the REPL: it is the model's recommended mode.

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "chat with a model (interactive at a terminal; --prompt or piped lines otherwise)",
		ArgsUsage: " ",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "model", Aliases: []string{"m"}, Required: true, Usage: "GGUF model file"},
			&cli.StringFlag{Name: "prompt", Aliases: []string{"p"}, Usage: "answer this one message and exit; stdout carries only the answer"},
			&cli.StringFlag{Name: "system", Usage: "system prompt"},
			&cli.BoolFlag{Name: "think", Value: true, Usage: "let the model think before answering; --think=false: answer directly"},
			&cli.BoolFlag{Name: "no-think", Usage: "same as --think=false"},
			&cli.BoolFlag{Name: "hide-thinking", Usage: "do not show the model's thinking"},
			&cli.IntFlag{Name: "ctx", Usage: "context length in tokens", DefaultText: "the model's, at most 4096"},
			&cli.IntFlag{Name: "threads", Usage: "worker threads", DefaultText: "all cores"},
			&cli.IntFlag{Name: "max-tokens", Usage: "cap on the tokens of one answer, thinking included", DefaultText: "until the context is full"},
			&cli.BoolFlag{Name: "verbose", Usage: "print statistics after each answer also with --prompt or piped input"},
			&cli.StringFlag{Name: "history", Usage: "file of the REPL's line history (\"\": none)", DefaultText: "~/.q3m_history"},
		}, append(samplingFlags(), memFlags()...)...),
		Action: runAction,
	}
}

// samplingFlags are the sampler settings; unset ones keep Qwen3's
// recommended values for the thinking mode.
func samplingFlags() []cli.Flag {
	return []cli.Flag{
		&cli.Float64Flag{Name: "temp", Usage: "temperature, 0 for greedy", DefaultText: "0.6 thinking, 0.7 not"},
		&cli.IntFlag{Name: "top-k", Usage: "keep the K likeliest tokens, 0 for all", DefaultText: "20"},
		&cli.Float64Flag{Name: "top-p", Usage: "nucleus sampling threshold, 1 for off", DefaultText: "0.95 thinking, 0.8 not"},
		&cli.Float64Flag{Name: "min-p", Usage: "drop tokens less likely than this times the likeliest", DefaultText: "0"},
		&cli.Float64Flag{Name: "presence-penalty", Usage: "subtract from the logits of tokens already present, up to 1.5 helps against repetition", DefaultText: "0"},
		&cli.Float64Flag{Name: "repeat-penalty", Value: 1, Usage: "divide the logits of repeated tokens", DefaultText: "1, off"},
		&cli.Uint64Flag{Name: "seed", Usage: "sampling seed", DefaultText: "random"},
	}
}

func defaultHistoryFile() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".q3m_history")
}

// chatOptions builds the chat's options from the flags.
func chatOptions(c *cli.Context) (runtime.ChatOptions, error) {
	o := runtime.ChatOptions{
		System:     c.String("system"),
		Thinking:   c.Bool("think") && !c.Bool("no-think"),
		ContextLen: c.Int("ctx"),
		Threads:    c.Int("threads"),
		MaxTokens:  c.Int("max-tokens"),
		Seed:       uint64(time.Now().UnixNano()),
	}
	if c.IsSet("seed") {
		o.Seed = c.Uint64("seed")
	}
	custom := false
	for _, f := range []string{"temp", "top-k", "top-p", "min-p", "presence-penalty", "repeat-penalty"} {
		custom = custom || c.IsSet(f)
	}
	if !custom {
		return o, nil // recommended settings, which follow /think and /no_think
	}
	s := runtime.DefaultSampling(o.Thinking)
	s.Seed = o.Seed
	if c.IsSet("temp") {
		s.Temperature = float32(c.Float64("temp"))
	}
	if c.IsSet("top-k") {
		s.TopK = c.Int("top-k")
	}
	if c.IsSet("top-p") {
		s.TopP = float32(c.Float64("top-p"))
	}
	if c.IsSet("min-p") {
		s.MinP = float32(c.Float64("min-p"))
	}
	if c.IsSet("presence-penalty") {
		s.PresencePenalty = float32(c.Float64("presence-penalty"))
	}
	if c.IsSet("repeat-penalty") {
		s.RepetitionPenalty = float32(c.Float64("repeat-penalty"))
	}
	o.Sampling = &s
	return o, nil
}

func runAction(c *cli.Context) error {
	if c.Args().Present() {
		return fmt.Errorf("run: unexpected argument %q (the message goes in --prompt)", c.Args().First())
	}
	o, err := chatOptions(c)
	if err != nil {
		return err
	}
	m, err := loadModel(c)
	if err != nil {
		return err
	}
	defer m.Close()
	if err := checkContextFlag(c, m); err != nil {
		return err
	}
	return chatWith(c, m, o)
}

// chatWith runs the chat with m: one answer for --prompt, the REPL at a
// terminal, piped messages otherwise.
func chatWith(c *cli.Context, m *runtime.Model, o runtime.ChatOptions) error {
	if _, err := m.ChatTemplate(); errors.Is(err, tokenizer.ErrUnsupportedTemplate) {
		fmt.Fprintf(os.Stderr, "q3m: warning: %v\n", err)
	}
	chat, err := m.NewChat(o)
	if err != nil {
		return err
	}
	color := os.Getenv("NO_COLOR") == "" // https://no-color.org
	errDim := color && isTerminal(os.Stderr)
	p := &printer{out: os.Stdout, thinkOut: os.Stderr, dim: errDim, hide: c.Bool("hide-thinking")}
	if c.IsSet("prompt") {
		return answerPlain(c.Context, chat, p, c.String("prompt"), c.Bool("verbose"))
	}
	if isTerminal(os.Stdin) && isTerminal(os.Stdout) {
		r := &repl{chat: chat, out: os.Stdout, errw: os.Stderr, dim: errDim,
			p: &printer{out: os.Stdout, thinkOut: os.Stdout, dim: color, hide: c.Bool("hide-thinking")}}
		hist := c.String("history")
		if !c.IsSet("history") {
			hist = defaultHistoryFile()
		}
		if err := checkHistoryFile(hist, m.File().Path); err != nil {
			return err
		}
		return r.loop(c.Context, hist)
	}
	return runPiped(c.Context, chat, p, os.Stdin, c.Bool("verbose"))
}

// checkHistoryFile refuses a REPL history file that appending lines would
// damage: the model, or anything but a regular file. Links are followed
// (lines are appended to the file they lead to).
func checkHistoryFile(path string, model string) error {
	if path == "" {
		return nil
	}
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		path = resolved
	}
	if err := convert.CheckOutput(path, model); err != nil {
		return fmt.Errorf("--history: %w", err)
	}
	return nil
}

// runPiped answers each message read from in: one per line, or several
// lines joined with a trailing backslash or between """ lines. Lines
// starting with / are REPL commands.
func runPiped(ctx context.Context, chat *runtime.Chat, p *printer, in io.Reader, verbose bool) error {
	lines := newLineReader(ctx, in, maxLineBytes)
	var j lineJoiner
	r := &repl{chat: chat, out: p.thinkOut, errw: p.thinkOut, dim: p.dim, p: p}
	for {
		line, err := lines.next(ctx)
		var tooLong *lineTooLongError
		if errors.As(err, &tooLong) {
			fmt.Fprintf(p.thinkOut, "q3m: stdin %v\n", err)
			j = lineJoiner{}
			continue
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("run: reading stdin: %w", err)
		}
		msg, ok := j.add(string(line))
		if !ok || strings.TrimSpace(msg) == "" {
			continue
		}
		if strings.HasPrefix(msg, "/") {
			if quit := r.command(msg); quit {
				return nil
			}
			continue
		}
		if err := answerPlain(ctx, chat, p, msg, verbose); err != nil {
			return err
		}
	}
	if msg := j.flush(); strings.TrimSpace(msg) != "" {
		return answerPlain(ctx, chat, p, msg, verbose)
	}
	return nil
}

// answerPlain answers one message with the answer alone on p.out.
func answerPlain(ctx context.Context, chat *runtime.Chat, p *printer, msg string, verbose bool) error {
	p.start()
	reply, err := chat.Send(ctx, msg, p.chunk)
	p.end()
	fmt.Fprintln(p.out) // even for an empty answer: one line per answer
	if verbose {
		fmt.Fprintln(p.thinkOut, faint(p.dim, statsLine(reply)))
	}
	return err
}

// printer writes an answer as it streams: thinking (dimmed, or hidden) to
// thinkOut, then the answer to out. At a terminal, hidden thinking shows as
// a dim "Thinking…" that the answer replaces.
type printer struct {
	out, thinkOut io.Writer
	dim, hide     bool
	state         printState
}

type printState int

const (
	printNothing printState = iota
	printThinking
	printHiddenThinking // "Thinking…" on screen
	printAnswer
)

func (p *printer) start() { p.state = printNothing }

func (p *printer) chunk(ch runtime.Chunk) error {
	if ch.Thinking {
		if p.hide {
			if p.state == printNothing && p.dim && p.thinkOut == p.out {
				io.WriteString(p.out, faint(true, "Thinking…"))
				p.state = printHiddenThinking
			}
			return nil
		}
		if p.state != printThinking && p.dim {
			io.WriteString(p.thinkOut, "\x1b[2m")
		}
		p.state = printThinking
		_, err := io.WriteString(p.thinkOut, ch.Text)
		return err
	}
	switch p.state {
	case printThinking:
		if p.dim {
			io.WriteString(p.thinkOut, "\x1b[0m")
		}
		if p.thinkOut == p.out {
			io.WriteString(p.thinkOut, "\n\n")
		} else {
			io.WriteString(p.thinkOut, "\n")
		}
	case printHiddenThinking:
		io.WriteString(p.out, "\r\x1b[K")
	}
	p.state = printAnswer
	_, err := io.WriteString(p.out, ch.Text)
	return err
}

// end closes an answer cut short while thinking; it reports whether
// anything is on the last line.
func (p *printer) end() bool {
	switch p.state {
	case printThinking:
		if p.dim {
			io.WriteString(p.thinkOut, "\x1b[0m")
		}
		if p.thinkOut != p.out {
			fmt.Fprintln(p.thinkOut)
			return false
		}
	case printHiddenThinking:
		io.WriteString(p.out, "\r\x1b[K")
		return false
	case printNothing:
		return false
	}
	return true
}

// faint wraps s in ANSI faint when on.
func faint(on bool, s string) string {
	if !on {
		return s
	}
	return "\x1b[2m" + s + "\x1b[0m"
}

// statsLine reports an answer's speed and how it ended.
func statsLine(r runtime.Reply) string {
	st := r.Stats
	s := fmt.Sprintf("prompt %d tokens (%d cached), %.1f tokens/s · answer %d tokens, %.1f tokens/s",
		st.PromptTokens, st.CachedTokens, st.PrefillRate(), st.GenTokens, st.DecodeRate())
	switch r.Stop {
	case runtime.StopCancelled:
		s += " · interrupted"
	case runtime.StopLength:
		s += " · stopped at --max-tokens"
	case runtime.StopContextFull:
		s += " · context full"
	}
	return s
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// promptIDs returns the prompt ids of a conversation of one user message,
// rendered with the model's chat template (plain ChatML when the file has
// none it knows) with the text encoded as plain text, ready for generation.
func promptIDs(m *runtime.Model, text string, thinking bool) ([]int32, error) {
	enc, err := m.PromptEncoder()
	if err != nil {
		return nil, err
	}
	ids, _, err := enc.Encode(
		[]tokenizer.Message{{Role: "user", Content: text}},
		tokenizer.ChatOptions{AddGenerationPrompt: true, EnableThinking: &thinking})
	return ids, err
}
