package drift

import (
	"math"
	"slices"

	"github.com/driftwatch/driftwatch/stats"
	"github.com/driftwatch/driftwatch/stats/perf"
	"github.com/driftwatch/driftwatch/windows"
)

// Champion and challengers (CONTRACT.md section 1, "Champion, challengers
// and shadows"). Besides its predictions' distribution against the
// champion's (appendVariants), each variant of a window gets, under
// subject variant=<name>:
//
//   - family prediction: agreement_rate and mean_abs_diff against the
//     champion's records of the same prediction ids (a shadow's; windows
//     pairs them), reported, not judged;
//   - family concept: its realized accuracy, precision, recall and f1 (or
//     mae and rmse) over its labelled records, reported, the champion's
//     too; and, for every variant but the champion, the difference from the
//     champion's with a significance test (accuracy_diff, mae_diff, or
//     their _paired forms for a shadow), judged;
//   - family serving: latency_p50_ms, latency_p95_ms and latency_p99_ms of
//     its records, reported, the champion's too.
//
// The test of a difference depends on how the variants were deployed. A
// canary or an A/B split serves each record by one variant: the two
// samples are independent, and the difference of accuracies takes the
// pooled two-proportion z-test (statsmodels' proportions_ztest), that of
// mean absolute errors Welch's t-test on |error| from the exact sums (SciPy's
// ttest_ind(equal_var=False) on the same values). A shadow scores the
// champion's own records: the samples are paired, and an unpaired test
// would misjudge their dependence (for correlated decisions it is far too
// conservative). When the window pairs the variant's records with the
// champion's (windows.Agreement.Pairs > 0), the difference is over the
// labelled pairs instead, with McNemar's exact test on the discordant pairs
// (statsmodels' mcnemar, exact) and the paired t-test of the absolute
// errors' differences (SciPy's ttest_rel), and the unpaired rows are not
// written.
//
// A difference is drifted when it is material and significant, as a
// distance is with RequireSignificance: the variant is worse by more than
// the policy allows the model against its reference (an accuracy more than
// Policy.MaxPerformanceDrop below the champion's; an MAE more than
// Policy.MaxErrorIncrease times the champion's above it) and the
// two-sided test is significant at variantAlpha. A challenger that does
// better is reported, not flagged; so is one a little worse in a window
// so large that any difference is significant.

// Metrics of variants (subject variant=<name>).
const (
	MetricAgreementRate      = "agreement_rate"       // family prediction: share of pairs whose decisions (classes) agree
	MetricMeanAbsDiff        = "mean_abs_diff"        // family prediction: mean |variant - champion| of numeric pairs
	MetricAccuracyDiff       = "accuracy_diff"        // family concept: variant - champion accuracy; two-proportion z-test
	MetricAccuracyDiffPaired = "accuracy_diff_paired" // family concept: the same over labelled pairs; McNemar's exact test
	MetricMAEDiff            = "mae_diff"             // family concept: variant - champion MAE; Welch's t-test on |error|
	MetricMAEDiffPaired      = "mae_diff_paired"      // family concept: the same over labelled pairs; paired t-test
)

// variantAlpha is the level of the tests of a variant's difference from
// the champion.
const variantAlpha = 0.05

// variantSubject is the subject of a variant's rows.
func variantSubject(name string) string { return "variant=" + name }

// variantNames returns w's variants, sorted, the champion among them only
// with champion set.
func variantNames(w *windows.Window, p *Policy, champion bool) []string {
	names := make([]string, 0, len(w.Variants))
	for v := range w.Variants {
		if champion || v != p.Champion {
			names = append(names, v)
		}
	}
	slices.Sort(names)
	return names
}

// appendAgreement appends, for each variant paired with the champion in
// the window, its agreement rate (n_current: the pairs) and, for numeric
// predictions, the mean absolute difference of its predictions from the
// champion's (n_current: those pairs), family prediction; not judged.
func appendAgreement(rows []Row, head Row, w *windows.Window, p *Policy) []Row {
	for _, name := range variantNames(w, p, false) {
		a := &w.Variants[name].Agreement
		if a.Pairs == 0 {
			continue
		}
		r := head
		r.Family, r.Subject, r.Metric = FamilyPrediction, variantSubject(name), MetricAgreementRate
		r.Value, r.NCurrent = float64(a.Agree)/float64(a.Pairs), a.Pairs
		rows = append(rows, r)
		if a.NumPairs > 0 {
			r.Metric, r.Value, r.NCurrent = MetricMeanAbsDiff, a.AbsDiff.Value()/float64(a.NumPairs), a.NumPairs
			rows = append(rows, r)
		}
	}
	return rows
}

// appendVariantPerformance appends each variant's realized performance over
// its labelled records (family concept, subject variant=<name>: accuracy,
// precision, recall and f1 of its decisions, mae and rmse of numeric
// predictions and labels, with n_current as the window's performance rows;
// not judged), and, for every variant but the champion, its difference
// from the champion's with its test (see the file's doc).
func appendVariantPerformance(rows []Row, head Row, w *windows.Window, p *Policy) []Row {
	champ := w.Variants[p.Champion]
	for _, name := range variantNames(w, p, true) {
		v := w.Variants[name]
		h := head
		h.Family, h.Subject = FamilyConcept, variantSubject(name)
		rows = appendPerformance(rows, h, v)
		if name == p.Champion || champ == nil {
			continue
		}
		m := margins{accuracy: p.MaxPerformanceDrop}
		if champ.ErrN > 0 {
			m.mae = p.MaxErrorIncrease * champ.ErrAbs.Value() / float64(champ.ErrN)
		}
		if v.Agreement.Pairs > 0 {
			rows = appendPairedDiffs(rows, h, &v.Paired, m)
		} else {
			rows = appendDiffs(rows, h, v, champ, m)
		}
	}
	return rows
}

// appendPerformance appends v's accuracy, precision, recall, f1, mae and
// rmse rows, each where defined; h holds the family and subject.
func appendPerformance(rows []Row, h Row, v *windows.Variant) []Row {
	c := v.Outcomes
	add := func(metric string, value, n float64) {
		r := h
		r.Metric, r.Value, r.NCurrent = metric, value, int64(n)
		rows = append(rows, r)
	}
	eachConfusionMetric(c, add)
	if v.ErrN > 0 {
		n := float64(v.ErrN)
		add(MetricMAE, v.ErrAbs.Value()/n, n)
		add(MetricRMSE, math.Sqrt(v.ErrSq.Value()/n), n)
	}
	return rows
}

// eachConfusionMetric calls f with c's accuracy, precision, recall and
// f1, each where defined, with its denominator (a row's n_current).
func eachConfusionMetric(c perf.Confusion, f func(metric string, value, n float64)) {
	if x, ok := c.Accuracy(); ok {
		f(MetricAccuracy, x, c.N())
	}
	if x, ok := c.Precision(); ok {
		f(MetricPrecision, x, c.TP+c.FP)
	}
	if x, ok := c.Recall(); ok {
		f(MetricRecall, x, c.TP+c.FN)
	}
	if x, ok := c.F1(); ok {
		f(MetricF1, x, c.N())
	}
}

// margins are how much worse than the champion a variant may be before
// a significant difference is drifted: an accuracy this much lower, an
// MAE this much higher (in the prediction's unit).
type margins struct{ accuracy, mae float64 }

// judgeDiff sets r's p-value and verdict: drifted when pv < variantAlpha
// and the variant is worse by more than the margin (worse reports it). A
// p-value that is NaN (the test undefined: no variance on either side)
// leaves the row reported, not judged.
func judgeDiff(r *Row, pv float64, worse bool) {
	if math.IsNaN(pv) {
		return
	}
	r.PValue, r.Threshold, r.ThresholdSource = &pv, variantAlpha, SourceStatic
	r.Drifted = pv < variantAlpha && worse
}

// appendDiffs appends the unpaired differences of v from champ: accuracy
// (two-proportion z-test; n_current v's labelled records, n_reference
// the champion's) and MAE (Welch's t-test on the absolute errors, from
// their exact sums; at least two errors on each side).
func appendDiffs(rows []Row, h Row, v, champ *windows.Variant, m margins) []Row {
	cv, cc := v.Outcomes, champ.Outcomes
	if cv.N() > 0 && cc.N() > 0 {
		xv, xc := cv.TP+cv.TN, cc.TP+cc.TN
		r := h
		r.Metric, r.Value, r.NCurrent, r.NReference = MetricAccuracyDiff, xv/cv.N()-xc/cc.N(), int64(cv.N()), int64(cc.N())
		_, pv := stats.ProportionZTest(xv, cv.N(), xc, cc.N())
		judgeDiff(&r, pv, r.Value < -m.accuracy)
		rows = append(rows, r)
	}
	if v.ErrN >= 2 && champ.ErrN >= 2 {
		mv, mc := absErrorMoments(v), absErrorMoments(champ)
		r := h
		r.Metric, r.Value, r.NCurrent, r.NReference = MetricMAEDiff, mv.Mean-mc.Mean, v.ErrN, champ.ErrN
		_, _, pv := stats.WelchTTestMoments(mv, mc)
		judgeDiff(&r, pv, r.Value > m.mae)
		rows = append(rows, r)
	}
	return rows
}

// absErrorMoments are the moments of v's absolute errors from their exact
// sums: mean = sum|e|/n, M2 = sum e^2 - n mean^2 (rounded once each; the
// variance of |e| is tiny against its mean only for a near constant error).
func absErrorMoments(v *windows.Variant) stats.Moments {
	return momentsOfSums(v.ErrN, &v.ErrAbs, &v.ErrSq)
}

// momentsOfSums are the moments of n values from their exact sum and sum
// of squares: mean = sum/n, M2 = sumSq - n mean^2 (rounded once each).
func momentsOfSums(n int64, sum, sumSq *stats.Sum) stats.Moments {
	s, k := sum.Value(), float64(n)
	return stats.Moments{N: k, Mean: s / k, M2: max(0, sumSq.Value()-s*(s/k))}
}

// appendPairedDiffs appends the differences of a variant from the
// champion over their labelled pairs: accuracy, (variant only - champion
// only) / pairs, with McNemar's exact test (n_current and n_reference the
// labelled pairs), and the mean of |variant's error| - |champion's error|
// with the paired t-test (n_current and n_reference those pairs; at least
// two).
func appendPairedDiffs(rows []Row, h Row, p *windows.PairOutcomes, m margins) []Row {
	if n := p.N(); n > 0 {
		r := h
		r.Metric, r.Value, r.NCurrent, r.NReference = MetricAccuracyDiffPaired, float64(p.VariantOnly-p.ChampionOnly)/float64(n), n, n
		judgeDiff(&r, stats.McNemarExact(float64(p.VariantOnly), float64(p.ChampionOnly)), r.Value < -m.accuracy)
		rows = append(rows, r)
	}
	if p.ErrN >= 2 {
		d := momentsOfSums(p.ErrN, &p.ErrDiff, &p.ErrDiffSq)
		r := h
		r.Metric, r.Value, r.NCurrent, r.NReference = MetricMAEDiffPaired, d.Mean, p.ErrN, p.ErrN
		_, _, pv := stats.PairedTTestMoments(d)
		judgeDiff(&r, pv, r.Value > m.mae)
		rows = append(rows, r)
	}
	return rows
}

// appendVariantServing appends each variant's latency quantiles (family
// serving, subject variant=<name>, the metrics of subject latency_ms; the
// champion's too) when its records had latencies; reported, not judged
// against drift.slo (a shadow is not served, a canary's latency is read
// against the champion's).
func appendVariantServing(rows []Row, head Row, w *windows.Window, p *Policy) []Row {
	for _, name := range variantNames(w, p, true) {
		rows = appendLatency(rows, head, variantSubject(name), w.Variants[name].Latency, [3]float64{})
	}
	return rows
}
