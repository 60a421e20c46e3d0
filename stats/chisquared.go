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
	grand := n + m
	k := 0
	for i := range ref {
		col := ref[i] + cur[i]
		if col == 0 {
			continue
		}
		k++
		stat += term(ref[i], n*col/grand) + term(cur[i], m*col/grand)
	}
	dof = k - 1
	if dof == 0 {
		return 0, 1, 0
	}
	stat = max(stat, 0)
	return stat, distuv.ChiSquared{K: float64(dof)}.Survival(stat), dof
}
