package runtime

import (
	"math"
	"sync"
)

// ropeInvFreq returns the hd/2 rotation frequencies of RoPE and the factor
// that multiplies cos and sin, following transformers: theta^(-2j/hd) by
// default; for YaRN a blend of those (extrapolation) and theta^(-2j/hd)/factor
// (interpolation) along a linear ramp between the correction dimensions of
// beta_fast and beta_slow.
func ropeInvFreq(c Config) (inv []float64, attnFactor float64) {
	hd := c.HeadDim
	inv = make([]float64, hd/2)
	for j := range inv {
		inv[j] = 1 / math.Pow(c.RopeTheta, float64(2*j)/float64(hd))
	}
	if c.RopeScaling != "yarn" {
		return inv, 1
	}
	corrDim := func(rot float64) float64 {
		return float64(hd) * math.Log(float64(c.RopeOrigCtx)/(rot*2*math.Pi)) / (2 * math.Log(c.RopeTheta))
	}
	low, high := corrDim(c.YarnBetaFast), corrDim(c.YarnBetaSlow)
	if c.YarnTruncate {
		low, high = math.Floor(low), math.Ceil(high)
	}
	low, high = math.Max(low, 0), math.Min(high, float64(hd-1))
	if low == high {
		high += 0.001
	}
	for j := range inv {
		ramp := math.Min(math.Max((float64(j)-low)/(high-low), 0), 1)
		extrapolation := 1 - ramp
		inv[j] = inv[j]/c.RopeFactor*(1-extrapolation) + inv[j]*extrapolation
	}
	return inv, c.YarnAttnFactor
}

// ropeCache holds a model's RoPE cos and sin tables, shared by its
// sessions and grown on demand to the positions some session has reached
// (by doubling, up to the model's context length), so that a long context
// costs nothing until it is used. Rows once published are never written
// again: a session reads the tables it got while another grows new ones.
type ropeCache struct {
	inv    []float64
	factor float64
	limit  int // the model's context length

	mu       sync.Mutex
	cos, sin []float32 // rows of len(inv) values
}

func newRopeCache(c Config) *ropeCache {
	inv, factor := ropeInvFreq(c)
	return &ropeCache{inv: inv, factor: factor, limit: c.ContextLen}
}

// tables returns cos and sin for at least positions [0, n), n at most the
// model's context length: row p holds cos(p·inv[j])·factor (and likewise
// sin), computed in float64.
func (r *ropeCache) tables(n int) (cos, sin []float32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	half := len(r.inv)
	have := len(r.cos) / half
	if have >= n {
		return r.cos, r.sin
	}
	size := max(n, min(2*have, r.limit))
	cos, sin = make([]float32, size*half), make([]float32, size*half)
	copy(cos, r.cos)
	copy(sin, r.sin)
	for p := have; p < size; p++ {
		for j, f := range r.inv {
			s, co := math.Sincos(float64(p) * f)
			cos[p*half+j] = float32(co * r.factor)
			sin[p*half+j] = float32(s * r.factor)
		}
	}
	r.cos, r.sin = cos, sin
	return cos, sin
}
