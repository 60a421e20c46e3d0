package multivariate

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/driftwatch/driftwatch/internal/goldenjson"
)

// classifierGolden mirrors testdata/golden/classifier.json, written by
// testdata/golden/gen_classifier.py from scikit-learn.
type classifierGolden struct {
	Versions map[string]string `json:"versions"`
	Cases    []struct {
		Name  string
		X     goldenjson.Floats
		P     int
		Y     goldenjson.Floats
		Folds []int
		K     int
		C     float64
		Coefs [][]goldenjson.Float
		AUCs  []goldenjson.Float `json:"aucs"`
		AUC   float64            `json:"auc"`
	} `json:"cases"`
}

// TestClassifierGolden: the pooled standardization, the fits and the
// cross-validated AUC against scikit-learn's StandardScaler,
// LogisticRegression (newton-cholesky, tol 1e-12) and roc_auc_score on
// the same folds. Coefficients agree within 1e-6 (absolute, on the
// standardized columns: both minimize the same strictly convex objective,
// each to its own tolerance; a near-separable case with C = 100 has
// coefficients near 10) and AUCs within 1e-9 (the rows' order is the same:
// no two held-out rows' logits are within 1e-6 of each other in these
// cases, so equal coefficients up to that order the same pairs).
func TestClassifierGolden(t *testing.T) {
	data, err := os.ReadFile("testdata/golden/classifier.json")
	if err != nil {
		t.Fatal(err)
	}
	var g classifierGolden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) < 10 {
		t.Fatalf("%d cases", len(g.Cases))
	}
	for _, c := range g.Cases {
		n := len(c.Y)
		x := append([]float64(nil), c.X...)
		if len(x) != n*c.P || len(c.Folds) != n {
			t.Fatalf("%s: %d values, %d folds for %d rows of %d", c.Name, len(x), len(c.Folds), n, c.P)
		}
		Standardize(x, n, c.P)
		cv := newCrossVal(x, n, c.P, c.Folds, c.K, c.C)
		got := cv.auc(c.Y)
		if math.Abs(got-c.AUC) > 1e-9 {
			t.Errorf("%s: AUC %.12f, sklearn %.12f", c.Name, got, c.AUC)
		}
		for f := range c.K {
			w := cv.coefs[f]
			if len(w) != len(c.Coefs[f]) {
				t.Fatalf("%s fold %d: %d coefficients, sklearn %d", c.Name, f, len(w), len(c.Coefs[f]))
			}
			for j := range w {
				if d := math.Abs(w[j] - float64(c.Coefs[f][j])); d > 1e-6 {
					t.Errorf("%s fold %d coefficient %d: %.9f, sklearn %.9f", c.Name, f, j, w[j], float64(c.Coefs[f][j]))
				}
			}
			fd := &cv.folds[f]
			Scores(fd.xTest, len(fd.test), c.P, w, cv.scores)
			var ys []float64
			for _, i := range fd.test {
				ys = append(ys, c.Y[i])
			}
			if a := AUC(cv.idx[:len(fd.test)], cv.scores, ys, nil); math.Abs(a-float64(c.AUCs[f])) > 1e-9 {
				t.Errorf("%s fold %d: AUC %.12f, sklearn %.12f", c.Name, f, a, float64(c.AUCs[f]))
			}
		}
	}
}

// TestAUC: Mann-Whitney with ties counting one half, against counting
// every pair.
func TestAUC(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		n := 2 + rng.IntN(40)
		scores, y := make([]float64, n), make([]float64, n)
		rows := make([]int, n)
		for i := range n {
			scores[i] = float64(rng.IntN(6)) // many ties
			if rng.IntN(3) == 0 {
				y[i] = 1
			}
			rows[i] = i
		}
		var right, pairs float64
		for i := range n {
			for j := range n {
				if y[i] == 1 && y[j] == 0 {
					pairs++
					switch {
					case scores[i] > scores[j]:
						right++
					case scores[i] == scores[j]:
						right += 0.5
					}
				}
			}
		}
		got := AUC(rows, scores, y, nil)
		if pairs == 0 {
			if !math.IsNaN(got) {
				t.Errorf("trial %d: AUC %v with one class, want NaN", trial, got)
			}
			continue
		}
		if want := right / pairs; math.Abs(got-want) > 1e-12 {
			t.Errorf("trial %d: AUC %v, want %v", trial, got, want)
		}
	}
}

// twoSamples draws n rows of d standard normal columns for a and b, b's
// first column shifted by shift.
func twoSamples(rng *rand.Rand, n, d int, shift float64) (a, b []float64) {
	a, b = make([]float64, n*d), make([]float64, n*d)
	for i := range a {
		a[i] = rng.NormFloat64()
		b[i] = rng.NormFloat64()
	}
	for i := range n {
		b[i*d] += shift
	}
	return a, b
}

// TestClassifierTestCalibrated: with no difference, p < 0.05 in about 5%
// of the trials (the permutation test is exact: at most 5%, and not far
// below with 99 permutations); with a shift of 0.7 standard deviations (an AUC of 0.69 at best)
// in one of five columns, in nearly all. The permutations stop early with
// no difference.
func TestClassifierTestCalibrated(t *testing.T) {
	if testing.Short() {
		t.Skip("200 permutation tests")
	}
	rng := rand.New(rand.NewPCG(7, 8))
	test := ClassifierTest{Folds: 5, Permutations: 99, C: 1, Alpha: 0.05}
	const trials = 160
	var rejected, perms int
	for trial := range trials {
		a, b := twoSamples(rng, 150, 5, 0)
		test.Seed = uint64(trial)
		r, err := test.Run(a, 150, b, 150, 5)
		if err != nil {
			t.Fatal(err)
		}
		if r.P < 0.05 {
			rejected++
			if !r.Complete {
				t.Errorf("trial %d: p %v from %d permutations, not all", trial, r.P, r.Permutations)
			}
		}
		perms += r.Permutations
	}
	// Binomial(160, 0.05): mean 8, sd 2.8; the bound is exact only up to
	// the p-value's granularity (1/100).
	if rejected > 16 || rejected < 2 {
		t.Errorf("no difference: rejected in %d of %d trials, want about 8", rejected, trials)
	}
	if mean := float64(perms) / trials; mean > 30 {
		// (printed below)
		t.Errorf("no difference: %.1f permutations a test, want early stops (about 10-20)", mean)
	}
	t.Logf("no difference: rejected in %d of %d, %.1f permutations a test", rejected, trials, float64(perms)/trials)
	var caught int
	for trial := range 20 {
		a, b := twoSamples(rng, 150, 5, 0.7)
		test.Seed = uint64(trial)
		r, err := test.Run(a, 150, b, 150, 5)
		if err != nil {
			t.Fatal(err)
		}
		if r.P < 0.05 && r.AUC > 0.55 {
			caught++
		}
		if r.Sure && (r.Permutations != 20 || r.Exceeded != 0 || r.P != 1.0/21) {
			t.Errorf("trial %d: stopped sure after %d permutations, %d reaching the AUC, p %v", trial, r.Permutations, r.Exceeded, r.P)
		}
	}
	if caught < 18 {
		t.Errorf("shift of 0.7 sd: caught in %d of 20, want nearly all", caught)
	}
}

// TestClassifierTestDeterministic: the same seed gives the same result;
// another seed, other folds.
func TestClassifierTestDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	a, b := twoSamples(rng, 100, 3, 0.3)
	test := ClassifierTest{Folds: 5, Permutations: 30, C: 1, Seed: 42}
	r1, err := test.Run(a, 100, b, 100, 3)
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := test.Run(a, 100, b, 100, 3)
	if r1 != r2 {
		t.Errorf("same seed: %+v then %+v", r1, r2)
	}
	test.Seed = 43
	r3, _ := test.Run(a, 100, b, 100, 3)
	if r3.AUC == r1.AUC {
		t.Errorf("another seed gave the same AUC %v", r1.AUC)
	}
	if !r1.Complete || r1.Permutations != 30 {
		t.Errorf("alpha 0 ran %d permutations, complete %v; want all 30", r1.Permutations, r1.Complete)
	}
}

// TestLogisticConverges: on separable rows (where the MM steps crawl) the
// fit still reaches the optimum: the gradient vanishes, to the tolerance.
func TestLogisticConverges(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	n, p := 200, 3
	x, y := make([]float64, n*p), make([]float64, n)
	for i := range n {
		for j := range p {
			x[i*p+j] = rng.NormFloat64()
		}
		if i%2 == 0 {
			y[i] = 1
			x[i*p] += 5
		}
	}
	for _, c := range []float64{0.01, 1, 1e4} {
		l := NewLogistic(x, n, p, c)
		if _, ok := l.Fit(y); !ok {
			t.Fatalf("C %v: not converged", c)
		}
		l.gradient(y)
		// A last step below DefaultTol leaves a gradient of about the
		// Hessian's scale (at most n/4 + 1/C) times it.
		for j, g := range l.g {
			if bound := 10 * DefaultTol * (float64(n)/4 + 1/c); math.Abs(g) > bound {
				t.Errorf("C %v: gradient %d is %v at the fit, above %v", c, j, g, bound)
			}
		}
	}
}

// TestClassifierTestStopsWhenSure: a large difference stops after 20
// permutations (none reaching the AUC, which is far above them) with
// p = 1/21; without Alpha every permutation runs.
func TestClassifierTestStopsWhenSure(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	a, b := twoSamples(rng, 200, 4, 1.5)
	test := ClassifierTest{Folds: 5, Permutations: 99, C: 1, Alpha: 0.05, Seed: 1}
	r, err := test.Run(a, 200, b, 200, 4)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Sure || r.Permutations != 20 || r.Exceeded != 0 || r.P != 1.0/21 || r.Complete {
		t.Errorf("a shift of 1.5 sd: %+v, want a sure stop after 20 permutations, p 1/21", r)
	}
	test.Alpha = 0
	if r, _ := test.Run(a, 200, b, 200, 4); r.Sure || r.Permutations != 99 || r.P != 0.01 {
		t.Errorf("without alpha: %+v, want all 99 permutations, p 1/100", r)
	}
}

// TestClassifierTestMinAUC: below MinAUC no permutation runs and P is
// NaN; at or above it, and with MinAUC 0, they run as before.
func TestClassifierTestMinAUC(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x, y := twoSamples(rng, 300, 6, 0)
	base := ClassifierTest{Folds: 5, Permutations: 99, C: 1, Alpha: 0.05}
	all, err := base.Run(x, 300, y, 300, 6)
	if err != nil || all.Permutations == 0 || math.IsNaN(all.P) {
		t.Fatalf("without a floor: %+v, %v", all, err)
	}
	above := base
	above.MinAUC = all.AUC + 0.01
	got, err := above.Run(x, 300, y, 300, 6)
	if err != nil || got.AUC != all.AUC || got.Permutations != 0 || !math.IsNaN(got.P) {
		t.Errorf("AUC %v below the floor %v: %+v, %v; want the same AUC, no permutations, P NaN", all.AUC, above.MinAUC, got, err)
	}
	at := base
	at.MinAUC = all.AUC
	if got, err := at.Run(x, 300, y, 300, 6); err != nil || got != all {
		t.Errorf("AUC at the floor: %+v, %v; want %+v", got, err, all)
	}
}
