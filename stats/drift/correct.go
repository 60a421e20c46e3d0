package drift

import (
	"math"
	"sort"
)

// Multiple-testing corrections across the tests of one window.
const (
	CorrectionNone              = "none"
	CorrectionBonferroni        = "bonferroni"
	CorrectionBenjaminiHochberg = "benjamini_hochberg"
)

// Corrections lists the valid values of Policy.Correction.
var Corrections = []string{CorrectionNone, CorrectionBonferroni, CorrectionBenjaminiHochberg}

// AdjustBonferroni returns the Bonferroni-adjusted p-values of ps,
// min(1, m·p_i) for m tests, which bound the family-wise error rate
// (Dunn 1961). ps is not modified.
func AdjustBonferroni(ps []float64) []float64 {
	out := make([]float64, len(ps))
	m := float64(len(ps))
	for i, p := range ps {
		out[i] = math.Min(1, m*p)
	}
	return out
}

// AdjustBH returns the Benjamini-Hochberg adjusted p-values of ps, which
// bound the false discovery rate (Benjamini & Hochberg 1995): with p sorted
// ascending, q_(i) = min over j >= i of min(1, m/j · p_(j)). Rejecting every
// q < alpha is the BH step-up procedure at level alpha. Equal to
// scipy.stats.false_discovery_control(ps, method='bh'). ps is not modified.
func AdjustBH(ps []float64) []float64 {
	m := len(ps)
	order := make([]int, m)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return ps[order[a]] < ps[order[b]] })
	out := make([]float64, m)
	running := 1.0
	for rank := m; rank >= 1; rank-- {
		i := order[rank-1]
		running = math.Min(running, ps[i]*float64(m)/float64(rank))
		out[i] = math.Min(1, running)
	}
	return out
}

// correct replaces the p-values of the test rows among rows by their
// adjusted values and re-judges them. Rows without a p-value are untouched.
func correct(rows []Row, method string) {
	if method == "" || method == CorrectionNone {
		return
	}
	var idx []int
	var ps []float64
	for i := range rows {
		if rows[i].PValue != nil {
			idx = append(idx, i)
			ps = append(ps, *rows[i].PValue)
		}
	}
	if len(ps) < 2 {
		return
	}
	adj := AdjustBH(ps)
	if method == CorrectionBonferroni {
		adj = AdjustBonferroni(ps)
	}
	for k, i := range idx {
		q := adj[k]
		rows[i].PValue = &q
		rows[i].Drifted = q < rows[i].Threshold
	}
}
