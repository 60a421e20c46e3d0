package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestMoments(t *testing.T) {
	tests := []struct {
		name          string
		xs            []float64
		n, mean, vari float64
	}{
		{name: "empty", xs: nil, n: 0, mean: 0, vari: math.NaN()},
		{name: "single", xs: []float64{3}, n: 1, mean: 3, vari: 0},
		// Textbook example: mean 5, population variance 4.
		{name: "eight values", xs: []float64{2, 4, 4, 4, 5, 5, 7, 9}, n: 8, mean: 5, vari: 4},
		{name: "constant", xs: []float64{1e9 + 0.5, 1e9 + 0.5, 1e9 + 0.5}, n: 3, mean: 1e9 + 0.5, vari: 0},
		// Large offset: a naive sum-of-squares formula loses all digits here.
		{name: "large offset", xs: []float64{1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16}, n: 4, mean: 1e9 + 10, vari: 22.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m Moments
			for _, x := range tt.xs {
				m.Add(x)
			}
			if m.N != tt.n || !near(m.Mean, tt.mean) || !near(m.Variance(), tt.vari) || !near(m.Std(), math.Sqrt(tt.vari)) {
				t.Errorf("got N=%g mean=%.17g var=%.17g std=%.17g, want N=%g mean=%.17g var=%.17g",
					m.N, m.Mean, m.Variance(), m.Std(), tt.n, tt.mean, tt.vari)
			}
		})
	}
}

func TestMomentsMergeEmpty(t *testing.T) {
	var a Moments
	for _, x := range []float64{1, 2, 4} {
		a.Add(x)
	}
	var empty Moments
	got := a
	got.Merge(empty)
	if got != a {
		t.Errorf("a.Merge(empty) = %+v, want %+v", got, a)
	}
	got = empty
	got.Merge(a)
	if got != a {
		t.Errorf("empty.Merge(a) = %+v, want %+v", got, a)
	}
}

// momentsNear compares two Moments up to float rounding. Every deviation
// x - Mean carries an error of about eps*|Mean|, so M2 = sum (x - Mean)^2 is
// only determined to about 2*N*eps*|Mean|*std whatever the update order;
// the tolerance allows 8 times that, plus a relative 1e-12.
func momentsNear(a, b Moments) bool {
	const eps = 0x1p-52
	m2Tol := 1e-12*math.Abs(b.M2) + 16*b.N*eps*math.Abs(b.Mean)*math.Sqrt(b.M2/max(b.N, 1))
	return a.N == b.N && math.Abs(a.Mean-b.Mean) <= 1e-12*(1+math.Abs(b.Mean)) &&
		math.Abs(a.M2-b.M2) <= m2Tol
}

func merged(a, b Moments) Moments {
	a.Merge(b)
	return a
}

// TestMomentsMergeProperties checks on random streams that Merge is
// commutative and associative up to rounding and matches one-pass Add, for
// any split of the stream and any merge order.
func TestMomentsMergeProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for iter := range 500 {
		loc := (rng.Float64() - 0.5) * math.Pow(10, float64(rng.IntN(7)))
		scale := math.Pow(10, float64(rng.IntN(5)-2))
		xs := make([]float64, rng.IntN(200))
		for i := range xs {
			xs[i] = loc + scale*rng.NormFloat64()
		}
		var whole Moments
		for _, x := range xs {
			whole.Add(x)
		}

		// Split into random contiguous chunks (some empty) and merge them
		// in a random order.
		var parts []Moments
		for start := 0; start <= len(xs); {
			end := start + rng.IntN(len(xs)-start+1)
			var p Moments
			for _, x := range xs[start:end] {
				p.Add(x)
			}
			parts = append(parts, p)
			if end == len(xs) {
				break
			}
			start = end
		}
		rng.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
		var acc Moments
		for _, p := range parts {
			acc.Merge(p)
		}
		if !momentsNear(acc, whole) {
			t.Fatalf("iteration %d: merged %d parts %+v, one pass %+v", iter, len(parts), acc, whole)
		}

		if len(parts) >= 3 {
			a, b, c := parts[0], parts[1], parts[2]
			if ab, ba := merged(a, b), merged(b, a); !momentsNear(ab, ba) {
				t.Fatalf("iteration %d: not commutative: %+v vs %+v", iter, ab, ba)
			}
			if l, r := merged(merged(a, b), c), merged(a, merged(b, c)); !momentsNear(l, r) {
				t.Fatalf("iteration %d: not associative: %+v vs %+v", iter, l, r)
			}
		}
	}
}
