package main

import (
	"fmt"
	goruntime "runtime"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// interspersed moves a command's flags before its other arguments, so that
// `q3m run MODEL -n 8 "hello"` means what it says: urfave/cli stops at the
// first argument that is not a flag. A flag that takes a value keeps the
// next argument with it; everything after "--" stays an argument. The
// flags of a subcommand (q3m trace gen) are its own.
func interspersed(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	cmd := app.Command(args[1])
	if cmd == nil {
		return args
	}
	start := 2 // the first argument after the command, or its subcommand
	for start < len(args) && cmd.Command(args[start]) != nil {
		cmd = cmd.Command(args[start])
		start++
	}
	takesValue := map[string]bool{}
	for _, f := range cmd.Flags {
		df, ok := f.(cli.DocGenerationFlag)
		for _, n := range f.Names() {
			takesValue[n] = ok && df.TakesValue()
		}
	}
	flags := []string{}
	var rest []string
	dashes := false
	for i := start; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			rest = append(rest, args[i+1:]...)
			dashes = true
			i = len(args)
		case len(a) > 1 && a[0] == '-':
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && takesValue[name] && i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
		default:
			rest = append(rest, a)
		}
	}
	out := append(slices.Clone(args[:start]), flags...)
	if dashes || len(rest) > 0 && strings.HasPrefix(rest[0], "-") {
		out = append(out, "--")
	}
	return append(out, rest...)
}

// unknownCommand is the error for a command q3m does not have.
func unknownCommand(app *cli.App, name string) error {
	var names []string
	for _, c := range app.Commands {
		if !c.Hidden {
			names = append(names, c.Names()...)
		}
	}
	msg := fmt.Sprintf("unknown command %q", name)
	if s := suggest(name, names); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	return cli.Exit("q3m: "+msg+" (q3m --help lists the commands)", 2)
}

// flagUsageError rewrites urfave's "flag provided but not defined: -x" to
// name the closest flag of the command.
func flagUsageError(c *cli.Context, err error, _ bool) error {
	const undefined = "flag provided but not defined: "
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, undefined); ok {
		typed := strings.TrimLeft(rest, "-")
		var names []string
		for _, f := range c.Command.Flags {
			names = append(names, f.Names()...)
		}
		msg = fmt.Sprintf("unknown flag %s", flagName(typed))
		if s := suggest(typed, names); s != "" {
			msg += fmt.Sprintf("; did you mean %s?", flagName(s))
		}
	}
	return cli.Exit(fmt.Sprintf("q3m %s: %s (q3m %s --help lists its flags)", c.Command.Name, msg, c.Command.Name), 2)
}

// appUsageError is flagUsageError for the flags before the command.
func appUsageError(c *cli.Context, err error, _ bool) error {
	const undefined = "flag provided but not defined: "
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, undefined); ok {
		typed := strings.TrimLeft(rest, "-")
		names := []string{"help", "h", "version", "v"}
		msg = fmt.Sprintf("unknown flag %s", flagName(typed))
		if s := suggest(typed, names); s != "" {
			msg += fmt.Sprintf("; did you mean %s?", flagName(s))
		} else {
			msg += "; the flags of a command go after it, as in q3m run -m FILE"
		}
	}
	return cli.Exit("q3m: "+msg+" (q3m --help lists the commands)", 2)
}

// suggest returns the candidate closest to typed, if one is close enough
// to be what was meant: within an edit distance of a third of its length
// (at least 1, at most 3), or having typed as a prefix. A single letter
// gets no suggestion.
func suggest(typed string, candidates []string) string {
	if len(typed) < 2 {
		return "" // one letter is too little to guess from
	}
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if len(c) < 2 && len(typed) > 1 {
			continue // single letters are not suggested for words
		}
		d := editDistance(strings.ToLower(typed), c)
		if strings.HasPrefix(c, typed) && len(typed) >= 2 {
			d = min(d, 1)
		}
		if d < bestD {
			best, bestD = c, d
		}
	}
	if bestD <= min(3, max(1, len(typed)/3)) {
		return best
	}
	return ""
}

// editDistance is the Damerau-Levenshtein distance (adjacent transposition
// counts one) between a and b, over bytes.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// versionString is the release, the commit the binary was built from and
// the Go version, from the build information `go build` records.
func versionString() string {
	var settings []debug.BuildSetting
	if bi, ok := debug.ReadBuildInfo(); ok {
		settings = bi.Settings
	}
	return formatVersion(version, settings, goruntime.Version())
}

func formatVersion(release string, settings []debug.BuildSetting, goVersion string) string {
	get := func(key string) string {
		for _, s := range settings {
			if s.Key == key {
				return s.Value
			}
		}
		return ""
	}
	commit := "commit unknown: built without VCS information"
	if rev := get("vcs.revision"); rev != "" {
		commit = "commit " + rev
		if t := get("vcs.time"); t != "" {
			commit += " of " + t
		}
		if get("vcs.modified") == "true" {
			commit += ", with local changes"
		}
	}
	return fmt.Sprintf("%s (%s; %s)", release, commit, goVersion)
}
