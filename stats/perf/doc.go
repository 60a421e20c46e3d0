// Package perf computes model performance metrics from mergeable state:
// binary and multiclass confusion counts, per-class score histograms with
// exact loss sums, and regression error sums. Each state type has an Add
// method (one observation, optional weight, no allocation) and a Merge
// method; merging the states of any partition of a window, in any order,
// gives the state of the whole window (up to floating-point rounding of the
// sums), so partial windows from many instances combine exactly.
//
// It deliberately does not: read raw rows back (there is none to read),
// choose thresholds, decide whether a value means "degraded", log, or do
// I/O. Callers threshold scores before Confusion.Add; ScoreHistogram keeps
// the scores themselves only as bin counts plus exact sums.
//
// # Zero denominators
//
// Every metric method returns (value, ok). When a metric is undefined
// because its denominator is zero (no observations, no positives, no
// predicted positives, ...) it returns (NaN, false), and likewise when a
// weight sum overflowed float64; ok is true otherwise.
// This is the same event for which scikit-learn's zero_division="warn"
// default warns and returns 0. Callers that want sklearn's number can map
// !ok to 0. The single exception is averaging over classes in
// ConfusionMatrix (macro/weighted precision, recall, F1), where an undefined
// per-class value enters the average as 0, exactly as scikit-learn does, so
// that averages match sklearn; ok is then false only if the average itself
// is empty.
//
// # Weights
//
// Weights are non-negative frequency weights (a weight of 2 is two
// identical observations). Add ignores observations whose weight is
// negative, zero, NaN or infinite, and ScoreHistogram.Add ignores NaN
// scores; the dropped observations are counted, one per observation
// whatever its weight (Dropped fields).
//
// # Histogram metrics and their accuracy
//
// ScoreHistogram bins scores on fixed edges (DefaultBins equal bins on
// [0, 1] unless edges are given). ROCAUC and PRAUC are the exact ROC AUC and
// average precision of the binned scores: scores in one bin are treated as
// ties. Only pairs (positive, negative) inside one bin can be ordered
// differently by the raw scores, so
//
//	|ROCAUC_binned - ROCAUC_exact| <= 0.5 * sum_b pos_b*neg_b / (P*N)
//
// which ROCAUCErrorBound returns; the difference is 0 when all scores inside
// each bin are equal (for example when scores lie on bin edges or centers).
// Average precision is also exact in that case; otherwise no closed-form
// bound is claimed, and the golden tests report the observed difference.
// BrierScore and LogLoss use exact running sums, not bins. ECE uses per-bin
// score sums and is exact when its n bins are unions of histogram bins (n
// divides the number of default bins).
//
// # References
//
//	Metric              Function                     Reference
//	ROC AUC             ScoreHistogram.ROCAUC        Fawcett 2006, Pattern Recognit. Lett. 27(8); sklearn.metrics.roc_auc_score
//	Average precision   ScoreHistogram.PRAUC         Davis & Goadrich 2006, ICML; sklearn.metrics.average_precision_score
//	ECE                 ScoreHistogram.ECE           Naeini, Cooper & Hauskrecht 2015, AAAI; Guo et al. 2017, ICML
//	Brier score         ScoreHistogram.BrierScore    Brier 1950, Mon. Weather Rev. 78(1); sklearn.metrics.brier_score_loss
//	Log loss            ScoreHistogram.LogLoss       sklearn.metrics.log_loss
//	Wilson interval     Wilson                       Wilson 1927, J. Am. Stat. Assoc. 22(158)
//	Classification      Confusion, ConfusionMatrix   sklearn.metrics precision_recall_fscore_support, accuracy_score
//	Regression          RegressionSums               sklearn.metrics mean_absolute_error, root_mean_squared_error, mean_absolute_percentage_error, r2_score
//
// All values are plain structs owned by the caller; methods on a value are
// safe for concurrent reads, Add and Merge need external synchronization.
// Results are checked against scikit-learn by golden tests
// (testdata/golden/gen_perf.py writes testdata/golden/perf.json).
package perf
