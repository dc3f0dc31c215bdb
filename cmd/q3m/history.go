package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"
)

// addHistory remembers a line and appends it to the history file.
func (e *lineEditor) addHistory(line string) {
	if strings.TrimSpace(line) == "" || len(e.history) > 0 && e.history[len(e.history)-1] == line {
		return
	}
	e.history = append(e.history, line)
	if len(e.history) > maxHistory {
		e.history = e.history[len(e.history)-maxHistory:]
	}
	if e.histFile == "" {
		return
	}
	f, err := os.OpenFile(e.histFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	f.WriteString(historyLine(line) + "\n")
}

// historyLine is an entry as the history file holds it: as typed, or
// quoted when it holds a newline or starts with a quote.
func historyLine(s string) string {
	if strings.ContainsAny(s, "\n\r") || strings.HasPrefix(s, `"`) {
		return fmt.Sprintf("%q", s)
	}
	return s
}

// maxHistoryFile is how much of the history file's end is read.
const maxHistoryFile = 4 << 20

// readHistory reads the last maxHistory entries of the history file.
func readHistory(path string) []string {
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil
	} else if st.Size() > maxHistoryFile {
		f.Seek(st.Size()-maxHistoryFile, io.SeekStart)
	}
	b, _ := io.ReadAll(io.LimitReader(f, maxHistoryFile))
	var out []string
	for line := range strings.Lines(string(b)) {
		line = strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(line, `"`) {
			if s, err := strconv.Unquote(line); err == nil {
				line = s
			}
		}
		if line != "" && utf8.ValidString(line) {
			out = append(out, line)
		}
	}
	if len(out) > maxHistory {
		out = out[len(out)-maxHistory:]
	}
	return out
}
