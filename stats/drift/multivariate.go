package drift

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/stats/multivariate"
	"github.com/driftwatch/driftwatch/windows"
)

// Multivariate drift (family data, subject SubjectMultivariate): rows on
// the window's sample of whole records (windows.Sample) against the
// baseline's multivariate model (baselines.Multivariate), which see what
// each feature's marginal alone cannot, such as a change in how features
// move together.
const (
	SubjectMultivariate = "*multivariate"
	// MetricReconstructionError is the mean PCA reconstruction error of the
	// window's sampled rows (NannyML's data reconstruction drift): the
	// subject's deciding row.
	MetricReconstructionError = "reconstruction_error"
	// MetricDomainClassifierAUC is the cross-validated ROC AUC of a
	// logistic regression trained to tell the window's sampled rows from
	// the reference's, with a permutation p-value.
	MetricDomainClassifierAUC = "domain_classifier_auc"
)

// Multivariate configures the multivariate rows.
type Multivariate struct {
	// Sigmas: reconstruction_error is drifted above the reference's mean
	// chunk error plus Sigmas standard deviations of it (NannyML: 3).
	Sigmas float64
	// MinChunks is the fewest reference chunks of the window's size the
	// threshold is computed from; with fewer, the fitted rows' errors
	// give it (threshold_source static_fallback).
	MinChunks int
	// MinAUC is the effect floor of domain_classifier_auc: drifted when
	// the AUC is at least MinAUC and its permutation p-value below 0.05.
	// With no change the AUC of 500 sampled rows against as many of the
	// reference's reads 0.5 with a standard deviation of about 0.025: the
	// default 0.6 is four of them, a difference, not noise.
	MinAUC float64
	// Permutations is how many times the classifier is refitted on
	// shuffled labels for the p-value (the permutations stop once it
	// cannot fall below 0.05); 0 writes no domain_classifier_auc row.
	Permutations int
	// Folds is the cross-validation's number of folds.
	Folds int
}

// DefaultMultivariate returns the documented defaults.
func DefaultMultivariate() Multivariate {
	return Multivariate{Sigmas: 3, MinChunks: 10, MinAUC: 0.6, Permutations: 99, Folds: 5}
}

// Settings of the domain classifier that are not configured.
const (
	classifierC     = 1.0  // sklearn's default C
	classifierAlpha = 0.05 // the permutation test's level
	// minClassifierRows is the fewest reference rows (of the window's
	// phases, for a phased window) the classifier is trained on; with
	// fewer, no domain_classifier_auc row.
	minClassifierRows = 50
)

// appendMultivariate appends the window's multivariate rows: with its
// baseline's model mv (the stored baseline's: a phased reference has no
// model of its own) and a sample of at least p.MinSamples rows,
// reconstruction_error and, when p.Multivariate.Permutations > 0 and the
// model keeps a reference sample (of at least minClassifierRows rows of
// the window's phases, when the window is judged against a phase of a
// cyclic reference), domain_classifier_auc. They are not among the
// features drifted_share counts. reconstruction_error is judged against
// the whole reference: its consecutive chunks span the cycle, which
// widens its threshold.
//
// reconstruction_error is NannyML's statistic, the mean of the sampled
// rows' errors, with one difference: a row's error counts at most the
// reference's 99.9th percentile (mv.ErrorCap), as the reference's own
// errors behind the threshold do. A mean of errors is led by its largest
// ones; where a feature is heavy-tailed (a lognormal amount), one or two
// rows more extreme than any the reference held would move a window's mean
// past its threshold, and such values are out_of_range_rate's to report.
func (e *Evaluator) appendMultivariate(rows []Row, head Row, w *windows.Window, mv *baselines.Multivariate, p *Policy) []Row {
	s, m := w.Sample, &p.Multivariate
	if mv == nil || s == nil || s.Width != mv.Width() || int64(s.Len()) < max(p.MinSamples, 2) {
		return rows
	}
	d, n := mv.Width(), s.Len()
	z := make([]float64, n*d)
	for i := range n {
		mv.Encode(s.Row(i), z[i*d:(i+1)*d])
	}
	pca := mv.PCA()
	scratch := make([]float64, d)
	var sum float64
	for i := range n {
		sum += min(pca.ReconstructionError(z[i*d:(i+1)*d], mv.Kept, scratch), mv.ErrorCap)
	}
	r := head
	r.Family, r.Subject, r.Metric, r.Primary = FamilyData, SubjectMultivariate, MetricReconstructionError, true
	r.Value, r.NCurrent, r.NReference = sum/float64(n), int64(n), mv.FitRows
	r.Threshold, r.ThresholdSource = e.reconstructionThreshold(mv, n, m.Sigmas, m.MinChunks)
	r.Drifted = r.Value > r.Threshold
	rows = append(rows, r)

	// The reference's sampled rows; of the window's phases when it is
	// judged against a phase of a cyclic reference (phased), so that the
	// cycle is not taken for a difference.
	avail := make([]int, 0, len(mv.Sample)/d)
	set := w.Baseline.PhaseSet()
	for i := range len(mv.Sample) / d {
		if set == nil || len(mv.SamplePhases) == len(mv.Sample)/d && set[mv.SamplePhases[i]] {
			avail = append(avail, i)
		}
	}
	if m.Permutations <= 0 || len(avail) < max(minClassifierRows, m.Folds) || n < max(m.Folds, 2) || len(mv.Axes) != d {
		return rows
	}
	// As many reference rows as the window has (or all there are), drawn
	// by the window's seed: balanced classes, and each window a different
	// draw.
	seed := paritySeed(head, SubjectMultivariate)
	nRef := min(len(avail), n)
	pick := make([]int, nRef)
	for k, j := range rand.New(rand.NewPCG(seed, 1)).Perm(len(avail))[:nRef] {
		pick[k] = avail[j]
	}
	slices.Sort(pick)
	ref := make([]float64, nRef*d)
	for k, i := range pick {
		mv.Encode(mv.Sample[i*d:(i+1)*d], ref[k*d:(k+1)*d])
	}
	// Below MinAUC the row is not drifted whatever the p-value: no
	// permutations (most of a window's cost: up to 99 refits of every fold).
	test := multivariate.ClassifierTest{Folds: m.Folds, Permutations: m.Permutations, C: classifierC, Alpha: classifierAlpha, Seed: seed, MinAUC: m.MinAUC}
	axes := &multivariate.PCA{Mean: mv.AxesMean, Components: mv.Axes}
	res, err := test.Run(classifierDesign(axes, ref, nRef), nRef, classifierDesign(axes, z, n), n, 2*d)
	if err != nil || math.IsNaN(res.AUC) {
		return rows
	}
	r = head
	r.Family, r.Subject, r.Metric = FamilyData, SubjectMultivariate, MetricDomainClassifierAUC
	r.Value, r.NCurrent, r.NReference = res.AUC, int64(n), int64(nRef)
	if !math.IsNaN(res.P) {
		r.PValue = &res.P
	}
	r.Threshold, r.ThresholdSource = m.MinAUC, SourceStatic
	r.Drifted = res.AUC >= m.MinAUC && res.P < classifierAlpha
	return append(rows, r)
}

// classifierDesign is the domain classifier's columns of n standardized
// rows z: each row's scores on every principal axis of the reference
// (those of the fitted rows outside its sample: baselines.Multivariate.Axes),
// u = V^T (z - mean), and their squares. A linear classifier on the
// scores sees shifted means; on their squares, a changed spread along an
// axis, which is what a change in the correlation of two features is in
// the reference's axes (a correlation of +0.8 turned to -0.8 swaps the
// variances 1.8 and 0.2 of their sum and their difference).
func classifierDesign(pca *multivariate.PCA, z []float64, n int) []float64 {
	d := len(pca.Mean)
	out := make([]float64, n*2*d)
	for i := range n {
		row, o := z[i*d:(i+1)*d], out[i*2*d:(i+1)*2*d]
		for k, v := range pca.Components {
			var u float64
			for j, x := range row {
				u += v[j] * (x - pca.Mean[j])
			}
			o[k], o[d+k] = u, u*u
		}
	}
	return out
}

// reconstructionThreshold returns the threshold of the mean
// reconstruction error of n sampled rows, and its source. It is the larger
// of two readings of the reference's errors (their cross-fitted errors,
// baselines.Multivariate.BlockErrors, in blocks of ErrorBlock rows; m =
// round(n/ErrorBlock) blocks make a chunk of about n rows):
//
//   - NannyML's rule over consecutive chunks: their mean error plus sigmas
//     standard deviations (divisor the number of chunks), which tolerates
//     a reference whose rows wander over time;
//   - the level a random chunk of m blocks exceeds with the one-sided
//     normal tail probability of sigmas (0.00135 for 3), estimated from
//     resampleDraws random chunks (seeded): a mean of errors of
//     heavy-tailed features is skewed to the right (one extreme row in a
//     window lifts its mean by its error over n), and a mean plus 3
//     standard deviations of it is then exceeded more often than its
//     normal rate.
//
// The deviations from the chunks' mean are scaled by sqrt(m * ErrorBlock /
// n) from the chunk's size to the window's (errors of independent rows);
// SourceCalibrated. With fewer than minChunks consecutive chunks, the
// fitted rows' mean error plus sigmas times their standard deviation over
// sqrt(n); SourceStaticFallback.
func (e *Evaluator) reconstructionThreshold(mv *baselines.Multivariate, n int, sigmas float64, minChunks int) (float64, string) {
	mean, sd, m, ok := chunkErrors(mv.BlockErrors, n, minChunks)
	if !ok {
		return mv.ErrorMean + sigmas*mv.ErrorStd/math.Sqrt(float64(n)), SourceStaticFallback
	}
	scale := math.Sqrt(float64(m*baselines.ErrorBlock) / float64(n))
	return mean + max(sigmas*sd, e.level(mv, m, sigmas)-mean)*scale, SourceCalibrated
}

// levelKey names a resampled level: of a baseline's model, chunks of m
// blocks, at sigmas.
type levelKey struct {
	mv     *baselines.Multivariate
	m      int
	sigmas float64
}

// maxLevels bounds the Evaluator's cache of resampled levels (baselines
// come and go: it is emptied when full).
const maxLevels = 10_000

// level returns resampledQuantile of mv's blocks for chunks of m blocks
// at the normal tail probability of sigmas, computed once per baseline
// model, m and sigmas (about 5 ms) and kept.
func (e *Evaluator) level(mv *baselines.Multivariate, m int, sigmas float64) float64 {
	k := levelKey{mv, m, sigmas}
	e.mu.Lock()
	q, ok := e.levels[k]
	e.mu.Unlock()
	if ok {
		return q
	}
	q = resampledQuantile(mv.BlockErrors, m, 0.5*math.Erfc(sigmas/math.Sqrt2))
	e.mu.Lock()
	if e.levels == nil || len(e.levels) >= maxLevels {
		e.levels = make(map[levelKey]float64)
	}
	e.levels[k] = q
	e.mu.Unlock()
	return q
}

// resampleDraws is how many random chunks resampledQuantile draws: about
// 27 of them beyond the 3-sigma level.
const resampleDraws = 20_000

// resampledQuantile returns the value the mean of m blocks drawn at
// random (without replacement within a draw) from blocks exceeds with
// probability tail, from resampleDraws draws seeded by a constant (so
// every instance computes the same threshold).
func resampledQuantile(blocks []float64, m int, tail float64) float64 {
	rng := rand.New(rand.NewPCG(uint64(len(blocks)), uint64(m)))
	means := make([]float64, resampleDraws)
	idx := make([]int, len(blocks))
	for i := range idx {
		idx[i] = i
	}
	for d := range means {
		var s float64
		for k := range m { // a partial Fisher-Yates shuffle: m distinct blocks
			j := k + rng.IntN(len(idx)-k)
			idx[k], idx[j] = idx[j], idx[k]
			s += blocks[idx[k]]
		}
		means[d] = s / float64(m)
	}
	slices.Sort(means)
	return means[min(len(means)-1, int(math.Ceil((1-tail)*float64(len(means))))-1)]
}

// chunkErrors returns the mean and standard deviation (divisor the count)
// of the mean errors of consecutive chunks of m blocks of blocks (each the
// mean of baselines.ErrorBlock rows), m = max(1, round(n/ErrorBlock)), an
// incomplete last chunk left out; false when there are fewer than
// minChunks chunks.
func chunkErrors(blocks []float64, n, minChunks int) (mean, sd float64, m int, ok bool) {
	m = max(1, int(math.Round(float64(n)/baselines.ErrorBlock)))
	chunks := len(blocks) / m
	if chunks < max(minChunks, 2) {
		return 0, 0, m, false
	}
	vals := make([]float64, chunks)
	for c := range vals {
		var s float64
		for _, e := range blocks[c*m : (c+1)*m] {
			s += e
		}
		vals[c] = s / float64(m)
		mean += vals[c]
	}
	mean /= float64(chunks)
	for _, v := range vals {
		sd += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(sd / float64(chunks)), m, true
}
