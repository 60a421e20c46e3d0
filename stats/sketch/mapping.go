package sketch

import "math"

// MinRelAccuracy and MaxRelAccuracy bound the relative accuracy alpha
// accepted by New. Below 1e-6 the bucket indices of the whole float64 range
// would no longer fit the 2^30 slots reserved per sign in bucket keys; above
// 0.5 the sketch is too coarse to be useful.
const (
	MinRelAccuracy = 1e-6
	MaxRelAccuracy = 0.5
)

// minIndexable is the smallest magnitude given a logarithmic bucket: the
// smallest normal float64, 2^-1022 (about 2.2e-308). Values with a smaller
// magnitude (zero and subnormals) are counted in the zero bucket and
// represented by 0, an absolute error below 2.3e-308.
const minIndexable = 0x1p-1022

// mapping is DDSketch's logarithmic index mapping for relative accuracy
// alpha: with gamma = (1+alpha)/(1-alpha), a magnitude x >= minIndexable
// goes to bucket i = ceil(log_gamma(x)), which covers (gamma^(i-1),
// gamma^i], and bucket i is represented by
//
//	r_i = 2 gamma^i / (gamma+1) = (1-alpha) gamma^i = (1+alpha) gamma^(i-1),
//
// so |r_i - x| <= alpha x for every x in the bucket (equality at the upper
// edge). The index is computed with math.Log, so magnitudes within a few ulps
// of an edge may land in the neighbouring bucket; their relative error then
// exceeds alpha by less than 1e-12. The mapping is monotone (x <= y implies
// index(x) <= index(y)), which is all the order-based guarantees need.
type mapping struct {
	alpha       float64
	logGamma    float64 // ln gamma
	invLogGamma float64 // 1 / ln gamma
}

func newMapping(alpha float64) mapping {
	// ln((1+a)/(1-a)) = log1p(2a/(1-a)), accurate for small a.
	lg := math.Log1p(2 * alpha / (1 - alpha))
	return mapping{alpha: alpha, logGamma: lg, invLogGamma: 1 / lg}
}

// index returns the bucket index of magnitude x >= minIndexable (finite).
func (m *mapping) index(x float64) int {
	return int(math.Ceil(math.Log(x) * m.invLogGamma))
}

// upper returns gamma^i, the upper edge of bucket i (may be +Inf for the top
// bucket of the float64 range).
func (m *mapping) upper(i int) float64 {
	return math.Exp(float64(i) * m.logGamma)
}

// rep returns r_i = (1+alpha) gamma^(i-1), the representative of bucket i,
// capped at the largest float64: for the top bucket of the float64 range r_i
// can overflow to +Inf (alpha 0.5: 1.5 * 3^645), and every finite value of
// that bucket lies in [gamma^(i-1), MaxFloat64], within alpha of MaxFloat64.
func (m *mapping) rep(i int) float64 {
	return min((1+m.alpha)*math.Exp(float64(i-1)*m.logGamma), math.MaxFloat64)
}
