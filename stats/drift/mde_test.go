package drift

import (
	"math"
	"testing"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/stats"
	"github.com/driftwatch/driftwatch/windows"
)

// TestMDEHasItsPower simulates windows whose true shift is exactly the
// reported minimum detectable effect and checks that the chi-squared test
// detects it about as often as the stated power, and that the reported
// effect sizes are those of that shift.
func TestMDEHasItsPower(t *testing.T) {
	p := []float64{0.3, 0.25, 0.2, 0.15, 0.1}
	cats := []string{"a", "b", "c", "d", "e"}
	const m = 10_000_000 // reference: proportions effectively exact
	bf := baselines.Feature{Name: "x", Kind: baselines.Categorical, Count: m, Categories: map[string]int64{}}
	ref := make([]float64, len(p))
	for i, c := range cats {
		bf.Categories[c] = int64(p[i] * m)
		ref[i] = p[i] * m
	}
	bl := &baselines.Baseline{Format: 1, ID: "b", Model: "m", Features: []baselines.Feature{bf},
		Prediction: baselines.Feature{Name: "prediction", Kind: baselines.Categorical}}
	const n = 400
	w := windows.NewWindow(windows.Key{Model: "m", Version: "1"}, t0, t0, bl, 100)
	for i, c := range cats {
		w.Features[0].Categories[c] = int64(p[i] * n)
		w.Features[0].Count += int64(p[i] * n)
	}
	// The MDE of a true shift: without RequireSignificance, which reports
	// it as the window reads it (pair.reader, TestAsReadIsTheNoise).
	pol := DefaultPolicy()
	pol.RequireSignificance = false
	rows := NewEvaluator(pol, nil).Evaluate(w)
	mde := map[string]float64{}
	for _, r := range rows {
		if r.MDE != nil {
			mde[r.Metric] = *r.MDE
		}
	}
	phi2 := mde[MetricPSI]
	if !(phi2 > 0) {
		t.Fatalf("no psi MDE in %+v", rows)
	}
	// The shift: along d (sum 0), scaled to sum d_i^2/p_i == phi2.
	d := []float64{-1, -0.5, 0, 0.5, 1}
	var s float64
	for i := range d {
		s += d[i] * d[i] / p[i]
	}
	q := make([]float64, len(p))
	for i := range p {
		q[i] = p[i] + d[i]*math.Sqrt(phi2/s)
	}
	// Reported effect sizes against the true ones of this shift (second
	// order: within 15% for a shift this small).
	truth := map[string]float64{
		MetricPSI:           stats.PSI(p, q, 0),
		MetricJensenShannon: stats.JensenShannon(p, q),
		MetricHellinger:     stats.Hellinger(p, q),
	}
	for metric, want := range truth {
		if got := mde[metric]; math.Abs(got-want) > 0.15*want {
			t.Errorf("%s: MDE %v, the shift's true value %v", metric, got, want)
		}
	}
	// For l_infinity and total_variation the MDE is a bound: every shift has
	// L-inf <= TV <= phi/2, so a distance beyond phi*/2 means phi beyond the
	// detectable phi*. This shift has phi == phi*, so its distances are within.
	bound := math.Sqrt(phi2) / 2
	if mde[MetricLInfinity] != bound {
		t.Errorf("l_infinity MDE %v, want phi/2 = %v", mde[MetricLInfinity], bound)
	}
	for metric, got := range map[string]float64{MetricLInfinity: stats.LInfinity(p, q), MetricTotalVariation: stats.TotalVariation(p, q)} {
		if got > bound*(1+1e-9) {
			t.Errorf("%s: %v beyond its bound phi/2 = %v", metric, got, bound)
		}
	}
	// Power: the chi-squared test at 0.05 on windows drawn from q.
	rng := newLCG(11)
	const sims = 2000
	detected := 0
	cur := make([]float64, len(p))
	for range sims {
		clear(cur)
		for range n {
			u, acc := rng.float(), 0.0
			k := len(q) - 1
			for i, qi := range q {
				if acc += qi; u < acc {
					k = i
					break
				}
			}
			cur[k]++
		}
		if _, pv, _ := stats.ChiSquared(ref, cur); pv < 0.05 {
			detected++
		}
	}
	power := float64(detected) / sims
	t.Logf("psi MDE %.5f at n=%d: simulated power %.3f (stated 0.8)", phi2, n, power)
	if math.Abs(power-0.8) > 0.04 {
		t.Errorf("simulated power %v at the MDE, want 0.8 +- 0.04", power)
	}
	// Wasserstein's MDE is a location shift in reference standard deviations.
	if got, want := stats.NormalMDE(n, m, 0.05, 0.8), 2.8016*math.Sqrt(1.0/n+1.0/m); math.Abs(got-want) > 1e-4*want {
		t.Errorf("NormalMDE %v, want %v", got, want)
	}
}

// TestAsReadIsTheNoise: what pair.reader adds to a true effect of 0 is the mean
// of the metric over windows drawn from the reference itself, for metrics
// on cells and for wasserstein, at a few window sizes; and with
// RequireSignificance a row's threshold and MDE are read so.
func TestAsReadIsTheNoise(t *testing.T) {
	p := []float64{0.3, 0.25, 0.2, 0.15, 0.1}
	vals := []float64{0, 1, 2, 4, 8} // wasserstein's atoms
	const m = 20_000
	ref := make([]float64, len(p))
	for i := range p {
		ref[i] = p[i] * m
	}
	rng := newLCG(5)
	for _, n := range []int{100, 300, 2000} {
		const sims = 4000
		pr := &pair{n: int64(n), m: m, ref: ref, cur: make([]float64, len(p)), refV: vals, refW: ref}
		sum := map[string]float64{}
		cur := pr.cur
		for range sims {
			clear(cur)
			for range n {
				u, acc, k := rng.float(), 0.0, len(p)-1
				for i, pi := range p {
					if acc += pi; u < acc {
						k = i
						break
					}
				}
				cur[k]++
			}
			sum[MetricPSI] += stats.PSI(ref, cur, stats.DefaultPSIEpsilon)
			js := stats.JensenShannon(ref, cur)
			sum["js2"] += js * js
			sum[MetricWasserstein] += stats.Wasserstein(vals, ref, vals, cur)
		}
		// The reference is a sample too: its noise is within the
		// formula's (1/n + 1/m) but not simulated here.
		scale := float64(m) / float64(n+m)
		for _, c := range []struct {
			metric string
			sim    float64
			want   float64
		}{
			{MetricPSI, sum[MetricPSI] / sims, pr.reader(MetricPSI)(0) * scale},
			{"js2", sum["js2"] / sims, math.Pow(pr.reader(MetricJensenShannon)(0), 2) * scale},
			{MetricWasserstein, sum[MetricWasserstein] / sims, pr.reader(MetricWasserstein)(0) * math.Sqrt(scale)},
		} {
			// PSI's second-order expansion, and the normal law of the CDFs'
			// difference at each x, are approximations: within 12%.
			t.Logf("n=%d %s sim %.5f formula %.5f", n, c.metric, c.sim, c.want)
			if math.Abs(c.sim-c.want) > 0.08*c.want {
				t.Errorf("n=%d: %s of windows from the reference averages %.5f, read(0) %.5f", n, c.metric, c.sim, c.want)
			}
		}
	}
	if got := (&pair{n: 300, m: m, ref: ref, cur: ref}).reader(MetricKS)(0.05); got != 0.05 {
		t.Errorf("a test's threshold read as %v", got)
	}
}
