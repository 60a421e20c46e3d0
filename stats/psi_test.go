package stats

import (
	"fmt"
	"math"
	"testing"
)

func TestPSI(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name     string
		ref, cur []float64
		eps      float64
		want     float64
	}{
		{name: "identical", ref: []float64{3, 1, 4, 1, 5}, cur: []float64{3, 1, 4, 1, 5}, want: 0},
		{name: "scaled identical", ref: []float64{1, 2, 3}, cur: []float64{10, 20, 30}, want: 0},
		{name: "single bin", ref: []float64{7}, cur: []float64{2}, want: 0},
		// r = (1/2, 1/2), c = (1/4, 3/4): 1/4 ln 2 + 1/4 ln(3/2) = 1/4 ln 3.
		{name: "two bins", ref: []float64{1, 1}, cur: []float64{1, 3}, want: 0.25 * math.Log(3)},
		{name: "bin empty on both sides", ref: []float64{1, 0, 1}, cur: []float64{1, 0, 3}, want: 0.25 * math.Log(3)},
		// c = (1, eps): 1/2 ln 2 + (1/2 - eps) ln(1/2 / eps).
		{name: "empty current bin default eps", ref: []float64{1, 1}, cur: []float64{2, 0}, want: 0.5*math.Ln2 + (0.5-1e-4)*math.Log(0.5/1e-4)},
		{name: "negative eps means default", ref: []float64{1, 1}, cur: []float64{2, 0}, eps: -1, want: 0.5*math.Ln2 + (0.5-1e-4)*math.Log(0.5/1e-4)},
		{name: "NaN eps means default", ref: []float64{1, 1}, cur: []float64{2, 0}, eps: nan, want: 0.5*math.Ln2 + (0.5-1e-4)*math.Log(0.5/1e-4)},
		{name: "explicit eps", ref: []float64{1, 1}, cur: []float64{2, 0}, eps: 1e-3, want: 0.5*math.Ln2 + (0.5-1e-3)*math.Log(0.5/1e-3)},
		// Each side's occupied bin is the other's empty bin: 2 (1 - eps) ln(1/eps).
		{name: "disjoint", ref: []float64{4, 0}, cur: []float64{0, 9}, want: 2 * (1 - 1e-4) * math.Log(1e4)},
		{name: "empty", ref: []float64{}, cur: []float64{}, want: nan},
		{name: "nil", want: nan},
		{name: "all-zero reference", ref: []float64{0, 0}, cur: []float64{1, 2}, want: nan},
		{name: "all-zero current", ref: []float64{1, 2}, cur: []float64{0, 0}, want: nan},
		{name: "negative count", ref: []float64{1, -1, 2}, cur: []float64{1, 1, 1}, want: nan},
		{name: "NaN count", ref: []float64{1, 1}, cur: []float64{nan, 1}, want: nan},
		{name: "infinite count", ref: []float64{1, math.Inf(1)}, cur: []float64{1, 1}, want: nan},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PSI(tt.ref, tt.cur, tt.eps)
			if !near(got, tt.want) {
				t.Errorf("PSI(%v, %v, %g) = %.17g, want %.17g", tt.ref, tt.cur, tt.eps, got, tt.want)
			}
			if back := PSI(tt.cur, tt.ref, tt.eps); !near(back, got) {
				t.Errorf("PSI not symmetric: %.17g one way, %.17g the other", got, back)
			}
		})
	}
}

func TestPSIPanicsOnBinMismatch(t *testing.T) {
	mustPanic(t, "PSI", func() { PSI([]float64{1, 2}, []float64{1}, 0) })
}

func TestPSIDoesNotAllocate(t *testing.T) {
	ref, cur := benchCounts(100, 1), benchCounts(100, 2)
	if n := testing.AllocsPerRun(100, func() { PSI(ref, cur, 0) }); n != 0 {
		t.Errorf("PSI allocates %v times per call, want 0", n)
	}
}

// benchCounts returns k deterministic pseudo-random counts with a few zeros.
func benchCounts(k int, seed uint64) []float64 {
	c := make([]float64, k)
	x := seed*0x9E3779B97F4A7C15 + 1
	for i := range c {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		if x%11 != 0 {
			c[i] = float64(x % 1000)
		}
	}
	return c
}

func BenchmarkPSI(b *testing.B) {
	for _, k := range []int{10, 100, 1000} {
		ref, cur := benchCounts(k, 1), benchCounts(k, 2)
		b.Run(fmt.Sprintf("bins=%d", k), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(16 * k))
			for b.Loop() {
				PSI(ref, cur, 0)
			}
		})
	}
}
