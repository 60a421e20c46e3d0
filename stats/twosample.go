package stats

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// EnergyDistance returns the energy distance, in the units of the values,
// between the weighted empirical distributions u and v on the real line, as
// scipy.stats.energy_distance(u, v, uWeights, vWeights):
//
//	E(u, v) = sqrt(2 integral (U(t) - V(t))^2 dt) = (2 E|X-Y| - E|X-X'| - E|Y-Y'|)^(1/2)
//
// where U and V are the normalized weighted CDFs. A nil weight slice gives
// every value weight 1. It returns NaN for an empty input, a NaN or ±Inf
// value, a negative or non-finite weight or a zero total weight, and panics
// if a non-nil weight slice's length differs from its values' length. It
// allocates 2*(len(u)+len(v)) float64s.
//
// References: Székely, G. J. and Rizzo, M. L. (2013), Energy statistics: a
// class of statistics based on distances, J. Stat. Plan. Inference 143(8);
// Rizzo, M. L. and Székely, G. J. (2016), Energy distance, WIREs Comput.
// Stat. 8(1).
func EnergyDistance(u, uWeights, v, vWeights []float64) float64 {
	us, tu, okU := sortedAtoms("u", u, uWeights)
	vs, tv, okV := sortedAtoms("v", v, vWeights)
	if !okU || !okV || math.IsInf(us[0].v, 0) || math.IsInf(us[len(us)-1].v, 0) ||
		math.IsInf(vs[0].v, 0) || math.IsInf(vs[len(vs)-1].v, 0) {
		return math.NaN()
	}
	return math.Sqrt(2 * cdfDistance(us, tu, vs, tv, func(d float64) float64 { return d * d }))
}

// meanVar returns the moments (N, mean and sum of squared deviations M2) of
// x by two passes, and false if x is empty or holds NaN or ±Inf.
func meanVar(x []float64) (Moments, bool) { return meanVarScaled(x, 0) }

// meanVarScaled returns the moments of x scaled by 2^-e, computed on the
// scaled values (exact multiplications), and false if x is empty or holds
// NaN or ±Inf. With e from scaleExp the sums cannot overflow.
func meanVarScaled(x []float64, e int) (Moments, bool) {
	var m Moments
	if len(x) == 0 {
		return m, false
	}
	scale := func(v float64) float64 { return v }
	if e != 0 {
		scale = func(v float64) float64 { return math.Ldexp(v, -e) }
	}
	var s float64
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return m, false
		}
		s += scale(v)
	}
	n := float64(len(x))
	mean := s / n
	var ss float64
	for _, v := range x {
		d := scale(v) - mean
		ss += d * d
	}
	return Moments{N: n, Mean: mean, M2: ss}, true
}

// scaleExp returns the binary exponent e of the largest finite magnitude in
// xs (0 if there is none), so that the values scaled by 2^-e lie in (-1, 1):
// their sums and squared deviations cannot overflow. Scale-invariant
// statistics fall back to the values scaled by 2^-e when the unscaled sums
// overflow; a power-of-two scale is exact (only values below 2^-1022 of the
// largest lose digits).
func scaleExp(xs ...[]float64) int {
	var big float64
	for _, x := range xs {
		for _, v := range x {
			if a := math.Abs(v); a > big && !math.IsInf(a, 1) {
				big = a
			}
		}
	}
	if big == 0 {
		return 0
	}
	_, e := math.Frexp(big)
	return e
}

// WelchTTest returns Welch's two-sample t statistic t, its
// Welch-Satterthwaite degrees of freedom df and the two-sided p-value p for
// the raw samples x and y, as scipy.stats.ttest_ind(x, y, equal_var=False);
// see WelchTTestMoments for the formulas. The statistics do not change when
// both samples are scaled by the same factor, so if a sum or sum of squares
// over- or underflows float64 they are computed on the values scaled
// (exactly) by a power of two into (-1, 1): finite values of any size give a
// defined t, except that a sample whose values lie below 2^-1000 of the other
// sample's largest magnitude may lose its variance to underflow. It returns
// NaN, NaN, NaN if either sample has fewer than two values or holds NaN or
// ±Inf.
func WelchTTest(x, y []float64) (t, df, p float64) {
	a, okA := meanVar(x)
	b, okB := meanVar(y)
	if !okA || !okB {
		return math.NaN(), math.NaN(), math.NaN()
	}
	if !validMoments(a) || !validMoments(b) || lostSpread(a, x) || lostSpread(b, y) {
		e := scaleExp(x, y)
		a, _ = meanVarScaled(x, e)
		b, _ = meanVarScaled(y, e)
	}
	return WelchTTestMoments(a, b)
}

// lostSpread reports whether the moments m of x have M2 == 0 although x is
// not constant: its squared deviations underflowed (subnormal data).
func lostSpread(m Moments, x []float64) bool {
	if m.M2 != 0 {
		return false
	}
	for _, v := range x {
		if v != x[0] {
			return true
		}
	}
	return false
}

// validMoments reports whether m holds at least two observations and
// finite moments (M2 >= 0).
func validMoments(m Moments) bool {
	return m.N >= 2 && !math.IsInf(m.N, 1) && !math.IsNaN(m.Mean) && !math.IsInf(m.Mean, 0) &&
		m.M2 >= 0 && !math.IsInf(m.M2, 1)
}

// binaryExp returns the binary exponent e of x (x = f 2^e, f in [0.5, 1)),
// or 0 for x == 0.
func binaryExp(x float64) int {
	_, e := math.Frexp(x)
	return e
}

// welch returns t = (Mean_a - Mean_b)/sqrt(v_a + v_b) for valid a and b,
// and their squared standard errors v = M2/((N-1) N) times 2^-2ev. The
// means are scaled by 2^-em and the standard errors by 2^-ev, em and ev the
// binary exponents of the largest of each, so that no intermediate over- or
// underflows; t is scaled back by 2^(em-ev) at the end (and may overflow to
// ±Inf then). Power-of-two scaling is exact for normal numbers, so results
// only differ from the plain formula where that would over- or underflow.
func welch(a, b Moments) (t, va, vb float64) {
	em := binaryExp(max(math.Abs(a.Mean), math.Abs(b.Mean)))
	ev := binaryExp(max(math.Sqrt(a.M2)/a.N, math.Sqrt(b.M2)/b.N))
	va = math.Ldexp(a.M2, -2*ev) / (a.N - 1) / a.N
	vb = math.Ldexp(b.M2, -2*ev) / (b.N - 1) / b.N
	d := math.Ldexp(a.Mean, -em) - math.Ldexp(b.Mean, -em)
	return math.Ldexp(d/math.Sqrt(va+vb), em-ev), va, vb
}

// WelchTTestMoments returns Welch's t statistic, degrees of freedom and
// two-sided p-value from the moments a and b of two samples:
//
//	s_a^2 = M2_a/(N_a - 1),  v_a = s_a^2/N_a  (likewise b)
//	t  = (Mean_a - Mean_b) / sqrt(v_a + v_b)
//	df = (v_a + v_b)^2 / (v_a^2/(N_a-1) + v_b^2/(N_b-1))
//	p  = 2 P(T_df > |t|)
//
// It returns NaN, NaN, NaN if either N is below 2 or either Moments is not
// finite (a NaN or infinite N, Mean or M2, or a negative M2: the moments
// of a stream that held NaN or ±Inf, or were built by hand). When both
// variances are 0, t is ±Inf (or NaN for equal means) and df and p are
// NaN: a t-test is undefined without variance. (SciPy 1.17 instead
// replaces such a df by 1 and gives p = 0 for different means; the golden
// tests list this case as a documented divergence.) Means and variances are scaled (exactly) by powers of
// two before use, and df is evaluated on the variances scaled by their
// maximum when the plain formula still under- or overflows, so valid
// moments of any magnitude give a defined result (t may overflow to ±Inf).
// The Student t tail comes from gonum.
//
// Reference: Welch, B. L. (1947), The generalization of "Student's" problem
// when several different population variances are involved, Biometrika
// 34(1-2).
func WelchTTestMoments(a, b Moments) (t, df, p float64) {
	if !validMoments(a) || !validMoments(b) {
		return math.NaN(), math.NaN(), math.NaN()
	}
	t, va, vb := welch(a, b)
	se2 := va + vb
	if se2 == 0 {
		// Both variances 0: t is ±Inf or NaN, df is 0/0 (see the doc).
		return t, math.NaN(), math.NaN()
	}
	df = se2 * se2 / (va*va/(a.N-1) + vb*vb/(b.N-1))
	if !(df > 0) || math.IsInf(df, 1) {
		s := max(va, vb)
		ra, rb := va/s, vb/s
		df = (ra + rb) * (ra + rb) / (ra*ra/(a.N-1) + rb*rb/(b.N-1))
	}
	if math.IsNaN(t) || math.IsNaN(df) {
		return t, df, math.NaN()
	}
	if math.IsInf(df, 0) {
		return t, df, math.Erfc(math.Abs(t) / math.Sqrt2)
	}
	return t, df, min(2*distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Survival(math.Abs(t)), 1)
}

// ZTestMeans returns the large-sample z statistic for the difference of the
// means of two streams summarized by a and b, and its two-sided p-value:
//
//	z = (Mean_a - Mean_b) / sqrt(s_a^2/N_a + s_b^2/N_b),  s^2 = M2/(N-1)
//	p = 2 (1 - Phi(|z|)) = erfc(|z|/sqrt 2)
//
// It is Welch's statistic with the normal instead of the t reference, apt
// for the large windows of a drift monitor. It returns NaN, NaN if either N
// is below 2, either Moments is not finite (as WelchTTestMoments), or the
// standard error is 0 (z undefined).
//
// Reference: e.g. Casella, G. and Berger, R. L. (2002), Statistical
// Inference, 2nd ed., section 10.3.
func ZTestMeans(a, b Moments) (z, p float64) {
	if !validMoments(a) || !validMoments(b) {
		return math.NaN(), math.NaN()
	}
	z, va, vb := welch(a, b)
	if !(va+vb > 0) {
		return math.NaN(), math.NaN()
	}
	return z, math.Erfc(math.Abs(z) / math.Sqrt2)
}

// WassersteinNormalized returns the first Wasserstein distance between the
// unweighted samples ref and cur divided by the population standard
// deviation of ref (dimensionless):
//
//	W1_norm = W1(ref, cur) / std(ref),  std(ref) = sqrt(sum (r - mean)^2 / n)
//
// as Evidently's "wasserstein_distance_norm" (numpy std, ddof = 0). If the
// sum of squares of ref over- or underflows float64, the ratio is computed
// on both samples scaled (exactly) by a power of two, which allocates two
// more copies. It returns NaN if either sample is empty or holds NaN or
// ±Inf, or ref is constant.
func WassersteinNormalized(ref, cur []float64) float64 {
	m, ok := meanVar(ref)
	if !ok {
		return math.NaN()
	}
	for _, v := range cur {
		if math.IsInf(v, 0) {
			return math.NaN()
		}
	}
	if m.N < 2 || validMoments(m) && !lostSpread(m, ref) {
		s := math.Sqrt(m.M2 / m.N)
		if !(s > 0) {
			return math.NaN()
		}
		return Wasserstein(ref, nil, cur, nil) / s
	}
	// The ratio is scale-invariant: evaluate both on copies scaled by 2^-e.
	e := scaleExp(ref)
	m, _ = meanVarScaled(ref, e)
	s := math.Sqrt(m.M2 / m.N)
	if !(s > 0) {
		return math.NaN()
	}
	scaled := func(x []float64) []float64 {
		out := make([]float64, len(x))
		for i, v := range x {
			out[i] = math.Ldexp(v, -e)
		}
		return out
	}
	return Wasserstein(scaled(ref), nil, scaled(cur), nil) / s
}
