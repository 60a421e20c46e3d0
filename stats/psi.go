package stats

import "math"

// DefaultPSIEpsilon is the proportion (dimensionless, in [0, 1]) that PSI
// substitutes for an empty bin when the caller passes eps <= 0. It is 1e-4,
// the value Evidently uses, so that a bin empty on one side contributes a
// large but finite term instead of +Inf.
const DefaultPSIEpsilon = 1e-4

// PSI returns the population stability index (dimensionless, >= 0) of the
// current counts cur against the reference counts ref over the same bins:
//
//	PSI = sum_i (c_i - r_i) * ln(c_i / r_i)
//
// where r_i = ref[i] / sum(ref) and c_i = cur[i] / sum(cur) are bin
// proportions, and a proportion of exactly 0 is replaced by eps (the
// proportions are not renormalized afterwards, as in Evidently). A bin empty
// on both sides contributes 0. If eps <= 0 or is NaN, DefaultPSIEpsilon is
// used. Counts may be integer counts converted to float64 or non-negative
// weights.
//
// PSI returns NaN if either side sums to 0 (including empty slices) or holds
// a negative or non-finite count. It panics if len(ref) != len(cur).
//
// References: Siddiqi, N. (2006), Credit Risk Scorecards, Wiley; Yurdakul, B.
// (2018), Statistical properties of the population stability index, PhD
// thesis, Western Michigan University.
func PSI(ref, cur []float64, eps float64) float64 {
	mustSameLen("PSI", len(ref), len(cur))
	if !(eps > 0) {
		eps = DefaultPSIEpsilon
	}
	n, okRef := total(ref)
	m, okCur := total(cur)
	if !okRef || !okCur || n == 0 || m == 0 {
		return math.NaN()
	}
	var psi float64
	for i := range ref {
		r, c := ref[i]/n, cur[i]/m
		if r == 0 {
			r = eps
		}
		if c == 0 {
			c = eps
		}
		psi += (c - r) * logRatio(c, r)
	}
	return psi
}
