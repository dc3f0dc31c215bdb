package main

import (
	"errors"
	"fmt"
	"os"
	goruntime "runtime"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/q3m/q3m/routing"
	"github.com/q3m/q3m/runtime"
)

// The flags below mean the same in every command that has them, with the
// same names, short forms and environment variables as llama.cpp's and
// ollama's where those agree. Commands build their flag lists from these
// functions; none defines its own copy.

// envModel names the model when neither --model nor a MODEL argument does.
const envModel = "Q3M_MODEL"

// modelFlag is -m/--model. MODEL may also be the first argument, or come
// from $Q3M_MODEL (read by modelArgs, not by urfave, so that IsSet tells
// the command line apart from the environment).
func modelFlag() cli.Flag {
	return &cli.StringFlag{Name: "model", Aliases: []string{"m"}, Usage: "GGUF model `FILE` (or the first argument) [$" + envModel + "]"}
}

// threadsFlag is -t/--threads; its default is GOMAXPROCS, the CPUs Go may
// use (the container's or taskset's limit, not all the machine's).
func threadsFlag() cli.Flag {
	n := goruntime.GOMAXPROCS(0)
	return &cli.IntFlag{Name: "threads", Aliases: []string{"t"}, Value: n, DefaultText: fmt.Sprintf("%d, GOMAXPROCS", n), EnvVars: []string{"Q3M_THREADS"},
		Usage: "worker threads"}
}

// ctxFlag is -c/--ctx.
func ctxFlag() cli.Flag {
	return &cli.IntFlag{Name: "ctx", Aliases: []string{"c"}, EnvVars: []string{"Q3M_CTX"},
		Usage: "context length in tokens", DefaultText: "the model's, at most 4096"}
}

// maxTokensFlag is -n/--max-tokens; 0 means until the end of the answer
// or a full context.
func maxTokensFlag(def int) cli.Flag {
	text := ""
	if def == 0 {
		text = "0, until the end of the answer or a full context"
	}
	return &cli.IntFlag{Name: "max-tokens", Aliases: []string{"n"}, Value: def, DefaultText: text, EnvVars: []string{"Q3M_MAX_TOKENS"},
		Usage: "tokens to generate at most, thinking included"}
}

// seedFlag is -s/--seed.
func seedFlag() cli.Flag {
	return &cli.Uint64Flag{Name: "seed", Aliases: []string{"s"}, EnvVars: []string{"Q3M_SEED"}, Usage: "sampling seed", DefaultText: "random"}
}

// promptFlag is -p/--prompt.
func promptFlag(usage string) cli.Flag {
	return &cli.StringFlag{Name: "prompt", Aliases: []string{"p"}, Usage: usage}
}

// fileFlag is -f/--file: the prompt read from a file.
func fileFlag() cli.Flag {
	return &cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "read the prompt from `FILE` (-: stdin)"}
}

// memFlags set the expert pager of the commands that load a model.
func memFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "mem-budget", EnvVars: []string{"Q3M_MEM_BUDGET"}, DefaultText: "planned from the memory available",
			Usage: "RAM for routed experts' weights, e.g. 8GiB or 512MiB (0 or none: no cap); experts the --expert-policy picks are dropped beyond it"},
		&cli.StringFlag{Name: "mem-limit", EnvVars: []string{"Q3M_MEM_LIMIT"}, DefaultText: "detected: the cgroup's limit or MemAvailable",
			Usage: "memory the process may use, which the plan divides between weights, KV cache and experts, e.g. 16GiB"},
		&cli.StringFlag{Name: "expert-policy", DefaultText: routing.DefaultPolicy,
			Usage: "rule that picks the experts to drop beyond the budget: " + strings.Join(routing.Policies, ", ")},
		&cli.BoolFlag{Name: "no-prefetch", DisableDefaultText: true, Usage: "do not read ahead the experts predicted for the next layer"},
		&cli.StringFlag{Name: "expert-io", Value: "auto", EnvVars: []string{"Q3M_EXPERT_IO"},
			Usage: "how routed experts are read: mmap (page faults on the file's mapping), pread (into a pool of slots the size of the budget, dropping the page cache it fills), direct (pread with O_DIRECT); auto: mmap when every expert fits, direct when the expert cache is capped (pread where O_DIRECT is refused)"},
		&cli.StringFlag{Name: "kv-type", Value: "f16", EnvVars: []string{"Q3M_KV_TYPE"}, Usage: "KV cache element type: f16, q8_0 or f32"},
	}
}

// traceExpertsFlag is --trace-experts: a file of the routing decisions.
func traceExpertsFlag() cli.Flag {
	return &cli.StringFlag{Name: "trace-experts", Usage: "record every routing decision to `FILE` as JSON lines (replay with bench --route-trace, simulate with q3m trace sim)"}
}

// chatTemplateFileFlag is --chat-template-file, llama.cpp's name.
func chatTemplateFileFlag() cli.Flag {
	return &cli.StringFlag{Name: "chat-template-file", Usage: "render prompts with the chat template (Jinja) in `FILE` instead of the model's"}
}

// boolFlag is a switch whose help shows no "(default: false)".
func boolFlag(name, usage string) cli.Flag {
	return &cli.BoolFlag{Name: name, Usage: usage, DisableDefaultText: true}
}

// modelArgs returns the model file and the arguments after it. The model
// is --model when given; otherwise the first argument; otherwise
// $Q3M_MODEL. With $Q3M_MODEL set, a first argument that is not an
// existing file is taken as an argument, not as the model, so that
// `Q3M_MODEL=m.gguf q3m run "hello"` works.
func modelArgs(c *cli.Context) (string, []string, error) {
	args := c.Args().Slice()
	if c.IsSet("model") {
		return c.String("model"), args, nil
	}
	env := os.Getenv(envModel)
	if len(args) > 0 {
		if env == "" || isFile(args[0]) || strings.HasSuffix(strings.ToLower(args[0]), ".gguf") {
			return args[0], args[1:], nil
		}
	}
	if env != "" {
		return env, args, nil
	}
	return "", nil, fmt.Errorf("%s: no model: give it as the first argument, with -m FILE or in $%s", c.Command.Name, envModel)
}

func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}

// promptText returns the prompt of -p, of -f (a file, or - for stdin) or
// of the arguments, joined by spaces; ok is false when none is given.
// Giving more than one of them is an error.
func promptText(c *cli.Context, args []string) (text string, ok bool, err error) {
	given := 0
	if c.IsSet("prompt") {
		given++
		text = c.String("prompt")
	}
	if c.IsSet("file") {
		given++
		if text, err = readPromptFile(c.String("file")); err != nil {
			return "", false, err
		}
	}
	if len(args) > 0 {
		given++
		text = strings.Join(args, " ")
	}
	if given > 1 {
		return "", false, errors.New("give the prompt once: as arguments, with -p or with -f")
	}
	return text, given == 1, nil
}

// maxMessageBytes bounds one message read from a file or stdin.
const maxMessageBytes = 16 << 20

// readPromptFile reads a prompt from path (- for stdin), refusing what is
// not a regular file or pipe and what exceeds maxMessageBytes.
func readPromptFile(path string) (string, error) {
	f := os.Stdin
	name := "stdin"
	if path != "-" {
		st, err := os.Stat(path)
		if err != nil {
			return "", fmt.Errorf("--file: %w", err)
		}
		if !st.Mode().IsRegular() {
			return "", fmt.Errorf("--file %s: not a regular file", path)
		}
		if f, err = os.Open(path); err != nil {
			return "", fmt.Errorf("--file: %w", err)
		}
		defer f.Close()
		name = path
	}
	return readMessage(f, name)
}

// kvType returns the --kv-type of c's command (f16 when it has none).
func kvType(c *cli.Context) (runtime.KVType, error) {
	s := c.String("kv-type")
	if s == "" {
		return runtime.KVF16, nil
	}
	t, err := runtime.ParseKVType(s)
	if err != nil {
		return 0, fmt.Errorf("--kv-type: %w", err)
	}
	return t, nil
}
