package main

import (
	"strings"
	"unicode/utf8"
)

// key is one key press: a rune to insert, or a named action.
type key struct {
	r    rune
	name string
}

// nextKey decodes the key at the start of b and its length; 0 when b
// holds only the start of one. In a paste, everything but the paste's
// end marker is text.
func nextKey(b []byte, paste bool) (key, int) {
	c := b[0]
	if c == 0x1b {
		return escapeKey(b, paste)
	}
	if paste {
		switch c {
		case '\r':
			if len(b) > 1 && b[1] == '\n' {
				return key{r: '\n'}, 2
			}
			return key{r: '\n'}, 1
		case '\n', '\t':
			return key{r: rune(c)}, 1
		}
		if c < 0x20 || c == 0x7f {
			return key{}, 1
		}
	}
	if c < 0x20 || c == 0x7f {
		return key{name: controlKey(c)}, 1
	}
	if !utf8.FullRune(b) {
		return key{}, 0
	}
	r, n := utf8.DecodeRune(b)
	if r == utf8.RuneError {
		return key{}, n // not UTF-8: dropped
	}
	return key{r: r}, n
}

// controlKey names the action of a control character, "" for none.
func controlKey(c byte) string {
	switch c {
	case 0x01:
		return "home"
	case 0x02:
		return "left"
	case 0x03:
		return "ctrl-c"
	case 0x04:
		return "ctrl-d"
	case 0x05:
		return "end"
	case 0x06:
		return "right"
	case 0x08, 0x7f:
		return "backspace"
	case 0x0b:
		return "kill-end"
	case 0x0c:
		return "clear"
	case '\r', '\n':
		return "enter"
	case 0x0e:
		return "down"
	case 0x10:
		return "up"
	case 0x15:
		return "kill-start"
	case 0x17:
		return "kill-word"
	}
	return ""
}

// escapeKey decodes an escape sequence: CSI (ESC [ … final), SS3 (ESC O
// x) or Alt-key (ESC x).
func escapeKey(b []byte, paste bool) (key, int) {
	if len(b) < 2 {
		return key{}, 0
	}
	switch b[1] {
	case '[':
		i := 2
		for i < len(b) && b[i] >= 0x20 && b[i] <= 0x3f {
			i++
		}
		if i == len(b) {
			return key{}, 0
		}
		params, final := string(b[2:i]), b[i]
		n := i + 1
		if paste {
			if params == "201" && final == '~' {
				return key{name: "paste-end"}, n
			}
			return key{}, n // an escape in pasted text is dropped
		}
		mod := strings.Contains(params, ";")
		switch final {
		case 'A':
			return key{name: "up"}, n
		case 'B':
			return key{name: "down"}, n
		case 'C':
			if mod {
				return key{name: "word-right"}, n
			}
			return key{name: "right"}, n
		case 'D':
			if mod {
				return key{name: "word-left"}, n
			}
			return key{name: "left"}, n
		case 'H':
			return key{name: "home"}, n
		case 'F':
			return key{name: "end"}, n
		case '~':
			switch params {
			case "1", "7":
				return key{name: "home"}, n
			case "4", "8":
				return key{name: "end"}, n
			case "3":
				return key{name: "delete"}, n
			case "200":
				return key{name: "paste-start"}, n
			}
		}
		return key{}, n
	}
	if paste {
		return key{}, 1 // an escape in pasted text is dropped
	}
	switch b[1] {
	case 'O':
		if len(b) < 3 {
			return key{}, 0
		}
		names := map[byte]string{'A': "up", 'B': "down", 'C': "right", 'D': "left", 'H': "home", 'F': "end"}
		return key{name: names[b[2]]}, 3
	case 'b':
		return key{name: "word-left"}, 2
	case 'f':
		return key{name: "word-right"}, 2
	case 0x7f:
		return key{name: "kill-word"}, 2
	}
	return key{}, 1 // a lone escape
}
