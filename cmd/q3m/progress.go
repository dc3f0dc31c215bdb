package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// progressBar draws a one-line bar with bytes, rate and ETA on a terminal,
// and prints a plain line every few seconds when the output is not one.
type progressBar struct {
	w       io.Writer
	label   string
	tty     bool
	width   int
	start   time.Time
	last    time.Time
	drawn   bool
	lastMsg string
}

func newProgressBar(f *os.File, label string) *progressBar {
	b := &progressBar{w: f, label: label, start: time.Now(), width: 80}
	if term.IsTerminal(int(f.Fd())) {
		b.tty = true
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 40 {
			b.width = w
		}
	}
	return b
}

func (b *progressBar) update(done, total int64, what string) {
	now := time.Now()
	every := 5 * time.Second
	if b.tty {
		every = 100 * time.Millisecond
	}
	if now.Sub(b.last) < every && done < total {
		return
	}
	b.last = now
	el := now.Sub(b.start).Seconds()
	rate := float64(done) / max(el, 1e-9)
	eta := "?"
	if rate > 0 && total >= done {
		eta = time.Duration(float64(total-done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	pct := 0.0
	if total > 0 {
		pct = 100 * float64(done) / float64(total)
	}
	stats := fmt.Sprintf(" %5.1f%% %s/%s %s/s ETA %s", pct, humanBytes(done), humanBytes(total), humanBytes(int64(rate)), eta)
	if !b.tty {
		fmt.Fprintf(b.w, "%s:%s %s\n", b.label, stats, what)
		return
	}
	barw := b.width - len(stats) - len(b.label) - 4
	if barw < 10 {
		barw = 10
	}
	fill := int(float64(barw) * pct / 100)
	fill = min(fill, barw)
	line := fmt.Sprintf("%s [%s%s]%s", b.label, strings.Repeat("=", fill), strings.Repeat(" ", barw-fill), stats)
	fmt.Fprintf(b.w, "\r%s", line)
	b.drawn = true
}

func (b *progressBar) finish() {
	if b.tty && b.drawn {
		fmt.Fprintln(b.w)
	}
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
