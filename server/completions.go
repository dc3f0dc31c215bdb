package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// completionRequest is the body of POST /v1/completions.
type completionRequest struct {
	Model  string          `json:"model"`
	Prompt json.RawMessage `json:"prompt"`
	samplingFields
	Echo     bool    `json:"echo"`
	Suffix   *string `json:"suffix"`
	Logprobs *int    `json:"logprobs"`
	BestOf   *int    `json:"best_of"`
}

// prompt returns the request's prompt ids: a string (added tokens in it are
// recognised, as in a raw prompt written against the template), an array of
// ids, or a one-element array of either.
func (s *Server) completionPrompt(raw json.RawMessage) ([]int32, *apiError) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, invalid("prompt", "prompt is required")
	}
	var text string
	if json.Unmarshal(raw, &text) == nil {
		return s.tok.EncodeSpecial(text), nil
	}
	var ids []int64
	if json.Unmarshal(raw, &ids) == nil {
		return s.checkIDs("prompt", ids)
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, invalid("prompt", "prompt must be a string, an array of token ids, or an array of one of those")
	}
	if len(list) != 1 {
		return nil, invalid("prompt", "one prompt per request is supported, got %d", len(list))
	}
	if bytes.HasPrefix(bytes.TrimSpace(list[0]), []byte("[")) {
		if json.Unmarshal(list[0], &ids) != nil {
			return nil, invalid("prompt", "prompt[0] must be an array of token ids")
		}
		return s.checkIDs("prompt", ids)
	}
	return s.completionPrompt(list[0])
}

// checkIDs converts ids, which must lie in the vocabulary.
func (s *Server) checkIDs(param string, ids []int64) ([]int32, *apiError) {
	n := min(s.tok.VocabSize(), s.eng.Model().Config().Vocab)
	out := make([]int32, len(ids))
	for i, id := range ids {
		if id < 0 || id >= int64(n) {
			return nil, invalid(param, "%s[%d] = %d is outside the vocabulary [0, %d)", param, i, id, n)
		}
		out[i] = int32(id)
	}
	return out, nil
}

func (s *Server) handleCompletions(w http.ResponseWriter, r *http.Request, body []byte) {
	var req completionRequest
	if e := decodeJSON(body, &req); e != nil {
		writeError(w, e)
		return
	}
	if e := req.validate(); e != nil {
		writeError(w, e)
		return
	}
	switch {
	case req.Echo:
		writeError(w, invalid("echo", "echo is not supported"))
		return
	case req.Suffix != nil && *req.Suffix != "":
		writeError(w, invalid("suffix", "suffix is not supported"))
		return
	case req.Logprobs != nil && *req.Logprobs > 0:
		writeError(w, invalid("logprobs", "logprobs are not supported"))
		return
	case req.BestOf != nil && *req.BestOf != 1:
		writeError(w, invalid("best_of", "best_of must be 1"))
		return
	}
	ids, e := s.completionPrompt(req.Prompt)
	if e != nil {
		writeError(w, e)
		return
	}
	j := &job{id: "cmpl-" + randomID(), raw: true, stops: req.Stop, stream: req.Stream}
	j.includeUsage = req.Stream && req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	if e := s.prepare(j, ids, &req.samplingFields, false); e != nil {
		e.Param = strPtr("prompt")
		writeError(w, e)
		return
	}
	created := time.Now().Unix()
	resp := func(text string, finish *string) completionResponse {
		return completionResponse{ID: j.id, Object: "text_completion", Created: created, Model: s.opt.ModelName,
			SystemFingerprint: fingerprint, Choices: []completionChoice{{Text: text, FinishReason: finish}}}
	}
	if !j.stream {
		var text strings.Builder
		res, p, e := s.run(r, j, func(evs []event) bool {
			for _, ev := range evs {
				text.WriteString(ev.text)
			}
			return true
		})
		if e != nil {
			writeError(w, e)
			return
		}
		fr := finishReason(res, p)
		out := resp(text.String(), &fr)
		out.Usage = usageOf(res)
		writeJSON(w, http.StatusOK, out)
		return
	}
	sse := newSSE(w)
	res, p, e := s.run(r, j, func(evs []event) bool {
		for _, ev := range evs {
			sse.send(resp(ev.text, nil))
		}
		return sse.err == nil
	})
	if e != nil {
		if !sse.started {
			writeError(w, e)
			return
		}
		sse.send(map[string]*apiError{"error": e})
		return
	}
	fr := finishReason(res, p)
	sse.send(resp("", &fr))
	if j.includeUsage {
		u := resp("", nil)
		u.Choices, u.Usage = []completionChoice{}, usageOf(res)
		sse.send(u)
	}
	sse.done()
}

func (s *Server) handleModels(w http.ResponseWriter, r *http.Request, _ []byte) {
	type model struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"object": "list",
		"data":   []model{{ID: s.opt.ModelName, Object: "model", Created: s.created, OwnedBy: "q3m"}},
	})
}

// handleTokenize answers {"content": text, "parse_special": bool (default
// true), "with_pieces": bool} with {"tokens": [...]}, as llama-server does.
func (s *Server) handleTokenize(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		Content      *string `json:"content"`
		ParseSpecial *bool   `json:"parse_special"`
		WithPieces   bool    `json:"with_pieces"`
	}
	if e := decodeJSON(body, &req); e != nil {
		writeError(w, e)
		return
	}
	if req.Content == nil {
		writeError(w, invalid("content", "content is required"))
		return
	}
	var ids []int32
	if req.ParseSpecial == nil || *req.ParseSpecial {
		ids = s.tok.EncodeSpecial(*req.Content)
	} else {
		ids = s.tok.Encode(*req.Content)
	}
	if !req.WithPieces {
		if ids == nil {
			ids = []int32{}
		}
		writeJSON(w, http.StatusOK, map[string][]int32{"tokens": ids})
		return
	}
	type piece struct {
		ID    int32  `json:"id"`
		Piece string `json:"piece"`
	}
	pieces := make([]piece, len(ids))
	for i, id := range ids {
		pieces[i] = piece{id, s.tok.Decode([]int32{id})}
	}
	writeJSON(w, http.StatusOK, map[string][]piece{"tokens": pieces})
}

// handleDetokenize answers {"tokens": [...]} with {"content": text}.
func (s *Server) handleDetokenize(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		Tokens []int64 `json:"tokens"`
	}
	if e := decodeJSON(body, &req); e != nil {
		writeError(w, e)
		return
	}
	ids, e := s.checkIDs("tokens", req.Tokens)
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"content": s.tok.Decode(ids)})
}

// handleMetrics writes the counters in Prometheus' text format.
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request, _ []byte) {
	var b strings.Builder
	metric := func(name, typ, help string, v any) {
		fmt.Fprintf(&b, "# HELP q3m_%s %s\n# TYPE q3m_%s %s\nq3m_%s %v\n", name, help, name, typ, name, v)
	}
	s.metrics.mu.Lock()
	endpoints := make([]string, 0, len(s.metrics.requests))
	for ep := range s.metrics.requests {
		endpoints = append(endpoints, ep)
	}
	sort.Strings(endpoints)
	b.WriteString("# HELP q3m_requests_total HTTP requests received, by endpoint.\n# TYPE q3m_requests_total counter\n")
	for _, ep := range endpoints {
		fmt.Fprintf(&b, "q3m_requests_total{endpoint=%q} %d\n", ep, s.metrics.requests[ep])
	}
	s.metrics.mu.Unlock()
	st := s.eng.Stats()
	metric("generations_total", "counter", "Generations finished (including cancelled ones).", st.Requests)
	metric("requests_rejected_total", "counter", "Requests refused with 503 because the queue was full.", st.Rejected)
	metric("prompt_tokens_total", "counter", "Prompt tokens of generations.", st.PromptTokens)
	metric("prompt_tokens_cached_total", "counter", "Prompt tokens reused from a slot's KV cache.", st.CachedTokens)
	metric("generated_tokens_total", "counter", "Tokens generated.", st.GenTokens)
	metric("prefill_seconds_total", "counter", "Time spent evaluating prompts.", st.Prefill.Seconds())
	metric("decode_seconds_total", "counter", "Time spent generating.", st.Decode.Seconds())
	metric("slots", "gauge", "Generation slots (--parallel).", st.Slots)
	metric("requests_processing", "gauge", "Requests generating now.", st.Busy)
	metric("requests_queued", "gauge", "Requests waiting for a slot.", st.Queued)
	bs := s.eng.BatchStats()
	metric("batch_steps_total", "counter", "Batched forward passes.", bs.Steps)
	metric("batch_sequences_total", "counter", "Sequences advanced, summed over the batched forward passes.", bs.Seqs)
	metric("batch_tokens_total", "counter", "Token rows computed by the batched forward passes.", bs.Tokens)
	ps := s.eng.Model().PagerStats()
	metric("pager_hits_total", "counter", "Chosen experts that were resident.", ps.Hits)
	metric("pager_misses_total", "counter", "Chosen experts that were not resident.", ps.Misses)
	metric("pager_evictions_total", "counter", "Experts dropped to stay within the memory budget.", ps.Evictions)
	metric("pager_resident_bytes", "gauge", "Bytes of resident routed experts.", ps.ResidentBytes)
	metric("pager_budget_bytes", "gauge", "Memory budget of routed experts (0: none).", ps.Budget)
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Write([]byte(b.String()))
}
