package runtime

import (
	"fmt"
	"io"
	"math"

	"github.com/q3m/q3m/routing"
)

// routeHook records a session's routing decisions and forces them from a
// trace (RecordRouting, ReplayRouting). Tokens are counted from the start
// of the session's run, across Reset and Truncate.
type routeHook struct {
	moeLayers   []int // the model's MoE layers, ascending
	index       []int // per layer: index into moeLayers, -1 for dense layers
	k           int
	tokens      int // tokens routed before the current batch
	batchTokens int

	rec    io.Writer
	recErr error
	line   []byte
	chosen []int     // the batch's routing: [maxBatch][len(moeLayers)][k]
	w      []float32 // its weights

	replay   *routing.Trace
	layerAt  []int     // per MoE layer (index into moeLayers): index into replay.Layers
	weights  []float32 // replay's weights as the model applies them, shaped like replay.Experts
	replayOn bool
}

// RouteGeometry is what a routing trace of the model must fit.
func (m *Model) RouteGeometry() routing.Geometry {
	return routing.Geometry{Layers: m.cfg.Layers, Experts: m.cfg.Experts, K: m.cfg.ExpertsUsed}
}

func (s *Session) hook() *routeHook {
	if s.route == nil {
		c := s.cfg
		h := &routeHook{k: c.ExpertsUsed, index: make([]int, c.Layers)}
		for l := range c.Layers {
			h.index[l] = -1
			if c.MoE(l) {
				h.index[l] = len(h.moeLayers)
				h.moeLayers = append(h.moeLayers, l)
			}
		}
		s.route = h
	}
	return s.route
}

// RecordRouting has the session write every routing decision from now on
// to w as JSON lines (routing's format: token counted from the session's
// first token, layers in order, experts in the router's order, the weights
// the model applies), one Write per batch of tokens; nil stops recording.
// The first write error stops recording and is kept (RecordingError).
func (s *Session) RecordRouting(w io.Writer) {
	h := s.hook()
	h.rec, h.recErr = w, nil
	if w != nil && h.chosen == nil {
		h.chosen = make([]int, maxBatch*len(h.moeLayers)*h.k)
		h.w = make([]float32, len(h.chosen))
	}
}

// RecordingError returns the error that stopped recording, if any.
func (s *Session) RecordingError() error {
	if s.route == nil {
		return nil
	}
	return s.route.recErr
}

// ReplayRouting forces the session's routing from t from now on: token T
// of the run takes the experts of the trace's token T mod t.Tokens(), at
// each of the model's MoE layers, with the trace's weights, divided by
// their sum when the model normalizes its top-k weights and they do not
// sum to 1 within 1e-3 (without weights: 1/k each). The logits are then
// not the model's. The trace must hold every MoE layer of the model (it
// may hold more) with the model's experts per token. nil stops replaying.
// While replaying, the pager does not predict the next layer's experts
// from the router, whose choice the trace overrides.
func (s *Session) ReplayRouting(t *routing.Trace) error {
	h := s.hook()
	if t == nil {
		h.replay, h.replayOn = nil, false
		return nil
	}
	if err := t.Check(s.m.RouteGeometry()); err != nil {
		return err
	}
	at := make([]int, len(h.moeLayers))
	for i, l := range h.moeLayers {
		at[i] = -1
		for j, tl := range t.Layers {
			if tl == l {
				at[i] = j
			}
		}
		if at[i] < 0 {
			return fmt.Errorf("runtime: routing trace %s has no layer %d, a MoE layer of the model", t.Name, l)
		}
	}
	w := make([]float32, len(t.Experts))
	for o := 0; o < len(w); o += t.K {
		if t.Weights == nil {
			for r := range t.K {
				w[o+r] = 1 / float32(t.K)
			}
			continue
		}
		copy(w[o:o+t.K], t.Weights[o:o+t.K])
		var sum float32
		for _, v := range w[o : o+t.K] {
			sum += v
		}
		if s.cfg.NormTopKProb && math.Abs(float64(sum)-1) > 1e-3 && sum > 0 {
			for r := range t.K {
				w[o+r] /= sum
			}
		}
	}
	h.replay, h.layerAt, h.weights, h.replayOn = t, at, w, true
	return nil
}

// startBatch counts the batch's n tokens; called at the first MoE layer.
func (h *routeHook) startBatch(n int) {
	h.tokens += h.batchTokens
	h.batchTokens = n
}

// apply forces (when replaying) and keeps (when recording) the routing of
// token t of the batch at layer li.
func (h *routeHook) apply(li, t int, chosen []int, w []float32) {
	i := h.index[li]
	if h.replayOn {
		tr := h.replay
		tok := (h.tokens + t) % tr.Tokens()
		o := (tok*len(tr.Layers) + h.layerAt[i]) * tr.K
		for r := range chosen {
			chosen[r] = int(tr.Experts[o+r])
		}
		copy(w, h.weights[o:o+tr.K])
	}
	if h.rec != nil && h.recErr == nil {
		o := (t*len(h.moeLayers) + i) * h.k
		copy(h.chosen[o:o+h.k], chosen)
		copy(h.w[o:o+h.k], w)
	}
}

// endBatch writes the batch's routing, token by token; called after the
// last MoE layer.
func (h *routeHook) endBatch() {
	if h.rec == nil || h.recErr != nil {
		return
	}
	h.line = h.line[:0]
	for t := range h.batchTokens {
		for i, l := range h.moeLayers {
			o := (t*len(h.moeLayers) + i) * h.k
			h.line = routing.AppendRecord(h.line, h.tokens+t, l, h.chosen[o:o+h.k], h.w[o:o+h.k])
		}
	}
	if _, err := h.rec.Write(h.line); err != nil {
		h.recErr = fmt.Errorf("runtime: recording the routing: %w", err)
	}
}

// RecordRouting has the chat's session record its routing to w
// (Session.RecordRouting): every token evaluated from now on, prompts and
// answers, counted from the chat's first.
func (c *Chat) RecordRouting(w io.Writer) { c.sess.RecordRouting(w) }

// RecordingError returns the error that stopped the chat's recording.
func (c *Chat) RecordingError() error { return c.sess.RecordingError() }
