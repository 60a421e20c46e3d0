package stats

import (
	"math"
)

// Hellinger returns the Hellinger distance (dimensionless, in [0, 1])
// between the distributions p and q over the same bins, after normalizing
// each to sum 1:
//
//	H(p, q) = sqrt(1 - sum_i sqrt(p_i q_i)) = (1/sqrt 2) ||sqrt p - sqrt q||_2
//
// This is the normalization WhyLabs uses (1 - Bhattacharyya coefficient
// under the root), so identical distributions give 0 and disjoint ones 1. It
// is evaluated in the second, cancellation-free form: the first loses about
// half the digits as H approaches 0 (identical inputs give 1e-8 instead of 0). It returns NaN if either
// vector sums to 0 or holds a negative or non-finite value, and panics if
// len(p) != len(q). It does not allocate.
//
// Reference: Hellinger, E. (1909), J. Reine Angew. Math. 136; Le Cam, L. and
// Yang, G. L. (2000), Asymptotics in Statistics, 2nd ed.
func Hellinger(p, q []float64) float64 {
	mustSameLen("Hellinger", len(p), len(q))
	sp, okP := total(p)
	sq, okQ := total(q)
	if !okP || !okQ || sp == 0 || sq == 0 {
		return math.NaN()
	}
	var ss float64
	for i := range p {
		d := math.Sqrt(p[i]/sp) - math.Sqrt(q[i]/sq)
		ss += d * d
	}
	return min(math.Sqrt(ss/2), 1) // rounding can exceed 1 for disjoint p, q
}

// KLDivergence returns the Kullback-Leibler divergence KL(p || q) in nats
// (>= 0, possibly +Inf) of p from q over the same bins, each normalized to
// sum 1, as scipy.stats.entropy(p, q):
//
//	KL(p || q) = sum_{i: p_i > 0} p_i ln(p_i / q_i)
//
// If eps <= 0 (or NaN) a bin with p_i > 0 and q_i == 0 makes the result
// +Inf, exactly as scipy. If eps > 0, every zero proportion of q is replaced
// by eps and q is renormalized to sum 1 before the sum (scipy.stats.entropy
// on that smoothed q), giving a finite value. p needs no smoothing: terms
// with p_i == 0 are 0. A proportion that underflows float64 (a count below
// 2^-1074 of its total) counts as 0. It returns NaN if either vector sums to 0 or holds a
// negative or non-finite value, and panics if len(p) != len(q). It does not
// allocate.
//
// Reference: Kullback, S. and Leibler, R. A. (1951), On information and
// sufficiency, Ann. Math. Stat. 22(1).
func KLDivergence(p, q []float64, eps float64) float64 {
	mustSameLen("KLDivergence", len(p), len(q))
	sp, okP := total(p)
	sq, okQ := total(q)
	if !okP || !okQ || sp == 0 || sq == 0 {
		return math.NaN()
	}
	smooth := eps > 0 && !math.IsInf(eps, 1)
	qt := 1.0
	if smooth {
		qt = 0
		for _, v := range q {
			if v == 0 {
				qt += eps
			} else {
				qt += v / sq
			}
		}
	}
	var kl float64
	for i := range p {
		pi := p[i] / sp
		if pi == 0 {
			continue // also a count below 2^-1074 of its total
		}
		qi := q[i] / sq
		if qi == 0 {
			if !smooth {
				return math.Inf(1)
			}
			qi = eps
		}
		kl += pi * logRatio(pi, qi/qt)
	}
	return max(kl, 0)
}

// logRatio returns ln(a/b) for a, b > 0 as ln(a/b) (scipy's operation
// order) unless a/b overflows or is subnormal, where it returns ln a - ln b:
// tiny but non-zero proportions must give a large finite term, not ±Inf or
// a logarithm of a ratio that lost its precision.
func logRatio(a, b float64) float64 {
	r := a / b
	if r < 0x1p-1022 || math.IsInf(r, 1) {
		return ln(a) - ln(b)
	}
	return math.Log(r)
}

// ln is math.Log, correct for subnormal x as well: on amd64 (and s390x)
// math.Log mis-normalizes subnormal arguments (golang/go#56600:
// math.Log(5e-324) is -709.09, not -744.44), so they are scaled into the
// normal range first.
func ln(x float64) float64 {
	if x > 0 && x < 0x1p-1022 {
		return math.Log(x*0x1p54) - 54*math.Ln2
	}
	return math.Log(x)
}

// TotalVariation returns the total variation distance (dimensionless, in
// [0, 1]) between p and q over the same bins, each normalized to sum 1:
//
//	TV(p, q) = (1/2) sum_i |p_i - q_i|
//
// It returns NaN if either vector sums to 0 or holds a negative or
// non-finite value, and panics if len(p) != len(q). It does not allocate.
//
// Reference: Levin, D. A. and Peres, Y. (2017), Markov Chains and Mixing
// Times, 2nd ed., section 4.1.
func TotalVariation(p, q []float64) float64 {
	mustSameLen("TotalVariation", len(p), len(q))
	sp, okP := total(p)
	sq, okQ := total(q)
	if !okP || !okQ || sp == 0 || sq == 0 {
		return math.NaN()
	}
	var s float64
	for i := range p {
		s += math.Abs(p[i]/sp - q[i]/sq)
	}
	// Rounded proportions can sum past 1: [1 0] against [0 7 7 1]-like
	// inputs gave 1.0000000000000002.
	return min(s/2, 1)
}

// LInfinity returns the L-infinity distance (dimensionless, in [0, 1])
// between p and q over the same bins, each normalized to sum 1:
//
//	L_inf(p, q) = max_i |p_i - q_i|
//
// This is the categorical skew/drift measure of Vertex AI Model Monitoring.
// It returns NaN if either vector sums to 0 or holds a negative or
// non-finite value, and panics if len(p) != len(q). It does not allocate.
//
// Reference: Google Cloud, Vertex AI Model Monitoring, "Calculating
// training-serving skew and prediction drift" (L-infinity distance).
func LInfinity(p, q []float64) float64 {
	mustSameLen("LInfinity", len(p), len(q))
	sp, okP := total(p)
	sq, okQ := total(q)
	if !okP || !okQ || sp == 0 || sq == 0 {
		return math.NaN()
	}
	var d float64
	for i := range p {
		d = max(d, math.Abs(p[i]/sp-q[i]/sq))
	}
	return d
}

// GTest returns the log-likelihood ratio (G) statistic stat, its p-value p
// and degrees of freedom dof for homogeneity of the 2 x k table with rows
// ref and cur, as scipy.stats.chi2_contingency(table, correction=False,
// lambda_="log-likelihood") on the table without empty columns:
//
//	G = 2 sum_{r,i: O_ri > 0} O_ri ln(O_ri / E_ri),  E_ri = row_r col_i / N
//	p = P(chi2(dof) > G),  dof = k' - 1
//
// with k' the number of non-empty categories; unseen categories (ref[i] ==
// 0 < cur[i]) are kept, as in ChiSquared. With dof == 0 it returns 0, 1, 0;
// it returns NaN, NaN, 0 if either row sums to 0 or holds a negative or
// non-finite count, and panics if len(ref) != len(cur). It does not
// allocate.
//
// Reference: Woolf, B. (1957), The log likelihood ratio test (the G-test),
// Ann. Hum. Genet. 21(4); Sokal, R. R. and Rohlf, F. J. (1995), Biometry,
// 3rd ed.
func GTest(ref, cur []float64) (stat, p float64, dof int) {
	mustSameLen("GTest", len(ref), len(cur))
	return homogeneity(ref, cur, gTerm)
}

// gTerm is one cell's 2 O ln(O/E); an empty cell contributes 0.
func gTerm(o, e float64) float64 {
	if o == 0 {
		return 0
	}
	return 2 * o * math.Log(o/e)
}

// ProportionZTest returns the pooled two-proportion z statistic and its
// two-sided p-value for x1 successes out of n1 trials against x2 out of n2,
// as statsmodels.stats.proportion.proportions_ztest([x1, x2], [n1, n2]):
//
//	p_hat = (x1 + x2)/(n1 + n2),  se = sqrt(p_hat (1 - p_hat) (1/n1 + 1/n2))
//	z = (x1/n1 - x2/n2) / se,  p = erfc(|z|/sqrt 2)
//
// It returns NaN, NaN if a count is negative or non-finite, n1 or n2 is 0,
// x1 > n1 or x2 > n2, or se is 0 (both proportions 0 or both 1).
//
// Reference: Fleiss, J. L., Levin, B. and Paik, M. C. (2003), Statistical
// Methods for Rates and Proportions, 3rd ed., section 2.6.
func ProportionZTest(x1, n1, x2, n2 float64) (z, p float64) {
	for _, v := range [...]float64{x1, n1, x2, n2} {
		if !(v >= 0) || math.IsInf(v, 1) {
			return math.NaN(), math.NaN()
		}
	}
	if n1 == 0 || n2 == 0 || x1 > n1 || x2 > n2 {
		return math.NaN(), math.NaN()
	}
	ph := (x1 + x2) / (n1 + n2)
	se := math.Sqrt(ph * (1 - ph) * (1/n1 + 1/n2))
	if !(se > 0) {
		return math.NaN(), math.NaN()
	}
	z = (x1/n1 - x2/n2) / se
	return z, math.Erfc(math.Abs(z) / math.Sqrt2)
}
