package stats

import (
	"encoding/json"
	"math"
	"os"
	"slices"
	"testing"
)

// rankGolden mirrors testdata/golden/ranktests.json, written by
// testdata/golden/gen_ranktests.py from SciPy on the expanded samples of
// bin indices.
type rankGolden struct {
	Versions map[string]string
	Binned   []struct {
		Name          string
		Ref, Cur      vec
		ADStat        gf `json:"ad_stat"`
		ADP           gf `json:"ad_p"`
		CvMStat       gf `json:"cvm_stat"`
		CvMP          gf `json:"cvm_p"`
		SciPyCvMStat  gf `json:"scipy_cvm_stat"`
		SciPyCvMP     gf `json:"scipy_cvm_p"`
		SciPyCvMExact gf `json:"scipy_cvm_exact"`
	}
	LimitingSF []struct {
		Name    string
		X       float64
		SF      gf
		SciPySF gf `json:"scipy_sf"`
	} `json:"limiting_sf"`
}

// scipy's p-values of the Cramér-von Mises test are 1 - CDF of the
// limiting distribution, which cancels in the tail: below scipyCvMTail
// (T_n > 1) they are compared absolutely, within scipyCvMNoise, the
// rounding noise the generator asserts they stay within (it grows with
// T_n: 3e-5 at T_n = 5e6); the golden cvm_p holds the accurate tail
// there, and is compared relatively.
const (
	scipyCvMTail  = 0.0025
	scipyCvMNoise = 1e-4
)

// cvmExactRel bounds the relative error of the rank form of T against the
// exact rational value: it sums no large cancelling terms, so it stays
// within a few ulps times the number of cells where scipy's float T drifts
// by up to 1e-15 N (the script asserts that bound for scipy).
const cvmExactRel = 1e-13

// TestRankTestsGolden compares AndersonDarlingBinned and
// CramerVonMisesBinned with SciPy on the cases of ranktests.json, within
// relTol (CvM's p-values below cvmTail within cvmTailAbs), checks the rank
// form of the Cramér-von Mises statistic (CramerVonMises2Samp's, scipy's
// midranks) against scipy and against the exact value, and checks that the
// raw-sample functions give the binned ones' results on the expanded
// samples of the smaller cases.
func TestRankTestsGolden(t *testing.T) {
	raw, err := os.ReadFile("testdata/golden/ranktests.json")
	if err != nil {
		t.Fatalf("read golden file: %v", err)
	}
	var g rankGolden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatalf("decode testdata/golden/ranktests.json: %v", err)
	}
	t.Logf("golden values from %v", g.Versions)
	if len(g.Binned) < 50 {
		t.Fatalf("golden file has %d binned cases, want at least 50", len(g.Binned))
	}
	c := &checker{t: t, worst: map[string]float64{}}
	// checkRel compares relatively only (no absolute floor): the
	// Cramér-von Mises tail is accurate in relative terms down to 1e-300.
	checkRel := func(fn, name string, got float64, want gf) {
		t.Helper()
		if e := relErr(got, float64(want)); e > relTol {
			t.Errorf("%s %s: got %.17g, want %.17g (rel err %.3g)", fn, name, got, float64(want), e)
		}
		c.check(fn, name, got, want, relTol)
	}
	checkSciPyP := func(fn, name string, got float64, want gf) {
		t.Helper()
		if w := float64(want); w < scipyCvMTail {
			if math.Abs(got-w) > scipyCvMNoise {
				t.Errorf("%s %s: got %.17g, scipy %.17g, more than its noise %g apart", fn, name, got, w, scipyCvMNoise)
			}
			return
		}
		c.check(fn, name, got, want, relTol)
	}
	var branches [3]int // AD p capped at 0.25, interpolated, floored at 0.001
	var noTies, ties, large int
	var worstExact float64
	for _, k := range g.Binned {
		s, p := AndersonDarlingBinned(k.Ref, k.Cur)
		c.check("AndersonDarlingBinned.stat", k.Name, s, k.ADStat, relTol)
		c.check("AndersonDarlingBinned.p", k.Name, p, k.ADP, relTol)
		switch p {
		case 0.25:
			branches[0]++
		case 0.001:
			branches[2]++
		default:
			if !math.IsNaN(p) {
				branches[1]++
			}
		}
		s, p = CramerVonMisesBinned(k.Ref, k.Cur)
		c.check("CramerVonMisesBinned.stat", k.Name, s, k.CvMStat, relTol)
		checkRel("CramerVonMisesBinned.p", k.Name, p, k.CvMP)

		n, _ := wholeTotal(k.Ref)
		m, _ := wholeTotal(k.Cur)
		if n >= 2 && m >= 2 {
			_, tRank, _ := cramerVonMises(k.Ref, k.Cur, n, m)
			c.check("cramerVonMises.tRank", k.Name, tRank, k.SciPyCvMStat, relTol)
			checkSciPyP("cvmAsymptoticPValue(tRank)", k.Name, cvmAsymptoticPValue(tRank, n, m), k.SciPyCvMP)
			e := relErr(tRank, float64(k.SciPyCvMExact))
			worstExact = max(worstExact, e)
			if e > cvmExactRel {
				t.Errorf("%s: rank-form T %.17g, exact %.17g (rel err %.3g)", k.Name, tRank, float64(k.SciPyCvMExact), e)
			}
			if noTie(k.Ref, k.Cur) {
				noTies++
			} else {
				ties++
			}
			if n+m > 1_000_000 {
				large++
			}
		}

		// The raw-sample functions count over the distinct values and run
		// the same code: the same result on the expanded samples.
		if n+m <= 20_000 && n >= 2 && m >= 2 {
			x, y := expandCounts(k.Ref), expandCounts(k.Cur)
			rs, rp := AndersonDarlingKSample(x, y)
			bs, bp := AndersonDarlingBinned(k.Ref, k.Cur)
			if !sameFloat(rs, bs) || !sameFloat(rp, bp) {
				t.Errorf("%s: AndersonDarlingKSample on the expanded samples (%v, %v), binned (%v, %v)", k.Name, rs, rp, bs, bp)
			}
			if max(n, m) > cvmExactMaxN {
				rs, rp := CramerVonMises2Samp(x, y)
				_, tRank, _ := cramerVonMises(k.Ref, k.Cur, n, m)
				if !sameFloat(rs, tRank) || !sameFloat(rp, cvmAsymptoticPValue(tRank, n, m)) {
					t.Errorf("%s: CramerVonMises2Samp on the expanded samples (%v, %v), rank form of the counts %v", k.Name, rs, rp, tRank)
				}
			}
		}
	}
	t.Logf("AD p capped/interpolated/floored: %v; CvM cases without ties %d, with ties %d, above 1e6 observations %d; rank form of T within %.3g of exact",
		branches, noTies, ties, large, worstExact)
	if slices.Contains(branches[:], 0) || noTies < 4 || ties < 40 || large < 4 {
		t.Errorf("the golden cases do not cover every branch: AD p %v, without ties %d, with ties %d, large %d", branches, noTies, ties, large)
	}
	// The limiting distribution's tail: Smirnov's series against the
	// generator's quadrature of it everywhere, and against scipy's 1 - CDF
	// where that is accurate (x <= 1).
	for _, k := range g.LimitingSF {
		checkRel("cvmSFInf", k.Name, cvmSFInf(k.X), k.SF)
		if k.X <= 1 {
			c.check("cvmSFInf (scipy)", k.Name, cvmSFInf(k.X), k.SciPySF, relTol)
		}
	}
	for fn, e := range c.worst {
		t.Logf("largest relative error %-30s %.3g", fn, e)
	}
}

// noTie reports whether no bin holds more than one observation.
func noTie(ref, cur []float64) bool {
	for i := range ref {
		if ref[i]+cur[i] > 1 {
			return false
		}
	}
	return true
}

// expandCounts returns the sample holding bin j's index counts[j] times.
func expandCounts(counts []float64) []float64 {
	var out []float64
	for j, c := range counts {
		for range int(c) {
			out = append(out, float64(j))
		}
	}
	return out
}

// TestHarmonics: the asymptotic expansions of harmonics agree with the sums
// they replace (summed with compensation, smallest terms first) on both
// sides of the switch and far beyond it, and g, Scholz and Stephens' double
// sum, has its closed form.
func TestHarmonics(t *testing.T) {
	direct := func(n int) (h, h2 float64) {
		var c1, c2 float64 // Kahan compensations
		add := func(s, c *float64, v float64) {
			y := v - *c
			u := *s + y
			*c = (u - *s) - y
			*s = u
		}
		for i := n; i >= 1; i-- {
			add(&h, &c1, 1/float64(i))
			add(&h2, &c2, 1/(float64(i)*float64(i)))
		}
		return h, h2
	}
	for _, n := range []int{0, 1, 2, 3, 10, 63, 64, 65, 100, 1000, 12345, 1_000_000} {
		h, h2 := harmonics(float64(n))
		wh, wh2 := direct(n)
		if math.Abs(h-wh) > 4e-16*max(wh, 1) || math.Abs(h2-wh2) > 4e-16*max(wh2, 1) {
			t.Errorf("harmonics(%d) = %.17g, %.17g; sums %.17g, %.17g", n, h, h2, wh, wh2)
		}
	}
	// g = sum_{i=1}^{N-2} sum_{j=i+1}^{N-1} 1/((N-i) j), as scipy sums it.
	for _, N := range []int{3, 4, 5, 17, 70, 300} {
		var g float64
		for i := 1; i <= N-2; i++ {
			for j := i + 1; j <= N-1; j++ {
				g += 1 / (float64(N-i) * float64(j))
			}
		}
		h, h2 := harmonics(float64(N - 1))
		if closed := h2 - 2*h/float64(N); math.Abs(closed-g) > 1e-14*g {
			t.Errorf("N=%d: closed form of g %.17g, double sum %.17g", N, closed, g)
		}
	}
}

// TestPolyfit2: the coefficients are the least-squares solution, whose
// residual is orthogonal to the columns x^2, x, 1 (the normal equations),
// and a quadratic through the points is recovered.
func TestPolyfit2(t *testing.T) {
	x := [7]float64{0.4, 1.1, 1.6, 2.1, 2.7, 3.1, 3.9}
	var y [7]float64
	for i, v := range x {
		y[i] = -0.3*v*v + 1.7*v - 2.5
	}
	if c := polyfit2(&x, &y); math.Abs(c[0]+0.3) > 1e-14 || math.Abs(c[1]-1.7) > 1e-14 || math.Abs(c[2]+2.5) > 1e-14 {
		t.Errorf("polyfit2 of an exact quadratic = %v, want [-0.3 1.7 -2.5]", c)
	}
	for i := range y {
		y[i] = math.Log(adSig[i]) + 0.01*float64(i%3-1)
	}
	c := polyfit2(&x, &y)
	var dot [3]float64
	for i, v := range x {
		r := (c[0]*v+c[1])*v + c[2] - y[i]
		dot[0] += r * v * v
		dot[1] += r * v
		dot[2] += r
	}
	for j, d := range dot {
		if math.Abs(d) > 1e-13 {
			t.Errorf("residual not orthogonal to column %d: %g (coefficients %v)", j, d, c)
		}
	}
}

// TestRankTestsBinnedBadInput checks the documented NaN results and the
// panic on bins that do not align.
func TestRankTestsBinnedBadInput(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for name, c := range map[string][2][]float64{
		"empty":            {{}, {}},
		"zero ref":         {{0, 0}, {1, 2}},
		"zero cur":         {{1, 2}, {0, 0}},
		"negative":         {{3, -1}, {1, 2}},
		"fraction":         {{3, 1.5}, {1, 2}},
		"NaN":              {{3, nan}, {1, 2}},
		"Inf":              {{3, inf}, {1, 2}},
		"total above 2^53": {{1 << 53, 1}, {1, 2}},
	} {
		for fn, got := range map[string]float64{
			"AndersonDarlingBinned.stat": first(AndersonDarlingBinned(c[0], c[1])),
			"CramerVonMisesBinned.stat":  first(CramerVonMisesBinned(c[0], c[1])),
		} {
			if !math.IsNaN(got) {
				t.Errorf("%s %s = %g, want NaN", fn, name, got)
			}
		}
	}
	if s, p := AndersonDarlingBinned([]float64{0, 7, 0}, []float64{0, 5, 0}); !math.IsNaN(s) || !math.IsNaN(p) {
		t.Errorf("AndersonDarlingBinned with one non-empty bin = %g, %g, want NaN", s, p)
	}
	if s, p := CramerVonMisesBinned([]float64{40, 25}, []float64{0, 1}); !math.IsNaN(s) || !math.IsNaN(p) {
		t.Errorf("CramerVonMisesBinned with one current value = %g, %g, want NaN", s, p)
	}
	mustPanic(t, "AndersonDarlingBinned", func() { AndersonDarlingBinned([]float64{1}, []float64{1, 2}) })
	mustPanic(t, "CramerVonMisesBinned", func() { CramerVonMisesBinned([]float64{1}, []float64{1, 2}) })
}

// TestRankTestsBinnedInvariance: the statistics are rank statistics of the
// data rounded to one value per bin: empty bins drop out, and reversing
// the bins' order (negating the values) or swapping the two samples
// changes nothing.
func TestRankTestsBinnedInvariance(t *testing.T) {
	ref := []float64{120, 80, 0, 45, 300, 7, 1, 0, 55, 90}
	cur := []float64{100, 95, 3, 40, 280, 0, 4, 0, 60, 70}
	rev := func(x []float64) []float64 { y := slices.Clone(x); slices.Reverse(y); return y }
	spread := func(x []float64) []float64 { // an empty bin after every bin
		var y []float64
		for _, v := range x {
			y = append(y, v, 0)
		}
		return y
	}
	type result struct{ ad, adp, cvm, cvmp float64 }
	run := func(r, c []float64) result {
		a, ap := AndersonDarlingBinned(r, c)
		v, vp := CramerVonMisesBinned(r, c)
		return result{a, ap, v, vp}
	}
	want := run(ref, cur)
	for name, got := range map[string]result{
		"reversed":    run(rev(ref), rev(cur)),
		"empty bins":  run(spread(ref), spread(cur)),
		"swapped":     run(cur, ref),
		"swapped rev": run(rev(cur), rev(ref)),
	} {
		for _, d := range [][2]float64{{got.ad, want.ad}, {got.adp, want.adp}, {got.cvm, want.cvm}, {got.cvmp, want.cvmp}} {
			if math.Abs(d[0]-d[1]) > 1e-12*math.Abs(d[1]) {
				t.Errorf("%s: %+v, want %+v", name, got, want)
				break
			}
		}
	}
}

// TestCvMTiesBias: on identical distributions of different sizes over 100
// equal bins, scipy's rank form of T (CramerVonMises2Samp's) reads about
// 3.2 for a window of 1,000 against a reference of 20,000 and rejects, as
// CramerVonMisesBinned's doc says; the mid-ECDF form reads 1/(4N), p = 1.
func TestCvMTiesBias(t *testing.T) {
	ref, cur := make([]float64, 100), make([]float64, 100)
	for i := range ref {
		ref[i], cur[i] = 200, 10
	}
	n, m := 20_000.0, 1_000.0
	tMid, tRank, _ := cramerVonMises(ref, cur, n, m)
	if p := cvmAsymptoticPValue(tRank, n, m); math.Abs(tRank-3.2) > 0.05 || p >= 1e-7 {
		t.Errorf("rank form on identical distributions: T = %v, p = %v; want about 3.2, p < 1e-7", tRank, p)
	}
	// The bias has the closed form (C - 1)/(12 N) of the doc.
	N := n + m
	c := N*N*(n-m)*(n-m)/(n*m)*100*math.Pow(0.01, 3) - (n*n+m*m)/(n*m)
	if bias := (c - 1) / (12 * N); math.Abs(tRank-tMid-bias) > 1e-9*bias {
		t.Errorf("rank form - mid form = %v, closed form %v", tRank-tMid, bias)
	}
	s, p := CramerVonMisesBinned(ref, cur)
	if s != tMid || math.Abs(s-1/(4*N)) > 1e-15 || p != 1 {
		t.Errorf("CramerVonMisesBinned on identical distributions = %v, %v; want 1/(4N) = %v, p = 1", s, p, 1/(4*N))
	}
}

func FuzzRankTestsBinned(f *testing.F) {
	f.Add([]byte{1, 2, 3}, []byte{3, 2, 1})
	f.Add([]byte{0, 5, 0}, []byte{0, 5, 0})
	f.Add([]byte{16, 0}, []byte{0, 16})
	f.Add([]byte{0xff, 1}, []byte{1, 1})
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		n := min(len(a), len(b), 64)
		ref, cur := countsFrom(a[:n]), countsFrom(b[:n])
		s, p := AndersonDarlingBinned(ref, cur)
		if !math.IsNaN(p) && !(p >= 0.001 && p <= 0.25) || math.IsNaN(p) != math.IsNaN(s) {
			t.Fatalf("AndersonDarlingBinned = (%g, %g)", s, p)
		}
		v, q := CramerVonMisesBinned(ref, cur)
		if !isProb(q) || v < 0 || math.IsNaN(v) != math.IsNaN(q) {
			t.Fatalf("CramerVonMisesBinned = (%g, %g)", v, q)
		}
		// The raw-sample functions run the same code on the expanded samples.
		if _, ok := wholeTotal(ref); !ok || math.IsNaN(s) {
			return
		}
		if _, ok := wholeTotal(cur); !ok {
			return
		}
		if rs, rp := AndersonDarlingKSample(expandCounts(ref), expandCounts(cur)); !sameFloat(rs, s) || !sameFloat(rp, p) {
			t.Fatalf("AndersonDarlingKSample on the expanded samples = (%g, %g), binned (%g, %g)", rs, rp, s, p)
		}
	})
}
