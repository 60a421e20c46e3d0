package perf

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestConfusionZeroDenominators(t *testing.T) {
	tests := []struct {
		name string
		c    Confusion
		f    func(Confusion) (float64, bool)
		want float64 // NaN means undefined
	}{
		{"accuracy empty", Confusion{}, Confusion.Accuracy, math.NaN()},
		{"precision no predicted positives", Confusion{TN: 3, FN: 2}, Confusion.Precision, math.NaN()},
		{"recall no positives", Confusion{TN: 3, FP: 2}, Confusion.Recall, math.NaN()},
		{"fpr no negatives", Confusion{TP: 3, FN: 1}, Confusion.FPR, math.NaN()},
		{"specificity no negatives", Confusion{TP: 3}, Confusion.Specificity, math.NaN()},
		{"f1 only TN", Confusion{TN: 5}, Confusion.F1, math.NaN()},
		{"f1 zero TP is 0", Confusion{FP: 1, FN: 1}, Confusion.F1, 0},
		{"f1", Confusion{TP: 2, FP: 1, FN: 1}, Confusion.F1, 2.0 / 3},
		{"selection rate", Confusion{TP: 1, FP: 1, TN: 2}, Confusion.SelectionRate, 0.5},
		{"accuracy", Confusion{TP: 1, FP: 1, TN: 2}, Confusion.Accuracy, 0.75},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.f(tt.c)
			if math.IsNaN(tt.want) {
				if ok || !math.IsNaN(got) {
					t.Fatalf("got (%v, %v), want (NaN, false)", got, ok)
				}
				return
			}
			if !ok || math.Abs(got-tt.want) > 1e-15 {
				t.Fatalf("got (%v, %v), want (%v, true)", got, ok, tt.want)
			}
		})
	}
}

func TestAddRejectsBadWeights(t *testing.T) {
	var c Confusion
	h := NewScoreHistogram(10)
	var r RegressionSums
	m := NewConfusionMatrix(2)
	for _, w := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		c.Add(true, true, w)
		h.Add(0.5, true, w)
		r.Add(1, 2, w)
		m.Add(0, 1, w)
	}
	h.Add(math.NaN(), true, 1)
	m.Add(2, 0, 1)
	r.Add(math.Inf(1), 0, 1)
	if c.N() != 0 || c.Dropped != 4 {
		t.Errorf("confusion: N=%v dropped=%v", c.N(), c.Dropped)
	}
	if p, n := h.Totals(); p+n != 0 || h.Dropped != 5 {
		t.Errorf("histogram: total=%v dropped=%v", p+n, h.Dropped)
	}
	if r.W != 0 || r.Dropped != 5 {
		t.Errorf("regression: W=%v dropped=%v", r.W, r.Dropped)
	}
	if m.N() != 0 || m.Dropped != 5 {
		t.Errorf("matrix: N=%v dropped=%v", m.N(), m.Dropped)
	}
}

func TestHistogramBinning(t *testing.T) {
	h := NewScoreHistogram(0)
	tests := []struct {
		s    float64
		want int
	}{
		{-1, 0}, {0, 0}, {0.0005, 0}, {0.001, 1}, {0.3, 300}, {0.7, 700},
		{0.999, 999}, {1, 999}, {2, 999}, {math.Inf(-1), 0}, {math.Inf(1), 999},
		{math.Nextafter(0.3, 0), 299},
	}
	for _, tt := range tests {
		if got := h.bin(tt.s); got != tt.want {
			t.Errorf("bin(%v) = %d, want %d", tt.s, got, tt.want)
		}
	}
	// Uniform lookup agrees with binary search on the same edges.
	g, err := NewScoreHistogramEdges(h.Edges)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		s := rng.Float64()
		if rng.IntN(4) == 0 {
			s = float64(rng.IntN(1001)) / 1000
		}
		if a, b := h.bin(s), g.bin(s); a != b {
			t.Fatalf("bin(%v): uniform %d, search %d", s, a, b)
		}
	}
}

func TestNewScoreHistogramEdgesErrors(t *testing.T) {
	for _, e := range [][]float64{nil, {1}, {0, 0}, {0, 1, 0.5}, {0, math.NaN()}, {0, math.Inf(1)}} {
		if _, err := NewScoreHistogramEdges(e); err == nil {
			t.Errorf("edges %v: want error", e)
		}
	}
	a := NewScoreHistogram(10)
	b := NewScoreHistogram(20)
	if err := a.Merge(b); err == nil {
		t.Error("merge of different edges: want error")
	}
	if err := NewConfusionMatrix(2).Merge(NewConfusionMatrix(3)); err == nil {
		t.Error("merge of different K: want error")
	}
}

func TestROCAUCErrorBoundAttained(t *testing.T) {
	// One positive and one negative in the same bin, positive scored higher:
	// exact AUC 1, binned 0.5, bound 0.5.
	h := NewScoreHistogram(10)
	h.Add(0.51, true, 1)
	h.Add(0.50, false, 1)
	auc, _ := h.ROCAUC()
	b, _ := h.ROCAUCErrorBound()
	if auc != 0.5 || b != 0.5 {
		t.Fatalf("auc=%v bound=%v, want 0.5, 0.5", auc, b)
	}
}

func TestWilson(t *testing.T) {
	tests := []struct {
		k, n, z float64
		lo, hi  float64
		ok      bool
	}{
		// scipy.stats.binomtest(k, n).proportion_ci(method="wilson"), SciPy 1.17.1.
		{5, 10, Z95, 0.236593090512564, 0.7634069094874361, true},
		{0, 10, Z95, 0, 0.27753279986288926, true},
		{10, 10, Z95, 0.7224672001371109, 1, true},
		{81, 263, Z95, 0.2552885198782742, 0.36620957698280004, true},
		{0, 0, Z95, math.NaN(), math.NaN(), false},
		{11, 10, Z95, math.NaN(), math.NaN(), false},
		{-1, 10, Z95, math.NaN(), math.NaN(), false},
	}
	for _, tt := range tests {
		lo, hi, ok := Wilson(tt.k, tt.n, tt.z)
		if ok != tt.ok {
			t.Errorf("Wilson(%v,%v): ok=%v", tt.k, tt.n, ok)
			continue
		}
		if !ok {
			continue
		}
		if math.Abs(lo-tt.lo) > 1e-12 || math.Abs(hi-tt.hi) > 1e-12 {
			t.Errorf("Wilson(%v,%v) = [%.17g, %.17g], want [%v, %v]", tt.k, tt.n, lo, hi, tt.lo, tt.hi)
		}
	}
}

func TestRegressionIntervals(t *testing.T) {
	var r RegressionSums
	rng := rand.New(rand.NewPCG(3, 4))
	for range 10000 {
		y := rng.NormFloat64()
		r.Add(y, y+rng.NormFloat64(), 1)
	}
	lo, hi, ok := r.MAEInterval(Z95)
	mae, _ := r.MAE()
	// For e ~ N(0,1): E|e| = sqrt(2/pi).
	if !ok || !(lo < mae && mae < hi) || hi-lo > 0.05 || !(lo < math.Sqrt(2/math.Pi) && math.Sqrt(2/math.Pi) < hi) {
		t.Errorf("MAE interval [%v, %v] around %v", lo, hi, mae)
	}
	lo, hi, ok = r.RMSEInterval(Z95)
	if !ok || !(lo < 1 && 1 < hi) || hi-lo > 0.05 {
		t.Errorf("RMSE interval [%v, %v]", lo, hi)
	}
	var one RegressionSums
	one.Add(1, 2, 1)
	if _, _, ok := one.MAEInterval(Z95); ok {
		t.Error("MAE interval of one observation: want ok=false")
	}
}
