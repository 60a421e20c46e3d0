package stats

import (
	"math"
	"slices"
)

// ksExactMaxN is scipy.stats.ks_2samp's MAX_AUTO_N: method='auto' computes
// the exact p-value when both sample sizes are at most this.
const ksExactMaxN = 10000

// KS2SampAuto returns the two-sample Kolmogorov-Smirnov statistic d and its
// two-sided p-value p for the raw samples x and y exactly as
// scipy.stats.ks_2samp(x, y, method='auto', alternative='two-sided'):
//
//	D = sup_t |F_x(t) - F_y(t)|
//	max(n, m) <= 10000:  h = round(D * lcm(n, m)),  D = h / lcm(n, m),
//	                     p = P(D_{n,m} >= D) by exact lattice-path counting
//	otherwise:           p = KolmogorovN(round(n*m/(n+m)), D)
//
// The exact p counts the monotone lattice paths from (0, 0) to (n, m) that
// leave the band |i/n - j/m| < h/lcm(n, m) (the "inside method" of Hodges
// 1958, in the 1 - p form of Viehmann 2021); for n == m the closed
// alternating binomial sum of Gnedenko and Korolyuk is used. As in scipy,
// the exact distribution assumes continuous data (no ties); with ties it is
// conservative. If the exact computation fails numerically (a result
// outside [0, 1]) the asymptotic branch is used, as scipy does after its
// RuntimeWarning. Rounding follows numpy (half to even).
//
// KS2SampAuto sorts copies and does not modify x or y; it allocates
// O(n + m) float64s, and the exact path takes O(max(n,m) * min(n,m)) time in
// the worst case. It returns NaN, NaN if either sample is empty or contains
// NaN (scipy propagates NaN); ±Inf are ordinary values.
//
// References: Hodges, J. L. (1958), The significance probability of the
// Smirnov two-sample test, Ark. Mat. 3(43); Durbin, J. (1973), Distribution
// theory for tests based on the sample distribution function, SIAM;
// Viehmann, T. (2021), Numerically more stable computation of the p-values
// for the two-sample Kolmogorov-Smirnov test, arXiv:2102.08037; Simard, R. and
// L'Ecuyer, P. (2011), J. Stat. Softw. 39(11).
func KS2SampAuto(x, y []float64) (d, p float64) {
	d, _ = KS2Samp(x, y)
	if math.IsNaN(d) {
		return math.NaN(), math.NaN()
	}
	n1, n2 := len(x), len(y)
	if max(n1, n2) <= ksExactMaxN {
		if dd, pp, ok := ksExact2Samp(n1, n2, d); ok {
			return dd, pp
		}
	}
	return d, ksKstwoPValue(d, float64(n1), float64(n2))
}

// ksKstwoPValue returns scipy's asymptotic two-sided p-value
// kstwo.sf(d, round(en)), en = n*m/(n+m), with round(en) raised to at least 1.
func ksKstwoPValue(d, n, m float64) float64 {
	big, small := max(n, m), min(n, m)
	en := big * small / (big + small)
	k := math.RoundToEven(en)
	if !(k >= 1) {
		k = 1
	}
	if k > math.MaxInt32 {
		k = math.MaxInt32
	}
	return KolmogorovN(int(k), d)
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// ksExact2Samp ports scipy's _attempt_exact_2kssamp for the two-sided
// alternative.
func ksExact2Samp(n1, n2 int, d float64) (float64, float64, bool) {
	g := gcd(n1, n2)
	lcm := (n1 / g) * n2
	h := int(math.RoundToEven(d * float64(lcm)))
	d = float64(h) / float64(lcm)
	if h == 0 {
		return d, 1, true
	}
	var p float64
	if n1 == n2 {
		p = ksProbOutsideSquare(n1, h)
	} else {
		p = ksOuterProbInside(n1, n2, g, h)
	}
	if !(p >= 0 && p <= 1) {
		return d, p, false
	}
	return d, p, true
}

// ksProbOutsideSquare returns P(D_{n,n} >= h/n) as
// 2 sum_{k>=1} (-1)^(k-1) C(2n, n-kh) / C(2n, n), evaluated in scipy's
// Horner-like nested form to avoid cancellation.
func ksProbOutsideSquare(n, h int) float64 {
	var P float64
	for k := n / h; k >= 0; k-- {
		p1 := 1.0
		for j := 0; j < h; j++ {
			p1 = float64(n-k*h-j) * p1 / float64(n+k*h+j+1)
		}
		P = p1 * (1 - P)
	}
	return 2 * P
}

// ksOuterProbInside returns the proportion of lattice paths from (0, 0) to
// (m, n) that do not stay strictly inside |x/m - y/n| < h/lcm(m, n)
// (scipy's _compute_outer_prob_inside_method).
func ksOuterProbInside(m, n, g, h int) float64 {
	if m < n {
		m, n = n, m
	}
	mg, ng := m/g, n/g
	minj, maxj := 0, min(int(math.Ceil(float64(h)/float64(mg))), n+1)
	curlen := maxj - minj
	lenA := min(2*maxj+2, n+1)
	A := make([]float64, lenA)
	for i := range A {
		A[i] = 1
	}
	for i := minj; i < maxj; i++ {
		A[i] = 0
	}
	for i := 1; i <= m; i++ {
		lastminj, lastlen := minj, curlen
		minj = max(int(math.Floor(float64(ng*i-h)/float64(mg)))+1, 0)
		minj = min(minj, n)
		maxj = min(int(math.Ceil(float64(ng*i+h)/float64(mg))), n+1)
		if maxj <= minj {
			return 1
		}
		val := 1.0
		if minj == 0 {
			val = 0
		}
		for jj := 0; jj < maxj-minj; jj++ {
			j := jj + minj
			val = (A[jj+minj-lastminj]*float64(i) + val*float64(j)) / float64(i+j)
			A[jj] = val
		}
		curlen = maxj - minj
		if lastlen > curlen {
			for q := maxj - minj; q < min(maxj-minj+(lastlen-curlen), lenA); q++ {
				A[q] = 1
			}
		}
	}
	return A[maxj-minj-1]
}

// sortedFinite returns a sorted copy of x and whether it is non-empty and
// free of NaN.
func sortedFinite(x []float64) ([]float64, bool) {
	if len(x) == 0 {
		return nil, false
	}
	s := slices.Clone(x)
	slices.Sort(s)
	return s, !math.IsNaN(s[0])
}
