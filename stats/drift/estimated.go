package drift

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/stats/perf"
	"github.com/driftwatch/driftwatch/windows"
)

// Performance estimated without labels (family concept, subject
// estimated_performance), for windows whose labels come late or never.
//
// Binary classifiers: confidence-based performance estimation (CBPE,
// NannyML; stats/perf Calibrate and Estimate). The reference's labelled
// scores (baselines.Baseline.Outcomes, by label in OutcomeBins bins)
// calibrate the scores by isotonic regression; the window's scores in the
// same bins (windows.Window.Scores), decided at the policy's threshold,
// give its expected confusion matrix and from it accuracy, precision,
// recall, F1 and ROC AUC. A model is a binary classifier here when its
// baseline's prediction is a number in [0, 1] and its reference's scored
// labels have two texts, one of them positive (Decision.Positive).
// Multiclass classifiers (a class as prediction, class scores in "scores")
// get no estimate: windows do not keep the scores map.
//
// Regression (and any numeric prediction with numeric labels): the error
// expected of each prediction is the reference's error at predictions of
// its size (baselines.Baseline.PredictionErrors, per prediction bin),
// weighted by the window's predictions (stats/perf EstimateErrors): mae
// and rmse.
//
// Both assume that the relation between prediction and truth is the
// reference's (no concept drift): they see the performance that a shift
// of the inputs, through the predictions, costs or gains, and cannot see
// the truth itself change at a given prediction (realized rows, and
// concept/performance once labels come, do). Each estimate is calibrated
// on the whole stored reference (a phase of it is too small to calibrate
// on) and judged, like the realized rows, against the performance of the
// window's reference (its phase, with seasonality) as the same calibration
// reads it: on the whole reference its realized performance.
//
// Each estimate row is followed by its band, <metric>_lower and
// <metric>_upper (the estimate +- 1.96 standard errors: where the window's
// realized value falls with probability about 0.95 if the reference's
// calibration holds; not judged), and, when the window has labelled
// records, by <metric>_realized, the value its labels give (not judged:
// the concept/performance rows judge it), written again as late labels
// arrive. The band's standard error adds the realized metric's sampling
// error at the window's size (taken at the estimate: NannyML's notion of
// sampling error) and the calibration's (the reference is finite). The
// verdict's is that of the estimate less the reference's: the spread of
// each over its scores' distribution, and the calibration's error where
// the window weighs it differently from the reference (both come from the
// same records); see stats/perf Calibration.Compare and CompareErrors.

// SubjectEstimated is the subject of the rows of performance estimated
// without labels (family concept).
const SubjectEstimated = "estimated_performance"

// MetricROCAUC is the area under the ROC curve (subject
// estimated_performance).
const MetricROCAUC = "roc_auc"

// The rows written beside each estimated metric: its band (lower and
// upper bound) and the value the window's labels give (realized).
const (
	MetricAccuracyLower     = "accuracy_lower"
	MetricAccuracyUpper     = "accuracy_upper"
	MetricAccuracyRealized  = "accuracy_realized"
	MetricPrecisionLower    = "precision_lower"
	MetricPrecisionUpper    = "precision_upper"
	MetricPrecisionRealized = "precision_realized"
	MetricRecallLower       = "recall_lower"
	MetricRecallUpper       = "recall_upper"
	MetricRecallRealized    = "recall_realized"
	MetricF1Lower           = "f1_lower"
	MetricF1Upper           = "f1_upper"
	MetricF1Realized        = "f1_realized"
	MetricROCAUCLower       = "roc_auc_lower"
	MetricROCAUCUpper       = "roc_auc_upper"
	MetricROCAUCRealized    = "roc_auc_realized"
	MetricMAELower          = "mae_lower"
	MetricMAEUpper          = "mae_upper"
	MetricMAERealized       = "mae_realized"
	MetricRMSELower         = "rmse_lower"
	MetricRMSEUpper         = "rmse_upper"
	MetricRMSERealized      = "rmse_realized"
)

// Suffixes of the names of the rows written beside an estimated metric.
const (
	SuffixLower    = "_lower"
	SuffixUpper    = "_upper"
	SuffixRealized = "_realized"
)

// EstimatedMetrics are the metrics of subject estimated_performance, each
// with the names of its band's and its realized value's rows (lower,
// upper, realized: the metric's name and SuffixLower, SuffixUpper,
// SuffixRealized).
var EstimatedMetrics = map[string][3]string{
	MetricAccuracy:  {MetricAccuracyLower, MetricAccuracyUpper, MetricAccuracyRealized},
	MetricPrecision: {MetricPrecisionLower, MetricPrecisionUpper, MetricPrecisionRealized},
	MetricRecall:    {MetricRecallLower, MetricRecallUpper, MetricRecallRealized},
	MetricF1:        {MetricF1Lower, MetricF1Upper, MetricF1Realized},
	MetricROCAUC:    {MetricROCAUCLower, MetricROCAUCUpper, MetricROCAUCRealized},
	MetricMAE:       {MetricMAELower, MetricMAEUpper, MetricMAERealized},
	MetricRMSE:      {MetricRMSELower, MetricRMSEUpper, MetricRMSERealized},
}

// bandZ is the band's half-width in standard errors: two-sided 95%.
const bandZ = 1.959963984540054

// binaryReference returns the reference's labelled scores per bin by class
// under d (positive labels, negative ones), when b's model is a binary
// classifier (see above).
func binaryReference(b *baselines.Baseline, d *windows.Decision) (pos, neg []float64, ok bool) {
	f := &b.Prediction
	if b.Outcomes == nil || len(b.Outcomes.ByLabel) > 2 || f.Kind != baselines.Numeric || f.Count == 0 || f.Min < 0 || f.Max > 1 {
		return nil, nil, false
	}
	pos, neg = make([]float64, baselines.OutcomeBins), make([]float64, baselines.OutcomeBins)
	var np, nn float64
	for label, bins := range b.Outcomes.ByLabel {
		to, sum := neg, &nn
		if slices.Contains(d.Positive, label) {
			to, sum = pos, &np
		}
		for i, n := range bins {
			to[i] += float64(n)
			*sum += float64(n)
		}
	}
	return pos, neg, np > 0 && nn > 0
}

// estimatedRow is the row of an estimated metric (family concept, subject
// estimated_performance) with value v over n scored records.
func estimatedRow(head Row, metric string, v float64, n int64) Row {
	r := head
	r.Family, r.Subject, r.Metric, r.Value, r.NCurrent = FamilyConcept, SubjectEstimated, metric, finite(v), n
	return r
}

// appendBand appends the rows of estimate e of metric over n records: the
// estimate itself (judged by judgeRow when it is not nil) and its band,
// clipped to [lo, hi].
func appendBand(rows []Row, head Row, metric string, e perf.Estimated, n int64, lo, hi float64, judgeRow func(*Row)) []Row {
	r := estimatedRow(head, metric, e.Value, n)
	if judgeRow != nil {
		judgeRow(&r)
	}
	return append(rows, r,
		estimatedRow(head, EstimatedMetrics[metric][0], min(max(e.Value-bandZ*e.SE, lo), hi), n),
		estimatedRow(head, EstimatedMetrics[metric][1], min(max(e.Value+bandZ*e.SE, lo), hi), n))
}

// appendEstimated appends the window's estimated performance rows (see
// above): w is the window with its (maybe phased) reference, stored the
// stored baseline whose whole reference calibrates.
func appendEstimated(rows []Row, head Row, w *windows.Window, stored *baselines.Baseline, p *Policy) []Row {
	var cal *perf.Calibration
	if pos, neg, ok := binaryReference(stored, &p.Decision); ok && w.Scores != nil {
		if cal, ok = perf.Calibrate(pos, neg); ok {
			rows = appendCBPE(rows, head, w, cal, p)
		}
	}
	rows = appendEstimatedErrors(rows, head, w, stored, p)
	rows = appendEstimatedRealized(rows, head, w, stored, p)
	return appendVariantEstimated(rows, head, w, cal, stored, p)
}

// PrefixEstimated prefixes the metrics of a variant's performance
// estimated without labels (family concept, subject variant=<name>).
const PrefixEstimated = "estimated_"

// The metrics of a variant's estimated performance: each estimated
// metric's name and its band's with PrefixEstimated.
const (
	MetricEstimatedAccuracy       = "estimated_accuracy"
	MetricEstimatedAccuracyLower  = "estimated_accuracy_lower"
	MetricEstimatedAccuracyUpper  = "estimated_accuracy_upper"
	MetricEstimatedPrecision      = "estimated_precision"
	MetricEstimatedPrecisionLower = "estimated_precision_lower"
	MetricEstimatedPrecisionUpper = "estimated_precision_upper"
	MetricEstimatedRecall         = "estimated_recall"
	MetricEstimatedRecallLower    = "estimated_recall_lower"
	MetricEstimatedRecallUpper    = "estimated_recall_upper"
	MetricEstimatedF1             = "estimated_f1"
	MetricEstimatedF1Lower        = "estimated_f1_lower"
	MetricEstimatedF1Upper        = "estimated_f1_upper"
	MetricEstimatedROCAUC         = "estimated_roc_auc"
	MetricEstimatedROCAUCLower    = "estimated_roc_auc_lower"
	MetricEstimatedROCAUCUpper    = "estimated_roc_auc_upper"
	MetricEstimatedMAE            = "estimated_mae"
	MetricEstimatedMAELower       = "estimated_mae_lower"
	MetricEstimatedMAEUpper       = "estimated_mae_upper"
	MetricEstimatedRMSE           = "estimated_rmse"
	MetricEstimatedRMSELower      = "estimated_rmse_lower"
	MetricEstimatedRMSEUpper      = "estimated_rmse_upper"
)

// VariantEstimatedMetrics names, for each estimated metric (of
// EstimatedMetrics), the rows of a variant's estimate of it: the estimate,
// its lower and its upper bound.
var VariantEstimatedMetrics = map[string][3]string{
	MetricAccuracy:  {MetricEstimatedAccuracy, MetricEstimatedAccuracyLower, MetricEstimatedAccuracyUpper},
	MetricPrecision: {MetricEstimatedPrecision, MetricEstimatedPrecisionLower, MetricEstimatedPrecisionUpper},
	MetricRecall:    {MetricEstimatedRecall, MetricEstimatedRecallLower, MetricEstimatedRecallUpper},
	MetricF1:        {MetricEstimatedF1, MetricEstimatedF1Lower, MetricEstimatedF1Upper},
	MetricROCAUC:    {MetricEstimatedROCAUC, MetricEstimatedROCAUCLower, MetricEstimatedROCAUCUpper},
	MetricMAE:       {MetricEstimatedMAE, MetricEstimatedMAELower, MetricEstimatedMAEUpper},
	MetricRMSE:      {MetricEstimatedRMSE, MetricEstimatedRMSELower, MetricEstimatedRMSEUpper},
}

// appendVariantEstimated appends each variant's estimated performance, the
// champion's too: the window's estimates (appendCBPE, appendEstimatedErrors)
// over the variant's own scores (windows.Variant.Scores) or predictions,
// with their bands, under subject variant=<name> and the metrics of
// VariantEstimatedMetrics; reported, not judged (a variant's realized
// performance is not judged either: its differences from the champion
// are). cal is the stored reference's calibration (nil: none). The
// reference is the model's, its champion's: an estimate for another
// variant assumes that its scores mean what the champion's meant there
// (the same probability of a positive at the same score; so for a retrain
// of a calibrated model), and its realized rows are the check.
func appendVariantEstimated(rows []Row, head Row, w *windows.Window, cal *perf.Calibration, stored *baselines.Baseline, p *Policy) []Row {
	ref, hasErrors := referenceErrors(stored)
	first := baselines.FirstSelectedBin(p.Decision.Threshold)
	for _, name := range variantNames(w, p, true) {
		v := w.Variants[name]
		h := head
		h.Family, h.Subject = FamilyConcept, variantSubject(name)
		add := func(metric string, e perf.Estimated, n float64, hi float64) {
			if !e.OK || !(n > 0) {
				return
			}
			names := VariantEstimatedMetrics[metric]
			for i, x := range [3]float64{e.Value, min(max(e.Value-bandZ*e.SE, 0), hi), min(max(e.Value+bandZ*e.SE, 0), hi)} {
				row := h
				row.Metric, row.Value, row.NCurrent = names[i], finite(x), int64(n)
				rows = append(rows, row)
			}
		}
		if cal != nil && v.Scores != nil {
			e := cal.Estimate(floats(v.Scores), first)
			add(MetricAccuracy, e.Accuracy, e.N, 1)
			add(MetricPrecision, e.Precision, e.N, 1)
			add(MetricRecall, e.Recall, e.N, 1)
			add(MetricF1, e.F1, e.N, 1)
			add(MetricROCAUC, e.ROCAUC, e.N, 1)
		}
		if hasErrors && len(v.Prediction.Counts) == len(ref.N) {
			if e, ok := perf.EstimateErrors(ref, floats(v.Prediction.Counts)); ok {
				add(MetricMAE, e.MAE, e.N, math.Inf(1))
				add(MetricRMSE, e.RMSE, e.N, math.Inf(1))
			}
		}
	}
	return rows
}

// floats returns counts c as float64s.
func floats(c []int64) []float64 {
	out := make([]float64, len(c))
	for i, n := range c {
		out[i] = float64(n)
	}
	return out
}

// referenceErrors returns the stored reference's errors per prediction bin
// (baselines.Baseline.PredictionErrors) as stats/perf reads them.
func referenceErrors(stored *baselines.Baseline) (perf.ErrorBins, bool) {
	be := stored.PredictionErrors
	if be == nil {
		return perf.ErrorBins{}, false
	}
	return perf.ErrorBins{N: floats(be.N), SumAbs: be.SumAbs, SumSq: be.SumSq, SumQuad: be.SumQuad}, true
}

// appendCBPE appends the binary classifier's estimated accuracy,
// precision, recall, F1 and ROC AUC with their bands, each judged against
// the reference's performance as the same calibration reads it (the
// estimate for the scores of the window's reference, its phase with
// seasonality): drifted when significantly (one-sided z-test at 0.05,
// p_value) more than p.MaxPerformanceDrop below it. threshold is that
// value less the drop, mde the drop detected with power p.MDE.Power, and
// past twice the drop the row says insufficient_samples (as the realized
// rows). The test's standard error is that of the difference of the two
// estimates (perf Calibration.Compare): they read the same calibration,
// so its error cancels where the window's scores are like the reference's.
// On the whole reference that value is the reference's realized one
// (bar a pool of the calibration spanning the threshold, and for ROC AUC
// the pools' smoothing of the curve); on a phase it is free of the label
// noise of the phase's few records, which the calibration, fitted on the
// whole, does not share.
func appendCBPE(rows []Row, head Row, w *windows.Window, cal *perf.Calibration, p *Policy) []Row {
	counts := floats(w.Scores)
	first := baselines.FirstSelectedBin(p.Decision.Threshold)
	var refCounts []float64
	if pos, neg, ok := binaryReference(w.Baseline, &p.Decision); ok {
		refCounts = make([]float64, len(pos))
		for i := range pos {
			refCounts[i] = pos[i] + neg[i]
		}
	}
	var e, ref perf.CBPE
	if refCounts != nil {
		e, ref = cal.Compare(counts, refCounts, first), cal.Estimate(refCounts, first)
	} else {
		e = cal.Estimate(counts, first)
	}
	if !(e.N > 0) {
		return rows
	}
	n := int64(e.N)
	for k, m := range []struct {
		metric   string
		est, ref perf.Estimated
	}{
		{MetricAccuracy, e.Accuracy, ref.Accuracy}, {MetricPrecision, e.Precision, ref.Precision}, {MetricRecall, e.Recall, ref.Recall},
		{MetricF1, e.F1, ref.F1}, {MetricROCAUC, e.ROCAUC, ref.ROCAUC},
	} {
		if !m.est.OK {
			continue
		}
		var judgeRow func(*Row)
		if m.ref.OK && e.DifferenceSE[k] > 0 {
			judgeRow = func(r *Row) { judgeDrop(r, m.est.Value, e.DifferenceSE[k], m.ref.Value, int64(ref.N), p) }
		}
		rows = appendBand(rows, head, m.metric, m.est, n, 0, 1, judgeRow)
	}
	return rows
}

// judgeDrop judges estimated row r (estimate est, the difference from the
// reference's of standard error se) against the reference's value ref
// (over refN records): drifted when significantly more than
// p.MaxPerformanceDrop below it.
func judgeDrop(r *Row, est, se, ref float64, refN int64, p *Policy) {
	margin := p.MaxPerformanceDrop
	r.NReference, r.Threshold, r.ThresholdSource = refN, ref-margin, SourceStatic
	pv := 0.5 * math.Erfc(-(est-ref+margin)/se/math.Sqrt2)
	r.PValue = &pv
	r.Drifted = pv < 0.05
	if mde := margin + (zOneSided95+distuv.UnitNormal.Quantile(p.MDE.Power))*se; !math.IsNaN(mde) {
		r.MDE = &mde
		if !r.Drifted && mde > 2*margin {
			r.ThresholdSource = SourceInsufficient
		}
	}
}

// appendEstimatedErrors appends the window's estimated mae and rmse (with
// their bands) from the stored reference's errors per prediction bin. mae
// is judged as the realized one (appendErrors): drifted when significantly
// (one-sided z-test at 0.05) above 1 + p.MaxErrorIncrease times the
// reference's MAE as the same per-bin errors read it (the estimate for the
// predictions of the window's reference, its phase with seasonality: on
// the whole reference, its realized MAE), on the standard error of the
// difference (perf CompareErrors); its mde is the rise over that MAE
// detected with power p.MDE.Power, past twice the allowed rise
// insufficient_samples.
func appendEstimatedErrors(rows []Row, head Row, w *windows.Window, stored *baselines.Baseline, p *Policy) []Row {
	ref, ok := referenceErrors(stored)
	if !ok || len(w.Prediction.Counts) != len(ref.N) {
		return rows
	}
	counts := floats(w.Prediction.Counts)
	factor := 1 + p.MaxErrorIncrease
	e, ok := perf.EstimateErrors(ref, counts)
	if !ok {
		return rows
	}
	var judgeMAE func(*Row)
	if refCounts := w.Baseline.Prediction.Counts; len(refCounts) == len(counts) && p.MaxErrorIncrease > 0 {
		if _, re, se, ok := perf.CompareErrors(ref, counts, floats(refCounts), factor); ok && se > 0 {
			judgeMAE = func(r *Row) {
				limit := re.MAE.Value * factor
				r.NReference, r.Threshold, r.ThresholdSource = int64(re.N), limit, SourceStatic
				pv := 0.5 * math.Erfc((e.MAE.Value-limit)/se/math.Sqrt2)
				r.PValue = &pv
				r.Drifted = pv < 0.05
				allowed := limit - re.MAE.Value
				if mde := allowed + (zOneSided95+distuv.UnitNormal.Quantile(p.MDE.Power))*se; !math.IsNaN(mde) {
					r.MDE = &mde
					if !r.Drifted && mde > 2*allowed {
						r.ThresholdSource = SourceInsufficient
					}
				}
			}
		}
	}
	n := int64(e.N)
	rows = appendBand(rows, head, MetricMAE, e.MAE, n, 0, math.Inf(1), judgeMAE)
	return appendBand(rows, head, MetricRMSE, e.RMSE, n, 0, math.Inf(1), nil)
}

// appendEstimatedRealized appends, for each metric the window's model has
// an estimate of, the value the window's labelled records realized
// (<metric>_realized, not judged; n_current its denominator, as the
// concept/performance rows'). ROC AUC's is that of the labelled scores in
// their bins (within perf.ScoreHistogram.ROCAUCErrorBound of the raw
// scores'), written when every labelled record's score is in them (a
// window whose label state predates them has none). Late labels re-emit
// them (EvaluateLabels).
func appendEstimatedRealized(rows []Row, head Row, w *windows.Window, stored *baselines.Baseline, p *Policy) []Row {
	realized := func(metric string, v float64, ok bool, n float64) {
		if ok && n > 0 {
			rows = append(rows, estimatedRow(head, EstimatedMetrics[metric][2], v, int64(n)))
		}
	}
	if _, _, ok := binaryReference(stored, &p.Decision); ok && w.Outcomes.N() > 0 {
		c := w.Outcomes
		eachConfusionMetric(c, func(metric string, v, n float64) { realized(metric, v, true, n) })
		h := perf.NewScoreHistogram(baselines.OutcomeBins)
		var scored float64
		for k, bins := range w.LabelledScores {
			to := h.Neg
			if k == 1 {
				to = h.Pos
			}
			for i, n := range bins {
				to[i] += float64(n)
				scored += float64(n)
			}
		}
		if scored == c.N() {
			v, ok := h.ROCAUC()
			realized(MetricROCAUC, v, ok, scored)
		}
	}
	if stored.PredictionErrors != nil && w.ErrN > 0 {
		n := float64(w.ErrN)
		realized(MetricMAE, w.ErrAbs.Value()/n, true, n)
		realized(MetricRMSE, math.Sqrt(w.ErrSq.Value()/n), true, n)
	}
	return rows
}
