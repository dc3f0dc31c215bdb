package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// InferTypes returns token types for a byte-level BPE vocabulary stored
// without them (a GGUF file lacking tokenizer.ggml.token_type), so that
// added tokens such as <|im_start|> and <think> are still matched whole
// rather than read as text. In such a vocabulary every normal token is a
// single byte symbol or the result of a merge; a token that is neither was
// added to it:
//
//   - "[PAD<n>]" is a padding row (TypeUnused), as converters write them;
//   - "<|…|>" is a control token (TypeControl), the form every special
//     added token of Qwen's vocabularies takes;
//   - any other is a non-special added token (TypeUserDefined), such as
//     <think> or <tool_call>.
func InferTypes(tokens, merges []string) []int32 {
	tab := byteRunes()
	symbol := make(map[rune]bool, len(tab))
	for _, r := range tab {
		symbol[r] = true
	}
	merged := make(map[string]bool, len(merges))
	for _, m := range merges {
		// The first character may itself be a space symbol; see addMerges.
		sp := strings.IndexByte(m[min(1, len(m)):], ' ') + min(1, len(m))
		if sp >= 1 {
			merged[m[:sp]+m[sp+1:]] = true
		}
	}
	types := make([]int32, len(tokens))
	for id, tok := range tokens {
		r, size := utf8.DecodeRuneInString(tok)
		switch {
		case tok == "" || size == len(tok) && symbol[r] || merged[tok]:
			types[id] = TypeNormal
		case isPadding(tok):
			types[id] = TypeUnused
		case len(tok) > 4 && strings.HasPrefix(tok, "<|") && strings.HasSuffix(tok, "|>"):
			types[id] = TypeControl
		default:
			types[id] = TypeUserDefined
		}
	}
	return types
}

// isPadding reports whether tok is "[PAD<digits>]".
func isPadding(tok string) bool {
	n, ok := strings.CutPrefix(tok, "[PAD")
	if !ok {
		return false
	}
	n, ok = strings.CutSuffix(n, "]")
	return ok && n != "" && strings.Trim(n, "0123456789") == ""
}
