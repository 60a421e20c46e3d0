// Package drift compares a closed window with its baseline and produces the
// drift metric rows of CONTRACT.md section 3, each with its verdict.
//
// Every statistic is computed on window state that instances can merge:
// numeric features on the baseline's fine quantile bins (counts, sums and
// Welford moments), categorical ones on category counts. Distances and
// homogeneity tests of a numeric feature use "cells": about PSIBins groups
// of the fine bins of roughly equal reference mass; ks, anderson_darling and
// cramer_von_mises use the fine bins, so they are the tests of the data
// rounded to the baseline's fine bins (every value of a bin one tie; on
// continuous data they hold their level there, TestRankTestsOnBinnedNull);
// wasserstein and energy place each bin's mass at its mean; t_test uses the
// moments. A categorical feature's cells are the union of the reference's
// and the window's categories, so an unseen category counts (0 on the
// reference side) instead of being dropped. Which rows a subject gets is
// Policy.NumericMetrics / CategoricalMetrics, plus its rule's metric.
//
// Each subject (feature or prediction) has one rule, a metric and
// threshold, whose row is marked Primary and carries the subject's verdict;
// the other rows are judged against Policy.Thresholds.
//
// Default rules, and why: numeric features are judged by PSI >= 0.2 on
// reference deciles (the long-standing credit-risk convention: below 0.1 is
// stable, 0.1-0.2 a moderate shift, above 0.2 a significant one); categorical
// features by Jensen-Shannon distance >= 0.1 (Evidently's default for large
// samples). Both are effect sizes, so a window of a million rows is not
// flagged for a negligible shift the way a p-value alone would flag it. The
// tests (ks, chi2, ...) are reported with their p-values and judged at
// alpha 0.05; their p-values are adjusted across all the tests of a window
// with the Benjamini-Hochberg procedure by default (one window tests every
// feature and the prediction at once; unadjusted, 5% of undrifted features
// would be flagged by chance), or with Bonferroni, or not at all. By default
// an effect-size verdict also needs its subject's test (ks, chi2) to be
// significant (Policy.RequireSignificance), so neither a noisy small window
// nor a negligible shift in a huge one is flagged. Features with fewer than
// MinSamples non-null values in the window are not judged (no drift rows;
// null_rate is still reported).
//
// Besides static thresholds, a policy can calibrate the thresholds of
// distances on the reference itself (Calibration: mean + 3 sd of the
// statistic over reference sub-windows of the window's size, each excluded
// from its own reference). Presets (ApplyPreset) reproduce the default rules
// of Evidently, Vertex AI, SageMaker and WhyLabs.
//
// Multivariate rows (subject SubjectMultivariate, multivariate.go) judge
// the window's sample of whole records against the baseline's
// multivariate model: the PCA reconstruction error (NannyML's data
// reconstruction drift, the subject's deciding row) and a domain
// classifier's cross-validated AUC with a permutation p-value. They see
// changes no single feature shows, such as two features whose correlation
// flips, and are not counted in drifted_share, a share of features.
//
// Every distance row also reports its minimum detectable effect (Row.MDE):
// the smallest population value of that metric the window's sample sizes
// detect with power 0.8 at level 0.05 (Policy.MDE). A window whose MDE is
// above the rule's threshold cannot reliably see a shift of that size:
// its "not drifted" means "not enough data to tell" (see mde.go for the
// derivation).
//
// Besides distributions, a window gets data-quality rows per feature
// (appendQuality), schema rows (appendSchema: features the records carry
// that the baseline does not know, baseline features no record carried),
// its volume against the records expected of it (appendVolume: from a
// production reference's rate, or from the model version's earlier
// windows, which the Evaluator remembers) and serving rows (latency,
// throughput, the failed predictions' rate and classes).
//
// A statistic that is undefined for a subject (proportion_z on more than
// two cells, a t-test with no variance on either side) writes no row rather
// than a NaN; an infinite statistic (chi2_gof with an unseen category) is
// written as the largest float64, so every row is finite and encodes as
// JSON (FuzzEvaluate checks both).
//
// It deliberately does no I/O and knows nothing of Kafka or sinks.
package drift

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/stats"
	"github.com/driftwatch/driftwatch/stats/fairness"
	"github.com/driftwatch/driftwatch/stats/perf"
	"github.com/driftwatch/driftwatch/stats/sketch"
	"github.com/driftwatch/driftwatch/stats/stream"
	"github.com/driftwatch/driftwatch/windows"
)

// Families of rows.
const (
	FamilyData       = "data"
	FamilyPrediction = "prediction"
	FamilyQuality    = "quality"
	FamilyServing    = "serving" // serving SLOs: latency quantiles, throughput
	FamilyFairness   = "fairness"
	FamilyLabel      = "label"
	FamilyConcept    = "concept"
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
	// ThresholdSource says where Threshold came from: SourceStatic,
	// SourceCalibrated or SourceStaticFallback; empty for rows without one.
	ThresholdSource string `json:"threshold_source"`
	// MDE is the minimum detectable effect, in the metric's own units: the
	// smallest population value of the metric that this window's test
	// detects with power Policy.MDE.Power at level Policy.MDE.Alpha, given
	// both sample sizes (see the package doc). Null where not defined.
	MDE *float64 `json:"mde"`
	// Primary marks the row whose verdict is its subject's verdict: the
	// subject's deciding rule (JSON and ClickHouse column "deciding").
	Primary bool `json:"deciding"`
}

// Rule is how a subject's verdict is reached: a metric and its threshold.
type Rule struct {
	Metric    string
	Threshold float64
}

// MDE sets the level and power at which minimum detectable effects are
// reported.
type MDE struct {
	Alpha float64
	Power float64
}

// Policy decides verdicts for one model.
type Policy struct {
	Numeric     Rule            // rule for numeric features and predictions
	Categorical Rule            // rule for categorical features and predictions
	Features    map[string]Rule // per feature (or "prediction") overrides
	// Preset, when set by ApplyPreset, names the tool whose defaults the
	// rules reproduce; PresetEvidently chooses the rule per subject.
	Preset string
	// NumericMetrics and CategoricalMetrics are the rows written for each
	// subject of that kind, besides its rule's metric and the test that
	// RequireSignificance needs.
	NumericMetrics     []string
	CategoricalMetrics []string
	// Thresholds per metric, for rows that are not their subject's rule.
	// Test metrics are judged drifted when p < threshold; wasserstein and
	// energy in units of the reference standard deviation; null_rate as an
	// increase over the reference null rate; others when value >= it.
	Thresholds map[string]float64
	MinSamples int64 // minimum non-null values in a window to judge drift
	PSIBins    int   // reference-quantile groups (cells) of numeric features
	// Correction adjusts the p-values of a window's tests for testing many
	// features at once: CorrectionBenjaminiHochberg (false discovery
	// rate), CorrectionBonferroni (family-wise error) or CorrectionNone.
	// Rows then carry the adjusted p-value.
	Correction string
	// RequireSignificance makes a distance's verdict drifted only if the
	// subject's test on the same window (ks for numeric, chi2 for
	// categorical, after Correction) is also significant at its threshold:
	// a large distance in a small window can be noise, and a significant
	// test in a huge window can be a negligible shift; together they mean a
	// real and material change. Material is judged beyond noise: a static
	// threshold of a distance is read as the window reads it, with what
	// sampling noise adds at its size (pair.reader), and a window too small
	// to see the threshold's effect judges only effects past its MDE.
	RequireSignificance bool
	// Calibration replaces static thresholds of distances by thresholds
	// calibrated on the reference (see Calibration).
	Calibration Calibration
	// MDE is the level and power of the minimum detectable effects.
	MDE MDE
	// SLO is the serving objectives the serving rows are judged against.
	SLO SLO
	// Champion names the variant the others are compared with, in the same
	// window (subjects variant=<name>, families prediction, concept and
	// serving; variants.go).
	Champion string
	// Shadows names the variants that are shadows: they score the
	// champion's traffic but are not served, so their records count in
	// their variant's rows only (windows.VariantRoles; the windows stage
	// reads them from the same configuration).
	Shadows []string
	// Fairness is the limits subgroup-fairness rows are judged against.
	Fairness Fairness
	// Decision is how scores and labels become decisions and outcomes for
	// the reference's performance; the windows stage counts the window's
	// with the same (windows.Config.Decision).
	Decision windows.Decision
	// Seasonality chooses the reference a window is judged against:
	// SeasonalityAuto (the default; empty means it too), SeasonalityNone,
	// SeasonalityDaily or SeasonalityWeekly.
	Seasonality string
	// Detectors sets the error-stream detectors: DetectorsCalibrated (the
	// default; empty means it too) or DetectorsRiver.
	Detectors string
	// MaxPerformanceDrop is how far below the reference's accuracy,
	// precision or recall a window's may fall before it is concept drift
	// (and only if the drop is also significant, one-sided z-test at 0.05);
	// the estimated performance (estimated.go) is judged by it too.
	MaxPerformanceDrop float64
	// MaxErrorIncrease is how far above the reference's mean absolute
	// error, relatively, a window's may rise (significantly) before it is
	// concept drift.
	MaxErrorIncrease float64
	// Importance weighs features in the dataset-level weighted_drift_share
	// (for example a model's feature importances, or 1 for the 10 to 20
	// features that matter most); features it does not name weigh 0. Empty:
	// every feature weighs 1.
	Importance map[string]float64
	// Multivariate configures the multivariate rows (subject
	// SubjectMultivariate).
	Multivariate Multivariate
}

// SLO holds serving objectives; a zero field is not judged (its row is
// still written, with threshold 0 and no verdict).
type SLO struct {
	LatencyP50, LatencyP95, LatencyP99 float64 // ms: drifted above
	MinThroughput                      float64 // records per second: drifted below
	MaxErrorRate                       float64 // failed records / records: drifted above
}

// Fairness holds the limits of the subgroup-fairness rows.
type Fairness struct {
	// MinGroupSize: smaller groups are reported (threshold_source
	// insufficient_samples) but not judged, and left out of the parity
	// figures.
	MinGroupSize int64
	// MaxParityDifference is the largest demographic parity difference
	// (max - min selection rate) and MaxOpportunityDifference the largest
	// equal opportunity difference (max - min true positive rate) that pass;
	// MinDisparateImpact the smallest selection-rate ratio (min / max) that
	// passes (0.8: the four-fifths rule). 0: reported, not judged (the
	// default: a model's standing disparities would otherwise page every
	// window; set the limits a model is held to).
	MaxParityDifference, MaxOpportunityDifference, MinDisparateImpact float64
	// MaxEqualizedOddsDifference is the largest equalized odds difference
	// (the larger of the true and the false positive rates' max - min over
	// the groups of at least MinGroupSize labelled records) that passes;
	// 0: reported, not judged (the default).
	MaxEqualizedOddsDifference float64
	// MaxParityIncrease is how much the gap in selection rate between the
	// window's most and least selected groups may exceed the reference's
	// gap between the same groups (significantly, one-sided z-test at
	// 0.05) before it is fairness drift; 0: not judged.
	MaxParityIncrease float64
}

// DefaultPolicy returns the documented defaults (see the package doc).
func DefaultPolicy() Policy {
	return Policy{
		Numeric:            Rule{Metric: MetricPSI, Threshold: 0.2},
		Categorical:        Rule{Metric: MetricJensenShannon, Threshold: 0.1},
		NumericMetrics:     []string{MetricPSI, MetricKS, MetricJensenShannon, MetricWasserstein, MetricHellinger},
		CategoricalMetrics: []string{MetricChi2, MetricPSI, MetricJensenShannon, MetricHellinger, MetricLInfinity},
		Thresholds: map[string]float64{
			MetricPSI: 0.2, MetricKS: 0.05, MetricAndersonDarling: 0.05, MetricCramerVonMises: 0.05,
			MetricChi2: 0.05, MetricChi2GOF: 0.05, MetricGTest: 0.05,
			MetricProportionZ: 0.05, MetricTTest: 0.05, MetricJensenShannon: 0.1, MetricJSDivergence: 0.1,
			MetricHellinger: 0.1, MetricKL: 0.1, MetricTotalVariation: 0.1, MetricLInfinity: 0.1,
			MetricWasserstein: 0.1, MetricEnergy: 0.1, MetricNullRate: 0.1,
			MetricMissingRate: 0.01, MetricTypeErrorRate: 0.001, MetricOutOfRange: 0.01, MetricUnseenRate: 0.01,
			MetricDriftedShare: 0.5, MetricWeightedDrift: 0.5, MetricPositiveRate: 0.05,
			MetricUnknownFeatureRate: 0.01, MetricVolumeRatio: 1.5,
		},
		MinSamples:  100,
		PSIBins:     10,
		Correction:  CorrectionBenjaminiHochberg,
		Calibration: Calibration{Sigmas: 3, MinSubWindows: 10},
		MDE:         MDE{Alpha: 0.05, Power: 0.8},
		Champion:    windows.DefaultChampion,
		Shadows:     slices.Clone(windows.DefaultShadows),
		Fairness:    Fairness{MinGroupSize: 30, MaxParityIncrease: 0.1},
		Decision:    windows.DefaultDecision(),

		MaxPerformanceDrop: 0.05,
		MaxErrorIncrease:   0.1,
		Detectors:          DetectorsCalibrated,
		Seasonality:        SeasonalityAuto,
		Multivariate:       DefaultMultivariate(),

		RequireSignificance: true,
	}
}

// Evaluator turns closed windows into rows. It is safe for concurrent use.
// It keeps, per model version, the error-stream detectors and the record
// counts of recent windows (the volume history), both bounded.
type Evaluator struct {
	def      Policy
	perModel map[string]Policy

	mu        sync.Mutex
	groups    map[groupKey][]int // PSI groups of a baseline feature's bins
	detectors map[windows.Key]*errorDetectors
	volumes   map[windows.Key]*volumeHistory // record counts of recent windows (volume.go)
	levels    map[levelKey]float64           // reconstruction_error's resampled levels (multivariate.go)
}

// windowSignals is what the detectors did on one window's errors so far:
// how many they read and the change points each signalled. Late labels add
// errors to a window after it closed; its detector rows report the totals.
type windowSignals struct {
	n       int64
	changes [3]int64
}

// errorDetectors watch one model version's stream of decision errors
// across its windows.
type errorDetectors struct {
	adwin *stream.ADWIN
	ph    *stream.PageHinkley
	ddm   *stream.DDM
	// signalled holds, by window start (unix ns), what the detectors did
	// on each recent window's errors (at most maxSignalWindows windows).
	signalled map[int64]*windowSignals
}

// maxSignalWindows bounds the windows per model version whose detector
// signals are kept for late labels: more than a week of hourly windows.
const maxSignalWindows = 1000

// Detector settings (Policy.Detectors).
const (
	// DetectorsCalibrated sets Page-Hinkley and DDM from the error rate of
	// the reference (or of the first window) and lets the first window
	// warm the detectors up (see detectorConfigs).
	DetectorsCalibrated = "calibrated"
	// DetectorsRiver runs ADWIN, Page-Hinkley and DDM at River's defaults,
	// from the first error on.
	DetectorsRiver = "river"
)

// DetectorSettings are the values Policy.Detectors takes.
var DetectorSettings = []string{DetectorsCalibrated, DetectorsRiver}

// Calibration of the error-stream detectors (DetectorsCalibrated).
const (
	// detectorWarmup is how many errors Page-Hinkley and DDM read before
	// they may signal (River: 30), at least.
	detectorWarmup = 1000
	// phSigmas is Page-Hinkley's threshold in standard deviations of its
	// cumulative sum under no change: with River's forgetting factor the
	// sum is a stationary process of standard deviation
	// sigma/sqrt(1-alpha^2) (sigma^2 = p(1-p) of the error rate p), whose
	// range over 10^7 errors stays within about 9.6 of them.
	phSigmas = 10
	// ddmErrors: DDM reads at least this many expected errors before it
	// tracks its minimum, so that its first estimates of the error rate
	// are not so low by chance that the true rate then looks like drift.
	ddmErrors = 100
	// ddmSigmas is DDM's drift threshold (River: 3, warning one less). DDM
	// compares the running error rate since its last reset with the
	// lowest it has seen; over a long stable stream that rate wanders by
	// two of its standard deviations in about one stream of 24 windows in
	// ten, which River's 3 takes for drift.
	ddmSigmas = 4
	// adwinDelta is ADWIN's confidence, 200 times smaller than River's 0.002, which
	// costs about a third more errors to see a change.
	adwinDelta = 1e-5
)

// detectorConfigs returns the detectors' settings for an error stream of
// rate p. River's Page-Hinkley (threshold 50, both directions) signals on
// stable streams every few thousand errors once p(1-p) is large (at p =
// 0.3, 200 false alarms in 3.8 million errors); calibrated, its threshold
// is phSigmas standard deviations of its cumulative sum, never below
// River's 50, and it watches increases of the error rate only. DDM's
// threshold is ddmSigmas. DDM and Page-Hinkley wait for detectorWarmup
// errors (DDM for ddmErrors expected errors, if more) before they may
// signal. ADWIN's confidence delta is
// adwinDelta instead of River's 0.002, which false-alarmed about once in a
// million errors.
func detectorConfigs(p float64) (stream.ADWINConfig, stream.PageHinkleyConfig, stream.DDMConfig) {
	p = min(max(p, 1e-4), 0.5)
	ad := stream.DefaultADWINConfig()
	ad.Delta = adwinDelta
	ph := stream.DefaultPageHinkleyConfig()
	ph.MinInstances = detectorWarmup
	ph.Mode = stream.PageHinkleyUp
	ph.Threshold = max(ph.Threshold, phSigmas*math.Sqrt(p*(1-p))/math.Sqrt(1-ph.Alpha*ph.Alpha))
	ddm := stream.DefaultDDMConfig()
	ddm.WarmStart = int(max(detectorWarmup, math.Ceil(ddmErrors/p)))
	ddm.WarningThreshold, ddm.DriftThreshold = ddmSigmas-1, ddmSigmas
	return ad, ph, ddm
}

// newErrorDetectors returns the detectors of a model version whose first
// errors are w's: at River's defaults, or calibrated on the reference's
// error rate at the policy's decision (on w's own without one).
func newErrorDetectors(p *Policy, w *windows.Window) *errorDetectors {
	ad, ph, ddm := stream.DefaultADWINConfig(), stream.DefaultPageHinkleyConfig(), stream.DefaultDDMConfig()
	if p.Detectors != DetectorsRiver {
		var rate float64
		if ref, ok := referenceOutcomes(w.Baseline, &p.Decision); ok {
			rate = (ref.FP + ref.FN) / ref.N()
		} else {
			var wrong float64
			for _, ev := range w.Errors {
				if ev.Err {
					wrong++
				}
			}
			rate = (wrong + 1) / (float64(len(w.Errors)) + 2)
		}
		ad, ph, ddm = detectorConfigs(rate)
	}
	return &errorDetectors{
		adwin:     stream.NewADWIN(ad),
		ph:        stream.NewPageHinkley(ph),
		ddm:       stream.NewDDM(ddm),
		signalled: make(map[int64]*windowSignals),
	}
}

// window returns the signals of the window starting at start, making room
// for it by forgetting the oldest windows.
func (d *errorDetectors) window(start int64) *windowSignals {
	if s := d.signalled[start]; s != nil {
		return s
	}
	if len(d.signalled) >= maxSignalWindows {
		starts := slices.Sorted(maps.Keys(d.signalled))
		for _, old := range starts[:len(starts)-maxSignalWindows/2] {
			delete(d.signalled, old)
		}
	}
	s := &windowSignals{}
	d.signalled[start] = s
	return s
}

type groupKey struct {
	baseline string
	feature  int // -1 for the prediction
}

// NewEvaluator returns an Evaluator using def, or perModel[model] where set.
func NewEvaluator(def Policy, perModel map[string]Policy) *Evaluator {
	return &Evaluator{def: def, perModel: perModel, groups: make(map[groupKey][]int), detectors: make(map[windows.Key]*errorDetectors),
		volumes: make(map[windows.Key]*volumeHistory)}
}

func (e *Evaluator) policy(model string) *Policy {
	if p, ok := e.perModel[model]; ok {
		return &p
	}
	return &e.def
}

// Evaluate returns the rows of one closed window, in a fixed order: features
// in baseline order, then the prediction, then quality rows. Windows of a
// model version are to be evaluated in the order they close: the volume
// expectation reads the record counts of the earlier ones (appendVolume).
func (e *Evaluator) Evaluate(w *windows.Window) []Row {
	p := e.policy(w.Model)
	head := Row{Model: w.Model, ModelVersion: w.Version, WindowStart: w.Start, WindowEnd: w.End, BaselineID: w.Baseline.ID}
	stored := w.Baseline // the stored baseline: a phased reference has no multivariate model, traffic or calibration of its own
	mv := stored.Multivariate
	w = phased(w, p)
	base := w.Baseline
	var rows, quality []Row
	for i := range base.Features {
		bf, cf := &base.Features[i], &w.Features[i]
		rows = e.subject(rows, head, FamilyData, bf.Name, bf, cf, p, groupKey{base.ID, i})
		quality = appendQuality(quality, head, bf.Name, bf, cf, p)
	}
	rows = e.subject(rows, head, FamilyPrediction, "prediction", &base.Prediction, &w.Prediction, p, groupKey{base.ID, -1})
	rows = e.appendVariants(rows, head, w, p)
	rows = appendAgreement(rows, head, w, p)
	quality = appendQuality(quality, head, "prediction", &base.Prediction, &w.Prediction, p)
	correct(rows, p.Correction)
	if p.RequireSignificance {
		requireSignificance(rows)
	}
	markInsufficient(rows)
	rows = appendDataset(rows, head, len(base.Features), p)
	rows = e.appendMultivariate(rows, head, w, mv, p) // after the dataset rows: not a feature of drifted_share
	rows = appendPositiveRate(rows, head, w, p)       // after correct: its verdict weighs effect and p-value, not p alone
	rows = appendModeShare(rows, head, w, p)
	rows = e.appendLabelled(rows, head, w, p)
	rows = appendVariantPerformance(rows, head, w, p)
	rows = appendEstimated(rows, head, w, stored, p)
	rows = append(rows, quality...)
	rows = appendSchema(rows, head, w, stored, p)
	rows = e.appendVolume(rows, head, w, stored, p)
	rows = appendFairness(rows, head, w, &p.Fairness, &p.Decision)
	rows = appendServing(rows, head, w, &p.SLO)
	return appendVariantServing(rows, head, w, p)
}

// Seasonality settings (Policy.Seasonality).
const (
	// SeasonalityAuto judges a window against the phase of the reference's
	// own cycle (baselines.Baseline.Cycle), if it has one.
	SeasonalityAuto = "auto"
	// SeasonalityNone judges every window against the whole reference.
	SeasonalityNone = "none"
	// SeasonalityDaily and SeasonalityWeekly judge a window shorter than a
	// day (a week) against the reference rows of the hours of the day (of
	// the week) it covers.
	SeasonalityDaily  = baselines.CycleDaily
	SeasonalityWeekly = baselines.CycleWeekly
)

// SeasonalitySettings are the values Policy.Seasonality takes.
var SeasonalitySettings = []string{SeasonalityAuto, SeasonalityNone, SeasonalityDaily, SeasonalityWeekly}

// phased returns w with its baseline replaced by the reference of w's
// phase under p.Seasonality (baselines.Baseline.Phased), or w itself when
// that is the whole reference. Rows keep the stored baseline's id.
func phased(w *windows.Window, p *Policy) *windows.Window {
	period := p.Seasonality
	if period == SeasonalityAuto || period == "" {
		period = w.Baseline.Cycle
	}
	if period == SeasonalityNone || period == "" {
		return w
	}
	b := w.Baseline.Phased(w.Start, w.End, period)
	if b == w.Baseline {
		return w
	}
	c := *w
	c.Baseline = b
	return &c
}

// EvaluateLabels returns the rows of a closed window that late labels
// change, from the label-derived state in w (windows.Closed.Relabel): label
// drift, coverage and delay, concept metrics, the detectors fed the
// window's newly labelled errors, the realized values beside the estimated
// performance (<metric>_realized), per group true positive rates, false
// positive rates, accuracy and precision, per attribute equal opportunity
// and equalized odds differences, and each variant's performance and
// difference from the champion. They are the new version of those rows;
// the others the window emitted at close stand.
func (e *Evaluator) EvaluateLabels(w *windows.Window) []Row {
	p := e.policy(w.Model)
	head := Row{Model: w.Model, ModelVersion: w.Version, WindowStart: w.Start, WindowEnd: w.End, BaselineID: w.Baseline.ID}
	stored := w.Baseline
	w = phased(w, p)
	rows := e.appendLabelled(nil, head, w, p)
	rows = appendVariantPerformance(rows, head, w, p)
	rows = appendEstimatedRealized(rows, head, w, stored, p)
	for _, r := range appendFairness(nil, head, w, &p.Fairness, &p.Decision) {
		if labelledFairness(r.Metric) {
			rows = append(rows, r)
		}
	}
	return rows
}

// appendLabelled appends the rows derived from the window's labels: label
// drift against the baseline's labels, coverage, concept metrics, label
// delays and the error-stream detectors.
func (e *Evaluator) appendLabelled(rows []Row, head Row, w *windows.Window, p *Policy) []Row {
	base := w.Baseline
	if base.Label != nil && w.Labels.Count > 0 {
		n := len(rows)
		rows = e.subject(rows, head, FamilyLabel, "label", base.Label, &w.Labels, p, groupKey{base.ID, -2})
		if p.RequireSignificance {
			requireSignificance(rows[n:])
		}
		markInsufficient(rows[n:])
	}
	rows = appendConcept(rows, head, w, p)
	rows = appendDelays(rows, head, w)
	return e.appendDetectors(rows, head, w, p)
}

// Label delay metrics (family label, subject label), in seconds.
const (
	MetricLabelDelayP50 = "label_delay_p50_s"
	MetricLabelDelayP95 = "label_delay_p95_s"
)

// appendDelays appends the median and 95th percentile of the delays of the
// window's late labels (label timestamp minus prediction timestamp;
// labels the records carried are not counted), interpolated linearly
// between order statistics as numpy.quantile does by default.
func appendDelays(rows []Row, head Row, w *windows.Window) []Row {
	d := w.LabelDelays
	if len(d) == 0 {
		return rows
	}
	for _, m := range []struct {
		metric string
		q      float64
	}{{MetricLabelDelayP50, 0.5}, {MetricLabelDelayP95, 0.95}} {
		r := head
		r.Family, r.Subject, r.Metric, r.Value, r.NCurrent = FamilyLabel, "label", m.metric, quantileSorted(d, m.q), int64(len(d))
		rows = append(rows, r)
	}
	return rows
}

// quantileSorted is the q-quantile of sorted xs, linear between order
// statistics (Hyndman and Fan's type 7, numpy's default).
func quantileSorted(xs []float64, q float64) float64 {
	h := float64(len(xs)-1) * q
	lo := math.Floor(h)
	i := int(lo)
	if i+1 >= len(xs) {
		return xs[len(xs)-1]
	}
	return xs[i] + (h-lo)*(xs[i+1]-xs[i])
}

// MetricModeShare is the share of a window's predictions in their most
// common value: a bin of the baseline's (numeric predictions) or a class
// (family prediction, subject prediction).
const MetricModeShare = "mode_share"

// Bounds of the collapse verdict of MetricModeShare.
const (
	collapsedShare       = 0.9 // a window with this share in one value has collapsed ...
	referenceSpreadBelow = 0.5 // ... if the reference's most common value held less than this
)

// appendModeShare appends the window's mode share against the reference's:
// drifted when at least 0.9 of the window's predictions fall in one bin or
// class while the reference's most common held less than half of it, over
// at least p.MinSamples predictions: the predictions collapsed to one
// value (a stuck model, a constant fallback), which distances on binned
// state see only as a large shift.
func appendModeShare(rows []Row, head Row, w *windows.Window, p *Policy) []Row {
	f, bf := &w.Prediction, &w.Baseline.Prediction
	if f.Count < max(p.MinSamples, 1) || bf.Count == 0 {
		return rows
	}
	mode := func(counts []int64, cats map[string]int64) int64 {
		var m int64
		for _, n := range counts {
			m = max(m, n)
		}
		for _, n := range cats {
			m = max(m, n)
		}
		return m
	}
	ref := float64(mode(bf.Counts, bf.Categories)) / float64(bf.Count)
	r := head
	r.Family, r.Subject, r.Metric = FamilyPrediction, "prediction", MetricModeShare
	r.Value, r.NCurrent, r.NReference = float64(mode(f.Counts, f.Categories))/float64(f.Count), f.Count, bf.Count
	r.Threshold, r.ThresholdSource = collapsedShare, SourceStatic
	r.Drifted = r.Value >= collapsedShare && ref < referenceSpreadBelow
	return append(rows, r)
}

// MetricPositiveRate is the share of a window's predictions that are
// positive decisions (family prediction, subject prediction).
const MetricPositiveRate = "positive_rate"

// appendPositiveRate appends the window's positive rate (a score at or
// above p.Decision.Threshold, or a class among p.Decision.Positive) against
// the reference's: from the baseline's prediction scores (exact at
// thresholds that are multiples of 1/baselines.OutcomeBins) or its
// prediction classes. Drifted when the rate moved by more than its
// threshold t (drift.thresholds.positive_rate, an absolute change),
// significantly: p_value is that of a test of H0 |move| <= t
// (beyondMargin), so that noise in a small window, which moves the rate
// past t by chance, is not a shift. Past t + what the test needs at the
// window's size, the verdict is the same as "moved by more than t" with a
// significant z-test; the MDE is the move detected with power
// p.MDE.Power, and past 2t the window is too small to tell.
func appendPositiveRate(rows []Row, head Row, w *windows.Window, p *Policy) []Row {
	if w.Decided == 0 {
		return rows
	}
	b := w.Baseline
	var refSel, refN float64
	switch {
	case len(b.PredictionScores) == baselines.OutcomeBins:
		refSel, refN = baselines.SelectedIn(b.PredictionScores, p.Decision.Threshold)
	case b.Prediction.Kind == baselines.Categorical:
		for c, n := range b.Prediction.Categories {
			refN += float64(n)
			if slices.Contains(p.Decision.Positive, c) {
				refSel += float64(n)
			}
		}
	}
	r := head
	r.Family, r.Subject, r.Metric = FamilyPrediction, "prediction", MetricPositiveRate
	r.Value, r.NCurrent = float64(w.Selected)/float64(w.Decided), w.Decided
	t, ok := p.Thresholds[MetricPositiveRate]
	if refN == 0 || !ok {
		return append(rows, r)
	}
	n, q := float64(w.Decided), refSel/refN
	r.NReference, r.Threshold, r.ThresholdSource = int64(refN), t, SourceStatic
	if pv, ok := beyondMargin(r.Value, n, q, refN, t); ok {
		r.PValue = &pv
		r.Drifted = pv < 0.05
	}
	se := math.Sqrt(q * (1 - q) * (1/n + 1/refN))
	if mde := t + (zOneSided95+distuv.UnitNormal.Quantile(p.MDE.Power))*se; se > 0 && !math.IsNaN(mde) {
		r.MDE = &mde
		if !r.Drifted && mde > 2*t {
			r.ThresholdSource = SourceInsufficient
		}
	}
	return append(rows, r)
}

// beyondMargin is the p-value of a test of H0: the window's proportion pw
// (of nw trials) is within margin of the reference's pr (of nr), |pw - pr|
// <= margin; small p means it moved by more than margin. With d = |pw -
// pr| and the unpooled standard error se, p is the chance, at the worst
// case of H0 (a true move of margin either way), of a move at least d:
// Q((d - margin)/se) + Phi((-d - margin)/se), the two-sided z-test's
// p-value when margin is 0. It is undefined (false) when se is 0.
func beyondMargin(pw, nw, pr, nr, margin float64) (float64, bool) {
	se := math.Sqrt(pw*(1-pw)/nw + pr*(1-pr)/nr)
	if !(se > 0) {
		return 0, false
	}
	d := math.Abs(pw - pr)
	upper := 0.5 * math.Erfc((d-margin)/se/math.Sqrt2)
	lower := 0.5 * math.Erfc((d+margin)/se/math.Sqrt2)
	return min(upper+lower, 1), true
}

// Label and concept metrics.
const (
	MetricLabelCoverage = "label_coverage" // family label: share of the window's records with a label
	MetricAccuracy      = "accuracy"       // family concept, on the labelled records' decisions
	MetricPrecision     = "precision"
	MetricRecall        = "recall"
	MetricF1            = "f1"
)

// appendConcept appends the window's label coverage and, over its
// labelled records, accuracy, precision, recall and F1 of the decisions
// (family concept, subject performance). Where the baseline holds the
// reference's scored outcomes, accuracy, precision and recall are judged
// against the reference's at the same decision threshold: drifted when a
// window's falls more than p.MaxPerformanceDrop below it and the drop is
// significant (one-sided two-proportion z-test, p_value, at 0.05).
func appendConcept(rows []Row, head Row, w *windows.Window, p *Policy) []Row {
	labelled := int64(w.Outcomes.N())
	if w.Labels.Count > 0 || labelled > 0 {
		r := head
		r.Family, r.Subject, r.Metric = FamilyLabel, "label", MetricLabelCoverage
		served := w.Records - w.Failed // a failed prediction has no label to cover
		r.Value, r.NCurrent = float64(w.Labels.Count)/float64(max(served, 1)), served
		rows = append(rows, r)
	}
	if labelled == 0 {
		return appendErrors(rows, head, w, p)
	}
	ref, hasRef := referenceOutcomes(w.Baseline, &p.Decision)
	type prop struct {
		metric string
		x, n   float64 // window: successes and trials
		rx, rn float64 // reference
	}
	c := w.Outcomes
	props := []prop{
		{MetricAccuracy, c.TP + c.TN, c.N(), ref.TP + ref.TN, ref.N()},
		{MetricPrecision, c.TP, c.TP + c.FP, ref.TP, ref.TP + ref.FP},
		{MetricRecall, c.TP, c.TP + c.FN, ref.TP, ref.TP + ref.FN},
	}
	for _, m := range props {
		if m.n == 0 {
			continue
		}
		r := head
		r.Family, r.Subject, r.Metric = FamilyConcept, "performance", m.metric
		r.Value, r.NCurrent = m.x/m.n, int64(m.n)
		if hasRef && m.rn > 0 {
			refValue := m.rx / m.rn
			r.NReference = int64(m.rn)
			r.Threshold, r.ThresholdSource = refValue-p.MaxPerformanceDrop, SourceStatic
			if pv, ok := belowMargin(r.Value, m.n, refValue, m.rn, p.MaxPerformanceDrop); ok {
				r.PValue = &pv
				r.Drifted = pv < 0.05
			}
			// The drop the window detects with power p.MDE.Power: the
			// margin, plus what the one-sided test at 0.05 needs beyond it
			// at the reference's rate. Past twice the margin the window
			// is too small to tell.
			se := math.Sqrt(refValue * (1 - refValue) * (1/m.n + 1/m.rn))
			if mde := p.MaxPerformanceDrop + (zOneSided95+distuv.UnitNormal.Quantile(p.MDE.Power))*se; se > 0 && !math.IsNaN(mde) {
				r.MDE = &mde
				if !r.Drifted && mde > 2*p.MaxPerformanceDrop {
					r.ThresholdSource = SourceInsufficient
				}
			}
		}
		rows = append(rows, r)
	}
	if f1, ok := c.F1(); ok {
		r := head
		r.Family, r.Subject, r.Metric, r.Value, r.NCurrent = FamilyConcept, "performance", MetricF1, f1, labelled
		rows = append(rows, r)
	}
	return appendErrors(rows, head, w, p)
}

// Error metrics of numeric predictions against numeric labels.
const (
	MetricMAE  = "mae"
	MetricRMSE = "rmse"
)

// appendErrors appends the window's mean absolute and root mean squared
// prediction errors over its labelled records with a numeric prediction
// and label (family concept, subject performance; for a classifier's
// scores and 0/1 labels RMSE is the root Brier score). With the
// reference's errors in the baseline, MAE is judged: drifted when it is
// significantly above the reference's times 1 + p.MaxErrorIncrease (a
// one-sided non-inferiority z-test at 0.05 on the mean of |e|, p_value);
// its MDE is the rise over the reference's MAE the window detects, and
// past twice the allowed rise the row says insufficient_samples.
func appendErrors(rows []Row, head Row, w *windows.Window, p *Policy) []Row {
	if w.ErrN == 0 {
		return rows
	}
	n := float64(w.ErrN)
	mae, msq := w.ErrAbs.Value()/n, w.ErrSq.Value()/n
	r := head
	r.Family, r.Subject, r.Metric, r.Value, r.NCurrent = FamilyConcept, "performance", MetricMAE, mae, w.ErrN
	if ref := w.Baseline.Errors; ref != nil && ref.N > 0 && p.MaxErrorIncrease > 0 {
		rn := float64(ref.N)
		rmae := ref.SumAbs / rn
		limit := rmae * (1 + p.MaxErrorIncrease)
		r.NReference, r.Threshold, r.ThresholdSource = ref.N, limit, SourceStatic
		vw, vr := max(msq-mae*mae, 0), max(ref.SumSq/rn-rmae*rmae, 0) // variances of |e|
		if se := math.Sqrt(vw/n + vr*(1+p.MaxErrorIncrease)*(1+p.MaxErrorIncrease)/rn); se > 0 {
			pv := 0.5 * math.Erfc((mae-limit)/se/math.Sqrt2)
			r.PValue = &pv
			r.Drifted = pv < 0.05
			// The rise over the reference's MAE the window detects with
			// power p.MDE.Power, at the reference's spread of |e| (as
			// accuracy's): past twice the allowed rise, too small to tell.
			allowed := limit - rmae
			if mde := allowed + (zOneSided95+distuv.UnitNormal.Quantile(p.MDE.Power))*math.Sqrt(vr*(1/n+1/rn)); vr > 0 && !math.IsNaN(mde) {
				r.MDE = &mde
				if !r.Drifted && mde > 2*allowed {
					r.ThresholdSource = SourceInsufficient
				}
			}
		}
	}
	rows = append(rows, r)
	r = head
	r.Family, r.Subject, r.Metric, r.Value, r.NCurrent = FamilyConcept, "performance", MetricRMSE, math.Sqrt(msq), w.ErrN
	if ref := w.Baseline.Errors; ref != nil && ref.N > 0 {
		r.NReference = ref.N
	}
	return append(rows, r)
}

// belowMargin is the one-sided p-value of a non-inferiority test: H0, the
// window's proportion pw (of nw trials) is at least the reference's pr (of
// nr) less margin; small p means it is significantly below that. The
// statistic is z = (pw - pr + margin) / sqrt(pw(1-pw)/nw + pr(1-pr)/nr)
// (Wald, unpooled), p = Phi(z). It is undefined (false) when the standard
// error is 0.
func belowMargin(pw, nw, pr, nr, margin float64) (float64, bool) {
	se := math.Sqrt(pw*(1-pw)/nw + pr*(1-pr)/nr)
	if !(se > 0) {
		return 0, false
	}
	z := (pw - pr + margin) / se
	return 0.5 * math.Erfc(-z/math.Sqrt2), true
}

// Streaming detectors on the error stream (family concept, subject
// error_stream).
const (
	MetricADWIN       = "adwin"
	MetricPageHinkley = "page_hinkley"
	MetricDDM         = "ddm"
)

// appendDetectors feeds the window's decision errors (1 for a wrong
// decision), in event-time order, to its model version's ADWIN,
// Page-Hinkley and DDM detectors (stats/stream; calibrated or at River's
// defaults, Policy.Detectors), which carry over from window to window,
// and appends one row per detector: the
// number of change points it signalled on this window's errors so far
// (drifted when any), over how many of them. Errors reach the detectors
// when they become known: a window's at its close, those of labels that
// arrive later with the window's re-evaluation (EvaluateLabels), each batch
// in event-time order. Replay and Kafka feed them alike when labels come
// alike. A sink that keeps DetectorStates lets a restarted job go on
// from where the detectors were (RestoreDetectors).
func (e *Evaluator) appendDetectors(rows []Row, head Row, w *windows.Window, p *Policy) []Row {
	if len(w.Errors) == 0 {
		return rows
	}
	w.SortErrors()
	e.mu.Lock()
	d := e.detectors[w.Key]
	// Calibrated, the window that creates the detectors warms them up:
	// they read its errors but what they signal is not counted.
	warmup := d == nil && p.Detectors != DetectorsRiver
	if d == nil {
		if len(e.detectors) > 100_000 {
			clear(e.detectors) // model versions come and go; never grow without bound
		}
		d = newErrorDetectors(p, w)
		e.detectors[w.Key] = d
	}
	s := d.window(w.Start.UnixNano())
	for _, ev := range w.Errors {
		x := 0.0
		if ev.Err {
			x = 1
		}
		for i, det := range []stream.Detector{d.adwin, d.ph, d.ddm} {
			if det.Update(x) && !warmup {
				s.changes[i]++
			}
		}
	}
	s.n += int64(len(w.Errors))
	sig := *s
	e.mu.Unlock()
	for i, metric := range []string{MetricADWIN, MetricPageHinkley, MetricDDM} {
		r := head
		r.Family, r.Subject, r.Metric = FamilyConcept, "error_stream", metric
		r.Value, r.NCurrent, r.Drifted, r.ThresholdSource = float64(sig.changes[i]), sig.n, sig.changes[i] > 0, SourceStatic
		rows = append(rows, r)
	}
	return rows
}

// referenceOutcomes is the reference's confusion matrix at d, from the
// baseline's scored outcomes (exact when d.Threshold is a multiple of
// 1/baselines.OutcomeBins).
func referenceOutcomes(b *baselines.Baseline, d *windows.Decision) (perf.Confusion, bool) {
	if b.Outcomes == nil {
		return perf.Confusion{}, false
	}
	c := outcomesAt(b.Outcomes.ByLabel, d)
	return c, c.N() > 0
}

// outcomesAt is the confusion matrix at d of scores binned by label text
// (OutcomeBins bins each): a score in a bin at or above d.Threshold is
// selected, a label among d.Positive positive.
func outcomesAt(byLabel map[string][]int64, d *windows.Decision) perf.Confusion {
	var c perf.Confusion
	first := baselines.FirstSelectedBin(d.Threshold)
	for label, bins := range byLabel {
		positive := slices.Contains(d.Positive, label)
		for i, n := range bins {
			selected := i >= first
			switch {
			case selected && positive:
				c.TP += float64(n)
			case selected:
				c.FP += float64(n)
			case positive:
				c.FN += float64(n)
			default:
				c.TN += float64(n)
			}
		}
	}
	return c
}

// ReferenceGroups returns the reference's state of every segment group at
// decision d, by attribute and group, in the form a window keeps it
// (windows.Group): Decisions counts the group's reference scores as
// selected (FP) or not (TN), from b.Groups; Outcomes is the confusion
// matrix of its labelled scores, from b.GroupOutcomes (zero where the
// baseline has none: built before it, from a reference without labels or
// with more than baselines.MaxGroupLabels label texts, or a phased
// reference). The rates follow as for a window: selection rate
// Decisions.SelectionRate(), and Outcomes' Recall (TPR), FPR, Accuracy and
// Precision, so stats/fairness applies to the reference as to a window.
// Exact when d.Threshold is a multiple of 1/baselines.OutcomeBins. Nil
// when b has no groups.
func ReferenceGroups(b *baselines.Baseline, d windows.Decision) map[string]map[string]windows.Group {
	if len(b.Groups) == 0 {
		return nil
	}
	out := make(map[string]map[string]windows.Group, len(b.Groups))
	for attr, gs := range b.Groups {
		m := make(map[string]windows.Group, len(gs))
		for name, bins := range gs {
			var g windows.Group
			sel, n := baselines.SelectedIn(bins, d.Threshold)
			g.Decisions.FP, g.Decisions.TN = sel, n-sel
			if byLabel := b.GroupOutcomes[attr][name]; byLabel != nil {
				g.Outcomes = outcomesAt(byLabel, &d)
			}
			m[name] = g
		}
		out[attr] = m
	}
	return out
}

// Fairness metrics (family fairness). Per group (subject attr=group) they
// also include MetricAccuracy (over the group's labelled records) and
// MetricPrecision (over its labelled selected records).
const (
	MetricSelectionRate     = "selection_rate"          // per group: share of positive decisions
	MetricTruePositiveRate  = "true_positive_rate"      // per group, labelled records: recall
	MetricFalsePositiveRate = "false_positive_rate"     // per group, labelled negatives: share selected
	MetricParityDifference  = "demographic_parity_diff" // per attribute: max - min selection rate
	MetricDisparateImpact   = "disparate_impact"        // per attribute: min / max selection rate
	MetricOpportunityDiff   = "equal_opportunity_diff"  // per attribute: max - min true positive rate
	MetricEqualizedOddsDiff = "equalized_odds_diff"     // per attribute: the larger of the TPR and FPR differences
)

// labelledFairness reports whether a fairness row's metric comes from the
// window's labels: late labels change it (EvaluateLabels).
func labelledFairness(metric string) bool {
	switch metric {
	case MetricTruePositiveRate, MetricFalsePositiveRate, MetricAccuracy, MetricPrecision,
		MetricOpportunityDiff, MetricEqualizedOddsDiff:
		return true
	}
	return false
}

// SourceInsufficient marks rows whose window is too small to judge
// ("insufficient data"): fairness groups under Fairness.MinGroupSize,
// parity_diff_change when its groups cannot show a growth of the limit,
// and rows not drifted whose window cannot see a shift of the threshold's
// size (markInsufficient, positive_rate).
const SourceInsufficient = "insufficient_samples"

// appendFairness appends, for every segment attribute of the window, each
// group's selection rate (and, where labels arrived, its true positive
// rate, false positive rate, accuracy and precision; subject attr=value)
// and the attribute's demographic parity difference, disparate impact,
// equal opportunity difference and equalized odds difference (subject
// attr) over the groups of at least f.MinGroupSize records (labelled
// records for the label-based ones), judged against f's limits. The
// figures follow Fairlearn's definitions (stats/fairness).
//
// A per-group row's NCurrent is its rate's denominator (records, labelled
// positives, labelled negatives, labelled records, labelled selected
// records), so that sum(value*n_current)/sum(n_current) over windows is
// the period's rate exactly.
func appendFairness(rows []Row, head Row, w *windows.Window, f *Fairness, d *windows.Decision) []Row {
	attrs := make([]string, 0, len(w.Groups))
	for a := range w.Groups {
		attrs = append(attrs, a)
	}
	slices.Sort(attrs)
	minN := float64(max(f.MinGroupSize, 1))
	for _, attr := range attrs {
		gs := w.Groups[attr]
		names := make([]string, 0, len(gs))
		for g := range gs {
			names = append(names, g)
		}
		slices.Sort(names)
		decisions := make(map[string]perf.Confusion, len(gs))
		outcomes := make(map[string]perf.Confusion, len(gs))
		var total, labelled int64
		for _, name := range names {
			g := gs[name]
			decisions[name], outcomes[name] = g.Decisions, g.Outcomes
			n := int64(g.Decisions.N())
			total += n
			labelled += int64(g.Outcomes.N())
			r := head
			r.Family, r.Subject = FamilyFairness, attr+"="+name
			if n < int64(minN) {
				r.ThresholdSource = SourceInsufficient
			}
			if v, ok := g.Decisions.SelectionRate(); ok {
				r.Metric, r.Value, r.NCurrent = MetricSelectionRate, v, n
				rows = append(rows, r)
			}
			// The label-based rates, each with its denominator.
			if g.Outcomes.N() < minN {
				r.ThresholdSource = SourceInsufficient
			}
			o := g.Outcomes
			for _, m := range []struct {
				metric string
				rate   func() (float64, bool)
				n      float64
			}{
				{MetricTruePositiveRate, o.Recall, o.Positives()},
				{MetricFalsePositiveRate, o.FPR, o.Negatives()},
				{MetricAccuracy, o.Accuracy, o.N()},
				{MetricPrecision, o.Precision, o.TP + o.FP},
			} {
				if v, ok := m.rate(); ok {
					r.Metric, r.Value, r.NCurrent = m.metric, v, int64(m.n)
					rows = append(rows, r)
				}
			}
		}
		judge := func(metric string, v float64, ok bool, n int64, limit float64, below bool) {
			if ok {
				rows = append(rows, limitRow(head, FamilyFairness, attr, metric, v, n, limit, below))
			}
		}
		v, ok := fairness.DemographicParityDifference(decisions, minN)
		judge(MetricParityDifference, v, ok, total, f.MaxParityDifference, false)
		v, ok = fairness.DemographicParityRatio(decisions, minN)
		judge(MetricDisparateImpact, v, ok, total, f.MinDisparateImpact, true)
		v, ok = fairness.EqualOpportunityDifference(outcomes, minN)
		judge(MetricOpportunityDiff, v, ok, total, f.MaxOpportunityDifference, false)
		v, ok = fairness.EqualizedOddsDifference(outcomes, minN)
		judge(MetricEqualizedOddsDiff, v, ok, labelled, f.MaxEqualizedOddsDifference, false)
		if ref := w.Baseline.Groups[attr]; ref != nil {
			if r, ok := parityChange(head, attr, decisions, ref, minN, f.MaxParityIncrease, d.Threshold); ok {
				rows = append(rows, r)
			}
		}
	}
	return rows
}

// MetricParityChange is the change of an attribute's selection-rate gap
// against the reference (family fairness, subject attr).
const MetricParityChange = "parity_diff_change"

// parityReplicates is the number of simulated windows parityChange draws.
const parityReplicates = 2000

// parityChange compares the selection-rate gap between the window's most
// and least selected groups (of at least minN records in the window and in
// the reference) with the reference's gap between the same two groups, at
// the decision threshold: Value is the growth.
//
// Picking the extreme pair of k groups makes that growth positive even
// when nothing changed (with 4 groups of 100 records at equal rates it
// averages about 0.09), so it is judged against what the same pick gives
// under no change: a parametric bootstrap draws parityReplicates windows
// (and references) in which every group's selection rate moved by the
// same amount, the window's overall shift, each rate with its binomial
// sampling variance, and computes the growth of each draw's own extreme
// pair. PValue is the share of draws with a growth at least the
// observed; Threshold is margin plus the draws' mean growth; drifted when
// the growth is past the threshold and PValue < 0.05. MDE is the growth
// beyond the draws' mean that the window detects with power 0.8 at level
// 0.05; when it is above margin the groups are too small to tell, and the
// row is reported with SourceInsufficient and no verdict. The draws are seeded from the row's model, version, window and
// attribute, so every instance and replay write the same row.
func parityChange(head Row, attr string, decisions map[string]perf.Confusion, ref map[string][]int64, minN, margin, threshold float64) (Row, bool) {
	type group struct {
		name         string
		rate, n      float64 // window
		rRate, rN    float64 // reference
		sd, rSD, mid float64 // sampling sds under no change, the no-change rate
	}
	var gs []group
	for g, c := range decisions {
		bins, found := ref[g]
		if !found || c.N() < minN {
			continue
		}
		sel, rn := baselines.SelectedIn(bins, threshold)
		if rn < minN {
			continue
		}
		rate, _ := c.SelectionRate()
		gs = append(gs, group{name: g, rate: rate, n: c.N(), rRate: sel / rn, rN: rn})
	}
	if len(gs) < 2 {
		return Row{}, false
	}
	slices.SortFunc(gs, func(a, b group) int { return cmp.Compare(a.name, b.name) })
	// growth is the gap growth of rate's extreme pair (ties: the first by
	// name) against the same pair's gap in rRate.
	growth := func(rate, rRate []float64) float64 {
		hi, lo := 0, 0
		for i, r := range rate {
			if r > rate[hi] {
				hi = i
			}
			if r < rate[lo] {
				lo = i
			}
		}
		if hi == lo {
			return 0
		}
		return (rate[hi] - rate[lo]) - (rRate[hi] - rRate[lo])
	}
	rate, rRate := make([]float64, len(gs)), make([]float64, len(gs))
	for i, g := range gs {
		rate[i], rRate[i] = g.rate, g.rRate
	}
	observed := growth(rate, rRate)
	var nw, shift float64
	for i := range gs {
		nw += gs[i].n
		shift += gs[i].n * (gs[i].rate - gs[i].rRate)
	}
	shift /= nw
	for i := range gs {
		g := &gs[i]
		g.mid = min(max(g.rRate+shift, 0), 1)
		g.sd, g.rSD = math.Sqrt(g.mid*(1-g.mid)/g.n), math.Sqrt(g.rRate*(1-g.rRate)/g.rN)
	}
	r := head
	r.Family, r.Subject, r.Metric, r.Value = FamilyFairness, attr, MetricParityChange, observed
	for _, g := range gs {
		r.NCurrent, r.NReference = r.NCurrent+int64(g.n), r.NReference+int64(g.rN)
	}
	if margin <= 0 {
		return r, true
	}
	rng := rand.New(rand.NewPCG(paritySeed(head, attr), 0x9e3779b97f4a7c15))
	draws := make([]float64, parityReplicates)
	var sum float64
	above := 1 // the observed window counts as one draw
	for b := range draws {
		for i, g := range gs {
			rate[i] = min(max(g.mid+g.sd*rng.NormFloat64(), 0), 1)
			rRate[i] = min(max(g.rRate+g.rSD*rng.NormFloat64(), 0), 1)
		}
		d := growth(rate, rRate)
		draws[b], sum = d, sum+d
		if d >= observed {
			above++
		}
	}
	mean := sum / parityReplicates
	var ss float64
	for _, d := range draws {
		ss += (d - mean) * (d - mean)
	}
	slices.Sort(draws)
	q95 := draws[int(math.Ceil(0.95*parityReplicates))-1]
	mde := q95 - mean + zPower80*math.Sqrt(ss/(parityReplicates-1))
	pv := float64(above) / (parityReplicates + 1)
	r.PValue, r.Threshold, r.ThresholdSource, r.MDE = &pv, margin+mean, SourceStatic, &mde
	if mde > margin {
		// The groups are too small to see a growth of margin: reported,
		// not judged, like a group under fairness.min_group_size.
		r.ThresholdSource = SourceInsufficient
		return r, true
	}
	r.Drifted = observed >= r.Threshold && pv < 0.05
	return r, true
}

// zOneSided95 is the standard normal quantile of 0.95: a one-sided test at
// 0.05.
const zOneSided95 = 1.6448536269514722

// zPower80 is the standard normal quantile of 0.8, the power of MDEs.
const zPower80 = 0.8416212335729143

// paritySeed seeds parityChange's draws from what names its row.
func paritySeed(head Row, attr string) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%s\x00%d\x00%s", head.Model, head.ModelVersion, head.WindowStart.UnixNano(), attr)
	return h.Sum64()
}

// limitRow is a row judged against a configured limit: drifted above it
// (below it when below is set); a limit of 0 is not set, and the row is
// reported without a verdict.
func limitRow(head Row, family, subject, metric string, value float64, n int64, limit float64, below bool) Row {
	r := head
	r.Family, r.Subject, r.Metric, r.Value, r.NCurrent = family, subject, metric, value, n
	if limit > 0 {
		r.Threshold, r.ThresholdSource = limit, SourceStatic
		r.Drifted = value > limit
		if below {
			r.Drifted = value < limit
		}
	}
	return r
}

// Serving metrics (family serving).
const (
	MetricLatencyP50 = "latency_p50_ms"
	MetricLatencyP95 = "latency_p95_ms"
	MetricLatencyP99 = "latency_p99_ms"
	MetricThroughput = "throughput_rps"
)

// appendServing appends the window's serving rows: the p50, p95 and p99 of
// the records' latency_ms (subject latency_ms; DDSketch estimates within
// windows.LatencyAccuracy, numpy's "lower" order statistic) when any record
// had one, and the window's records per second (subject throughput), each
// judged against its SLO when one is set.
func appendServing(rows []Row, head Row, w *windows.Window, slo *SLO) []Row {
	add := func(subject, metric string, value float64, n int64, limit float64, below bool) {
		rows = append(rows, limitRow(head, FamilyServing, subject, metric, value, n, limit, below))
	}
	rows = appendLatency(rows, head, "latency_ms", w.Latency, [3]float64{slo.LatencyP50, slo.LatencyP95, slo.LatencyP99})
	if secs := w.End.Sub(w.Start).Seconds(); secs > 0 {
		add("throughput", MetricThroughput, float64(w.Records)/secs, w.Records, slo.MinThroughput, true)
	}
	return appendServingErrors(rows, head, w, slo)
}

// appendLatency appends the p50, p95 and p99 latency rows (family
// serving) of subject from sketch s, each against its limit (0: none),
// when s holds latencies.
func appendLatency(rows []Row, head Row, subject string, s *sketch.Sketch, limits [3]float64) []Row {
	if s == nil || s.Count() == 0 {
		return rows
	}
	n := int64(s.Count())
	for i, m := range [3]struct {
		metric string
		q      float64
	}{{MetricLatencyP50, 0.50}, {MetricLatencyP95, 0.95}, {MetricLatencyP99, 0.99}} {
		rows = append(rows, limitRow(head, FamilyServing, subject, m.metric, s.Quantile(m.q), n, limits[i], false))
	}
	return rows
}

// appendVariants compares each variant's predictions in the window with
// the champion's in the same window (shadow, canary and A/B deployments):
// subject variant=<name>, family prediction, the champion taking the
// reference's place with the same metrics, rule and thresholds as the
// prediction (and, numeric, the baseline's bins and cells). Nothing is
// written when the window has no champion records or no other variant.
func (e *Evaluator) appendVariants(rows []Row, head Row, w *windows.Window, p *Policy) []Row {
	champ, ok := w.Variants[p.Champion]
	if !ok || len(w.Variants) < 2 || champ.Prediction.Count < max(p.MinSamples, 1) {
		return rows
	}
	base := w.Baseline
	gk := groupKey{base.ID, -1}
	if base.Prediction.Kind == baselines.Numeric {
		e.psiGroups(gk, base.Prediction.Counts, p.PSIBins) // the cells come from the training reference, not the champion
	}
	ref := championReference(&base.Prediction, &champ.Prediction)
	names := make([]string, 0, len(w.Variants)-1)
	for v := range w.Variants {
		if v != p.Champion {
			names = append(names, v)
		}
	}
	slices.Sort(names)
	for _, v := range names {
		rows = e.subject(rows, head, FamilyPrediction, variantSubject(v), ref, &w.Variants[v].Prediction, p, gk)
	}
	return rows
}

// championReference is the champion's window state in a baseline's shape,
// on the baseline prediction's bins.
func championReference(bf *baselines.Feature, champ *windows.Feature) *baselines.Feature {
	ref := &baselines.Feature{Name: bf.Name, Kind: bf.Kind, Count: champ.Count, Nulls: champ.Nulls, Edges: bf.Edges,
		Counts: champ.Counts, Sums: champ.Sums, Categories: champ.Categories}
	if champ.Count > 0 && bf.Kind == baselines.Numeric {
		ref.Min, ref.Max, ref.Mean, ref.Std = champ.Min, champ.Max, champ.Moments.Mean, champ.Moments.Std()
	}
	return ref
}

// appendDataset appends the window's dataset-level rows (family data,
// subject "*"): drifted_share, the share of features with a verdict that
// drifted, and weighted_drift_share, the same share weighted by
// p.Importance, which is the dataset's verdict (Primary), each judged
// drifted at or above its threshold (default 0.5, Evidently's dataset drift
// share). nFeatures is how many features the baseline has.
func appendDataset(rows []Row, head Row, nFeatures int, p *Policy) []Row {
	var judged, drifted int64
	var w, wDrifted float64
	for i := range rows {
		r := &rows[i]
		if r.Family != FamilyData || !r.Primary {
			continue
		}
		weight := 1.0
		if len(p.Importance) > 0 {
			weight = p.Importance[r.Subject]
		}
		judged++
		w += weight
		if r.Drifted {
			drifted++
			wDrifted += weight
		}
	}
	if judged == 0 {
		return rows
	}
	add := func(metric string, value float64, primary bool) {
		r := head
		r.Family, r.Subject, r.Metric, r.Value, r.Primary = FamilyData, "*", metric, value, primary
		r.NCurrent, r.NReference = judged, int64(nFeatures)
		if t, ok := p.Thresholds[metric]; ok {
			r.Threshold, r.Drifted, r.ThresholdSource = t, value >= t, SourceStatic
		}
		rows = append(rows, r)
	}
	add(MetricDriftedShare, float64(drifted)/float64(judged), false)
	if w > 0 {
		add(MetricWeightedDrift, wDrifted/w, true)
	}
	return rows
}

// Late returns the row reporting records that arrived after their window
// closed; it is judged drifted when there are any.
func Late(r *windows.LateReport) Row {
	return Row{
		Model: r.Model, ModelVersion: r.Version, WindowStart: r.Start, WindowEnd: r.End, BaselineID: r.BaselineID,
		Family: FamilyQuality, Subject: "*", Metric: MetricLateRecords,
		Value: float64(r.Records), Drifted: r.Records > 0, NCurrent: r.Records, ThresholdSource: SourceStatic,
	}
}

// significanceTest is the test RequireSignificance consults for a kind.
func significanceTest(k baselines.Kind) string {
	if k == baselines.Numeric {
		return MetricKS
	}
	return MetricChi2
}

func (e *Evaluator) subject(rows []Row, head Row, family, name string, bf *baselines.Feature, cf *windows.Feature, p *Policy, gk groupKey) []Row {
	if cf.Count < max(p.MinSamples, 1) || bf.Count == 0 {
		return rows
	}
	var groups []int
	if bf.Kind == baselines.Numeric {
		groups = e.psiGroups(gk, bf.Counts, p.PSIBins)
	}
	pr := newPair(bf, cf, groups, p.PSIBins)
	rule, metrics := p.Numeric, p.NumericMetrics
	if bf.Kind != baselines.Numeric {
		rule, metrics = p.Categorical, p.CategoricalMetrics
	}
	if p.Preset == PresetEvidently {
		rule = evidentlyRule(bf, cf, pr)
	}
	if r, ok := p.Features[name]; ok {
		rule = r
	}
	// The rows: the configured metrics, then the rule's metric and the
	// significance test if they are not among them.
	names := slices.Clone(metrics)
	gates := []string{significanceTest(bf.Kind)}
	if specs[rule.Metric].test {
		gates = append(gates, effectMetric(bf.Kind))
	}
	for _, m := range append([]string{rule.Metric}, gates...) {
		if m != rule.Metric && !p.RequireSignificance {
			continue // the significance test and the effect size are only needed to gate the verdicts
		}
		if !slices.Contains(names, m) {
			names = append(names, m)
		}
	}
	var cal map[string]float64
	if p.Calibration.Enabled {
		var want []string
		for _, m := range names {
			if calibratable(m) {
				want = append(want, m)
			}
		}
		cal = calibrate(bf, pr, cf.Count, want, p.Calibration)
	}
	head.Family, head.Subject, head.NCurrent, head.NReference = family, name, cf.Count, bf.Count
	for _, metric := range names {
		value, pValue := pr.compute(metric)
		if math.IsNaN(value) || pValue != nil && math.IsNaN(*pValue) {
			continue // undefined here, e.g. proportion_z on three categories
		}
		r := head
		r.Metric, r.Value, r.PValue = metric, finite(value), pValue
		r.MDE = pr.mde(metric, p.MDE)
		thr, ok := p.Thresholds[metric]
		if rule.Metric == metric {
			thr, ok, r.Primary = rule.Threshold, true, true
		}
		if ok {
			judge(&r, thr, pr.scale, cal, p.Calibration.Enabled)
			if p.RequireSignificance && r.ThresholdSource != SourceCalibrated && !specs[metric].test {
				// Material means past the threshold beyond noise: the
				// threshold and the MDE as the window reads them.
				// A window too small to see the threshold's effect (MDE
				// above it) judges only effects it can see: past the MDE.
				read := pr.reader(metric)
				r.Threshold = read(r.Threshold)
				bar := r.Threshold
				if r.MDE != nil {
					mde := read(*r.MDE)
					r.MDE, bar = &mde, max(bar, mde)
				}
				r.Drifted = r.Value >= bar
			}
		}
		rows = append(rows, r)
	}
	return rows
}

// judge sets r's threshold, its source and the verdict.
func judge(r *Row, thr, scale float64, cal map[string]float64, calibrating bool) {
	s := specs[r.Metric]
	r.ThresholdSource = SourceStatic
	switch {
	case s.test:
		r.Threshold, r.Drifted = thr, *r.PValue < thr
		return
	case calibrating && calibratable(r.Metric):
		if c, ok := cal[r.Metric]; ok {
			r.Threshold, r.ThresholdSource = c, SourceCalibrated
			r.Drifted = r.Value > c
			return
		}
		r.ThresholdSource = SourceStaticFallback
	}
	if s.scaled {
		thr *= scale
	}
	r.Threshold, r.Drifted = thr, r.Value >= thr
}

// finite maps ±Inf (a chi-squared statistic with an unseen category, say)
// to ±MaxFloat64, which JSON and ClickHouse can hold.
func finite(v float64) float64 {
	if math.IsInf(v, 0) {
		return math.Copysign(math.MaxFloat64, v)
	}
	return v
}

// effectMetric is the effect size the gate consults for a subject whose
// rule is a test: PSI for numeric subjects, Jensen-Shannon distance for
// categorical ones (the default rules' metrics).
func effectMetric(k baselines.Kind) string {
	if k == baselines.Numeric {
		return MetricPSI
	}
	return MetricJensenShannon
}

// gated reports whether metric's verdict is gated by RequireSignificance:
// every test and effect size a subject's rows hold, but null_rate, a
// share of records (quality).
func gated(metric string) bool {
	_, ok := specs[metric]
	return ok && metric != MetricNullRate
}

// requireSignificance gives every row of a subject one meaning of
// drifted (Policy.RequireSignificance): an effect size (psi, a distance)
// is drifted only when it is past its threshold and the subject's
// significance test (ks for numeric subjects, chi2 for categorical ones,
// after the window's correction) is significant; a test (ks, chi2,
// t_test, g_test, ...) only when it is significant and the subject's
// effect size (its rule's metric, or effectMetric's row when the rule is
// a test) is past its threshold. Each condition is read from the rows'
// verdicts before gating. A subject without the row a gate needs (a test
// undefined on its cells) is judged on the other alone.
func requireSignificance(rows []Row) {
	type subject struct{ test, effect *Row }
	subjects := make(map[string]*subject)
	at := func(r *Row) *subject {
		key := r.Family + "\x00" + r.Subject
		s := subjects[key]
		if s == nil {
			s = &subject{}
			subjects[key] = s
		}
		return s
	}
	for i := range rows {
		r := &rows[i]
		if !gated(r.Metric) {
			continue
		}
		s := at(r)
		// ks is computed only for numeric subjects, where it is the test;
		// a numeric subject may have a chi2 row too.
		if r.Metric == MetricKS || r.Metric == MetricChi2 && (s.test == nil || s.test.Metric != MetricKS) {
			s.test = r
		}
		if r.Primary && !specs[r.Metric].test {
			s.effect = r
		}
	}
	for i := range rows { // a subject whose rule is a test: the default effect size
		r := &rows[i]
		if !gated(r.Metric) {
			continue
		}
		s := at(r)
		want := MetricJensenShannon
		if s.test != nil && s.test.Metric == MetricKS {
			want = MetricPSI
		}
		if s.effect == nil && r.Metric == want {
			s.effect = r
		}
	}
	type verdicts struct{ significant, material, hasTest, hasEffect bool }
	before := make(map[*subject]verdicts, len(subjects))
	for _, s := range subjects {
		var v verdicts
		if s.test != nil {
			v.hasTest, v.significant = true, s.test.PValue != nil && *s.test.PValue < s.test.Threshold
		}
		if s.effect != nil {
			v.hasEffect, v.material = true, s.effect.Drifted
		}
		before[s] = v
	}
	for i := range rows {
		r := &rows[i]
		if !r.Drifted || !gated(r.Metric) {
			continue
		}
		v := before[at(r)]
		if specs[r.Metric].test {
			r.Drifted = !v.hasEffect || v.material
		} else {
			r.Drifted = !v.hasTest || v.significant
		}
	}
}

// markInsufficient says "insufficient data" (SourceInsufficient) in the
// rows of subjects whose window is too small to see a shift of the
// configured size, instead of a quiet "not drifted": a distance that is
// not drifted and whose MDE is above its threshold, and a test that is not
// drifted when its subject's effect size (the rule's row, as in
// requireSignificance) is insufficient. A drifted row stays drifted: a
// small window can still show a large shift.
func markInsufficient(rows []Row) {
	short := make(map[string]bool) // family, subject -> the rule's row is insufficient
	insufficient := func(r *Row) bool {
		return !r.Drifted && r.MDE != nil && r.ThresholdSource != "" && *r.MDE > r.Threshold
	}
	for i := range rows {
		if r := &rows[i]; r.Primary && gated(r.Metric) && !specs[r.Metric].test && insufficient(r) {
			short[r.Family+"\x00"+r.Subject] = true
		}
	}
	for i := range rows {
		r := &rows[i]
		if !gated(r.Metric) || r.Drifted || r.ThresholdSource == "" {
			continue
		}
		if specs[r.Metric].test && short[r.Family+"\x00"+r.Subject] || !specs[r.Metric].test && insufficient(r) {
			r.ThresholdSource = SourceInsufficient
		}
	}
}

// appendQuality appends a feature's data-quality rows: null_rate (judged
// against the reference's null rate plus its threshold), missing_rate and
// type_error_rate (the reference had neither: judged against the threshold
// alone), out_of_range_rate for numeric features (values outside the
// reference's [min, max]; a continuous feature's next value falls outside
// with probability 2/(n+1) under no change, n reference values) and
// unseen_category_rate for categorical ones (categories the reference never
// had; under no change about the reference's share of categories seen once,
// Good-Turing), each judged against that expectation plus the threshold.
// null_rate, missing_rate and type_error_rate are shares of the window's
// records, the other two of its non-null values. None needs MinSamples:
// one broken record is a fact, not an estimate.
func appendQuality(rows []Row, head Row, name string, bf *baselines.Feature, cf *windows.Feature, p *Policy) []Row {
	n := cf.Nulls + cf.Count
	if n == 0 {
		return rows
	}
	// add appends the row of count out of of values, n and nref behind it.
	add := func(metric string, count, of, nref int64, expected float64) {
		r := head
		r.Family, r.Subject, r.Metric = FamilyQuality, name, metric
		r.Value = float64(count) / float64(of)
		r.NCurrent, r.NReference = of, nref
		if inc, ok := p.Thresholds[metric]; ok {
			r.Threshold = expected + inc
			r.Drifted = r.Value > r.Threshold
			r.ThresholdSource = SourceStatic
		}
		rows = append(rows, r)
	}
	nref := bf.Count + bf.Nulls
	add(MetricNullRate, cf.Nulls, n, nref, bf.NullRate())
	add(MetricMissingRate, cf.Absent, n, nref, 0)
	add(MetricTypeErrorRate, cf.WrongType, n, nref, 0)
	if bf.Count == 0 || cf.Count == 0 {
		return rows
	}
	if bf.Kind == baselines.Numeric {
		add(MetricOutOfRange, cf.OutOfRange, cf.Count, bf.Count, 2/float64(bf.Count+1))
		return rows
	}
	if _, overflowed := bf.Categories[baselines.OtherCategory]; overflowed {
		return rows // the reference's rare categories were not kept by name
	}
	var unseen, once int64
	for c, k := range cf.Categories {
		if _, ok := bf.Categories[c]; !ok {
			unseen += k
		}
	}
	for _, k := range bf.Categories {
		if k == 1 {
			once++
		}
	}
	add(MetricUnseenRate, unseen, cf.Count, bf.Count, float64(once)/float64(bf.Count))
	return rows
}

func (e *Evaluator) psiGroups(k groupKey, counts []int64, bins int) []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if g, ok := e.groups[k]; ok {
		return g
	}
	if len(e.groups) > 100_000 { // baselines change rarely; never grow without bound
		clear(e.groups)
	}
	g := stats.CoarsenBins(toFloat(counts), bins)
	e.groups[k] = g
	return g
}
