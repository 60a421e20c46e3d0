package drift

import (
	"cmp"
	"math"
	"slices"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/windows"
)

// Distribution is one subject's reference and window distributions on the
// cells its distances are computed on (PSI, Jensen-Shannon, chi2: see the
// package doc), for a person to see what moved: a numeric subject's groups
// of the baseline's quantile bins, or a categorical subject's categories.
type Distribution struct {
	Family  string `json:"family"`
	Subject string `json:"subject"`
	Kind    string `json:"kind"` // baselines.Numeric or baselines.Categorical
	// Edges bound a numeric subject's cells: cell i holds values in
	// [Edges[i], Edges[i+1]), the last one its upper end too; the outer
	// ends are the smallest and largest values seen on either side.
	// Leading and trailing cells empty on both sides are left out.
	// len(Edges) == len(Reference)+1; nil for a categorical subject.
	Edges []float64 `json:"edges,omitempty"`
	// Categories name a categorical subject's cells; at most
	// MaxDistributionCells, the rest summed in OtherCells.
	Categories []string `json:"categories,omitempty"`
	// Reference and Current count the reference's and the window's
	// non-null values per cell (the reference's may be fractional when a
	// window is judged against a phase of a seasonal baseline).
	Reference []float64 `json:"reference"`
	Current   []float64 `json:"current"`
	// OtherCells is how many categories were summed in the last cell,
	// named baselines.OtherCategory, to keep at most MaxDistributionCells.
	OtherCells int `json:"other_cells,omitempty"`
}

// MaxDistributionCells bounds a categorical Distribution's cells: the
// categories with the largest share on either side are kept, the rest are
// summed in one.
const MaxDistributionCells = 30

// Distributions returns the distributions behind the rows Evaluate writes
// for w's features and prediction (families data and prediction), in the
// same order, for the subjects that were judged (enough samples).
func (e *Evaluator) Distributions(w *windows.Window) []Distribution {
	p := e.policy(w.Model)
	w = phased(w, p)
	base := w.Baseline
	var out []Distribution
	add := func(family, name string, bf *baselines.Feature, cf *windows.Feature, gk groupKey) {
		if cf.Count < max(p.MinSamples, 1) || bf.Count == 0 {
			return
		}
		var groups []int
		if bf.Kind == baselines.Numeric {
			groups = e.psiGroups(gk, bf.Counts, p.PSIBins)
		}
		pr := newPair(bf, cf, groups, p.PSIBins)
		d := Distribution{Family: family, Subject: name, Kind: string(bf.Kind)}
		if bf.Kind == baselines.Numeric {
			d.Edges, d.Reference, d.Current = numericCells(pr, bf, cf)
		} else {
			d.Categories, d.Reference, d.Current, d.OtherCells = topCategories(pr.names, pr.ref, pr.cur, MaxDistributionCells)
		}
		out = append(out, d)
	}
	for i := range base.Features {
		add(FamilyData, base.Features[i].Name, &base.Features[i], &w.Features[i], groupKey{base.ID, i})
	}
	add(FamilyPrediction, "prediction", &base.Prediction, &w.Prediction, groupKey{base.ID, -1})
	return out
}

// numericCells returns the bounds and counts of pr's cells, without the
// leading and trailing cells empty on both sides.
func numericCells(pr *pair, bf *baselines.Feature, cf *windows.Feature) (edges, ref, cur []float64) {
	lo, hi := bf.Min, bf.Max
	if cf.Count > 0 {
		lo, hi = min(lo, cf.Min), max(hi, cf.Max)
	}
	bound := func(fine int) float64 { // the lower edge of fine bin fine
		switch {
		case fine <= 0:
			return lo
		case fine > len(bf.Edges):
			return hi
		}
		return min(max(bf.Edges[fine-1], lo), hi)
	}
	first, last := -1, -1
	for j := range pr.ends {
		if pr.ref[j] > 0 || pr.cur[j] > 0 {
			if first < 0 {
				first = j
			}
			last = j
		}
	}
	if first < 0 {
		return nil, nil, nil
	}
	start := 0
	if first > 0 {
		start = pr.ends[first-1]
	}
	edges = append(edges, bound(start))
	for j := first; j <= last; j++ {
		edges = append(edges, bound(pr.ends[j]))
	}
	return edges, slices.Clone(pr.ref[first : last+1]), slices.Clone(pr.cur[first : last+1])
}

// topCategories keeps the n-1 categories with the largest share on either
// side when there are more than n, and sums the rest in one cell named
// baselines.OtherCategory; it returns how many were summed.
func topCategories(names []string, ref, cur []float64, n int) ([]string, []float64, []float64, int) {
	if len(names) <= n {
		return names, ref, cur, 0
	}
	var sr, sc float64
	for i := range ref {
		sr, sc = sr+ref[i], sc+cur[i]
	}
	share := func(i int) float64 { return max(ref[i]/max(sr, 1), cur[i]/max(sc, 1)) }
	idx := make([]int, len(names))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(share(b), share(a)) })
	keep := idx[:n-1]
	slices.Sort(keep)
	var kn []string
	var kr, kc []float64
	for _, i := range keep {
		kn, kr, kc = append(kn, names[i]), append(kr, ref[i]), append(kc, cur[i])
	}
	var or, oc float64
	for _, i := range idx[n-1:] {
		or, oc = or+ref[i], oc+cur[i]
	}
	return append(kn, baselines.OtherCategory), append(kr, or), append(kc, oc), len(names) - (n - 1)
}

// Shares returns counts as shares of their sum (all 0 for an empty side).
func Shares(counts []float64) []float64 {
	var s float64
	for _, c := range counts {
		s += c
	}
	out := make([]float64, len(counts))
	if s > 0 && !math.IsInf(s, 0) {
		for i, c := range counts {
			out[i] = c / s
		}
	}
	return out
}
