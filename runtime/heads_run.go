package runtime

import (
	"errors"
	"fmt"
	"math"
	"runtime/debug"

	"github.com/q3m/q3m/ops"
)

// Run evaluates ids as one whole sequence from position 0 (the session is
// reset first) and returns the model's head output, plus the hidden states
// and router logits when opt asks for them. It computes nothing else: no
// vocabulary projection for a classifier, no hidden-state copies unless
// asked, only the pooled position's score for sequence classification.
// The result is the caller's. Afterwards the session holds ids, as after
// Eval; on error it is left empty.
func (s *Session) Run(ids []int32, opt RunOptions) (_ *Result, err error) {
	c := s.cfg
	if len(ids) == 0 {
		return nil, errors.New("runtime: Run of no tokens")
	}
	for i, id := range ids {
		if id < 0 || int(id) >= c.Vocab {
			return nil, fmt.Errorf("runtime: token %d (index %d) outside vocabulary [0, %d)", id, i, c.Vocab)
		}
	}
	if len(ids) > s.ctx {
		return nil, fmt.Errorf("runtime: %d tokens exceed the context of %d: %w", len(ids), s.ctx, ErrContextFull)
	}
	if err := s.m.acquire(); err != nil {
		return nil, err
	}
	defer s.m.release()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	s.pos = 0
	defer s.recoverFault(&err, 0)
	s.growKV(len(ids))
	s.reserveBatch(len(ids))

	T, H, E := len(ids), c.Hidden, c.Experts
	r := &Result{Class: c.Head.Class, Tokens: T}
	n := c.Head.Outputs(c)
	switch r.Class {
	case CausalLM:
		r.Logits = make([]float32, T*n)
	case Backbone:
		r.LastHidden = make([]float32, T*H)
	case SequenceClassification:
		r.SequenceLogits = make([]float32, n)
		r.Pooled = PoolPosition(ids, c.Head.PadTokenID)
	case TokenClassification:
		r.TokenLogits = make([]float32, T*n)
	case QuestionAnswering:
		r.StartLogits, r.EndLogits = make([]float32, T), make([]float32, T)
	}
	cp := &capture{}
	if opt.HiddenStates {
		r.HiddenStates = make([][]float32, c.Layers+1)
		for i := range r.HiddenStates {
			r.HiddenStates[i] = make([]float32, T*H)
		}
		cp.hidden = r.HiddenStates[:c.Layers]
	}
	if opt.RouterLogits {
		cp.moeIdx = make([]int, c.Layers)
		for li := range c.Layers {
			cp.moeIdx[li] = -1
			if c.MoE(li) {
				cp.moeIdx[li] = len(r.RouterLayers)
				r.RouterLayers = append(r.RouterLayers, li)
				r.RouterLogits = append(r.RouterLogits, make([]float32, T*E))
			}
		}
		cp.router = r.RouterLogits
	}
	s.capture = cp
	defer func() { s.capture = nil }()

	b, eps := &s.buf, float32(c.RMSEps)
	var qa []float32
	if r.Class == QuestionAnswering {
		qa = make([]float32, min(maxBatch, T)*2)
	}
	for done := 0; done < T; done += maxBatch {
		if done > 0 && s.m.closing.Load() {
			s.pos = 0
			return nil, s.m.closedError()
		}
		bn := min(maxBatch, T-done)
		cp.first = done
		s.forward(ids[done : done+bn])
		for t := range bn {
			ops.RMSNorm(b.xn[t*H:(t+1)*H], b.x[t*H:(t+1)*H], s.m.outNorm, eps)
		}
		xn := b.xn[:bn*H]
		if opt.HiddenStates {
			copy(r.HiddenStates[c.Layers][done*H:], xn)
		}
		switch r.Class {
		case CausalLM:
			s.exec.MatMul(r.Logits[done*n:(done+bn)*n], s.m.output, xn, bn)
		case Backbone:
			copy(r.LastHidden[done*H:], xn)
		case SequenceClassification:
			if p := r.Pooled - done; p >= 0 && p < bn {
				s.exec.MatMul(r.SequenceLogits, s.m.head.w, xn[p*H:(p+1)*H], 1)
			}
		case TokenClassification:
			out := r.TokenLogits[done*n : (done+bn)*n]
			s.exec.MatMul(out, s.m.head.w, xn, bn)
			for t := range bn {
				ops.Add(out[t*n:(t+1)*n], s.m.head.b)
			}
		case QuestionAnswering:
			out := qa[:2*bn]
			s.exec.MatMul(out, s.m.head.w, xn, bn)
			for t := range bn {
				r.StartLogits[done+t] = out[2*t] + s.m.head.b[0]
				r.EndLogits[done+t] = out[2*t+1] + s.m.head.b[1]
			}
		}
	}
	if opt.RouterLogits {
		r.AuxLoss = LoadBalancingLoss(r.RouterLogits, E, c.ExpertsUsed)
	}
	return r, nil
}

// LoadBalancingLoss returns transformers' load_balancing_loss_func (Switch
// Transformer eqs. 4-6) without attention mask, before the coefficient:
// over all rows of all layers' router logits [rows × experts], experts ×
// Σ_e (share of rows with e among their top k) · (mean softmax probability
// of e). It is 0 when there are no rows or k is 0.
func LoadBalancingLoss(router [][]float32, experts, k int) float64 {
	if experts <= 0 || k <= 0 || k > experts {
		return 0
	}
	chosen := make([]float64, experts)
	mean := make([]float64, experts)
	p := make([]float64, experts)
	top := make([]int, k)
	rows := 0
	for _, l := range router {
		for r := 0; r+experts <= len(l); r += experts {
			row := l[r : r+experts]
			mx := math.Inf(-1)
			for _, v := range row {
				mx = math.Max(mx, float64(v))
			}
			sum := 0.0
			for e, v := range row {
				p[e] = math.Exp(float64(v) - mx)
				sum += p[e]
			}
			for e := range p {
				p[e] /= sum
				mean[e] += p[e]
			}
			// top k by probability; ties to the lower expert id
			for j := range top {
				best := -1
				for e := range p {
					if !taken(top[:j], e) && (best < 0 || p[e] > p[best]) {
						best = e
					}
				}
				top[j] = best
				chosen[best]++
			}
			rows++
		}
	}
	if rows == 0 {
		return 0
	}
	loss := 0.0
	for e := range chosen {
		loss += chosen[e] / float64(rows) * mean[e] / float64(rows)
	}
	return loss * float64(experts)
}
