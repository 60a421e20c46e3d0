package stats

import (
	"math"

	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/stat/distuv"
)

// NoncentralChi2SF returns P(X > x) for X noncentral chi-squared with df > 0
// degrees of freedom and noncentrality lambda >= 0, as
// scipy.stats.ncx2.sf(x, df, lambda) (scipy.stats.chi2.sf when lambda is 0).
// It sums the Poisson mixture of central chi-squared tails,
//
//	P(X > x) = sum_j e^(-lambda/2) (lambda/2)^j / j! * Q(df/2 + j, x/2)
//
// with Q the regularized upper incomplete gamma function, outward from the
// Poisson mode until the remaining Poisson mass is below 1e-17. It returns
// NaN if df <= 0, lambda < 0, or any argument is NaN, and 1 for x <= 0.
//
// Reference: Johnson, N. L., Kotz, S. and Balakrishnan, N. (1995),
// Continuous Univariate Distributions, vol. 2, 2nd ed., ch. 29.
func NoncentralChi2SF(x, df, lambda float64) float64 {
	if math.IsNaN(x) || math.IsNaN(df) || math.IsNaN(lambda) || df <= 0 || lambda < 0 || math.IsInf(df, 0) || math.IsInf(lambda, 0) {
		return math.NaN()
	}
	if x <= 0 {
		return 1
	}
	if math.IsInf(x, 1) {
		return 0
	}
	if lambda == 0 {
		return mathext.GammaIncRegComp(df/2, x/2)
	}
	h := lambda / 2
	mode := math.Floor(h)
	logW := func(j float64) float64 {
		lg, _ := math.Lgamma(j + 1)
		return -h + j*math.Log(h) - lg
	}
	var sum float64
	// Upward from the mode.
	for j := mode; ; j++ {
		w := math.Exp(logW(j))
		sum += w * mathext.GammaIncRegComp(df/2+j, x/2)
		if (w < 1e-17 && j > mode) || j-mode > 10000 {
			break
		}
	}
	// Downward from below the mode.
	for j := mode - 1; j >= 0; j-- {
		w := math.Exp(logW(j))
		sum += w * mathext.GammaIncRegComp(df/2+j, x/2)
		if w < 1e-17 {
			break
		}
	}
	return clip01(sum)
}

// Chi2Noncentrality returns the noncentrality lambda at which a chi-squared
// test with df degrees of freedom at level alpha has the given power:
//
//	P(X > c) = power,  X ~ noncentral chi2(df, lambda),  c = chi2.isf(alpha, df)
//
// The minimum detectable effect of a test of homogeneity between a window
// of n and a reference of m observations is then Cohen's
// w = sqrt(lambda / n_eff), n_eff = n m / (n + m): the smallest
// sum_i (q_i - p_i)^2 / p_i the test detects with that power. It is solved by
// bisection on the monotone power curve to a relative 1e-12. It returns NaN
// unless df > 0, 0 < alpha < 1 and alpha < power < 1 (a power at or below
// alpha needs no effect at all).
//
// Reference: Cohen, J. (1988), Statistical Power Analysis for the
// Behavioral Sciences, 2nd ed., ch. 7; scipy.stats.ncx2.
func Chi2Noncentrality(df, alpha, power float64) float64 {
	if !(df > 0) || math.IsInf(df, 0) || !(alpha > 0 && alpha < 1) || !(power > alpha && power < 1) {
		return math.NaN()
	}
	c := distuv.ChiSquared{K: df}.Quantile(1 - alpha)
	lo, hi := 0.0, 1.0
	for NoncentralChi2SF(c, df, hi) < power {
		if hi > 1e15 { // beyond any sample size: no finite answer worth giving
			return math.NaN()
		}
		lo, hi = hi, 2*hi
	}
	for hi-lo > 1e-12*hi {
		mid := (lo + hi) / 2
		if NoncentralChi2SF(c, df, mid) < power {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// NormalMDE returns the minimum detectable standardized difference of a
// two-sided z-test at level alpha with the given power between samples of
// n and m observations:
//
//	delta = (z_{1-alpha/2} + z_{power}) * sqrt(1/n + 1/m)
//
// in units of the common standard deviation: a mean shift of delta standard
// deviations (Cohen's d), or, multiplied by sqrt(p(1-p)), a change of a
// proportion near p. It returns NaN unless n, m > 0, 0 < alpha < 1 and
// 0 < power < 1.
//
// Reference: Cohen, J. (1988), Statistical Power Analysis for the
// Behavioral Sciences, 2nd ed., ch. 2.
func NormalMDE(n, m, alpha, power float64) float64 {
	if !(n > 0 && m > 0) || math.IsInf(n, 0) || math.IsInf(m, 0) || !(alpha > 0 && alpha < 1) || !(power > 0 && power < 1) {
		return math.NaN()
	}
	std := distuv.UnitNormal
	return (std.Quantile(1-alpha/2) + std.Quantile(power)) * math.Sqrt(1/n+1/m)
}
