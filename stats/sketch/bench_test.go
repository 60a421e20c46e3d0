package sketch

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestAddAllocs asserts the steady-state Add path allocates nothing.
func TestAddAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	xs := sample(r, dists[12], 4096) // cauchy: both signs, wide range
	s := sketchOf(t, 0.01, 0, xs)
	i := 0
	if a := testing.AllocsPerRun(10000, func() { s.Add(xs[i%len(xs)]); i++ }); a != 0 {
		t.Fatalf("Add allocates %v per value", a)
	}
	h, _ := NewHistogram([]float64{-3, -1, 0, 1, 3})
	if a := testing.AllocsPerRun(10000, func() { h.Add(xs[i%len(xs)]); i++ }); a != 0 {
		t.Fatalf("Histogram.Add allocates %v per value", a)
	}
	if a := testing.AllocsPerRun(1000, func() { s.Quantile(0.9); s.CDF(0.3) }); a != 0 {
		t.Fatalf("Quantile/CDF allocate %v", a)
	}
}

func BenchmarkAdd(b *testing.B) {
	r := rand.New(rand.NewPCG(21, 22))
	xs := sample(r, dists[3], 1<<16) // lognormal
	s := sketchOf(b, 0.01, 0, xs)
	b.ReportAllocs()
	b.SetBytes(8)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		s.Add(xs[i&(len(xs)-1)])
	}
}

func BenchmarkHistogramAdd(b *testing.B) {
	r := rand.New(rand.NewPCG(21, 22))
	xs := sample(r, dists[0], 1<<16)
	edges := make([]float64, 51)
	for i := range edges {
		edges[i] = -5 + 0.2*float64(i)
	}
	h, _ := NewHistogram(edges)
	b.ReportAllocs()
	b.SetBytes(8)
	for i := 0; b.Loop(); i++ {
		h.Add(xs[i&(len(xs)-1)])
	}
}

// benchSizes are the numbers of values summarised by each benchmarked
// sketch; the work of Merge, Quantile, KS and W1 depends on the number of
// buckets, which grows only logarithmically with them.
var benchSizes = []int{1e3, 1e5, 1e7}

func benchPair(b *testing.B, n int) (*Sketch, *Sketch) {
	r := rand.New(rand.NewPCG(uint64(n), 23))
	x, y := mustNew(b, 0.01, 0), mustNew(b, 0.01, 0)
	for range n {
		x.Add(r.NormFloat64())
		y.Add(0.1 + 1.1*r.NormFloat64())
	}
	return x, y
}

func BenchmarkSketchOps(b *testing.B) {
	for _, n := range benchSizes {
		x, y := benchPair(b, n)
		fn, fp := x.floors()
		b.Logf("n=%d: %d non-empty buckets", n, len(x.appendBuckets(nil, fn, fp)))
		b.Run(fmt.Sprintf("Merge/n=%d", n), func(b *testing.B) {
			dst := mustNew(b, 0.01, 0)
			b.ReportAllocs()
			for b.Loop() {
				dst.Reset()
				_ = dst.Merge(x)
			}
		})
		b.Run(fmt.Sprintf("Quantile/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				x.Quantile(0.99)
			}
		})
		b.Run(fmt.Sprintf("KS/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _, _ = KS(x, y)
			}
		})
		b.Run(fmt.Sprintf("Wasserstein/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Wasserstein(x, y)
			}
		})
		b.Run(fmt.Sprintf("MarshalBinary/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = x.MarshalBinary()
			}
		})
	}
}
