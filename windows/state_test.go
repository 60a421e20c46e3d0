package windows

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/driftwatch/driftwatch/baselines"
)

// addPerValue is Feature.add's numeric path as it was before stats.Acc:
// every value added to the exact sums one by one, the bin found by
// baselines.BinIndex. It is the reference the accumulated path must match.
func addPerValue(f *Feature, c *array.Float64, rows []int, bf *baselines.Feature) {
	vals := c.Float64Values()
	for _, i := range rows {
		x := vals[i]
		if c.IsNull(i) || math.IsNaN(x) || math.IsInf(x, 0) {
			f.Nulls++
			continue
		}
		if (x < bf.Min || x > bf.Max) && bf.Count > 0 {
			f.OutOfRange++
		}
		b := baselines.BinIndex(bf.Edges, x)
		f.Counts[b]++
		f.sums[b].Add(x)
		f.Min = math.Min(f.Min, x)
		f.Max = math.Max(f.Max, x)
		d := x - f.shift
		f.sx.Add(d)
		f.sxx.Add(d * d)
		f.Count++
	}
}

// TestFeatureAddMatchesPerValueSums: the per-bin sums and the moments of a
// window, accumulated a column at a time through stats.Acc, are bit for
// bit those of adding each value to stats.Sum, on inputs built to break a
// fast sum: cancellation, values 2^100 apart in one bin, subnormals,
// signed zeros, values whose squares or sums overflow, non-finite values
// and nulls; in calls of every size, into windows that already hold values.
func TestFeatureAddMatchesPerValueSums(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r := rand.New(rand.NewPCG(11, 12))
	negZero := math.Copysign(0, -1)
	gens := map[string]func(i int) float64{
		"normal":        func(int) float64 { return r.NormFloat64() },
		"decimals":      func(int) float64 { return math.Round(r.NormFloat64()*1e6) / 1e4 },
		"cancellation":  func(i int) float64 { return float64(1-2*(i%2)) * math.Ldexp(1+r.Float64(), r.IntN(120)-60) },
		"wide":          func(int) float64 { return math.Ldexp(r.Float64()-0.5, r.IntN(2098)-1074) },
		"subnormal":     func(int) float64 { return math.Ldexp(r.Float64()-0.5, -1040-r.IntN(30)) },
		"zeros":         func(i int) float64 { return []float64{0, negZero, 1e-320, -1e-320}[i%4] },
		"negative zero": func(int) float64 { return negZero },
		"near overflow": func(i int) float64 {
			return []float64{math.MaxFloat64, -math.MaxFloat64, 1e308, 1, -1e308, 3e307}[r.IntN(6)]
		},
		"squares overflow": func(int) float64 {
			return math.Ldexp(r.NormFloat64(), 500+r.IntN(100))
		},
		"non-finite": func(i int) float64 {
			return []float64{math.NaN(), math.Inf(1), math.Inf(-1), 2.5, -7}[i%5]
		},
		"one bin, far apart": func(i int) float64 { return 150 + math.Ldexp(r.Float64(), -r.IntN(110)) },
		// In row order (not shuffled): calls whose values cancel, after
		// -0s, whose sum is +0 (and stays -0 where only -0s were added).
		"cancel to zero": func(i int) float64 { return []float64{negZero, negZero, 2.5, -2.5}[i%4] },
	}
	edgeSets := map[string][]float64{
		"none":     nil,
		"one":      {0},
		"coarse":   {-100, -10, 0, 10, 100},
		"fine":     quantileEdges(100),
		"odd":      quantileEdges(37),
		"extremes": {-math.MaxFloat64, -1e-300, 5e-324, 1e300},
	}
	for gname, gen := range gens {
		for ename, edges := range edgeSets {
			const n = 3000
			bld := array.NewFloat64Builder(mem)
			for i := range n {
				if i%53 == 0 && gname != "cancel to zero" {
					bld.AppendNull()
				} else {
					bld.Append(gen(i))
				}
			}
			col := bld.NewFloat64Array()
			bld.Release()
			bf := &baselines.Feature{Name: "x", Kind: baselines.Numeric, Edges: edges, Count: 10, Min: -50, Max: 50, Mean: 0.25}
			if gname == "near overflow" {
				bf.Mean = -1e308 // x - shift overflows too
			}
			got, want := newFeature(bf), newFeature(bf)
			rows := make([]int, n)
			for i := range rows {
				rows[i] = i
			}
			if gname != "cancel to zero" {
				r.Shuffle(n, func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
			}
			// Calls of every size, on both sides of accMinRows.
			for start := 0; start < n; {
				end := min(n, start+[]int{1, accMinRows - 1, accMinRows, 100, 1000}[r.IntN(5)])
				got.add(col, rows[start:end], bf, 0)
				addPerValue(&want, col, rows[start:end], bf)
				start = end
			}
			col.Release()
			got.seal()
			want.seal()
			checkSameFeature(t, gname+"/"+ename, &got, &want)
		}
	}
}

func checkSameFeature(t *testing.T, name string, got, want *Feature) {
	t.Helper()
	same := func(x, y float64) bool {
		return math.Float64bits(x) == math.Float64bits(y) || math.IsNaN(x) && math.IsNaN(y)
	}
	if got.Count != want.Count || got.Nulls != want.Nulls || got.OutOfRange != want.OutOfRange || !slices.Equal(got.Counts, want.Counts) {
		t.Errorf("%s: count %d nulls %d out of range %d counts %v, want %d %d %d %v", name,
			got.Count, got.Nulls, got.OutOfRange, got.Counts, want.Count, want.Nulls, want.OutOfRange, want.Counts)
	}
	if !same(got.Min, want.Min) || !same(got.Max, want.Max) {
		t.Errorf("%s: min %v max %v, want %v %v", name, got.Min, got.Max, want.Min, want.Max)
	}
	for b := range want.Sums {
		if !same(got.Sums[b], want.Sums[b]) {
			t.Errorf("%s: bin %d sum %v (%#x), want %v (%#x)", name, b, got.Sums[b], math.Float64bits(got.Sums[b]), want.Sums[b], math.Float64bits(want.Sums[b]))
		}
	}
	g, w := got.Moments, want.Moments
	if !same(g.N, w.N) || !same(g.Mean, w.Mean) || !same(g.M2, w.M2) {
		t.Errorf("%s: moments %+v, want %+v", name, g, w)
	}
	if gx, wx := got.sx.Value(), want.sx.Value(); !same(gx, wx) {
		t.Errorf("%s: sum of x - shift %v, want %v", name, gx, wx)
	}
	if gx, wx := got.sxx.Value(), want.sxx.Value(); !same(gx, wx) {
		t.Errorf("%s: sum of (x - shift)^2 %v, want %v", name, gx, wx)
	}
	for i := range got.acc {
		if !got.acc[i].Empty() {
			t.Errorf("%s: accumulator %d not flushed", name, i)
		}
	}
}

func quantileEdges(n int) []float64 {
	e := make([]float64, n-1)
	for i := range e {
		e[i] = math.Sqrt2 * math.Erfinv(2*float64(i+1)/float64(n)-1)
	}
	return e
}

// TestBinIndex: binIndex and edgeIndex find baselines.BinIndex's bin, at
// the edges, just beside them, between and beyond them and at signed
// zeros; for edges of every shape an edgeIndex meets: few, normal and
// heavy-tailed quantiles, edges bunched in one cell, edges over float64's
// whole range or subnormals apart (where it falls back to searching),
// or a few ulps apart.
func TestBinIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	lognormal := quantileEdges(200)
	for i, e := range lognormal {
		lognormal[i] = math.Exp(3 * e)
	}
	bunched := []float64{-1e6}
	for i := range 50 {
		bunched = append(bunched, float64(i)*1e-9)
	}
	bunched = append(bunched, 1e6)
	ulps := []float64{1}
	for range 20 {
		ulps = append(ulps, math.Nextafter(ulps[len(ulps)-1], 2))
	}
	tiny := []float64{5e-324}
	for range 20 {
		tiny = append(tiny, math.Nextafter(tiny[len(tiny)-1], 1))
	}
	wide := []float64{-math.MaxFloat64, -1e300, -1, 0, 1e-300, 1, 1e300, 1e308, math.MaxFloat64}
	for _, tc := range []struct {
		edges []float64
		table bool // whether an edgeIndex makes its table
	}{
		{nil, false}, {[]float64{0}, false}, {[]float64{-1, 1}, false}, {[]float64{-100, -10, 0, 10, 100}, false},
		{quantileEdges(100), true}, {quantileEdges(2), false}, {quantileEdges(64), true}, {quantileEdges(65), true},
		{quantileEdges(9), true}, {lognormal, true}, {bunched, true}, {ulps, true}, {tiny, false}, {wide, false},
	} {
		edges := tc.edges
		xs := []float64{-math.MaxFloat64, math.Copysign(0, -1), 0, 5e-324, -5e-324, math.MaxFloat64}
		for _, e := range edges {
			xs = append(xs, e, math.Nextafter(e, math.Inf(-1)), math.Nextafter(e, math.Inf(1)))
		}
		for range 2000 {
			xs = append(xs, r.NormFloat64()*2, math.Exp(r.NormFloat64()*4), math.Ldexp(r.Float64()-0.5, r.IntN(2098)-1074))
		}
		idx := newEdgeIndex(edges)
		if table := idx.start != nil; table != tc.table {
			t.Errorf("edges %v: table %v, want %v", edges, table, tc.table)
		}
		for _, x := range xs {
			want := baselines.BinIndex(edges, x)
			if got := binIndex(edges, x); got != want {
				t.Errorf("edges %v: binIndex of %v is %d, want %d", edges, x, got, want)
			}
			var got [1]int
			if idx.bins([]float64{x}, got[:]); got[0] != want {
				t.Errorf("edges %v: edgeIndex bin of %v is %d, want %d", edges, x, got[0], want)
			}
		}
	}
}
