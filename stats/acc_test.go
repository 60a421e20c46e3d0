package stats

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// accCases are sums that take every path of Acc: values inside and outside
// the chunks' range, carries, cancellation to zero, signed zeros,
// subnormals, huge values and overflow, ±Inf and NaN.
func accCases(r *rand.Rand) map[string][]float64 {
	cases := sumCases(r)
	n := 1 + r.IntN(5000)
	more := map[string][]float64{
		"one":             {1},
		"negative zero":   {math.Copysign(0, -1)},
		"negative zeros":  {math.Copysign(0, -1), math.Copysign(0, -1)},
		"zeros":           {math.Copysign(0, -1), 0, math.Copysign(0, -1)},
		"cancel to zero":  {1.5, -0.25, -1.25, math.Copysign(0, -1)},
		"cancel, -0 last": {3, math.Copysign(0, -1), -3},
		"far apart":       {1e300, 1, 1e-300, -1e300, 5e-324},
		"tiny":            {5e-324, 1e-310, -2.5e-308, 2.2250738585072014e-308, -5e-324},
		"overflow":        {math.MaxFloat64, math.MaxFloat64, -math.MaxFloat64},
		"no overflow":     {math.MaxFloat64, -math.MaxFloat64, math.MaxFloat64, 1, -1e300},
		"overflow down":   {-math.MaxFloat64, 1, -math.MaxFloat64},
		"both overflows":  {math.MaxFloat64, math.MaxFloat64, -math.MaxFloat64, -math.MaxFloat64, -math.MaxFloat64},
		"inf":             {1, math.Inf(1), 2, -1e308},
		"inf and -inf":    {math.Inf(-1), 3, math.Inf(1)},
		"nan":             {1, math.NaN(), math.Inf(1)},
		"huge and small":  make([]float64, n),
		"all exponents":   make([]float64, n),
		"same sign":       make([]float64, n),
		"negative total":  make([]float64, n),
		"long":            make([]float64, 3*accCarryEvery+7),
		"moments":         make([]float64, n),
		// 1 sets the chunks' range; the rest, 2^64 above it, add to the
		// top chunks until the carry chunk holds more than 32 bits.
		"top carries": make([]float64, 5000),
	}
	more["top carries"][0] = 1
	for i := range more["huge and small"] {
		more["huge and small"][i] = math.Ldexp(r.Float64()-0.5, r.IntN(2100)-1075)
		more["all exponents"][i] = math.Float64frombits(r.Uint64()&^(0x7ff<<52) | uint64(r.IntN(0x7ff))<<52)
		more["same sign"][i] = r.ExpFloat64() * 1e3
		more["negative total"][i] = r.NormFloat64() - 0.1
		d := r.NormFloat64()*1e3 + 0.37
		more["moments"][i] = d * d
	}
	for i := range more["long"] {
		more["long"][i] = math.Ldexp(1-r.Float64()*2, 52+r.IntN(11)) // full mantissas, each near the top of its chunk
	}
	for i := 1; i < len(more["top carries"]); i++ {
		more["top carries"][i] = math.Ldexp(2-r.Float64()/4, 65)
	}
	for name, xs := range more {
		cases[name] = xs
	}
	return cases
}

// viaAcc adds xs to s through an Acc, flushing after each run of flushEvery
// values (0: once, at the end), with Add or, slice, AddSlice.
func viaAcc(s *Sum, xs []float64, flushEvery int, slice bool) {
	var a Acc
	for len(xs) > 0 {
		run := xs
		if flushEvery > 0 {
			run = xs[:min(flushEvery, len(xs))]
		}
		xs = xs[len(run):]
		if slice {
			a.AddSlice(s, run)
		} else {
			for _, x := range run {
				a.Add(s, x)
			}
		}
		a.Flush(s)
	}
	a.Flush(s)
}

func sameFloat(x, y float64) bool {
	return math.Float64bits(x) == math.Float64bits(y) || math.IsNaN(x) && math.IsNaN(y)
}

// TestAccMatchesSum: a Sum fed through an Acc has the Value of the Sum fed
// value by value, whatever Sum it started from and however often the Acc is
// flushed; and where nothing overflows, that is the exact sum.
func TestAccMatchesSum(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	starts := map[string][]float64{
		"empty":          nil,
		"negative zero":  {math.Copysign(0, -1)},
		"one":            {1},
		"big negative":   {-1e200, 3e-250},
		"inf":            {math.Inf(1)},
		"near overflow":  {math.MaxFloat64},
		"many partials":  {1e300, 1e200, 1e100, 1, 1e-100, 1e-200, 1e-300},
		"nan":            {math.NaN()},
		"positive zeros": {0, math.Copysign(0, -1)},
	}
	for round := range 10 {
		for name, xs := range accCases(r) {
			for sname, start := range starts {
				for _, every := range []int{0, 1, 7, accCarryEvery} {
					slice := every == 7 || every == 0 && round%2 == 1
					var want, got Sum
					for _, x := range start {
						want.Add(x)
						got.Add(x)
					}
					for _, x := range xs {
						want.Add(x)
					}
					viaAcc(&got, xs, every, slice)
					if w, g := want.Value(), got.Value(); !sameFloat(w, g) {
						t.Errorf("round %d %s onto %s, flushed every %d (AddSlice %v): got %v (%#x), want %v (%#x)", round, name, sname, every, slice, g, math.Float64bits(g), w, math.Float64bits(w))
					}
					// The Sum goes on as it would have.
					want.Add(0.1)
					got.Add(0.1)
					if w, g := want.Value(), got.Value(); !sameFloat(w, g) {
						t.Errorf("round %d %s onto %s, flushed every %d, then 0.1: got %v, want %v", round, name, sname, every, g, w)
					}
				}
			}
			if finiteBelow(xs, 0x1p1020) {
				var s Sum
				viaAcc(&s, xs, 0, round%2 == 0)
				if got, want := s.Value(), exactSum(xs); !sameFloat(got, want) && !(got == 0 && want == 0) {
					t.Errorf("round %d %s: got %v, want %v (exact, rounded once)", round, name, got, want)
				}
			}
		}
	}
}

// finiteBelow reports whether xs are finite and their magnitudes add up to
// less than limit: no running total of them, in any order, comes near
// overflowing.
func finiteBelow(xs []float64, limit float64) bool {
	var t float64
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
		t += math.Abs(x)
	}
	return t < limit
}

// TestAddGrouped: per-group sums through AddGrouped are the Sums of adding
// each value to its group's Sum, in groups of every size and mix.
func TestAddGrouped(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for round := range 5 {
		for name, xs := range accCases(r) {
			groups := 1 + r.IntN(100)
			group := make([]int, len(xs))
			for j := range group {
				group[j] = r.IntN(groups)
				if r.IntN(4) == 0 && j > 0 {
					group[j] = group[j-1]
				}
			}
			want, got := make([]Sum, groups), make([]Sum, groups)
			for j, x := range xs {
				want[group[j]].Add(x)
			}
			accs := make([]Acc, groups)
			for cut := 0; cut < len(xs); {
				end := min(len(xs), cut+1+r.IntN(2*accCarryEvery))
				AddGrouped(accs, got, group[cut:end], xs[cut:end])
				for g := range accs {
					accs[g].Flush(&got[g])
				}
				cut = end
			}
			for g := range want {
				if w, v := want[g].Value(), got[g].Value(); !sameFloat(w, v) {
					t.Errorf("round %d %s: group %d of %d: got %v, want %v", round, name, g, groups, v, w)
				}
			}
		}
	}
}

// TestAddMoments: the sums of x - shift and of its square through
// AddMoments have the Values of Sums fed value by value, for every case
// (zeros, subnormals, overflows, Inf and NaN among them), shifts of several
// sizes and runs cut anywhere.
func TestAddMoments(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	for round := range 3 {
		for name, xs := range accCases(r) {
			for _, shift := range []float64{0, 0.37, -1e3, 1e300, math.Copysign(0, -1)} {
				var want1, want2, got1, got2 Sum
				for _, x := range xs {
					d := x - shift
					want1.Add(d)
					want2.Add(d * d)
				}
				var a1, a2 Acc
				for cut := 0; cut < len(xs); {
					end := min(len(xs), cut+1+r.IntN(2*accCarryEvery))
					AddMoments(&a1, &got1, &a2, &got2, xs[cut:end], shift)
					if r.IntN(2) == 0 {
						a1.Flush(&got1)
						a2.Flush(&got2)
					}
					cut = end
				}
				a1.Flush(&got1)
				a2.Flush(&got2)
				if w, v := want1.Value(), got1.Value(); !sameFloat(w, v) {
					t.Errorf("round %d %s shift %g: sum %v, want %v", round, name, shift, v, w)
				}
				if w, v := want2.Value(), got2.Value(); !sameFloat(w, v) {
					t.Errorf("round %d %s shift %g: sum of squares %v, want %v", round, name, shift, v, w)
				}
			}
		}
	}
}

// TestAccReuse: a flushed Acc is empty and takes new values at any
// magnitude (its chunks' range is set anew, or they go to the Sum).
func TestAccReuse(t *testing.T) {
	var a Acc
	for _, xs := range [][]float64{{1e-300, 2e-300}, {1e300, -1e299}, {math.Inf(1)}, {3, 4}, {math.Copysign(0, -1)}, {1e-310}} {
		var s, want Sum
		for _, x := range xs {
			a.Add(&s, x)
			want.Add(x)
		}
		a.Flush(&s)
		if !a.Empty() {
			t.Errorf("%v: Acc not empty after Flush", xs)
		}
		if !sameFloat(s.Value(), want.Value()) {
			t.Errorf("%v: got %v, want %v", xs, s.Value(), want.Value())
		}
	}
}

func TestAccDoesNotAllocate(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	xs := make([]float64, 5000)
	for i := range xs {
		xs[i] = math.Round(r.NormFloat64()*1e6) / 1e4
	}
	xs[17], xs[99] = 1e-200, math.Copysign(0, -1) // outside the chunks' range, and a zero
	var a Acc
	var s Sum
	if n := testing.AllocsPerRun(10, func() {
		for _, x := range xs {
			a.Add(&s, x)
		}
		a.Flush(&s)
	}); n != 0 {
		t.Errorf("%v allocations per 5000 Adds and a Flush, want 0", n)
	}
}

// FuzzAcc: adding values through an Acc (Add, then AddSlice after a Flush
// at a cut) gives the Sum of adding them one by one, bit for bit, and the
// exact sum, unless the values come near overflowing (where Sum's own
// result depends on order).
func FuzzAcc(f *testing.F) {
	f.Add([]byte{}, uint8(0), uint8(0))
	f.Add(binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, math.Float64bits(1e16)), math.Float64bits(1)), uint8(1), uint8(3))
	f.Add(binary.LittleEndian.AppendUint64(nil, 1<<63), uint8(0), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, cut, reps uint8) {
		var xs []float64
		for len(data) >= 8 {
			xs = append(xs, math.Float64frombits(binary.LittleEndian.Uint64(data)))
			data = data[8:]
		}
		for range int(reps) % 4 { // repeated, to reach carries
			xs = append(xs, xs...)
		}
		var want Sum
		for _, x := range xs {
			want.Add(x)
		}
		var got Sum
		var a Acc
		k := min(int(cut), len(xs))
		for _, x := range xs[:k] { // Add up to the cut, Flush, AddSlice the rest
			a.Add(&got, x)
		}
		a.Flush(&got)
		a.AddSlice(&got, xs[k:])
		a.Flush(&got)
		if !finiteBelow(xs, 0x1p1020) {
			return // near overflow: defined, but Sum depends on the order of its Adds
		}
		if g, w := got.Value(), want.Value(); !sameFloat(g, w) {
			t.Fatalf("sum of %v: via Acc %v (%#x), by Sum.Add %v (%#x)", xs, g, math.Float64bits(g), w, math.Float64bits(w))
		}
		if g, w := got.Value(), exactSum(xs); !sameFloat(g, w) && !(g == 0 && w == 0) {
			t.Fatalf("sum of %v: via Acc %v, exact %v", xs, g, w)
		}
	})
}

// BenchmarkExactSum times one value added exactly, by Sum.Add (impl=Sum)
// or by Acc.Add with a Flush into the Sum every 1000 values (impl=Acc,
// about a window's share of a batch), on the same values: standard normal,
// 4 decimals, as logged. Compare with benchstat -col /impl.
func BenchmarkExactSum(b *testing.B) {
	xs := benchValues()
	b.Run("impl=Sum", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(8 * int64(len(xs)))
		var s Sum
		for b.Loop() {
			for _, x := range xs {
				s.Add(x)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(xs)), "ns/value")
	})
	b.Run("impl=Acc", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(8 * int64(len(xs)))
		var s Sum
		var a Acc
		for b.Loop() {
			for _, x := range xs {
				a.Add(&s, x)
			}
			a.Flush(&s)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(xs)), "ns/value")
	})
	b.Run("impl=AccSlice", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(8 * int64(len(xs)))
		var s Sum
		var a Acc
		for b.Loop() {
			a.AddSlice(&s, xs)
			a.Flush(&s)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(xs)), "ns/value")
	})
}

func benchValues() []float64 {
	r := rand.New(rand.NewPCG(9, 10))
	xs := make([]float64, 1000)
	for i := range xs {
		xs[i] = math.Round(r.NormFloat64()*1e4) / 1e4
	}
	return xs
}
