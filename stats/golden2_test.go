package stats

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"
)

// gf is a float64 in stats.json, where NaN and infinities are written as
// the strings "NaN", "+Inf" and "-Inf".
type gf float64

func (f *gf) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		switch s {
		case "NaN":
			*f = gf(math.NaN())
		case "+Inf":
			*f = gf(math.Inf(1))
		case "-Inf":
			*f = gf(math.Inf(-1))
		default:
			return fmt.Errorf("unknown float string %q", s)
		}
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = gf(v)
	return nil
}

type xyCase struct {
	Name string
	X, Y []float64
}

type countCase struct {
	Name string
	P, Q []float64
	Want gf
}

// golden2 mirrors testdata/golden/stats.json, written by
// testdata/golden/gen_stats.py from SciPy (and statsmodels).
type golden2 struct {
	ScipyVersion string `json:"scipy_version"`
	NumpyVersion string `json:"numpy_version"`
	PZSource     string `json:"proportion_ztest_source"`
	Kolmogn      []struct {
		N  int
		D  float64
		SF gf
	} `json:"kolmogn"`
	KSAuto []struct {
		xyCase
		D, P gf
	} `json:"ks_2samp_auto"`
	KSBinned []struct {
		Name     string
		Ref, Cur []float64
		D, P     gf
	} `json:"ks_binned"`
	AD []struct {
		Name    string
		Samples [][]float64
		Stat, P gf
	} `json:"anderson_ksamp"`
	CvM []struct {
		xyCase
		Stat, P gf
	} `json:"cramervonmises_2samp"`
	Energy []struct {
		Name         string
		U, UW, V, VW []float64
		Want         gf
	} `json:"energy_distance"`
	Welch []struct {
		xyCase
		T, DF, P gf
	} `json:"welch"`
	ZMeans []struct {
		xyCase
		Z, P gf
	} `json:"ztest_means"`
	WNorm []struct {
		xyCase
		Want gf
	} `json:"wasserstein_normalized"`
	Hellinger []countCase `json:"hellinger"`
	KL        []struct {
		countCase
		Eps float64
	} `json:"kl"`
	TV    []countCase `json:"total_variation"`
	LInf  []countCase `json:"linf"`
	GTest []struct {
		Name     string
		Ref, Cur []float64
		Stat, P  gf
		DOF      int
	} `json:"gtest"`
	PZ []struct {
		X1, N1, X2, N2 float64
		Z, P           gf
	} `json:"proportion_ztest"`
}

// relErr returns |got - want| / |want| (0 when both are equal, including
// NaN with NaN and equal infinities; +Inf when exactly one is NaN).
func relErr(got, want float64) float64 {
	switch {
	case got == want || (math.IsNaN(got) && math.IsNaN(want)):
		return 0
	case math.IsNaN(got) || math.IsNaN(want) || math.IsInf(want, 0):
		return math.Inf(1)
	case want == 0:
		return math.Abs(got)
	}
	return math.Abs(got-want) / math.Abs(want)
}

// checker records the largest relative error per function and fails cases
// outside tol (relative; absolute below absTol for values near 0).
type checker struct {
	t     *testing.T
	worst map[string]float64
}

func (c *checker) check(fn, name string, got float64, want gf, tol float64) {
	c.t.Helper()
	w := float64(want)
	e := relErr(got, w)
	if e > c.worst[fn] && math.Abs(w) >= 0x1p-1022 {
		c.worst[fn] = e
	}
	// Subnormal reference values (below 2^-1022) carry few significant
	// digits in either implementation; they are compared absolutely.
	if math.Abs(w) < 0x1p-1022 && math.Abs(got-w) <= 1e-9*0x1p-1022 {
		return
	}
	if e > tol && !(math.Abs(got-w) <= absTol && fn != "KolmogorovN") {
		c.t.Errorf("%s %s: got %.17g, scipy %.17g (rel err %.3g)", fn, name, got, w, e)
	}
}

func TestGolden2(t *testing.T) {
	raw, err := os.ReadFile("testdata/golden/stats.json")
	if err != nil {
		t.Fatalf("read golden file: %v", err)
	}
	var g golden2
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatalf("decode testdata/golden/stats.json: %v", err)
	}
	t.Logf("golden values from scipy %s, numpy %s; proportion z-test from %s", g.ScipyVersion, g.NumpyVersion, g.PZSource)
	for name, n := range map[string]int{
		"kolmogn": len(g.Kolmogn), "ks_2samp_auto": len(g.KSAuto), "ks_binned": len(g.KSBinned),
		"anderson_ksamp": len(g.AD), "cramervonmises_2samp": len(g.CvM), "energy_distance": len(g.Energy),
		"welch": len(g.Welch), "ztest_means": len(g.ZMeans), "wasserstein_normalized": len(g.WNorm),
		"hellinger": len(g.Hellinger), "kl": len(g.KL), "total_variation": len(g.TV), "linf": len(g.LInf),
		"gtest": len(g.GTest), "proportion_ztest": len(g.PZ),
	} {
		if n < 8 {
			t.Errorf("golden file has %d %s cases, want at least 8", n, name)
		}
	}
	c := &checker{t: t, worst: map[string]float64{}}
	for _, k := range g.Kolmogn {
		c.check("KolmogorovN", fmt.Sprintf("n=%d d=%.17g", k.N, k.D), KolmogorovN(k.N, k.D), k.SF, relTol)
	}
	for _, k := range g.KSAuto {
		d, p := KS2SampAuto(k.X, k.Y)
		c.check("KS2SampAuto.d", k.Name, d, k.D, relTol)
		c.check("KS2SampAuto.p", k.Name, p, k.P, relTol)
	}
	for _, k := range g.KSBinned {
		d, p := KSBinned(k.Ref, k.Cur)
		c.check("KSBinned.d", k.Name, d, k.D, relTol)
		c.check("KSBinned.p", k.Name, p, k.P, relTol)
	}
	for _, k := range g.AD {
		s, p := AndersonDarlingKSample(k.Samples...)
		c.check("AndersonDarlingKSample.stat", k.Name, s, k.Stat, relTol)
		c.check("AndersonDarlingKSample.p", k.Name, p, k.P, relTol)
	}
	for _, k := range g.CvM {
		s, p := CramerVonMises2Samp(k.X, k.Y)
		c.check("CramerVonMises2Samp.stat", k.Name, s, k.Stat, relTol)
		// The asymptotic p is 1 - CDF in both implementations, so only
		// its absolute error is meaningful: for p near 1e-9 a last-digit
		// difference in the CDF is a 1e-7 relative difference in p.
		if math.Abs(p-float64(k.P)) <= 1e-14 {
			c.check("CramerVonMises2Samp.p", k.Name, p, k.P, math.Inf(1))
		} else {
			c.check("CramerVonMises2Samp.p", k.Name, p, k.P, relTol)
		}
	}
	for _, k := range g.Energy {
		c.check("EnergyDistance", k.Name, EnergyDistance(k.U, k.UW, k.V, k.VW), k.Want, relTol)
	}
	for _, k := range g.Welch {
		tt, df, p := WelchTTest(k.X, k.Y)
		c.check("WelchTTest.t", k.Name, tt, k.T, relTol)
		c.check("WelchTTest.df", k.Name, df, k.DF, relTol)
		c.check("WelchTTest.p", k.Name, p, k.P, relTol)
	}
	for _, k := range g.ZMeans {
		a, _ := meanVar(k.X)
		b, _ := meanVar(k.Y)
		z, p := ZTestMeans(a, b)
		c.check("ZTestMeans.z", k.Name, z, k.Z, relTol)
		c.check("ZTestMeans.p", k.Name, p, k.P, relTol)
	}
	for _, k := range g.WNorm {
		c.check("WassersteinNormalized", k.Name, WassersteinNormalized(k.X, k.Y), k.Want, relTol)
	}
	for _, k := range g.Hellinger {
		c.check("Hellinger", k.Name, Hellinger(k.P, k.Q), k.Want, relTol)
	}
	for _, k := range g.KL {
		c.check("KLDivergence", k.Name, KLDivergence(k.P, k.Q, k.Eps), k.Want, relTol)
	}
	for _, k := range g.TV {
		c.check("TotalVariation", k.Name, TotalVariation(k.P, k.Q), k.Want, relTol)
	}
	for _, k := range g.LInf {
		c.check("LInfinity", k.Name, LInfinity(k.P, k.Q), k.Want, relTol)
	}
	for _, k := range g.GTest {
		s, p, dof := GTest(k.Ref, k.Cur)
		c.check("GTest.stat", k.Name, s, k.Stat, relTol)
		c.check("GTest.p", k.Name, p, k.P, relTol)
		if dof != k.DOF {
			t.Errorf("GTest %s: dof %d, scipy %d", k.Name, dof, k.DOF)
		}
	}
	for _, k := range g.PZ {
		z, p := ProportionZTest(k.X1, k.N1, k.X2, k.N2)
		name := fmt.Sprintf("%v/%v vs %v/%v", k.X1, k.N1, k.X2, k.N2)
		c.check("ProportionZTest.z", name, z, k.Z, relTol)
		c.check("ProportionZTest.p", name, p, k.P, relTol)
	}
	for fn, e := range c.worst {
		t.Logf("largest relative error %-30s %.3g", fn, e)
	}
}

// sumOf returns the sum of x in index order.
func sumOf(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s
}
