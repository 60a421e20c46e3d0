package perf

import (
	"fmt"
	"math"
)

// Average selects how per-class precision, recall and F1 are combined, with
// sklearn's meaning of the average= argument.
type Average int

const (
	// Macro is the unweighted mean over the classes present (in labels or
	// predictions).
	Macro Average = iota
	// Micro computes the metric from counts summed over classes; for
	// single-label multiclass data it equals accuracy.
	Micro
	// Weighted is the mean over present classes weighted by support (the
	// weight of true labels of each class).
	Weighted
)

// ConfusionMatrix is the mergeable state of a K-class classifier: M[t*K+p]
// is the summed weight of observations with true class t and predicted
// class p, classes 0..K-1. Create one with NewConfusionMatrix; it owns M.
type ConfusionMatrix struct {
	K int
	M []float64
	// Dropped counts observations rejected by Add (bad weight or class
	// out of range).
	Dropped float64
}

// NewConfusionMatrix returns an empty K-class matrix. It panics if k < 1
// (a programmer error).
func NewConfusionMatrix(k int) *ConfusionMatrix {
	if k < 1 {
		panic(fmt.Sprintf("perf.NewConfusionMatrix: k = %d < 1", k))
	}
	return &ConfusionMatrix{K: k, M: make([]float64, k*k)}
}

// Add records one observation of true class label and predicted class pred
// with frequency weight w. Classes outside [0, K) and weights that are not
// finite and positive are counted in Dropped. Add does not allocate.
func (c *ConfusionMatrix) Add(label, pred int, w float64) {
	if !validWeight(w) || label < 0 || label >= c.K || pred < 0 || pred >= c.K {
		c.Dropped++
		return
	}
	c.M[label*c.K+pred] += w
}

// Merge adds o into c; it returns an error, leaving c unchanged, if the
// numbers of classes differ.
func (c *ConfusionMatrix) Merge(o *ConfusionMatrix) error {
	if c.K != o.K {
		return fmt.Errorf("merge confusion matrices: %d vs %d classes", c.K, o.K)
	}
	for i := range c.M {
		c.M[i] += o.M[i]
	}
	c.Dropped += o.Dropped
	return nil
}

// Class returns the one-vs-rest binary confusion counts of class k (TN is
// everything that is neither labelled nor predicted k). Each count is summed
// from its own cells, not derived by subtraction from the totals, so none
// is negative whatever the weights (with weights 1 and 1e300, N - row - col
// + TP rounded to -1). It panics if k is outside [0, K).
func (c *ConfusionMatrix) Class(k int) Confusion {
	var b Confusion
	for i := range c.K {
		for j := range c.K {
			v := c.M[i*c.K+j]
			switch {
			case i == k && j == k:
				b.TP += v
			case i == k:
				b.FN += v
			case j == k:
				b.FP += v
			default:
				b.TN += v
			}
		}
	}
	return b
}

// N returns the total weight.
func (c *ConfusionMatrix) N() float64 {
	var n float64
	for _, v := range c.M {
		n += v
	}
	return n
}

// Accuracy returns sum_k M[k][k] / N in [0, 1], as
// sklearn.metrics.accuracy_score; (NaN, false) if N = 0.
func (c *ConfusionMatrix) Accuracy() (float64, bool) {
	var d float64
	for k := range c.K {
		d += c.M[k*c.K+k]
	}
	return ratio(d, c.N())
}

// Precision returns the averaged precision in [0, 1]. See average.
func (c *ConfusionMatrix) Precision(avg Average) (float64, bool) {
	return c.average(avg, func(b Confusion) (float64, bool) { return b.Precision() })
}

// Recall returns the averaged recall in [0, 1]. See average.
func (c *ConfusionMatrix) Recall(avg Average) (float64, bool) {
	return c.average(avg, func(b Confusion) (float64, bool) { return b.Recall() })
}

// F1 returns the averaged F1 in [0, 1]. Macro and weighted F1 average the
// per-class F1 = 2TP/(2TP+FP+FN) (not the F1 of averaged precision and
// recall), as sklearn.metrics.f1_score.
func (c *ConfusionMatrix) F1(avg Average) (float64, bool) {
	return c.average(avg, func(b Confusion) (float64, bool) { return b.F1() })
}

// average combines the per-class metric f as sklearn's
// precision_recall_fscore_support with labels=None: the classes averaged
// over are those present in the true labels or the predictions; an
// undefined per-class value (zero denominator) counts as 0 (sklearn's
// zero_division="warn" value). Micro sums TP, FP, FN over those classes
// first. It returns (NaN, false) when no class is present (N = 0), and for
// Weighted when the total support is 0.
func (c *ConfusionMatrix) average(avg Average, f func(Confusion) (float64, bool)) (float64, bool) {
	var sum, wsum float64
	var micro Confusion
	present := 0
	for k := range c.K {
		b := c.Class(k)
		if b.TP+b.FP+b.FN == 0 {
			continue // class absent from both labels and predictions
		}
		present++
		micro.TP += b.TP
		micro.FP += b.FP
		micro.FN += b.FN
		v, ok := f(b)
		if !ok {
			v = 0
		}
		switch avg {
		case Weighted:
			s := b.TP + b.FN
			sum += v * s
			wsum += s
		default:
			sum += v
			wsum++
		}
	}
	if present == 0 {
		return math.NaN(), false
	}
	switch avg {
	case Micro:
		v, ok := f(micro)
		if !ok {
			return math.NaN(), false
		}
		return v, true
	default:
		return ratio(sum, wsum)
	}
}
