package synth

import (
	"fmt"
	"strings"
)

// The synthetic tokenizer is a real byte-level BPE tokenizer with a tiny
// vocabulary: the 256 byte tokens (GPT-2 byte↔unicode map, in its order),
// the merges below (each adds one token), then Qwen's 26 added tokens.
// Ids from there up to Spec.Vocab are padding rows with no text, as in Qwen.

// merges are written in their byte-unicode form ("Ġ" is a space, "Ċ" a
// newline). Each must join two existing tokens into a new one.
var merges = []string{
	"Ġ t", "Ġ a", "h e", "i n", "r e", "o n", "Ġt he", "e r", "Ġ s", "a t",
	"Ġ w", "o r", "e n", "Ġ c", "i s", "Ġ o", "Ġ f", "e s", "Ġ b", "a n",
	"Ġ p", "i t", "Ġ m", "a l", "Ġo f", "Ġ d", "in g", "Ġa n", "Ġan d", "Ġ i",
	"Ġ h", "e d", "Ġt o", "o u", "l l", "Ġ l", "Ġ n", "Ġ re", "Ġ Ġ", "ĠĠ ĠĠ",
	"Ċ Ċ", "Ġi s", "t h", "Ġ he", "Ġ ing",
}

// addedTokens are Qwen3's added tokens in id order, with their special flag.
var addedTokens = []struct {
	content string
	special bool
}{
	{"<|endoftext|>", true}, {"<|im_start|>", true}, {"<|im_end|>", true},
	{"<|object_ref_start|>", true}, {"<|object_ref_end|>", true},
	{"<|box_start|>", true}, {"<|box_end|>", true},
	{"<|quad_start|>", true}, {"<|quad_end|>", true},
	{"<|vision_start|>", true}, {"<|vision_end|>", true},
	{"<|vision_pad|>", true}, {"<|image_pad|>", true}, {"<|video_pad|>", true},
	{"<tool_call>", false}, {"</tool_call>", false},
	{"<|fim_prefix|>", true}, {"<|fim_middle|>", true}, {"<|fim_suffix|>", true},
	{"<|fim_pad|>", true}, {"<|repo_name|>", true}, {"<|file_sep|>", true},
	{"<tool_response>", false}, {"</tool_response>", false},
	{"<think>", false}, {"</think>", false},
}

// chatTemplate is a short ChatML template with Qwen3's enable_thinking switch.
const chatTemplate = "{%- for message in messages %}" +
	"{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}" +
	"{%- endfor %}" +
	"{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}" +
	"{%- if enable_thinking is defined and enable_thinking is false %}{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}" +
	"{%- endif %}"

// preTokenizerRegex is Qwen2's split pattern.
const preTokenizerRegex = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`

// byteTokens returns GPT-2's byte↔unicode map in token-id order: printable
// bytes first as themselves, then the rest mapped to U+0100 onwards.
func byteTokens() []string {
	var bs []int
	for b := 0; b < 256; b++ {
		if ('!' <= b && b <= '~') || (0xA1 <= b && b <= 0xAC) || (0xAE <= b && b <= 0xFF) {
			bs = append(bs, b)
		}
	}
	printable := make(map[int]bool, len(bs))
	for _, b := range bs {
		printable[b] = true
	}
	toks := make([]string, 0, 256)
	for _, b := range bs {
		toks = append(toks, string(rune(b)))
	}
	n := 0
	for b := 0; b < 256; b++ {
		if !printable[b] {
			toks = append(toks, string(rune(256+n)))
			n++
		}
	}
	return toks
}

// vocabTokens returns the BPE model's vocabulary in id order.
func vocabTokens() []string {
	toks := byteTokens()
	for _, m := range merges {
		toks = append(toks, strings.Replace(m, " ", "", 1))
	}
	return toks
}

// minVocab is the number of ids the tokenizer uses.
func minVocab() int { return 256 + len(merges) + len(addedTokens) }

// specialID returns the id of an added token.
func specialID(content string) int {
	for i, t := range addedTokens {
		if t.content == content {
			return 256 + len(merges) + i
		}
	}
	panic("synth: unknown added token " + content) // callers pass constants
}

// tokenizerJSON returns tokenizer.json as the tokenizers library writes it.
func tokenizerJSON() []byte {
	var b strings.Builder
	b.WriteString("{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": [")
	for i, t := range addedTokens {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "\n    {\n      \"id\": %d,\n      \"content\": %s,\n      \"single_word\": false,\n"+
			"      \"lstrip\": false,\n      \"rstrip\": false,\n      \"normalized\": false,\n      \"special\": %t\n    }",
			specialID(t.content), jsonString(t.content), t.special)
	}
	byteLevel := `{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false}`
	fmt.Fprintf(&b, "\n  ],\n  \"normalizer\": {\"type\": \"NFC\"},\n"+
		"  \"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [\n"+
		"    {\"type\": \"Split\", \"pattern\": {\"Regex\": %s}, \"behavior\": \"Isolated\", \"invert\": false},\n"+
		"    %s\n  ]},\n  \"post_processor\": %s,\n  \"decoder\": %s,\n",
		jsonString(preTokenizerRegex), byteLevel, byteLevel, byteLevel)
	b.WriteString("  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": null,\n" +
		"    \"continuing_subword_prefix\": \"\",\n    \"end_of_word_suffix\": \"\",\n    \"fuse_unk\": false,\n" +
		"    \"byte_fallback\": false,\n    \"ignore_merges\": false,\n    \"vocab\": {")
	for i, t := range vocabTokens() {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "\n      %s: %d", jsonString(t), i)
	}
	b.WriteString("\n    },\n    \"merges\": [")
	for i, m := range merges {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "\n      %s", jsonString(m))
	}
	b.WriteString("\n    ]\n  }\n}\n")
	return []byte(b.String())
}

// tokenizerConfigJSON returns tokenizer_config.json with the chat template.
func tokenizerConfigJSON() []byte {
	var b strings.Builder
	b.WriteString("{\n  \"add_bos_token\": false,\n  \"add_prefix_space\": false,\n  \"added_tokens_decoder\": {")
	for i, t := range addedTokens {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "\n    \"%d\": {\n      \"content\": %s,\n      \"lstrip\": false,\n      \"normalized\": false,\n"+
			"      \"rstrip\": false,\n      \"single_word\": false,\n      \"special\": %t\n    }",
			specialID(t.content), jsonString(t.content), t.special)
	}
	fmt.Fprintf(&b, "\n  },\n  \"bos_token\": null,\n  \"chat_template\": %s,\n"+
		"  \"clean_up_tokenization_spaces\": false,\n  \"eos_token\": \"<|im_end|>\",\n  \"errors\": \"replace\",\n"+
		"  \"model_max_length\": 131072,\n  \"pad_token\": \"<|endoftext|>\",\n  \"split_special_tokens\": false,\n"+
		"  \"tokenizer_class\": \"Qwen2Tokenizer\",\n  \"unk_token\": null\n}\n", jsonString(chatTemplate))
	return []byte(b.String())
}
