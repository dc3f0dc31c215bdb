package synth

import (
	"encoding/json"
	"fmt"
)

// llama.cpp's token types.
const (
	tokenNormal      int32 = 1
	tokenControl     int32 = 3
	tokenUserDefined int32 = 4
	tokenUnused      int32 = 5
)

// ggufVocab is the tokenizer metadata of a GGUF file.
type ggufVocab struct {
	tokens       []string
	types        []int32
	merges       []string
	bos, eos     uint32
	pad          uint32
	chatTemplate string
}

func (v *ggufVocab) kvs() []ggufKV {
	return []ggufKV{
		{"tokenizer.ggml.model", "gpt2"},
		{"tokenizer.ggml.pre", "qwen2"},
		{"tokenizer.ggml.tokens", v.tokens},
		{"tokenizer.ggml.token_type", v.types},
		{"tokenizer.ggml.merges", v.merges},
		{"tokenizer.ggml.bos_token_id", v.bos},
		{"tokenizer.ggml.eos_token_id", v.eos},
		{"tokenizer.ggml.padding_token_id", v.pad},
		{"tokenizer.ggml.add_bos_token", false},
		{"tokenizer.chat_template", v.chatTemplate},
	}
}

// vocab returns the tokenizer metadata of the spec's tokenizer (the tiny one
// or Qwen3's), padded to s.Vocab with unused "[PADi]" tokens. Both
// tokenizers end turns with <|im_end|> and use <|endoftext|> for BOS and
// padding, and neither adds BOS.
func (s Spec) vocab() (*ggufVocab, error) {
	data, template := tokenizerJSON(), chatTemplate
	if s.Qwen3Tokenizer {
		var err error
		if data, err = qwen3TokenizerJSON(); err != nil {
			return nil, err
		}
		var cfg struct {
			ChatTemplate string `json:"chat_template"`
		}
		if err := json.Unmarshal(qwen3TokenizerConfig, &cfg); err != nil {
			return nil, fmt.Errorf("synth: embedded Qwen3 tokenizer_config.json: %w", err)
		}
		template = cfg.ChatTemplate
	}
	var tj struct {
		Model struct {
			Vocab  map[string]int    `json:"vocab"`
			Merges []json.RawMessage `json:"merges"`
		} `json:"model"`
		AddedTokens []struct {
			ID      int    `json:"id"`
			Content string `json:"content"`
			Special bool   `json:"special"`
		} `json:"added_tokens"`
	}
	if err := json.Unmarshal(data, &tj); err != nil {
		return nil, fmt.Errorf("synth: tokenizer.json: %w", err)
	}
	v := &ggufVocab{tokens: make([]string, s.Vocab), types: make([]int32, s.Vocab), chatTemplate: template}
	set := func(id int, text string, typ int32) error {
		if id < 0 || id >= s.Vocab {
			return fmt.Errorf("synth: token %q has id %d outside the vocabulary of %d", text, id, s.Vocab)
		}
		v.tokens[id], v.types[id] = text, typ
		return nil
	}
	for text, id := range tj.Model.Vocab {
		if err := set(id, text, tokenNormal); err != nil {
			return nil, err
		}
	}
	ids := map[string]uint32{}
	for _, a := range tj.AddedTokens {
		typ := tokenUserDefined
		if a.Special {
			typ = tokenControl
		}
		if err := set(a.ID, a.Content, typ); err != nil {
			return nil, err
		}
		ids[a.Content] = uint32(a.ID)
	}
	for id := range v.tokens {
		if v.types[id] == 0 {
			v.tokens[id], v.types[id] = fmt.Sprintf("[PAD%d]", id), tokenUnused
		}
	}
	for i, m := range tj.Model.Merges {
		var str string
		if json.Unmarshal(m, &str) != nil {
			var pair [2]string
			if err := json.Unmarshal(m, &pair); err != nil {
				return nil, fmt.Errorf("synth: tokenizer.json: merge %d: %w", i, err)
			}
			str = pair[0] + " " + pair[1]
		}
		v.merges = append(v.merges, str)
	}
	eot, ok1 := ids["<|endoftext|>"]
	eos, ok2 := ids["<|im_end|>"]
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("synth: tokenizer.json lacks <|endoftext|> or <|im_end|>")
	}
	v.bos, v.eos, v.pad = eot, eos, eot
	return v, nil
}
