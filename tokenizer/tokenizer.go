package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// Tokenizer encodes text to token ids and decodes ids to text.
// It is safe for concurrent use.
type Tokenizer struct {
	tokens     []string         // token text by id
	types      []int32          // Type* by id
	pieces     []string         // decoded bytes by id ("" for unused)
	whole      []bool           // pieces[id] is valid UTF-8
	ids        map[string]int32 // token text → first id with it
	byteID     [256]int32       // id of the single-byte token of each byte
	merges     map[uint64]merge // (left id, right id) → merge
	added      []int32          // control and user-defined ids, longest text first
	addedFirst [256]bool        // some added token starts with this byte
	bos        int32
	eos        int32
	pad        int32
	cache      wordCache
}

// Encode returns the ids of s as plain text: text that looks like a special
// token (such as "<|im_start|>") is encoded as ordinary characters.
func (t *Tokenizer) Encode(s string) []int32 {
	var sc bpeScratch
	return t.appendText(nil, s, &sc)
}

// EncodeSpecial returns the ids of s, where the literal text of any added
// token (control or user-defined) becomes that token, as HF tokenizers do by
// default. Use it for rendered chat templates, never for untrusted text.
func (t *Tokenizer) EncodeSpecial(s string) []int32 {
	var sc bpeScratch
	var ids []int32
	start := 0
	for i := 0; i < len(s); i++ {
		if !t.addedFirst[s[i]] {
			continue
		}
		id, ok := t.addedAt(s, i)
		if !ok {
			continue
		}
		ids = t.appendText(ids, s[start:i], &sc)
		ids = append(ids, id)
		i += len(t.tokens[id]) - 1
		start = i + 1
	}
	return t.appendText(ids, s[start:], &sc)
}

// addedAt returns the longest added token whose text starts at s[i].
func (t *Tokenizer) addedAt(s string, i int) (int32, bool) {
	for _, id := range t.added {
		if strings.HasPrefix(s[i:], t.tokens[id]) {
			return id, true
		}
	}
	return 0, false
}

// appendText normalizes s to NFC, splits it into pre-tokens and appends the
// BPE ids of each.
func (t *Tokenizer) appendText(dst []int32, s string, sc *bpeScratch) []int32 {
	s = nfc(s)
	for i := 0; i < len(s); {
		j := nextPiece(s, i)
		dst = t.appendPiece(dst, s[i:j], sc)
		i = j
	}
	return dst
}

// Decode returns the text of ids. Added tokens give their literal text, unused
// and out-of-range ids nothing; byte sequences that are not UTF-8 become
// U+FFFD.
func (t *Tokenizer) Decode(ids []int32) string {
	var b []byte
	for _, id := range ids {
		if id >= 0 && int(id) < len(t.pieces) {
			b = append(b, t.pieces[id]...)
		}
	}
	if utf8.Valid(b) {
		return string(b)
	}
	return string(appendLossy(nil, b))
}

// Token returns the text of token id as stored in the vocabulary (byte-level
// for normal tokens), or "" when id is out of range.
func (t *Tokenizer) Token(id int32) string {
	if id < 0 || int(id) >= len(t.tokens) {
		return ""
	}
	return t.tokens[id]
}

// Piece returns the bytes token id decodes to (the literal text of an added
// token), or "" when id is out of range or unused.
func (t *Tokenizer) Piece(id int32) string {
	if id < 0 || int(id) >= len(t.pieces) {
		return ""
	}
	return t.pieces[id]
}

// Lookup returns the id of a token given its vocabulary text.
func (t *Tokenizer) Lookup(tok string) (int32, bool) {
	id, ok := t.ids[tok]
	return id, ok
}

// VocabSize returns the number of token ids, padding included.
func (t *Tokenizer) VocabSize() int { return len(t.tokens) }

// IsSpecial reports whether id is a control token such as <|im_end|>.
func (t *Tokenizer) IsSpecial(id int32) bool {
	return id >= 0 && int(id) < len(t.types) && t.types[id] == TypeControl
}

// IsAdded reports whether id is an added token, control or user-defined.
func (t *Tokenizer) IsAdded(id int32) bool {
	return id >= 0 && int(id) < len(t.types) && (t.types[id] == TypeControl || t.types[id] == TypeUserDefined)
}

// BOS, EOS and PAD return the ids of those tokens, or -1.
func (t *Tokenizer) BOS() int32 { return t.bos }

// EOS returns the end-of-sequence id, or -1.
func (t *Tokenizer) EOS() int32 { return t.eos }

// PAD returns the padding id, or -1.
func (t *Tokenizer) PAD() int32 { return t.pad }
