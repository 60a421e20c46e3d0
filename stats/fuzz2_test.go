package stats

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// floatsFrom decodes b as little-endian float64s (at most max of them), so
// fuzzers reach NaN, ±Inf, subnormals and ties.
func floatsFrom(b []byte, max int) []float64 {
	n := min(len(b)/8, max)
	out := make([]float64, n)
	for i := range out {
		out[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return out
}

// countsFrom decodes b as small non-negative counts, one per byte, with the
// byte 0xff mapped to NaN to exercise rejection.
func countsFrom(b []byte) []float64 {
	out := make([]float64, len(b))
	for i, c := range b {
		out[i] = float64(c % 17)
		if c == 0xff {
			out[i] = math.NaN()
		}
	}
	return out
}

func f64bytes(xs ...float64) []byte {
	b := make([]byte, 8*len(xs))
	for i, x := range xs {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return b
}

func isProb(p float64) bool { return math.IsNaN(p) || (p >= 0 && p <= 1) }

func addSampleSeeds(f *testing.F) {
	f.Add(f64bytes(1, 2, 3), f64bytes(2, 3, 4, 5))
	f.Add(f64bytes(1, 1, 1), f64bytes(1, 1))
	f.Add(f64bytes(math.NaN(), 1), f64bytes(0, 1))
	f.Add(f64bytes(math.Inf(1), 1, math.Inf(-1)), f64bytes(0, 1))
	f.Add([]byte{}, f64bytes(1))
	f.Add(f64bytes(0), f64bytes(0))
}

func FuzzKolmogorovN(f *testing.F) {
	f.Add(10, 0.3)
	f.Add(141, 0.01)
	f.Add(1000000, 0.001)
	f.Add(0, 0.5)
	f.Fuzz(func(t *testing.T, n int, d float64) {
		n %= 3000000 // keep the O(n) Smirnov sum fast
		if sf := KolmogorovN(n, d); !isProb(sf) {
			t.Fatalf("KolmogorovN(%d, %g) = %g", n, d, sf)
		}
	})
}

func FuzzKS2SampAuto(f *testing.F) {
	addSampleSeeds(f)
	f.Fuzz(func(t *testing.T, a, b []byte) {
		d, p := KS2SampAuto(floatsFrom(a, 300), floatsFrom(b, 300))
		if !isProb(d) || !isProb(p) {
			t.Fatalf("KS2SampAuto = (%g, %g)", d, p)
		}
	})
}

func FuzzAndersonDarlingKSample(f *testing.F) {
	addSampleSeeds(f)
	f.Fuzz(func(t *testing.T, a, b []byte) {
		_, p := AndersonDarlingKSample(floatsFrom(a, 200), floatsFrom(b, 200))
		if !isProb(p) {
			t.Fatalf("AndersonDarlingKSample p = %g", p)
		}
	})
}

func FuzzCramerVonMises2Samp(f *testing.F) {
	addSampleSeeds(f)
	f.Fuzz(func(t *testing.T, a, b []byte) {
		_, p := CramerVonMises2Samp(floatsFrom(a, 200), floatsFrom(b, 200))
		if !isProb(p) {
			t.Fatalf("CramerVonMises2Samp p = %g", p)
		}
	})
}

func FuzzEnergyDistance(f *testing.F) {
	addSampleSeeds(f)
	f.Fuzz(func(t *testing.T, a, b []byte) {
		if e := EnergyDistance(floatsFrom(a, 200), nil, floatsFrom(b, 200), nil); e < 0 {
			t.Fatalf("EnergyDistance = %g", e)
		}
		if w := WassersteinNormalized(floatsFrom(a, 200), floatsFrom(b, 200)); w < 0 {
			t.Fatalf("WassersteinNormalized = %g", w)
		}
	})
}

func FuzzWelchTTest(f *testing.F) {
	addSampleSeeds(f)
	f.Fuzz(func(t *testing.T, a, b []byte) {
		x, y := floatsFrom(a, 200), floatsFrom(b, 200)
		if _, df, p := WelchTTest(x, y); !isProb(p) || df < 0 {
			t.Fatalf("WelchTTest df %g p %g", df, p)
		}
		var ma, mb Moments
		for _, v := range x {
			ma.Add(v)
		}
		for _, v := range y {
			mb.Add(v)
		}
		if _, p := ZTestMeans(ma, mb); !isProb(p) {
			t.Fatalf("ZTestMeans p = %g", p)
		}
	})
}

func FuzzCountDistances(f *testing.F) {
	f.Add([]byte{1, 2, 3}, []byte{3, 2, 1})
	f.Add([]byte{0, 0}, []byte{1, 0})
	f.Add([]byte{0xff}, []byte{1})
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		n := min(len(a), len(b))
		p, q := countsFrom(a[:n]), countsFrom(b[:n])
		for name, v := range map[string]float64{
			"Hellinger": Hellinger(p, q), "TotalVariation": TotalVariation(p, q), "LInfinity": LInfinity(p, q),
		} {
			if !isProb(v) {
				t.Fatalf("%s = %g", name, v)
			}
		}
		if kl := KLDivergence(p, q, 0); kl < 0 {
			t.Fatalf("KLDivergence = %g", kl)
		}
		if kl := KLDivergence(p, q, 1e-4); kl < 0 || math.IsInf(kl, 0) {
			t.Fatalf("smoothed KLDivergence = %g", kl)
		}
		if g, pv, dof := GTest(p, q); g < 0 || !isProb(pv) || dof < 0 {
			t.Fatalf("GTest = (%g, %g, %d)", g, pv, dof)
		}
		if len(p) >= 2 {
			if _, pv := ProportionZTest(p[0], p[0]+p[1], q[0], q[0]+q[1]); !isProb(pv) {
				t.Fatalf("ProportionZTest p = %g", pv)
			}
		}
	})
}

// TestNewFunctionsBadInput checks the documented NaN results for empty,
// NaN and constant input (no panics).
func TestNewFunctionsBadInput(t *testing.T) {
	nan := math.NaN()
	for name, got := range map[string]float64{
		"KS2SampAuto empty":       first(KS2SampAuto(nil, []float64{1})),
		"KS2SampAuto NaN":         first(KS2SampAuto([]float64{nan}, []float64{1})),
		"AD one sample":           first(AndersonDarlingKSample([]float64{1, 2})),
		"AD constant":             first(AndersonDarlingKSample([]float64{1, 1}, []float64{1})),
		"CvM single":              first(CramerVonMises2Samp([]float64{1}, []float64{1, 2})),
		"Energy Inf":              EnergyDistance([]float64{math.Inf(1)}, nil, []float64{1}, nil),
		"WassersteinNorm const":   WassersteinNormalized([]float64{2, 2}, []float64{1}),
		"Welch single":            first(WelchTTest([]float64{1}, []float64{1, 2})),
		"ZTest zero var":          first(ZTestMeans(Moments{N: 3, Mean: 1}, Moments{N: 3, Mean: 1})),
		"Proportion zero":         first(ProportionZTest(0, 10, 0, 10)),
		"KolmogorovN n=0":         KolmogorovN(0, 0.5),
		"Hellinger empty":         Hellinger(nil, nil),
		"KLDivergence zero total": KLDivergence([]float64{0}, []float64{1}, 0),
	} {
		if !math.IsNaN(got) {
			t.Errorf("%s = %g, want NaN", name, got)
		}
	}
	if kl := KLDivergence([]float64{1, 1}, []float64{1, 0}, 0); !math.IsInf(kl, 1) {
		t.Errorf("KLDivergence with unseen q bin = %g, want +Inf", kl)
	}
	mustPanic(t, "Hellinger", func() { Hellinger([]float64{1}, []float64{1, 2}) })
	mustPanic(t, "GTest", func() { GTest([]float64{1}, []float64{1, 2}) })
}

func first(a float64, _ ...any) float64 { return a }

func benchSamples(n int, shift float64) []float64 {
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64() + shift
	}
	return x
}

func BenchmarkSampleTests(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		x, y := benchSamples(n, 0), benchSamples(n, 0.05)
		for _, bm := range []struct {
			name string
			f    func()
		}{
			{"KS2SampAuto", func() { KS2SampAuto(x, y) }},
			{"AndersonDarlingKSample", func() { AndersonDarlingKSample(x, y) }},
			{"CramerVonMises2Samp", func() { CramerVonMises2Samp(x, y) }},
			{"EnergyDistance", func() { EnergyDistance(x, nil, y, nil) }},
			{"WelchTTest", func() { WelchTTest(x, y) }},
			{"WassersteinNormalized", func() { WassersteinNormalized(x, y) }},
		} {
			b.Run(bm.name+"/n="+strconv.Itoa(n), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(16 * n))
				for b.Loop() {
					bm.f()
				}
			})
		}
	}
}
