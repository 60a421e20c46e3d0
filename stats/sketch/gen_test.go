package sketch

import (
	"math"
	"math/rand/v2"
)

// dist is a named random distribution for property tests.
type dist struct {
	name string
	draw func(r *rand.Rand) float64
}

// dists covers the shapes the bounds must survive: light and heavy tails,
// negative values, exact zeros, discrete atoms (ties), mixtures, large
// offsets (where a relative guarantee is weak) and tiny magnitudes.
var dists = []dist{
	{"normal", func(r *rand.Rand) float64 { return r.NormFloat64() }},
	{"normal_shift", func(r *rand.Rand) float64 { return 0.3 + 1.2*r.NormFloat64() }},
	{"normal_offset1000", func(r *rand.Rand) float64 { return 1000 + r.NormFloat64() }},
	{"lognormal", func(r *rand.Rand) float64 { return math.Exp(r.NormFloat64()) }},
	{"lognormal_wide", func(r *rand.Rand) float64 { return math.Exp(4 * r.NormFloat64()) }},
	{"neg_lognormal", func(r *rand.Rand) float64 { return -math.Exp(r.NormFloat64()) }},
	{"exponential", func(r *rand.Rand) float64 { return r.ExpFloat64() }},
	{"uniform_sym", func(r *rand.Rand) float64 { return 2*r.Float64() - 1 }},
	{"discrete_small", func(r *rand.Rand) float64 { return float64(r.IntN(5)) }},
	{"discrete_signed", func(r *rand.Rand) float64 { return float64(r.IntN(41) - 20) }},
	{"zero_inflated", func(r *rand.Rand) float64 {
		if r.Float64() < 0.4 {
			return 0
		}
		return r.ExpFloat64()
	}},
	{"mixture", func(r *rand.Rand) float64 {
		if r.Float64() < 0.7 {
			return -2 + 0.5*r.NormFloat64()
		}
		return 3 + r.NormFloat64()
	}},
	{"cauchy", func(r *rand.Rand) float64 { return math.Tan(math.Pi * (r.Float64() - 0.5)) }},
	{"pareto1.5", func(r *rand.Rand) float64 { return math.Pow(1-r.Float64(), -1/1.5) }},
	{"tiny", func(r *rand.Rand) float64 { return 1e-300 * r.NormFloat64() }},
	{"constant", func(r *rand.Rand) float64 { return 42 }},
}

func sample(r *rand.Rand, d dist, n int) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = d.draw(r)
	}
	return xs
}

// mustNew returns NewWithMaxBuckets(alpha, maxBuckets), or New(alpha) if
// maxBuckets is 0.
func mustNew(tb interface{ Fatal(...any) }, alpha float64, maxBuckets int) *Sketch {
	if maxBuckets == 0 {
		maxBuckets = DefaultMaxBuckets(alpha)
	}
	s, err := NewWithMaxBuckets(alpha, maxBuckets)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func sketchOf(tb interface{ Fatal(...any) }, alpha float64, maxBuckets int, xs []float64) *Sketch {
	s := mustNew(tb, alpha, maxBuckets)
	for _, x := range xs {
		s.Add(x)
	}
	return s
}
