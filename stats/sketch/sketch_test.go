package sketch

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestNewValidation(t *testing.T) {
	tests := []struct {
		alpha   float64
		buckets int
		ok      bool
	}{
		{0.01, 2048, true},
		{MinRelAccuracy, 2, true},
		{MaxRelAccuracy, MaxMaxBuckets, true},
		{0, 100, false},
		{-0.01, 100, false},
		{0.6, 100, false},
		{math.NaN(), 100, false},
		{1e-7, 100, false},
		{0.01, 1, false},
		{0.01, MaxMaxBuckets + 1, false},
	}
	for _, tc := range tests {
		_, err := NewWithMaxBuckets(tc.alpha, tc.buckets)
		if (err == nil) != tc.ok {
			t.Errorf("NewWithMaxBuckets(%g, %d) error = %v, want ok=%v", tc.alpha, tc.buckets, err, tc.ok)
		}
	}
}

func TestSpecialValues(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		name        string
		in          []float64
		count, nan  uint64
		min, max    float64
		q0, q50, q1 float64
		cdf0        float64
	}{
		{"empty", nil, 0, 0, math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()},
		{"only_nan", []float64{math.NaN(), math.NaN()}, 0, 2, math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()},
		{"zeros", []float64{0, math.Copysign(0, -1), 5e-324}, 3, 0, math.Copysign(0, -1), 5e-324, math.Copysign(0, -1), 0, 5e-324, 1},
		{"infs", []float64{inf, -inf, 1, math.NaN()}, 3, 1, -inf, inf, -inf, 1, inf, 1.0 / 3},
		{"extremes", []float64{math.MaxFloat64, -math.MaxFloat64}, 2, 0, -math.MaxFloat64, math.MaxFloat64, -math.MaxFloat64, -math.MaxFloat64, math.MaxFloat64, 0.5},
		{"single", []float64{-3}, 1, 0, -3, -3, -3, -3, -3, 1},
	}
	same := func(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := sketchOf(t, 0.01, 0, tc.in)
			q50 := s.Quantile(0.5)
			if !math.IsNaN(tc.q50) && !math.IsInf(tc.q50, 0) {
				// Representative within alpha of the true order statistic.
				if math.Abs(q50-tc.q50) > (0.01+relErrTol)*math.Abs(tc.q50) {
					t.Errorf("Quantile(0.5) = %g, want within 1%% of %g", q50, tc.q50)
				}
				q50 = tc.q50
			}
			got := []float64{float64(s.Count()), float64(s.NaNCount()), s.Min(), s.Max(), s.Quantile(0), q50, s.Quantile(1), s.CDF(0)}
			want := []float64{float64(tc.count), float64(tc.nan), tc.min, tc.max, tc.q0, tc.q50, tc.q1, tc.cdf0}
			for i := range got {
				if !same(got[i], want[i]) {
					t.Errorf("field %d: got %v, want %v (all got %v)", i, got[i], want[i], got)
				}
			}
			if !math.IsNaN(s.Quantile(-0.1)) || !math.IsNaN(s.Quantile(1.1)) || !math.IsNaN(s.Quantile(math.NaN())) {
				t.Errorf("Quantile outside [0,1] not NaN")
			}
		})
	}
}

// relErrTol absorbs the log rounding at bucket edges (doc: below 1e-12
// relative) in the alpha guarantee.
const relErrTol = 1e-12

// TestQuantileGuarantee checks |Q(q) - x_(floor(q(n-1)))| <= alpha |x| on
// every distribution, for a grid of q, and reports the worst ratio to alpha.
func TestQuantileGuarantee(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, alpha := range []float64{0.001, 0.01, 0.05} {
		worst := 0.0
		for _, d := range dists {
			for _, n := range []int{1, 7, 1000, 30000} {
				xs := sample(r, d, n)
				s := sketchOf(t, alpha, 0, xs)
				if s.Collapsed() {
					t.Fatalf("alpha %g %s n=%d: unexpected collapse", alpha, d.name, n)
				}
				slices.Sort(xs)
				prev := math.Inf(-1)
				for qi := 0; qi <= 200; qi++ {
					q := float64(qi) / 200
					got := s.Quantile(q)
					want := xs[int(q*float64(n-1))]
					err := math.Abs(got - want)
					if err > (alpha+relErrTol)*math.Abs(want) {
						t.Fatalf("alpha %g %s n=%d q=%g: got %g want %g (rel err %g)", alpha, d.name, n, q, got, want, err/math.Abs(want))
					}
					if want != 0 {
						worst = max(worst, err/math.Abs(want)/alpha)
					}
					if got < prev {
						t.Fatalf("%s: Quantile not monotone at q=%g: %g < %g", d.name, q, got, prev)
					}
					prev = got
				}
			}
		}
		t.Logf("alpha %g: worst quantile relative error = %.12f * alpha", alpha, worst)
	}
}

// TestCDFBound checks |CDF(x) - F(x)| <= mass of the bucket holding x.
func TestCDFBound(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, d := range dists {
		xs := sample(r, d, 5000)
		s := sketchOf(t, 0.02, 0, xs)
		sorted := slices.Clone(xs)
		slices.Sort(sorted)
		n := float64(len(xs))
		probes := append(sample(r, d, 200), xs[:50]...)
		for _, x := range probes {
			exact := float64(countLE(sorted, x)) / n
			mass := float64(s.bucketCount(x)) / n
			if got := s.CDF(x); math.Abs(got-exact) > mass+1e-12 {
				t.Fatalf("%s: CDF(%g) = %g, exact %g, bucket mass %g", d.name, x, got, exact, mass)
			}
		}
	}
}

func countLE(sorted []float64, x float64) int {
	i, _ := slices.BinarySearchFunc(sorted, x, func(a, b float64) int {
		if a <= b {
			return -1
		}
		return 1
	})
	return i
}

// bucketCount returns the count of the bucket x falls in.
func (s *Sketch) bucketCount(x float64) uint64 {
	switch {
	case x >= minIndexable && x <= math.MaxFloat64:
		return s.pos.at(max(s.m.index(x), s.pos.lo*boolInt(s.pos.collapsed)+math.MinInt*boolInt(!s.pos.collapsed)))
	case x <= -minIndexable && x >= -math.MaxFloat64:
		return s.neg.at(max(s.m.index(-x), s.neg.lo*boolInt(s.neg.collapsed)+math.MinInt*boolInt(!s.neg.collapsed)))
	case math.IsInf(x, 1):
		return s.posInf
	case math.IsInf(x, -1):
		return s.negInf
	}
	return s.zero
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestMergeProperties checks that merging random splits in random orders and
// groupings gives bit-identical encodings (bucket counts, flags, min, max)
// equal to the sketch of the whole, with and without collapsing.
func TestMergeProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, maxB := range []int{8, 64, 0} {
		for _, d := range dists {
			xs := sample(r, d, 3000)
			xs = append(xs, math.NaN(), math.Inf(1), 0, -1e-310)
			whole := sketchOf(t, 0.01, maxB, xs)
			want, _ := whole.MarshalBinary()
			for trial := range 5 {
				r.Shuffle(len(xs), func(i, j int) { xs[i], xs[j] = xs[j], xs[i] })
				k := 1 + r.IntN(9)
				parts := make([]*Sketch, k)
				for i := range parts {
					parts[i] = mustNew(t, 0.01, maxB)
				}
				for _, x := range xs {
					parts[r.IntN(k)].Add(x)
				}
				// Random grouping: repeatedly merge two random parts.
				for len(parts) > 1 {
					i, j := r.IntN(len(parts)), r.IntN(len(parts)-1)
					if j >= i {
						j++
					}
					if err := parts[i].Merge(parts[j]); err != nil {
						t.Fatal(err)
					}
					parts = slices.Delete(parts, j, j+1)
				}
				got, _ := parts[0].MarshalBinary()
				if !bytes.Equal(got, want) {
					t.Fatalf("maxB %d %s trial %d: merged state differs from whole", maxB, d.name, trial)
				}
			}
		}
	}
}

func TestMergeCommutativeAssociative(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for trial := range 50 {
		maxB := 4 + r.IntN(40)
		mk := func() *Sketch {
			d := dists[r.IntN(len(dists))]
			return sketchOf(t, 0.05, maxB, sample(r, d, r.IntN(300)))
		}
		a, b, c := mk(), mk(), mk()
		enc := func(ss ...*Sketch) []byte {
			acc := mustNew(t, 0.05, maxB)
			for _, s := range ss {
				if err := acc.Merge(s); err != nil {
					t.Fatal(err)
				}
			}
			out, _ := acc.MarshalBinary()
			return out
		}
		// (a+b)+c, a+(b+c), c+b+a.
		ab := mustNew(t, 0.05, maxB)
		_ = ab.Merge(a)
		_ = ab.Merge(b)
		bc := mustNew(t, 0.05, maxB)
		_ = bc.Merge(b)
		_ = bc.Merge(c)
		x1, x2, x3 := enc(ab, c), enc(a, bc), enc(c, b, a)
		if !bytes.Equal(x1, x2) || !bytes.Equal(x1, x3) {
			t.Fatalf("trial %d: merge not associative/commutative", trial)
		}
	}
}

func TestMergeIncompatible(t *testing.T) {
	a := mustNew(t, 0.01, 100)
	for _, b := range []*Sketch{mustNew(t, 0.02, 100), mustNew(t, 0.01, 101)} {
		b.Add(1)
		if err := a.Merge(b); !errors.Is(err, ErrIncompatible) {
			t.Errorf("Merge = %v, want ErrIncompatible", err)
		}
		if a.Count() != 0 {
			t.Errorf("failed merge modified the sketch")
		}
	}
}

// TestCollapse checks the bucket bound and the documented guarantee after
// collapsing: values above gamma^F keep relative error alpha, values below
// are within gamma^F.
func TestCollapse(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	const alpha, maxB = 0.01, 32
	xs := sample(r, dists[4], 20000) // lognormal_wide spans ~e^±16
	for i := range xs {
		if i%3 == 0 {
			xs[i] = -xs[i]
		}
	}
	s := sketchOf(t, alpha, maxB, xs)
	if !s.Collapsed() {
		t.Fatal("expected collapse")
	}
	for _, st := range []*store{&s.pos, &s.neg} {
		if st.hi-st.lo+1 > maxB || len(st.counts) > maxB {
			t.Fatalf("store range %d..%d, window %d exceeds %d", st.lo, st.hi, len(st.counts), maxB)
		}
	}
	sorted := slices.Clone(xs)
	slices.Sort(sorted)
	for qi := 0; qi <= 1000; qi++ {
		q := float64(qi) / 1000
		want := sorted[int(q*float64(len(xs)-1))]
		got := s.Quantile(q)
		st := &s.pos
		if want < 0 {
			st = &s.neg
		}
		bound := max((alpha+relErrTol)*math.Abs(want), s.m.upper(st.lo))
		if math.Abs(got-want) > bound {
			t.Fatalf("q=%g got %g want %g bound %g", q, got, want, bound)
		}
	}
}

func TestResetReuses(t *testing.T) {
	s := sketchOf(t, 0.01, 0, []float64{1, 2, -3, math.NaN()})
	s.Reset()
	empty := mustNew(t, 0.01, 0)
	a, _ := s.MarshalBinary()
	b, _ := empty.MarshalBinary()
	if !bytes.Equal(a, b) {
		t.Fatal("Reset sketch differs from a new one")
	}
}

func ExampleSketch() {
	s, _ := New(0.01)
	for i := 1; i <= 1000; i++ {
		s.Add(float64(i))
	}
	fmt.Printf("n=%d p50=%.0f p99=%.0f min=%g max=%g\n", s.Count(), s.Quantile(0.5), s.Quantile(0.99), s.Min(), s.Max())
	// Output: n=1000 p50=498 p99=983 min=1 max=1000
}
