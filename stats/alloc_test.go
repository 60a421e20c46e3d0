package stats

import (
	"math"
	"testing"
)

// TestAllocs checks the hot paths that must not allocate: Moments.Add per
// value, and every statistic documented as allocation-free on histogram
// counts.
func TestAllocs(t *testing.T) {
	var m Moments
	x := 0.0
	if a := testing.AllocsPerRun(10000, func() { m.Add(x); x += 0.37 }); a != 0 {
		t.Errorf("Moments.Add allocates %v times per value", a)
	}
	if a := testing.AllocsPerRun(100, func() { m.Add(math.NaN()); m.Merge(Moments{N: 2, Mean: 1, M2: 3}) }); a != 0 {
		t.Errorf("Moments.Merge allocates %v times", a)
	}
	ref := []float64{120, 80, 0, 45, 300, 7, 1, 0, 55, 90}
	cur := []float64{100, 95, 3, 40, 280, 0, 4, 0, 60, 70}
	shifted := []float64{0, 0, 0, 0, 10, 7, 100, 40, 300, 90} // CvM p from the upper tail
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"ChiSquared", func() { ChiSquared(ref, cur) }},
		{"GTest", func() { GTest(ref, cur) }},
		{"JensenShannon", func() { JensenShannon(ref, cur) }},
		{"Hellinger", func() { Hellinger(ref, cur) }},
		{"KLDivergence", func() { KLDivergence(ref, cur, 1e-4) }},
		{"TotalVariation", func() { TotalVariation(ref, cur) }},
		{"LInfinity", func() { LInfinity(ref, cur) }},
		{"PSI", func() { PSI(ref, cur, 0) }},
		{"ProportionZTest", func() { ProportionZTest(30, 100, 45, 120) }},
		{"ZTestMeans", func() { ZTestMeans(m, Moments{N: 50, Mean: 2, M2: 40}) }},
		{"WelchTTestMoments", func() { WelchTTestMoments(m, Moments{N: 50, Mean: 2, M2: 40}) }},
		{"KolmogorovN/PelzGood", func() { KolmogorovN(1000, 1/math.Sqrt(1000)) }},
		{"KolmogorovN/Smirnov", func() { KolmogorovN(50000, 0.05) }},
		{"AndersonDarlingBinned", func() { AndersonDarlingBinned(ref, cur) }},
		{"CramerVonMisesBinned", func() { CramerVonMisesBinned(ref, cur) }},
		{"CramerVonMisesBinned/tail", func() { CramerVonMisesBinned(ref, shifted) }},
	} {
		if a := testing.AllocsPerRun(100, c.f); a != 0 {
			t.Errorf("%s allocates %v times", c.name, a)
		}
	}
}
