package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/q3m/q3m/grammar"
	"github.com/q3m/q3m/runtime"
	"github.com/q3m/q3m/tokenizer"
)

// Options configures a Server.
type Options struct {
	// ModelName is the id /v1/models lists and responses carry.
	ModelName string
	// APIKey, when set, must be sent as "Authorization: Bearer KEY" on
	// every path but /health (401 otherwise, before any other answer).
	APIKey string
	// MaxBodyBytes bounds a request body (413 beyond); 0 means 8 MiB.
	MaxBodyBytes int64
	// Timeout bounds one request's generation; 0 means 10 minutes.
	Timeout time.Duration
	// MaxTokens caps the tokens of an answer whose request sets none; 0
	// means until the context is full.
	MaxTokens int
	// Sampling overrides Qwen3's recommended sampling as the default of
	// requests that do not set a field themselves.
	Sampling SamplingDefaults
	// Template, when set, replaces the model file's chat template.
	Template *tokenizer.Template
}

// SamplingDefaults are server-wide sampling settings; nil fields keep
// Qwen3's recommended value for the request's thinking mode
// (runtime.DefaultSampling).
type SamplingDefaults struct {
	Temperature, TopP, MinP, PresencePenalty, FrequencyPenalty, RepetitionPenalty *float64
	TopK                                                                          *int
}

// Server answers the OpenAI-compatible HTTP API with an Engine:
// /v1/chat/completions, /v1/completions, /v1/models, /health, /tokenize,
// /detokenize and /metrics. It is an http.Handler.
type Server struct {
	eng     *Engine
	enc     *runtime.PromptEncoder
	tok     *tokenizer.Tokenizer
	opt     Options
	stops   []int32 // end-of-turn ids
	created int64
	mux     *http.ServeMux
	keyHash [32]byte
	metrics metrics

	coder bool // the template is Qwen3-Coder's: XML tool calls

	vocabOnce sync.Once // builds gvocab at the first constrained request
	gvocab    *grammar.Vocab
	gvocabErr error
}

// New returns a Server generating with eng.
func New(eng *Engine, o Options) (*Server, error) {
	m := eng.Model()
	tok, err := m.Tokenizer()
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	tmpl := o.Template
	if tmpl == nil {
		if tmpl, err = m.ChatTemplate(); err != nil && !errors.Is(err, tokenizer.ErrUnsupportedTemplate) {
			return nil, fmt.Errorf("server: %w", err)
		}
	}
	if o.ModelName == "" {
		o.ModelName = "q3m"
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 8 << 20
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Minute
	}
	if o.MaxTokens < 0 {
		return nil, fmt.Errorf("server: negative MaxTokens %d", o.MaxTokens)
	}
	s := &Server{eng: eng, enc: runtime.NewPromptEncoder(tok, tmpl), tok: tok, opt: o,
		stops: endTokens(tok), created: time.Now().Unix(), mux: http.NewServeMux()}
	if len(s.stops) == 0 {
		return nil, errors.New("server: the vocabulary has no end-of-turn token")
	}
	s.coder = tmpl != nil && tmpl.Name() == tokenizer.TemplateQwen3Coder
	s.keyHash = sha256.Sum256([]byte(o.APIKey))
	s.metrics.requests = map[string]uint64{}
	s.route("POST /v1/chat/completions", s.handleChat)
	s.route("POST /v1/completions", s.handleCompletions)
	s.route("GET /v1/models", s.handleModels)
	s.route("POST /tokenize", s.handleTokenize)
	s.route("POST /detokenize", s.handleDetokenize)
	s.route("GET /metrics", s.handleMetrics)
	s.mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{Status: http.StatusNotFound, Type: "invalid_request_error",
			Message: fmt.Sprintf("no endpoint %s %s", r.Method, r.URL.Path), Code: strPtr("not_found")})
	})
	return s, nil
}

// Engine returns the server's engine.
func (s *Server) Engine() *Engine { return s.eng }

// ServeHTTP answers one request. Without the API key every path but
// /health is refused (401) before it is routed, so that a wrong method or
// an unknown path says nothing to a client without the key.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/health" && !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", "Bearer")
		writeError(w, &apiError{Status: http.StatusUnauthorized, Type: "invalid_request_error",
			Message: "missing or incorrect API key: send Authorization: Bearer KEY", Code: strPtr("invalid_api_key")})
		return
	}
	s.mux.ServeHTTP(w, r)
}

// route registers an endpoint that reads its body whole (bounded by
// MaxBodyBytes); ServeHTTP has checked the API key.
func (s *Server) route(pattern string, h func(http.ResponseWriter, *http.Request, []byte)) {
	method, name, _ := strings.Cut(pattern, " ")
	s.mux.HandleFunc(name, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", method)
		writeError(w, &apiError{Status: http.StatusMethodNotAllowed, Type: "invalid_request_error",
			Message: fmt.Sprintf("%s takes %s, not %s", name, method, r.Method), Code: strPtr("method_not_allowed")})
	})
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		s.metrics.request(name)
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opt.MaxBodyBytes))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				writeError(w, &apiError{Status: http.StatusRequestEntityTooLarge, Type: "invalid_request_error",
					Message: fmt.Sprintf("request body larger than %d bytes", s.opt.MaxBodyBytes), Code: strPtr("request_too_large")})
				return
			}
			writeError(w, invalid("", "reading the request body: %v", err))
			return
		}
		h(w, r, body)
	})
}

// authorized reports whether r carries the API key (always, without one).
// Hashes are compared so that the time taken says nothing of the key.
func (s *Server) authorized(r *http.Request) bool {
	if s.opt.APIKey == "" {
		return true
	}
	auth := r.Header.Get("Authorization")
	key, ok := strings.CutPrefix(auth, "Bearer ")
	got := sha256.Sum256([]byte(strings.TrimSpace(key)))
	return subtle.ConstantTimeCompare(got[:], s.keyHash[:]) == 1 && ok
}

// generate runs req on the engine under the request's timeout, mapping
// engine errors to API errors.
func (s *Server) generate(ctx context.Context, req Request, yield func(int32) bool) (Result, *apiError) {
	ctx, cancel := context.WithTimeout(ctx, s.opt.Timeout)
	defer cancel()
	res, err := s.eng.Generate(ctx, req, yield)
	if err == nil {
		return res, nil
	}
	switch {
	case errors.Is(err, ErrQueueFull):
		return res, &apiError{Status: http.StatusServiceUnavailable, Type: "server_error",
			Message: "the server is busy: all slots are generating and the queue is full; retry later", Code: strPtr("queue_full")}
	case errors.Is(err, ErrPromptTooLong):
		return res, invalid("messages", "%v", err).withCode("context_length_exceeded")
	case errors.Is(err, context.DeadlineExceeded):
		return res, &apiError{Status: http.StatusGatewayTimeout, Type: "timeout_error",
			Message: fmt.Sprintf("the request took longer than %s", s.opt.Timeout), Code: strPtr("timeout")}
	case errors.Is(err, context.Canceled):
		msg := "request cancelled"
		if c := context.Cause(ctx); c != nil && !errors.Is(c, context.Canceled) {
			msg = c.Error() // the server's reason, such as a shutdown
		}
		return res, &apiError{Status: 499, Type: "server_error", Message: msg, Code: strPtr("cancelled")}
	}
	return res, &apiError{Status: http.StatusInternalServerError, Type: "server_error", Message: err.Error()}
}

// endTokens returns the ids that end an answer: EOS, <|im_end|> and
// <|endoftext|>, those present.
func endTokens(t *tokenizer.Tokenizer) []int32 {
	var ids []int32
	add := func(id int32) {
		if id >= 0 && !containsID(ids, id) {
			ids = append(ids, id)
		}
	}
	add(t.EOS())
	for _, s := range []string{"<|im_end|>", "<|endoftext|>"} {
		if id, ok := t.Lookup(s); ok {
			add(id)
		}
	}
	return ids
}

// metrics counts requests for /metrics; token totals come from the engine.
type metrics struct {
	mu       sync.Mutex
	requests map[string]uint64 // by endpoint
}

func (m *metrics) request(endpoint string) {
	m.mu.Lock()
	m.requests[endpoint]++
	m.mu.Unlock()
}
