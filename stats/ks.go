package stats

import (
	"math"
	"slices"
)

// ksSeriesCutover is the argument below which KolmogorovSF sums the
// Jacobi-theta form of the CDF instead of the alternating SF series. At 1.18
// both series need at most five terms for full double precision and neither
// loses more than one decimal digit to cancellation (Numerical Recipes, 3rd
// ed., section 6.14, uses the same switch).
const ksSeriesCutover = 1.18

// ksMaxTerms bounds the series loops; both converge in under ten terms for
// every argument, so the bound is never reached for finite input.
const ksMaxTerms = 64

// KolmogorovSF returns the survival function Q(x) = P(K > x) (a probability
// in [0, 1]) of the limiting Kolmogorov distribution K = sup_t |B(t)| of the
// Brownian bridge; it equals scipy.stats.kstwobign.sf(x):
//
//	Q(x) = 2 sum_{k>=1} (-1)^(k-1) exp(-2 k^2 x^2)                  for x >= 1.18
//	Q(x) = 1 - sqrt(2 pi)/x sum_{k>=1} exp(-(2k-1)^2 pi^2 / (8 x^2))  for 0 < x < 1.18
//
// The second (Jacobi theta) form is used for small x, where the alternating
// series converges slowly; it keeps Q accurate to a few ulps on the whole
// line. Q(x) = 1 for x <= 0 and Q(NaN) = NaN.
//
// References: Kolmogorov, A. N. (1933), Sulla determinazione empirica di una
// legge di distribuzione, G. Ist. Ital. Attuari 4; Marsaglia, G., Tsang, W. W.
// and Wang, J. (2003), Evaluating Kolmogorov's distribution, J. Stat. Softw.
// 8(18).
func KolmogorovSF(x float64) float64 {
	switch {
	case math.IsNaN(x):
		return math.NaN()
	case x <= 0:
		return 1
	case x < ksSeriesCutover:
		return 1 - kolmogorovCDFTheta(x)
	}
	return kolmogorovSFAlternating(x)
}

// kolmogorovSFAlternating sums 2 sum_{k>=1} (-1)^(k-1) exp(-2 k^2 x^2) for
// x > 0; it needs many terms, and cancels badly, as x approaches 0.
func kolmogorovSFAlternating(x float64) float64 {
	a := -2 * x * x
	var s float64
	sign := 1.0
	for k := 1; k <= ksMaxTerms; k++ {
		t := math.Exp(a * float64(k*k))
		s += sign * t
		if t <= 0x1p-60*s {
			break
		}
		sign = -sign
	}
	return 2 * s
}

// kolmogorovCDF returns P(K <= x) for the limiting Kolmogorov distribution,
// as scipy.stats.kstwobign.cdf(x). It is accurate in relative terms for small
// x, where 1 - KolmogorovSF(x) would lose all digits.
func kolmogorovCDF(x float64) float64 {
	switch {
	case math.IsNaN(x):
		return math.NaN()
	case x <= 0:
		return 0
	case x < ksSeriesCutover:
		return kolmogorovCDFTheta(x)
	}
	return 1 - KolmogorovSF(x)
}

// kolmogorovCDFTheta sums sqrt(2 pi)/x sum_{k>=1} exp(-(2k-1)^2 pi^2/(8x^2))
// for x > 0; the terms underflow to 0 for x below about 0.04, and then the
// CDF is 0 (returned directly, since sqrt(2 pi)/x overflows for x below
// about 1.4e-308 and Inf*0 would be NaN).
func kolmogorovCDFTheta(x float64) float64 {
	a := -math.Pi * math.Pi / (8 * x * x)
	var s float64
	for k := 1; k <= ksMaxTerms; k++ {
		j := float64(2*k - 1)
		t := math.Exp(a * j * j)
		s += t
		if t <= 0x1p-60*s {
			break
		}
	}
	if s == 0 {
		return 0
	}
	return math.Sqrt(2*math.Pi) / x * s
}

// ksPValue returns the asymptotic two-sided p-value Q(sqrt(en) * d) with
// en = n*m/(n+m) for sample sizes (or total weights) n and m.
func ksPValue(d, n, m float64) float64 {
	en := n * m / (n + m)
	return KolmogorovSF(math.Sqrt(en) * d)
}

// KSBinned returns the two-sample Kolmogorov-Smirnov statistic d (a
// difference of proportions, in [0, 1]) and its two-sided p-value p for
// reference counts ref and current counts cur over the same ordered bins:
//
//	D = max_j |R_j - C_j|,  p = KolmogorovN(round(en), D),  en = n*m/(n+m)
//
// where R_j and C_j are the cumulative proportions of ref and cur after bin j
// and n = sum(ref), m = sum(cur) are the totals (sample sizes when the counts
// are integer counts).
//
// On binned data D is a lower bound of the D of the underlying samples,
// because the empirical CDFs are compared only at bin edges; it is exact when
// each bin holds a single distinct value (then D equals
// scipy.stats.ks_2samp's statistic). The p-value is the one of scipy's
// ks_2samp(method='asymp') branch: the exact one-sample Kolmogorov
// distribution kstwo.sf(D, round(en)) (rounding half to even, as numpy;
// round(en) is raised to at least 1 so that totals below 1 still give a
// p-value). The exact two-sample path counting that ks_2samp's default
// method='auto' uses for small samples is deliberately not used: binned data
// are full of ties, for which that null distribution does not hold, and
// non-integer weights have no lattice paths. So p equals ks_2samp's p
// whenever max(n, m) > 10000 and D is exact; KS2SampAuto gives the exact p
// for raw samples.
//
// KSBinned returns NaN, NaN if either side sums to 0 (including empty slices)
// or holds a negative or non-finite count. It panics if len(ref) != len(cur).
// It allocates only when KolmogorovN takes its Durbin-matrix or Pomeranz
// branch (small round(en)*D^2, round(en) <= 1e5).
//
// References: Smirnov, N. (1948), Table for estimating the goodness of fit of
// empirical distributions, Ann. Math. Stat. 19(2); Simard, R. and
// L'Ecuyer, P. (2011), Computing the two-sided Kolmogorov-Smirnov
// distribution, J. Stat. Softw. 39(11).
func KSBinned(ref, cur []float64) (d, p float64) {
	mustSameLen("KSBinned", len(ref), len(cur))
	n, okRef := total(ref)
	m, okCur := total(cur)
	if !okRef || !okCur || n == 0 || m == 0 {
		return math.NaN(), math.NaN()
	}
	var cr, cc float64
	for i := range ref {
		cr += ref[i]
		cc += cur[i]
		d = max(d, math.Abs(cr/n-cc/m))
	}
	return d, ksKstwoPValue(d, n, m)
}

// KS2Samp returns the two-sample Kolmogorov-Smirnov statistic d (in [0, 1])
// and its asymptotic two-sided p-value p for the raw samples x and y:
//
//	D = sup_t |F_x(t) - F_y(t)|,  p = KolmogorovSF(sqrt(en) * D),  en = n*m/(n+m)
//
// where F_x, F_y are the empirical CDFs and n = len(x), m = len(y). D is
// exact and equals scipy.stats.ks_2samp(x, y).statistic, ties included; p is
// the limiting (Smirnov 1948) asymptotic p-value kstwobign.sf(sqrt(en) D),
// kept for compatibility. KS2SampAuto returns scipy's default p-value
// (exact for small samples, kstwo otherwise).
//
// KS2Samp sorts copies and does not modify x or y; it allocates
// len(x)+len(y) float64s. It returns NaN, NaN if either sample is empty or
// contains NaN.
//
// Reference: Smirnov, N. (1948), Table for estimating the goodness of fit of
// empirical distributions, Ann. Math. Stat. 19(2).
func KS2Samp(x, y []float64) (d, p float64) {
	n, m := len(x), len(y)
	if n == 0 || m == 0 {
		return math.NaN(), math.NaN()
	}
	xs, ys := slices.Clone(x), slices.Clone(y)
	slices.Sort(xs) // NaNs sort first
	slices.Sort(ys)
	if math.IsNaN(xs[0]) || math.IsNaN(ys[0]) {
		return math.NaN(), math.NaN()
	}
	fn, fm := float64(n), float64(m)
	i, j := 0, 0
	for i < n && j < m {
		t := min(xs[i], ys[j])
		for i < n && xs[i] <= t {
			i++
		}
		for j < m && ys[j] <= t {
			j++
		}
		d = max(d, math.Abs(float64(i)/fn-float64(j)/fm))
	}
	// Past this point one CDF is 1 and the other only grows towards 1, so
	// the difference only shrinks.
	return d, ksPValue(d, fn, fm)
}
