package drift

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/internal/goldenjson"
	"github.com/driftwatch/driftwatch/stats"
	"github.com/driftwatch/driftwatch/windows"
)

// evidentlyMetrics maps the display names of Evidently's drift tests (as
// Evidently 0.7.23 reports them in ValueDrift's "method") to driftwatch's
// metrics.
var evidentlyMetrics = map[string]string{
	"K-S p_value":                   MetricKS,
	"chi-square p_value":            MetricChi2GOF,
	"Z-test p_value":                MetricProportionZ,
	"Jensen-Shannon distance":       MetricJensenShannon,
	"Wasserstein distance (normed)": MetricWasserstein,
}

// evidentlyDivergences are the cases of testdata/golden/evidently.json in
// which the evidently preset does not reproduce Evidently, with the reason.
// A case that diverges without being listed here fails, and so does a
// listed case that no longer diverges.
var evidentlyDivergences = map[string]string{
	// None at present. Fixed since the first comparison: numeric features
	// with at most PSIBins filled bins use each bin as a cell (rare values
	// and new values between reference values no longer share a cell); a
	// window maximum above the reference's counts as one more distinct
	// value; proportion_z on a single value is p = 1, as in Evidently.
}

// evidentlyKSMethodGap bounds the relative difference between the
// p-values that Evidently and driftwatch give for the same
// Kolmogorov-Smirnov statistic D: Evidently calls scipy.stats.ks_2samp,
// whose default method is the exact two-sample distribution for samples of
// up to 10,000, while KSBinned uses the one-sample distribution
// kstwo(D, round(nm/(n+m))) (see its doc), which gives a smaller p. The gap
// is not a binning effect: it is checked on every case with scipy's D, and
// grows into the tail (in the golden cases about 3% near p = 0.05, 8% at
// p = 1e-5 with 1000 and 200 values; 0.2 leaves a factor 2.5).
const evidentlyKSMethodGap = 0.2

// evidentlyExactRel is the relative tolerance of statistics that
// driftwatch computes from the same counts as Evidently.
const evidentlyExactRel = 1e-9

// evidentlyZAbs is the absolute error of Evidently's z-test p-value, which
// it computes as 2*(1 - norm.cdf(|z|)): the cdf rounds to the float64
// grid near 1, of spacing 2^-53, so p carries an absolute error of up to
// 2^-53 (twice half a spacing) and is 0 for |z| > 8.3. driftwatch's
// erfc(|z|/sqrt 2) keeps its relative precision in the tail. 2^-52 leaves a
// factor 2.
var evidentlyZAbs = math.Ldexp(1, -52)

type evidentlyGoldenCase struct {
	Name, Kind, Ref string
	Cur             evidentlySample
	Evidently       struct {
		Method    string
		Threshold float64
		Score     float64
		Drifted   bool
		NUnique   int `json:"n_unique"`
	}
	KSStatistic *float64 `json:"ks_statistic"`
}

// evidentlySample is a numeric sample, a list or run-length encoded as
// {"values", "counts"}, or a categorical one, as counts per category.
type evidentlySample struct {
	nums []float64
	cats map[string]int64
}

func (s *evidentlySample) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, (*goldenjson.Floats)(&s.nums)); err == nil {
		return nil
	}
	return json.Unmarshal(b, &s.cats)
}

// evidentlyOutcome is driftwatch's answer to one case beside Evidently's.
type evidentlyOutcome struct {
	metric     string  // driftwatch's primary metric, "" without a primary row
	threshold  float64 // in Evidently's units (wasserstein: reference sds)
	value      float64 // p-value or distance, in Evidently's units
	drifted    bool
	lo, hi     float64 // where Evidently's score may lie, given value
	borderline bool    // the threshold lies in [lo, hi]
	note       string  // a likely cause if the score is not in [lo, hi]
	problems   []string
}

// TestEvidentlyGolden checks the evidently preset against Evidently's own
// automatic drift test selection (testdata/golden/gen_evidently.py): for
// each case the reference becomes a baseline (baselines.Builder, default
// options), the current sample a window, and the subject's primary row must
// use the test Evidently chose, with its threshold, reach its verdict and
// match its score:
//
//   - chi2_gof, proportion_z and jensen_shannon on categories, and on the
//     distinct values of a numeric feature when each has a cell of its own,
//     to 1e-9 relative (plus Evidently's 2^-52 absolute error for
//     proportion_z, see evidentlyZAbs).
//   - ks: driftwatch's D is computed at the fine bins' edges only, so
//     D_dw <= D <= D_dw + delta, where delta is the largest min(r_j, c_j)
//     (the bin's reference and window proportions) over the bins that hold
//     more than one distinct value: inside bin j each empirical CDF moves by
//     its proportion only, and F_r - F_c can move away from its value at an
//     edge by at most the smaller of the two (a bin of one distinct value
//     adds nothing). Evidently's p-value must then lie between driftwatch's
//     p-values at D_dw + delta and at D_dw, widened by evidentlyKSMethodGap.
//     scipy's D itself (recorded by the generator) is checked against
//     [D_dw, D_dw + delta].
//   - wasserstein: driftwatch places each bin's mass at its mean (F' for F),
//     so with A = F_r - F_c, B = F'_r - F'_c, W = ∫|A| and W_dw = ∫|B|,
//     |W - W_dw| <= the sum of ∫|A - B| over the bins where A or B changes
//     sign: the L1 size of what binning changes in the difference of the
//     CDFs, where it can matter (see evidentlyBinningBound). The bound is
//     computed from the samples per case, in reference standard deviations;
//     it is 0 where one CDF stays above the other (W is then a difference
//     of means, which bin means keep) and largest for undrifted windows,
//     whose CDFs cross in many bins.
//
// A verdict may differ from Evidently's only on a borderline case, where
// the threshold lies within those bounds around driftwatch's value; such
// cases are counted and at most two are allowed.
func TestEvidentlyGolden(t *testing.T) {
	data, err := os.ReadFile("testdata/golden/evidently.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Versions   map[string]string
		References map[string]evidentlySample
		Cases      []evidentlyGoldenCase
	}
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) < 40 {
		t.Fatalf("%d cases, want at least 40", len(g.Cases))
	}
	p, err := ApplyPreset(DefaultPolicy(), PresetEvidently)
	if err != nil {
		t.Fatal(err)
	}
	p.MinSamples = 1

	type summary struct {
		cases, verdicts, borderline       int
		maxDiff, maxRel, maxDiffOfAllowed float64 // |driftwatch - Evidently|, over Evidently, over its allowed maximum
	}
	byMetric := map[string]*summary{}
	var choices, verdicts, borderlineFlips, diverged int
	seen := map[string]bool{}
	for _, c := range g.Cases {
		seen[c.Name] = true
		ref, ok := g.References[c.Ref]
		if !ok {
			t.Fatalf("%s: no reference %q", c.Name, c.Ref)
		}
		ev := c.Evidently
		want, ok := evidentlyMetrics[ev.Method]
		if !ok {
			t.Fatalf("%s: unknown Evidently method %q", c.Name, ev.Method)
		}
		o := evidentlyRun(t, p, c, ref)
		t.Logf("%-28s Evidently %-29s %-6.4g %-5v | driftwatch %-14s %-6.4g %-5v | %.6g vs %.6g, allowed [%.6g, %.6g]",
			c.Name, ev.Method, ev.Threshold, ev.Drifted, o.metric, o.threshold, o.drifted, ev.Score, o.value, o.lo, o.hi)
		reason, documented := evidentlyDivergences[c.Name]
		if o.metric == want {
			choices++
		} else {
			o.problems = append(o.problems, fmt.Sprintf("chose %q, Evidently %q (%s)", o.metric, want, ev.Method))
		}
		flip := o.metric != "" && o.drifted != ev.Drifted
		if o.metric != "" && !flip {
			verdicts++
		}
		if o.metric == want {
			if math.Abs(o.threshold-ev.Threshold) > 1e-12*ev.Threshold {
				o.problems = append(o.problems, fmt.Sprintf("threshold %v, Evidently %v", o.threshold, ev.Threshold))
			}
			if !(ev.Score >= o.lo && ev.Score <= o.hi) {
				o.problems = append(o.problems, fmt.Sprintf("%s %.10g, Evidently %.10g, outside [%.10g, %.10g]%s", o.metric, o.value, ev.Score, o.lo, o.hi, o.note))
			}
			s := byMetric[want]
			if s == nil {
				s = &summary{}
				byMetric[want] = s
			}
			s.cases++
			if !flip {
				s.verdicts++
			}
			if !documented {
				d, allowed := ev.Score-o.value, o.hi-o.value
				if d < 0 {
					d, allowed = -d, o.value-o.lo
				}
				s.maxDiff = max(s.maxDiff, d)
				if ev.Score > 0 {
					s.maxRel = max(s.maxRel, d/ev.Score)
				}
				if allowed > 0 {
					s.maxDiffOfAllowed = max(s.maxDiffOfAllowed, d/allowed)
				}
				if o.borderline {
					s.borderline++
				}
			}
		}
		switch {
		case flip && o.metric == want && o.borderline && !documented:
			borderlineFlips++
			t.Logf("%s: borderline verdict %v, Evidently %v (score %.6g, threshold %v, allowed [%.6g, %.6g])",
				c.Name, o.drifted, ev.Drifted, ev.Score, ev.Threshold, o.lo, o.hi)
		case flip:
			o.problems = append(o.problems, fmt.Sprintf("drifted %v, Evidently %v", o.drifted, ev.Drifted))
		}
		switch {
		case len(o.problems) > 0 && !documented:
			t.Errorf("%s: %v", c.Name, o.problems)
		case len(o.problems) > 0:
			diverged++
			t.Logf("%s: documented divergence (%s): %v", c.Name, reason, o.problems)
		case documented:
			t.Errorf("%s: listed in evidentlyDivergences (%s) but agrees with Evidently; remove it", c.Name, reason)
		}
	}
	for name := range evidentlyDivergences {
		if !seen[name] {
			t.Errorf("evidentlyDivergences lists %q, which is not a case", name)
		}
	}
	if borderlineFlips > 2 {
		t.Errorf("%d borderline verdicts differ from Evidently's, want at most 2", borderlineFlips)
	}
	t.Logf("Evidently %s, %d cases: test and threshold as Evidently's in %d, verdict in %d (%d borderline flips), %d documented divergences",
		g.Versions["evidently"], len(g.Cases), choices, verdicts, borderlineFlips, diverged)
	for _, m := range slices.Sorted(maps.Keys(byMetric)) {
		s := byMetric[m]
		t.Logf("  %-15s %2d cases, %2d verdicts agree, %d borderline; undocumented cases: max |diff| %.3g, relative %.3g, %.2f of allowed",
			m, s.cases, s.verdicts, s.borderline, s.maxDiff, s.maxRel, s.maxDiffOfAllowed)
	}
}

// evidentlyRun evaluates one case with policy p and compares the primary
// row's numbers in Evidently's units.
func evidentlyRun(t *testing.T, p Policy, c evidentlyGoldenCase, ref evidentlySample) evidentlyOutcome {
	t.Helper()
	start := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	b := baselines.NewBuilder("m", baselines.BuildOptions{Now: func() time.Time { return start }})
	for _, x := range ref.nums {
		b.AddNumber("x", x)
		b.EndRow()
	}
	for _, k := range slices.Sorted(maps.Keys(ref.cats)) {
		for range ref.cats[k] {
			b.AddCategory("x", k)
			b.EndRow()
		}
	}
	bl, err := b.Build()
	if err != nil {
		t.Fatalf("%s: %v", c.Name, err)
	}
	bf := &bl.Features[0]
	w := windows.NewWindow(windows.Key{Model: "m", Version: "1"}, start, start, bl, 1000)
	f := &w.Features[0]
	for _, x := range c.Cur.nums {
		i := bf.Bin(x)
		f.Counts[i]++
		f.Sums[i] += x
		f.Count++
		f.Min, f.Max = min(f.Min, x), max(f.Max, x)
		f.Moments.Add(x)
	}
	for k, n := range c.Cur.cats {
		f.Categories[k] += n
		f.Count += n
	}
	var o evidentlyOutcome
	var r *Row
	rows := NewEvaluator(p, nil).Evaluate(w)
	for i := range rows {
		if rows[i].Subject == "x" && rows[i].Primary {
			r = &rows[i]
		}
	}
	if r == nil {
		o.problems = append(o.problems, "no primary row")
		return o
	}
	o.metric, o.threshold, o.value, o.drifted = r.Metric, r.Threshold, r.Value, r.Drifted
	if r.PValue != nil {
		o.value = *r.PValue
	}
	o.lo, o.hi = o.value, o.value
	switch r.Metric {
	case MetricChi2GOF, MetricJensenShannon, MetricProportionZ:
		tol := evidentlyExactRel * o.value
		if r.Metric == MetricProportionZ {
			tol += evidentlyZAbs
		}
		o.lo, o.hi = o.value-tol, o.value+tol
		if bf.Kind == baselines.Numeric && !evidentlyOwnCells(bf, p.PSIBins, ref.nums, c.Cur.nums) {
			o.note = " (distinct values share a reference-mass group)"
		}
	case MetricKS:
		o.lo, o.hi = evidentlyKS(t, c, bf, f, r.Value, ref.nums, &o)
	case MetricWasserstein:
		scale := bf.Std
		if scale == 0 {
			scale = 1
		}
		o.value, o.threshold = r.Value/scale, r.Threshold/scale
		tol := evidentlyBinningBound(bf, ref.nums, c.Cur.nums)/scale + 1e-12
		o.lo, o.hi = o.value-tol, o.value+tol
	}
	o.borderline = c.Evidently.Threshold >= o.lo && c.Evidently.Threshold <= o.hi
	return o
}

// evidentlyOwnCells reports whether every distinct value of both samples
// has a group of fine bins (stats.CoarsenBins, as Evaluator groups them) of
// its own, so that statistics on the groups are statistics of the distinct
// values.
func evidentlyOwnCells(bf *baselines.Feature, bins int, ref, cur []float64) bool {
	ends := stats.CoarsenBins(toFloat(bf.Counts), bins)
	owner := map[int]float64{}
	for _, x := range slices.Concat(ref, cur) {
		bin := bf.Bin(x)
		g, _ := slices.BinarySearch(ends, bin+1)
		if v, ok := owner[g]; ok && v != x {
			return false
		}
		owner[g] = x
	}
	return true
}

// evidentlyKS checks driftwatch's binned D against Evidently's (scipy's
// ks_2samp statistic on the same values) and returns the range of
// Evidently's p-value (see TestEvidentlyGolden).
func evidentlyKS(t *testing.T, c evidentlyGoldenCase, bf *baselines.Feature, f *windows.Feature, d float64, ref []float64, o *evidentlyOutcome) (lo, hi float64) {
	t.Helper()
	if c.KSStatistic == nil {
		t.Fatalf("%s: K-S case without ks_statistic", c.Name)
	}
	n, m := float64(bf.Count), float64(f.Count)
	// delta: the largest min(r_j, c_j) over bins holding two or more
	// distinct values of either sample.
	first := map[int]float64{}
	multi := map[int]bool{}
	for _, x := range slices.Concat(ref, c.Cur.nums) {
		i := bf.Bin(x)
		if v, ok := first[i]; !ok {
			first[i] = x
		} else if v != x {
			multi[i] = true
		}
	}
	delta := 0.0
	for i := range multi {
		delta = max(delta, min(float64(bf.Counts[i])/n, float64(f.Counts[i])/m))
	}
	dEv := *c.KSStatistic
	if !(d <= dEv+1e-12 && dEv <= d+delta+1e-12) {
		o.problems = append(o.problems, fmt.Sprintf("D %.6g, Evidently's (scipy's) %.6g, outside [D, D + %.4g]", d, dEv, delta))
	}
	if p := evidentlyKSP(dEv, n, m); math.Abs(p-c.Evidently.Score) > evidentlyKSMethodGap*c.Evidently.Score {
		o.problems = append(o.problems, fmt.Sprintf("p-values of the same D: %.6g, Evidently %.6g, more than %v apart", p, c.Evidently.Score, evidentlyKSMethodGap))
	}
	return evidentlyKSP(min(d+delta, 1), n, m) * (1 - evidentlyKSMethodGap), evidentlyKSP(d, n, m) * (1 + evidentlyKSMethodGap)
}

// evidentlyKSP is KSBinned's p-value of statistic d for samples of n and m
// values: the p-value of two bins whose cumulative proportions differ by d.
func evidentlyKSP(d, n, m float64) float64 {
	_, p := stats.KSBinned([]float64{n * d, n - n*d}, []float64{0, m})
	return p
}

// evidentlyBinningBound returns the bound on |W - W_dw| of
// TestEvidentlyGolden, in the values' units: the sum over bf's bins of
// ∫|A - B| over the bin, where A = F_r - F_c is the difference of the
// empirical CDFs of ref and cur and B = F'_r - F'_c the same with each bin
// of each sample collapsed to the mean of its values, which is how
// driftwatch places the mass. A bin where A and B keep one sign
// contributes nothing: there ∫|A| = |∫A| = |∫B| = ∫|B|, because the
// integral of a CDF over a bin depends only on the count and the sum of
// the values in it.
func evidentlyBinningBound(bf *baselines.Feature, ref, cur []float64) float64 {
	type atom struct{ x, a, b float64 } // steps of A and B at x
	var atoms []atom
	add := func(xs []float64, sign float64) {
		n := float64(len(xs))
		counts := make([]float64, len(bf.Edges)+1)
		sums := make([]float64, len(bf.Edges)+1)
		for _, x := range xs {
			atoms = append(atoms, atom{x: x, a: sign / n})
			i := bf.Bin(x)
			counts[i]++
			sums[i] += x
		}
		for i, k := range counts {
			if k > 0 {
				atoms = append(atoms, atom{x: sums[i] / k, b: sign * k / n})
			}
		}
	}
	add(ref, 1)
	add(cur, -1)
	slices.SortFunc(atoms, func(u, v atom) int { return cmp.Compare(u.x, v.x) })
	type bin struct {
		l1       float64 // ∫|A - B|
		pos, neg bool    // A or B is positive, negative somewhere
	}
	bins := make([]bin, len(bf.Edges)+1)
	var a, b float64
	for i, at := range atoms[:len(atoms)-1] {
		a += at.a
		b += at.b
		dx := atoms[i+1].x - at.x
		if dx == 0 {
			continue
		}
		// Between two atoms both A and B are constant, and the interval
		// lies in the bin of its left end: past a bin's last value
		// (and its means) A = B.
		j := &bins[bf.Bin(at.x)]
		j.l1 += math.Abs(a-b) * dx
		j.pos = j.pos || a > 1e-12 || b > 1e-12
		j.neg = j.neg || a < -1e-12 || b < -1e-12
	}
	bound := 0.0
	for _, j := range bins {
		if j.pos && j.neg {
			bound += j.l1
		}
	}
	return bound
}
