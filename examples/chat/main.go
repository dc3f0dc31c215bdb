// Command chat is a minimal chat with a q3m model file, written against the
// runtime package's library API: it reads messages line by line from stdin
// and streams the answers to stdout, thinking in brackets.
//
//	go run ./examples/chat -model qwen3-30b-a3b-Q4_0.gguf
//
// `q3m run` is the full-featured version (line editing, commands, Ctrl-C).
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"

	"github.com/q3m/q3m/runtime"
)

func main() {
	model := flag.String("model", "", "GGUF model file")
	think := flag.Bool("think", true, "let the model think before answering")
	flag.Parse()
	if *model == "" {
		log.Fatal("chat: -model is required")
	}
	m, err := runtime.Load(*model)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	chat, err := m.NewChat(runtime.ChatOptions{Thinking: *think, System: "You are a helpful assistant."})
	if err != nil {
		log.Fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	in := bufio.NewScanner(os.Stdin)
	for fmt.Print("> "); in.Scan(); fmt.Print("> ") {
		thinking := false
		for chunk, err := range chat.Stream(ctx, in.Text()) {
			if err != nil {
				log.Fatal(err) // a full context, or Ctrl-C
			}
			if chunk.Thinking != thinking {
				thinking = chunk.Thinking
				if thinking {
					fmt.Print("[")
				} else {
					fmt.Print("]\n")
				}
			}
			fmt.Print(chunk.Text)
		}
		if thinking {
			fmt.Print("]")
		}
		st := chat.Stats()
		fmt.Printf("\n(%.1f tokens/s)\n", st.DecodeRate())
	}
}
