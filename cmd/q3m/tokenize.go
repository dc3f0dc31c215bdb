package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/q3m/q3m/convert"
	"github.com/q3m/q3m/format"
	"github.com/q3m/q3m/runtime"
	"github.com/q3m/q3m/tokenizer"
)

func tokenizeCommand() *cli.Command {
	return &cli.Command{
		Name:      "tokenize",
		Usage:     "encode text, decode ids or render chats with a model file's tokenizer and chat template",
		ArgsUsage: "MODEL [TEXT]",
		Description: `With TEXT, prints its ids, comma-separated (special-token text such as <|im_end|> is
recognised). With --jsonl, reads JSON lines on stdin and writes one answer line each:
  {"text": S}                    → {"ids": [...]}   special-token text in S recognised
  {"ids": [...]}                 → {"text": S}
  {"messages": [...], "add_generation_prompt": B, "enable_thinking": B, "tools": [...]}
                                 → {"text": S, "ids": [...]}   rendered with the file's template,
                                   then encoded with special tokens recognised, as
                                   transformers' apply_chat_template(tokenize=True) does
Messages are OpenAI's: role, content (a string or null), reasoning_content, name,
tool_call_id and tool_calls ({"id", "type", "function": {"name", "arguments"}} or
{"name", "arguments"}; arguments a JSON string or object). --chat-template-file
renders with another template than the file's. A bad line gets
{"error": "..."} and the next lines go on; so does a line that is not UTF-8 or
longer than 16 MiB.`,
		Flags: []cli.Flag{
			modelFlag(),
			boolFlag("jsonl", "read JSON requests on stdin, one per line"),
			chatTemplateFileFlag(),
		},
		Action: func(c *cli.Context) error {
			model, args, err := modelArgs(c)
			if err != nil {
				return err
			}
			f, err := format.Open(model)
			if err != nil {
				return err
			}
			defer f.Close()
			tok, err := runtime.NewTokenizer(f)
			if err != nil {
				return err
			}
			if !c.Bool("jsonl") {
				if c.IsSet("chat-template-file") {
					return cli.Exit("q3m tokenize: --chat-template-file renders the messages of --jsonl", 2)
				}
				if len(args) != 1 {
					return errors.New("tokenize: give one TEXT argument (quoted), or --jsonl")
				}
				fmt.Println(joinIDs(tok.EncodeSpecial(args[0])))
				return nil
			}
			if len(args) > 0 {
				return cli.Exit(fmt.Sprintf("q3m tokenize: unexpected argument %q: --jsonl reads stdin", args[0]), 2)
			}
			if tmpl, err := chatTemplateFile(c); err != nil || tmpl != nil {
				if err != nil {
					return err
				}
				return tokenizeJSONL(c.Context, os.Stdin, os.Stdout, tok, tmpl, maxLineBytes)
			}
			tmpl, err := runtime.NewChatTemplate(f)
			if err != nil && !errors.Is(err, tokenizer.ErrUnsupportedTemplate) {
				return err
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "q3m: warning: %v\n", err)
			}
			return tokenizeJSONL(c.Context, os.Stdin, os.Stdout, tok, tmpl, maxLineBytes)
		},
	}
}

// tokenizeRequest is one line of `tokenize --jsonl`.
type tokenizeRequest struct {
	Text                *string             `json:"text"`
	IDs                 []int64             `json:"ids"`
	Messages            []tokenizer.Message `json:"messages"`
	AddGenerationPrompt bool                `json:"add_generation_prompt"`
	EnableThinking      *bool               `json:"enable_thinking"`
	Tools               []json.RawMessage   `json:"tools"`
}

// tokenizeAnswer is one output line: "ids", "text", both, or "error".
type tokenizeAnswer map[string]any

// tokenizeJSONL answers each request line of in with one line on out. A
// line longer than limit bytes is answered with an error naming the limit.
func tokenizeJSONL(ctx context.Context, in io.Reader, out io.Writer, tok *tokenizer.Tokenizer, tmpl *tokenizer.Template, limit int) error {
	lines := newLineReader(ctx, in, limit)
	w := bufio.NewWriter(out)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for n := 1; ; n++ {
		line, err := lines.next(ctx)
		var tooLong *lineTooLongError
		var ans tokenizeAnswer
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case errors.As(err, &tooLong):
			ans = tokenizeAnswer{"error": tooLong.Error()}
		case err != nil:
			return fmt.Errorf("tokenize: reading stdin: %w", err)
		default:
			if line = bytes.TrimSpace(line); len(line) == 0 {
				continue
			}
			if ans, err = tokenizeLine(line, tok, tmpl); err != nil {
				ans = tokenizeAnswer{"error": fmt.Sprintf("line %d: %v", n, err)}
			}
		}
		if err := enc.Encode(ans); err != nil {
			return fmt.Errorf("tokenize: %w", err)
		}
		if err := w.Flush(); err != nil {
			return fmt.Errorf("tokenize: %w", err)
		}
	}
}

func tokenizeLine(line []byte, tok *tokenizer.Tokenizer, tmpl *tokenizer.Template) (tokenizeAnswer, error) {
	var req tokenizeRequest
	if err := convert.CheckJSONText(line); err != nil {
		return nil, fmt.Errorf("bad JSON: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, fmt.Errorf("bad JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("bad JSON: more than one value on the line")
	}
	kinds := 0
	for _, set := range []bool{req.Text != nil, req.IDs != nil, req.Messages != nil} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return nil, errors.New(`want exactly one of "text", "ids" and "messages"`)
	}
	switch {
	case req.Text != nil:
		return tokenizeAnswer{"ids": nonNil(tok.EncodeSpecial(*req.Text))}, nil
	case req.IDs != nil:
		ids := make([]int32, len(req.IDs))
		for i, id := range req.IDs {
			if id < 0 || id >= int64(tok.VocabSize()) {
				return nil, fmt.Errorf("id %d outside the vocabulary [0, %d)", id, tok.VocabSize())
			}
			ids[i] = int32(id)
		}
		return tokenizeAnswer{"text": tok.Decode(ids)}, nil
	}
	opt := tokenizer.ChatOptions{AddGenerationPrompt: req.AddGenerationPrompt, EnableThinking: req.EnableThinking}
	for _, t := range req.Tools {
		opt.Tools = append(opt.Tools, t)
	}
	text, err := tmpl.Render(req.Messages, opt)
	if err != nil {
		return nil, err
	}
	return tokenizeAnswer{"text": text, "ids": nonNil(tok.EncodeSpecial(text))}, nil
}

// nonNil makes an empty id list encode as [] rather than be omitted.
func nonNil(ids []int32) []int32 {
	if ids == nil {
		return []int32{}
	}
	return ids
}
