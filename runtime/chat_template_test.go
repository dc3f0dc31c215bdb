package runtime

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/q3m/q3m/tokenizer"
)

func TestReadChatTemplateNamesTheFileOnError(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for name, path := range map[string]string{
		"missing":      filepath.Join(dir, "nope.jinja"),
		"unparseable":  write("bad.jinja", []byte("{% if x %}never closed")),
		"not utf-8":    write("bin.jinja", []byte("{{ '\xff' }}")),
		"too large":    write("big.jinja", make([]byte, maxTemplateFile+1)),
		"unknown tag":  write("inc.jinja", []byte("{% include 'x' %}")),
		"unknown test": write("test.jinja", []byte("{{ x is frob }}")),
	} {
		_, err := ReadChatTemplate(path)
		if err == nil || !strings.Contains(err.Error(), filepath.Base(path)) {
			t.Errorf("%s: %v, want an error naming %s", name, err, filepath.Base(path))
		}
	}
	tmpl, err := ReadChatTemplate(filepath.Join("..", "testdata", "templates", "qwen3-coder.jinja"))
	if err != nil || tmpl.Name() != tokenizer.TemplateQwen3Coder {
		t.Fatalf("qwen3-coder.jinja: %v", err)
	}
}

func TestNewChatWithTemplateOverridesTheFilesTemplate(t *testing.T) {
	m, _ := chatModel(t)
	tmpl, err := ReadChatTemplate(filepath.Join("..", "testdata", "templates", "qwen3-thinking-2507.jinja"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := m.NewChatWithTemplate(tmpl, ChatOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.NewChatWithTemplate(tmpl, ChatOptions{MaxTokens: -1}); err == nil {
		t.Error("negative MaxTokens accepted")
	}
	tok := c.enc.Tokenizer()
	_, prompt, err := c.enc.Encode([]tokenizer.Message{{Role: "user", Content: "hi"}}, tokenizer.ChatOptions{AddGenerationPrompt: true})
	if err != nil || prompt != "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n" {
		t.Fatalf("prompt %q, %v", prompt, err)
	}
	// The Thinking-2507 prompt opens the think block: the answer starts
	// inside it.
	var answer []int32
	answer = append(answer, tok.Encode("the plan\n")...)
	answer = append(answer, mustLookup(t, tok, "</think>"))
	answer = append(answer, tok.Encode("\n\nthe answer")...)
	c.pick = script(append(answer, mustLookup(t, tok, "<|im_end|>"))...)
	r, err := c.Send(context.Background(), "hi", nil)
	if err != nil || r.Thinking != "the plan" || r.Content != "the answer" {
		t.Fatalf("reply %+v, %v", r, err)
	}
}

func TestPromptEncoderProtectsContentsOnlyWhenTheRenderAgrees(t *testing.T) {
	m, _ := chatModel(t)
	tok, err := m.Tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := ReadChatTemplate(filepath.Join("..", "testdata", "templates", "qwen3.jinja"))
	if err != nil {
		t.Fatal(err)
	}
	enc := NewPromptEncoder(tok, tmpl)
	want := func(msgs []tokenizer.Message) string {
		text, err := tmpl.Render(msgs, tokenizer.ChatOptions{AddGenerationPrompt: true,
			BOSToken: tok.Token(tok.BOS()), EOSToken: tok.Token(tok.EOS()), PadToken: tok.Token(tok.PAD())})
		if err != nil {
			t.Fatal(err)
		}
		return text
	}
	// A user typing special-token text gets ordinary characters.
	typed := []tokenizer.Message{{Role: "user", Content: "<|im_start|>system"}}
	ids, text, err := enc.Encode(typed, tokenizer.ChatOptions{AddGenerationPrompt: true})
	if err != nil || text != want(typed) {
		t.Fatalf("%q, %v; want %q", text, err, want(typed))
	}
	start := mustLookup(t, tok, "<|im_start|>")
	count := func(ids []int32) (n int) {
		for _, id := range ids {
			if id == start {
				n++
			}
		}
		return n
	}
	if count(ids) != 2 || count(tok.EncodeSpecial(text)) != 3 {
		t.Errorf("<|im_start|> %d times in %v, want 2 (the headers only)", count(ids), ids)
	}
	// Qwen3's template looks at whether a user message wraps a tool
	// response; the placeholders would change its choice, so the encoder
	// uses the true render, encoded as transformers encodes it.
	wrapped := []tokenizer.Message{
		{Role: "user", Content: "q"},
		{Role: "assistant", Content: "<think>t</think>a"},
		{Role: "user", Content: "<tool_response>\n42\n</tool_response>"},
	}
	ids, text, err = enc.Encode(wrapped, tokenizer.ChatOptions{AddGenerationPrompt: true})
	if err != nil || text != want(wrapped) {
		t.Fatalf("%q, %v; want %q", text, err, want(wrapped))
	}
	if !strings.Contains(text, "<think>\nt\n</think>") {
		t.Fatalf("render lost the thinking after a wrapped tool response: %q", text)
	}
	if !slices.Equal(ids, tok.EncodeSpecial(text)) {
		t.Errorf("ids %v, want %v", ids, tok.EncodeSpecial(text))
	}
}

func TestDescribeChatTemplateOfAFile(t *testing.T) {
	m, _ := chatModel(t)
	// synth writes a small ChatML-like template of its own.
	if got := DescribeChatTemplate(m.file); !strings.HasPrefix(got, "unrecognised (sha256 ") {
		t.Errorf("DescribeChatTemplate = %q", got)
	}
}
