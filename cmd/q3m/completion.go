package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
)

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script for bash, zsh or fish",
		ArgsUsage: "bash|zsh|fish",
		Description: "bash:  source <(q3m completion bash)          (or save it in ~/.local/share/bash-completion/completions/q3m)\n" +
			"zsh:   source <(q3m completion zsh)           (or save it as _q3m in a directory of $fpath)\n" +
			"fish:  q3m completion fish > ~/.config/fish/completions/q3m.fish",
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return cli.Exit("usage: q3m completion bash|zsh|fish", 2)
			}
			cmds := c.App.Commands
			switch sh := c.Args().First(); sh {
			case "bash":
				return writeBashCompletion(os.Stdout, cmds)
			case "zsh":
				return writeZshCompletion(os.Stdout, cmds)
			case "fish":
				return writeFishCompletion(os.Stdout, cmds)
			default:
				msg := fmt.Sprintf("q3m completion: unknown shell %q, want bash, zsh or fish", sh)
				if s := suggest(sh, []string{"bash", "zsh", "fish"}); s != "" {
					msg += fmt.Sprintf("; did you mean %q?", s)
				}
				return cli.Exit(msg, 2)
			}
		},
	}
}

// flagWords returns a command's flags as typed: --model, -m, ….
func flagWords(cmd *cli.Command) []string {
	var w []string
	for _, f := range allFlags(cmd) {
		for _, n := range f.Names() {
			w = append(w, flagName(n))
		}
	}
	return append(w, "--help")
}

// allFlags returns a command's flags and those of its subcommands (q3m
// trace gen), each name once.
func allFlags(cmd *cli.Command) []cli.Flag {
	seen := map[string]bool{}
	var out []cli.Flag
	for _, f := range cmd.Flags {
		seen[f.Names()[0]] = true
		out = append(out, f)
	}
	for _, sub := range cmd.Subcommands {
		for _, f := range allFlags(sub) {
			if !seen[f.Names()[0]] {
				seen[f.Names()[0]] = true
				out = append(out, f)
			}
		}
	}
	return out
}

func commandNames(cmds []*cli.Command) []string {
	var names []string
	for _, c := range cmds {
		if !c.Hidden {
			names = append(names, c.Name)
		}
	}
	return names
}

// The scripts complete command names, then each command's flags after a
// dash, and file names otherwise.

func writeBashCompletion(w io.Writer, cmds []*cli.Command) error {
	var b strings.Builder
	b.WriteString("# bash completion for q3m: source <(q3m completion bash)\n")
	b.WriteString("_q3m() {\n\tlocal cur=${COMP_WORDS[COMP_CWORD]} opts=\n")
	fmt.Fprintf(&b, "\tif [[ $COMP_CWORD -eq 1 ]]; then\n\t\tCOMPREPLY=($(compgen -W %q -- \"$cur\"))\n\t\treturn\n\tfi\n",
		strings.Join(append(commandNames(cmds), "--help", "--version"), " "))
	b.WriteString("\tcase ${COMP_WORDS[1]} in\n")
	for _, c := range cmds {
		fmt.Fprintf(&b, "\t%s) opts=%q ;;\n", strings.Join(c.Names(), "|"), strings.Join(flagWords(c), " "))
	}
	b.WriteString("\tesac\n")
	for _, c := range cmds {
		if len(c.Subcommands) > 0 && !c.Hidden {
			fmt.Fprintf(&b, "\tif [[ $COMP_CWORD -eq 2 && ${COMP_WORDS[1]} == %s && $cur != -* ]]; then\n\t\tCOMPREPLY=($(compgen -W %q -- \"$cur\"))\n\t\treturn\n\tfi\n",
				c.Name, strings.Join(commandNames(c.Subcommands), " "))
		}
	}
	b.WriteString("\tif [[ ${COMP_WORDS[1]} == completion ]]; then\n\t\tCOMPREPLY=($(compgen -W \"bash zsh fish\" -- \"$cur\"))\n")
	b.WriteString("\telif [[ $cur == -* ]]; then\n\t\tCOMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n")
	b.WriteString("\telse\n\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n\tfi\n}\n")
	b.WriteString("complete -o filenames -F _q3m q3m\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func writeZshCompletion(w io.Writer, cmds []*cli.Command) error {
	var b strings.Builder
	b.WriteString("#compdef q3m\n# zsh completion for q3m: source <(q3m completion zsh)\n")
	b.WriteString("_q3m() {\n\tif (( CURRENT == 2 )); then\n\t\tlocal -a cmds\n\t\tcmds=(\n")
	for _, c := range cmds {
		if !c.Hidden {
			fmt.Fprintf(&b, "\t\t\t%s\n", zshQuote(c.Name+":"+c.Usage))
		}
	}
	b.WriteString("\t\t)\n\t\t_describe command cmds\n\t\treturn\n\tfi\n")
	b.WriteString("\tlocal -a opts\n\tcase $words[2] in\n")
	for _, c := range cmds {
		fmt.Fprintf(&b, "\t%s) opts=(", strings.Join(c.Names(), "|"))
		for i, f := range flagWords(c) {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(zshQuote(f))
		}
		b.WriteString(") ;;\n")
	}
	b.WriteString("\tesac\n")
	b.WriteString("\tif [[ $words[2] == completion ]]; then\n\t\tcompadd bash zsh fish\n")
	b.WriteString("\telif [[ $PREFIX == -* ]]; then\n\t\tcompadd -a opts\n\telse\n\t\t_files\n\tfi\n}\n")
	b.WriteString("if [[ $zsh_eval_context[-1] == loadautofunc ]]; then\n\t_q3m \"$@\"\nelse\n\tcompdef _q3m q3m\nfi\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func writeFishCompletion(w io.Writer, cmds []*cli.Command) error {
	var b strings.Builder
	b.WriteString("# fish completion for q3m: q3m completion fish > ~/.config/fish/completions/q3m.fish\n")
	b.WriteString("complete -c q3m -f\n")
	for _, c := range cmds {
		if !c.Hidden {
			fmt.Fprintf(&b, "complete -c q3m -n __fish_use_subcommand -a %s -d %s\n", fishQuote(c.Name), fishQuote(c.Usage))
		}
	}
	for _, c := range cmds {
		cond := fishQuote("__fish_seen_subcommand_from " + strings.Join(c.Names(), " "))
		fmt.Fprintf(&b, "complete -c q3m -n %s -F\n", cond)
		for _, sub := range c.Subcommands {
			fmt.Fprintf(&b, "complete -c q3m -n %s -a %s -d %s\n", cond, fishQuote(sub.Name), fishQuote(sub.Usage))
		}
		for _, f := range allFlags(c) {
			line := "complete -c q3m -n " + cond
			for _, n := range f.Names() {
				if len(n) == 1 {
					line += " -s " + n
				} else {
					line += " -l " + n
				}
			}
			if df, ok := f.(cli.DocGenerationFlag); ok {
				if df.TakesValue() {
					line += " -r"
				}
				line += " -d " + fishQuote(firstLine(df.GetUsage()))
			}
			b.WriteString(line + "\n")
		}
	}
	b.WriteString("complete -c q3m -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// zshQuote and fishQuote quote s as one single-quoted word.
func zshQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(s) + "'"
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.ReplaceAll(s, "`", "")
}
