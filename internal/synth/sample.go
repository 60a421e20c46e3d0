package synth

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
)

// newStream returns the PCG stream named by parts under seed. Distinct parts
// give independent streams, so a model's or a feature's draws do not depend
// on which other models or features exist.
func newStream(seed int64, parts ...string) *rand.Rand {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	s1 := splitmix64(uint64(seed) ^ splitmix64(h.Sum64()))
	s2 := splitmix64(s1 ^ 0x6a09e667f3bcc909)
	return rand.New(rand.NewPCG(s1, s2))
}

// splitmix64 is the finalizer of Steele, Lea and Flood's SplitMix64 (2014),
// used to spread seeds over all 64 bits.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// poisson draws from a Poisson distribution with mean lambda >= 0: by
// multiplying uniforms (Knuth) below 10, and by Hörmann's transformed
// rejection with squeeze (PTRS) from 10 on, as numpy does.
//
// Reference: Hörmann, W. (1993), The transformed rejection method for
// generating Poisson random variables, Insurance: Mathematics and Economics
// 12(1).
func poisson(r *rand.Rand, lambda float64) float64 {
	if lambda <= 0 {
		return 0
	}
	if lambda < 10 {
		limit := math.Exp(-lambda)
		k := 0.0
		for p := r.Float64(); p > limit; p *= r.Float64() {
			k++
		}
		return k
	}
	slam := math.Sqrt(lambda)
	loglam := math.Log(lambda)
	b := 0.931 + 2.53*slam
	a := -0.059 + 0.02483*b
	invalpha := 1.1239 + 1.1328/(b-3.4)
	vr := 0.9277 - 3.6224/(b-2)
	for {
		u := r.Float64() - 0.5
		v := r.Float64()
		us := 0.5 - math.Abs(u)
		k := math.Floor((2*a/us+b)*u + lambda + 0.43)
		if us >= 0.07 && v <= vr {
			return k
		}
		if k < 0 || (us < 0.013 && v > us) {
			continue
		}
		lg, _ := math.Lgamma(k + 1)
		if math.Log(v)+math.Log(invalpha)-math.Log(a/(us*us)+b) <= -lambda+k*loglam-lg {
			return k
		}
	}
}

// cumulative returns the cumulative sums of weights divided by their total,
// the last being exactly 1.
func cumulative(weights []float64, n int) []float64 {
	cdf := make([]float64, n)
	var sum float64
	for i := range n {
		w := 1.0
		if weights != nil {
			w = weights[i]
		}
		sum += w
		cdf[i] = sum
	}
	for i := range cdf {
		cdf[i] /= sum
	}
	cdf[n-1] = 1
	return cdf
}

// pick returns the index of the first cumulative weight above u in [0, 1).
// Categories of weight 0 are never picked.
func pick(cdf []float64, u float64) int {
	for i, c := range cdf {
		if u < c {
			return i
		}
	}
	return len(cdf) - 1 // not reached: cdf ends with 1 > u
}
