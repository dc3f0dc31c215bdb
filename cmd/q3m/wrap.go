package main

import (
	"io"
	"os"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/term"
	"golang.org/x/text/width"
)

// wrapWriter breaks streamed text into lines of at most width columns at
// spaces, as a terminal would not: a word that would cross the right edge
// starts the next line. A word longer than a line is broken where the line
// ends. Spaces are held until the next word shows where it goes, so lines
// do not end in spaces; the word being written is held until a space, a
// newline or Flush ends it. ANSI escape sequences pass through and take no
// columns. Width 0 or less writes the text as it comes. Resize changes the
// width from another goroutine (a SIGWINCH watcher, see watchResize).
type wrapWriter struct {
	w      io.Writer
	width  int
	resize atomic.Int64 // a new width for the next Write, 0 for none
	col    int          // columns used on the current line
	spaces int          // spaces held before the word
	word   []byte       // the word being written, escapes included
	wcols  int          // columns of word
	esc    bool         // inside an escape sequence
	part   []byte       // the first bytes of a rune split across writes
	err    error
}

func newWrapWriter(w io.Writer, width int) *wrapWriter {
	return &wrapWriter{w: w, width: width}
}

// terminalWidth returns f's width in columns, or 0 when f is not a
// terminal.
func terminalWidth(f *os.File) int {
	w, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return w
}

// Resize makes the lines width columns wide from the next Write on (the
// current line, when already longer, ends before the next word). It may
// be called concurrently with Write; width 0 or less is ignored.
func (ww *wrapWriter) Resize(width int) {
	if width > 0 {
		ww.resize.Store(int64(width))
	}
}

func (ww *wrapWriter) Write(p []byte) (int, error) {
	if n := ww.resize.Swap(0); n > 0 {
		ww.width = int(n)
	}
	if ww.width <= 0 {
		return ww.w.Write(p)
	}
	total := len(p)
	if len(ww.part) > 0 {
		p = append(ww.part, p...)
		ww.part = nil
	}
	for i := 0; i < len(p); {
		b := p[i]
		switch {
		case ww.esc:
			ww.word = append(ww.word, b)
			if b >= 0x40 && b <= 0x7e && b != '[' {
				ww.esc = false
			}
			i++
			continue
		case b == 0x1b:
			ww.esc = true
			ww.word = append(ww.word, b)
			i++
			continue
		case b == ' ':
			ww.endWord()
			ww.spaces++
			i++
			continue
		case b == '\n' || b == '\r':
			ww.endWord()
			ww.spaces = 0
			ww.write([]byte{b})
			ww.col = 0
			i++
			continue
		case b == '\t':
			ww.endWord()
			ww.spaces += 8 - (ww.col+ww.spaces)%8
			i++
			continue
		}
		r, n := utf8.DecodeRune(p[i:])
		if r == utf8.RuneError && !utf8.FullRune(p[i:]) {
			// A rune split across writes: count it when it is complete.
			ww.part = append([]byte(nil), p[i:]...)
			break
		}
		c := runeWidth(r)
		if ww.col+ww.spaces+ww.wcols+c > ww.width && ww.col+ww.spaces == 0 {
			// A word longer than the line: break it here.
			ww.write(ww.word)
			ww.write([]byte("\n"))
			ww.word, ww.wcols = ww.word[:0], 0
		}
		ww.word = append(ww.word, p[i:i+n]...)
		ww.wcols += c
		if ww.col > 0 && ww.col+ww.spaces+ww.wcols > ww.width {
			// The word does not fit after what the line holds.
			ww.write([]byte("\n"))
			ww.col, ww.spaces = 0, 0
		}
		i += n
	}
	return total, ww.err
}

// endWord writes the held spaces and word.
func (ww *wrapWriter) endWord() {
	if len(ww.word) == 0 {
		return
	}
	if ww.spaces > 0 {
		ww.write([]byte(spaces(ww.spaces)))
		ww.col += ww.spaces
		ww.spaces = 0
	}
	ww.write(ww.word)
	ww.col += ww.wcols
	ww.word, ww.wcols = ww.word[:0], 0
}

// Flush writes the word held, and the spaces before it.
func (ww *wrapWriter) Flush() error {
	ww.endWord()
	if ww.spaces > 0 && ww.col+ww.spaces <= ww.width {
		ww.write([]byte(spaces(ww.spaces)))
		ww.col += ww.spaces
	}
	ww.spaces = 0
	return ww.err
}

func (ww *wrapWriter) write(b []byte) {
	if ww.err == nil && len(b) > 0 {
		_, ww.err = ww.w.Write(b)
	}
}

func spaces(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = ' '
	}
	return string(b)
}

// runeWidth is the columns r takes at a terminal: 2 for East Asian wide
// and fullwidth runes, 0 for combining marks and controls, 1 otherwise.
func runeWidth(r rune) int {
	switch {
	case r < 0x20 || r == 0x7f:
		return 0
	case r >= 0x300 && r <= 0x36f, r == 0x200b, r == 0x200d, r >= 0xfe00 && r <= 0xfe0f:
		return 0
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

// flush flushes w when it holds text back.
func flush(w io.Writer) {
	if f, ok := w.(interface{ Flush() error }); ok {
		f.Flush()
	}
}
