package jinja

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

type tokKind int

const (
	tkText tokKind = iota
	tkVarBegin
	tkVarEnd
	tkBlockBegin
	tkBlockEnd
	tkName
	tkString
	tkInt
	tkFloat
	tkOp
	tkEOF
)

type token struct {
	kind tokKind
	val  string // text, name, operator, decoded string, number literal
	line int
}

func (t token) String() string {
	switch t.kind {
	case tkText:
		return "template data"
	case tkVarBegin:
		return "'{{'"
	case tkVarEnd:
		return "'}}'"
	case tkBlockBegin:
		return "'{%'"
	case tkBlockEnd:
		return "'%}'"
	case tkEOF:
		return "end of template"
	case tkString:
		return strconv.Quote(t.val)
	}
	return "'" + t.val + "'"
}

// pyIsSpace reports whether Python's str.isspace holds for r.
func pyIsSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// lexer splits a template into tokens the way jinja2's lexer does with
// trim_blocks and lstrip_blocks on.
type lexer struct {
	src       string
	pos       int
	line      int
	toks      []token
	lineStart bool
}

// normalizeNewlines turns \r\n and \r into \n and drops one trailing
// newline, as jinja2 does with keep_trailing_newline off.
func normalizeNewlines(src string) string {
	src = strings.ReplaceAll(src, "\r\n", "\n")
	src = strings.ReplaceAll(src, "\r", "\n")
	return strings.TrimSuffix(src, "\n")
}

func lex(src string) ([]token, error) {
	l := &lexer{src: normalizeNewlines(src), line: 1, lineStart: true}
	if err := l.run(); err != nil {
		return nil, err
	}
	return l.toks, nil
}

func (l *lexer) errorf(format string, args ...any) error {
	return fmt.Errorf("line %d: %s", l.line, fmt.Sprintf(format, args...))
}

func (l *lexer) emit(kind tokKind, val string) {
	l.toks = append(l.toks, token{kind: kind, val: val, line: l.line})
}

func (l *lexer) advance(n int) {
	l.line += strings.Count(l.src[l.pos:l.pos+n], "\n")
	l.pos += n
}

// nextTag returns the offset of the next "{{", "{%" or "{#" at or after pos.
func (l *lexer) nextTag() int {
	for i := l.pos; i+1 < len(l.src); i++ {
		if l.src[i] == '{' {
			if c := l.src[i+1]; c == '{' || c == '%' || c == '#' {
				return i
			}
		}
	}
	return -1
}

func (l *lexer) run() error {
	for l.pos < len(l.src) {
		k := l.nextTag()
		if k < 0 {
			l.emitText(l.src[l.pos:])
			l.advance(len(l.src) - l.pos)
			break
		}
		text := l.src[l.pos:k]
		kind := l.src[k+1]
		sign := byte(0)
		if k+2 < len(l.src) && (l.src[k+2] == '-' || l.src[k+2] == '+') {
			sign = l.src[k+2]
		}
		switch {
		case sign == '-':
			text = strings.TrimRightFunc(text, pyIsSpace)
		case sign != '+' && kind != '{':
			lp := strings.LastIndexByte(text, '\n') + 1
			if (lp > 0 || l.lineStart) && lp < len(text) && strings.TrimLeftFunc(text[lp:], pyIsSpace) == "" {
				text = text[:lp]
			}
		}
		l.emitText(text)
		l.advance(k - l.pos)
		head := 2
		if sign != 0 {
			head = 3
		}
		l.advance(head)
		var err error
		switch kind {
		case '#':
			err = l.comment()
		case '{':
			l.emit(tkVarBegin, "")
			err = l.tagBody(false)
		default:
			if l.rawBlock() {
				continue
			}
			l.emit(tkBlockBegin, "")
			err = l.tagBody(true)
		}
		if err != nil {
			return err
		}
	}
	l.emit(tkEOF, "")
	return nil
}

func (l *lexer) emitText(s string) {
	if s != "" {
		l.emit(tkText, s)
	}
}

// afterEnd applies the whitespace control after a tag's end marker; sign is
// the character before the marker ('-', '+' or 0) and block tells block and
// comment tags (which trim_blocks affects) from variable tags.
func (l *lexer) afterEnd(sign byte, block bool) {
	start := l.pos
	switch {
	case sign == '-':
		n := len(l.src[l.pos:]) - len(strings.TrimLeftFunc(l.src[l.pos:], pyIsSpace))
		l.advance(n)
	case sign != '+' && block && l.pos < len(l.src) && l.src[l.pos] == '\n':
		l.advance(1)
	}
	if l.pos > start {
		l.lineStart = l.src[l.pos-1] == '\n'
	} else {
		l.lineStart = false
	}
}

func (l *lexer) comment() error {
	end := strings.Index(l.src[l.pos:], "#}")
	if end < 0 {
		return l.errorf("unclosed comment")
	}
	sign := byte(0)
	if end > 0 && (l.src[l.pos+end-1] == '-' || l.src[l.pos+end-1] == '+') {
		sign = l.src[l.pos+end-1]
	}
	l.advance(end + 2)
	l.afterEnd(sign, true)
	return nil
}

// rawBlock handles "{% raw %}…{% endraw %}" at pos (just after "{%" and its
// sign), emitting the body as text. It reports whether it did.
func (l *lexer) rawBlock() bool {
	rest := l.src[l.pos:]
	trimmed := strings.TrimLeft(rest, " \t\n")
	if !strings.HasPrefix(trimmed, "raw") {
		return false
	}
	after := strings.TrimLeft(trimmed[3:], " \t\n")
	sign := byte(0)
	if after != "" && (after[0] == '-' || after[0] == '+') {
		sign, after = after[0], after[1:]
	}
	if !strings.HasPrefix(after, "%}") {
		return false
	}
	bodyStart := len(l.src) - len(after) + 2
	for i := bodyStart; i+1 < len(l.src); i++ {
		if l.src[i] != '{' || l.src[i+1] != '%' {
			continue
		}
		j := i + 2
		endSign := byte(0)
		if j < len(l.src) && (l.src[j] == '-' || l.src[j] == '+') {
			endSign = l.src[j]
			j++
		}
		t := strings.TrimLeft(l.src[j:], " \t\n")
		if !strings.HasPrefix(t, "endraw") {
			continue
		}
		t = strings.TrimLeft(t[6:], " \t\n")
		closeSign := byte(0)
		if t != "" && (t[0] == '-' || t[0] == '+') {
			closeSign, t = t[0], t[1:]
		}
		if !strings.HasPrefix(t, "%}") {
			continue
		}
		l.advance(bodyStart - l.pos)
		body := l.src[bodyStart:i]
		if sign == '-' {
			body = strings.TrimLeftFunc(body, pyIsSpace)
		}
		if endSign == '-' {
			body = strings.TrimRightFunc(body, pyIsSpace)
		}
		l.emitText(body)
		l.advance(len(l.src) - len(t) + 2 - l.pos)
		l.afterEnd(closeSign, true)
		return true
	}
	return false
}

// tagBody lexes expression tokens up to the end of a block ("%}") or
// variable ("}}") tag.
func (l *lexer) tagBody(block bool) error {
	depth := 0
	for {
		for l.pos < len(l.src) && strings.IndexByte(" \t\n\r\v\f", l.src[l.pos]) >= 0 {
			l.advance(1)
		}
		if l.pos >= len(l.src) {
			return l.errorf("unclosed tag")
		}
		rest := l.src[l.pos:]
		if depth == 0 {
			for _, sign := range []byte{'-', '+', 0} {
				marker := "}}"
				if block {
					marker = "%}"
				}
				if sign != 0 {
					marker = string(sign) + marker
				}
				if sign == '+' && !block {
					continue
				}
				if strings.HasPrefix(rest, marker) {
					l.advance(len(marker))
					if block {
						l.emit(tkBlockEnd, "")
					} else {
						l.emit(tkVarEnd, "")
					}
					l.afterEnd(sign, block)
					return nil
				}
			}
		}
		c := rest[0]
		switch {
		case c == '\'' || c == '"':
			s, n, err := lexString(rest)
			if err != nil {
				return l.errorf("%v", err)
			}
			l.emit(tkString, s)
			l.advance(n)
		case c >= '0' && c <= '9':
			kind, lit := lexNumber(rest)
			l.emit(kind, strings.ReplaceAll(lit, "_", ""))
			l.advance(len(lit))
		case c == '_' || c >= 0x80 || unicode.IsLetter(rune(c)):
			n := 0
			for n < len(rest) {
				r, size := utf8.DecodeRuneInString(rest[n:])
				if r != '_' && !unicode.IsLetter(r) && !(n > 0 && unicode.IsDigit(r)) {
					break
				}
				n += size
			}
			if n == 0 {
				return l.errorf("unexpected character %q", rest[:1])
			}
			l.emit(tkName, rest[:n])
			l.advance(n)
		default:
			op := ""
			for _, o := range []string{"//", "**", "==", "!=", "<=", ">="} {
				if strings.HasPrefix(rest, o) {
					op = o
					break
				}
			}
			if op == "" && strings.IndexByte("+-*/%~<>=()[]{},.:|", c) >= 0 {
				op = rest[:1]
			}
			if op == "" {
				return l.errorf("unexpected character %q", rest[:1])
			}
			switch op {
			case "(", "[", "{":
				depth++
			case ")", "]", "}":
				depth--
			}
			l.emit(tkOp, op)
			l.advance(len(op))
		}
	}
}

// lexNumber returns the longest integer or float literal at the start of s.
func lexNumber(s string) (tokKind, string) {
	digits := func(i int) int { // (\d+_)*\d+ starting at i; returns end or i
		j := i
		for j < len(s) {
			k := j
			for k < len(s) && s[k] >= '0' && s[k] <= '9' {
				k++
			}
			if k == j {
				break
			}
			j = k
			if j+1 < len(s) && s[j] == '_' && s[j+1] >= '0' && s[j+1] <= '9' {
				j++
				continue
			}
			break
		}
		return j
	}
	i := digits(0)
	kind := tkInt
	if i+1 < len(s) && s[i] == '.' && s[i+1] >= '0' && s[i+1] <= '9' {
		i = digits(i + 1)
		kind = tkFloat
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if k := digits(j); k > j {
			i = k
			kind = tkFloat
		}
	}
	return kind, s[:i]
}

// lexString decodes the quoted string at the start of s with Python's
// unicode-escape rules and returns it and the length consumed.
func lexString(s string) (string, int, error) {
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); {
		c := s[i]
		if c == q {
			return b.String(), i + 1, nil
		}
		if c != '\\' {
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(s) {
			break
		}
		e := s[i+1]
		i += 2
		switch e {
		case '\n':
		case '\\', '\'', '"':
			b.WriteByte(e)
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'v':
			b.WriteByte('\v')
		case 'x', 'u', 'U':
			n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			if i+n > len(s) {
				return "", 0, fmt.Errorf("truncated \\%c escape in string literal", e)
			}
			v, err := strconv.ParseUint(s[i:i+n], 16, 32)
			if err != nil || v > unicode.MaxRune {
				return "", 0, fmt.Errorf("bad \\%c escape in string literal", e)
			}
			b.WriteRune(rune(v))
			i += n
		default:
			if e >= '0' && e <= '7' {
				v := int(e - '0')
				for k := 0; k < 2 && i < len(s) && s[i] >= '0' && s[i] <= '7'; k++ {
					v = v*8 + int(s[i]-'0')
					i++
				}
				b.WriteRune(rune(v))
			} else {
				b.WriteByte('\\')
				b.WriteByte(e)
			}
		}
	}
	return "", 0, fmt.Errorf("unterminated string literal")
}
