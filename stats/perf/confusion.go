package perf

import "math"

// validWeight reports whether w is a usable frequency weight (finite, > 0).
func validWeight(w float64) bool { return w > 0 && !math.IsInf(w, 1) }

// finite reports whether every x is neither NaN nor ±Inf.
func finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// ratio returns num/den, or (NaN, false) if den is 0 or either sum is not
// finite (weight sums that overflowed float64).
func ratio(num, den float64) (float64, bool) {
	if den == 0 || math.IsInf(num, 0) || math.IsInf(den, 0) || math.IsNaN(num) || math.IsNaN(den) {
		return math.NaN(), false
	}
	return num / den, true
}

// Confusion is the mergeable state of a binary classifier: the summed
// weights (counts when every weight is 1) of true positives, false
// positives, true negatives and false negatives. Dropped is the number of
// observations rejected by Add (their weights are unusable, so they are
// counted, not summed). The zero value is an empty state.
type Confusion struct {
	TP, FP, TN, FN float64
	Dropped        float64
}

// Add records one observation with predicted class pred and true class
// label (true = positive) and frequency weight w. Weights that are not
// finite and positive are not recorded; their count is added to Dropped.
// Add does not allocate.
func (c *Confusion) Add(pred, label bool, w float64) {
	if !validWeight(w) {
		c.Dropped++
		return
	}
	switch {
	case pred && label:
		c.TP += w
	case pred && !label:
		c.FP += w
	case !pred && !label:
		c.TN += w
	default:
		c.FN += w
	}
}

// Merge adds the state o into c. Merge is commutative and associative up to
// floating-point rounding of the sums (exact for integer counts < 2^53).
func (c *Confusion) Merge(o Confusion) {
	c.TP += o.TP
	c.FP += o.FP
	c.TN += o.TN
	c.FN += o.FN
	c.Dropped += o.Dropped
}

// N returns the total weight TP+FP+TN+FN.
func (c Confusion) N() float64 { return c.TP + c.FP + c.TN + c.FN }

// Positives returns the weight of true positives plus false negatives
// (observations whose label is positive).
func (c Confusion) Positives() float64 { return c.TP + c.FN }

// Negatives returns FP+TN (observations whose label is negative).
func (c Confusion) Negatives() float64 { return c.FP + c.TN }

// Accuracy returns (TP+TN)/N, dimensionless in [0, 1]; (NaN, false) if N=0.
// As sklearn.metrics.accuracy_score.
func (c Confusion) Accuracy() (float64, bool) { return ratio(c.TP+c.TN, c.N()) }

// Precision returns TP/(TP+FP) in [0, 1]; (NaN, false) if there are no
// predicted positives (sklearn.metrics.precision_score warns and returns 0).
func (c Confusion) Precision() (float64, bool) { return ratio(c.TP, c.TP+c.FP) }

// Recall returns the true positive rate TP/(TP+FN) in [0, 1]; (NaN, false)
// if there are no positive labels (sklearn.metrics.recall_score warns and
// returns 0).
func (c Confusion) Recall() (float64, bool) { return ratio(c.TP, c.TP+c.FN) }

// TPR is Recall.
func (c Confusion) TPR() (float64, bool) { return c.Recall() }

// FPR returns the false positive rate FP/(FP+TN) in [0, 1]; (NaN, false) if
// there are no negative labels.
func (c Confusion) FPR() (float64, bool) { return ratio(c.FP, c.FP+c.TN) }

// Specificity returns the true negative rate TN/(TN+FP) in [0, 1];
// (NaN, false) if there are no negative labels.
func (c Confusion) Specificity() (float64, bool) { return ratio(c.TN, c.FP+c.TN) }

// SelectionRate returns the rate of positive predictions (TP+FP)/N in
// [0, 1], as fairlearn.metrics.selection_rate; (NaN, false) if N=0.
func (c Confusion) SelectionRate() (float64, bool) { return ratio(c.TP+c.FP, c.N()) }

// F1 returns the harmonic mean of precision and recall, computed as
//
//	F1 = 2TP / (2TP + FP + FN)
//
// in [0, 1], which equals 2PR/(P+R) when both are defined and is the form
// sklearn.metrics.f1_score uses since version 1.3 (so F1 is 0, not
// undefined, when TP=0 but FP+FN>0). It returns (NaN, false) only if
// TP+FP+FN=0.
func (c Confusion) F1() (float64, bool) { return ratio(2*c.TP, 2*c.TP+c.FP+c.FN) }
