// Command q3m converts Qwen3-MoE checkpoints to GGUF and runs them on the CPU.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"

	"github.com/urfave/cli/v2"
)

// version is the q3m release this binary reports.
const version = "0.1.0"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := newApp().RunContext(ctx, os.Args); err != nil {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintln(os.Stderr, "q3m: interrupted")
			os.Exit(130)
		}
		fmt.Fprintln(os.Stderr, "q3m:", err)
		os.Exit(1)
	}
}

func newApp() *cli.App {
	return &cli.App{
		Name:    "q3m",
		Usage:   "run Qwen3-MoE models on the CPU",
		Version: version,
		Commands: []*cli.Command{
			convertCommand(),
			infoCommand(),
			logitsCommand(),
			generateCommand(),
			demoCommand(),
			runCommand(), tokenizeCommand(),
			benchCommand(),
			serveCommand(),
		},
		HideHelpCommand: true,
	}
}
