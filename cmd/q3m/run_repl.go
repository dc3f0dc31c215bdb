package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/q3m/q3m/runtime"
)

const (
	promptMain = ">>> "
	promptMore = "... "
)

const replHelp = `Commands:
  /think          let the model think before answering
  /no_think       answer directly
  /system TEXT    set the system prompt (/system alone shows it)
  /reset          forget the conversation (also /clear)
  /stats          show the conversation's token counts and speed
  /help           show this help (also /?)
  /exit           leave (also /bye, Ctrl-D)

Write a message over several lines between """ and """, or end lines with \; a pasted
text is one message, whatever its lines.
Ctrl-C stops an answer and keeps the conversation; at an empty prompt, press it twice to leave.
`

// newREPL returns the interactive chat on the terminal of stdin and
// stdout, answers wrapped at its width.
func newREPL(chat *runtime.Chat, color, errDim, hide bool) *repl {
	out := crlfWriter{os.Stdout}
	var errw io.Writer = os.Stderr
	if isTerminal(os.Stderr) {
		errw = crlfWriter{os.Stderr}
	}
	w := newWrapWriter(out, terminalWidth(os.Stdout))
	return &repl{chat: chat, out: out, errw: errw, dim: errDim, wrap: w,
		p: &printer{out: w, thinkOut: w, dim: color, hide: hide}}
}

// repl is the interactive chat.
type repl struct {
	chat *runtime.Chat
	out  io.Writer // answers and command output
	errw io.Writer // statistics and errors
	dim  bool      // errw takes ANSI faint
	p    *printer
	keys *lineEditor // at a terminal: watches for Ctrl-C during answers
	wrap *wrapWriter // p's writer, resized with the terminal
}

// loop reads messages with line editing until /exit, Ctrl-D or a second
// Ctrl-C at an empty prompt. The terminal is in raw mode meanwhile: what
// r writes to it must end lines with "\r\n" (newREPL's crlfWriters).
func (r *repl) loop(ctx context.Context, historyFile string) error {
	ed := newLineEditor(os.Stdin, os.Stdout, historyFile)
	restore, err := ed.start()
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	defer restore()
	defer atExit(ctx, restore)()
	r.keys = ed
	if r.wrap != nil { // answers follow the terminal's width (the editor reads it per line)
		defer watchResize(func() int { return terminalWidth(os.Stdout) }, r.wrap.Resize)()
	}
	// Ctrl-C is a key in raw mode; a SIGINT sent by another process
	// between answers must not end the REPL (r.answer replaces this).
	defer onInterrupt(ctx, func() {})()
	fmt.Fprintln(r.errw, faint(r.dim, "Send a message (/? for help, Ctrl-D to leave)"))
	var j lineJoiner
	interrupts := 0
	prompt := promptMain
	for {
		line, err := ed.readLine(ctx, prompt)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		switch {
		case errors.Is(err, errInterrupt):
			if j.pending() || line != "" {
				j = lineJoiner{}
				prompt = promptMain
				interrupts = 0
				continue
			}
			if interrupts++; interrupts >= 2 {
				return nil
			}
			fmt.Fprintln(r.errw, faint(r.dim, "(Ctrl-C again or Ctrl-D to leave)"))
			continue
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return fmt.Errorf("run: %w", err)
		}
		interrupts = 0
		msg, ok := j.add(line)
		if !ok {
			prompt = promptMore
			continue
		}
		prompt = promptMain
		if strings.TrimSpace(msg) == "" {
			continue
		}
		if strings.HasPrefix(msg, "/") && !strings.Contains(msg, "\n") {
			if r.command(msg) {
				return nil
			}
			continue
		}
		r.answer(ctx, msg)
	}
}

// answer streams the answer to msg; Ctrl-C (SIGINT) stops it and keeps
// the REPL, SIGTERM and SIGHUP (parent's cancellation) stop it too.
func (r *repl) answer(parent context.Context, msg string) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	defer onInterrupt(parent, cancel)()
	if r.keys != nil {
		defer r.keys.watchInterrupt(ctx, cancel)()
	}

	r.p.start()
	reply, err := r.chat.Send(ctx, msg, r.p.chunk)
	if r.p.end() {
		fmt.Fprintln(r.out)
	}
	switch {
	case errors.Is(err, runtime.ErrContextFull):
		used, size := r.chat.ContextUsed()
		fmt.Fprintf(r.errw, "The context is full (%d of %d tokens): /reset starts over (or run with a larger --ctx).\n", used, size)
	case err != nil && !errors.Is(err, context.Canceled):
		fmt.Fprintf(r.errw, "error: %v\n", err)
	}
	if reply.Stats.PromptTokens+reply.Stats.CachedTokens > 0 {
		fmt.Fprintln(r.errw, faint(r.dim, statsLine(reply)))
	}
}

// command runs a /command and reports whether to leave.
func (r *repl) command(line string) (quit bool) {
	name, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
	arg = strings.TrimSpace(arg)
	switch name {
	case "/exit", "/bye", "/quit":
		return true
	case "/help", "/?":
		fmt.Fprint(r.out, replHelp)
	case "/think":
		r.chat.SetThinking(true)
		fmt.Fprintln(r.out, "Thinking on.")
	case "/no_think", "/nothink":
		r.chat.SetThinking(false)
		fmt.Fprintln(r.out, "Thinking off.")
	case "/system":
		if arg == "" {
			if s := r.chat.System(); s != "" {
				fmt.Fprintf(r.out, "System prompt: %s\n", s)
			} else {
				fmt.Fprintln(r.out, "No system prompt.")
			}
			return false
		}
		r.chat.SetSystem(arg)
		fmt.Fprintln(r.out, "System prompt set.")
	case "/reset", "/clear":
		r.chat.Reset()
		fmt.Fprintln(r.out, "Conversation cleared.")
	case "/stats":
		st := r.chat.Stats()
		used, size := r.chat.ContextUsed()
		turns := 0
		for _, m := range r.chat.History() {
			if m.Role == "user" {
				turns++
			}
		}
		fmt.Fprintf(r.out, "messages: %d · context: %d of %d tokens · thinking: %v\n", turns, used, size, r.chat.Thinking())
		fmt.Fprintf(r.out, "prompt: %d tokens evaluated (%d reused from cache), %.1f tokens/s\n",
			st.PromptTokens, st.CachedTokens, st.PrefillRate())
		fmt.Fprintf(r.out, "answers: %d tokens, %.1f tokens/s\n", st.GenTokens, st.DecodeRate())
	default:
		fmt.Fprintf(r.out, "Unknown command %s (/? for help).\n", name)
	}
	return false
}

// lineJoiner assembles messages from input lines: a line is a message,
// unless it ends with a backslash (the next line continues it) or starts
// with """ (the message runs to a line ending with """).
type lineJoiner struct {
	buf    []string
	quoted bool
}

const tripleQuote = `"""`

// add takes a line and returns the message it completes, if any.
func (j *lineJoiner) add(line string) (string, bool) {
	if j.quoted {
		if t := strings.TrimRight(line, " \t"); strings.HasSuffix(t, tripleQuote) {
			j.buf = append(j.buf, strings.TrimSuffix(t, tripleQuote))
			return j.flush(), true
		}
		j.buf = append(j.buf, line)
		return "", false
	}
	if len(j.buf) == 0 && strings.HasPrefix(line, tripleQuote) {
		rest := line[len(tripleQuote):]
		if t := strings.TrimRight(rest, " \t"); len(t) >= len(tripleQuote) && strings.HasSuffix(t, tripleQuote) {
			return strings.TrimSuffix(t, tripleQuote), true
		}
		j.quoted = true
		if rest != "" {
			j.buf = append(j.buf, rest)
		}
		return "", false
	}
	if strings.HasSuffix(line, `\`) {
		j.buf = append(j.buf, strings.TrimSuffix(line, `\`))
		return "", false
	}
	j.buf = append(j.buf, line)
	return j.flush(), true
}

// pending reports whether a message is incomplete.
func (j *lineJoiner) pending() bool { return j.quoted || len(j.buf) > 0 }

// flush returns the lines held and starts afresh.
func (j *lineJoiner) flush() string {
	s := strings.Join(j.buf, "\n")
	*j = lineJoiner{}
	return s
}
