package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/q3m/q3m/server"
	"github.com/q3m/q3m/tokenizer"
)

// `q3m serve` answers OpenAI's HTTP API (package server) until SIGTERM or
// Ctrl-C, which cancel the streams in progress and exit 0.

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:      "serve",
		Usage:     "serve a model over an OpenAI-compatible HTTP API (/v1/chat/completions, /v1/completions, ...)",
		ArgsUsage: "[MODEL]",
		Flags: append([]cli.Flag{
			modelFlag(),
			&cli.StringFlag{Name: "host", Value: "127.0.0.1", Usage: "address to listen on"},
			&cli.IntFlag{Name: "port", Value: 8080, Usage: "TCP port (0: any free port, printed at start)"},
			&cli.IntFlag{Name: "parallel", Value: 1, Usage: "requests generated at once, each in its own slot and KV cache, decoded together in one batched forward pass per token"},
			&cli.IntFlag{Name: "queue", Usage: "requests waiting for a slot before 503s", DefaultText: "4 × parallel"},
			ctxFlag(),
			threadsFlag(),
			&cli.StringFlag{Name: "api-key", EnvVars: []string{"Q3M_API_KEY"}, Usage: "require Authorization: Bearer KEY on every endpoint but /health"},
			&cli.StringFlag{Name: "alias", Usage: "model id in /v1/models and responses", DefaultText: "the file name without .gguf"},
			&cli.StringFlag{Name: "chat-template", Aliases: []string{"chat-template-file"}, Usage: "file of a chat template (Jinja) to use instead of the model's"},
			&cli.IntFlag{Name: "max-tokens", Aliases: []string{"n"}, EnvVars: []string{"Q3M_MAX_TOKENS"}, Usage: "tokens to generate at most, thinking included, when a request sets none", DefaultText: "0, until the end of the answer or a full context"},
			&cli.DurationFlag{Name: "timeout", Value: 10 * time.Minute, Usage: "longest time one request may generate"},
			&cli.StringFlag{Name: "max-body", Value: "8MiB", Usage: "largest request body accepted (413 beyond)"},
			&cli.Float64Flag{Name: "temp", Usage: "temperature when a request sets none, 0 for greedy", DefaultText: "0.6 thinking, 0.7 not"},
			&cli.IntFlag{Name: "top-k", Usage: "top-k when a request sets none, 0 for all", DefaultText: "20"},
			&cli.Float64Flag{Name: "top-p", Usage: "nucleus sampling threshold when a request sets none", DefaultText: "0.95 thinking, 0.8 not"},
			&cli.Float64Flag{Name: "min-p", Usage: "min-p when a request sets none", DefaultText: "0"},
			&cli.Float64Flag{Name: "presence-penalty", Usage: "presence penalty when a request sets none", DefaultText: "0"},
			&cli.Float64Flag{Name: "frequency-penalty", Usage: "frequency penalty when a request sets none", DefaultText: "0"},
			&cli.Float64Flag{Name: "repeat-penalty", Value: 1, Usage: "repetition penalty when a request sets none, 1 for off"},
		}, memFlags()...),
		Action: serveAction,
	}
}

// serveOptions reads the flags into the engine's and the server's options.
func serveOptions(c *cli.Context) (server.EngineOptions, server.Options, error) {
	eo := server.EngineOptions{Parallel: c.Int("parallel"), Queue: c.Int("queue"), ContextLen: c.Int("ctx"), Threads: c.Int("threads")}
	if eo.Parallel < 1 {
		return eo, server.Options{}, fmt.Errorf("--parallel must be at least 1, got %d", eo.Parallel)
	}
	if eo.ContextLen < 0 || eo.Threads < 0 || eo.Queue < 0 || c.Int("max-tokens") < 0 {
		return eo, server.Options{}, errors.New("--ctx, --threads, --queue and --max-tokens must not be negative")
	}
	kv, err := kvType(c)
	if err != nil {
		return eo, server.Options{}, err
	}
	eo.KVType = kv
	if !c.IsSet("queue") {
		eo.Queue = 4 * eo.Parallel
	} else if eo.Queue == 0 {
		eo.Queue = -1 // none wait
	}
	if p := c.Int("port"); p < 0 || p > 65535 {
		return eo, server.Options{}, fmt.Errorf("--port %d outside [0, 65535]", p)
	}
	body, err := parseSize(c.String("max-body"))
	if err != nil || body <= 0 {
		return eo, server.Options{}, fmt.Errorf("--max-body: %q is not a positive size", c.String("max-body"))
	}
	if c.Duration("timeout") <= 0 {
		return eo, server.Options{}, fmt.Errorf("--timeout must be positive, got %s", c.Duration("timeout"))
	}
	o := server.Options{
		ModelName: c.String("alias"), APIKey: c.String("api-key"), MaxBodyBytes: body,
		Timeout: c.Duration("timeout"), MaxTokens: c.Int("max-tokens"),
	}
	if o.ModelName == "" {
		o.ModelName = strings.TrimSuffix(filepath.Base(c.String("model")), ".gguf")
	}
	f64 := func(name string) *float64 {
		if !c.IsSet(name) {
			return nil
		}
		v := c.Float64(name)
		return &v
	}
	o.Sampling = server.SamplingDefaults{
		Temperature: f64("temp"), TopP: f64("top-p"), MinP: f64("min-p"),
		PresencePenalty: f64("presence-penalty"), FrequencyPenalty: f64("frequency-penalty"), RepetitionPenalty: f64("repeat-penalty"),
	}
	if c.IsSet("top-k") {
		k := c.Int("top-k")
		o.Sampling.TopK = &k
	}
	if path := c.String("chat-template"); path != "" {
		src, err := os.ReadFile(path)
		if err != nil {
			return eo, o, fmt.Errorf("--chat-template: %w", err)
		}
		tmpl, err := tokenizer.ParseTemplate(string(src))
		if err != nil {
			fmt.Fprintf(os.Stderr, "q3m: warning: %s: %v\n", path, err)
		}
		o.Template = tmpl
	}
	return eo, o, nil
}

func serveAction(c *cli.Context) error {
	model, args, err := modelArgs(c)
	if err != nil {
		return err
	}
	if len(args) > 0 {
		return fmt.Errorf("serve: unexpected argument %q", args[0])
	}
	eo, so, err := serveOptions(c)
	if err != nil {
		return err
	}
	m, err := loadModel(c, model)
	if err != nil {
		return err
	}
	defer m.Close()
	if so.Template == nil {
		if _, err := m.ChatTemplate(); errors.Is(err, tokenizer.ErrUnsupportedTemplate) {
			fmt.Fprintf(os.Stderr, "q3m: warning: %v\n", err)
		}
	}
	eng, err := server.NewEngine(m, eo)
	if err != nil {
		return err
	}
	defer eng.Close()
	srv, err := server.New(eng, so)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(c.String("host"), strconv.Itoa(c.Int("port"))))
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	// Request contexts derive from base: cancelling it ends every stream.
	base, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	hs := &http.Server{Handler: srv, BaseContext: func(net.Listener) context.Context { return base },
		ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	ctx, stop := signal.NotifyContext(c.Context, syscall.SIGTERM, os.Interrupt)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	fmt.Fprintf(os.Stderr, "q3m serve: %s on http://%s (%d slots of %d tokens); Ctrl-C or SIGTERM stops\n",
		so.ModelName, ln.Addr(), max(eo.Parallel, 1), eng.ContextLen())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	fmt.Fprintln(os.Stderr, "q3m serve: shutting down")
	cancel(errors.New("the server is shutting down"))
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	return nil
}
