package runtime

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/q3m/q3m/format"
	"github.com/q3m/q3m/tokenizer"
)

// NewTokenizer builds the tokenizer held in a file's tokenizer.ggml.* keys.
func NewTokenizer(f *format.File) (*tokenizer.Tokenizer, error) {
	wrap := func(err error) error { return fmt.Errorf("runtime: %s: tokenizer: %w", f.Path, err) }
	toks, ok, err := f.Strings("tokenizer.ggml.tokens")
	if err != nil {
		return nil, wrap(err)
	}
	if !ok {
		return nil, wrap(errors.New("no tokenizer.ggml.tokens in the file"))
	}
	v := tokenizer.Vocab{Tokens: toks, BOS: -1, EOS: -1, PAD: -1}
	if v.Model, _, err = f.String("tokenizer.ggml.model"); err != nil {
		return nil, wrap(err)
	}
	if v.Pre, _, err = f.String("tokenizer.ggml.pre"); err != nil {
		return nil, wrap(err)
	}
	if v.Merges, _, err = f.Strings("tokenizer.ggml.merges"); err != nil {
		return nil, wrap(err)
	}
	types, ok, err := f.Ints("tokenizer.ggml.token_type")
	if err != nil {
		return nil, wrap(err)
	}
	if ok {
		v.Types = make([]int32, len(types))
		for i, t := range types {
			if t < math.MinInt32 || t > math.MaxInt32 {
				return nil, wrap(fmt.Errorf("token %d has type %d", i, t))
			}
			v.Types[i] = int32(t)
		}
	} else {
		// Without types every token would count as text, <|im_start|>
		// and <think> included: tell the added tokens from the merges.
		v.Types = tokenizer.InferTypes(toks, v.Merges)
	}
	for _, id := range []struct {
		key string
		dst *int32
	}{
		{"tokenizer.ggml.bos_token_id", &v.BOS},
		{"tokenizer.ggml.eos_token_id", &v.EOS},
		{"tokenizer.ggml.padding_token_id", &v.PAD},
	} {
		u, ok, err := f.Uint(id.key)
		if err != nil {
			return nil, wrap(err)
		}
		if !ok {
			continue
		}
		if u >= uint64(len(toks)) {
			return nil, wrap(fmt.Errorf("%s is %d, past the %d tokens", id.key, u, len(toks)))
		}
		*id.dst = int32(u)
	}
	t, err := tokenizer.New(v)
	if err != nil {
		return nil, wrap(err)
	}
	return t, nil
}

// NewChatTemplate returns the template of a file's tokenizer.chat_template
// key, run by the tokenizer package's Jinja engine. A file without a
// template (or with an empty one) gets plain ChatML together with an error
// wrapping tokenizer.ErrUnsupportedTemplate, which callers may report as a
// warning; a template the engine cannot parse is an error.
func NewChatTemplate(f *format.File) (*tokenizer.Template, error) {
	src, ok, err := f.String("tokenizer.chat_template")
	if err != nil {
		return nil, fmt.Errorf("runtime: %s: %w", f.Path, err)
	}
	if !ok {
		return tokenizer.ChatML(), fmt.Errorf("runtime: %s: no tokenizer.chat_template: %w", f.Path, tokenizer.ErrUnsupportedTemplate)
	}
	t, err := tokenizer.ParseTemplate(src)
	if err != nil {
		return t, fmt.Errorf("runtime: %s: %w", f.Path, err)
	}
	return t, nil
}

// DescribeChatTemplate names a file's chat template for people: the name
// of a recognised template (tokenizer.Template.Name), "unrecognised" with
// the start of its hash, "none" when the file has none, or why it cannot
// be used.
func DescribeChatTemplate(f *format.File) string {
	t, err := NewChatTemplate(f)
	switch {
	case errors.Is(err, tokenizer.ErrUnsupportedTemplate):
		return "none (plain ChatML)"
	case err != nil:
		return "unusable: " + err.Error()
	}
	return t.Describe()
}

// maxTemplateFile bounds a chat template file; shipped templates are a few
// kilobytes.
const maxTemplateFile = 4 << 20

// ReadChatTemplate reads a chat template (Jinja source, as in a model's
// chat_template.jinja) from the file at path, to use instead of the
// model's own (q3m's --chat-template-file).
func ReadChatTemplate(path string) (*tokenizer.Template, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("runtime: chat template: %w", err)
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, maxTemplateFile+1))
	if err != nil {
		return nil, fmt.Errorf("runtime: chat template %s: %w", path, err)
	}
	if len(src) > maxTemplateFile {
		return nil, fmt.Errorf("runtime: chat template %s: larger than %d bytes", path, maxTemplateFile)
	}
	if !utf8.Valid(src) {
		return nil, fmt.Errorf("runtime: chat template %s: not UTF-8 text", path)
	}
	t, err := tokenizer.ParseTemplate(string(src))
	if err != nil {
		return nil, fmt.Errorf("runtime: chat template %s: %w", path, err)
	}
	return t, nil
}

// ChatTemplate returns the model's chat template; see NewChatTemplate.
func (m *Model) ChatTemplate() (*tokenizer.Template, error) { return NewChatTemplate(m.file) }

// PromptEncoderWith returns the encoder of tmpl and the model's tokenizer.
func (m *Model) PromptEncoderWith(tmpl *tokenizer.Template) (*PromptEncoder, error) {
	tok, err := m.Tokenizer()
	if err != nil {
		return nil, err
	}
	return NewPromptEncoder(tok, tmpl), nil
}

// NewChatWithTemplate starts an empty conversation whose prompts tmpl
// renders instead of the model's own template (see ReadChatTemplate).
func (m *Model) NewChatWithTemplate(tmpl *tokenizer.Template, o ChatOptions) (*Chat, error) {
	if o.MaxTokens < 0 {
		return nil, fmt.Errorf("runtime: chat: negative MaxTokens %d", o.MaxTokens)
	}
	enc, err := m.PromptEncoderWith(tmpl)
	if err != nil {
		return nil, err
	}
	return newChat(m, enc, o)
}

// PromptEncoder turns conversations into prompt token ids with a model's
// chat template and tokenizer, so that only the template's own structure
// yields special tokens.
//
// It renders the template with each system, user and tool message's content
// replaced by a placeholder, then puts the contents back and records where
// they lie. Added tokens (such as <|im_start|>) are recognised only outside
// those ranges; the text between two recognised tokens, contents included, is
// encoded as plain text in one piece. For contents without special-token text
// the ids are thus exactly those of encoding the whole rendered prompt with
// special tokens (what apply_chat_template does), while a user who types
// "<|im_start|>system" gets ordinary characters. Assistant messages are the
// model's own output and are not protected. A template that looks into the
// contents it prints (say, whether a user message starts with
// "<tool_response>") may render the placeholders differently from the
// contents; the encoder checks that the two renders agree and otherwise
// encodes the true render with special tokens recognised everywhere, as
// transformers does.
//
// The template gets the tokenizer's BOS, EOS and PAD tokens as bos_token,
// eos_token and pad_token unless the options set them.
//
// A PromptEncoder is safe for concurrent use.
type PromptEncoder struct {
	tok   *tokenizer.Tokenizer
	tmpl  *tokenizer.Template
	added []addedToken // longest text first
}

type addedToken struct {
	text string
	id   int32
}

// NewPromptEncoder returns an encoder for tok and tmpl.
func NewPromptEncoder(tok *tokenizer.Tokenizer, tmpl *tokenizer.Template) *PromptEncoder {
	p := &PromptEncoder{tok: tok, tmpl: tmpl}
	for id := range int32(tok.VocabSize()) {
		if tok.IsAdded(id) && tok.Token(id) != "" {
			if first, _ := tok.Lookup(tok.Token(id)); first == id {
				p.added = append(p.added, addedToken{tok.Token(id), id})
			}
		}
	}
	// Longest first, so that a token that is a prefix of another loses,
	// as in the tokenizer's own EncodeSpecial.
	for i := 1; i < len(p.added); i++ {
		for j := i; j > 0 && len(p.added[j].text) > len(p.added[j-1].text); j-- {
			p.added[j], p.added[j-1] = p.added[j-1], p.added[j]
		}
	}
	return p
}

// Tokenizer returns the encoder's tokenizer.
func (p *PromptEncoder) Tokenizer() *tokenizer.Tokenizer { return p.tok }

// Template returns the encoder's chat template.
func (p *PromptEncoder) Template() *tokenizer.Template { return p.tmpl }

// Encode renders msgs with the template and returns the prompt's ids and
// text.
func (p *PromptEncoder) Encode(msgs []tokenizer.Message, opt tokenizer.ChatOptions) ([]int32, string, error) {
	text, spans, err := p.render(msgs, opt)
	if err != nil {
		return nil, "", err
	}
	return p.encodeProtected(text, spans), text, nil
}

// span is a byte range [lo, hi) of rendered text holding a message's content.
type span struct{ lo, hi int }

// render renders msgs and returns the text and the ranges of the protected
// contents in it, in order.
func (p *PromptEncoder) render(msgs []tokenizer.Message, opt tokenizer.ChatOptions) (string, []span, error) {
	opt = p.withSpecialTokens(opt)
	text, err := p.tmpl.Render(msgs, opt)
	if err != nil {
		return "", nil, err
	}
	// The nonce makes the placeholders differ from anything else the
	// template writes (tool definitions and assistant turns included).
	nonce := 0
	all := make([]string, 0, len(msgs)+len(opt.Tools))
	for _, m := range msgs {
		all = append(all, m.Content, m.ReasoningContent)
	}
	for _, t := range opt.Tools {
		all = append(all, fmt.Sprint(t))
	}
	for nonceUsed(all, nonce) {
		nonce++
	}
	ph := func(i int) string { return "\uE000" + strconv.Itoa(nonce) + ":" + strconv.Itoa(i) + "\uE001" }

	masked := make([]tokenizer.Message, len(msgs))
	var protected []int
	for i, m := range msgs {
		masked[i] = m
		if m.Role != "assistant" && !m.ContentNull && m.Content != "" {
			masked[i].Content = ph(i)
			protected = append(protected, i)
		}
	}
	out, err := p.tmpl.Render(masked, opt)
	if err != nil {
		return text, nil, nil // the template looks into contents: no protection
	}
	var b strings.Builder
	var spans []span
	rest := out
	for _, i := range protected {
		k := strings.Index(rest, ph(i))
		if k < 0 {
			continue // the template left this message out
		}
		b.WriteString(rest[:k])
		lo := b.Len()
		b.WriteString(msgs[i].Content)
		spans = append(spans, span{lo, b.Len()})
		rest = rest[k+len(ph(i)):]
		if strings.Contains(rest, ph(i)) {
			return text, nil, nil // the template repeats a content: no protection
		}
	}
	b.WriteString(rest)
	if b.String() != text {
		return text, nil, nil
	}
	return text, spans, nil
}

// withSpecialTokens fills the special tokens opt leaves unset from the
// tokenizer.
func (p *PromptEncoder) withSpecialTokens(opt tokenizer.ChatOptions) tokenizer.ChatOptions {
	for _, st := range []struct {
		dst *string
		id  int32
	}{{&opt.BOSToken, p.tok.BOS()}, {&opt.EOSToken, p.tok.EOS()}, {&opt.PadToken, p.tok.PAD()}} {
		if *st.dst == "" && st.id >= 0 {
			*st.dst = p.tok.Token(st.id)
		}
	}
	return opt
}

// nonceUsed reports whether the placeholder prefix for nonce occurs in any
// of texts.
func nonceUsed(texts []string, nonce int) bool {
	pre := "\uE000" + strconv.Itoa(nonce) + ":"
	for _, s := range texts {
		if strings.Contains(s, pre) {
			return true
		}
	}
	return false
}

// encodeProtected encodes text, recognising added tokens only outside spans.
func (p *PromptEncoder) encodeProtected(text string, spans []span) []int32 {
	var ids []int32
	start := 0
	next := 0 // first span not yet passed
	for i := 0; i < len(text); i++ {
		for next < len(spans) && spans[next].hi <= i {
			next++
		}
		limit := len(text)
		if next < len(spans) {
			if spans[next].lo <= i {
				i = spans[next].hi - 1
				continue
			}
			limit = spans[next].lo
		}
		a, ok := p.addedAt(text[i:limit])
		if !ok {
			continue
		}
		if start < i {
			ids = append(ids, p.tok.Encode(text[start:i])...)
		}
		ids = append(ids, a.id)
		i += len(a.text) - 1
		start = i + 1
	}
	if start < len(text) {
		ids = append(ids, p.tok.Encode(text[start:])...)
	}
	return ids
}

// addedAt returns the longest added token that s starts with.
func (p *PromptEncoder) addedAt(s string) (addedToken, bool) {
	for _, a := range p.added {
		if strings.HasPrefix(s, a.text) {
			return a, true
		}
	}
	return addedToken{}, false
}

// chatStops returns the ids that end an assistant turn: the file's EOS,
// <|im_end|> and <|endoftext|>, those present.
func chatStops(t *tokenizer.Tokenizer) []int32 {
	var stops []int32
	add := func(id int32) {
		if id >= 0 && !containsID(stops, id) {
			stops = append(stops, id)
		}
	}
	add(t.EOS())
	for _, s := range []string{"<|im_end|>", "<|endoftext|>"} {
		if id, ok := t.Lookup(s); ok {
			add(id)
		}
	}
	return stops
}

func containsID(ids []int32, id int32) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// commonPrefix returns the length of the longest common prefix of a and b.
func commonPrefix(a, b []int32) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}
