package main

import (
	"bytes"
	"context"
	"encoding/json"
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

// `q3m run MODEL [PROMPT]` chats with a model. Where the output goes:
//   - at a terminal (the REPL): answers stream to stdout, thinking dimmed
//     before them, and a dim statistics line goes to stderr after each one;
//   - with a prompt (arguments, -p or -f), or with a message piped to stdin
//     (all of it one message, as `ollama run` reads it; --lines: one per
//     line): stdout carries only the answer, ending in a newline, thinking
//     goes to stderr (dim when it is a terminal) unless --hide-thinking,
//     and statistics too with --verbose. Thinking stays on by default, as
//     in the REPL: it is the model's recommended mode. --json prints each
//     answer as one JSON object instead.

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "chat with a model (interactive at a terminal; a prompt or piped stdin otherwise)",
		ArgsUsage: "MODEL [PROMPT]",
		Flags: append(append([]cli.Flag{
			modelFlag(),
			promptFlag("answer this one message and exit; stdout carries only the answer"),
			fileFlag(),
			&cli.StringFlag{Name: "system", Usage: "system prompt"},
			&cli.BoolFlag{Name: "think", Value: true, Usage: "let the model think before answering; --think=false: answer directly"},
			boolFlag("no-think", "same as --think=false"),
			boolFlag("hide-thinking", "do not show the model's thinking"),
			ctxFlag(),
			threadsFlag(),
			maxTokensFlag(0),
			boolFlag("lines", "piped stdin: one message per line (\\ at the end of a line or \"\"\" lines join lines; /commands work)"),
			boolFlag("json", "print each answer as one JSON object: content, reasoning, stop and usage"),
			boolFlag("verbose", "print statistics after each answer also with a prompt or piped input"),
			&cli.StringFlag{Name: "history", Usage: "file of the REPL's line history (\"\": none)", DefaultText: "~/.q3m_history"},
			chatTemplateFileFlag(),
			traceExpertsFlag(),
			noContextShiftFlag(),
		}, append(samplingFlags(), jsonFlags()...)...), memFlags()...),
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
		&cli.Float64Flag{Name: "min-p", Usage: "drop tokens less likely than this times the likeliest"},
		&cli.Float64Flag{Name: "presence-penalty", Usage: "subtract from the logits of tokens already present, up to 1.5 helps against repetition"},
		&cli.Float64Flag{Name: "repeat-penalty", Value: 1, Usage: "divide the logits of repeated tokens (1: off)"},
		seedFlag(),
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
		Thinking:   c.Bool("think") && !c.Bool("no-think") && c.String("json-schema") == "" && !c.Bool("json-object"),
		ContextLen: c.Int("ctx"),
		Threads:    c.Int("threads"),
		MaxTokens:  c.Int("max-tokens"),
		Seed:       uint64(time.Now().UnixNano()),
		// Only run has the flag; the others read false.
		NoContextShift: c.Bool("no-context-shift"),
	}
	kv, err := kvType(c)
	if err != nil {
		return o, err
	}
	o.KVType = kv
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
	model, args, err := modelArgs(c)
	if err != nil {
		return err
	}
	prompt, hasPrompt, err := promptText(c, args)
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	if hasPrompt && c.Bool("lines") {
		return errors.New("run: --lines reads the messages from stdin; give no prompt with it")
	}
	o, err := chatOptions(c)
	if err != nil {
		return err
	}
	tmpl, err := chatTemplateFile(c)
	if err != nil {
		return err
	}
	g, err := jsonGrammar(c)
	if err != nil {
		return err
	}
	rec, err := startRouteTrace(c, model)
	if err != nil {
		return err
	}
	defer rec.discard()
	m, err := loadModel(c, model)
	if err != nil {
		return err
	}
	defer m.Close()
	if err := checkContextFlag(c, m); err != nil {
		return err
	}
	printMemoryPlan(m)
	if g != nil {
		o.Constrain = constrainWith(m, g)
	}
	chat, err := newChat(m, tmpl, o)
	if err != nil {
		return err
	}
	if rec != nil {
		chat.RecordRouting(rec)
	}
	if err := chatWith(c, m, chat, prompt, hasPrompt); err != nil {
		return err
	}
	return rec.finish(chat.RecordingError())
}

// chatTemplateFile reads the template of --chat-template-file, or returns
// nil when the flag is not given.
func chatTemplateFile(c *cli.Context) (*tokenizer.Template, error) {
	path := c.String("chat-template-file")
	if path == "" {
		return nil, nil
	}
	t, err := runtime.ReadChatTemplate(path)
	if err != nil {
		return nil, fmt.Errorf("--chat-template-file: %w", err)
	}
	return t, nil
}

// newChat starts a chat with m whose prompts tmpl renders, or the model's
// own template when tmpl is nil (with a warning when q3m cannot use it).
func newChat(m *runtime.Model, tmpl *tokenizer.Template, o runtime.ChatOptions) (*runtime.Chat, error) {
	if tmpl != nil {
		return m.NewChatWithTemplate(tmpl, o)
	}
	if _, err := m.ChatTemplate(); errors.Is(err, tokenizer.ErrUnsupportedTemplate) {
		fmt.Fprintf(os.Stderr, "q3m: warning: %v\n", err)
	}
	return m.NewChat(o)
}

// chatWith runs chat, a chat with m: one answer for a prompt, the REPL at a
// terminal, the piped message (or messages, with --lines) otherwise.
func chatWith(c *cli.Context, m *runtime.Model, chat *runtime.Chat, prompt string, hasPrompt bool) error {
	color := os.Getenv("NO_COLOR") == "" // https://no-color.org
	errDim := color && isTerminal(os.Stderr)
	p := &printer{out: os.Stdout, thinkOut: os.Stderr, dim: errDim, hide: c.Bool("hide-thinking")}
	if isTerminal(os.Stdout) {
		w := newWrapWriter(os.Stdout, terminalWidth(os.Stdout))
		defer watchResize(func() int { return terminalWidth(os.Stdout) }, w.Resize)()
		p.out = w
	}
	a := &answerer{chat: chat, p: p, verbose: c.Bool("verbose"), json: c.Bool("json"), noShift: c.Bool("no-context-shift")}
	stdinPiped := !isTerminal(os.Stdin) && c.String("file") != "-" && isPipeOrFile(os.Stdin)
	switch {
	case hasPrompt:
		if stdinPiped && !c.Bool("lines") {
			// As `ollama run`: a document on stdin, then the prompt.
			doc, err := readMessage(os.Stdin, "stdin")
			if err != nil {
				return fmt.Errorf("run: %w", err)
			}
			if strings.TrimSpace(doc) != "" {
				prompt = strings.TrimRight(doc, "\n") + "\n\n" + prompt
			}
		}
		return a.answer(c.Context, prompt)
	case isTerminal(os.Stdin) && isTerminal(os.Stdout) && !c.Bool("json"):
		r := newREPL(chat, color, errDim, c.Bool("hide-thinking"))
		hist := c.String("history")
		if !c.IsSet("history") {
			hist = defaultHistoryFile()
		}
		if err := checkHistoryFile(hist, m.File().Path); err != nil {
			return err
		}
		return r.loop(c.Context, hist)
	case c.Bool("lines"):
		return runPiped(c.Context, a, os.Stdin)
	}
	msg, err := readMessage(os.Stdin, "stdin")
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	if strings.TrimSpace(msg) == "" {
		return errors.New("run: stdin is empty; give a prompt, pipe a message or run at a terminal")
	}
	return a.answer(c.Context, msg)
}

// isPipeOrFile reports whether f is a pipe or a regular file: input that
// was meant for q3m, unlike /dev/null or a terminal.
func isPipeOrFile(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && (st.Mode()&os.ModeNamedPipe != 0 || st.Mode().IsRegular())
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

// runPiped answers each message read from in (--lines): one per line, or
// several lines joined with a trailing backslash or between """ lines.
// Lines starting with / are REPL commands.
func runPiped(ctx context.Context, a *answerer, in io.Reader) error {
	lines := newLineReader(ctx, in, maxLineBytes)
	var j lineJoiner
	p := a.p
	r := &repl{chat: a.chat, out: p.thinkOut, errw: p.thinkOut, dim: p.dim, p: p}
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
		if err := a.answer(ctx, msg); err != nil {
			return err
		}
	}
	if msg := j.flush(); strings.TrimSpace(msg) != "" {
		return a.answer(ctx, msg)
	}
	return nil
}

// answerer answers messages outside the REPL: the answer alone on stdout,
// or one JSON object per answer.
type answerer struct {
	chat    *runtime.Chat
	p       *printer
	verbose bool
	json    bool
	noShift bool // --no-context-shift: an answer that fills the context ends there
}

// jsonAnswer is what --json prints for one answer.
type jsonAnswer struct {
	Content   string     `json:"content"`
	Reasoning string     `json:"reasoning"`
	Stop      string     `json:"stop"`
	Usage     jsonUsage  `json:"usage"`
	Timings   jsonTiming `json:"timings"`
}

// jsonUsage counts tokens with OpenAI's names.
type jsonUsage struct {
	PromptTokens     int `json:"prompt_tokens"`     // evaluated for this answer
	CachedTokens     int `json:"cached_tokens"`     // reused from the KV cache
	CompletionTokens int `json:"completion_tokens"` // generated, thinking included
	TotalTokens      int `json:"total_tokens"`      // all three
}

type jsonTiming struct {
	PromptMS        float64 `json:"prompt_ms"`
	PromptPerSecond float64 `json:"prompt_per_second"`
	PredictedMS     float64 `json:"predicted_ms"`
	PredictedPerSec float64 `json:"predicted_per_second"`
}

// answer answers msg.
func (a *answerer) answer(ctx context.Context, msg string) error {
	if a.json {
		reply, err := a.chat.Send(ctx, msg, nil)
		if err = a.contextFull(reply, err); err != nil {
			return err
		}
		st := reply.Stats
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false) // the answer as written: <, > and & unescaped
		err = enc.Encode(jsonAnswer{
			Content: reply.Content, Reasoning: reply.Thinking, Stop: string(reply.Stop),
			Usage: jsonUsage{PromptTokens: st.PromptTokens, CachedTokens: st.CachedTokens, CompletionTokens: st.GenTokens,
				TotalTokens: st.PromptTokens + st.CachedTokens + st.GenTokens},
			Timings: jsonTiming{PromptMS: ms(st.Prefill), PromptPerSecond: st.PrefillRate(), PredictedMS: ms(st.Decode), PredictedPerSec: st.DecodeRate()},
		})
		if err != nil {
			return err
		}
		if _, err := os.Stdout.Write(b.Bytes()); err != nil {
			return err
		}
		if a.verbose {
			fmt.Fprintln(a.p.thinkOut, faint(a.p.dim, statsLine(reply)))
		}
		return nil
	}
	p := a.p
	p.start()
	reply, err := a.chat.Send(ctx, msg, p.chunk)
	p.end()
	fmt.Fprintln(p.out) // even for an empty answer: one line per answer
	flush(p.out)
	err = a.contextFull(reply, err)
	if a.verbose {
		fmt.Fprintln(p.thinkOut, faint(p.dim, statsLine(reply)))
	}
	return err
}

// contextFull handles Send's err for --no-context-shift: an answer that
// filled the context has ended as asked, as llama.cpp's CLI stops: it is
// kept and printed, with a message on stderr, and err becomes nil. A
// prompt that does not fit is still an error, which then names the flag.
func (a *answerer) contextFull(reply runtime.Reply, err error) error {
	if !a.noShift || !errors.Is(err, runtime.ErrContextFull) {
		return err
	}
	if reply.Stop != runtime.StopContextFull { // the prompt itself does not fit
		return fmt.Errorf("%w (--no-context-shift is set: a /reset line starts over, a larger --ctx gives more room)", err)
	}
	used, size := a.chat.ContextUsed()
	fmt.Fprintf(a.p.thinkOut, "q3m: the context is full (%d of %d tokens) and --no-context-shift is set: the answer stops here after %d tokens (a larger --ctx gives it more room)\n",
		used, size, reply.Stats.GenTokens)
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

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

// end closes an answer cut short while thinking and flushes what the
// writers hold; it reports whether anything is on the last line.
func (p *printer) end() bool {
	defer flush(p.thinkOut)
	defer flush(p.out)
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
// A non-nil tmpl replaces the model's template.
func promptIDs(m *runtime.Model, tmpl *tokenizer.Template, text string, thinking bool) ([]int32, error) {
	enc, err := m.PromptEncoder()
	if tmpl != nil {
		enc, err = m.PromptEncoderWith(tmpl)
	}
	if err != nil {
		return nil, err
	}
	ids, _, err := enc.Encode(
		[]tokenizer.Message{{Role: "user", Content: text}},
		tokenizer.ChatOptions{AddGenerationPrompt: true, EnableThinking: &thinking})
	return ids, err
}
