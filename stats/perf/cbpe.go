package perf

import (
	"math"
)

// Confidence-based performance estimation (CBPE, NannyML): a binary
// classifier's performance on records without labels, from its scores
// alone. The scores are calibrated on a labelled reference (isotonic
// regression), and each record's calibrated probability p is taken as the
// chance that its label is positive; the expected confusion matrix of a
// window then follows from its decisions:
//
//	TP = sum over selected records of p      FP = sum over selected of 1 - p
//	FN = sum over not selected of p          TN = sum over not selected of 1 - p
//
// and accuracy (TP+TN)/n, precision TP/(TP+FP), recall TP/(TP+FN) and F1
// 2TP/(2TP+FP+FN) of it. ROC AUC is that of the expected ROC curve: the
// records in descending score order, each adding p to the true and 1 - p
// to the false positives (NannyML's estimate_roc_auc). It assumes the
// reference's calibration still holds (no concept drift: P(y | score) is
// unchanged) and catches what covariate shift does to performance through
// the scores' distribution.
//
// Here scores are binned (OutcomeBins-like equal bins over [0, 1]): the
// reference's labelled scores per bin calibrate by weighted pool-adjacent-
// violators, which is isotonic regression of the binned data (scikit-learn's
// IsotonicRegression on the bins' centres weighted by their counts), and a
// window's scores per bin give its estimate. It is NannyML's CBPE on scores
// moved to their bin's centre; on raw scores the two differ by what the
// calibration varies within a bin (see the golden test).
//
// Reference: NannyML, "Confidence-based Performance Estimation (CBPE)",
// https://nannyml.readthedocs.io/en/stable/how_it_works/performance_estimation.html;
// isotonic regression by pool-adjacent-violators: Barlow, Bartholomew,
// Bremner & Brunk (1972), Statistical Inference under Order Restrictions.

// Calibration maps score bins to calibrated probabilities of the positive
// class: the isotonic (non-decreasing) least-squares fit of the bins'
// positive shares weighted by their counts. It is immutable once made and
// safe for concurrent use.
type Calibration struct {
	// P is the calibrated probability per bin. A bin without reference
	// scores takes the linear interpolation between the nearest bins with
	// some (by bin index, as scikit-learn interpolates between its fitted
	// points), and beyond the first or last such bin their value.
	P []float64
	// Blocks are the pools of adjacent bins that share one fitted value:
	// N reference scores, X of them positive, P = X/N.
	Blocks []CalibrationBlock

	deps []binDep // per bin: how P depends on the blocks
}

// CalibrationBlock is one pool of the isotonic fit.
type CalibrationBlock struct {
	N, X, P float64
}

// binDep says p_b = (1-t) P[l] + t P[r] of blocks l and r (l == r inside a
// block or past the ends).
type binDep struct {
	l, r int
	t    float64
}

// Calibrate fits the isotonic calibration of scores binned in equal bins:
// pos[b] and neg[b] are the reference's positive and negative labels among
// its scores in bin b. It returns false when the reference has no labelled
// score, or only one class (the calibration would be constant: nothing to
// estimate from).
func Calibrate(pos, neg []float64) (*Calibration, bool) {
	if len(pos) != len(neg) || len(pos) == 0 {
		return nil, false
	}
	var tp, tn float64
	for b := range pos {
		if !(pos[b] >= 0 && neg[b] >= 0) || !finite(pos[b], neg[b]) {
			return nil, false
		}
		tp += pos[b]
		tn += neg[b]
	}
	if tp == 0 || tn == 0 {
		return nil, false
	}
	// Pool adjacent violators over the bins with scores, left to right:
	// a new bin is pooled with the blocks before it while their mean
	// exceeds its own (non-decreasing fit; equal means are not pooled).
	type block struct {
		n, x       float64
		first, end int // bins [first, end) (some may be empty)
	}
	var stack []block
	for b := range pos {
		n := pos[b] + neg[b]
		if n == 0 {
			continue
		}
		cur := block{n: n, x: pos[b], first: b, end: b + 1}
		for len(stack) > 0 {
			top := stack[len(stack)-1]
			if top.x*cur.n <= cur.x*top.n { // top mean <= cur mean: no violation
				break
			}
			cur = block{n: top.n + cur.n, x: top.x + cur.x, first: top.first, end: cur.end}
			stack = stack[:len(stack)-1]
		}
		stack = append(stack, cur)
	}
	c := &Calibration{P: make([]float64, len(pos)), Blocks: make([]CalibrationBlock, len(stack)), deps: make([]binDep, len(pos))}
	blockOf := make([]int, len(pos)) // of bins with scores
	for i, bl := range stack {
		c.Blocks[i] = CalibrationBlock{N: bl.n, X: bl.x, P: bl.x / bl.n}
		for b := bl.first; b < bl.end; b++ {
			blockOf[b] = i
		}
	}
	// Bins with scores take their block's value; empty ones interpolate
	// between the nearest bins with scores.
	prev := -1 // the last bin with scores before b
	for b := range pos {
		if pos[b]+neg[b] > 0 {
			c.deps[b] = binDep{l: blockOf[b], r: blockOf[b]}
			prev = b
			continue
		}
		next := -1
		for j := b + 1; j < len(pos); j++ {
			if pos[j]+neg[j] > 0 {
				next = j
				break
			}
		}
		switch {
		case prev < 0:
			c.deps[b] = binDep{l: blockOf[next], r: blockOf[next]}
		case next < 0:
			c.deps[b] = binDep{l: blockOf[prev], r: blockOf[prev]}
		default:
			c.deps[b] = binDep{l: blockOf[prev], r: blockOf[next], t: float64(b-prev) / float64(next-prev)}
		}
	}
	for b, d := range c.deps {
		c.P[b] = (1-d.t)*c.Blocks[d.l].P + d.t*c.Blocks[d.r].P
	}
	return c, true
}

// Estimated is a metric estimated without labels: its value and standard
// error; OK is false where the metric is undefined (a zero denominator).
type Estimated struct {
	Value, SE float64
	OK        bool
}

// CBPE is a window's performance estimated from its binned scores (see
// Calibration.Estimate).
type CBPE struct {
	N                 float64 // the window's scores
	TP, FP, FN, TN    float64 // the expected confusion matrix
	Accuracy          Estimated
	Precision, Recall Estimated
	F1, ROCAUC        Estimated
	// SamplingSE and CalibrationSE are the two parts of each metric's SE,
	// in the order above (accuracy, precision, recall, F1, ROC AUC).
	SamplingSE, CalibrationSE [5]float64
	// DifferenceSE is the standard error of each metric's estimate less
	// the reference's (Calibration.Compare); zero from Estimate.
	DifferenceSE [5]float64
}

// The metrics of a CBPE, in its arrays' order.
const (
	cbpeAccuracy = iota
	cbpePrecision
	cbpeRecall
	cbpeF1
	cbpeROCAUC
	cbpeMetrics
)

// Estimate returns the performance estimated for a window whose scores
// fall counts[b] in bin b, with decisions positive from bin first on (the
// decision threshold's bin: exact when the threshold is a bin edge).
//
// Each metric's standard error, SE, is that of the value the window's
// labels would give (the realized metric) about the estimate, for the
// band around it. It has two parts, added in quadrature:
//
//   - sampling: the standard error of the metric realized on n records
//     whose expected confusion matrix is the estimate, by the delta method
//     on its four cells' multinomial proportions pi (Var f = (sum g_i^2 pi_i
//   - (sum g_i pi_i)^2) / n, g the gradient of f): p(1-p)/n for
//     accuracy, p(1-p)/(TP+FP) for precision, p(1-p)/(TP+FN) for recall,
//     the Wald errors of the realized metrics. ROC AUC's is Hanley and
//     McNeil's (1982) at the expected numbers of positives and negatives.
//     It is NannyML's notion of sampling error (the spread of the realized
//     metric over samples of the window's size), taken at the estimate
//     rather than at the reference's value;
//   - calibration: the calibration was fitted on a finite reference. Each
//     block's probability has the binomial variance P(1-P)/N (P smoothed to
//     (X + 1/2)/(N + 1), Jeffreys, so that a block of one class still
//     counts), and moves the estimate by its derivative (ROC AUC's from
//     aucGradients): Var = sum over blocks of (d f / d P_B)^2 Var P_B.
//
// Reference: Hanley, J. A. & McNeil, B. J. (1982), The meaning and use of
// the area under a receiver operating characteristic (ROC) curve,
// Radiology 143(1), 29-36.
func (c *Calibration) Estimate(counts []float64, first int) CBPE {
	e, _ := c.estimate(counts, first)
	return e
}

// Compare is Estimate, with DifferenceSE: the standard error of each
// metric's estimate for the window less its estimate for the reference
// whose scores fall reference[b] in bin b (the records the calibration
// came from, or a part of them), the difference a drop in performance is
// judged on. Both estimates read the same calibration, so its error
// cancels where the window's scores are like the reference's:
//
//	Var = V(window) + V(reference) + sum over blocks of (dW/dP_B - dR/dP_B)^2 Var P_B
//
// where V(x) is the variance of an estimate over samples of x's size from
// its scores' distribution (the delta method on the bins' multinomial
// shares w: (sum g_b^2 w_b - (sum g_b w_b)^2)/n, g the gradient in the
// shares) and dW/dP_B, dR/dP_B the two
// estimates' derivatives in block B's probability. Unlike SE, V counts
// only the spread of the scores, not the labels' given them: an estimate
// of the performance, not a forecast of a sample's realized value.
func (c *Calibration) Compare(counts, reference []float64, first int) CBPE {
	e, w := c.estimate(counts, first)
	_, r := c.estimate(reference, first)
	if w == nil || r == nil {
		return e
	}
	bv := c.blockVariances()
	for k := range cbpeMetrics {
		if !w.ok[k] || !r.ok[k] {
			continue
		}
		v := w.shareVariance(k) + r.shareVariance(k)
		for i := range c.Blocks {
			d := w.gradBlock[k][i] - r.gradBlock[k][i]
			v += d * d * bv[i]
		}
		e.DifferenceSE[k] = math.Sqrt(v)
	}
	return e
}

// analysis is what estimate works out of one set of counts besides the
// CBPE: each metric's gradient in the bins' shares of the counts and in
// the blocks' probabilities.
type analysis struct {
	n         float64
	shares    []float64
	ok        [cbpeMetrics]bool
	gradShare [cbpeMetrics][]float64
	gradBlock [cbpeMetrics][]float64
}

// shareVariance is metric k's variance over samples of n scores from the
// shares (multinomial, delta method).
func (a *analysis) shareVariance(k int) float64 {
	var m, m2 float64
	for b, w := range a.shares {
		g := a.gradShare[k][b]
		m += g * w
		m2 += g * g * w
	}
	return max(m2-m*m, 0) / a.n
}

// blockVariances are the variances of the blocks' probabilities: P(1-P)/N
// with P smoothed to (X + 1/2)/(N + 1).
func (c *Calibration) blockVariances() []float64 {
	v := make([]float64, len(c.Blocks))
	for i, bl := range c.Blocks {
		p := (bl.X + 0.5) / (bl.N + 1)
		v[i] = p * (1 - p) / bl.N
	}
	return v
}

func (c *Calibration) estimate(counts []float64, first int) (CBPE, *analysis) {
	var e CBPE
	if len(counts) != len(c.P) {
		return e, nil
	}
	first = min(max(first, 0), len(counts))
	var s float64 // selected records
	for b, n := range counts {
		e.N += n
		p := c.P[b] * n
		if b >= first {
			s += n
			e.TP += p
			e.FP += n - p
		} else {
			e.FN += p
			e.TN += n - p
		}
	}
	if !(e.N > 0) {
		return e, nil
	}
	n := e.N
	a := &analysis{n: n, shares: make([]float64, len(counts))}
	for b, x := range counts {
		a.shares[b] = x / n
	}
	// Derivatives of TP and FN with respect to each block's probability.
	dTP := make([]float64, len(c.Blocks))
	dFN := make([]float64, len(c.Blocks))
	for b, x := range counts {
		if x == 0 {
			continue
		}
		d := c.deps[b]
		d2 := dFN
		if b >= first {
			d2 = dTP
		}
		d2[d.l] += x * (1 - d.t)
		d2[d.r] += x * d.t
	}
	bv := c.blockVariances()
	pi := [4]float64{e.TP / n, e.FP / n, e.FN / n, e.TN / n}
	// set records metric k: its value, its SE's parts (the realized
	// metric's sampling variance, by its gradient g in the confusion
	// proportions), its gradients in the blocks (from its partial
	// derivatives gTP, gFN in the counts TP and FN, S and n fixed) and in
	// the bins' shares (share(b, p, selected)).
	set := func(k int, m *Estimated, v float64, g [4]float64, gTP, gFN float64, share func(p float64, sel bool) float64) {
		var mm, m2 float64
		for i := range pi {
			mm += g[i] * pi[i]
			m2 += g[i] * g[i] * pi[i]
		}
		samp := max(m2-mm*mm, 0) / n
		a.gradBlock[k] = make([]float64, len(c.Blocks))
		var cal float64
		for i := range c.Blocks {
			d := gTP*dTP[i] + gFN*dFN[i]
			a.gradBlock[k][i] = d
			cal += d * d * bv[i]
		}
		a.gradShare[k] = make([]float64, len(counts))
		for b := range counts {
			a.gradShare[k][b] = share(c.P[b], b >= first)
		}
		a.ok[k] = true
		*m = Estimated{Value: v, SE: math.Sqrt(samp + cal), OK: true}
		e.SamplingSE[k], e.CalibrationSE[k] = math.Sqrt(samp), math.Sqrt(cal)
	}
	ind := func(sel bool) float64 {
		if sel {
			return 1
		}
		return 0
	}
	// In shares: tp, fn, s are TP/n, FN/n, S/n.
	tp, fn, sh := e.TP/n, e.FN/n, s/n
	// Accuracy = (TP + TN)/n, TN = n - S - FN.
	acc := (e.TP + e.TN) / n
	set(cbpeAccuracy, &e.Accuracy, acc, [4]float64{1, 0, 0, 1}, 1/n, -1/n,
		func(p float64, sel bool) float64 { return ind(sel)*p + (1-ind(sel))*(1-p) })
	if s > 0 {
		a1, b1 := pi[0], pi[1]
		d := (a1 + b1) * (a1 + b1)
		prec := e.TP / s
		set(cbpePrecision, &e.Precision, prec, [4]float64{b1 / d, -a1 / d, 0, 0}, 1/s, 0,
			func(p float64, sel bool) float64 { return ind(sel) * (p - prec) / sh })
	}
	if pos := e.TP + e.FN; pos > 0 {
		a1, c1 := pi[0], pi[2]
		d := (a1 + c1) * (a1 + c1)
		dp := pos * pos
		rec := e.TP / pos
		set(cbpeRecall, &e.Recall, rec, [4]float64{c1 / d, 0, -a1 / d, 0}, e.FN/dp, -e.TP/dp,
			func(p float64, sel bool) float64 { return (ind(sel)*p - rec*p) / (tp + fn) })
	}
	if den := 2*e.TP + e.FP + e.FN; den > 0 {
		a1, b1, c1 := pi[0], pi[1], pi[2]
		dd := (2*a1 + b1 + c1) * (2*a1 + b1 + c1)
		// F1 = 2TP / (TP + FN + S).
		D := e.TP + e.FN + s
		f1 := 2 * e.TP / den
		set(cbpeF1, &e.F1, f1, [4]float64{2 * (b1 + c1) / dd, -2 * a1 / dd, -2 * a1 / dd, 0}, 2*(e.FN+s)/(D*D), -2*e.TP/(D*D),
			func(p float64, sel bool) float64 { return (2*ind(sel)*p - f1*(p+ind(sel))) / (tp + fn + sh) })
	}
	if auc, ok := c.expectedAUC(counts, c.P); ok {
		samp := HanleyMcNeilVariance(auc, e.TP+e.FN, e.FP+e.TN)
		if math.IsNaN(samp) {
			samp = 0 // under one expected positive or negative
		}
		dPos, dNeg := aucGradients(counts, c.P)
		// In each block's probability (p_b moves pos_b by counts_b and
		// neg_b by -counts_b), and in each bin's count (p_b of it
		// positive; times n: in its share).
		a.gradBlock[cbpeROCAUC] = make([]float64, len(c.Blocks))
		a.gradShare[cbpeROCAUC] = make([]float64, len(counts))
		for b, x := range counts {
			g := x * (dPos[b] - dNeg[b])
			d := c.deps[b]
			a.gradBlock[cbpeROCAUC][d.l] += (1 - d.t) * g
			a.gradBlock[cbpeROCAUC][d.r] += d.t * g
			a.gradShare[cbpeROCAUC][b] = n * (c.P[b]*dPos[b] + (1-c.P[b])*dNeg[b])
		}
		var cal float64
		for i, g := range a.gradBlock[cbpeROCAUC] {
			cal += g * g * bv[i]
		}
		a.ok[cbpeROCAUC] = true
		e.ROCAUC = Estimated{Value: auc, SE: math.Sqrt(samp + cal), OK: true}
		e.SamplingSE[cbpeROCAUC], e.CalibrationSE[cbpeROCAUC] = math.Sqrt(samp), math.Sqrt(cal)
	}
	return e, a
}

// expectedAUC is the area under the expected ROC curve of scores binned
// counts with calibrated probabilities p per bin: each bin, from the
// highest down, adds counts*p expected positives and counts*(1-p)
// negatives, a straight segment of the curve (the records of one bin are
// ties, and share one probability), so the area is
//
//	AUC = sum_b neg_b (sum_{c>b} pos_c + pos_b/2) / (P N)
//
// ScoreHistogram.ROCAUC of the expected counts. False when the window has
// no expected positive or negative.
func (c *Calibration) expectedAUC(counts, p []float64) (float64, bool) {
	h := ScoreHistogram{Pos: make([]float64, len(counts)), Neg: make([]float64, len(counts))}
	for b, n := range counts {
		h.Pos[b], h.Neg[b] = n*p[b], n*(1-p[b])
	}
	return h.ROCAUC()
}

// aucGradients returns the partial derivatives of expectedAUC(counts, p)
// in each bin's expected positives pos_b = counts_b p_b and negatives
// neg_b = counts_b (1 - p_b). With S = sum_b neg_b (A_b + pos_b/2), A_b the
// positives above bin b, P and N the totals and AUC = S/(P N):
//
//	dAUC/dpos_b = (sum_{d<b} neg_d + neg_b/2)/(P N) - AUC/P
//	dAUC/dneg_b = (A_b + pos_b/2)/(P N) - AUC/N
func aucGradients(counts, p []float64) (dPos, dNeg []float64) {
	k := len(counts)
	pos, neg := make([]float64, k), make([]float64, k)
	var tp, tn float64
	for b, n := range counts {
		pos[b], neg[b] = n*p[b], n*(1-p[b])
		tp += pos[b]
		tn += neg[b]
	}
	dPos, dNeg = make([]float64, k), make([]float64, k)
	var above, s float64
	for b := k - 1; b >= 0; b-- {
		dNeg[b] = above + pos[b]/2
		s += neg[b] * dNeg[b]
		above += pos[b]
	}
	auc := s / (tp * tn)
	var below float64
	for b := range k {
		dPos[b] = (below+neg[b]/2)/(tp*tn) - auc/tp
		dNeg[b] = dNeg[b]/(tp*tn) - auc/tn
		below += neg[b]
	}
	return dPos, dNeg
}

// HanleyMcNeilVariance is the variance of an ROC AUC A estimated from pos
// positives and neg negatives (Hanley & McNeil 1982, their equation 2, with
// the exponential approximations Q1 = A/(2-A), Q2 = 2A^2/(1+A)):
//
//	Var = (A(1-A) + (pos-1)(Q1-A^2) + (neg-1)(Q2-A^2)) / (pos neg)
//
// NaN when either count is below 1.
func HanleyMcNeilVariance(a, pos, neg float64) float64 {
	if !(pos >= 1 && neg >= 1) {
		return math.NaN()
	}
	q1, q2 := a/(2-a), 2*a*a/(1+a)
	return max(a*(1-a)+(pos-1)*(q1-a*a)+(neg-1)*(q2-a*a), 0) / (pos * neg)
}

// F1Variance is the sampling variance of the F1 score of confusion matrix
// c read as a multinomial sample of its N records (delta method, as
// Calibration.Estimate's sampling part); NaN where F1 is undefined.
func F1Variance(c Confusion) float64 {
	n := c.N()
	den := 2*c.TP + c.FP + c.FN
	if !(n > 0 && den > 0) {
		return math.NaN()
	}
	a, b, d := c.TP/n, c.FP/n, c.FN/n
	dd := (2*a + b + d) * (2*a + b + d)
	g := [3]float64{2 * (b + d) / dd, -2 * a / dd, -2 * a / dd}
	pi := [3]float64{a, b, d}
	var m, m2 float64
	for i := range g {
		m += g[i] * pi[i]
		m2 += g[i] * g[i] * pi[i]
	}
	return max(m2-m*m, 0) / n
}

// ErrorBins are a reference's prediction errors per prediction bin: N
// labelled predictions in the bin, and the sums of |e|, e^2 and e^4 over
// them, e = prediction - label. All four have one entry per bin.
type ErrorBins struct {
	N, SumAbs, SumSq, SumQuad []float64
}

// ErrorsEstimate is a window's prediction error estimated without labels
// (EstimateErrors).
type ErrorsEstimate struct {
	N         float64 // the window's predictions
	MAE, RMSE Estimated
	// SamplingSE and ConditionalSE are the two parts of MAE's and RMSE's
	// SE: the realized value's sampling error at the window's size, and
	// the reference's error in its per-bin errors.
	SamplingSE, ConditionalSE [2]float64
}

// EstimateErrors estimates the mean absolute and root mean squared error
// of a window whose predictions fall counts[b] in bin b, from the
// reference's errors in the same bins: each prediction is expected to err
// as the reference's predictions of its bin did,
//
//	MAE = sum_b (counts_b / n) m_b      m_b = SumAbs_b / N_b
//	MSE = sum_b (counts_b / n) q_b      q_b = SumSq_b / N_b,  RMSE = sqrt(MSE)
//
// A bin the reference has no labelled prediction in takes the nearest bin
// that has (the lower one on a tie). The estimate follows a shift of the
// predictions' distribution (covariate shift through the prediction, when
// the error's distribution given the prediction stays: no concept drift);
// it cannot see the errors change at a given prediction. Its standard
// error adds in quadrature the sampling error of the realized MAE over n
// records ((E e^2 - MAE^2)/n, E over the estimate's mixture) and the
// reference's error in each m_b (Var |e| in the bin over N_b, weighted by
// the window's share of the bin squared); RMSE's is that of MSE (with
// e^4 in place of e^2) over 2 RMSE, by the delta method. ok is false
// without reference errors or window predictions, or when the shapes
// differ.
func EstimateErrors(ref ErrorBins, counts []float64) (ErrorsEstimate, bool) {
	e, _, ok := estimateErrors(ref, counts)
	return e, ok
}

// CompareErrors is EstimateErrors for the window (counts) and for a
// reference whose predictions fall reference[b] in bin b (the records
// ref's errors came from, or a part of them), with the standard error of
// the window's MAE estimate less factor times the reference's, the
// difference a rise of the error is judged on (factor 1 + the allowed
// rise). Both read the same m_b, so their error cancels where the window's
// predictions are like the reference's:
//
//	Var = V(window) + factor^2 V(reference) + sum_b (w_b - factor r_b)^2 Var(|e| in b) / N_b
//
// w and r the window's and the reference's shares of bin b (of the bins
// whose errors they read), V(x) the variance of sum_b x_b m_b over samples
// of x's size from its predictions' distribution ((sum_b x_b m_b^2 - (sum_b
// x_b m_b)^2)/n). As Calibration.Compare, it counts the spread of the
// predictions, not the errors' given them.
func CompareErrors(ref ErrorBins, counts, reference []float64, factor float64) (window, refEst ErrorsEstimate, se float64, ok bool) {
	window, w, ok := estimateErrors(ref, counts)
	if !ok {
		return window, refEst, 0, false
	}
	refEst, r, ok := estimateErrors(ref, reference)
	if !ok {
		return window, refEst, 0, false
	}
	var vw, vr, cond float64
	for b := range counts {
		if ref.N[b] == 0 {
			continue
		}
		nb := ref.N[b]
		m, q := ref.SumAbs[b]/nb, ref.SumSq[b]/nb
		vw += w[b] * m * m
		vr += r[b] * m * m
		d := w[b] - factor*r[b]
		cond += d * d * max(q-m*m, 0) / nb
	}
	vw = max(vw-window.MAE.Value*window.MAE.Value, 0) / window.N
	vr = max(vr-refEst.MAE.Value*refEst.MAE.Value, 0) / refEst.N
	return window, refEst, math.Sqrt(vw + factor*factor*vr + cond), true
}

// estimateErrors is EstimateErrors, with the window's share per bin whose
// reference errors it reads.
func estimateErrors(ref ErrorBins, counts []float64) (ErrorsEstimate, []float64, bool) {
	var e ErrorsEstimate
	k := len(counts)
	if k == 0 || len(ref.N) != k || len(ref.SumAbs) != k || len(ref.SumSq) != k || len(ref.SumQuad) != k {
		return e, nil, false
	}
	// src[b]: the bin whose reference errors bin b takes.
	src := make([]int, k)
	last := -1
	for b := range k {
		if ref.N[b] > 0 {
			last = b
		}
		src[b] = last
	}
	if last < 0 {
		return e, nil, false
	}
	next := -1
	for b := k - 1; b >= 0; b-- {
		if ref.N[b] > 0 {
			next = b
		}
		if prev := src[b]; prev < 0 || next >= 0 && next-b < b-prev {
			src[b] = next // nearer above (or nothing below)
		}
	}
	w := make([]float64, k) // window share per source bin
	for b, c := range counts {
		e.N += c
		if c > 0 {
			w[src[b]] += c
		}
	}
	n := e.N
	if !(n > 0) {
		return e, nil, false
	}
	var mae, msq, m4, condMAE, condMSQ float64
	for b := range k {
		if w[b] == 0 {
			continue
		}
		nb := ref.N[b]
		m, q, r := ref.SumAbs[b]/nb, ref.SumSq[b]/nb, ref.SumQuad[b]/nb
		s := w[b] / n
		mae += s * m
		msq += s * q
		m4 += s * r
		condMAE += s * s * max(q-m*m, 0) / nb
		condMSQ += s * s * max(r-q*q, 0) / nb
	}
	sampMAE := max(msq-mae*mae, 0) / n
	sampMSQ := max(m4-msq*msq, 0) / n
	e.MAE = Estimated{Value: mae, SE: math.Sqrt(sampMAE + condMAE), OK: true}
	e.SamplingSE[0], e.ConditionalSE[0] = math.Sqrt(sampMAE), math.Sqrt(condMAE)
	rmse := math.Sqrt(msq)
	e.RMSE = Estimated{Value: rmse, OK: true}
	if rmse > 0 {
		e.RMSE.SE = math.Sqrt(sampMSQ+condMSQ) / (2 * rmse)
		e.SamplingSE[1], e.ConditionalSE[1] = math.Sqrt(sampMSQ)/(2*rmse), math.Sqrt(condMSQ)/(2*rmse)
	}
	for b := range w {
		w[b] /= n
	}
	return e, w, true
}
