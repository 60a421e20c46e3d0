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
}

// Estimate returns the performance estimated for a window whose scores
// fall counts[b] in bin b, with decisions positive from bin first on (the
// decision threshold's bin: exact when the threshold is a bin edge).
//
// Each metric's standard error has two parts, added in quadrature:
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
//     counts), and moves the estimate by its derivative (exact for
//     accuracy, precision, recall and F1; a central difference for ROC
//     AUC): Var = sum over blocks of (d f / d P_B)^2 Var P_B.
//
// Reference: Hanley, J. A. & McNeil, B. J. (1982), The meaning and use of
// the area under a receiver operating characteristic (ROC) curve,
// Radiology 143(1), 29-36.
func (c *Calibration) Estimate(counts []float64, first int) CBPE {
	var e CBPE
	if len(counts) != len(c.P) {
		return e
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
		return e
	}
	// Derivatives of TP and FN with respect to each block's probability.
	dTP := make([]float64, len(c.Blocks))
	dFN := make([]float64, len(c.Blocks))
	for b, n := range counts {
		if n == 0 {
			continue
		}
		d := c.deps[b]
		d2 := dFN
		if b >= first {
			d2 = dTP
		}
		d2[d.l] += n * (1 - d.t)
		d2[d.r] += n * d.t
	}
	blockVar := make([]float64, len(c.Blocks))
	for i, bl := range c.Blocks {
		p := (bl.X + 0.5) / (bl.N + 1)
		blockVar[i] = p * (1 - p) / bl.N
	}
	// calVar is the calibration variance of a metric whose partial
	// derivatives with respect to TP and FN (S and n fixed) are gTP, gFN.
	calVar := func(gTP, gFN float64) float64 {
		var v float64
		for i := range c.Blocks {
			d := gTP*dTP[i] + gFN*dFN[i]
			v += d * d * blockVar[i]
		}
		return v
	}
	n := e.N
	pi := [4]float64{e.TP / n, e.FP / n, e.FN / n, e.TN / n}
	sampling := func(g [4]float64) float64 { // g: gradient in the proportions
		var m, m2 float64
		for i := range pi {
			m += g[i] * pi[i]
			m2 += g[i] * g[i] * pi[i]
		}
		return max(m2-m*m, 0) / n
	}
	set := func(k int, m *Estimated, v float64, samp, cal float64) {
		*m = Estimated{Value: v, SE: math.Sqrt(samp + cal), OK: true}
		e.SamplingSE[k], e.CalibrationSE[k] = math.Sqrt(samp), math.Sqrt(cal)
	}
	// Accuracy = (TP + TN)/n, TN = n - S - FN.
	set(0, &e.Accuracy, (e.TP+e.TN)/n, sampling([4]float64{1, 0, 0, 1}), calVar(1/n, -1/n))
	if s > 0 {
		a, b := pi[0], pi[1]
		d := (a + b) * (a + b)
		set(1, &e.Precision, e.TP/s, sampling([4]float64{b / d, -a / d, 0, 0}), calVar(1/s, 0))
	}
	if pos := e.TP + e.FN; pos > 0 {
		a, c2 := pi[0], pi[2]
		d := (a + c2) * (a + c2)
		dp := pos * pos
		set(2, &e.Recall, e.TP/pos, sampling([4]float64{c2 / d, 0, -a / d, 0}), calVar(e.FN/dp, -e.TP/dp))
	}
	if den := 2*e.TP + e.FP + e.FN; den > 0 {
		a, b, c2 := pi[0], pi[1], pi[2]
		dd := (2*a + b + c2) * (2*a + b + c2)
		// F1 = 2TP / (TP + FN + S) with S fixed.
		D := e.TP + e.FN + s
		set(3, &e.F1, 2*e.TP/den, sampling([4]float64{2 * (b + c2) / dd, -2 * a / dd, -2 * a / dd, 0}),
			calVar(2*(e.FN+s)/(D*D), -2*e.TP/(D*D)))
	}
	if auc, ok := c.expectedAUC(counts, c.P); ok {
		samp := HanleyMcNeilVariance(auc, e.TP+e.FN, e.FP+e.TN)
		// The calibration part by central differences, one block at a time.
		var cal float64
		p := make([]float64, len(c.P))
		for i := range c.Blocks {
			h := 1e-6
			at := func(delta float64) float64 {
				for b, d := range c.deps {
					p[b] = c.P[b]
					if d.l == i {
						p[b] += (1 - d.t) * delta
					}
					if d.r == i {
						p[b] += d.t * delta
					}
				}
				v, _ := c.expectedAUC(counts, p)
				return v
			}
			g := (at(h) - at(-h)) / (2 * h)
			if !math.IsNaN(g) {
				cal += g * g * blockVar[i]
			}
		}
		set(4, &e.ROCAUC, auc, samp, cal)
	}
	return e
}

// expectedAUC is the area under the expected ROC curve of scores binned
// counts with calibrated probabilities p per bin: each bin, from the
// highest down, adds counts*p expected positives and counts*(1-p)
// negatives, a straight segment of the curve (the records of one bin are
// ties, and share one probability), so the area is
//
//	AUC = sum_b neg_b (sum_{c>b} pos_c + pos_b/2) / (P N)
//
// as ScoreHistogram.ROCAUC on expected counts. False when the window has
// no expected positive or negative.
func (c *Calibration) expectedAUC(counts, p []float64) (float64, bool) {
	var tp, tn float64
	for b, n := range counts {
		tp += n * p[b]
		tn += n * (1 - p[b])
	}
	if !(tp > 0 && tn > 0) {
		return math.NaN(), false
	}
	var above, sum float64
	for b := len(counts) - 1; b >= 0; b-- {
		pos, neg := counts[b]*p[b], counts[b]*(1-p[b])
		sum += (neg / tn) * ((above + pos/2) / tp)
		above += pos
	}
	return min(max(sum, 0), 1), true
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
	var e ErrorsEstimate
	k := len(counts)
	if k == 0 || len(ref.N) != k || len(ref.SumAbs) != k || len(ref.SumSq) != k || len(ref.SumQuad) != k {
		return e, false
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
		return e, false
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
		return e, false
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
	return e, true
}
