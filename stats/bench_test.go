package stats

import (
	"math"
	"sync"
	"testing"

	"github.com/driftwatch/driftwatch/bench/stats/samples"
)

// BenchmarkStatistic times every statistic of the package at n = 1e3, 1e5
// and 1e7 observations per side, on the inputs of package samples, which
// bench/stats/peers.py gives SciPy and statsmodels in the same run, side by
// side (make bench-stats).
//
// What one op is:
//   - raw-sample statistics (KS2SampAuto, KS2Samp, AndersonDarlingKSample,
//     CramerVonMises2Samp, EnergyDistance, Wasserstein,
//     WassersteinNormalized, WelchTTest): one call on x and y, n values each
//     (x ~ N(0,1), y ~ N(0.1, 1.1^2)); the sorts they do are included.
//   - MomentsZTestMeans: Moments.Add over the 2n values, then ZTestMeans.
//   - histogram statistics: one call on the counts of x and y on
//     samples.CoarseBins (10) standard-normal quantile bins (PSI,
//     JensenShannon, Hellinger, KLDivergence, TotalVariation, LInfinity) or
//     samples.FineBins (100) bins (KSBinned, AndersonDarlingBinned,
//     CramerVonMisesBinned, ChiSquared, GTest). Binning the
//     n values is not included (that is windows' BenchmarkFeatureAdd); the
//     cost depends on the number of bins, n only sets the counts.
//   - ProportionZTest: one call on the numbers of positive x and y out of n.
//   - KolmogorovN: one call at (n, 1/sqrt(n)).
//
// Inputs are built only for the sub-benchmarks that run, so that timing one
// of them at n = 1e7 does not build all. Each sub-benchmark reports the
// computed statistic as the "value" metric, so that peers.py can check it
// computed the same thing as its peer.
func BenchmarkStatistic(b *testing.B) {
	for _, n := range samples.Sizes {
		pair := sync.OnceValues(func() ([]float64, []float64) { return samples.Pair(n) })
		counts := func(bins int) func() ([]float64, []float64) {
			return sync.OnceValues(func() ([]float64, []float64) {
				x, y := pair()
				e := samples.Edges(bins)
				return samples.Counts(x, e), samples.Counts(y, e)
			})
		}
		hist10, hist100 := counts(samples.CoarseBins), counts(samples.FineBins)
		raw, h10, h100 := int64(16*n), int64(16*samples.CoarseBins), int64(16*samples.FineBins)
		// Each case returns the function to time, after building its inputs.
		for _, bm := range []struct {
			name  string
			bytes int64
			setup func() func() float64
		}{
			{"KS2SampAuto", raw, func() func() float64 {
				x, y := pair()
				return func() float64 { d, _ := KS2SampAuto(x, y); return d }
			}},
			{"KS2Samp", raw, func() func() float64 {
				x, y := pair()
				return func() float64 { d, _ := KS2Samp(x, y); return d }
			}},
			{"AndersonDarlingKSample", raw, func() func() float64 {
				x, y := pair()
				return func() float64 { s, _ := AndersonDarlingKSample(x, y); return s }
			}},
			{"CramerVonMises2Samp", raw, func() func() float64 {
				x, y := pair()
				return func() float64 { s, _ := CramerVonMises2Samp(x, y); return s }
			}},
			{"EnergyDistance", raw, func() func() float64 {
				x, y := pair()
				return func() float64 { return EnergyDistance(x, nil, y, nil) }
			}},
			{"Wasserstein", raw, func() func() float64 {
				x, y := pair()
				return func() float64 { return Wasserstein(x, nil, y, nil) }
			}},
			{"WassersteinNormalized", raw, func() func() float64 {
				x, y := pair()
				return func() float64 { return WassersteinNormalized(x, y) }
			}},
			{"WelchTTest", raw, func() func() float64 {
				x, y := pair()
				return func() float64 { t, _, _ := WelchTTest(x, y); return t }
			}},
			{"MomentsZTestMeans", raw, func() func() float64 {
				x, y := pair()
				return func() float64 {
					var a, c Moments
					for _, v := range x {
						a.Add(v)
					}
					for _, v := range y {
						c.Add(v)
					}
					z, _ := ZTestMeans(a, c)
					return z
				}
			}},
			{"PSI", h10, func() func() float64 {
				r, c := hist10()
				return func() float64 { return PSI(r, c, 0) }
			}},
			{"JensenShannon", h10, func() func() float64 {
				r, c := hist10()
				return func() float64 { return JensenShannon(r, c) }
			}},
			{"Hellinger", h10, func() func() float64 {
				r, c := hist10()
				return func() float64 { return Hellinger(r, c) }
			}},
			{"KLDivergence", h10, func() func() float64 {
				r, c := hist10()
				return func() float64 { return KLDivergence(r, c, 0) }
			}},
			{"TotalVariation", h10, func() func() float64 {
				r, c := hist10()
				return func() float64 { return TotalVariation(r, c) }
			}},
			{"LInfinity", h10, func() func() float64 {
				r, c := hist10()
				return func() float64 { return LInfinity(r, c) }
			}},
			{"KSBinned", h100, func() func() float64 {
				r, c := hist100()
				return func() float64 { d, _ := KSBinned(r, c); return d }
			}},
			{"AndersonDarlingBinned", h100, func() func() float64 {
				r, c := hist100()
				return func() float64 { s, _ := AndersonDarlingBinned(r, c); return s }
			}},
			{"CramerVonMisesBinned", h100, func() func() float64 {
				r, c := hist100()
				return func() float64 { s, _ := CramerVonMisesBinned(r, c); return s }
			}},
			{"ChiSquared", h100, func() func() float64 {
				r, c := hist100()
				return func() float64 { s, _, _ := ChiSquared(r, c); return s }
			}},
			{"GTest", h100, func() func() float64 {
				r, c := hist100()
				return func() float64 { s, _, _ := GTest(r, c); return s }
			}},
			{"ProportionZTest", 32, func() func() float64 {
				x, y := pair()
				k1, k2, fn := samples.Positives(x), samples.Positives(y), float64(n)
				return func() float64 { z, _ := ProportionZTest(k1, fn, k2, fn); return z }
			}},
			{"KolmogorovN", 16, func() func() float64 {
				d := samples.KolmogorovD(n)
				return func() float64 { return KolmogorovN(n, d) }
			}},
		} {
			b.Run(bm.name+"/n="+samples.Name(n), func(b *testing.B) {
				f := bm.setup()
				b.ReportAllocs()
				b.SetBytes(bm.bytes)
				v := math.NaN()
				for b.Loop() {
					v = f()
				}
				b.ReportMetric(v, "value")
			})
		}
	}
}
