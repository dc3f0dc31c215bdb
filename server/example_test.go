package server_test

import (
	"context"
	"fmt"
	"log"
	"net/http"

	"github.com/q3m/q3m/runtime"
	"github.com/q3m/q3m/server"
)

// Serve a model over OpenAI's API from Go.
func ExampleNew() {
	m, err := runtime.Load("qwen3-30b-a3b-q8_0.gguf")
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	eng, err := server.NewEngine(m, server.EngineOptions{Parallel: 2, ContextLen: 8192})
	if err != nil {
		log.Fatal(err)
	}
	defer eng.Close()
	srv, err := server.New(eng, server.Options{ModelName: "qwen3-30b-a3b"})
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", srv))
}

// Generate from token ids on the engine directly, without HTTP.
func ExampleEngine_Generate() {
	m, err := runtime.Load("qwen3-30b-a3b-q8_0.gguf")
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	eng, err := server.NewEngine(m, server.EngineOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer eng.Close()
	tok, err := m.Tokenizer()
	if err != nil {
		log.Fatal(err)
	}
	req := server.Request{Prompt: tok.Encode("The capital of France is"), MaxTokens: 8,
		Sampling: runtime.SamplerOptions{}} // greedy
	dec := tok.NewDecoder()
	res, err := eng.Generate(context.Background(), req, func(id int32) bool {
		fmt.Print(dec.Add(id))
		return true
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("\n", res.Finish, res.GenTokens, "tokens")
}
