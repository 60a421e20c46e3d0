package sketch

import (
	"math"
	"slices"
	"testing"
)

func TestHistogram(t *testing.T) {
	if _, err := NewHistogram([]float64{1}); err == nil {
		t.Error("1 edge accepted")
	}
	if _, err := NewHistogram([]float64{0, 0}); err == nil {
		t.Error("non-increasing edges accepted")
	}
	edges := []float64{0, 1, 2, 4}
	tests := []struct {
		x   float64
		bin int // -1 under, -2 over, -3 NaN
	}{
		{-1, -1}, {math.Inf(-1), -1}, {0, 0}, {0.5, 0}, {1, 1}, {1.999, 1}, {2, 2}, {4, 2}, {4.0001, -2}, {math.Inf(1), -2}, {math.NaN(), -3},
	}
	for _, tc := range tests {
		h, _ := NewHistogram(edges)
		h.Add(tc.x)
		want := make([]uint64, 3)
		if tc.bin >= 0 {
			want[tc.bin] = 1
		}
		if !slices.Equal(h.Counts(), want) || (tc.bin == -1) != (h.Under() == 1) || (tc.bin == -2) != (h.Over() == 1) || (tc.bin == -3) != (h.NaNs() == 1) {
			t.Errorf("Add(%g): counts %v under %d over %d nan %d, want bin %d", tc.x, h.Counts(), h.Under(), h.Over(), h.NaNs(), tc.bin)
		}
	}
	a, _ := NewHistogram(edges)
	b, _ := NewHistogram(edges)
	a.Add(0.5)
	b.Add(3)
	if err := a.Merge(b); err != nil || !slices.Equal(a.Counts(), []uint64{1, 0, 1}) || a.Sums()[2] != 3 {
		t.Errorf("Merge: %v %v %v", err, a.Counts(), a.Sums())
	}
	c, _ := NewHistogram([]float64{0, 1})
	if err := a.Merge(c); err == nil {
		t.Error("merge with other edges accepted")
	}
}
