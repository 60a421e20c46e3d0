package perf

import "math"

// Wilson returns the Wilson score interval [lo, hi] (in [0, 1]) for a
// proportion with k successes out of n trials at standard-normal quantile z
// (z = 1.959963984540054 for 95%):
//
//	center = (p + z²/(2n)) / (1 + z²/n),   p = k/n
//	half   = z/(1 + z²/n) * sqrt(p(1-p)/n + z²/(4n²))
//
// k and n may be summed frequency weights (the interval then treats the
// total weight as the sample size). It returns (NaN, NaN, false) if n <= 0,
// k < 0, k > n, z < 0 or any input is NaN. Unlike the Wald interval it stays
// inside [0, 1] and has sensible coverage for p near 0 or 1.
//
// Use it for accuracy (k = TP+TN, n = N), recall (k = TP, n = TP+FN),
// precision, FPR and selection rates.
//
// Reference: Wilson, E. B. (1927), Probable inference, the law of
// succession, and statistical inference, J. Am. Stat. Assoc. 22(158),
// 209-212.
func Wilson(k, n, z float64) (lo, hi float64, ok bool) {
	if !(n > 0) || !(k >= 0) || k > n || !(z >= 0) || math.IsInf(n, 1) || math.IsInf(z, 1) {
		return math.NaN(), math.NaN(), false
	}
	p := k / n
	z2 := z * z
	den := 1 + z2/n
	center := (p + z2/(2*n)) / den
	half := z / den * math.Sqrt(p*(1-p)/n+z2/(4*n*n))
	lo, hi = center-half, center+half
	// Clamp rounding noise at the boundaries (lo is exactly 0 when k = 0).
	return math.Max(0, lo), math.Min(1, hi), true
}

// Z95 is the standard-normal quantile for a two-sided 95% interval.
const Z95 = 1.959963984540054
