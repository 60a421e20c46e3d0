package stats

import (
	"encoding/binary"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// exactSum is the reference: the sum in exact binary arithmetic (2,200 bits
// hold any sum of fewer than 2^100 finite float64 values without rounding),
// rounded once to the nearest float64, ties to even.
func exactSum(xs []float64) float64 {
	acc := new(big.Float).SetPrec(2200).SetMode(big.ToNearestEven)
	for _, x := range xs {
		acc.Add(acc, new(big.Float).SetFloat64(x))
	}
	f, _ := acc.Float64()
	return f
}

func exactlySummed(xs []float64) float64 {
	var s Sum
	for _, x := range xs {
		s.Add(x)
	}
	return s.Value()
}

func sumCases(r *rand.Rand) map[string][]float64 {
	n := 1 + r.IntN(3000)
	cases := map[string][]float64{
		"empty":          nil,
		"halfway":        {1e-16, 1, 1e16},           // CPython's example: rounds up to ...02
		"cancel":         {1e100, 1, -1e100, 1e-100}, // naive summation gives 0
		"tenths":         make([]float64, 10),
		"mixed signs":    make([]float64, n),
		"wide exponents": make([]float64, n),
		"decimals":       make([]float64, n),
		"subnormals":     {5e-324, 5e-324, -1e-323, math.SmallestNonzeroFloat64},
	}
	for i := range cases["tenths"] {
		cases["tenths"][i] = 0.1
	}
	for i := range cases["mixed signs"] {
		cases["mixed signs"][i] = r.NormFloat64() * 1e6
		cases["wide exponents"][i] = math.Ldexp(r.Float64()-0.5, r.IntN(400)-200)
		cases["decimals"][i] = math.Round(r.ExpFloat64()*1e4*100) / 1e4 // 4 decimals, as logged
	}
	return cases
}

func TestSumExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 20 {
		for name, xs := range sumCases(r) {
			want := exactSum(xs)
			if got := exactlySummed(xs); got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
				t.Errorf("round %d %s: got %v, want %v (exact, rounded once)", round, name, got, want)
			}
			// Any order, and any split into merged parts, gives the same bits.
			perm := append([]float64(nil), xs...)
			r.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
			var a, b Sum
			cut := 0
			if len(perm) > 0 {
				cut = r.IntN(len(perm) + 1)
			}
			for _, x := range perm[:cut] {
				a.Add(x)
			}
			for _, x := range perm[cut:] {
				b.Add(x)
			}
			a.Merge(&b)
			if got := a.Value(); math.Float64bits(got) != math.Float64bits(want) {
				t.Errorf("round %d %s: shuffled and merged at %d: %v, want %v", round, name, cut, got, want)
			}
		}
	}
}

func TestSumSpecial(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		want float64
	}{
		{[]float64{1, math.Inf(1), 2}, math.Inf(1)},
		{[]float64{math.Inf(1), math.Inf(-1)}, math.NaN()},
		{[]float64{1, math.NaN()}, math.NaN()},
		{[]float64{math.MaxFloat64, math.MaxFloat64}, math.Inf(1)},
		{[]float64{-math.MaxFloat64, -math.MaxFloat64, 1}, math.Inf(-1)},
	} {
		got := exactlySummed(tc.xs)
		if got != tc.want && !(math.IsNaN(got) && math.IsNaN(tc.want)) {
			t.Errorf("sum %v = %v, want %v", tc.xs, got, tc.want)
		}
	}
}

// TestSumSpills adds values whose exact sum needs more partials than a Sum
// keeps inline.
func TestSumSpills(t *testing.T) {
	var xs []float64
	for e := -1000; e <= 1000; e += 60 {
		xs = append(xs, math.Ldexp(1, e))
	}
	var s Sum
	for _, x := range xs {
		s.Add(x)
	}
	if s.n <= sumInline {
		t.Fatalf("test needs more than %d partials, got %d", sumInline, s.n)
	}
	if got, want := s.Value(), exactSum(xs); got != want {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestSumAddDoesNotAllocate(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	xs := make([]float64, 1000)
	for i := range xs {
		xs[i] = math.Round(r.NormFloat64()*1e6) / 1e4
	}
	var s Sum
	if a := testing.AllocsPerRun(10, func() {
		for _, x := range xs {
			s.Add(x)
		}
	}); a != 0 {
		t.Errorf("%v allocations per 1000 Adds, want 0", a)
	}
}

func FuzzSum(f *testing.F) {
	f.Add([]byte{}, uint8(0))
	f.Add(binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, math.Float64bits(1e16)), math.Float64bits(1)), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, cut uint8) {
		var xs []float64
		for len(data) >= 8 {
			xs = append(xs, math.Float64frombits(binary.LittleEndian.Uint64(data)))
			data = data[8:]
		}
		var special bool
		for _, x := range xs {
			special = special || math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > 1e307
		}
		var a, b Sum
		k := 0
		if len(xs) > 0 {
			k = int(cut) % (len(xs) + 1)
		}
		for _, x := range xs[:k] {
			a.Add(x)
		}
		for i := len(xs) - 1; i >= k; i-- { // the rest backwards
			b.Add(xs[i])
		}
		a.Merge(&b)
		got := a.Value()
		if special {
			return // overflow and non-finite inputs: defined but not exact
		}
		if want := exactSum(xs); math.Float64bits(got) != math.Float64bits(want) && !(got == 0 && want == 0) {
			t.Fatalf("sum of %v: got %v, want %v", xs, got, want)
		}
	})
}
