// Package fairness computes group-fairness metrics of a binary classifier
// from per-group mergeable confusion counts (perf.Confusion), following the
// definitions of Fairlearn's fairlearn.metrics with method="between_groups"
// (Bird et al. 2020): selection rate, demographic parity difference and
// ratio, equal opportunity (TPR) difference and ratio, equalized odds
// difference and ratio (worst case of TPR and FPR), disparate impact
// against a reference group with the four-fifths rule, and per-group
// accuracy, precision, recall and FPR.
//
// It deliberately does not: see raw rows (only counts, so per-window group
// states merge exactly with perf.Confusion.Merge), define groups, bound
// their number (callers key the map by a bounded set of groups), test
// statistical significance, or decide what to do about a disparity.
//
// # Insufficient groups and zero denominators
//
// A group whose total weight N is below MinGroupSize is reported with
// Sufficient=false and is not judged: it is left out of every
// between-group metric. A group that is sufficient but has a zero
// denominator for a rate (no positive labels for TPR, no negative labels
// for FPR, no observations at all) has that rate undefined (NaN) and is
// left out of the metrics built on that rate only. A between-group metric
// needs at least two groups with the rate defined; otherwise it returns
// (NaN, false). Ratios whose largest rate is 0 are (NaN, false) too.
//
// Fairlearn differs here: a group without positive labels gets TPR 0 (and
// without negatives FPR 0), because it computes rates with
// sklearn.metrics.confusion_matrix(normalize="true"), which maps 0/0 to 0;
// an empty group cannot occur (groups come from the data); with one group
// the difference is 0 and the ratio 1; and it has no minimum group size.
// On data where every group has at least one positive and one negative
// label and MinGroupSize is 0, the values agree with Fairlearn to rounding
// (golden tests, testdata/golden/gen_fairness.py).
//
// References: Hardt, M., Price, E. and Srebro, N. (2016), Equality of
// opportunity in supervised learning, NeurIPS; Equal Employment Opportunity
// Commission et al. (1978), Uniform Guidelines on Employee Selection
// Procedures, 29 CFR 1607.4(D) (four-fifths rule); Bird, S. et al. (2020),
// Fairlearn: a toolkit for assessing and improving fairness in AI,
// Microsoft Tech. Rep. MSR-TR-2020-32.
//
// All functions are pure, safe for concurrent use, and do not retain or
// modify their input map.
package fairness

import (
	"fmt"
	"math"
	"slices"

	"github.com/driftwatch/driftwatch/stats/perf"
)

// FourFifths is the disparate-impact threshold of the EEOC four-fifths
// rule: a selection-rate ratio below 0.8 indicates adverse impact.
const FourFifths = 0.8

// GroupMetrics are the metrics of one group. Rates are dimensionless in
// [0, 1] and NaN when undefined (zero denominator).
type GroupMetrics struct {
	Group string
	// N is the total weight (count) of the group.
	N float64
	// Sufficient is false when N < MinGroupSize; such a group is not
	// judged by between-group metrics.
	Sufficient bool
	// SelectionRate is (TP+FP)/N, fairlearn.metrics.selection_rate.
	SelectionRate float64
	Accuracy      float64
	Precision     float64
	// TPR is the true positive rate (recall), TP/(TP+FN).
	TPR float64
	// FPR is the false positive rate, FP/(FP+TN).
	FPR float64
}

func val(v float64, _ bool) float64 { return v }

// ByGroup returns the metrics of each group sorted by group name, like
// fairlearn.metrics.MetricFrame(...).by_group, marking groups with
// N < minGroupSize as insufficient.
func ByGroup(groups map[string]perf.Confusion, minGroupSize float64) []GroupMetrics {
	out := make([]GroupMetrics, 0, len(groups))
	for g, c := range groups {
		out = append(out, GroupMetrics{
			Group:         g,
			N:             c.N(),
			Sufficient:    c.N() >= minGroupSize && c.N() > 0,
			SelectionRate: val(c.SelectionRate()),
			Accuracy:      val(c.Accuracy()),
			Precision:     val(c.Precision()),
			TPR:           val(c.Recall()),
			FPR:           val(c.FPR()),
		})
	}
	slices.SortFunc(out, func(a, b GroupMetrics) int {
		switch {
		case a.Group < b.Group:
			return -1
		case a.Group > b.Group:
			return 1
		}
		return 0
	})
	return out
}

// spread returns the smallest and largest defined rate over the judged
// groups and whether at least two groups have it defined.
func spread(groups map[string]perf.Confusion, minGroupSize float64, rate func(perf.Confusion) (float64, bool)) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	n := 0
	for _, c := range groups {
		if !(c.N() >= minGroupSize) {
			continue
		}
		v, ok := rate(c)
		if !ok {
			continue
		}
		lo, hi = min(lo, v), max(hi, v)
		n++
	}
	if n < 2 {
		return math.NaN(), math.NaN(), false
	}
	return lo, hi, true
}

func difference(groups map[string]perf.Confusion, minGroupSize float64, rate func(perf.Confusion) (float64, bool)) (float64, bool) {
	lo, hi, ok := spread(groups, minGroupSize, rate)
	if !ok {
		return math.NaN(), false
	}
	return hi - lo, true
}

func ratioOf(groups map[string]perf.Confusion, minGroupSize float64, rate func(perf.Confusion) (float64, bool)) (float64, bool) {
	lo, hi, ok := spread(groups, minGroupSize, rate)
	if !ok || hi == 0 {
		return math.NaN(), false
	}
	return lo / hi, true
}

// SelectionRate returns (TP+FP)/N of one group, in [0, 1]; (NaN, false)
// if N = 0 (Fairlearn raises on empty input).
func SelectionRate(c perf.Confusion) (float64, bool) { return c.SelectionRate() }

// DemographicParityDifference returns max_g SR_g - min_g SR_g in [0, 1]
// over the judged groups, SR the selection rate, as
// fairlearn.metrics.demographic_parity_difference(method="between_groups").
// 0 means parity. See the package doc for undefined cases.
func DemographicParityDifference(groups map[string]perf.Confusion, minGroupSize float64) (float64, bool) {
	return difference(groups, minGroupSize, perf.Confusion.SelectionRate)
}

// DemographicParityRatio returns min_g SR_g / max_g SR_g in [0, 1], as
// fairlearn.metrics.demographic_parity_ratio(method="between_groups"); 1
// means parity.
func DemographicParityRatio(groups map[string]perf.Confusion, minGroupSize float64) (float64, bool) {
	return ratioOf(groups, minGroupSize, perf.Confusion.SelectionRate)
}

// EqualOpportunityDifference returns max_g TPR_g - min_g TPR_g in [0, 1]
// (Hardt et al. 2016), as fairlearn.metrics.equal_opportunity_difference.
// Groups without positive labels are left out (Fairlearn counts them as
// TPR 0).
func EqualOpportunityDifference(groups map[string]perf.Confusion, minGroupSize float64) (float64, bool) {
	return difference(groups, minGroupSize, perf.Confusion.Recall)
}

// EqualOpportunityRatio returns min_g TPR_g / max_g TPR_g in [0, 1], as
// fairlearn.metrics.equal_opportunity_ratio.
func EqualOpportunityRatio(groups map[string]perf.Confusion, minGroupSize float64) (float64, bool) {
	return ratioOf(groups, minGroupSize, perf.Confusion.Recall)
}

// EqualizedOddsDifference returns the larger of the TPR difference and the
// FPR difference between groups, in [0, 1] (Hardt et al. 2016), as
// fairlearn.metrics.equalized_odds_difference(agg="worst_case"). If only
// one of the two is defined it is returned; if neither, (NaN, false).
func EqualizedOddsDifference(groups map[string]perf.Confusion, minGroupSize float64) (float64, bool) {
	t, okT := difference(groups, minGroupSize, perf.Confusion.Recall)
	f, okF := difference(groups, minGroupSize, perf.Confusion.FPR)
	return worst(t, okT, f, okF, math.Max)
}

// EqualizedOddsRatio returns the smaller of the TPR ratio and the FPR ratio
// between groups, in [0, 1], as
// fairlearn.metrics.equalized_odds_ratio(agg="worst_case").
func EqualizedOddsRatio(groups map[string]perf.Confusion, minGroupSize float64) (float64, bool) {
	t, okT := ratioOf(groups, minGroupSize, perf.Confusion.Recall)
	f, okF := ratioOf(groups, minGroupSize, perf.Confusion.FPR)
	return worst(t, okT, f, okF, math.Min)
}

func worst(a float64, okA bool, b float64, okB bool, pick func(x, y float64) float64) (float64, bool) {
	switch {
	case okA && okB:
		return pick(a, b), true
	case okA:
		return a, true
	case okB:
		return b, true
	}
	return math.NaN(), false
}

// Impact is the disparate impact of one group against the reference.
type Impact struct {
	Group string
	// Ratio is SR_group / SR_reference (dimensionless, >= 0), NaN if
	// undefined.
	Ratio float64
	// Judged is false for insufficient groups and undefined ratios.
	Judged bool
	// Adverse is true when Judged and Ratio < threshold (four-fifths rule).
	Adverse bool
}

// DisparateImpact returns, for every group other than reference, sorted by
// name, the ratio of its selection rate to the reference group's and
// whether it falls below threshold (FourFifths if threshold <= 0), the
// EEOC four-fifths rule (29 CFR 1607.4(D)). The reference is usually the
// group with the highest selection rate; ratios above 1 are reported as
// they are. It returns an error if the reference group is missing, below
// minGroupSize, has a selection rate of 0, or has no defined selection rate
// (its summed weights overflowed float64).
func DisparateImpact(groups map[string]perf.Confusion, reference string, minGroupSize, threshold float64) ([]Impact, error) {
	if !(threshold > 0) {
		threshold = FourFifths
	}
	ref, found := groups[reference]
	if !found {
		return nil, fmt.Errorf("disparate impact: reference group %q not found", reference)
	}
	if !(ref.N() >= minGroupSize) || ref.N() == 0 {
		return nil, fmt.Errorf("disparate impact: reference group %q has weight %g < minimum %g", reference, ref.N(), minGroupSize)
	}
	refSR, ok := ref.SelectionRate()
	if !ok {
		// N > 0 here, so a summed weight overflowed float64.
		return nil, fmt.Errorf("disparate impact: reference group %q has an undefined selection rate (weights overflow)", reference)
	}
	if refSR == 0 {
		return nil, fmt.Errorf("disparate impact: reference group %q has selection rate 0", reference)
	}
	var out []Impact
	for _, m := range ByGroup(groups, minGroupSize) {
		if m.Group == reference {
			continue
		}
		im := Impact{Group: m.Group, Ratio: math.NaN()}
		if m.Sufficient && !math.IsNaN(m.SelectionRate) {
			im.Ratio = m.SelectionRate / refSR
			im.Judged = true
			im.Adverse = im.Ratio < threshold
		}
		out = append(out, im)
	}
	return out, nil
}
