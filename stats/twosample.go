package stats

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Interpolation table of Scholz and Stephens (1987), Table 2, as in
// scipy.stats.anderson_ksamp.
var (
	adB0  = [...]float64{0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085}
	adB1  = [...]float64{-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615}
	adB2  = [...]float64{-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154}
	adSig = [...]float64{0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001}
)

// AndersonDarlingKSample returns the standardized k-sample Anderson-Darling
// statistic stat (dimensionless) and its approximate p-value for two or more
// raw samples, as scipy.stats.anderson_ksamp(samples, variant='midrank')
// (the midrank=True default):
//
//	A2akN = (N-1)/N^2 sum_i 1/n_i sum_j l_j (N M_ij - n_i B_j)^2 / (B_j (N - B_j) - N l_j/4)
//	stat  = (A2akN - (k-1)) / sigma_N
//
// where the j run over the distinct pooled values z_j with multiplicity l_j,
// B_j = #{z < z_j} + l_j/2 and M_ij = #{x in sample i : x < z_j} + f_ij/2
// (midranks, Scholz and Stephens' equation 7), and sigma_N^2 is their
// finite-sample variance (equation 4). The p-value interpolates log(alpha)
// quadratically in the critical values of Scholz and Stephens' Table 2 and,
// exactly like scipy, is capped to [0.001, 0.25]: below the smallest
// critical value p = 0.25 and above the largest p = 0.001 (scipy warns
// "p-value capped/floored"; here the cap is silent, so treat 0.25 as
// ">= 0.25" and 0.001 as "<= 0.001").
//
// It returns NaN, NaN when fewer than two samples are given, a sample is
// empty or holds NaN, or the pooled data have fewer than two distinct values
// (scipy raises); with N <= 3 the variance formula is undefined and the
// result is ±Inf or NaN, as in scipy. It allocates O(N) float64s.
//
// Reference: Scholz, F. W. and Stephens, M. A. (1987), K-sample
// Anderson-Darling tests, J. Am. Stat. Assoc. 82(399).
func AndersonDarlingKSample(samples ...[]float64) (stat, pValue float64) {
	k := len(samples)
	if k < 2 {
		return math.NaN(), math.NaN()
	}
	sorted := make([][]float64, k)
	total := 0
	for _, s := range samples {
		total += len(s)
	}
	z := make([]float64, 0, total)
	for i, s := range samples {
		ss, ok := sortedFinite(s)
		if !ok {
			return math.NaN(), math.NaN()
		}
		sorted[i] = ss
		z = append(z, ss...)
	}
	slices.Sort(z)
	N := len(z)
	fN := float64(N)
	// Distinct values with B_j and l_j.
	type atom struct{ v, lj, bj float64 }
	atoms := make([]atom, 0, N)
	for i := 0; i < N; {
		j := i
		for j < N && z[j] == z[i] {
			j++
		}
		lj := float64(j - i)
		atoms = append(atoms, atom{v: z[i], lj: lj, bj: float64(i) + lj/2})
		i = j
	}
	if len(atoms) < 2 {
		return math.NaN(), math.NaN()
	}
	var a2 float64
	for _, s := range sorted {
		ni := float64(len(s))
		var inner float64
		p := 0 // s[:p] < current atom
		for _, at := range atoms {
			for p < len(s) && s[p] < at.v {
				p++
			}
			q := p
			for q < len(s) && s[q] == at.v {
				q++
			}
			fij := float64(q - p)
			mij := float64(q) - fij/2
			dd := fN*mij - at.bj*ni
			inner += at.lj / fN * dd * dd / (at.bj*(fN-at.bj) - fN*at.lj/4)
		}
		a2 += inner / ni
	}
	a2 *= (fN - 1) / fN

	var H float64
	for _, s := range sorted {
		H += 1 / float64(len(s))
	}
	// hs_cs[t] = sum_{i=N-1-t}^{N-1} 1/i, t = 0..N-3; h = hs_cs[-1] + 1.
	var cs, g float64
	for t := 0; t < N-2; t++ {
		cs += 1 / float64(N-1-t)
		g += cs / float64(t+2)
	}
	h := cs + 1
	fk := float64(k)
	a := (4*g-6)*(fk-1) + (10-6*g)*H
	b := (2*g-4)*fk*fk + 8*h*fk + (2*g-14*h-4)*H - 8*h + 4*g - 6
	c := (6*h+2*g-2)*fk*fk + (4*h-4*g+6)*fk + (2*h-6)*H + 4*h
	d := (2*h+6)*fk*fk - 4*h*fk
	sigmasq := (a*fN*fN*fN + b*fN*fN + c*fN + d) / ((fN - 1) * (fN - 2) * (fN - 3))
	m := fk - 1
	stat = (a2 - m) / math.Sqrt(sigmasq)

	var crit [7]float64
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range crit {
		crit[i] = adB0[i] + adB1[i]/math.Sqrt(m) + adB2[i]/m
		lo, hi = min(lo, crit[i]), max(hi, crit[i])
	}
	switch {
	case stat < lo:
		return stat, 0.25
	case stat > hi:
		return stat, 0.001
	}
	// Least-squares quadratic through (crit, log sig), as numpy.polyfit.
	V := mat.NewDense(7, 3, nil)
	y := mat.NewVecDense(7, nil)
	for i := range crit {
		V.Set(i, 0, crit[i]*crit[i])
		V.Set(i, 1, crit[i])
		V.Set(i, 2, 1)
		y.SetVec(i, math.Log(adSig[i]))
	}
	var qr mat.QR
	qr.Factorize(V)
	var coef mat.VecDense
	if err := qr.SolveVecTo(&coef, false, y); err != nil {
		return stat, math.NaN()
	}
	return stat, math.Exp((coef.AtVec(0)*stat+coef.AtVec(1))*stat + coef.AtVec(2))
}

// cvmExactMaxN is scipy's cut-over: cramervonmises_2samp(method='auto')
// computes the exact p-value when both sample sizes are at most 20.
const cvmExactMaxN = 20

// CramerVonMises2Samp returns the two-sample Cramér-von Mises statistic T
// (dimensionless) and its p-value as scipy.stats.cramervonmises_2samp(x, y,
// method='auto'):
//
//	U = n sum_i (r_i - i)^2 + m sum_j (s_j - j)^2
//	T = U / (n m (n+m)) - (4 n m - 1) / (6 (n+m))
//
// where r_i (s_j) are the midranks of the sorted x (y) in the pooled sample.
// If max(n, m) <= 20 the p-value is exact, from the generating-function
// recursion of Xiao, Gordon and Yakovlev (2006) over all C(n+m, n) rank
// splits; otherwise T is standardized with Anderson's (1962) mean and
// variance and p = 1 - CvM_inf(T_n) from the limiting distribution
// (Csörgő and Faraway 1996, eq. 1.2; the Bessel K_{1/4} in its series is
// evaluated by trapezoidal quadrature of its integral representation), and
// p = 1 when the standardized statistic is below 0.003.
//
// It returns NaN, NaN if either sample has fewer than two values or holds
// NaN (as scipy). It allocates O(n+m); the exact path is O(n m ...) in maps.
//
// References: Anderson, T. W. (1962), On the distribution of the
// two-sample Cramér-von Mises criterion, Ann. Math. Stat. 33(3); Xiao, Y.,
// Gordon, A. and Yakovlev, A. (2006), J. Stat. Softw. 17(8); Csörgő, S. and
// Faraway, J. J. (1996), J. R. Stat. Soc. B 58(1).
func CramerVonMises2Samp(x, y []float64) (stat, p float64) {
	nx, ny := len(x), len(y)
	if nx < 2 || ny < 2 {
		return math.NaN(), math.NaN()
	}
	xs, okX := sortedFinite(x)
	ys, okY := sortedFinite(y)
	if !okX || !okY {
		return math.NaN(), math.NaN()
	}
	// Midranks of the pooled sample via a merge of the sorted samples.
	rx := make([]float64, nx)
	ry := make([]float64, ny)
	i, j := 0, 0
	for i < nx || j < ny {
		var v float64
		switch {
		case i == nx:
			v = ys[j]
		case j == ny:
			v = xs[i]
		default:
			v = min(xs[i], ys[j])
		}
		i2, j2 := i, j
		for i2 < nx && xs[i2] == v {
			i2++
		}
		for j2 < ny && ys[j2] == v {
			j2++
		}
		r := float64(i+j) + float64(i2-i+j2-j+1)/2
		for q := i; q < i2; q++ {
			rx[q] = r
		}
		for q := j; q < j2; q++ {
			ry[q] = r
		}
		i, j = i2, j2
	}
	var sx, sy float64
	for q, r := range rx {
		dq := r - float64(q+1)
		sx += dq * dq
	}
	for q, r := range ry {
		dq := r - float64(q+1)
		sy += dq * dq
	}
	fx, fy := float64(nx), float64(ny)
	u := fx*sx + fy*sy
	k, N := fx*fy, fx+fy
	t := u/(k*N) - (4*k-1)/(6*N)
	if max(nx, ny) <= cvmExactMaxN {
		return t, cvmExactPValue(u, nx, ny)
	}
	et := (1 + 1/N) / 6
	vt := (N + 1) * (4*k*N - 3*(fx*fx+fy*fy) - 2*k)
	vt = vt / (45 * N * N * 4 * k)
	tn := 1.0/6 + (t-et)/math.Sqrt(45*vt)
	if !(tn >= 0.003) {
		return t, 1
	}
	return t, max(1-cvmCDFInf(tn), 0)
}

// cvmExactPValue ports scipy's _pval_cvm_2samp_exact: the fraction of the
// C(m+n, m) rank splits whose statistic is at least the observed U.
func cvmExactPValue(s float64, m, n int) float64 {
	lcm := m / gcd(m, n) * n
	a, b := lcm/m, lcm/n
	mn := m * n
	zeta := math.Floor(float64(lcm*lcm*(m+n)) * (6*s - float64(mn*(4*mn-1))) / float64(6*mn*mn))
	gs := make([]map[int64]float64, m+1)
	gs[0] = map[int64]float64{0: 1}
	for v := 1; v <= m; v++ {
		gs[v] = map[int64]float64{}
	}
	for u := 0; u <= n; u++ {
		next := make([]map[int64]float64, m+1)
		var tmp map[int64]float64
		for v, g := range gs {
			res := int64(a*v - b*u)
			res *= res
			nm := make(map[int64]float64, len(tmp)+len(g))
			for key, f := range tmp {
				nm[key+res] += f
			}
			for key, f := range g {
				nm[key+res] += f
			}
			next[v] = nm
			tmp = nm
		}
		gs = next
	}
	var hit float64
	for val, f := range gs[m] {
		if float64(val) >= zeta {
			hit += f
		}
	}
	comb := 1.0
	for i := 1; i <= m; i++ {
		comb = comb * float64(n+i) / float64(i)
	}
	return hit / math.Round(comb)
}

// cvmCDFInf returns the limiting Cramér-von Mises CDF (Csörgő and Faraway
// 1996, eq. 1.2), summing terms until one is below 1e-7 as scipy does.
func cvmCDFInf(x float64) float64 {
	var tot float64
	for k := 0; k < 1000; k++ {
		fk := float64(k)
		lg1, _ := math.Lgamma(fk + 0.5)
		lg2, _ := math.Lgamma(fk + 1)
		u := math.Exp(lg1-lg2) / (math.Pow(math.Pi, 1.5) * math.Sqrt(x))
		y := 4*fk + 1
		q := y * y / (16 * x)
		z := u * math.Sqrt(y) * expBesselK14(q)
		tot += z
		if !(math.Abs(z) >= 1e-7) {
			break
		}
	}
	return tot
}

// expBesselK14 returns exp(-q) K_{1/4}(q) for q > 0 from
// K_nu(q) = integral_0^inf exp(-q cosh t) cosh(nu t) dt by the trapezoidal
// rule, which converges geometrically for this entire, doubly-exponentially
// decaying integrand.
func expBesselK14(q float64) float64 {
	const step = 1.0 / 32
	sum := 0.5 * math.Exp(-2*q)
	for i := 1; i < 1<<16; i++ {
		t := float64(i) * step
		e := -q * (1 + math.Cosh(t))
		if e+t/4 < -750 {
			break
		}
		sum += math.Exp(e) * math.Cosh(t/4)
	}
	return sum * step
}

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
