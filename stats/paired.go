package stats

import (
	"math"

	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/stat/distuv"
)

// McNemarExact returns the two-sided p-value of McNemar's exact test on
// paired binary outcomes, from the two discordant counts of their 2x2
// table: b pairs where only the first member succeeded and c where only
// the second did (the concordant pairs do not enter it). Under H0 both
// members succeed equally often, so b is Binomial(b + c, 1/2):
//
//	p = min(1, 2 P(X <= min(b, c))),  X ~ Binomial(b + c, 1/2)
//
// as statsmodels.stats.contingency_tables.mcnemar(table, exact=True), its
// default. The binomial tail is the regularized incomplete beta function
// (gonum's mathext.RegIncBeta), exact for any b + c; p is 1 when b + c is
// 0. It returns NaN if b or c is negative, not finite or not a whole
// number.
//
// Reference: McNemar, Q. (1947), Note on the sampling error of the
// difference between correlated proportions or percentages,
// Psychometrika 12(2); Fagerland, M. W., Lydersen, S. and Laake, P.
// (2013), The McNemar test for binary matched-pairs data: mid-p and
// asymptotic are better than exact conditional, BMC Med. Res. Methodol.
// 13:91 (the exact test is conservative, never anti-conservative).
func McNemarExact(b, c float64) float64 {
	for _, v := range [...]float64{b, c} {
		if !(v >= 0) || math.IsInf(v, 1) || v != math.Trunc(v) {
			return math.NaN()
		}
	}
	n, k := b+c, min(b, c)
	if 2*k >= n { // b == c (or n == 0): the tail holds at least half the mass
		return 1
	}
	// P(X <= k) = I_{1/2}(n - k, k + 1).
	return min(1, 2*mathext.RegIncBeta(n-k, k+1, 0.5))
}

// PairedTTestMoments returns Student's paired t statistic, its degrees of
// freedom and two-sided p-value from the moments d of the pairs'
// differences (first minus second member): a one-sample t-test of mean 0,
//
//	s^2 = M2/(N - 1),  t = Mean / sqrt(s^2/N),  df = N - 1,  p = 2 P(T_df > |t|)
//
// as scipy.stats.ttest_rel(a, b). It returns NaN, NaN, NaN if N is below
// 2 or d is not finite (as WelchTTestMoments), and t = ±Inf (NaN for a
// mean of 0) with df and p NaN when every difference is the same: the test
// is undefined without variance (SciPy then gives p = 0 for a non-zero
// mean, and NaN for 0). The Student t tail comes from gonum.
//
// Reference: Student (1908), The probable error of a mean, Biometrika
// 6(1).
func PairedTTestMoments(d Moments) (t, df, p float64) {
	if !validMoments(d) {
		return math.NaN(), math.NaN(), math.NaN()
	}
	// Scaled by powers of two (exact) as welch does, so that no
	// intermediate over- or underflows.
	em := binaryExp(math.Abs(d.Mean))
	ev := binaryExp(math.Sqrt(d.M2) / d.N)
	v := math.Ldexp(d.M2, -2*ev) / (d.N - 1) / d.N
	t = math.Ldexp(math.Ldexp(d.Mean, -em)/math.Sqrt(v), em-ev)
	df = d.N - 1
	if !(v > 0) || math.IsNaN(t) {
		return t, math.NaN(), math.NaN()
	}
	return t, df, min(2*distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Survival(math.Abs(t)), 1)
}
