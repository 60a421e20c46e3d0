package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestKolmogorovSF(t *testing.T) {
	tests := []struct {
		x, want float64
	}{
		{x: math.Inf(-1), want: 1},
		{x: -1, want: 1},
		{x: 0, want: 1},
		{x: 0.01, want: 1},
		// Reference values of the Kolmogorov distribution (kstwobign.sf).
		{x: 0.5, want: 0.9639452436648751},
		{x: 1, want: 0.26999967167735456},
		// Classic critical values: Q = 0.10, 0.05, 0.01.
		{x: 1.2238478702170825, want: 0.10},
		{x: 1.3580986393225505, want: 0.05},
		{x: 1.6276236115189502, want: 0.01},
		{x: 3, want: 2 * math.Exp(-18)},
		{x: math.Inf(1), want: 0},
		{x: math.NaN(), want: math.NaN()},
	}
	for _, tt := range tests {
		got := KolmogorovSF(tt.x)
		if !near(got, tt.want) {
			t.Errorf("KolmogorovSF(%g) = %.17g, want %.17g", tt.x, got, tt.want)
		}
	}
}

// TestKolmogorovSeriesAgree checks that the two series agree around the
// cutover, where both converge; each is an independent check of the other.
func TestKolmogorovSeriesAgree(t *testing.T) {
	for x := 0.7; x <= 1.6; x += 0.01 {
		theta := 1 - kolmogorovCDFTheta(x)
		alt := kolmogorovSFAlternating(x)
		if math.Abs(theta-alt) > 4e-16 {
			t.Errorf("x=%g: theta form %.17g, alternating series %.17g", x, theta, alt)
		}
	}
}

func TestKolmogorovSFMonotone(t *testing.T) {
	prev := 1.0
	for x := 0.0; x <= 6; x += 0.001 {
		q := KolmogorovSF(x)
		if q > prev || q < 0 {
			t.Fatalf("KolmogorovSF(%g) = %g after %g: not a decreasing probability", x, q, prev)
		}
		if c := kolmogorovCDF(x); math.Abs(c+q-1) > 1e-15 {
			t.Fatalf("x=%g: cdf %g + sf %g != 1", x, c, q)
		}
		prev = q
	}
}

func TestKSBinned(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name     string
		ref, cur []float64
		d, p     float64
	}{
		{name: "identical", ref: []float64{1, 2, 3}, cur: []float64{1, 2, 3}, d: 0, p: 1},
		{name: "scaled identical", ref: []float64{1, 2, 3}, cur: []float64{2, 4, 6}, d: 0, p: 1},
		{name: "single bin", ref: []float64{5}, cur: []float64{9}, d: 0, p: 1},
		// R = (1/2, 1), C = (0, 1); en = 2*2/4 = 1 and kstwo.sf(0.5, 1) = 1
		// (n*D <= 1/2).
		{name: "half shifted", ref: []float64{1, 1}, cur: []float64{0, 2}, d: 0.5, p: 1},
		// en = 100*100/200 = 50 and kstwo.sf(1, 50) = 0.
		{name: "disjoint", ref: []float64{100, 0}, cur: []float64{0, 100}, d: 1, p: 0},
		{name: "leading and trailing empty bins", ref: []float64{0, 1, 1, 0}, cur: []float64{0, 0, 2, 0}, d: 0.5, p: 1},
		{name: "empty", ref: []float64{}, cur: []float64{}, d: nan, p: nan},
		{name: "all-zero current", ref: []float64{1, 2}, cur: []float64{0, 0}, d: nan, p: nan},
		{name: "negative count", ref: []float64{1, 2}, cur: []float64{-1, 3}, d: nan, p: nan},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, p := KSBinned(tt.ref, tt.cur)
			if !near(d, tt.d) || !near(p, tt.p) {
				t.Errorf("KSBinned(%v, %v) = (%.17g, %.17g), want (%.17g, %.17g)", tt.ref, tt.cur, d, p, tt.d, tt.p)
			}
		})
	}
}

func TestKSBinnedPanicsOnBinMismatch(t *testing.T) {
	mustPanic(t, "KSBinned", func() { KSBinned([]float64{1}, []float64{1, 2}) })
}

func TestKSBinnedDoesNotAllocate(t *testing.T) {
	ref, cur := benchCounts(100, 1), benchCounts(100, 2)
	if n := testing.AllocsPerRun(100, func() { KSBinned(ref, cur) }); n != 0 {
		t.Errorf("KSBinned allocates %v times per call, want 0", n)
	}
}

func TestKS2Samp(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name string
		x, y []float64
		d    float64
	}{
		{name: "identical", x: []float64{3, 1, 2}, y: []float64{2, 3, 1}, d: 0},
		{name: "disjoint", x: []float64{1, 2, 3}, y: []float64{4, 5}, d: 1},
		{name: "interleaved", x: []float64{1, 3, 5, 7}, y: []float64{2, 4, 6, 8}, d: 0.25},
		// F_x(1) - F_y(1) = 2/3 - 1/3; both reach 1 at 2.
		{name: "ties across samples", x: []float64{1, 1, 2}, y: []float64{2, 1, 2}, d: 1.0 / 3},
		{name: "single values", x: []float64{0}, y: []float64{0}, d: 0},
		{name: "empty x", x: nil, y: []float64{1}, d: nan},
		{name: "empty y", x: []float64{1}, y: []float64{}, d: nan},
		{name: "NaN value", x: []float64{1, nan}, y: []float64{1}, d: nan},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, y := slices.Clone(tt.x), slices.Clone(tt.y)
			d, p := KS2Samp(x, y)
			if !near(d, tt.d) {
				t.Errorf("KS2Samp(%v, %v) d = %.17g, want %.17g", tt.x, tt.y, d, tt.d)
			}
			wantP := nan
			if !math.IsNaN(tt.d) {
				n, m := float64(len(tt.x)), float64(len(tt.y))
				wantP = KolmogorovSF(math.Sqrt(n*m/(n+m)) * tt.d)
			}
			if !near(p, wantP) {
				t.Errorf("KS2Samp(%v, %v) p = %.17g, want %.17g", tt.x, tt.y, p, wantP)
			}
			if !sameBits(x, tt.x) || !sameBits(y, tt.y) {
				t.Errorf("KS2Samp modified its inputs: %v %v, were %v %v", x, y, tt.x, tt.y)
			}
		})
	}
}

// TestKS2SampMatchesKSBinned checks the documented equivalence: when each
// bin holds one distinct value, the binned statistic is the exact one.
func TestKS2SampMatchesKSBinned(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := range 200 {
		k := 1 + rng.IntN(12)
		x := make([]float64, 1+rng.IntN(50))
		y := make([]float64, 1+rng.IntN(50))
		ref, cur := make([]float64, k), make([]float64, k)
		for i := range x {
			v := rng.IntN(k)
			x[i] = float64(v)
			ref[v]++
		}
		for i := range y {
			v := rng.IntN(k)
			y[i] = float64(v)
			cur[v]++
		}
		// KSBinned's p is kstwo at round(en), KS2Samp's the limiting one.
		d1, _ := KS2Samp(x, y)
		d2, p2 := KSBinned(ref, cur)
		p1 := ksKstwoPValue(d1, float64(len(x)), float64(len(y)))
		if !near(d1, d2) || !near(p1, p2) {
			t.Fatalf("iteration %d: KS2Samp d = %g (kstwo p %g), KSBinned = (%g, %g)", iter, d1, p1, d2, p2)
		}
	}
}

func BenchmarkKSBinned(b *testing.B) {
	for _, k := range []int{10, 100, 1000} {
		ref, cur := benchCounts(k, 1), benchCounts(k, 2)
		b.Run(fmt.Sprintf("bins=%d", k), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(16 * k))
			for b.Loop() {
				KSBinned(ref, cur)
			}
		})
	}
}
