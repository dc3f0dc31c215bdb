package runtime_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/q3m/q3m/convert"
	"github.com/q3m/q3m/quant"
	"github.com/q3m/q3m/runtime"
	"github.com/q3m/q3m/synth"
)

// tinyModelFile writes a small random checkpoint and converts it, standing in
// for a real converted model file.
func tinyModelFile(dir string) (string, error) {
	spec, err := synth.Preset("tiny", 1)
	if err != nil {
		return "", err
	}
	hf := filepath.Join(dir, "hf")
	if err := synth.Write(hf, spec); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "tiny-q8_0.gguf")
	return path, convert.Convert(context.Background(), hf, path, convert.Options{Type: quant.Q8_0})
}

// A chat keeps the conversation and its KV cache between messages. The
// weights here are random, so the answers are noise; the calls are those of
// a real model.
func ExampleModel_NewChat() {
	dir, err := os.MkdirTemp("", "q3m-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path, err := tinyModelFile(dir)
	if err != nil {
		log.Fatal(err)
	}

	m, err := runtime.Load(path)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	chat, err := m.NewChat(runtime.ChatOptions{System: "You are terse.", MaxTokens: 16})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	// With a callback: each piece of text as it is generated.
	reply, err := chat.Send(ctx, "Hello!", func(ch runtime.Chunk) error {
		_ = ch.Text // print it, dimmed when ch.Thinking
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = reply.Stats.DecodeRate() // tokens per second

	// As an iterator.
	for ch, err := range chat.Stream(ctx, "What is 2+2?") {
		if err != nil {
			log.Fatal(err)
		}
		_ = ch.Text
	}

	for _, msg := range chat.History() {
		fmt.Println(msg.Role)
	}
	// Output:
	// system
	// user
	// assistant
	// user
	// assistant
}
