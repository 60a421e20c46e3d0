// Package drift compares a closed window with its baseline and produces the
// drift metric rows of CONTRACT.md section 3, each with its verdict.
//
// For every feature it computes, on the window's mergeable state:
//
//	numeric:      psi, jensen_shannon (on ~10 reference-quantile groups),
//	              ks (on the baseline's fine bins), wasserstein (bin means)
//	categorical:  chi2, psi, jensen_shannon (on the union of categories)
//	both:         null_rate (family quality)
//
// and the same for the prediction (family prediction). Each row is judged
// against its own threshold; per feature, one rule (a metric and threshold)
// is the feature's verdict, marked Primary.
//
// Default rules, and why: numeric features are judged by PSI >= 0.2 on
// reference deciles (the long-standing credit-risk convention: below 0.1 is
// stable, 0.1-0.2 a moderate shift, above 0.2 a significant one); categorical
// features by Jensen-Shannon distance >= 0.1 (Evidently's default for large
// samples). Both are effect sizes, so a window of a million rows is not
// flagged for a negligible shift the way a p-value would flag it. The tests
// (ks, chi2) are reported with their p-values and judged at alpha 0.05, but
// they do not decide the feature's verdict unless configured to. Their
// p-values are adjusted across all the tests of a window with the
// Benjamini-Hochberg procedure by default (one window tests every feature
// and the prediction at once; unadjusted, 5% of undrifted features would be
// flagged by chance), or with Bonferroni, or not at all. By default an
// effect-size verdict also needs its subject's test to be significant (see
// Policy.RequireSignificance), so neither a noisy small window nor a
// negligible shift in a huge one is flagged.
// Features with fewer than MinSamples non-null values in the window are not
// judged (no drift rows; null_rate is still reported).
//
// It deliberately does no I/O and knows nothing of Kafka or sinks.
package drift

import (
	"math"
	"slices"
	"sync"
	"time"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/stats"
	"github.com/driftwatch/driftwatch/windows"
)

// Families of rows.
const (
	FamilyData       = "data"
	FamilyPrediction = "prediction"
	FamilyQuality    = "quality"
)

// Metric names.
const (
	MetricPSI           = "psi"
	MetricKS            = "ks"
	MetricChi2          = "chi2"
	MetricJensenShannon = "jensen_shannon"
	MetricWasserstein   = "wasserstein"
	MetricNullRate      = "null_rate"
	MetricLateRecords   = "late_records"
)

// Row is one drift metric row, CONTRACT.md section 3. Its JSON form is the
// contract's JSON-lines form; PValue is null where the test has none.
type Row struct {
	Model        string    `json:"model"`
	ModelVersion string    `json:"model_version"`
	WindowStart  time.Time `json:"window_start"`
	WindowEnd    time.Time `json:"window_end"`
	Family       string    `json:"family"`
	Subject      string    `json:"subject"`
	Metric       string    `json:"metric"`
	Value        float64   `json:"value"`
	PValue       *float64  `json:"p_value"`
	Threshold    float64   `json:"threshold"`
	Drifted      bool      `json:"drifted"`
	Severity     string    `json:"severity"`
	NCurrent     int64     `json:"n_current"`
	NReference   int64     `json:"n_reference"`
	BaselineID   string    `json:"baseline_id"`
	// Primary marks the row whose verdict is its subject's verdict.
	Primary bool `json:"-"`
}

// Rule is how a subject's verdict is reached: a metric and its threshold.
type Rule struct {
	Metric    string
	Threshold float64
}

// Policy decides verdicts for one model.
type Policy struct {
	Numeric     Rule            // rule for numeric features and predictions
	Categorical Rule            // rule for categorical features and predictions
	Features    map[string]Rule // per feature (or "prediction") overrides
	// Thresholds per metric, for rows that are not their subject's rule.
	// Test metrics (ks, chi2) are judged drifted when p < threshold;
	// wasserstein in units of the reference standard deviation; null_rate as
	// an increase over the reference null rate; others when value >= it.
	Thresholds map[string]float64
	MinSamples int64 // minimum non-null values in a window to judge drift
	PSIBins    int   // reference-quantile groups for psi and jensen_shannon
	// Correction adjusts the p-values of a window's tests (ks, chi2) for
	// testing many features at once: CorrectionBenjaminiHochberg (false
	// discovery rate), CorrectionBonferroni (family-wise error) or
	// CorrectionNone. Rows then carry the adjusted p-value.
	Correction string
	// RequireSignificance makes an effect-size verdict (psi,
	// jensen_shannon, wasserstein) drifted only if the subject's test on the
	// same window (ks for numeric, chi2 for categorical, after Correction) is
	// also significant at its threshold: a large distance in a small window
	// can be noise, and a significant test in a huge window can be a
	// negligible shift; together they mean a real and material change.
	RequireSignificance bool
}

// DefaultPolicy returns the documented defaults (see the package doc).
func DefaultPolicy() Policy {
	return Policy{
		Numeric:     Rule{Metric: MetricPSI, Threshold: 0.2},
		Categorical: Rule{Metric: MetricJensenShannon, Threshold: 0.1},
		Thresholds: map[string]float64{
			MetricPSI: 0.2, MetricKS: 0.05, MetricChi2: 0.05, MetricJensenShannon: 0.1,
			MetricWasserstein: 0.1, MetricNullRate: 0.1,
		},
		MinSamples: 100,
		PSIBins:    10,
		Correction: CorrectionBenjaminiHochberg,

		RequireSignificance: true,
	}
}

// Metrics lists every metric a Rule may name, with whether it is judged on
// its p-value. Config validation uses it.
var Metrics = map[string]bool{
	MetricPSI: false, MetricKS: true, MetricChi2: true, MetricJensenShannon: false,
	MetricWasserstein: false, MetricNullRate: false,
}

// Evaluator turns closed windows into rows. It is safe for concurrent use.
type Evaluator struct {
	def      Policy
	perModel map[string]Policy

	mu     sync.Mutex
	groups map[groupKey][]int // PSI groups of a baseline feature's bins
}

type groupKey struct {
	baseline string
	feature  int // -1 for the prediction
}

// NewEvaluator returns an Evaluator using def, or perModel[model] where set.
func NewEvaluator(def Policy, perModel map[string]Policy) *Evaluator {
	return &Evaluator{def: def, perModel: perModel, groups: make(map[groupKey][]int)}
}

func (e *Evaluator) policy(model string) *Policy {
	if p, ok := e.perModel[model]; ok {
		return &p
	}
	return &e.def
}

// Evaluate returns the rows of one closed window, in a fixed order: features
// in baseline order, then the prediction, then quality rows.
func (e *Evaluator) Evaluate(w *windows.Window) []Row {
	p := e.policy(w.Model)
	base := w.Baseline
	head := Row{Model: w.Model, ModelVersion: w.Version, WindowStart: w.Start, WindowEnd: w.End, BaselineID: base.ID}
	var rows, quality []Row
	for i := range base.Features {
		bf, cf := &base.Features[i], &w.Features[i]
		rows = e.subject(rows, head, FamilyData, bf.Name, bf, cf, p, groupKey{base.ID, i})
		quality = appendNullRate(quality, head, bf.Name, bf, cf, p)
	}
	rows = e.subject(rows, head, FamilyPrediction, "prediction", &base.Prediction, &w.Prediction, p, groupKey{base.ID, -1})
	quality = appendNullRate(quality, head, "prediction", &base.Prediction, &w.Prediction, p)
	correct(rows, p.Correction)
	if p.RequireSignificance {
		requireSignificance(rows)
	}
	return append(rows, quality...)
}

// Late returns the row reporting records that arrived after their window
// closed; it is judged drifted when there are any.
func Late(r *windows.LateReport) Row {
	return Row{
		Model: r.Model, ModelVersion: r.Version, WindowStart: r.Start, WindowEnd: r.End, BaselineID: r.BaselineID,
		Family: FamilyQuality, Subject: "*", Metric: MetricLateRecords,
		Value: float64(r.Records), Drifted: r.Records > 0, NCurrent: r.Records,
	}
}

func (e *Evaluator) subject(rows []Row, head Row, family, name string, bf *baselines.Feature, cf *windows.Feature, p *Policy, gk groupKey) []Row {
	if cf.Count < max(p.MinSamples, 1) || bf.Count == 0 {
		return rows
	}
	rule := p.Numeric
	if bf.Kind == baselines.Categorical {
		rule = p.Categorical
	}
	if r, ok := p.Features[name]; ok {
		rule = r
	}
	head.Family, head.Subject, head.NCurrent, head.NReference = family, name, cf.Count, bf.Count
	add := func(metric string, value float64, pValue *float64, threshold float64) {
		if math.IsNaN(value) {
			return
		}
		r := head
		r.Metric, r.Value, r.PValue = metric, value, pValue
		thr, ok := p.Thresholds[metric]
		if rule.Metric == metric {
			thr, ok, r.Primary = rule.Threshold, true, true
		}
		if !ok {
			rows = append(rows, r)
			return
		}
		switch {
		case Metrics[metric]:
			r.Threshold, r.Drifted = thr, pValue != nil && *pValue < thr
		case metric == MetricWasserstein:
			r.Threshold = thr * threshold // threshold carries the reference std
			r.Drifted = value >= r.Threshold
		default:
			r.Threshold, r.Drifted = thr, value >= thr
		}
		rows = append(rows, r)
	}
	if bf.Kind == baselines.Numeric {
		ref, cur := toFloat(bf.Counts), toFloat(cf.Counts)
		ends := e.psiGroups(gk, ref, p.PSIBins)
		refG, curG := stats.Regroup(ref, ends), stats.Regroup(cur, ends)
		add(MetricPSI, stats.PSI(refG, curG, stats.DefaultPSIEpsilon), nil, 0)
		d, pv := stats.KSBinned(ref, cur)
		add(MetricKS, d, &pv, 0)
		add(MetricJensenShannon, stats.JensenShannon(refG, curG), nil, 0)
		refV, refW := binMeans(bf.Counts, bf.Sums)
		curV, curW := binMeans(cf.Counts, cf.Sums)
		scale := bf.Std
		if scale == 0 {
			scale = 1 // a constant reference: judge in raw units
		}
		add(MetricWasserstein, stats.Wasserstein(refV, refW, curV, curW), nil, scale)
		return rows
	}
	ref, cur := alignCategories(bf.Categories, cf.Categories)
	stat, pv, _ := stats.ChiSquared(ref, cur)
	add(MetricChi2, stat, &pv, 0)
	add(MetricPSI, stats.PSI(ref, cur, stats.DefaultPSIEpsilon), nil, 0)
	add(MetricJensenShannon, stats.JensenShannon(ref, cur), nil, 0)
	return rows
}

// requireSignificance clears the verdict of each drifted effect-size
// Primary row whose subject's test row is not significant.
func requireSignificance(rows []Row) {
	test := make(map[string]*Row)
	for i := range rows {
		if rows[i].PValue != nil {
			test[rows[i].Family+"\x00"+rows[i].Subject] = &rows[i]
		}
	}
	for i := range rows {
		r := &rows[i]
		if !r.Primary || !r.Drifted || Metrics[r.Metric] {
			continue
		}
		if t, ok := test[r.Family+"\x00"+r.Subject]; ok && *t.PValue >= t.Threshold {
			r.Drifted = false
		}
	}
}

func appendNullRate(rows []Row, head Row, name string, bf *baselines.Feature, cf *windows.Feature, p *Policy) []Row {
	n := cf.Nulls + cf.Count
	if n == 0 {
		return rows
	}
	r := head
	r.Family, r.Subject, r.Metric = FamilyQuality, name, MetricNullRate
	r.Value = float64(cf.Nulls) / float64(n)
	r.NCurrent, r.NReference = n, bf.Count+bf.Nulls
	if inc, ok := p.Thresholds[MetricNullRate]; ok {
		r.Threshold = bf.NullRate() + inc
		r.Drifted = r.Value > r.Threshold
	}
	return append(rows, r)
}

func (e *Evaluator) psiGroups(k groupKey, ref []float64, bins int) []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if g, ok := e.groups[k]; ok {
		return g
	}
	if len(e.groups) > 100_000 { // baselines change rarely; never grow without bound
		clear(e.groups)
	}
	g := stats.CoarsenBins(ref, bins)
	e.groups[k] = g
	return g
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

// alignCategories returns the counts of both sides over the sorted union of
// their categories; a category seen on one side only counts 0 on the other.
func alignCategories(ref, cur map[string]int64) (r, c []float64) {
	names := make([]string, 0, len(ref)+len(cur))
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
	return r, c
}
