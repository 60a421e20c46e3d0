package perf

import (
	"math/rand/v2"
	"testing"
)

func TestAddAllocatesNothing(t *testing.T) {
	h := NewScoreHistogram(0)
	g, _ := NewScoreHistogramEdges([]float64{0, 0.1, 0.5, 0.9, 1})
	var c Confusion
	var r RegressionSums
	m := NewConfusionMatrix(4)
	if a := testing.AllocsPerRun(1000, func() {
		h.Add(0.37, true, 1)
		g.Add(0.37, false, 1)
		c.Add(true, false, 1)
		r.Add(1, 2, 1)
		m.Add(1, 2, 1)
	}); a != 0 {
		t.Fatalf("Add allocates %v times per call", a)
	}
}

func BenchmarkScoreHistogramAdd(b *testing.B) {
	h := NewScoreHistogram(0)
	rng := rand.New(rand.NewPCG(1, 2))
	s := make([]float64, 1024)
	for i := range s {
		s[i] = rng.Float64()
	}
	b.ReportAllocs()
	b.SetBytes(8)
	i := 0
	for b.Loop() {
		h.Add(s[i&1023], i&1 == 0, 1)
		i++
	}
}

func BenchmarkConfusionAdd(b *testing.B) {
	var c Confusion
	b.ReportAllocs()
	b.SetBytes(1)
	i := 0
	for b.Loop() {
		c.Add(i&1 == 0, i&2 == 0, 1)
		i++
	}
}

func BenchmarkRegressionSumsAdd(b *testing.B) {
	var r RegressionSums
	b.ReportAllocs()
	b.SetBytes(16)
	i := 0.0
	for b.Loop() {
		r.Add(i, i+0.5, 1)
		i++
	}
}

func BenchmarkScoreHistogramMetrics(b *testing.B) {
	h := NewScoreHistogram(0)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		h.Add(rng.Float64(), rng.IntN(2) == 0, 1)
	}
	b.ReportAllocs()
	for b.Loop() {
		h.ROCAUC()
		h.PRAUC()
		h.ECE(10)
	}
}

func BenchmarkScoreHistogramMerge(b *testing.B) {
	h, o := NewScoreHistogram(0), NewScoreHistogram(0)
	b.ReportAllocs()
	for b.Loop() {
		_ = h.Merge(o)
	}
}
