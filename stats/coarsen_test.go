package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestCoarsenBins(t *testing.T) {
	ones := make([]float64, 100)
	for i := range ones {
		ones[i] = 1
	}
	tests := []struct {
		name   string
		counts []float64
		k      int
		want   []int
	}{
		{name: "uniform into deciles", counts: ones, k: 10, want: []int{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}},
		{name: "one group", counts: []float64{1, 2, 3}, k: 1, want: []int{3}},
		{name: "more groups than bins", counts: []float64{1, 1, 1}, k: 10, want: []int{1, 2, 3}},
		{name: "zero edges join neighbours", counts: []float64{0, 0, 1, 1, 0, 0}, k: 2, want: []int{3, 6}},
		{name: "single heavy bin", counts: []float64{0, 3, 0, 0}, k: 3, want: []int{4}},
		// The 8 crosses thresholds 2..9 of 10 at once: three groups, not ten.
		{name: "heavy bin skips thresholds", counts: []float64{1, 8, 1}, k: 10, want: []int{1, 2, 3}},
		{name: "interior zeros stay", counts: []float64{5, 0, 0, 5, 0}, k: 2, want: []int{1, 5}},
		{name: "uneven", counts: []float64{1, 1, 1, 1, 4, 1, 1}, k: 2, want: []int{5, 7}},
		{name: "all zero", counts: []float64{0, 0, 0}, k: 2, want: []int{3}},
		{name: "negative count", counts: []float64{1, -1, 3}, k: 2, want: []int{3}},
		{name: "empty", counts: []float64{}, k: 4, want: []int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CoarsenBins(tt.counts, tt.k)
			if !slices.Equal(got, tt.want) {
				t.Errorf("CoarsenBins(%v, %d) = %v, want %v", tt.counts, tt.k, got, tt.want)
			}
		})
	}
}

// TestCoarsenBinsProperties checks the documented invariants on random
// histograms with zero runs: at most k groups, strictly increasing ends
// finishing at len(counts), no zero-mass group, and Regroup preserving mass.
func TestCoarsenBinsProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for iter := range 1000 {
		counts := make([]float64, 1+rng.IntN(200))
		for i := range counts {
			if rng.IntN(3) > 0 {
				counts[i] = math.Floor(rng.ExpFloat64() * 50)
			}
		}
		k := 1 + rng.IntN(20)
		ends := CoarsenBins(counts, k)
		tot, _ := total(counts)
		if len(ends) == 0 || len(ends) > k || ends[len(ends)-1] != len(counts) {
			t.Fatalf("iteration %d: CoarsenBins(%v, %d) = %v", iter, counts, k, ends)
		}
		groups := Regroup(counts, ends)
		var sum float64
		for g, m := range groups {
			if m == 0 && tot > 0 {
				t.Fatalf("iteration %d: group %d of %v has zero mass (counts %v)", iter, g, ends, counts)
			}
			sum += m
		}
		if sum != tot {
			t.Fatalf("iteration %d: Regroup mass %g, want %g", iter, sum, tot)
		}
	}
}

func TestRegroup(t *testing.T) {
	got := Regroup([]float64{1, 2, 3, 4, 5}, []int{2, 3, 5})
	if want := []float64{3, 3, 9}; !slices.Equal(got, want) {
		t.Errorf("Regroup = %v, want %v", got, want)
	}
	if got := Regroup(nil, nil); len(got) != 0 {
		t.Errorf("Regroup(nil, nil) = %v, want empty", got)
	}
	counts := []float64{1, 2, 3}
	for name, ends := range map[string][]int{
		"short":          {2},
		"past end":       {2, 4},
		"not increasing": {2, 2, 3},
		"zero end":       {0, 3},
	} {
		mustPanic(t, "Regroup "+name, func() { Regroup(counts, ends) })
	}
}

func TestCoarsenBinsPanicsOnBadK(t *testing.T) {
	mustPanic(t, "CoarsenBins k=0", func() { CoarsenBins([]float64{1}, 0) })
}
