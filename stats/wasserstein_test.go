package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestWasserstein(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name  string
		u, uw []float64
		v, vw []float64
		want  float64
	}{
		// Examples from the scipy.stats.wasserstein_distance documentation.
		{name: "shift", u: []float64{0, 1, 3}, v: []float64{5, 6, 8}, want: 5},
		{name: "weighted", u: []float64{0, 1}, uw: []float64{3, 1}, v: []float64{0, 1}, vw: []float64{2, 2}, want: 0.25},
		{name: "identical unsorted", u: []float64{3, 1, 2, 2}, v: []float64{2, 2, 1, 3}, want: 0},
		{name: "single points", u: []float64{2.5}, v: []float64{-1}, want: 3.5},
		// Mass 1/2 moves from 0 to 10.
		{name: "half mass moves", u: []float64{0, 0}, v: []float64{0, 10}, want: 5},
		{name: "ones equal nil weights", u: []float64{0, 1, 3}, uw: []float64{1, 1, 1}, v: []float64{5, 6, 8}, want: 5},
		{name: "weights scale free", u: []float64{0, 1, 3}, uw: []float64{7, 7, 7}, v: []float64{5, 6, 8}, vw: []float64{0.5, 0.5, 0.5}, want: 5},
		// Zero-weight atoms do not count: u is the point mass at 0.
		{name: "zero weight atom", u: []float64{0, 100}, uw: []float64{1, 0}, v: []float64{2}, want: 2},
		{name: "empty u", u: nil, v: []float64{1}, want: nan},
		{name: "zero total weight", u: []float64{1, 2}, uw: []float64{0, 0}, v: []float64{1}, want: nan},
		{name: "negative weight", u: []float64{1, 2}, uw: []float64{2, -1}, v: []float64{1}, want: nan},
		{name: "NaN value", u: []float64{1}, v: []float64{nan, 1}, want: nan},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, uw, v, vw := slices.Clone(tt.u), slices.Clone(tt.uw), slices.Clone(tt.v), slices.Clone(tt.vw)
			got := Wasserstein(u, uw, v, vw)
			if !near(got, tt.want) {
				t.Errorf("Wasserstein(%v, %v, %v, %v) = %.17g, want %.17g", tt.u, tt.uw, tt.v, tt.vw, got, tt.want)
			}
			if back := Wasserstein(v, vw, u, uw); !near(back, got) {
				t.Errorf("Wasserstein not symmetric: %.17g one way, %.17g the other", got, back)
			}
			if !sameBits(u, tt.u) || !sameBits(uw, tt.uw) || !sameBits(v, tt.v) || !sameBits(vw, tt.vw) {
				t.Errorf("Wasserstein modified its inputs")
			}
		})
	}
}

// TestWassersteinShift checks W1(u + c, u) = |c| and translation invariance
// on random samples.
func TestWassersteinShift(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 50 {
		u := make([]float64, 1+rng.IntN(100))
		for i := range u {
			u[i] = rng.NormFloat64()
		}
		c := rng.Float64()*4 - 2
		shifted := make([]float64, len(u))
		for i, x := range u {
			shifted[i] = x + c
		}
		if got := Wasserstein(u, nil, shifted, nil); math.Abs(got-math.Abs(c)) > 1e-12 {
			t.Fatalf("W1(u, u%+g) = %.17g, want %.17g", c, got, math.Abs(c))
		}
	}
}

func TestWassersteinPanicsOnWeightMismatch(t *testing.T) {
	mustPanic(t, "u weights", func() { Wasserstein([]float64{1, 2}, []float64{1}, []float64{1}, nil) })
	mustPanic(t, "v weights", func() { Wasserstein([]float64{1}, nil, []float64{1}, []float64{}) })
}

func BenchmarkWasserstein(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{100, 1000, 10000} {
		u, v := make([]float64, n), make([]float64, n)
		uw, vw := make([]float64, n), make([]float64, n)
		for i := range n {
			u[i], v[i] = rng.NormFloat64(), rng.NormFloat64()+0.1
			uw[i], vw[i] = rng.ExpFloat64(), rng.ExpFloat64()
		}
		b.Run(fmt.Sprintf("n=%d/unweighted", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(16 * n))
			for b.Loop() {
				Wasserstein(u, nil, v, nil)
			}
		})
		b.Run(fmt.Sprintf("n=%d/weighted", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(32 * n))
			for b.Loop() {
				Wasserstein(u, uw, v, vw)
			}
		})
	}
}
