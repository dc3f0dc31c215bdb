package runtime

import "math"

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

// ropeTables returns cos and sin for positions [0, n): row p holds hd/2
// values cos(p·inv[j])·factor (and likewise sin), computed in float64.
func ropeTables(c Config, n int) (cos, sin []float32) {
	inv, factor := ropeInvFreq(c)
	half := len(inv)
	cos, sin = make([]float32, n*half), make([]float32, n*half)
	for p := range n {
		for j, f := range inv {
			s, co := math.Sincos(float64(p) * f)
			cos[p*half+j] = float32(co * factor)
			sin[p*half+j] = float32(s * factor)
		}
	}
	return cos, sin
}
