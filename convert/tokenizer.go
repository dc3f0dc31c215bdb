package convert

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// llama.cpp's token types.
const (
	tokenNormal      int32 = 1
	tokenControl     int32 = 3
	tokenUserDefined int32 = 4
	tokenUnused      int32 = 5
)

// vocab is the tokenizer metadata of the output file.
type vocab struct {
	Tokens       []string
	Types        []int32
	Merges       []string
	BOS, EOS     uint32
	Pad          uint32
	AddBOS       bool
	ChatTemplate string // "" when none
}

// kvs returns the tokenizer.* metadata pairs in writing order.
func (v *vocab) kvs() []kv {
	out := []kv{
		{"tokenizer.ggml.model", "gpt2"},
		{"tokenizer.ggml.pre", "qwen2"},
		{"tokenizer.ggml.tokens", v.Tokens},
		{"tokenizer.ggml.token_type", v.Types},
		{"tokenizer.ggml.merges", v.Merges},
		{"tokenizer.ggml.bos_token_id", v.BOS},
		{"tokenizer.ggml.eos_token_id", v.EOS},
		{"tokenizer.ggml.padding_token_id", v.Pad},
		{"tokenizer.ggml.add_bos_token", v.AddBOS},
	}
	if v.ChatTemplate != "" {
		out = append(out, kv{"tokenizer.chat_template", v.ChatTemplate})
	}
	return out
}

type kv struct {
	Key   string
	Value any
}

type tokenizerJSON struct {
	Model struct {
		Type   string            `json:"type"`
		Vocab  map[string]int64  `json:"vocab"`
		Merges []json.RawMessage `json:"merges"`
	} `json:"model"`
	AddedTokens []struct {
		ID      int64  `json:"id"`
		Content string `json:"content"`
		Special bool   `json:"special"`
	} `json:"added_tokens"`
}

// readVocab reads tokenizer.json (required) and tokenizer_config.json
// (optional) from dir and pads the vocabulary to size entries.
func readVocab(dir string, size int) (*vocab, error) {
	path := filepath.Join(dir, "tokenizer.json")
	data, err := readRegular(path, maxTokenizerBytes)
	if err != nil {
		return nil, fmt.Errorf("convert: tokenizer.json is required: %w", err)
	}
	v, err := parseTokenizer(data, size)
	if err != nil {
		return nil, fmt.Errorf("convert: %s: %w", path, err)
	}
	cfgPath := filepath.Join(dir, "tokenizer_config.json")
	data, err = readRegular(cfgPath, maxConfigBytes)
	if errors.Is(err, os.ErrNotExist) {
		data = []byte("{}")
	} else if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	if err := v.applyConfig(data); err != nil {
		return nil, fmt.Errorf("convert: %s: %w", cfgPath, err)
	}
	if v.ChatTemplate == "" {
		// transformers v5 saves the template beside the config.
		t, err := readRegular(filepath.Join(dir, "chat_template.jinja"), maxConfigBytes)
		if err == nil {
			v.ChatTemplate = string(t)
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("convert: %w", err)
		}
	}
	return v, nil
}

// parseTokenizer builds tokens, types and merges from tokenizer.json; the
// special ids are provisional until applyConfig.
func parseTokenizer(data []byte, size int) (*vocab, error) {
	var tj tokenizerJSON
	if err := CheckJSONText(data); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &tj); err != nil {
		return nil, err
	}
	if tj.Model.Type != "BPE" {
		return nil, fmt.Errorf("model.type %q is not supported (want BPE)", tj.Model.Type)
	}
	v := &vocab{Tokens: make([]string, size), Types: make([]int32, size)}
	set := func(id int64, text string, typ int32) error {
		if id < 0 || id >= int64(size) {
			return fmt.Errorf("token %q has id %d outside the vocabulary of %d", text, id, size)
		}
		if v.Types[id] != 0 && v.Tokens[id] != text {
			return fmt.Errorf("tokens %q and %q share id %d", v.Tokens[id], text, id)
		}
		v.Tokens[id], v.Types[id] = text, typ
		return nil
	}
	for text, id := range tj.Model.Vocab {
		if err := set(id, text, tokenNormal); err != nil {
			return nil, err
		}
	}
	for _, a := range tj.AddedTokens {
		typ := tokenUserDefined
		if a.Special {
			typ = tokenControl
		}
		if err := set(a.ID, a.Content, typ); err != nil {
			return nil, err
		}
	}
	for id := range v.Tokens {
		if v.Types[id] == 0 {
			v.Tokens[id], v.Types[id] = fmt.Sprintf("[PAD%d]", id), tokenUnused
		}
	}
	v.Merges = make([]string, len(tj.Model.Merges))
	for i, m := range tj.Model.Merges {
		s, err := mergeString(m)
		if err != nil {
			return nil, fmt.Errorf("model.merges[%d]: %w", i, err)
		}
		v.Merges[i] = s
	}
	if err := v.checkMerges(); err != nil {
		return nil, err
	}
	return v, nil
}

// checkMerges refuses a merge whose halves or result are not tokens of the
// vocabulary, as the runtime's tokenizer does when it loads the file: what
// convert writes, run can read.
func (v *vocab) checkMerges() error {
	known := make(map[string]bool, len(v.Tokens))
	for id, t := range v.Tokens {
		if v.Types[id] != tokenUnused {
			known[t] = true
		}
	}
	for i, m := range v.Merges {
		a, b, _ := strings.Cut(m, " ")
		for _, t := range []string{a, b, a + b} {
			if t == "" || !known[t] {
				return fmt.Errorf("model.merges[%d] %q: %q is not a token of the vocabulary", i, m, t)
			}
		}
	}
	return nil
}

// mergeString accepts a merge as "a b" or as ["a", "b"].
func mergeString(m json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(m, &s); err == nil {
		if strings.Count(s, " ") != 1 {
			return "", fmt.Errorf("merge %q is not two tokens separated by one space", s)
		}
		return s, nil
	}
	var pair []string
	if err := json.Unmarshal(m, &pair); err != nil || len(pair) != 2 {
		return "", fmt.Errorf("merge %s is neither \"a b\" nor [a, b]", m)
	}
	if strings.Contains(pair[0], " ") || strings.Contains(pair[1], " ") {
		return "", fmt.Errorf("merge %q holds a space, which GGUF merges cannot express", pair)
	}
	return pair[0] + " " + pair[1], nil
}

// applyConfig sets the special ids, add_bos_token and chat template from
// tokenizer_config.json. BOS and padding default to <|endoftext|>, as
// llama.cpp does for Qwen; EOS to <|endoftext|> when the config names none.
func (v *vocab) applyConfig(data []byte) error {
	var f fields
	if err := CheckJSONText(data); err != nil {
		return err
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return err
	}
	if f.m == nil {
		return fmt.Errorf("not a JSON object")
	}
	f.prefix = ""
	ids := map[string]uint32{}
	for id, t := range v.Tokens {
		if v.Types[id] != tokenUnused {
			if _, dup := ids[t]; !dup {
				ids[t] = uint32(id)
			}
		}
	}
	endOfText, haveEOT := ids["<|endoftext|>"]
	lookup := func(key string) (optID, error) {
		raw, ok := f.get(key)
		if !ok {
			return optID{}, nil
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			var obj struct {
				Content string `json:"content"`
			}
			if json.Unmarshal(raw, &obj) != nil || obj.Content == "" {
				return optID{}, fmt.Errorf("field %s: want a token string or {content: ...}", key)
			}
			s = obj.Content
		}
		id, ok := ids[s]
		if !ok {
			return optID{}, fmt.Errorf("field %s: token %q is not in the vocabulary", key, s)
		}
		return optID{id, true}, nil
	}
	var got [3]optID
	for i, key := range []string{"eos_token", "bos_token", "pad_token"} {
		var err error
		if got[i], err = lookup(key); err != nil {
			return err
		}
	}
	eot := optID{endOfText, haveEOT}
	eos, ok := firstID(got[0], eot)
	if !ok {
		return fmt.Errorf("no eos_token and no <|endoftext|> token")
	}
	v.EOS = eos
	v.BOS, _ = firstID(got[1], eot, optID{eos, true})
	v.Pad, _ = firstID(got[2], eot, optID{eos, true})
	var err error
	if v.AddBOS, _, err = f.boolean("add_bos_token"); err != nil {
		return err
	}
	v.ChatTemplate, err = chatTemplate(f)
	return err
}

// chatTemplate returns chat_template as a string, or the one named
// "default" when it is a list of {name, template}.
func chatTemplate(f fields) (string, error) {
	raw, ok := f.get("chat_template")
	if !ok {
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var list []struct {
		Name     string `json:"name"`
		Template string `json:"template"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return "", fmt.Errorf("field chat_template: want a string or a list of {name, template}")
	}
	for _, t := range list {
		if t.Name == "default" {
			return t.Template, nil
		}
	}
	if len(list) > 0 {
		return list[0].Template, nil
	}
	return "", nil
}

type optID struct {
	id uint32
	ok bool
}

func firstID(cands ...optID) (uint32, bool) {
	for _, c := range cands {
		if c.ok {
			return c.id, true
		}
	}
	return 0, false
}
