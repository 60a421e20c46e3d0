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
	// The formula in terms of r = z²/n, divided through by z²/n when r > 1,
	// so that no intermediate overflows or underflows for tiny or huge
	// n (summed weights) or z: with r > 1 and u = 1/r = n/z²,
	//
	//	center = (p u + 1/2)/(u + 1),  half = sqrt(p (1-p) u + 1/4)/(u + 1).
	p := k / n
	var center, half float64
	if z <= math.Sqrt(n) {
		r := z / n * z // <= 1
		center = (p + r/2) / (1 + r)
		half = math.Sqrt(p*(1-p)*r+r*r/4) / (1 + r)
	} else {
		u := n / z / z // < 1
		center = (p*u + 0.5) / (u + 1)
		half = math.Sqrt(p*(1-p)*u+0.25) / (u + 1)
	}
	lo, hi = center-half, center+half
	// Clamp rounding noise at the boundaries (lo is exactly 0 when k = 0).
	return math.Max(0, lo), math.Min(1, hi), true
}

// Z95 is the standard-normal quantile for a two-sided 95% interval.
const Z95 = 1.959963984540054
