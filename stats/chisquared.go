package stats

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// ChiSquared returns Pearson's chi-squared statistic stat (dimensionless,
// >= 0), its p-value p and the degrees of freedom dof for the test of
// homogeneity on the 2 x k contingency table whose rows are the reference
// counts ref and the current counts cur over the same k categories
// (category i is ref[i] and cur[i]):
//
//	E_ri = row_r * col_i / N,  stat = sum_{r,i} (O_ri - E_ri)^2 / E_ri,  dof = k' - 1
//	p = P(chi2(dof) > stat)
//
// where row_r and col_i are the table margins, N the grand total, and k' the
// number of categories whose column total is not 0. Categories empty in both
// rows are dropped; categories seen only in cur (ref[i] == 0) are kept, which
// is how unseen categories count towards drift. No continuity correction is
// applied, matching scipy.stats.chi2_contingency(table, correction=False) on
// the table without empty columns. p comes from gonum's chi-squared survival
// function.
//
// If dof is 0 (at most one non-empty category) ChiSquared returns 0, 1, 0.
// It returns NaN, NaN, 0 if either row sums to 0 (including empty slices) or
// holds a negative or non-finite count, since homogeneity with an empty sample
// is undefined. It panics if len(ref) != len(cur). It does not allocate.
//
// Reference: Pearson, K. (1900), On the criterion that a given system of
// deviations from the probable in the case of a correlated system of
// variables is such that it can be reasonably supposed to have arisen from
// random sampling, Phil. Mag. 5th ser. 50(302).
func ChiSquared(ref, cur []float64) (stat, p float64, dof int) {
	mustSameLen("ChiSquared", len(ref), len(cur))
	return homogeneity(ref, cur, pearsonTerm)
}

func pearsonTerm(o, e float64) float64 { d := o - e; return d * d / e }

// homogeneity sums term(O, E) over the cells of the 2 x k table with rows
// ref and cur (E_ri = row_r col_i / N), skipping empty columns, and returns
// the sum with its chi-squared p-value on k'-1 degrees of freedom. It is the
// shared core of ChiSquared and GTest (members of the Cressie-Read power
// divergence family, as scipy.stats.power_divergence).
func homogeneity(ref, cur []float64, term func(o, e float64) float64) (stat, p float64, dof int) {
	n, okRef := total(ref)
	m, okCur := total(cur)
	if !okRef || !okCur || n == 0 || m == 0 {
		return math.NaN(), math.NaN(), 0
	}
	// Both statistics are homogeneous of degree 1 in the counts, so the
	// cells are evaluated on the counts scaled by 2^-e, which brings the
	// grand total into [0.5, 2): row*col can then neither overflow nor
	// underflow (huge or subnormal weights would give Inf/Inf or 0/0). A
	// power-of-two scale is exact, so in the ordinary range the result is
	// bit-identical to the unscaled formula.
	_, e := math.Frexp(max(n, m))
	e++
	ns, ms := math.Ldexp(n, -e), math.Ldexp(m, -e)
	grand := ns + ms
	k := 0
	for i := range ref {
		if ref[i]+cur[i] == 0 {
			continue
		}
		k++
		r, c := math.Ldexp(ref[i], -e), math.Ldexp(cur[i], -e)
		col := r + c
		// An expected count that underflows to 0 even after scaling
		// belongs to a cell below 2^-1074 of the total, which contributes
		// nothing measurable (and would give 0/0).
		var cell float64
		if er := ns * col / grand; er > 0 {
			cell = term(r, er)
		}
		if ec := ms * col / grand; ec > 0 {
			cell += term(c, ec)
		}
		stat += cell
	}
	dof = k - 1
	if dof == 0 {
		return 0, 1, 0
	}
	stat = math.Ldexp(max(stat, 0), e)
	return stat, distuv.ChiSquared{K: float64(dof)}.Survival(stat), dof
}

// ChiSquaredGOF returns Pearson's goodness-of-fit statistic stat, its
// p-value p and degrees of freedom dof for the current counts cur against
// the reference proportions of ref, scaled to cur's total:
//
//	E_i = ref_i * sum(cur) / sum(ref),  stat = sum_i (cur_i - E_i)^2 / E_i,  dof = k' - 1
//
// over the k' categories not empty in both. This is the chi-squared test
// Evidently applies to small samples (scipy.stats.chisquare(cur, E)); unlike
// ChiSquared it treats the reference as exact, so a category seen only in
// cur (E_i = 0) makes stat +Inf and p 0. With dof 0 it returns 0, 1, 0; it
// returns NaN, NaN, 0 if either vector sums to 0 or holds a negative or
// non-finite count, and panics if len(ref) != len(cur). It does not
// allocate.
//
// Reference: Pearson (1900), as ChiSquared; Evidently's chisquare_stattest.
func ChiSquaredGOF(ref, cur []float64) (stat, p float64, dof int) {
	mustSameLen("ChiSquaredGOF", len(ref), len(cur))
	n, okRef := total(ref)
	m, okCur := total(cur)
	if !okRef || !okCur || n == 0 || m == 0 {
		return math.NaN(), math.NaN(), 0
	}
	// The statistic is homogeneous of degree 1 in cur, so cur (and with it
	// E) is scaled by 2^-sc, bringing sum(cur) into [0.5, 1): terms can then
	// neither overflow nor underflow for huge or subnormal weights. The
	// scale is exact, so in the ordinary range the result is bit-identical.
	_, sc := math.Frexp(m)
	ms := math.Ldexp(m, -sc)
	k := 0
	for i := range ref {
		if ref[i] == 0 && cur[i] == 0 {
			continue
		}
		k++
		e := ref[i] * ms / n
		if e == 0 && ref[i] > 0 {
			e = ref[i] / n * ms // ref[i] * ms underflowed
		}
		if e == 0 {
			stat = math.Inf(1)
			continue
		}
		stat += pearsonTerm(math.Ldexp(cur[i], -sc), e)
	}
	stat = math.Ldexp(stat, sc)
	dof = k - 1
	if dof == 0 {
		return 0, 1, 0
	}
	if math.IsInf(stat, 1) {
		return stat, 0, dof
	}
	return stat, distuv.ChiSquared{K: float64(dof)}.Survival(stat), dof
}
