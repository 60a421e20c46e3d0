package drift

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/driftwatch/driftwatch/internal/goldenjson"
	"github.com/driftwatch/driftwatch/stats"
	"github.com/driftwatch/driftwatch/stats/perf"
	"github.com/driftwatch/driftwatch/stats/sketch"
	"github.com/driftwatch/driftwatch/windows"
)

// variantWindow is window() with variants: a champion, a canary of its own
// records and a shadow of the champion's, their states set by hand.
func variantWindow(t *testing.T) *windows.Window {
	t.Helper()
	w := window([]int64{0, 300, 300, 300}, []float64{0, 0, 300, 600}, map[string]int64{"red": 450, "blue": 450}, 100)
	latencies := func(xs ...float64) *sketch.Sketch {
		s, err := sketch.New(windows.LatencyAccuracy)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range xs {
			s.Add(x)
		}
		return s
	}
	sum := func(xs ...float64) stats.Sum {
		var s stats.Sum
		for _, x := range xs {
			s.Add(x)
		}
		return s
	}
	pred := func(yes, no int64) windows.Feature {
		return windows.Feature{Count: yes + no, Categories: map[string]int64{"yes": yes, "no": no}}
	}
	w.Variants = map[string]*windows.Variant{
		// Champion: 80 of 100 labelled right; errors 0.1 x 50, 0.3 x 50.
		"champion": {Prediction: pred(300, 300), Latency: latencies(10, 20, 30, 40),
			Outcomes: perf.Confusion{TP: 30, FP: 10, TN: 50, FN: 10}, ErrN: 100,
			ErrAbs: sum(5, 15), ErrSq: sum(0.5, 4.5)},
		// Canary: 30 of 50 right; errors 0.5 x 50.
		"canary": {Prediction: pred(150, 150), Latency: latencies(50, 60),
			Outcomes: perf.Confusion{TP: 10, FP: 5, TN: 20, FN: 15}, ErrN: 50,
			ErrAbs: sum(25), ErrSq: sum(12.5)},
		// Shadow of the champion's 600 records: 540 agree; 90 labelled
		// pairs, 60 both right, 5 champion only, 15 shadow only, 10 both
		// wrong; no numeric pairs.
		"shadow": {Prediction: pred(290, 310),
			Outcomes:  perf.Confusion{TP: 35, FP: 5, TN: 40, FN: 10},
			Agreement: windows.Agreement{Pairs: 600, Agree: 540},
			Paired:    windows.PairOutcomes{BothRight: 60, ChampionOnly: 5, VariantOnly: 15, BothWrong: 10}},
	}
	return w
}

// TestVariantRows: every variant row of a hand-built window, exactly: the
// values, sample sizes and verdicts; the p-values are checked against
// statsmodels and SciPy in TestVariantDiffsGolden.
func TestVariantRows(t *testing.T) {
	rows := NewEvaluator(DefaultPolicy(), nil).Evaluate(variantWindow(t))
	type key struct{ family, subject, metric string }
	type want struct {
		value      float64
		n, nref    int64
		hasP       bool
		drifted    bool
		source     string
		toleranceQ bool // a latency quantile: within windows.LatencyAccuracy
	}
	wants := map[key]want{
		{FamilyPrediction, "variant=shadow", MetricAgreementRate}: {value: 0.9, n: 600},
		{FamilyConcept, "variant=champion", MetricAccuracy}:       {value: 0.8, n: 100},
		{FamilyConcept, "variant=champion", MetricPrecision}:      {value: 0.75, n: 40},
		{FamilyConcept, "variant=champion", MetricRecall}:         {value: 0.75, n: 40},
		{FamilyConcept, "variant=champion", MetricF1}:             {value: 0.75, n: 100},
		{FamilyConcept, "variant=champion", MetricMAE}:            {value: 0.2, n: 100},
		{FamilyConcept, "variant=champion", MetricRMSE}:           {value: math.Sqrt(0.05), n: 100},
		{FamilyConcept, "variant=canary", MetricAccuracy}:         {value: 0.6, n: 50},
		{FamilyConcept, "variant=canary", MetricPrecision}:        {value: 10.0 / 15, n: 15},
		{FamilyConcept, "variant=canary", MetricRecall}:           {value: 0.4, n: 25},
		{FamilyConcept, "variant=canary", MetricF1}:               {value: 2 * (10.0 / 15) * 0.4 / (10.0/15 + 0.4), n: 50},
		{FamilyConcept, "variant=canary", MetricMAE}:              {value: 0.5, n: 50},
		{FamilyConcept, "variant=canary", MetricRMSE}:             {value: 0.5, n: 50},
		// 0.6 - 0.8, significantly worse: drifted.
		{FamilyConcept, "variant=canary", MetricAccuracyDiff}: {value: 0.6 - 0.8, n: 50, nref: 100, hasP: true, drifted: true, source: SourceStatic},
		// 0.5 - 0.2 with no spread on the canary's side.
		{FamilyConcept, "variant=canary", MetricMAEDiff}:   {value: 0.3, n: 50, nref: 100, hasP: true, drifted: true, source: SourceStatic},
		{FamilyConcept, "variant=shadow", MetricAccuracy}:  {value: 75.0 / 90, n: 90},
		{FamilyConcept, "variant=shadow", MetricPrecision}: {value: 35.0 / 40, n: 40},
		{FamilyConcept, "variant=shadow", MetricRecall}:    {value: 35.0 / 45, n: 45},
		{FamilyConcept, "variant=shadow", MetricF1}:        {value: 2 * 35.0 / (2*35 + 5 + 10), n: 90},
		// (15 - 5)/90 better on the same records: not drifted, whatever p.
		{FamilyConcept, "variant=shadow", MetricAccuracyDiffPaired}: {value: 10.0 / 90, n: 90, nref: 90, hasP: true, source: SourceStatic},
		// Latencies: numpy's "lower" order statistic, as the window's.
		{FamilyServing, "variant=champion", MetricLatencyP50}: {value: 20, n: 4, toleranceQ: true},
		{FamilyServing, "variant=champion", MetricLatencyP95}: {value: 30, n: 4, toleranceQ: true},
		{FamilyServing, "variant=champion", MetricLatencyP99}: {value: 30, n: 4, toleranceQ: true},
		{FamilyServing, "variant=canary", MetricLatencyP50}:   {value: 50, n: 2, toleranceQ: true},
		{FamilyServing, "variant=canary", MetricLatencyP95}:   {value: 50, n: 2, toleranceQ: true},
		{FamilyServing, "variant=canary", MetricLatencyP99}:   {value: 50, n: 2, toleranceQ: true},
	}
	got := map[key]Row{}
	for _, r := range rows {
		if !strings.HasPrefix(r.Subject, "variant=") {
			continue
		}
		k := key{r.Family, r.Subject, r.Metric}
		if r.Family == FamilyPrediction {
			if _, ok := wants[k]; !ok {
				continue // the distribution rows (appendVariants), tested elsewhere
			}
		}
		if _, dup := got[k]; dup {
			t.Errorf("row %v twice", k)
		}
		got[k] = r
	}
	for k, w := range wants {
		r, ok := got[k]
		if !ok {
			t.Errorf("no row %v", k)
			continue
		}
		tol := 1e-12
		if w.toleranceQ {
			tol = w.value * windows.LatencyAccuracy
		}
		if math.Abs(r.Value-w.value) > tol || r.NCurrent != w.n || r.NReference != w.nref || (r.PValue != nil) != w.hasP ||
			r.Drifted != w.drifted || r.ThresholdSource != w.source || r.Primary {
			t.Errorf("row %v: %+v (p %v); want %+v", k, r, r.PValue, w)
		}
		if w.hasP && r.Threshold != variantAlpha {
			t.Errorf("row %v: threshold %v, want %v", k, r.Threshold, variantAlpha)
		}
	}
	for k := range got {
		if _, ok := wants[k]; !ok {
			t.Errorf("unexpected row %v: %+v", k, got[k])
		}
	}
	// A shadow's records are paired: no unpaired difference; nor the
	// champion's against itself; nor latency rows without latencies.
	for _, k := range []key{{FamilyConcept, "variant=shadow", MetricAccuracyDiff}, {FamilyConcept, "variant=champion", MetricAccuracyDiff},
		{FamilyServing, "variant=shadow", MetricLatencyP50}, {FamilyConcept, "variant=shadow", MetricMAEDiffPaired}} {
		if _, ok := got[k]; ok {
			t.Errorf("row %v written", k)
		}
	}
}

// TestVariantRowsOnRelabel: late labels re-emit each variant's performance
// and difference (EvaluateLabels), as Evaluate writes them.
func TestVariantRowsOnRelabel(t *testing.T) {
	full := NewEvaluator(DefaultPolicy(), nil).Evaluate(variantWindow(t))
	re := NewEvaluator(DefaultPolicy(), nil).EvaluateLabels(variantWindow(t))
	n := 0
	for _, r := range re {
		if !strings.HasPrefix(r.Subject, "variant=") {
			continue
		}
		n++
		if r.Family != FamilyConcept {
			t.Errorf("re-emitted %s/%s/%s: labels do not change it", r.Family, r.Subject, r.Metric)
		}
		i := slices.IndexFunc(full, func(f Row) bool { return f.Family == r.Family && f.Subject == r.Subject && f.Metric == r.Metric })
		if i < 0 || full[i].Value != r.Value || full[i].Drifted != r.Drifted || !samePValue(full[i].PValue, r.PValue) {
			t.Errorf("re-emitted %+v differs from the window's %v", r, i)
		}
	}
	if n != 19 { // champion 6, canary 6 + 2 differences, shadow 4 + 1 paired difference
		t.Errorf("%d variant rows re-emitted, want the 19 of family concept", n)
	}
}

func samePValue(a, b *float64) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }

// variantsGolden mirrors testdata/golden/variants.json (gen_variants.py).
type variantsGolden struct {
	Versions map[string]string
	Accuracy []struct {
		Name           string
		NC, XC, NV, XV float64
		Value, P       goldenjson.Float
	}
	MAE []struct {
		Name     string
		EC, EV   goldenjson.Floats
		Value, P goldenjson.Float
	}
	AccuracyPaired []struct {
		Name         string
		BothRight    int64 `json:"both_right"`
		ChampionOnly int64 `json:"champion_only"`
		VariantOnly  int64 `json:"variant_only"`
		BothWrong    int64 `json:"both_wrong"`
		Value, P     goldenjson.Float
	} `json:"accuracy_paired"`
	MAEPaired []struct {
		Name     string
		EC, EV   goldenjson.Floats
		Value, P goldenjson.Float
	} `json:"mae_paired"`
}

// TestVariantDiffsGolden: the difference rows of a champion and a variant
// built from the same records as statsmodels' proportions_ztest and
// mcnemar and SciPy's ttest_ind (Welch) and ttest_rel were given: values
// to 1e-12, p-values to 1e-9 relative (1e-12 absolute below 1e-3: the
// unpaired and paired MAE tests read the variance from exact sums of e and
// e^2, rounded once, where SciPy sums squared deviations, which leaves
// about 1e-13 of relative difference in the variance).
func TestVariantDiffsGolden(t *testing.T) {
	raw, err := os.ReadFile("testdata/golden/variants.json")
	if err != nil {
		t.Fatal(err)
	}
	var g variantsGolden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Accuracy) < 5 || len(g.MAE) < 5 || len(g.AccuracyPaired) < 5 || len(g.MAEPaired) < 5 {
		t.Fatal("variants.json is missing cases")
	}
	t.Logf("golden values from %v", g.Versions)
	e := NewEvaluator(DefaultPolicy(), nil)
	eval := func(champ, v *windows.Variant) map[string]Row {
		w := window([]int64{0, 300, 300, 300}, []float64{0, 0, 300, 600}, map[string]int64{"red": 450, "blue": 450}, 100)
		w.Variants = map[string]*windows.Variant{"champion": champ, "challenger": v}
		out := map[string]Row{}
		for _, r := range e.EvaluateLabels(w) {
			if r.Subject == "variant=challenger" {
				out[r.Metric] = r
			}
		}
		return out
	}
	worst := map[string]float64{}
	verdicts := map[string]int{}
	// worse: the difference is past the default policy's margin (0.05 of
	// accuracy; 10% of the champion's MAE, mc).
	pol := DefaultPolicy()
	worseAcc := func(v float64) bool { return v < -pol.MaxPerformanceDrop }
	worseMAE := func(mc float64) func(float64) bool {
		return func(v float64) bool { return v > pol.MaxErrorIncrease*mc }
	}
	check := func(metric, name string, r Row, ok bool, value, p float64, worse func(float64) bool) {
		t.Helper()
		switch {
		case !ok:
			t.Errorf("%s %s: no row", metric, name)
			return
		case math.Abs(r.Value-value) > 1e-12:
			t.Errorf("%s %s: value %v, want %v", metric, name, r.Value, value)
		case r.PValue == nil:
			t.Errorf("%s %s: no p-value, want %v", metric, name, p)
			return
		}
		d := math.Abs(*r.PValue - p)
		if rel := d / p; !(rel <= 1e-9 || d <= 1e-12 && p < 1e-3) {
			t.Errorf("%s %s: p %v, reference %v (rel err %.3g)", metric, name, *r.PValue, p, rel)
		}
		worst[metric] = max(worst[metric], d/p)
		verdicts[metric+fmt.Sprint(r.Drifted)]++
		if r.Drifted != (*r.PValue < 0.05 && worse(value)) {
			t.Errorf("%s %s: drifted %v at p %v and difference %v", metric, name, r.Drifted, *r.PValue, value)
		}
	}
	decided := func(n, right float64) perf.Confusion { return perf.Confusion{TP: right, FP: n - right} }
	for _, c := range g.Accuracy {
		r, ok := eval(&windows.Variant{Outcomes: decided(c.NC, c.XC)}, &windows.Variant{Outcomes: decided(c.NV, c.XV)})[MetricAccuracyDiff]
		check(MetricAccuracyDiff, c.Name, r, ok, float64(c.Value), float64(c.P), worseAcc)
	}
	errs := func(es []float64) *windows.Variant {
		v := &windows.Variant{ErrN: int64(len(es))}
		for _, x := range es {
			v.ErrAbs.Add(math.Abs(x))
			v.ErrSq.Add(x * x)
		}
		return v
	}
	for _, c := range g.MAE {
		champ := errs(c.EC)
		r, ok := eval(champ, errs(c.EV))[MetricMAEDiff]
		check(MetricMAEDiff, c.Name, r, ok, float64(c.Value), float64(c.P), worseMAE(champ.ErrAbs.Value()/float64(champ.ErrN)))
	}
	paired := func(p windows.PairOutcomes) *windows.Variant {
		return &windows.Variant{Agreement: windows.Agreement{Pairs: max(p.N(), p.ErrN)}, Paired: p}
	}
	for _, c := range g.AccuracyPaired {
		rows := eval(&windows.Variant{}, paired(windows.PairOutcomes{BothRight: c.BothRight, ChampionOnly: c.ChampionOnly, VariantOnly: c.VariantOnly, BothWrong: c.BothWrong}))
		r, ok := rows[MetricAccuracyDiffPaired]
		check(MetricAccuracyDiffPaired, c.Name, r, ok, float64(c.Value), float64(c.P), worseAcc)
		if _, unpaired := rows[MetricAccuracyDiff]; unpaired {
			t.Errorf("%s: an unpaired accuracy_diff beside the paired one", c.Name)
		}
	}
	for _, c := range g.MAEPaired {
		var p windows.PairOutcomes
		for i := range c.EC {
			d := math.Abs(c.EV[i]) - math.Abs(c.EC[i])
			p.ErrN++
			p.ErrDiff.Add(d)
			p.ErrDiffSq.Add(d * d)
		}
		r, ok := eval(&windows.Variant{}, paired(p))[MetricMAEDiffPaired]
		check(MetricMAEDiffPaired, c.Name, r, ok, float64(c.Value), float64(c.P), worseMAE(0)) // the champion has no errors of its own here
	}
	for m, e := range worst {
		t.Logf("largest relative error of p %-22s %.3g", m, e)
		if verdicts[m+"true"] == 0 || verdicts[m+"false"] == 0 {
			t.Errorf("%s: %d cases drifted, %d not: the cases do not exercise the verdict", m, verdicts[m+"true"], verdicts[m+"false"])
		}
	}
}

// TestVariantDiffUndefined: without spread on either side (both decided
// everything right) the test is undefined: the difference is reported,
// not judged; with too few errors no MAE difference is written.
func TestVariantDiffUndefined(t *testing.T) {
	w := window([]int64{0, 300, 300, 300}, []float64{0, 0, 300, 600}, map[string]int64{"red": 450, "blue": 450}, 100)
	w.Variants = map[string]*windows.Variant{
		"champion":   {Outcomes: perf.Confusion{TP: 40, TN: 60}, ErrN: 1},
		"challenger": {Outcomes: perf.Confusion{TP: 4, TN: 6}, ErrN: 5},
	}
	rows := NewEvaluator(DefaultPolicy(), nil).EvaluateLabels(w)
	r := find(t, rows, FamilyConcept, "variant=challenger", MetricAccuracyDiff)
	if r.Value != 0 || r.PValue != nil || r.ThresholdSource != "" || r.Drifted {
		t.Errorf("undefined test: %+v", r)
	}
	for _, r := range rows {
		if r.Metric == MetricMAEDiff {
			t.Errorf("an MAE difference from a single champion error: %+v", r)
		}
	}
}
