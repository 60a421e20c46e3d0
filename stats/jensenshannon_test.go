package stats

import (
	"math"
	"testing"
)

func TestJensenShannon(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name string
		p, q []float64
		want float64
	}{
		{name: "identical", p: []float64{1, 2, 3}, q: []float64{1, 2, 3}, want: 0},
		{name: "scaled identical", p: []float64{1, 2, 3}, q: []float64{3, 6, 9}, want: 0},
		{name: "single bin", p: []float64{4}, q: []float64{1}, want: 0},
		// Disjoint supports: each KL term is ln 2.
		{name: "disjoint", p: []float64{1, 0}, q: []float64{0, 5}, want: math.Sqrt(math.Ln2)},
		// p = (1, 0), q = (1/2, 1/2), m = (3/4, 1/4):
		// KL(p||m) = ln(4/3), KL(q||m) = 1/2 ln(2/3) + 1/2 ln 2.
		{name: "hand checked", p: []float64{1, 0}, q: []float64{1, 1},
			want: math.Sqrt((math.Log(4.0/3) + 0.5*math.Log(2.0/3) + 0.5*math.Ln2) / 2)},
		{name: "bin empty on both sides", p: []float64{1, 0, 0}, q: []float64{1, 0, 1},
			want: math.Sqrt((math.Log(4.0/3) + 0.5*math.Log(2.0/3) + 0.5*math.Ln2) / 2)},
		{name: "empty", p: []float64{}, q: []float64{}, want: nan},
		{name: "all-zero q", p: []float64{1}, q: []float64{0}, want: nan},
		{name: "negative value", p: []float64{1, -1}, q: []float64{1, 1}, want: nan},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := JensenShannon(tt.p, tt.q)
			if !near(got, tt.want) {
				t.Errorf("JensenShannon(%v, %v) = %.17g, want %.17g", tt.p, tt.q, got, tt.want)
			}
			if back := JensenShannon(tt.q, tt.p); !near(back, got) {
				t.Errorf("JensenShannon not symmetric: %.17g one way, %.17g the other", got, back)
			}
		})
	}
}

func TestJensenShannonPanicsOnBinMismatch(t *testing.T) {
	mustPanic(t, "JensenShannon", func() { JensenShannon([]float64{1}, nil) })
}
