package drift

import (
	"math"
	"testing"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/windows"
)

// rankBaseline builds a baseline of m reference values of x from draw.
func rankBaseline(t testing.TB, m int, draw func() float64) *baselines.Baseline {
	t.Helper()
	b := baselines.NewBuilder("m", baselines.BuildOptions{})
	for range m {
		b.AddNumber("x", draw())
		b.AddPredictionNumber(0.5)
		b.EndRow()
	}
	bl, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return bl
}

// rankWindow is a window of n values of x from draw, on bl's bins.
func rankWindow(bl *baselines.Baseline, n int, draw func() float64) *windows.Window {
	w := windows.NewWindow(windows.Key{Model: "m", Version: "1"}, t0, t0, bl, 100)
	bf, f := &bl.Features[0], &w.Features[0]
	for range n {
		x := draw()
		j := bf.Bin(x)
		f.Counts[j]++
		f.Sums[j] += x
		f.Count++
		f.Moments.Add(x)
	}
	return w
}

// rankPValues evaluates a window drawn by window against a reference
// drawn by ref (fresh for each seed) and returns the unadjusted p-values
// of ks, anderson_darling and cramer_von_mises for x.
func rankPValues(t *testing.T, seed uint64, m, n int, ref, window func(*lcg) float64) [3]float64 {
	rng := newLCG(seed)
	bl := rankBaseline(t, m, func() float64 { return ref(rng) })
	p := DefaultPolicy()
	p.NumericMetrics = []string{MetricKS, MetricAndersonDarling, MetricCramerVonMises}
	p.Correction = CorrectionNone
	rows := NewEvaluator(p, nil).Evaluate(rankWindow(bl, n, func() float64 { return window(rng) }))
	var out [3]float64
	for i, metric := range p.NumericMetrics {
		r := find(t, rows, FamilyData, "x", metric)
		out[i] = *r.PValue
	}
	return out
}

func std(rng *lcg) float64 { return normal(rng) }

// rejectionRates returns, over trials seeds, the share of windows whose
// unadjusted p-value is below 0.05 for ks, anderson_darling and
// cramer_von_mises.
func rejectionRates(t *testing.T, trials, m, n int, ref, window func(*lcg) float64) [3]float64 {
	t.Helper()
	var rej [3]float64
	for s := range trials {
		for i, p := range rankPValues(t, uint64(1000+s), m, n, ref, window) {
			if p < 0.05 {
				rej[i]++
			}
		}
	}
	for i := range rej {
		rej[i] /= float64(trials)
	}
	return rej
}

// binomialBound is the half-width of the 99.9% normal interval of a
// binomial share p over trials: the distance from p within which a rate
// measured over trials independent windows falls by chance.
func binomialBound(p float64, trials int) float64 {
	return 3.29 * math.Sqrt(p*(1-p)/float64(trials))
}

// TestRankTestsOnBinnedNull: windows drawn from the reference's own
// distribution (a fresh reference of 5,000 and window of 1,000 per seed,
// 1,500 seeds) have an anderson_darling and a cramer_von_mises p below
// 0.05 at the nominal rate, 5% within the 99.9% binomial interval (±1.9
// points): the tests of the data rounded to the baseline's 100 quantile
// bins hold their level. (scipy's Cramér-von Mises with midranks would
// reject nearly every window; see stats.CramerVonMisesBinned.) ks on the
// same bins is conservative (its D is a lower bound on binned data). On a
// discrete feature (about 15 values, each its own bin) the ties make the
// tests conservative rather than liberal: at most the nominal rate plus
// the bound. Measured: continuous ks 0.036, anderson_darling 0.049,
// cramer_von_mises 0.046; discrete 0.010, 0.058, 0.032 (over 1,000 seeds).
func TestRankTestsOnBinnedNull(t *testing.T) {
	trials, dTrials := 1500, 600
	if raceEnabled {
		trials, dTrials = 150, 60
	}
	bound := binomialBound(0.05, trials)
	rates := rejectionRates(t, trials, 5000, 1000, std, std)
	t.Logf("continuous, rate of p < 0.05: ks %.4f, anderson_darling %.4f, cramer_von_mises %.4f (5%% ± %.4f)", rates[0], rates[1], rates[2], bound)
	for i, metric := range []string{MetricAndersonDarling, MetricCramerVonMises} {
		if r := rates[i+1]; math.Abs(r-0.05) > bound {
			t.Errorf("%s rejects %.4f of the windows drawn from the reference, want 0.05 ± %.4f", metric, r, bound)
		}
	}
	if rates[0] > 0.05+bound {
		t.Errorf("ks rejects %.4f of the windows drawn from the reference, want at most 0.05 + %.4f", rates[0], bound)
	}
	discrete := func(rng *lcg) float64 { return math.Round(2 * normal(rng)) }
	dBound := binomialBound(0.05, dTrials)
	rates = rejectionRates(t, dTrials, 5000, 1000, discrete, discrete)
	t.Logf("discrete, rate of p < 0.05: ks %.4f, anderson_darling %.4f, cramer_von_mises %.4f (at most 5%% + %.4f)", rates[0], rates[1], rates[2], dBound)
	for i, metric := range []string{MetricKS, MetricAndersonDarling, MetricCramerVonMises} {
		if rates[i] > 0.05+dBound {
			t.Errorf("discrete feature: %s rejects %.4f of the windows drawn from the reference, want at most 0.05 + %.4f", metric, rates[i], dBound)
		}
	}
}

// TestRankTestsPower: a location shift of 0.2 standard deviations in
// windows of 1,000 is significant in nearly every window for both rank
// tests; a change of scale alone (standard deviation 1.15, same mean and
// median) is Anderson-Darling's strength: ks misses it in about 40% of
// windows of that size, anderson_darling in about 2% (its weight on the
// tails), cramer_von_mises in between.
func TestRankTestsPower(t *testing.T) {
	trials := 200
	if raceEnabled {
		trials = 60
	}
	shifted := rejectionRates(t, trials, 5000, 1000, std, func(r *lcg) float64 { return 0.2 + normal(r) })
	t.Logf("shift 0.2 sd, rate of p < 0.05: ks %.3f, anderson_darling %.3f, cramer_von_mises %.3f", shifted[0], shifted[1], shifted[2])
	for i, metric := range []string{MetricAndersonDarling, MetricCramerVonMises} {
		if shifted[i+1] < 0.95 {
			t.Errorf("shift of 0.2 sd: %s significant in %.3f of the windows, want at least 0.95", metric, shifted[i+1])
		}
	}
	scaled := rejectionRates(t, trials, 5000, 1000, std, func(r *lcg) float64 { return 1.15 * normal(r) })
	t.Logf("scale 1.15, rate of p < 0.05: ks %.3f, anderson_darling %.3f, cramer_von_mises %.3f", scaled[0], scaled[1], scaled[2])
	ks, ad, cvm := scaled[0], scaled[1], scaled[2]
	if !(ad >= 0.9 && ks <= 0.75 && ad-ks >= 0.25 && cvm > ks && cvm < ad) {
		t.Errorf("scale 1.15: ks %.3f, anderson_darling %.3f, cramer_von_mises %.3f; want anderson_darling >= 0.9, ks <= 0.75 and 0.25 below it, cramer_von_mises between", ks, ad, cvm)
	}
}

// TestRankTestRows: anderson_darling and cramer_von_mises rows are tests
// like ks: written on numeric subjects only, value the statistic, p-value
// judged against drift.thresholds (0.05), no MDE, adjusted with the
// window's other tests, gated by the subject's effect size, and they can
// be a subject's rule (then psi is the effect size and ks the
// significance test), per model or per feature.
func TestRankTestRows(t *testing.T) {
	rng := newLCG(77)
	bl := rankBaseline(t, 20_000, func() float64 { return normal(rng) })
	rank := []string{MetricAndersonDarling, MetricCramerVonMises}
	p := DefaultPolicy()
	p.NumericMetrics = append([]string{MetricPSI, MetricKS}, rank...)
	e := NewEvaluator(p, nil)

	// Numeric subjects only: configured for categorical ones, no rows.
	pc := DefaultPolicy()
	pc.CategoricalMetrics = append([]string{MetricChi2}, rank...)
	gb := gateBaseline(t)
	for _, r := range NewEvaluator(pc, nil).Evaluate(gateWindow(gb, newLCG(8), 2000, 0, 0.2)) {
		if (r.Subject == "c" || r.Subject == "flag") && (r.Metric == MetricAndersonDarling || r.Metric == MetricCramerVonMises) {
			t.Errorf("categorical subject %s has a %s row", r.Subject, r.Metric)
		}
	}
	if Computable(MetricAndersonDarling, false) || Computable(MetricCramerVonMises, false) || !Computable(MetricAndersonDarling, true) || !Computable(MetricCramerVonMises, true) {
		t.Errorf("Computable: the rank tests are numeric only")
	}

	// Proportional counts (the reference's shape at another size): no
	// evidence at all, where scipy's Cramér-von Mises would read T = 3.
	rows := e.Evaluate(sameWindowOf(bl, 1000))
	ad, cvm := find(t, rows, FamilyData, "x", MetricAndersonDarling), find(t, rows, FamilyData, "x", MetricCramerVonMises)
	if *ad.PValue < 0.25 || *cvm.PValue != 1 || ad.Drifted || cvm.Drifted {
		t.Errorf("the reference's own shape: anderson_darling p %v, cramer_von_mises p %v (after the correction), want at least 0.25 (the cap) and 1, not drifted", *ad.PValue, *cvm.PValue)
	}

	// A shift of one standard deviation: significant, psi material:
	// drifted. Anderson-Darling's p is floored at 0.001 (times 3 at most
	// after the correction across the window's 3 tests).
	rows = e.Evaluate(rankWindow(bl, 2000, func() float64 { return 1 + normal(rng) }))
	for m, pMax := range map[string]float64{MetricAndersonDarling: 0.003, MetricCramerVonMises: 1e-10} {
		r := find(t, rows, FamilyData, "x", m)
		if !r.Drifted || *r.PValue > pMax || r.Threshold != 0.05 || r.ThresholdSource != SourceStatic || r.MDE != nil || r.Primary {
			t.Errorf("shifted window: %s %+v (p %v), want drifted, p <= %v, threshold 0.05 static, no MDE, not deciding", m, r, *r.PValue, pMax)
		}
		if r.Value <= 0 {
			t.Errorf("shifted window: %s statistic %v, want positive", m, r.Value)
		}
	}
	if want := findAll(rows, FamilyPrediction); len(want) != 0 {
		t.Errorf("rows for the prediction, which has no values in the window: %v", want)
	}

	// The correction: their p-values are adjusted with the window's other
	// tests (Benjamini-Hochberg by default).
	p0 := p
	p0.Correction = CorrectionNone
	w := rankWindow(bl, 3000, func() float64 { return 0.05 + normal(rng) })
	raw, adj := NewEvaluator(p0, nil).Evaluate(w), e.Evaluate(w)
	var ps []float64
	var idx []int
	for i, r := range raw {
		if r.PValue != nil {
			ps, idx = append(ps, *r.PValue), append(idx, i)
		}
	}
	if len(ps) != 3 {
		t.Fatalf("window with ks, anderson_darling, cramer_von_mises: %d p-values, want 3", len(ps))
	}
	for k, q := range AdjustBH(ps) {
		if r := adj[idx[k]]; r.Metric != raw[idx[k]].Metric || *r.PValue != q {
			t.Errorf("%s: adjusted p %v, want Benjamini-Hochberg's %v of %v", r.Metric, *r.PValue, q, ps)
		}
	}

	// As the rule: a negligible shift in a huge window is significant but
	// psi, the effect size, is below its threshold: not drifted; a real
	// shift is. Per feature, the feature's rule wins.
	for _, m := range rank {
		pr := DefaultPolicy()
		pr.Numeric = Rule{Metric: m, Threshold: 0.05}
		pr.NumericMetrics = nil
		rows := NewEvaluator(pr, nil).Evaluate(rankWindow(bl, 50_000, func() float64 { return 0.05 + normal(rng) }))
		r, psi := primary(t, rows, "x"), find(t, rows, FamilyData, "x", MetricPSI)
		find(t, rows, FamilyData, "x", MetricKS) // the significance test is written
		if r.Metric != m || *r.PValue >= 0.05 || psi.Drifted || r.Drifted {
			t.Errorf("rule %s, negligible shift of 50,000: deciding %s p %v drifted %v, psi %v drifted %v; want significant, not drifted", m, r.Metric, *r.PValue, r.Drifted, psi.Value, psi.Drifted)
		}
		rows = NewEvaluator(pr, nil).Evaluate(rankWindow(bl, 2000, func() float64 { return 1 + normal(rng) }))
		if r := primary(t, rows, "x"); r.Metric != m || !r.Drifted {
			t.Errorf("rule %s, shift of one sd: deciding %s drifted %v", m, r.Metric, r.Drifted)
		}
		pf := DefaultPolicy()
		pf.Features = map[string]Rule{"x": {Metric: m, Threshold: 0.01}}
		rows = NewEvaluator(pf, nil).Evaluate(rankWindow(bl, 2000, func() float64 { return 1 + normal(rng) }))
		if r := primary(t, rows, "x"); r.Metric != m || r.Threshold != 0.01 || !r.Drifted {
			t.Errorf("feature rule %s at 0.01: deciding %s threshold %v drifted %v", m, r.Metric, r.Threshold, r.Drifted)
		}
	}

	// A window too small to see the rule's effect says so on the tests too.
	ps2 := DefaultPolicy()
	ps2.Numeric = Rule{Metric: MetricPSI, Threshold: 0.1}
	ps2.NumericMetrics = rank
	rows = NewEvaluator(ps2, nil).Evaluate(rankWindow(bl, 100, func() float64 { return normal(rng) }))
	if r := primary(t, rows, "x"); r.ThresholdSource != SourceInsufficient {
		t.Fatalf("test setup: 100 values, psi rule at 0.1: source %q (mde %v, threshold %v), want insufficient", r.ThresholdSource, pString(r.MDE), r.Threshold)
	}
	for _, m := range rank {
		if r := find(t, rows, FamilyData, "x", m); r.ThresholdSource != SourceInsufficient || r.Drifted {
			t.Errorf("100 values: %s source %q drifted %v, want %q", m, r.ThresholdSource, r.Drifted, SourceInsufficient)
		}
	}
}

// sameWindowOf fills a window with the baseline's own counts scaled to n
// (proportional, rounded).
func sameWindowOf(bl *baselines.Baseline, n int64) *windows.Window {
	w := windows.NewWindow(windows.Key{Model: "m", Version: "1"}, t0, t0, bl, 100)
	bf, f := &bl.Features[0], &w.Features[0]
	scale := float64(n) / float64(bf.Count)
	for j, c := range bf.Counts {
		f.Counts[j] = int64(math.Round(float64(c) * scale))
		f.Sums[j] = bf.Sums[j] * scale
		f.Count += f.Counts[j]
	}
	f.Moments.N, f.Moments.Mean, f.Moments.M2 = float64(f.Count), bf.Mean, bf.Std*bf.Std*float64(f.Count)
	return w
}

// findAll returns the rows of a family.
func findAll(rows []Row, family string) []Row {
	var out []Row
	for _, r := range rows {
		if r.Family == family {
			out = append(out, r)
		}
	}
	return out
}
