package runtime

import (
	"fmt"
	"strings"

	"github.com/q3m/q3m/format"
)

// ExpertSharing says how routed experts' byte ranges sit on pages. A file
// from q3m convert starts every tensor on a page, and experts of whole
// pages share none; llama.cpp's files align tensors to 32 bytes only, so
// the first and last page of an expert's gate, up or down range usually
// also hold bytes of the neighbouring expert, the neighbouring tensor or
// padding. The pager reads such a page whenever either user needs it
// (WillNeed rounds a range out to pages) and drops it only when dropping a
// range that covers it whole (DontNeed rounds in), so a shared page costs
// memory, never correctness.
type ExpertSharing struct {
	PageSize int
	Experts  int    // routed experts over all MoE layers
	Ranges   int    // their gate, up and down ranges: 3 per expert
	Bytes    uint64 // bytes of all those ranges
	// Shared is how many of those bytes lie on a page that also holds a
	// byte outside their range; SharedRanges counts the ranges with any.
	Shared       uint64
	SharedRanges int
	// MaxShared is the most shared bytes of one expert (its three ranges).
	MaxShared uint64
}

// MeanSharedPerExpert returns the shared bytes per expert.
func (s ExpertSharing) MeanSharedPerExpert() float64 {
	if s.Experts == 0 {
		return 0
	}
	return float64(s.Shared) / float64(s.Experts)
}

// String summarizes s on one line.
func (s ExpertSharing) String() string {
	if s.Experts == 0 {
		return "no routed experts"
	}
	return fmt.Sprintf("%d of %d ranges share a %d-byte page with a neighbour: %d of %d bytes (%.3g%%), %.0f bytes per expert on average, at most %d",
		s.SharedRanges, s.Ranges, s.PageSize, s.Shared, s.Bytes, 100*float64(s.Shared)/float64(max(s.Bytes, 1)),
		s.MeanSharedPerExpert(), s.MaxShared)
}

// ExpertPageSharing measures, for pages of pageSize bytes, how much of
// every routed expert's byte ranges (the 3-D tensors blk.N.ffn_gate_exps,
// ffn_up_exps and ffn_down_exps) shares a page with bytes outside it.
func ExpertPageSharing(f *format.File, pageSize int) (ExpertSharing, error) {
	s := ExpertSharing{PageSize: pageSize}
	if pageSize <= 0 || pageSize&(pageSize-1) != 0 {
		return s, fmt.Errorf("runtime: page size %d is not a power of two", pageSize)
	}
	type key struct {
		layer string
		e     int
	}
	perExpert := map[key]uint64{}
	for _, t := range f.Tensors {
		layer, ok := expertTensor(t)
		if !ok {
			continue
		}
		for e := range int(t.Dims[2]) {
			off, n, err := f.ExpertRange(t, e)
			if err != nil {
				return s, fmt.Errorf("runtime: %w", err)
			}
			sh := sharedBytes(off, n, uint64(pageSize))
			s.Ranges++
			s.Bytes += n
			s.Shared += sh
			if sh > 0 {
				s.SharedRanges++
			}
			perExpert[key{layer, e}] += sh
		}
	}
	s.Experts = len(perExpert)
	for _, v := range perExpert {
		s.MaxShared = max(s.MaxShared, v)
	}
	return s, nil
}

// expertTensor reports whether t is a stacked routed-expert tensor (gate,
// up or down), and its layer number as spelled in the name.
func expertTensor(t format.TensorInfo) (layer string, ok bool) {
	if len(t.Dims) != 3 || !strings.HasPrefix(t.Name, "blk.") {
		return "", false
	}
	layer, rest, _ := strings.Cut(t.Name[len("blk."):], ".")
	switch rest {
	case "ffn_gate_exps.weight", "ffn_up_exps.weight", "ffn_down_exps.weight":
		return layer, true
	}
	return "", false
}

// sharedBytes returns how many bytes of [off, off+n) lie on a page of
// size page that also holds a byte outside the range: those of its first
// page when the range does not start on a page boundary, those of its last
// page when it does not end on one (the whole range when it lies on one
// page and does not fill it).
func sharedBytes(off, n, page uint64) uint64 {
	if n == 0 {
		return 0
	}
	end := off + n
	first, last := off/page, (end-1)/page
	headShared := off%page != 0
	tailShared := end%page != 0
	if first == last {
		if headShared || tailShared {
			return n
		}
		return 0
	}
	var sh uint64
	if headShared {
		sh += (first+1)*page - off
	}
	if tailShared {
		sh += end - last*page
	}
	return sh
}
