package stats

import "math"

// JensenShannon returns the Jensen-Shannon distance (in nats^(1/2), within
// [0, sqrt(ln 2)]) between the distributions p and q over the same bins,
// after normalizing each to sum 1:
//
//	JS(p, q) = sqrt( (KL(p || m) + KL(q || m)) / 2 ),  m = (p + q) / 2
//	KL(a || b) = sum_i a_i ln(a_i / b_i)
//
// Terms with a_i == 0 contribute 0. This is the distance (the square root of
// the divergence) with the natural logarithm, exactly
// scipy.spatial.distance.jensenshannon(p, q) with its default base; divide by
// sqrt(ln 2) for the base-2 distance in [0, 1]. A divergence that rounds
// below 0 for nearly equal inputs is clamped to 0, and a distance that
// rounds above sqrt(ln 2) for disjoint inputs to sqrt(ln 2).
//
// JensenShannon returns NaN if either vector sums to 0 (including empty
// slices) or holds a negative or non-finite value. It panics if
// len(p) != len(q). It does not allocate.
//
// Reference: Lin, J. (1991), Divergence measures based on the Shannon
// entropy, IEEE Trans. Inf. Theory 37(1).
func JensenShannon(p, q []float64) float64 {
	mustSameLen("JensenShannon", len(p), len(q))
	sp, okP := total(p)
	sq, okQ := total(q)
	if !okP || !okQ || sp == 0 || sq == 0 {
		return math.NaN()
	}
	var left, right float64
	for i := range p {
		pi, qi := p[i]/sp, q[i]/sq
		mi := (pi + qi) / 2
		if mi == 0 {
			// Both proportions are at most 2^-1074 (pi + qi underflowed
			// when halved): the terms, at most 2^-1074 ln 2, vanish.
			continue
		}
		if pi > 0 {
			left += pi * math.Log(pi/mi)
		}
		if qi > 0 {
			right += qi * math.Log(qi/mi)
		}
	}
	// Rounding can leave the range [0, sqrt(ln 2)] by an ulp on either
	// side (disjoint inputs gave 0.8325546111576978).
	return min(math.Sqrt(max((left+right)/2, 0)), math.Sqrt(math.Ln2))
}
