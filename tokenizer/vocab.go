package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Token types, as in GGUF tokenizer.ggml.token_type.
const (
	TypeNormal      = 1 // a byte-level BPE token
	TypeControl     = 3 // a special added token such as <|im_start|>
	TypeUserDefined = 4 // a non-special added token such as <think>
	TypeUnused      = 5 // a padding row with no text
)

// MaxVocab is the largest vocabulary accepted, about 16 times the largest
// in use (Qwen's is 151,936 tokens): a vocabulary size read from a file is
// checked against it before anything is allocated for it.
const MaxVocab = 1 << 22

// ErrVocab reports a vocabulary that cannot make a tokenizer.
var ErrVocab = errors.New("tokenizer: bad vocabulary")

// Vocab is a tokenizer's data as GGUF stores it under tokenizer.ggml.*.
type Vocab struct {
	Model  string   // tokenizer.ggml.model; "" or "gpt2"
	Pre    string   // tokenizer.ggml.pre; "" or "qwen2"
	Tokens []string // token texts by id: byte-level text, or the literal text of added tokens
	Types  []int32  // token types by id (Type*); nil means all normal
	Merges []string // "a b" pairs in rank order
	BOS    int32    // -1 when absent
	EOS    int32    // -1 when absent
	PAD    int32    // -1 when absent
}

// New builds a tokenizer from a vocabulary.
func New(v Vocab) (*Tokenizer, error) {
	if v.Model != "" && v.Model != "gpt2" {
		return nil, fmt.Errorf("%w: model %q, want gpt2 (byte-level BPE)", ErrVocab, v.Model)
	}
	if v.Pre != "" && v.Pre != "qwen2" {
		return nil, fmt.Errorf("%w: pre-tokenizer %q, want qwen2", ErrVocab, v.Pre)
	}
	n := len(v.Tokens)
	if n == 0 || n > MaxVocab {
		return nil, fmt.Errorf("%w: %d tokens, want 1 to %d", ErrVocab, n, MaxVocab)
	}
	if v.Types != nil && len(v.Types) != n {
		return nil, fmt.Errorf("%w: %d token types for %d tokens", ErrVocab, len(v.Types), n)
	}
	t := &Tokenizer{
		tokens: v.Tokens,
		types:  make([]int32, n),
		pieces: make([]string, n),
		whole:  make([]bool, n),
		ids:    make(map[string]int32, n),
		merges: make(map[uint64]merge, len(v.Merges)),
		bos:    v.BOS, eos: v.EOS, pad: v.PAD,
	}
	for _, id := range []int32{v.BOS, v.EOS, v.PAD} {
		if id < -1 || int(id) >= n {
			return nil, fmt.Errorf("%w: special token id %d out of range [0,%d)", ErrVocab, id, n)
		}
	}
	tab := byteRunes()
	inv := make(map[rune]byte, 256)
	for b, r := range tab {
		inv[r] = byte(b)
	}
	for id, tok := range v.Tokens {
		typ := int32(TypeNormal)
		if v.Types != nil {
			typ = v.Types[id]
		}
		t.types[id] = typ
		if _, dup := t.ids[tok]; !dup {
			t.ids[tok] = int32(id)
		}
		switch typ {
		case TypeControl, TypeUserDefined:
			t.pieces[id] = tok
			if tok != "" {
				t.added = append(t.added, int32(id))
			}
		case TypeUnused:
		default:
			if b, ok := unByteLevel(tok, inv); ok {
				t.pieces[id] = string(b)
			} else {
				t.pieces[id] = tok
			}
		}
		t.whole[id] = utf8.ValidString(t.pieces[id])
	}
	for b := range t.byteID {
		id, ok := t.ids[string(tab[b])]
		if !ok || (t.types[id] != TypeNormal && v.Types != nil) {
			return nil, fmt.Errorf("%w: no normal token for byte 0x%02x (%q)", ErrVocab, b, string(tab[b]))
		}
		t.byteID[b] = id
	}
	if err := t.addMerges(v.Merges); err != nil {
		return nil, err
	}
	sort.Slice(t.added, func(i, j int) bool {
		a, b := t.tokens[t.added[i]], t.tokens[t.added[j]]
		return len(a) > len(b) || (len(a) == len(b) && t.added[i] < t.added[j])
	})
	for _, id := range t.added {
		t.addedFirst[t.tokens[id][0]] = true
	}
	return t, nil
}

func (t *Tokenizer) addMerges(merges []string) error {
	for rank, m := range merges {
		sp := strings.IndexByte(m[min(1, len(m)):], ' ') + min(1, len(m))
		if sp < 1 {
			return fmt.Errorf("%w: merge %d %q has no space", ErrVocab, rank, m)
		}
		a, b := m[:sp], m[sp+1:]
		ia, oka := t.ids[a]
		ib, okb := t.ids[b]
		iab, okab := t.ids[a+b]
		if !oka || !okb || !okab {
			return fmt.Errorf("%w: merge %d %q: token not in vocabulary", ErrVocab, rank, m)
		}
		k := pairKey(ia, ib)
		if _, dup := t.merges[k]; !dup {
			t.merges[k] = merge{rank: int32(rank), id: iab}
		}
	}
	return nil
}

// hfJSON is the part of an HF tokenizer.json that a byte-level BPE needs.
type hfJSON struct {
	Model struct {
		Type   string           `json:"type"`
		Vocab  map[string]int32 `json:"vocab"`
		Merges json.RawMessage  `json:"merges"`
	} `json:"model"`
	AddedTokens []struct {
		ID      int32  `json:"id"`
		Content string `json:"content"`
		Special bool   `json:"special"`
	} `json:"added_tokens"`
	PreTokenizer json.RawMessage `json:"pre_tokenizer"`
}

// qwen2Pattern is the split regex of Qwen2 and Qwen3 tokenizer.json files.
const qwen2Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`

// FromHF builds a tokenizer from the contents of an HF tokenizer.json, as the
// converter writes it to GGUF: ids without a token up to vocabSize (the
// model's embedding rows; 0 means no padding) become unused "[PADn]" tokens,
// special added tokens are control tokens and the others user-defined. BOS and
// PAD are <|endoftext|>, EOS is <|im_end|> when present.
func FromHF(tokenizerJSON []byte, vocabSize int) (*Tokenizer, error) {
	v, err := VocabFromHF(tokenizerJSON, vocabSize)
	if err != nil {
		return nil, err
	}
	return New(v)
}

// VocabFromHF extracts the GGUF form of a tokenizer from an HF tokenizer.json;
// see FromHF.
func VocabFromHF(tokenizerJSON []byte, vocabSize int) (Vocab, error) {
	var j hfJSON
	if err := json.Unmarshal(tokenizerJSON, &j); err != nil {
		return Vocab{}, fmt.Errorf("tokenizer: tokenizer.json: %w", err)
	}
	if j.Model.Type != "" && j.Model.Type != "BPE" {
		return Vocab{}, fmt.Errorf("%w: tokenizer.json: model type %q, want BPE", ErrVocab, j.Model.Type)
	}
	if err := checkPreTokenizer(j.PreTokenizer); err != nil {
		return Vocab{}, err
	}
	size := 0
	for _, id := range j.Model.Vocab {
		size = max(size, int(id)+1)
	}
	for _, a := range j.AddedTokens {
		size = max(size, int(a.ID)+1)
	}
	if vocabSize > 0 && vocabSize < size {
		return Vocab{}, fmt.Errorf("%w: tokenizer.json has ids up to %d, vocab size is %d", ErrVocab, size-1, vocabSize)
	}
	size = max(size, vocabSize)
	if size > MaxVocab {
		return Vocab{}, fmt.Errorf("%w: tokenizer.json: %d tokens, more than %d", ErrVocab, size, MaxVocab)
	}
	v := Vocab{Model: "gpt2", Pre: "qwen2", Tokens: make([]string, size), Types: make([]int32, size), BOS: -1, EOS: -1, PAD: -1}
	set := make([]bool, size)
	put := func(id int32, tok string, typ int32) error {
		if id < 0 || set[id] {
			return fmt.Errorf("%w: tokenizer.json: token %q has id %d, negative or taken", ErrVocab, tok, id)
		}
		v.Tokens[id], v.Types[id], set[id] = tok, typ, true
		return nil
	}
	for tok, id := range j.Model.Vocab {
		if err := put(id, tok, TypeNormal); err != nil {
			return Vocab{}, err
		}
	}
	for _, a := range j.AddedTokens {
		typ := int32(TypeUserDefined)
		if a.Special {
			typ = TypeControl
		}
		if a.ID >= 0 && set[a.ID] && v.Tokens[a.ID] == a.Content {
			v.Types[a.ID] = typ
		} else if err := put(a.ID, a.Content, typ); err != nil {
			return Vocab{}, err
		}
		switch a.Content {
		case "<|endoftext|>":
			v.BOS, v.PAD = a.ID, a.ID
			if v.EOS < 0 {
				v.EOS = a.ID
			}
		case "<|im_end|>":
			v.EOS = a.ID
		}
	}
	for id := range v.Tokens {
		if !set[id] {
			v.Tokens[id], v.Types[id] = fmt.Sprintf("[PAD%d]", id), TypeUnused
		}
	}
	var err error
	if v.Merges, err = parseMerges(j.Model.Merges); err != nil {
		return Vocab{}, err
	}
	return v, nil
}

// parseMerges reads merges written as "a b" strings or as ["a","b"] pairs.
func parseMerges(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var flat []string
	if !pairList(raw) {
		if err := json.Unmarshal(raw, &flat); err != nil {
			return nil, fmt.Errorf("tokenizer: tokenizer.json: merges: %w", err)
		}
		return flat, nil
	}
	var pairs [][]string
	if err := json.Unmarshal(raw, &pairs); err != nil {
		return nil, fmt.Errorf("tokenizer: tokenizer.json: merges: %w", err)
	}
	flat = make([]string, len(pairs))
	for i, p := range pairs {
		if len(p) != 2 {
			return nil, fmt.Errorf("%w: tokenizer.json: merge %d has %d parts", ErrVocab, i, len(p))
		}
		flat[i] = p[0] + " " + p[1]
	}
	return flat, nil
}

// pairList reports whether a JSON array's first element is itself an array.
func pairList(raw json.RawMessage) bool {
	seenOpen := false
	for _, c := range raw {
		switch c {
		case ' ', '\t', '\n', '\r':
		case '[':
			if seenOpen {
				return true
			}
			seenOpen = true
		default:
			return false
		}
	}
	return false
}

// checkPreTokenizer rejects a pre-tokenizer whose split patterns are not the
// Qwen2 one; a different pattern would tokenize differently.
func checkPreTokenizer(raw json.RawMessage) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var tree any
	if err := json.Unmarshal(raw, &tree); err != nil {
		return fmt.Errorf("tokenizer: tokenizer.json: pre_tokenizer: %w", err)
	}
	var bad error
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			for k, y := range x {
				if s, ok := y.(string); ok && k == "Regex" && s != qwen2Pattern {
					bad = fmt.Errorf("%w: tokenizer.json: pre-tokenizer pattern %q is not the Qwen2 one", ErrVocab, s)
				}
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(tree)
	return bad
}
