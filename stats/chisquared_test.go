package stats

import (
	"math"
	"testing"
)

func TestChiSquared(t *testing.T) {
	nan := math.NaN()
	// With one degree of freedom, P(chi2 > s) = erfc(sqrt(s/2)).
	sf1 := func(s float64) float64 { return math.Erfc(math.Sqrt(s / 2)) }
	tests := []struct {
		name     string
		ref, cur []float64
		stat, p  float64
		dof      int
	}{
		// Margins 30/30 and 30/30: every E is 15, stat = 4 * 5^2/15 = 20/3.
		{name: "2x2 swap", ref: []float64{10, 20}, cur: []float64{20, 10}, stat: 20.0 / 3, p: sf1(20.0 / 3), dof: 1},
		{name: "empty category dropped", ref: []float64{10, 0, 20}, cur: []float64{20, 0, 10}, stat: 20.0 / 3, p: sf1(20.0 / 3), dof: 1},
		// Column totals 15 and 5, rows 10 and 10: E = (7.5, 2.5) in both
		// rows; stat = 2 * (2.5^2/7.5 + 2.5^2/2.5) = 20/3.
		{name: "category only in current", ref: []float64{10, 0}, cur: []float64{5, 5}, stat: 20.0 / 3, p: sf1(20.0 / 3), dof: 1},
		// dof 2: P(chi2_2 > s) = exp(-s/2). Rows 6/6, columns 4/4/4, E = 2;
		// stat = (4 + 0 + 4 + 4 + 0 + 4)/2 = 8.
		{name: "3 categories", ref: []float64{4, 2, 0}, cur: []float64{0, 2, 4}, stat: 8, p: math.Exp(-4), dof: 2},
		{name: "identical", ref: []float64{5, 7, 9}, cur: []float64{5, 7, 9}, stat: 0, p: 1, dof: 2},
		{name: "proportional", ref: []float64{1, 2, 3}, cur: []float64{4, 8, 12}, stat: 0, p: 1, dof: 2},
		{name: "single category", ref: []float64{3}, cur: []float64{8}, stat: 0, p: 1, dof: 0},
		{name: "single non-empty category", ref: []float64{0, 3, 0}, cur: []float64{0, 8, 0}, stat: 0, p: 1, dof: 0},
		{name: "empty", ref: []float64{}, cur: []float64{}, stat: nan, p: nan, dof: 0},
		{name: "all-zero reference", ref: []float64{0, 0}, cur: []float64{1, 2}, stat: nan, p: nan, dof: 0},
		{name: "NaN count", ref: []float64{1, nan}, cur: []float64{1, 2}, stat: nan, p: nan, dof: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stat, p, dof := ChiSquared(tt.ref, tt.cur)
			if !near(stat, tt.stat) || !near(p, tt.p) || dof != tt.dof {
				t.Errorf("ChiSquared(%v, %v) = (%.17g, %.17g, %d), want (%.17g, %.17g, %d)",
					tt.ref, tt.cur, stat, p, dof, tt.stat, tt.p, tt.dof)
			}
		})
	}
}

func TestChiSquaredPanicsOnBinMismatch(t *testing.T) {
	mustPanic(t, "ChiSquared", func() { ChiSquared([]float64{1, 2}, []float64{1, 2, 3}) })
}
