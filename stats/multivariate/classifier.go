package multivariate

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// AUC returns the ROC AUC of scores against 0/1 labels (both indexed by
// row) over rows: the share of (positive, negative) pairs the scores
// order right, ties counting one half (the Mann-Whitney U over the product
// of the class sizes; sklearn.metrics.roc_auc_score). NaN when rows lack a
// class. order is scratch of room for len(rows), or nil.
func AUC(rows []int, scores, y []float64, order []int) float64 {
	order = append(order[:0], rows...)
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(scores[a], scores[b]) })
	var pos, neg, rankSum float64
	for i := 0; i < len(order); {
		j := i + 1
		for j < len(order) && scores[order[j]] == scores[order[i]] {
			j++
		}
		mid := float64(i+j+1) / 2 // mid-rank of ranks i+1 .. j
		for _, r := range order[i:j] {
			if y[r] == 1 {
				pos++
				rankSum += mid
			} else {
				neg++
			}
		}
		i = j
	}
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

// ClassifierTest tells two samples apart with a logistic regression (see
// the package doc): its Run returns the cross-validated ROC AUC and a
// permutation p-value.
type ClassifierTest struct {
	Folds        int     // K, at least 2
	Permutations int     // B; 0: no p-value
	C            float64 // inverse penalty strength (sklearn's C), > 0
	// Alpha: the permutations stop once p cannot fall below it; 0 runs
	// them all.
	Alpha float64
	// Seed seeds the folds and the permutations: the same seed and rows
	// give the same result.
	Seed uint64
	// MinAUC: no permutations (P NaN) for an AUC below it, which a caller
	// that requires it judges without a p-value; 0 runs them for any AUC.
	MinAUC float64
}

// ClassifierResult is what ClassifierTest.Run found.
type ClassifierResult struct {
	// AUC is the mean of the folds' held-out ROC AUCs.
	AUC float64
	// P is (1 + Exceeded) / (1 + Permutations), NaN without permutations.
	P float64
	// Permutations run, and how many of them reached an AUC at least AUC.
	Permutations, Exceeded int
	// Complete: every configured permutation ran (none stopped early).
	Complete bool
	// Sure: the permutations stopped early because the AUC was far beyond
	// them (P = 1/(1 + Permutations) < Alpha).
	Sure bool
}

// Run tests whether the na rows of a and the nb rows of b (d columns each,
// row-major, finite) come from one distribution. Each sample needs at
// least Folds rows.
//
// With Alpha set, the permutations stop early in two cases, so that
// neither a stable nor a clearly drifted window costs all of them: once
// (1 + exceeded)/(1 + B) >= Alpha, whatever the rest would do (the
// p-value reported is then (1 + exceeded)/(1 + run), at least Alpha:
// Besag and Clifford's sequential p-value); and after the first
// b = floor(1/Alpha) permutations (20 at 0.05) when none reached the AUC
// and it lies SureSigmas of their standard deviations above their mean:
// p = 1/(1 + b) < Alpha. The test's level: a full run rejects with
// probability at most the largest (1 + e)/(1 + B) below Alpha (4% at
// B = 99); the early stop adds the chance that, with no difference, the
// AUC tops its first b permutations by SureSigmas of their standard
// deviations, which is small (TestClassifierTestCalibrated counts both:
// rejections in 3 of 160 tests with no difference).
func (t ClassifierTest) Run(a []float64, na int, b []float64, nb int, d int) (ClassifierResult, error) {
	if t.Folds < 2 || !(t.C > 0) || t.Permutations < 0 {
		return ClassifierResult{}, fmt.Errorf("classifier test: folds %d, C %v, permutations %d", t.Folds, t.C, t.Permutations)
	}
	if na < t.Folds || nb < t.Folds || d < 1 || len(a) != na*d || len(b) != nb*d {
		return ClassifierResult{}, errNoRows
	}
	n := na + nb
	x := make([]float64, 0, n*d)
	x = append(append(x, a...), b...)
	Standardize(x, n, d)
	y := make([]float64, n)
	for i := na; i < n; i++ {
		y[i] = 1
	}
	rng := rand.New(rand.NewPCG(t.Seed, 0x6d756c7469766172)) // "multivar"
	folds := make([]int, n)
	for i, j := range rng.Perm(n) {
		folds[j] = i % t.Folds
	}
	cv := newCrossVal(x, n, d, folds, t.Folds, t.C)
	res := ClassifierResult{AUC: cv.auc(y), P: math.NaN()}
	if t.Permutations == 0 || math.IsNaN(res.AUC) || res.AUC < t.MinAUC {
		return res, nil
	}
	// Stop once (1 + exceeded)/(1 + B) >= alpha whatever the rest do; and
	// once p = 1/(1 + b) < alpha with the AUC far beyond every permutation
	// so far (see ClassifierTest.Run).
	stop, sure := t.Permutations+1, t.Permutations+1
	if t.Alpha > 0 {
		stop = int(math.Ceil(t.Alpha*float64(t.Permutations+1)-1e-9)) - 1
		sure = int(math.Floor(1 / t.Alpha)) // the fewest b with 1/(1+b) < alpha
	}
	perm := slices.Clone(y)
	var mean, m2 float64 // of the permutations' AUCs (Welford)
	for res.Permutations < t.Permutations {
		rng.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		res.Permutations++
		v := cv.auc(perm)
		if v >= res.AUC {
			res.Exceeded++
		}
		d := v - mean
		mean += d / float64(res.Permutations)
		m2 += d * (v - mean)
		if res.Permutations == t.Permutations {
			break
		}
		if res.Exceeded >= max(stop, 1) {
			break
		}
		if res.Exceeded == 0 && res.Permutations == sure && res.AUC-mean >= SureSigmas*math.Sqrt(m2/float64(res.Permutations-1)) {
			res.Sure = true
			break
		}
	}
	res.Complete = res.Permutations == t.Permutations
	res.P = float64(1+res.Exceeded) / float64(1+res.Permutations)
	return res, nil
}

// SureSigmas is how far (in the permutations' standard deviations) above
// their mean the first floor(1/alpha) permutations must leave the AUC for
// ClassifierTest.Run to stop there.
const SureSigmas = 4

// Standardize centres every column of the n x d rows x on its mean and
// divides it by its standard deviation (divisor n: sklearn's
// StandardScaler); a constant column becomes 0.
func Standardize(x []float64, n, d int) {
	for j := range d {
		var s float64
		for i := range n {
			s += x[i*d+j]
		}
		mean := s / float64(n)
		var ss float64
		for i := range n {
			v := x[i*d+j] - mean
			ss += v * v
		}
		sd := math.Sqrt(ss / float64(n))
		for i := range n {
			if sd > 0 {
				x[i*d+j] = (x[i*d+j] - mean) / sd
			} else {
				x[i*d+j] = 0
			}
		}
	}
}

// crossVal is K-fold cross-validation of the logistic regression on a
// fixed design and fold split: per fold, its training rows and held-out
// rows copied into contiguous blocks, and a Logistic on the training rows
// (with its Hessian's bound factorized), computed once for any labels.
type crossVal struct {
	p      int
	folds  []fold
	yTrain []float64 // scratch: a fold's training labels
	yTest  []float64
	scores []float64
	order  []int
	idx    []int
	// coefs holds, per fold, the last auc call's coefficients (intercept
	// first; nil for a fold skipped), for tests.
	coefs [][]float64
}

type fold struct {
	train, test []int     // row numbers
	xTest       []float64 // the held-out rows, contiguous
	l           *Logistic // on the training rows, contiguous
}

func newCrossVal(x []float64, n, p int, folds []int, k int, c float64) *crossVal {
	cv := &crossVal{p: p, folds: make([]fold, k), yTrain: make([]float64, n), yTest: make([]float64, n),
		scores: make([]float64, n), order: make([]int, 0, n), idx: make([]int, n), coefs: make([][]float64, k)}
	for i := range cv.idx {
		cv.idx[i] = i
	}
	for i, f := range folds {
		cv.folds[f].test = append(cv.folds[f].test, i)
		for g := range k {
			if g != f {
				cv.folds[g].train = append(cv.folds[g].train, i)
			}
		}
	}
	for f := range cv.folds {
		fd := &cv.folds[f]
		fd.xTest = gather(x, p, fd.test)
		if len(fd.train) > 0 {
			fd.l = NewLogistic(gather(x, p, fd.train), len(fd.train), p, c)
		}
	}
	return cv
}

// gather copies the rows of the n x p x into a contiguous block.
func gather(x []float64, p int, rows []int) []float64 {
	out := make([]float64, 0, len(rows)*p)
	for _, i := range rows {
		out = append(out, x[i*p:(i+1)*p]...)
	}
	return out
}

// auc returns the mean of the folds' held-out AUCs for labels y, over the
// folds whose training and held-out rows hold both labels (NaN when none
// does).
func (cv *crossVal) auc(y []float64) float64 {
	var sum float64
	var m int
	for f := range cv.folds {
		fd := &cv.folds[f]
		yt, ys := cv.yTrain[:len(fd.train)], cv.yTest[:len(fd.test)]
		for j, i := range fd.train {
			yt[j] = y[i]
		}
		for j, i := range fd.test {
			ys[j] = y[i]
		}
		if !bothLabels(yt) || !bothLabels(ys) {
			cv.coefs[f] = nil
			continue
		}
		w, _ := fd.l.Fit(yt)
		cv.coefs[f] = append(cv.coefs[f][:0], w...)
		Scores(fd.xTest, len(fd.test), cv.p, w, cv.scores)
		sum += AUC(cv.idx[:len(fd.test)], cv.scores, ys, cv.order)
		m++
	}
	if m == 0 {
		return math.NaN()
	}
	return sum / float64(m)
}

func bothLabels(y []float64) bool {
	var one, zero bool
	for _, v := range y {
		if v == 1 {
			one = true
		} else {
			zero = true
		}
		if one && zero {
			return true
		}
	}
	return false
}
