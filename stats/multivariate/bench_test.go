package multivariate

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkClassifierTest is the domain classifier of one window at the
// defaults: 500 window rows against 500 reference rows, 9 features
// expanded to 18 columns (their principal-axis scores and squares), 5
// folds, 99 permutations at alpha 0.05: "stable" (no difference) stops
// after a few permutations, "drifted" (a shift of 1 sd in one column)
// after 20 (sure), and "bound" runs all 99 (alpha 0: the cost bound, as a
// window whose AUC is just past its permutations' pays).
func BenchmarkClassifierTest(b *testing.B) {
	for _, c := range []struct {
		name  string
		shift float64
		alpha float64
	}{{"stable", 0, 0.05}, {"drifted", 1, 0.05}, {"bound", 1, 0}} {
		b.Run(c.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			x, y := twoSamples(rng, 500, 18, c.shift)
			test := ClassifierTest{Folds: 5, Permutations: 99, C: 1, Alpha: c.alpha}
			b.ReportAllocs()
			var perms int
			for i := 0; b.Loop(); i++ {
				test.Seed = uint64(i)
				r, err := test.Run(x, 500, y, 500, 18)
				if err != nil {
					b.Fatal(err)
				}
				perms += r.Permutations
			}
			b.ReportMetric(float64(perms)/float64(b.N), "permutations/op")
		})
	}
}

// BenchmarkReconstructionError is one row's error from 6 of 9 components.
func BenchmarkReconstructionError(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, d = 2000, 9
	x := make([]float64, n*d)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	p, err := FitPCA(x, n, d)
	if err != nil {
		b.Fatal(err)
	}
	scratch := make([]float64, d)
	b.ReportAllocs()
	var s float64
	for i := 0; b.Loop(); i++ {
		s += p.ReconstructionError(x[(i%n)*d:(i%n+1)*d], 6, scratch)
	}
	_ = s
}
