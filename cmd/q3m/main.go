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
	app := newApp()
	err := app.RunContext(ctx, interspersed(app, os.Args))
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
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(ec.ExitCode())
	}
	fmt.Fprintln(os.Stderr, "q3m:", err)
	os.Exit(1)
}

func newApp() *cli.App {
	app := &cli.App{
		Name:    "q3m",
		Usage:   "run Qwen3-MoE models on the CPU",
		Version: versionString(),
		Commands: []*cli.Command{
			convertCommand(),
			infoCommand(),
			logitsCommand(),
			classifyCommand(),
			generateCommand(),
			demoCommand(),
			runCommand(), tokenizeCommand(),
			benchCommand(),
			traceCommand(),
			serveCommand(),
			completionCommand(),
		},
		HideHelpCommand: true,
		ExitErrHandler:  func(*cli.Context, error) {}, // main prints errors and exits
		OnUsageError:    appUsageError,
	}
	app.Action = func(c *cli.Context) error {
		args := c.Args()
		switch {
		case args.First() == "help" && args.Len() > 1:
			if app.Command(args.Get(1)) == nil {
				return unknownCommand(app, args.Get(1))
			}
			return cli.ShowCommandHelp(c, args.Get(1))
		case args.Present() && args.First() != "help":
			return unknownCommand(app, args.First())
		}
		return cli.ShowAppHelp(c)
	}
	setChecks(app.Commands)
	return app
}

// setChecks makes every command and subcommand check its flags first.
func setChecks(cmds []*cli.Command) {
	for _, cmd := range cmds {
		cmd.Before = checkFlags
		cmd.OnUsageError = flagUsageError
		cmd.HideHelpCommand = true
		setChecks(cmd.Subcommands)
	}
}
