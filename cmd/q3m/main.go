// Command q3m converts Qwen3-MoE checkpoints to GGUF and runs them on the CPU.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"
)

// version is the q3m release this binary reports.
const version = "0.1.0"

func main() {
	ctx, in := watchSignals()
	err := newApp().RunContext(ctx, os.Args)
	if err == nil {
		return
	}
	if s := in.received(); s != nil {
		if !errors.Is(err, context.Canceled) {
			fmt.Fprintln(os.Stderr, "q3m:", err)
		}
		fmt.Fprintf(os.Stderr, "q3m: interrupted (%s)\n", signalName(s))
		os.Exit(exitCode(s))
	}
	fmt.Fprintln(os.Stderr, "q3m:", err)
	os.Exit(1)
}

func newApp() *cli.App {
	app := &cli.App{
		Name:    "q3m",
		Usage:   "run Qwen3-MoE models on the CPU",
		Version: version,
		Commands: []*cli.Command{
			convertCommand(),
			infoCommand(),
			logitsCommand(),
			classifyCommand(),
			generateCommand(),
			demoCommand(),
			runCommand(), tokenizeCommand(),
			benchCommand(),
			serveCommand(),
		},
		HideHelpCommand: true,
	}
	for _, cmd := range app.Commands {
		cmd.Before = checkFlags
	}
	return app
}
