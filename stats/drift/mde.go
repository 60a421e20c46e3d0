package drift

import (
	"math"
	"sync"

	"github.com/driftwatch/driftwatch/stats"
)

// mde returns the minimum detectable effect of metric for this pair (see
// Row.MDE), or nil where driftwatch defines none (tests, ks, energy).
//
// For metrics on cells it starts from the chi-squared test of homogeneity
// on the subject's c non-empty cells: the noncentrality lambda at which
// that test at level alpha has the given power (stats.Chi2Noncentrality,
// c-1 degrees of freedom) is detectable, and lambda / n_eff, with
// n_eff = n m / (n + m), is the smallest detectable
// phi² = sum_i (q_i - p_i)² / p_i (Cohen's w²). Each metric's value for a
// small shift of that size follows from its second-order expansion:
// psi ≈ phi², kl ≈ phi²/2, Jensen-Shannon divergence ≈ phi²/8 (nats; the
// distance is its root, js_divergence is in bits), squared Hellinger
// ≈ phi²/8. For total_variation and l_infinity, phi/2 is a bound rather than
// an approximation: any shift with a larger distance has phi above the
// detectable one (Cauchy-Schwarz, and sum_i q_i - p_i = 0).
//
// For wasserstein it is the location shift a two-sided z-test of means
// detects, (z_{1-alpha/2} + z_power)·sqrt(1/n + 1/m) reference standard
// deviations (stats.NormalMDE), in the metric's raw units.
func (pr *pair) mde(metric string, m MDE) *float64 {
	s := specs[metric]
	n, ref := float64(pr.n), float64(pr.m)
	var v float64
	switch {
	case s.mde != nil:
		df := float64(pr.cells() - 1)
		if df < 1 {
			return nil
		}
		lambda := chi2Noncentrality(df, m.Alpha, m.Power)
		v = s.mde(lambda / (n * ref / (n + ref)))
	case metric == MetricWasserstein:
		v = stats.NormalMDE(n, ref, m.Alpha, m.Power) * pr.scale
	default:
		return nil
	}
	if math.IsNaN(v) || math.IsInf(v, 0) { // alpha or power out of range, or no finite answer
		return nil
	}
	return &v
}

// noncentralities memoizes stats.Chi2Noncentrality, a root search over
// noncentral chi-squared tails that depends only on its arguments: a few
// degrees of freedom (cells, categories) per level and power, each costing
// milliseconds, were a fifth of replay's CPU time.
var noncentralities sync.Map // lambdaKey -> float64

type lambdaKey struct{ df, alpha, power float64 }

func chi2Noncentrality(df, alpha, power float64) float64 {
	k := lambdaKey{df, alpha, power}
	if v, ok := noncentralities.Load(k); ok {
		return v.(float64)
	}
	v := stats.Chi2Noncentrality(df, alpha, power)
	noncentralities.Store(k, v)
	return v
}

// reader returns the function that takes v, a true effect of metric (a
// threshold or an MDE, in the metric's units), to what this pair's window
// reads on average: v with what sampling noise alone adds at the window's
// and the reference's sizes. Without it a distance in a small window is past its
// threshold by noise alone: Jensen-Shannon reads about 0.06 between two
// samples of one distribution of 10 cells when one holds 300 records.
//
// For metrics on cells, in phi² (Cohen's w², see mde): the chi-squared
// statistic of homogeneity is n_eff·phi² read, noncentral chi-squared with
// c-1 degrees of freedom and noncentrality n_eff·phi² true, so the phi²
// read exceeds the true one by (c-1)/n_eff on average. For wasserstein the
// noise is the distance between two samples of the reference, whose mean
// is sqrt(2/pi)·sqrt(1/n + 1/m)·∫ sqrt(F(1-F)) dx (the empirical CDFs'
// difference is normal at each x), added in quadrature to v. Other metrics
// (tests, energy) return v. The noise is worked out once, for the values
// of a row (its threshold and MDE).
func (pr *pair) reader(metric string) func(float64) float64 {
	s := specs[metric]
	n, m := float64(pr.n), float64(pr.m)
	switch {
	case s.phi2 != nil:
		c := pr.cells()
		if c < 2 {
			break
		}
		noise := float64(c-1) * (n + m) / (n * m)
		return func(v float64) float64 { return s.mde(s.phi2(v) + noise) }
	case metric == MetricWasserstein:
		noise := math.Sqrt(2/math.Pi*(1/n+1/m)) * spread(pr.refV, pr.refW)
		return func(v float64) float64 { return math.Hypot(v, noise) }
	}
	return func(v float64) float64 { return v }
}

// spread is ∫ sqrt(F(1-F)) dx of the distribution of atoms at vals (in
// increasing order) with weights.
func spread(vals, weights []float64) float64 {
	var total float64
	for _, w := range weights {
		total += w
	}
	var cum, out float64
	for i := 0; i+1 < len(vals); i++ {
		cum += weights[i]
		f := cum / total
		out += (vals[i+1] - vals[i]) * math.Sqrt(f*(1-f))
	}
	return out
}
