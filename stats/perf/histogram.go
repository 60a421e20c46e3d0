package perf

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// DefaultBins is the number of equal-width bins on [0, 1] used by
// NewScoreHistogram.
const DefaultBins = 1000

// LogLossEps is the clipping constant of LogLoss: probabilities are clipped
// to [LogLossEps, 1-LogLossEps] before taking logarithms. It is the float64
// machine epsilon 2^-52, the value sklearn.metrics.log_loss uses for float64
// input since scikit-learn 1.5 (eps="auto"; the eps argument was removed in
// 1.7).
const LogLossEps = 0x1p-52

// ScoreHistogram is the mergeable state of a binary probabilistic
// classifier over one window: for each score bin, the summed weight of
// positive and of negative observations and the summed weighted score; plus
// exact (unbinned) running sums for the Brier score and log loss.
//
// Scores are probabilities of the positive class, expected in [0, 1]. A
// score below the first edge is counted in the first bin and a score at or
// above the last edge in the last bin (bins are [e_i, e_i+1), the last one
// closed); the exact sums use the score itself. NaN scores are dropped.
//
// Create one with NewScoreHistogram or NewScoreHistogramEdges; the zero
// value is not usable. Edges must not be modified after creation. Two
// histograms can be merged only if their edges are identical.
type ScoreHistogram struct {
	// Edges are the bin edges, strictly increasing, len = bins + 1.
	Edges []float64
	// Pos and Neg are the summed weights of positive and negative
	// observations per bin.
	Pos, Neg []float64
	// ScoreSum is the summed weight*score per bin (both classes), the score
	// clamped to [Edges[0], Edges[last]] like its bin.
	ScoreSum []float64
	// SqErr is sum w*(s - y)², y in {0, 1}, with the raw score s.
	SqErr float64
	// LogLoss is sum w*(-y ln(c(s)) - (1-y) ln(c(1-s))), c clipping to
	// [LogLossEps, 1-LogLossEps].
	LogLossSum float64
	// Dropped counts observations rejected by Add (bad weight or NaN score).
	Dropped float64

	uniform bool    // edges are lo + (hi-lo)*i/n, enabling O(1) lookup
	scale   float64 // n/(hi-lo) when uniform
}

// NewScoreHistogram returns an empty histogram with bins equal-width bins
// on [0, 1] (edges i/bins, exactly representable for the bin boundaries
// that matter to ECE). bins <= 0 selects DefaultBins.
func NewScoreHistogram(bins int) *ScoreHistogram {
	if bins <= 0 {
		bins = DefaultBins
	}
	edges := make([]float64, bins+1)
	for i := range edges {
		edges[i] = float64(i) / float64(bins)
	}
	h := newHist(edges)
	h.uniform = true
	h.scale = float64(bins)
	return h
}

// NewScoreHistogramEdges returns an empty histogram on the given edges
// (copied), which must be finite, strictly increasing and at least two.
func NewScoreHistogramEdges(edges []float64) (*ScoreHistogram, error) {
	if len(edges) < 2 {
		return nil, errors.New("new score histogram: need at least 2 edges")
	}
	for i, e := range edges {
		if math.IsNaN(e) || math.IsInf(e, 0) {
			return nil, fmt.Errorf("new score histogram: edge %d is %v", i, e)
		}
		if i > 0 && !(e > edges[i-1]) {
			return nil, fmt.Errorf("new score histogram: edges not strictly increasing at %d", i)
		}
	}
	return newHist(slices.Clone(edges)), nil
}

func newHist(edges []float64) *ScoreHistogram {
	n := len(edges) - 1
	return &ScoreHistogram{
		Edges:    edges,
		Pos:      make([]float64, n),
		Neg:      make([]float64, n),
		ScoreSum: make([]float64, n),
	}
}

// Bins returns the number of bins.
func (h *ScoreHistogram) Bins() int { return len(h.Pos) }

// bin returns the index b with Edges[b] <= s < Edges[b+1], clamped to the
// first and last bin.
func (h *ScoreHistogram) bin(s float64) int {
	n := len(h.Pos)
	if !(s >= h.Edges[1]) {
		return 0
	}
	if s >= h.Edges[n-1] {
		return n - 1
	}
	if h.uniform {
		i := int((s - h.Edges[0]) * h.scale)
		i = max(0, min(i, n-1))
		// Fix rounding of the multiplication against the exact edges.
		for i > 0 && s < h.Edges[i] {
			i--
		}
		for i < n-1 && s >= h.Edges[i+1] {
			i++
		}
		return i
	}
	// Largest i with Edges[i] <= s.
	i, found := slices.BinarySearch(h.Edges, s)
	if !found {
		i--
	}
	return i
}

// Add records one observation with score s (probability of the positive
// class) and true class label with frequency weight w. Observations with a
// NaN score or a weight that is not finite and positive are counted in
// Dropped instead. Add does not allocate.
func (h *ScoreHistogram) Add(s float64, label bool, w float64) {
	if !validWeight(w) || math.IsNaN(s) {
		h.Dropped++
		return
	}
	b := h.bin(s)
	h.ScoreSum[b] += w * min(max(s, h.Edges[0]), h.Edges[len(h.Edges)-1])
	if label {
		h.Pos[b] += w
		d := 1 - s
		h.SqErr += w * d * d
		h.LogLossSum -= w * math.Log(clipProb(s))
	} else {
		h.Neg[b] += w
		h.SqErr += w * s * s
		h.LogLossSum -= w * math.Log(clipProb(1-s))
	}
}

func clipProb(p float64) float64 {
	return min(max(p, LogLossEps), 1-LogLossEps)
}

// Merge adds o into h. It returns an error, and leaves h unchanged, if the
// edges differ.
func (h *ScoreHistogram) Merge(o *ScoreHistogram) error {
	if !slices.Equal(h.Edges, o.Edges) {
		return fmt.Errorf("merge score histograms: edges differ (%d vs %d bins)", h.Bins(), o.Bins())
	}
	for i := range h.Pos {
		h.Pos[i] += o.Pos[i]
		h.Neg[i] += o.Neg[i]
		h.ScoreSum[i] += o.ScoreSum[i]
	}
	h.SqErr += o.SqErr
	h.LogLossSum += o.LogLossSum
	h.Dropped += o.Dropped
	return nil
}

// Reset empties h, keeping its edges and storage.
func (h *ScoreHistogram) Reset() {
	clear(h.Pos)
	clear(h.Neg)
	clear(h.ScoreSum)
	h.SqErr, h.LogLossSum, h.Dropped = 0, 0, 0
}

// Totals returns the summed weight of positive (P) and negative (N)
// observations.
func (h *ScoreHistogram) Totals() (p, n float64) {
	for i := range h.Pos {
		p += h.Pos[i]
		n += h.Neg[i]
	}
	return p, n
}

// ROCAUC returns the area under the ROC curve (dimensionless, in [0, 1]) of
// the binned scores, scores in one bin counting as ties (Fawcett 2006,
// Algorithm 2, trapezoid rule):
//
//	AUC = sum_b neg_b * (sum_{c>b} pos_c + pos_b/2) / (P*N)
//
// the Mann-Whitney probability P(s+ > s-) + P(s+ = s-)/2. It equals
// sklearn.metrics.roc_auc_score on the binned scores and is within
// ROCAUCErrorBound of roc_auc_score on the raw scores. It returns
// (NaN, false) if either class is absent (sklearn raises).
//
// Reference: Fawcett, T. (2006), An introduction to ROC analysis, Pattern
// Recognit. Lett. 27(8), 861-874.
func (h *ScoreHistogram) ROCAUC() (float64, bool) {
	p, n, ok := h.bothClasses()
	if !ok {
		return math.NaN(), false
	}
	// Normalize per term so that tiny or huge weights neither underflow nor
	// overflow the products.
	var above, sum float64
	for b := len(h.Pos) - 1; b >= 0; b-- {
		sum += (h.Neg[b] / n) * ((above + h.Pos[b]/2) / p)
		above += h.Pos[b]
	}
	return min(sum, 1), true
}

// bothClasses returns the class totals and whether both are positive and
// finite.
func (h *ScoreHistogram) bothClasses() (p, n float64, ok bool) {
	p, n = h.Totals()
	ok = p > 0 && n > 0 && !math.IsInf(p, 1) && !math.IsInf(n, 1)
	return p, n, ok
}

// ROCAUCErrorBound returns the largest possible |ROCAUC() - AUC_exact|,
// where AUC_exact is the ROC AUC of the raw scores that filled the bins:
//
//	bound = 0.5 * sum_b pos_b*neg_b / (P*N)
//
// Only a (positive, negative) pair inside one bin can be ordered
// differently by the raw scores; the binned AUC counts it as 1/2 and the
// raw AUC as 0, 1/2 or 1. The bound is 0 when no bin holds both classes. It
// returns (NaN, false) if either class is absent.
func (h *ScoreHistogram) ROCAUCErrorBound() (float64, bool) {
	p, n, ok := h.bothClasses()
	if !ok {
		return math.NaN(), false
	}
	var within float64
	for b := range h.Pos {
		within += (h.Pos[b] / p) * (h.Neg[b] / n)
	}
	return 0.5 * within, true
}

// PRAUC returns the average precision (dimensionless, in [0, 1]) of the
// binned scores, as sklearn.metrics.average_precision_score (no
// interpolation, step-wise):
//
//	AP = sum_k (R_k - R_{k-1}) * P_k
//
// over thresholds k = bins from the highest down, with precision
// P_k = TP_k/(TP_k+FP_k) and recall R_k = TP_k/P counting every observation
// in bin k and above. Bins that hold no positives add nothing. It equals
// average_precision_score on the binned scores, and on the raw scores when
// all scores inside each bin are equal. It returns (NaN, false) if there
// are no positives (sklearn warns and returns 0).
//
// Reference: Davis, J. and Goadrich, M. (2006), The relationship between
// precision-recall and ROC curves, Proc. ICML, 233-240.
func (h *ScoreHistogram) PRAUC() (float64, bool) {
	var tp, fp, sum float64
	for b := len(h.Pos) - 1; b >= 0; b-- {
		tp += h.Pos[b]
		fp += h.Neg[b]
		if h.Pos[b] > 0 {
			sum += h.Pos[b] * (tp / (tp + fp))
		}
	}
	v, ok := ratio(sum, tp)
	return min(v, 1), ok
}

// BrierScore returns the mean squared difference between score and label
// (dimensionless, in [0, 1] for scores in [0, 1]):
//
//	BS = sum_i w_i (s_i - y_i)² / sum_i w_i
//
// from the exact running sum, as sklearn.metrics.brier_score_loss. It
// returns (NaN, false) if the histogram is empty, or if a score was ±Inf or
// the sum overflowed (the squared error is then infinite).
//
// Reference: Brier, G. W. (1950), Verification of forecasts expressed in
// terms of probability, Mon. Weather Rev. 78(1), 1-3.
func (h *ScoreHistogram) BrierScore() (float64, bool) {
	p, n := h.Totals()
	return ratio(h.SqErr, p+n)
}

// LogLoss returns the mean binary cross-entropy in nats (>= 0):
//
//	LL = -sum_i w_i (y_i ln c(s_i) + (1-y_i) ln c(1-s_i)) / sum_i w_i
//
// where c clips to [LogLossEps, 1-LogLossEps] (as sklearn.metrics.log_loss
// does for float64 input, clipping both columns of [1-s, s]); so one
// confidently wrong prediction costs at most -ln(2^-52) ≈ 36.04. From the
// exact running sum; (NaN, false) if the histogram is empty.
func (h *ScoreHistogram) LogLoss() (float64, bool) {
	p, n := h.Totals()
	return ratio(h.LogLossSum, p+n)
}

// ECE returns the expected calibration error (dimensionless, in [0, 1]) over
// nbins equal-width bins on [0, 1]:
//
//	ECE = sum_j (n_j/N) * |acc_j - conf_j| = sum_j |pos_j - S_j| / N
//
// where, for the scores falling into bin j, n_j is their weight, acc_j the
// fraction of positives (pos_j/n_j) and conf_j the mean score (S_j/n_j).
// This is the binary, positive-class form (the reliability diagram of
// sklearn.calibration.calibration_curve with strategy="uniform"), not the
// top-label form that uses max(s, 1-s). Empty bins add nothing.
//
// Each histogram bin is assigned to the ECE bin that contains its lower
// edge, so ECE is exact when the ECE edges j/nbins are histogram edges (for
// the default edges: nbins divides DefaultBins, e.g. 10, 20, 25, 50, 100;
// not 15). nbins <= 0 selects 10. It returns (NaN, false) if the
// histogram is empty.
//
// Reference: Naeini, M. P., Cooper, G. F. and Hauskrecht, M. (2015),
// Obtaining well calibrated probabilities using Bayesian binning, Proc.
// AAAI, 2901-2907.
func (h *ScoreHistogram) ECE(nbins int) (float64, bool) {
	if nbins <= 0 {
		nbins = 10
	}
	var total, sum, pos, ss float64
	j := 0
	flush := func() {
		sum += math.Abs(pos - ss)
		pos, ss = 0, 0
	}
	for b := range h.Pos {
		lo := h.Edges[b]
		nj := j
		for nj < nbins-1 && lo >= float64(nj+1)/float64(nbins) {
			nj++
		}
		if nj != j {
			flush()
			j = nj
		}
		pos += h.Pos[b]
		ss += h.ScoreSum[b]
		total += h.Pos[b] + h.Neg[b]
	}
	flush()
	return ratio(sum, total)
}
