package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/term"
)

// lineEditor reads the REPL's lines from a terminal in raw mode. It is
// small on purpose: insertion, deletion, cursor and word moves, history,
// and bracketed paste, with what it does on screen kept in step with the
// text so that nothing waits on a redraw:
//   - text typed or pasted at the end of the line is written as it is (a
//     4000-character paste costs one write of 4000 characters, not 4000
//     redraws of a growing line, as in chzyer/readline);
//   - between the terminal's bracketed-paste markers, newlines are text: a
//     multi-line paste is one message, sent with Enter;
//   - Ctrl-C returns errInterrupt and Ctrl-D at an empty line io.EOF; in
//     raw mode neither is a signal, so nothing is left waiting on the other;
//   - reads happen on a goroutine, so the context's cancellation (SIGTERM,
//     SIGHUP) ends a wait for input.
type lineEditor struct {
	in       *os.File
	out      *os.File
	reads    chan readResult
	reading  bool   // a read is under way on the goroutine
	pending  []byte // input read and not yet handled
	history  []string
	histFile string

	// The line being edited.
	prompt  string
	buf     []rune
	pos     int
	paste   bool // between the bracketed-paste markers
	histIdx int  // the history entry shown, -1: the line being typed
	saved   []rune

	// What the screen shows: the layout position after the last rune
	// written (wrap pending when col == width), whether a line feed was
	// written after a full last row, and the cursor's row below the
	// prompt's first row.
	width     int
	row, col  int
	moved     bool
	cursorRow int
	wbuf      bytes.Buffer
}

type readResult struct {
	b   []byte
	err error
}

// errInterrupt is readLine's error for Ctrl-C; the line typed so far comes
// with it.
var errInterrupt = errors.New("interrupted")

// maxHistory bounds the history kept in memory and read from the file.
const maxHistory = 1000

func newLineEditor(in, out *os.File, histFile string) *lineEditor {
	e := &lineEditor{in: in, out: out, reads: make(chan readResult, 1), histFile: histFile}
	e.history = readHistory(histFile)
	return e
}

// start puts the terminal in raw mode, with bracketed paste, for the
// whole session: keys typed during an answer reach q3m as keys too (Ctrl-C
// stops the answer, see watchInterrupt; the rest is typed ahead), and
// nothing the terminal's line discipline holds (an end-of-file mark,
// flushed input) gets lost between lines. Output then needs "\r\n" for a
// new line: see crlfWriter. restore undoes both.
func (e *lineEditor) start() (restore func(), err error) {
	fd := int(e.in.Fd())
	old, err := term.MakeRaw(fd)
	if err != nil {
		return nil, fmt.Errorf("terminal: %w", err)
	}
	io.WriteString(e.out, "\x1b[?2004h")
	var once sync.Once
	return func() {
		once.Do(func() {
			io.WriteString(e.out, "\x1b[?2004l")
			term.Restore(fd, old)
		})
	}, nil
}

// watchInterrupt calls cancel when Ctrl-C is typed, until stop is called.
// Keys typed before the Ctrl-C are dropped, as a terminal drops them at
// SIGINT; keys after it are kept for the next line.
func (e *lineEditor) watchInterrupt(ctx context.Context, cancel func()) (stop func()) {
	wctx, wcancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if i := bytes.IndexByte(e.pending, 0x03); i >= 0 {
				e.pending = e.pending[i+1:]
				cancel()
			}
			if e.read(wctx) != nil {
				return
			}
		}
	}()
	return func() { wcancel(); <-done }
}

// readLine reads one line (which holds newlines when they were pasted).
// The terminal must be in raw mode (start).
func (e *lineEditor) readLine(ctx context.Context, prompt string) (string, error) {
	e.width = terminalWidth(e.out)
	if e.width <= 0 {
		e.width = 80
	}
	e.prompt, e.buf, e.pos, e.histIdx, e.saved = prompt, e.buf[:0], 0, -1, nil
	e.row, e.col, e.moved, e.cursorRow = 0, 0, false, 0
	e.wbuf.Reset()
	e.writeText([]rune(prompt))
	e.flushScreen()
	for {
		line, done, err := e.handle()
		e.flushScreen()
		if done {
			return line, err
		}
		if err := e.read(ctx); err != nil {
			return "", err
		}
	}
}

// read waits for more input.
func (e *lineEditor) read(ctx context.Context) error {
	if !e.reading {
		e.reading = true
		go func() {
			b := make([]byte, 16<<10)
			n, err := e.in.Read(b)
			e.reads <- readResult{b[:n], err}
		}()
	}
	select {
	case r := <-e.reads:
		e.reading = false
		e.pending = append(e.pending, r.b...)
		if r.err != nil && len(r.b) == 0 {
			e.reading = true // no more reads: the terminal is gone
			go func() { e.reads <- r }()
			return io.EOF
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// handle acts on the keys in pending, until a line is done or the input
// runs out (an incomplete key stays pending).
func (e *lineEditor) handle() (line string, done bool, err error) {
	start := len(e.buf)
	appending := e.pos == len(e.buf) // only runes added at the end so far
	redraw := false
	edit := func() { appending, redraw = false, true }
	for len(e.pending) > 0 {
		k, n := nextKey(e.pending, e.paste)
		if n == 0 {
			break // incomplete
		}
		e.pending = e.pending[n:]
		switch {
		case k.r != 0:
			if e.pos != len(e.buf) {
				edit()
			}
			e.insert(k.r)
			continue
		case k.name == "paste-start":
			e.paste = true
		case k.name == "paste-end":
			e.paste = false
		case k.name == "enter":
			e.pos = len(e.buf)
			line, done = string(e.buf), true
		case k.name == "ctrl-c":
			e.pos = len(e.buf)
			line, done, err = string(e.buf), true, errInterrupt
		case k.name == "ctrl-d" && len(e.buf) == 0:
			done, err = true, io.EOF
		case k.name == "ctrl-d" || k.name == "delete":
			if e.pos < len(e.buf) {
				e.buf = append(e.buf[:e.pos], e.buf[e.pos+1:]...)
				edit()
			}
		case k.name == "backspace":
			if e.pos > 0 {
				e.buf = append(e.buf[:e.pos-1], e.buf[e.pos:]...)
				e.pos--
				edit()
			}
		case k.name == "left":
			e.pos, appending = max(e.pos-1, 0), false
		case k.name == "right":
			e.pos = min(e.pos+1, len(e.buf))
		case k.name == "home":
			e.pos, appending = 0, false
		case k.name == "end":
			e.pos = len(e.buf)
		case k.name == "word-left":
			e.pos, appending = e.wordLeft(), false
		case k.name == "word-right":
			e.pos = e.wordRight()
		case k.name == "kill-end":
			e.buf = e.buf[:e.pos]
			edit()
		case k.name == "kill-start":
			e.buf = append(e.buf[:0], e.buf[e.pos:]...)
			e.pos = 0
			edit()
		case k.name == "kill-word":
			w := e.wordLeft()
			e.buf = append(e.buf[:w], e.buf[e.pos:]...)
			e.pos = w
			edit()
		case k.name == "up" || k.name == "down":
			e.browse(k.name == "up")
			edit()
		case k.name == "clear":
			e.wbuf.WriteString("\x1b[H\x1b[2J")
			e.cursorRow = 0
			edit()
		}
		if done {
			break
		}
	}
	if appending && !redraw && e.pos == len(e.buf) {
		e.writeText(e.buf[start:])
	} else {
		e.redraw()
	}
	if done {
		e.finish(err)
	}
	return line, done, err
}

func (e *lineEditor) insert(r rune) {
	e.buf = append(e.buf, 0)
	copy(e.buf[e.pos+1:], e.buf[e.pos:])
	e.buf[e.pos] = r
	e.pos++
}

// finish leaves the cursor on a new line below the text.
func (e *lineEditor) finish(err error) {
	if errors.Is(err, errInterrupt) {
		e.wbuf.WriteString("^C")
	}
	if !e.moved || errors.Is(err, errInterrupt) {
		e.wbuf.WriteString("\r\n")
	}
	if err == nil {
		e.addHistory(string(e.buf))
	}
}

// writeText writes runes at the end of what the screen shows.
func (e *lineEditor) writeText(rs []rune) {
	for _, r := range rs {
		if r == '\n' {
			if !e.moved {
				e.wbuf.WriteString("\r\n")
			}
			e.wbuf.WriteString(promptMore)
			e.row, e.col, e.moved = e.row+1, len(promptMore), false
			continue
		}
		w := runeWidth(r)
		if r == '\t' {
			r, w = ' ', 1
		}
		if w == 0 {
			continue // controls are kept in the text, not shown
		}
		e.wbuf.WriteRune(r)
		e.moved = false
		if e.col+w > e.width {
			e.row, e.col = e.row+1, w
		} else {
			e.col += w
		}
	}
	if e.col >= e.width && !e.moved {
		e.wbuf.WriteString("\r\n") // leave the pending wrap: the cursor goes below
		e.moved = true
	}
	e.cursorRow = e.row
	if e.moved {
		e.cursorRow++
	}
}

// redraw writes the prompt and the text again and puts the cursor at pos.
func (e *lineEditor) redraw() {
	if e.cursorRow > 0 {
		fmt.Fprintf(&e.wbuf, "\x1b[%dA", e.cursorRow)
	}
	e.wbuf.WriteString("\r\x1b[J")
	e.row, e.col, e.moved = 0, 0, false
	e.writeText([]rune(e.prompt))
	e.writeText(e.buf)
	endRow := e.cursorRow
	// The cursor's place: the layout up to pos, with a full row's pending
	// wrap shown at the start of the next row.
	row, col := 0, len([]rune(e.prompt))
	for _, r := range e.buf[:e.pos] {
		row, col = e.advance(row, col, r)
	}
	if col >= e.width {
		row, col = row+1, 0
	}
	if up := endRow - row; up > 0 {
		fmt.Fprintf(&e.wbuf, "\x1b[%dA", up)
	}
	e.wbuf.WriteString("\r")
	if col > 0 {
		fmt.Fprintf(&e.wbuf, "\x1b[%dC", col)
	}
	e.cursorRow = row
}

// advance is the layout position after r, as writeText places it.
func (e *lineEditor) advance(row, col int, r rune) (int, int) {
	if r == '\n' {
		return row + 1, len(promptMore)
	}
	w := runeWidth(r)
	if r == '\t' {
		w = 1
	}
	if w == 0 {
		return row, col
	}
	if col+w > e.width {
		return row + 1, w
	}
	return row, col + w
}

func (e *lineEditor) flushScreen() {
	if e.wbuf.Len() > 0 {
		e.out.Write(e.wbuf.Bytes())
		e.wbuf.Reset()
	}
}

func (e *lineEditor) wordLeft() int {
	i := e.pos
	for i > 0 && e.buf[i-1] == ' ' {
		i--
	}
	for i > 0 && e.buf[i-1] != ' ' {
		i--
	}
	return i
}

func (e *lineEditor) wordRight() int {
	i := e.pos
	for i < len(e.buf) && e.buf[i] == ' ' {
		i++
	}
	for i < len(e.buf) && e.buf[i] != ' ' {
		i++
	}
	return i
}

// browse shows the previous (up) or next history entry.
func (e *lineEditor) browse(up bool) {
	switch {
	case up && e.histIdx+1 < len(e.history):
		if e.histIdx == -1 {
			e.saved = append([]rune(nil), e.buf...)
		}
		e.histIdx++
		e.buf = []rune(e.history[len(e.history)-1-e.histIdx])
	case !up && e.histIdx > 0:
		e.histIdx--
		e.buf = []rune(e.history[len(e.history)-1-e.histIdx])
	case !up && e.histIdx == 0:
		e.histIdx = -1
		e.buf = e.saved
	}
	e.pos = len(e.buf)
}

// crlfWriter writes "\r\n" for each "\n", as a terminal in raw mode needs.
type crlfWriter struct{ w io.Writer }

func (c crlfWriter) Write(p []byte) (int, error) {
	if bytes.IndexByte(p, '\n') < 0 {
		return c.w.Write(p)
	}
	if _, err := c.w.Write(bytes.ReplaceAll(p, []byte("\n"), []byte("\r\n"))); err != nil {
		return 0, err
	}
	return len(p), nil
}
