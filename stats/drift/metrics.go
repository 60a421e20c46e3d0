package drift

import (
	"math"
	"slices"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/stats"
	"github.com/driftwatch/driftwatch/windows"
)

// Metric names. Each is computed on window state that instances can merge:
// numeric features on the baseline's bins (counts, sums and moments),
// categorical ones on category counts.
const (
	MetricPSI            = "psi"             // population stability index, on cells
	MetricKS             = "ks"              // Kolmogorov-Smirnov on the fine bins; judged on p
	MetricChi2           = "chi2"            // chi-squared homogeneity on cells; judged on p
	MetricChi2GOF        = "chi2_gof"        // chi-squared goodness of fit to the reference (Evidently); judged on p
	MetricGTest          = "g_test"          // G (log-likelihood) homogeneity on cells; judged on p
	MetricProportionZ    = "proportion_z"    // two-proportion z-test, binary subjects only; judged on p
	MetricTTest          = "t_test"          // Welch's t-test of means from moments; judged on p
	MetricJensenShannon  = "jensen_shannon"  // Jensen-Shannon distance, natural log (scipy, Evidently)
	MetricJSDivergence   = "js_divergence"   // Jensen-Shannon divergence, log base 2 (TFDV, Vertex AI)
	MetricHellinger      = "hellinger"       // Hellinger distance (WhyLabs)
	MetricKL             = "kl"              // Kullback-Leibler divergence KL(reference || window), smoothed
	MetricTotalVariation = "total_variation" // total variation distance
	MetricLInfinity      = "l_infinity"      // L-infinity distance (Vertex AI categorical, SageMaker)
	MetricWasserstein    = "wasserstein"     // Wasserstein-1 on bin means; threshold in reference standard deviations
	MetricEnergy         = "energy"          // energy distance on bin means; threshold in reference standard deviations
	MetricNullRate       = "null_rate"
	MetricLateRecords    = "late_records"
)

// Rank tests on the fine bins, like ks: tests of the data rounded to the
// baseline's fine bins (every value of a bin one tie); judged on p.
const (
	MetricAndersonDarling = "anderson_darling" // k-sample Anderson-Darling, midrank (scipy's anderson_ksamp)
	MetricCramerVonMises  = "cramer_von_mises" // two-sample Cramér-von Mises of the mid-ECDFs
)

// Data-quality metrics of family quality, per feature (and the prediction)
// per window. Each is a share of the window's records for the feature, and
// is drifted when it exceeds its threshold (Policy.Thresholds), which is an
// increase over what the reference leads to expect (see appendQuality).
const (
	MetricMissingRate   = "missing_rate"         // key absent from "features"
	MetricTypeErrorRate = "type_error_rate"      // JSON type does not fit the feature (a string for a number)
	MetricOutOfRange    = "out_of_range_rate"    // numeric: outside the reference's [min, max]
	MetricUnseenRate    = "unseen_category_rate" // categorical: a category the reference never had
)

// QualityMetrics are the data-quality metrics besides null_rate; they take
// thresholds (drift.thresholds) but are not verdict rules. (volume_ratio
// takes one too, a factor: config validates it apart.)
var QualityMetrics = []string{MetricMissingRate, MetricTypeErrorRate, MetricOutOfRange, MetricUnseenRate, MetricUnknownFeatureRate}

// Dataset-level metrics: one row each per window, family data, subject "*",
// over the features whose verdict the window reached (enough samples).
const (
	MetricDriftedShare  = "drifted_share"        // share of those features that drifted
	MetricWeightedDrift = "weighted_drift_share" // the same weighted by Policy.Importance; the window's dataset verdict
)

// DatasetMetrics are the dataset-level metrics and positive_rate; like
// QualityMetrics they take thresholds (shares) but are not verdict rules.
var DatasetMetrics = []string{MetricDriftedShare, MetricWeightedDrift, MetricPositiveRate}

// metricSpec describes how a metric is computed and judged.
type metricSpec struct {
	test        bool // judged on its p-value: drifted when p < threshold
	scaled      bool // threshold in units of the reference standard deviation
	numeric     bool // computable for numeric subjects
	categorical bool // computable for categorical subjects
	// cells computes the metric from reference and window counts over the
	// same cells; such metrics can be calibrated on reference sub-windows.
	cells func(ref, cur []float64) float64
	// mde maps the minimum detectable chi-squared effect phi² (Cohen's w²)
	// to this metric's units; nil where there is no such mapping. phi2 is
	// its inverse.
	mde, phi2 func(float64) float64
}

var specs = map[string]metricSpec{
	MetricPSI: {numeric: true, categorical: true,
		cells: func(r, c []float64) float64 { return stats.PSI(r, c, stats.DefaultPSIEpsilon) },
		mde:   func(w2 float64) float64 { return w2 },
		phi2:  func(v float64) float64 { return v }},
	MetricKS:          {test: true, numeric: true},
	MetricChi2:        {test: true, numeric: true, categorical: true},
	MetricChi2GOF:     {test: true, numeric: true, categorical: true},
	MetricGTest:       {test: true, numeric: true, categorical: true},
	MetricProportionZ: {test: true, numeric: true, categorical: true},
	MetricTTest:       {test: true, numeric: true},
	MetricJensenShannon: {numeric: true, categorical: true, cells: stats.JensenShannon,
		mde: func(w2 float64) float64 { return math.Sqrt(w2 / 8) }, phi2: func(v float64) float64 { return 8 * v * v }},
	MetricJSDivergence: {numeric: true, categorical: true, cells: jsDivergence,
		mde: func(w2 float64) float64 { return w2 / (8 * math.Ln2) }, phi2: func(v float64) float64 { return 8 * math.Ln2 * v }},
	MetricHellinger: {numeric: true, categorical: true, cells: stats.Hellinger,
		mde: func(w2 float64) float64 { return math.Sqrt(w2 / 8) }, phi2: func(v float64) float64 { return 8 * v * v }},
	MetricKL: {numeric: true, categorical: true,
		cells: func(r, c []float64) float64 { return stats.KLDivergence(r, c, stats.DefaultPSIEpsilon) },
		mde:   func(w2 float64) float64 { return w2 / 2 },
		phi2:  func(v float64) float64 { return 2 * v }},
	MetricTotalVariation: {numeric: true, categorical: true, cells: stats.TotalVariation,
		mde: func(w2 float64) float64 { return math.Sqrt(w2) / 2 }, phi2: func(v float64) float64 { return 4 * v * v }},
	MetricLInfinity: {numeric: true, categorical: true, cells: stats.LInfinity,
		mde: func(w2 float64) float64 { return math.Sqrt(w2) / 2 }, phi2: func(v float64) float64 { return 4 * v * v }},
	MetricWasserstein: {scaled: true, numeric: true},
	MetricEnergy:      {scaled: true, numeric: true},
	MetricNullRate:    {numeric: true, categorical: true},
	// No MDE for the rank tests: their power has no mapping from the
	// cells' phi² (mde nil, as ks).
	MetricAndersonDarling: {test: true, numeric: true},
	MetricCramerVonMises:  {test: true, numeric: true},
}

// Metrics lists every metric a rule may name, with whether it is judged on
// its p-value. Config validation uses it.
var Metrics = func() map[string]bool {
	m := make(map[string]bool, len(specs))
	for name, s := range specs {
		m[name] = s.test
	}
	return m
}()

// Computable reports whether metric is known and can be computed for
// subjects of the kind (numeric or categorical).
func Computable(metric string, numeric bool) bool {
	s, ok := specs[metric]
	return ok && (numeric && s.numeric || !numeric && s.categorical)
}

// jsDivergence is the Jensen-Shannon divergence in bits, as TFDV computes it
// for Vertex AI: the square of the natural-log distance over ln 2.
func jsDivergence(ref, cur []float64) float64 {
	d := stats.JensenShannon(ref, cur)
	return d * d / math.Ln2
}

// pair is one subject's reference and window state, prepared once for all
// its metrics.
type pair struct {
	kind     baselines.Kind
	n, m     int64     // window and reference non-null counts
	ref, cur []float64 // cells: numeric reference-quantile groups, or categories
	names    []string  // categorical: the cells' categories
	ends     []int     // numeric: the groups' last fine bins
	// Numeric only.
	refFine, curFine []float64     // fine bins
	refV, refW       []float64     // reference atoms at bin means
	curV, curW       []float64     // window atoms at bin means
	refMom, curMom   stats.Moments // moments
	scale            float64       // reference standard deviation, 1 if 0
	filled           int           // fine bins not empty in the reference or the window
}

// newPair prepares a subject. A numeric subject's cells are the groups of
// fine bins, unless the reference and the window together fill no more than
// psiBins fine bins (a discrete feature of few values): then each fine bin
// is a cell, so that no two distinct values, and no new value, share one.
func newPair(bf *baselines.Feature, cf *windows.Feature, groups []int, psiBins int) *pair {
	pr := &pair{kind: bf.Kind, n: cf.Count, m: bf.Count}
	if bf.Kind != baselines.Numeric {
		pr.names, pr.ref, pr.cur = alignCategories(bf.Categories, cf.Categories)
		return pr
	}
	pr.refFine, pr.curFine = toFloat(bf.Counts), toFloat(cf.Counts)
	pr.ends = groups
	_, pr.filled = nonEmptyCells(pr.refFine, pr.curFine)
	if pr.filled <= psiBins {
		pr.ends = make([]int, len(pr.refFine))
		for i := range pr.ends {
			pr.ends[i] = i + 1
		}
	}
	pr.ref, pr.cur = stats.Regroup(pr.refFine, pr.ends), stats.Regroup(pr.curFine, pr.ends)
	pr.refV, pr.refW = binMeans(bf.Counts, bf.Sums)
	pr.curV, pr.curW = binMeans(cf.Counts, cf.Sums)
	pr.refMom = stats.Moments{N: float64(bf.Count), Mean: bf.Mean, M2: bf.Std * bf.Std * float64(bf.Count)}
	pr.curMom = cf.Moments
	pr.scale = bf.Std
	if pr.scale == 0 {
		pr.scale = 1 // a constant reference: judge in raw units
	}
	return pr
}

// compute returns the metric's value and p-value (nil for a distance). The
// value is NaN where the metric is undefined for this subject (for example
// proportion_z on more than two cells); the caller then writes no row.
func (pr *pair) compute(metric string) (float64, *float64) {
	s := specs[metric]
	if pr.kind == baselines.Numeric && !s.numeric || pr.kind != baselines.Numeric && !s.categorical {
		return math.NaN(), nil
	}
	if s.cells != nil {
		return s.cells(pr.ref, pr.cur), nil
	}
	test := func(v, p float64) (float64, *float64) { return v, &p }
	switch metric {
	case MetricKS:
		return test(stats.KSBinned(pr.refFine, pr.curFine))
	case MetricAndersonDarling:
		return test(stats.AndersonDarlingBinned(pr.refFine, pr.curFine))
	case MetricCramerVonMises:
		return test(stats.CramerVonMisesBinned(pr.refFine, pr.curFine))
	case MetricChi2:
		v, p, _ := stats.ChiSquared(pr.ref, pr.cur)
		return test(v, p)
	case MetricChi2GOF:
		v, p, _ := stats.ChiSquaredGOF(pr.ref, pr.cur)
		return test(v, p)
	case MetricGTest:
		v, p, _ := stats.GTest(pr.ref, pr.cur)
		return test(v, p)
	case MetricProportionZ:
		i, k := nonEmptyCells(pr.ref, pr.cur)
		switch k {
		case 1: // one value on both sides: no difference (Evidently's p = 1)
			return test(0, 1)
		case 2:
			return test(stats.ProportionZTest(pr.ref[i], float64(pr.m), pr.cur[i], float64(pr.n)))
		}
		return math.NaN(), nil
	case MetricTTest:
		t, _, p := stats.WelchTTestMoments(pr.refMom, pr.curMom)
		return test(t, p)
	case MetricWasserstein:
		return stats.Wasserstein(pr.refV, pr.refW, pr.curV, pr.curW), nil
	case MetricEnergy:
		return stats.EnergyDistance(pr.refV, pr.refW, pr.curV, pr.curW), nil
	}
	return math.NaN(), nil
}

// nonEmptyCells returns the first cell not empty in the reference or the window, and
// how many such cells there are. A two-sided proportion test on two cells
// gives the same p for either.
func nonEmptyCells(ref, cur []float64) (first, k int) {
	first = -1
	for i := range ref {
		if ref[i]+cur[i] > 0 {
			if first < 0 {
				first = i
			}
			k++
		}
	}
	return first, k
}

// cells returns how many cells are not empty in the reference or the window:
// the categories a test of homogeneity compares.
func (pr *pair) cells() int {
	_, k := nonEmptyCells(pr.ref, pr.cur)
	return k
}

func toFloat(c []int64) []float64 {
	out := make([]float64, len(c))
	for i, v := range c {
		out[i] = float64(v)
	}
	return out
}

// binMeans places each non-empty bin's mass at the mean of its values.
func binMeans(counts []int64, sums []float64) (vals, weights []float64) {
	for i, c := range counts {
		if c > 0 {
			vals = append(vals, sums[i]/float64(c))
			weights = append(weights, float64(c))
		}
	}
	return vals, weights
}

// alignCategories returns the sorted union of both sides' categories and
// the counts of each side over it; a category seen on one side only counts
// 0 on the other.
func alignCategories(ref, cur map[string]int64) (names []string, r, c []float64) {
	names = make([]string, 0, len(ref)+len(cur))
	for k := range ref {
		names = append(names, k)
	}
	for k := range cur {
		if _, ok := ref[k]; !ok {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	r, c = make([]float64, len(names)), make([]float64, len(names))
	for i, k := range names {
		r[i], c[i] = float64(ref[k]), float64(cur[k])
	}
	return names, r, c
}
