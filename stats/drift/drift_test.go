package drift

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/stats/perf"
	"github.com/driftwatch/driftwatch/windows"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// baseline has x on values 0, 1, 2 (one bin each, 1000 of each), and color
// red 50% / blue 50%; 10% of color is missing.
func baseline() *baselines.Baseline {
	return &baselines.Baseline{
		Format: 1, ID: "b", Model: "m",
		Features: []baselines.Feature{
			{Name: "x", Kind: baselines.Numeric, Count: 3000, Edges: []float64{0, 1, 2},
				Counts: []int64{0, 1000, 1000, 1000}, Sums: []float64{0, 0, 1000, 2000}, Min: 0, Max: 2, Mean: 1, Std: math.Sqrt(2.0 / 3)},
			{Name: "color", Kind: baselines.Categorical, Count: 2700, Nulls: 300, Categories: map[string]int64{"red": 1350, "blue": 1350}},
		},
		Prediction: baselines.Feature{Name: "prediction", Kind: baselines.Categorical, Count: 3000, Categories: map[string]int64{"yes": 1500, "no": 1500}},
	}
}

func window(xCounts []int64, xSums []float64, colors map[string]int64, colorNulls int64) *windows.Window {
	w := windows.NewWindow(windows.Key{Model: "m", Version: "1"}, t0, t0.Add(time.Hour), baseline(), 100)
	x := &w.Features[0]
	copy(x.Counts, xCounts)
	copy(x.Sums, xSums)
	for _, c := range xCounts {
		x.Count += c
	}
	col := &w.Features[1]
	for k, v := range colors {
		col.Categories[k] = v
		col.Count += v
	}
	col.Nulls = colorNulls
	w.Prediction.Categories["yes"], w.Prediction.Categories["no"], w.Prediction.Count = 500, 500, 1000
	return w
}

func find(t *testing.T, rows []Row, family, subject, metric string) Row {
	t.Helper()
	for _, r := range rows {
		if r.Family == family && r.Subject == subject && r.Metric == metric {
			return r
		}
	}
	t.Fatalf("no row %s/%s/%s in %+v", family, subject, metric, rows)
	return Row{}
}

func TestEvaluateStableWindow(t *testing.T) {
	e := NewEvaluator(DefaultPolicy(), nil)
	rows := e.Evaluate(window([]int64{0, 300, 300, 300}, []float64{0, 0, 300, 600}, map[string]int64{"red": 450, "blue": 450}, 100))
	for _, r := range rows {
		if r.Drifted {
			t.Errorf("stable window flagged: %+v", r)
		}
		if r.Model != "m" || r.ModelVersion != "1" || !r.WindowStart.Equal(t0) || r.BaselineID != "b" {
			t.Errorf("row header %+v", r)
		}
	}
	// The threshold as the window reads it (pair.reader): 0.2 plus the psi that
	// noise gives 3 cells at 900 and 3000 records.
	if r := find(t, rows, FamilyData, "x", MetricPSI); r.Value > 1e-12 || !r.Primary || math.Abs(r.Threshold-(0.2+2*(1.0/900+1.0/3000))) > 1e-12 || r.NCurrent != 900 || r.NReference != 3000 {
		t.Errorf("psi row %+v", r)
	}
	if r := find(t, rows, FamilyData, "x", MetricWasserstein); r.Value > 1e-12 {
		t.Errorf("wasserstein of equal distributions = %v", r.Value)
	}
	if r := find(t, rows, FamilyData, "color", MetricJensenShannon); !r.Primary || r.Value > 1e-12 {
		t.Errorf("color js row %+v", r)
	}
	if r := find(t, rows, FamilyPrediction, "prediction", MetricJensenShannon); r.Value > 1e-12 {
		t.Errorf("prediction row %+v", r)
	}
	// color: 100 missing of 1000 = 0.1, baseline 0.1, threshold 0.1 + 0.1.
	if r := find(t, rows, FamilyQuality, "color", MetricNullRate); math.Abs(r.Value-0.1) > 1e-12 || math.Abs(r.Threshold-0.2) > 1e-12 || r.Drifted {
		t.Errorf("null rate row %+v", r)
	}
}

func TestEvaluateShiftedWindow(t *testing.T) {
	e := NewEvaluator(DefaultPolicy(), nil)
	// x moves from {0,1,2} to {1,2,3}: 3 lands in the last bin with 2, whose
	// mean becomes 2.5. Point masses ref {0,1,2}/3, cur {1: 1/3, 2.5: 2/3}
	// are exactly one unit apart in W1.
	w := window([]int64{0, 0, 300, 600}, []float64{0, 0, 300, 1500}, map[string]int64{"red": 100, "blue": 700, "green": 200}, 500)
	rows := e.Evaluate(w)
	psi := find(t, rows, FamilyData, "x", MetricPSI)
	if !psi.Drifted || !psi.Primary || psi.Severity != "" {
		t.Errorf("psi row %+v", psi)
	}
	w1 := find(t, rows, FamilyData, "x", MetricWasserstein)
	// 0.1 sigma, and in quadrature the noise: sqrt(2/pi (1/n + 1/m)) times
	// the integral of sqrt(F(1-F)), 2 sqrt(2)/3 over the reference {0,1,2}.
	noise := math.Sqrt(2/math.Pi*(1.0/900+1.0/3000)) * 2 * math.Sqrt2 / 3
	if math.Abs(w1.Value-1) > 1e-12 || !w1.Drifted || math.Abs(w1.Threshold-math.Hypot(0.1*math.Sqrt(2.0/3), noise)) > 1e-12 {
		t.Errorf("wasserstein row %+v, want value 1 and threshold 0.1 sigma with the noise", w1)
	}
	// ks: after bin 1 the reference has 1/3 and the window 0; after bin 2
	// 2/3 vs 1/3: D = 1/3.
	ks := find(t, rows, FamilyData, "x", MetricKS)
	if math.Abs(ks.Value-1.0/3) > 1e-12 || ks.PValue == nil || *ks.PValue > 1e-10 || !ks.Drifted || ks.Primary {
		t.Errorf("ks row %+v", ks)
	}
	// green is unseen in the baseline: it must count, not vanish.
	chi := find(t, rows, FamilyData, "color", MetricChi2)
	if chi.Value < 200 || !chi.Drifted || chi.NCurrent != 1000 {
		t.Errorf("chi2 row %+v", chi)
	}
	if js := find(t, rows, FamilyData, "color", MetricJensenShannon); !js.Drifted || !js.Primary {
		t.Errorf("js row %+v", js)
	}
	// 500 of 1500 missing: 0.33 > 0.1 + 0.1.
	if nr := find(t, rows, FamilyQuality, "color", MetricNullRate); !nr.Drifted {
		t.Errorf("null rate row %+v", nr)
	}
}

func TestEvaluateOverridesAndMinSamples(t *testing.T) {
	p := DefaultPolicy()
	p.Features = map[string]Rule{"x": {Metric: MetricKS, Threshold: 0.01}}
	p.MinSamples = 950
	e := NewEvaluator(DefaultPolicy(), map[string]Policy{"m": p})
	w := window([]int64{0, 0, 300, 660}, []float64{0, 0, 300, 1650}, map[string]int64{"red": 500, "blue": 400}, 0)
	rows := e.Evaluate(w)
	if ks := find(t, rows, FamilyData, "x", MetricKS); !ks.Primary || ks.Threshold != 0.01 {
		t.Errorf("overridden rule not applied: %+v", ks)
	}
	if psi := find(t, rows, FamilyData, "x", MetricPSI); psi.Primary {
		t.Errorf("psi still primary: %+v", psi)
	}
	for _, r := range rows {
		if r.Subject == "color" && r.Family == FamilyData {
			t.Errorf("color judged with 900 < min_samples 950 values: %+v", r)
		}
	}
	find(t, rows, FamilyQuality, "color", MetricNullRate) // still reported
}

func TestLateRow(t *testing.T) {
	r := Late(&windows.LateReport{Key: windows.Key{Model: "m", Version: "1"}, Start: t0, End: t0.Add(time.Hour), BaselineID: "b", Records: 7})
	if r.Family != FamilyQuality || r.Subject != "*" || r.Metric != MetricLateRecords || r.Value != 7 || !r.Drifted || r.PValue != nil {
		t.Fatalf("late row %+v", r)
	}
}

// TestSignificanceGuardsSmallWindows: a window of 100 values whose PSI is
// past 0.2 but whose KS test is not significant is not drifted when
// significance is required, and is without.
func TestSignificanceGuardsSmallWindows(t *testing.T) {
	// 100 values split 45/10/45 over {0,1,2} against 1/3 each: PSI 0.35,
	// but KS D = 0.117 with n = 100 has p of about 0.14.
	w := window([]int64{0, 45, 10, 45}, []float64{0, 0, 10, 90}, map[string]int64{"red": 450, "blue": 450}, 0)
	p := DefaultPolicy()
	rows := NewEvaluator(p, nil).Evaluate(w)
	psi, ks := find(t, rows, FamilyData, "x", MetricPSI), find(t, rows, FamilyData, "x", MetricKS)
	if psi.Value < 0.2 {
		t.Fatalf("test setup: psi %v should pass its threshold", psi.Value)
	}
	if *ks.PValue < 0.05 {
		t.Fatalf("test setup: ks p %v should not be significant", *ks.PValue)
	}
	if psi.Drifted {
		t.Errorf("psi %v judged drifted although ks p = %v", psi.Value, *ks.PValue)
	}
	p.RequireSignificance = false
	if psi := find(t, NewEvaluator(p, nil).Evaluate(w), FamilyData, "x", MetricPSI); !psi.Drifted {
		t.Errorf("without the significance requirement psi %v should be drifted", psi.Value)
	}
}

// TestEvaluateQuality: each data-quality row's value, threshold and verdict.
func TestEvaluateQuality(t *testing.T) {
	e := NewEvaluator(DefaultPolicy(), nil)
	stable := e.Evaluate(window([]int64{0, 300, 300, 300}, []float64{0, 0, 300, 600}, map[string]int64{"red": 450, "blue": 450}, 100))
	for _, m := range []string{MetricMissingRate, MetricTypeErrorRate} {
		for _, s := range []string{"x", "color", "prediction"} {
			if r := find(t, stable, FamilyQuality, s, m); r.Value != 0 || r.Drifted {
				t.Errorf("stable %s/%s: %+v", s, m, r)
			}
		}
	}
	// x: 3000 reference values, so 2/3001 of values are expected outside [0, 2].
	if r := find(t, stable, FamilyQuality, "x", MetricOutOfRange); r.Value != 0 || math.Abs(r.Threshold-(0.01+2.0/3001)) > 1e-15 || r.Drifted {
		t.Errorf("stable out_of_range %+v", r)
	}
	if r := find(t, stable, FamilyQuality, "color", MetricUnseenRate); r.Value != 0 || r.Threshold != 0.01 || r.Drifted {
		t.Errorf("stable unseen %+v", r) // no category seen once in the reference: Good-Turing expects 0
	}

	w := window([]int64{0, 300, 300, 300}, []float64{0, 0, 300, 600}, map[string]int64{"red": 440, "blue": 440, "green": 20}, 100)
	x, col := &w.Features[0], &w.Features[1]
	x.OutOfRange = 45              // 5% of 900 values
	x.Nulls, x.WrongType = 100, 90 // 90 of 1000 records sent a string
	col.Absent = 30                // 3% of the records lack the key
	rows := e.Evaluate(w)
	for _, c := range []struct {
		subject, metric string
		value           float64
		drifted         bool
	}{
		{"x", MetricOutOfRange, 45.0 / 900, true},
		{"x", MetricTypeErrorRate, 90.0 / 1000, true},
		{"color", MetricMissingRate, 30.0 / 1000, true},
		{"color", MetricUnseenRate, 20.0 / 900, true},
		{"color", MetricTypeErrorRate, 0, false},
	} {
		if r := find(t, rows, FamilyQuality, c.subject, c.metric); math.Abs(r.Value-c.value) > 1e-15 || r.Drifted != c.drifted {
			t.Errorf("%s/%s = %v drifted %v, want %v drifted %v", c.subject, c.metric, r.Value, r.Drifted, c.value, c.drifted)
		}
	}

	// A reference that overflowed its category cap cannot tell rare from
	// unseen: no unseen row.
	b := baseline()
	b.Features[1].Categories[baselines.OtherCategory] = 5
	w.Baseline = b
	for _, r := range e.Evaluate(w) {
		if r.Metric == MetricUnseenRate && r.Subject == "color" {
			t.Errorf("unseen row with an overflowed reference: %+v", r)
		}
	}
}

// TestEvaluateDataset: the dataset-level rows count the features with a
// verdict, weigh them by importance, and the weighted share is the verdict.
func TestEvaluateDataset(t *testing.T) {
	shifted := window([]int64{0, 0, 300, 600}, []float64{0, 0, 300, 1200}, map[string]int64{"red": 450, "blue": 450}, 100)
	p := DefaultPolicy()
	rows := NewEvaluator(p, nil).Evaluate(shifted)
	if r := find(t, rows, FamilyData, "x", MetricPSI); !r.Drifted {
		t.Fatalf("x not drifted: %+v", r)
	}
	// x drifted, color did not: half the features.
	share := find(t, rows, FamilyData, "*", MetricDriftedShare)
	weighted := find(t, rows, FamilyData, "*", MetricWeightedDrift)
	if share.Value != 0.5 || share.NCurrent != 2 || share.NReference != 2 || !share.Drifted || share.Primary {
		t.Errorf("drifted_share %+v", share)
	}
	if weighted.Value != 0.5 || !weighted.Drifted || !weighted.Primary {
		t.Errorf("weighted_drift_share %+v", weighted)
	}
	p.Importance = map[string]float64{"color": 3, "x": 1}
	rows = NewEvaluator(p, nil).Evaluate(shifted)
	if r := find(t, rows, FamilyData, "*", MetricWeightedDrift); math.Abs(r.Value-0.25) > 1e-15 || r.Drifted {
		t.Errorf("weighted by importance: %+v, want 1/4, not drifted", r)
	}
	// No feature with enough samples: no dataset rows.
	p.MinSamples = 1 << 40
	for _, r := range NewEvaluator(p, nil).Evaluate(shifted) {
		if r.Family == FamilyData && r.Subject == "*" {
			t.Errorf("dataset row without judged features: %+v", r)
		}
	}
}

// TestEvaluateServing: latency quantiles from the window's sketch and the
// throughput, judged only against the SLOs that are set.
func TestEvaluateServing(t *testing.T) {
	w := window([]int64{0, 300, 300, 300}, []float64{0, 0, 300, 600}, map[string]int64{"red": 450, "blue": 450}, 100)
	w.Records = 3600
	for i := 1; i <= 1000; i++ {
		w.Latency.Add(float64(i)) // 1 ... 1000 ms
	}
	p := DefaultPolicy()
	rows := NewEvaluator(p, nil).Evaluate(w)
	for metric, exact := range map[string]float64{MetricLatencyP50: 500, MetricLatencyP95: 950, MetricLatencyP99: 990} {
		// numpy's "lower" order statistic of 1..1000: x_(floor(q*999)).
		r := find(t, rows, FamilyServing, "latency_ms", metric)
		if math.Abs(r.Value-exact) > windows.LatencyAccuracy*exact || r.NCurrent != 1000 || r.Drifted || r.Threshold != 0 || r.ThresholdSource != "" {
			t.Errorf("%s = %+v, want %v within 1%%, not judged", metric, r, exact)
		}
	}
	if r := find(t, rows, FamilyServing, "throughput", MetricThroughput); r.Value != 1 || r.Drifted {
		t.Errorf("throughput %+v, want 1 record/s", r)
	}
	p.SLO = SLO{LatencyP99: 500, LatencyP50: 600, MinThroughput: 2}
	rows = NewEvaluator(p, nil).Evaluate(w)
	if r := find(t, rows, FamilyServing, "latency_ms", MetricLatencyP99); !r.Drifted || r.Threshold != 500 {
		t.Errorf("p99 over its SLO: %+v", r)
	}
	if r := find(t, rows, FamilyServing, "latency_ms", MetricLatencyP50); r.Drifted {
		t.Errorf("p50 within its SLO: %+v", r)
	}
	if r := find(t, rows, FamilyServing, "throughput", MetricThroughput); !r.Drifted {
		t.Errorf("throughput under its floor: %+v", r)
	}
	// No latencies: no latency rows.
	w.Latency.Reset()
	for _, r := range NewEvaluator(p, nil).Evaluate(w) {
		if r.Subject == "latency_ms" {
			t.Errorf("latency row without latencies: %+v", r)
		}
	}
}

// TestEvaluateFairness: per-group selection and true positive rates, small
// groups reported as insufficient and left out of the parity figures, which
// are judged only against the limits that are set.
func TestEvaluateFairness(t *testing.T) {
	w := window([]int64{0, 300, 300, 300}, []float64{0, 0, 300, 600}, map[string]int64{"red": 450, "blue": 450}, 100)
	add := func(attr, group string, n, selected int, labelled, positives, truePos int) {
		g := &windows.Group{}
		for i := range n {
			g.Decisions.Add(i < selected, false, 1)
		}
		for i := range labelled {
			g.Outcomes.Add(i < truePos || i >= positives && i < positives+(selected-truePos), i < positives, 1)
		}
		if w.Groups == nil {
			w.Groups = map[string]map[string]*windows.Group{}
		}
		if w.Groups[attr] == nil {
			w.Groups[attr] = map[string]*windows.Group{}
		}
		w.Groups[attr][group] = g
	}
	add("gender", "f", 100, 20, 100, 50, 10) // selection 0.2, TPR 0.2
	add("gender", "m", 100, 50, 100, 50, 40) // selection 0.5, TPR 0.8
	add("gender", "x", 10, 10, 0, 0, 0)      // too small: reported, not in the figures
	p := DefaultPolicy()
	rows := NewEvaluator(p, nil).Evaluate(w)
	if r := find(t, rows, FamilyFairness, "gender=f", MetricSelectionRate); r.Value != 0.2 || r.NCurrent != 100 || r.ThresholdSource != "" {
		t.Errorf("f selection %+v", r)
	}
	if r := find(t, rows, FamilyFairness, "gender=x", MetricSelectionRate); r.Value != 1 || r.ThresholdSource != SourceInsufficient {
		t.Errorf("x selection %+v", r)
	}
	if r := find(t, rows, FamilyFairness, "gender=m", MetricTruePositiveRate); math.Abs(r.Value-0.8) > 1e-12 {
		t.Errorf("m tpr %+v", r)
	}
	dpd := find(t, rows, FamilyFairness, "gender", MetricParityDifference)
	di := find(t, rows, FamilyFairness, "gender", MetricDisparateImpact)
	eod := find(t, rows, FamilyFairness, "gender", MetricOpportunityDiff)
	if math.Abs(dpd.Value-0.3) > 1e-12 || math.Abs(di.Value-0.4) > 1e-12 || math.Abs(eod.Value-0.6) > 1e-12 {
		t.Errorf("dpd %v di %v eod %v, want 0.3 0.4 0.6 (group x left out)", dpd.Value, di.Value, eod.Value)
	}
	if dpd.Drifted || di.Drifted || eod.Drifted || dpd.ThresholdSource != "" {
		t.Errorf("judged without limits: %+v %+v %+v", dpd, di, eod)
	}
	p.Fairness = Fairness{MinGroupSize: 30, MaxParityDifference: 0.1, MaxOpportunityDifference: 0.7, MinDisparateImpact: 0.8}
	rows = NewEvaluator(p, nil).Evaluate(w)
	for metric, want := range map[string]bool{MetricParityDifference: true, MetricDisparateImpact: true, MetricOpportunityDiff: false} {
		if r := find(t, rows, FamilyFairness, "gender", metric); r.Drifted != want {
			t.Errorf("%s drifted %v, want %v: %+v", metric, r.Drifted, want, r)
		}
	}
}

// TestEvaluateConcept: label coverage, the window's performance from its
// labelled decisions, the reference's from the baseline's scored outcomes
// at the same threshold, and the non-inferiority verdict.
func TestEvaluateConcept(t *testing.T) {
	w := window([]int64{0, 300, 300, 300}, []float64{0, 0, 300, 600}, map[string]int64{"red": 450, "blue": 450}, 100)
	w.Records = 1000
	// 400 labelled: TP 100, FP 100, TN 150, FN 50 -> accuracy 0.625.
	for i := range 400 {
		w.Outcomes.Add(i < 200, i < 100 || i >= 200 && i < 250, 1)
	}
	w.Labels.Categories["1"], w.Labels.Categories["0"], w.Labels.Count = 150, 250, 400
	b := baseline()
	// Reference: scores in bin 70 (selected at 0.5) and bin 20 (not).
	pos, neg := make([]int64, baselines.OutcomeBins), make([]int64, baselines.OutcomeBins)
	pos[70], pos[20], neg[70], neg[20] = 800, 200, 100, 900 // TP 800 FN 200 FP 100 TN 900: accuracy 0.85
	b.Outcomes = &baselines.Outcomes{Bins: baselines.OutcomeBins, ByLabel: map[string][]int64{"1": pos, "0": neg}}
	b.Label = &baselines.Feature{Name: "label", Kind: baselines.Categorical, Count: 2000, Categories: map[string]int64{"1": 1000, "0": 1000}}
	w.Baseline = b
	rows := NewEvaluator(DefaultPolicy(), nil).Evaluate(w)
	if r := find(t, rows, FamilyLabel, "label", MetricLabelCoverage); r.Value != 0.4 {
		t.Errorf("coverage %+v", r)
	}
	acc := find(t, rows, FamilyConcept, "performance", MetricAccuracy)
	if acc.Value != 0.625 || math.Abs(acc.Threshold-0.80) > 1e-12 || acc.NReference != 2000 || !acc.Drifted {
		t.Errorf("accuracy %+v", acc)
	}
	// z = (0.625 - 0.85 + 0.05) / sqrt(0.625*0.375/400 + 0.85*0.15/2000) = -6.8657;
	// Phi(z) = 3.30794e-12 (Python: 0.5*math.erfc(-z/math.sqrt(2))).
	if p := *acc.PValue; math.Abs(p-3.307944114147745e-12)/3.3e-12 > 1e-9 {
		t.Errorf("accuracy p %v, want 3.30794e-12", p)
	}
	if r := find(t, rows, FamilyConcept, "performance", MetricRecall); r.Value != 100.0/150 || math.Abs(r.Threshold-0.75) > 1e-12 {
		t.Errorf("recall %+v", r)
	}
	if r := find(t, rows, FamilyLabel, "label", MetricJensenShannon); r.NCurrent != 400 || r.NReference != 2000 {
		t.Errorf("label drift row %+v", r)
	}
}

// TestEvaluatePositiveRate: the window's share of positive decisions
// against the reference's, from the baseline's scores or classes.
func TestEvaluatePositiveRate(t *testing.T) {
	w := window([]int64{0, 300, 300, 300}, []float64{0, 0, 300, 600}, map[string]int64{"red": 450, "blue": 450}, 100)
	w.Decided, w.Selected = 1000, 500 // the window's predictions: 50% positive
	b := baseline()                   // categorical prediction, yes/no 50/50; "yes" is not positive by default
	p := DefaultPolicy()
	p.Decision.Positive = []string{"yes"}
	w.Baseline = b
	r := find(t, NewEvaluator(p, nil).Evaluate(w), FamilyPrediction, "prediction", MetricPositiveRate)
	if r.Value != 0.5 || r.NReference != 3000 || r.Drifted || r.PValue == nil || *r.PValue != 1 {
		t.Errorf("same rate as the reference's classes: %+v", r)
	}
	// Scores: 30% of the reference at or above 0.5; the window's 50% is a shift.
	b.PredictionScores = make([]int64, baselines.OutcomeBins)
	b.PredictionScores[20], b.PredictionScores[60] = 700, 300
	r = find(t, NewEvaluator(p, nil).Evaluate(w), FamilyPrediction, "prediction", MetricPositiveRate)
	if r.NReference != 1000 || !r.Drifted || r.Threshold != 0.05 {
		t.Errorf("rate 0.5 against the reference's 0.3: %+v", r)
	}
	// A move within the threshold is not drift, however significant.
	w.Decided, w.Selected = 1_000_000, 330_000
	if r := find(t, NewEvaluator(p, nil).Evaluate(w), FamilyPrediction, "prediction", MetricPositiveRate); r.Drifted {
		t.Errorf("rate 0.33 against 0.3 flagged: %+v", r)
	}
}

// TestPositiveRateNoiseInSmallWindows: in a window of 300 predictions a
// rate 3.5 standard errors from the reference's moves it past a 0.05
// threshold by chance; what is judged is whether it moved by more than the
// threshold, so that is not a shift, while a real move of 0.19 is, and in
// a window of 20,000 a move of 0.06 is as well.
func TestPositiveRateNoiseInSmallWindows(t *testing.T) {
	w := window([]int64{0, 300, 300, 300}, []float64{0, 0, 300, 600}, map[string]int64{"red": 450, "blue": 450}, 100)
	w.Baseline.PredictionScores = make([]int64, baselines.OutcomeBins)
	w.Baseline.PredictionScores[20], w.Baseline.PredictionScores[60] = 7900, 2100 // 21% positive
	e := NewEvaluator(DefaultPolicy(), nil)
	for _, c := range []struct {
		decided, selected int64
		drifted           bool
	}{
		{300, 88, false},            // 0.293: past 0.21 + 0.05 by noise (z = 3.5 from 0.21)
		{300, 44, false},            // 0.147
		{300, 120, true},            // 0.40
		{20_000, 5400, true},        // 0.27
		{20_000, 5000, false},       // 0.25: significant, within the threshold
		{1_000_000, 260_000, false}, // 0.26, exactly at the threshold
	} {
		w.Decided, w.Selected = c.decided, c.selected
		r := find(t, e.Evaluate(w), FamilyPrediction, "prediction", MetricPositiveRate)
		if r.Drifted != c.drifted {
			t.Errorf("%d of %d positive against 21%% of 10,000: drifted %v (p %v), want %v", c.selected, c.decided, r.Drifted, pString(r.PValue), c.drifted)
		}
	}
	// The margin test is the two-sided z-test at margin 0, and its p-value
	// grows with the margin.
	pw, nw, pr, nr := 0.2933, 300.0, 0.21, 10000.0
	z := (pw - pr) / math.Sqrt(pw*(1-pw)/nw+pr*(1-pr)/nr)
	if p0, _ := beyondMargin(pw, nw, pr, nr, 0); math.Abs(p0-math.Erfc(z/math.Sqrt2)) > 1e-15 {
		t.Errorf("margin 0: p %v, two-sided z-test's %v", p0, math.Erfc(z/math.Sqrt2))
	}
	last := 0.0
	for _, m := range []float64{0, 0.01, 0.05, 0.08, 0.2} {
		p, _ := beyondMargin(pw, nw, pr, nr, m)
		if p < last || p > 1 {
			t.Errorf("margin %v: p %v after %v", m, p, last)
		}
		last = p
	}
}

// TestParityChange: the gap between the window's most and least selected
// groups against the reference's gap between the same groups.
func TestParityChange(t *testing.T) {
	bins := func(selected, not int64) []int64 { // scores 0.7 (selected at 0.5) and 0.2
		b := make([]int64, baselines.OutcomeBins)
		b[70], b[20] = selected, not
		return b
	}
	ref := map[string][]int64{"f": bins(400, 600), "m": bins(450, 550), "x": bins(5, 5)}
	conf := func(n, sel int) perf.Confusion {
		var c perf.Confusion
		for i := range n {
			c.Add(i < sel, false, 1)
		}
		return c
	}
	head := Row{Model: "m"}
	// Window: f 0.20, m 0.46: the gap grew from 0.05 to 0.26.
	r, ok := parityChange(head, "gender", map[string]perf.Confusion{"f": conf(1000, 200), "m": conf(1000, 460), "x": conf(10, 0)}, ref, 30, 0.1, 0.5)
	if !ok || math.Abs(r.Value-0.21) > 1e-12 || !r.Drifted || r.NCurrent != 2000 || r.NReference != 2000 {
		t.Errorf("grown gap: %+v", r)
	}
	// Window like the reference: no change.
	r, ok = parityChange(head, "gender", map[string]perf.Confusion{"f": conf(1000, 400), "m": conf(1000, 450)}, ref, 30, 0.1, 0.5)
	if !ok || math.Abs(r.Value) > 1e-12 || r.Drifted {
		t.Errorf("same gap: %+v", r)
	}
	// A group the reference lacks, or only one comparable group: no row.
	if _, ok := parityChange(head, "gender", map[string]perf.Confusion{"f": conf(1000, 200), "y": conf(1000, 900)}, ref, 30, 0.1, 0.5); ok {
		t.Error("compared a group the reference does not have")
	}
}

// TestErrorStreamDetectors: the detectors read a window's errors in event
// order whatever the arrival order, carry over between windows, and signal
// a jump in the error rate.
func TestErrorStreamDetectors(t *testing.T) {
	mk := func(start time.Time, n int, rate float64, shuffle bool) *windows.Window {
		w := window([]int64{0, 300, 300, 300}, []float64{0, 0, 300, 600}, map[string]int64{"red": 450, "blue": 450}, 100)
		w.Start = start
		for i := range n {
			w.Errors = append(w.Errors, windows.ErrorEvent{Time: start.UnixMilli() + int64(i), ID: uint64(i), Err: float64(i%100) < rate*100})
		}
		if shuffle {
			for i := range w.Errors {
				j := (i * 7919) % len(w.Errors)
				w.Errors[i], w.Errors[j] = w.Errors[j], w.Errors[i]
			}
		}
		return w
	}
	count := func(rows []Row, metric string) float64 {
		return find(t, rows, FamilyConcept, "error_stream", metric).Value
	}
	var signals []string
	for _, shuffle := range []bool{false, true} {
		e := NewEvaluator(DefaultPolicy(), nil)
		calm := e.Evaluate(mk(t0, 2000, 0.1, shuffle))
		if count(calm, MetricADWIN) != 0 {
			t.Errorf("shuffle %v: ADWIN signalled on a steady 10%% error rate", shuffle)
		}
		jump := e.Evaluate(mk(t0.Add(time.Hour), 2000, 0.6, shuffle))
		if count(jump, MetricADWIN) == 0 || count(jump, MetricDDM) == 0 {
			t.Errorf("shuffle %v: a jump from 10%% to 60%% errors not signalled: adwin %v ddm %v", shuffle, count(jump, MetricADWIN), count(jump, MetricDDM))
		}
		signals = append(signals, fmt.Sprint(count(calm, MetricPageHinkley), count(jump, MetricADWIN), count(jump, MetricPageHinkley), count(jump, MetricDDM)))
	}
	if signals[0] != signals[1] {
		t.Errorf("arrival order changed the signals: %v", signals)
	}
}

// TestEvaluateErrors: MAE and RMSE of numeric predictions against numeric
// labels, MAE judged against the reference's by non-inferiority.
func TestEvaluateErrors(t *testing.T) {
	// withErrors is a window of n errors alternating lo and hi.
	withErrors := func(n int, lo, hi float64) *windows.Window {
		w := window([]int64{0, 300, 300, 300}, []float64{0, 0, 300, 600}, map[string]int64{"red": 450, "blue": 450}, 100)
		for i := range n {
			e := lo
			if i%2 == 1 {
				e = hi
			}
			w.ErrN++
			w.ErrAbs.Add(e)
			w.ErrSq.Add(e * e)
		}
		return w
	}
	w := withErrors(1000, 0.1, 0.5) // MAE 0.3, MSE 0.13
	b := baseline()
	b.Errors = &baselines.ErrorSums{N: 4000, SumAbs: 800, SumSq: 4000 * 0.05} // MAE 0.2, E[e^2] 0.05
	w.Baseline = b
	rows := NewEvaluator(DefaultPolicy(), nil).Evaluate(w)
	mae := find(t, rows, FamilyConcept, "performance", MetricMAE)
	rmse := find(t, rows, FamilyConcept, "performance", MetricRMSE)
	if math.Abs(mae.Value-0.3) > 1e-12 || math.Abs(rmse.Value-math.Sqrt(0.13)) > 1e-12 {
		t.Errorf("mae %v rmse %v, want 0.3 and sqrt(0.13)", mae.Value, rmse.Value)
	}
	// z = (0.3 - 0.22) / sqrt((0.13-0.09)/1000 + (0.05-0.04)*1.21/4000) = 12.196;
	// 1 - Phi(z) = 1.6255435557375072e-34 (Python: 0.5*math.erfc(z/math.sqrt(2))).
	if math.Abs(mae.Threshold-0.22) > 1e-12 || !mae.Drifted || math.Abs(*mae.PValue-1.6255435557375072e-34)/1.6e-34 > 1e-6 {
		t.Errorf("mae %+v (p %v), want drifted over 0.22 with p 1.6255e-34", mae, *mae.PValue)
	}
	// MDE: the allowed rise 0.02 plus (1.645 + 0.842) times the reference's
	// sd of |e| (0.1) over sqrt(1/1000 + 1/4000): 0.02 + 2.4865*0.003536.
	if want := 0.02 + (zOneSided95+zPower80)*0.1*math.Sqrt(1.0/1000+1.0/4000); mae.MDE == nil || math.Abs(*mae.MDE-want) > 1e-9 {
		t.Errorf("mae mde %v, want %v", pString(mae.MDE), want)
	}
	// 20 errors at the reference's MAE cannot show a rise of 0.04: too
	// small to tell, not a quiet "not drifted".
	small := withErrors(20, 0.1, 0.3)
	small.Baseline = b
	if r := find(t, NewEvaluator(DefaultPolicy(), nil).Evaluate(small), FamilyConcept, "performance", MetricMAE); r.Drifted || r.ThresholdSource != SourceInsufficient {
		t.Errorf("20 errors: mae %+v (mde %v), want insufficient", r, pString(r.MDE))
	}
}

// TestParityChangeAccountsForThePick: the growth of the gap between the
// most and least selected of k groups is positive under no change (the
// pick of the extreme pair), which the old one-sided z-test against the
// margin took for fairness drift. Over 24 windows each: stable attributes
// of 4 and 8 groups of 40 records are too small to show a growth of 0.1
// (insufficient, never drifted; the old test fired on them); of 4 and 8
// groups of 400 they are judged and raise nothing; a group whose
// selection rate falls by 0.2 (the gap grows by 0.2) is caught in every
// window.
func TestParityChangeAccountsForThePick(t *testing.T) {
	const refN, windowsN = 2000, 24
	bins := func(selected, not int64) []int64 { // scores 0.7 (selected at 0.5) and 0.2
		b := make([]int64, baselines.OutcomeBins)
		b[70], b[20] = selected, not
		return b
	}
	conf := func(n, sel int) perf.Confusion {
		var c perf.Confusion
		c.Add(true, false, float64(sel))
		c.Add(false, false, float64(n-sel))
		return c
	}
	rng := newLCG(21)
	binomial := func(n int, p float64) int {
		k := 0
		for range n {
			if rng.float() < p {
				k++
			}
		}
		return k
	}
	for _, c := range []struct {
		groups, n           int
		drop                float64 // of the last group's selection rate
		fired, insufficient int     // of windowsN
	}{{4, 40, 0, 0, windowsN}, {8, 40, 0, 0, windowsN}, {4, 400, 0, 0, 0}, {8, 400, 0, 0, 0}, {4, 300, 0.2, windowsN, 0}} {
		ref := make(map[string][]int64)
		for g := range c.groups {
			sel := binomial(refN, 0.3)
			ref[fmt.Sprintf("g%d", g)] = bins(int64(sel), int64(refN-sel))
		}
		fired, insufficient, fmax := 0, 0, 0.0
		for k := range windowsN {
			head := Row{Model: "m", ModelVersion: "1", WindowStart: t0.Add(time.Duration(k) * time.Hour)}
			decisions := make(map[string]perf.Confusion)
			for g := range c.groups {
				p := 0.3
				if g == c.groups-1 {
					p -= c.drop
				}
				decisions[fmt.Sprintf("g%d", g)] = conf(c.n, binomial(c.n, p))
			}
			r, ok := parityChange(head, "attr", decisions, ref, 30, 0.1, 0.5)
			if !ok {
				t.Fatalf("%d groups of %d: no row", c.groups, c.n)
			}
			if r.Drifted {
				fired++
			}
			if r.ThresholdSource == SourceInsufficient {
				insufficient++
			}
			fmax = max(fmax, r.Value)
			if again, _ := parityChange(head, "attr", decisions, ref, 30, 0.1, 0.5); *again.PValue != *r.PValue || again.Threshold != r.Threshold {
				t.Fatalf("the same window judged twice: p %v then %v", *r.PValue, *again.PValue)
			}
		}
		t.Logf("%d groups of %d, drop %.2f: drifted in %d, insufficient in %d of %d windows (largest growth %.3f)", c.groups, c.n, c.drop, fired, insufficient, windowsN, fmax)
		if fired != c.fired || insufficient != c.insufficient {
			t.Errorf("%d groups of %d records, one group's rate down %.2f: drifted in %d and insufficient in %d of %d windows, want %d and %d",
				c.groups, c.n, c.drop, fired, insufficient, windowsN, c.fired, c.insufficient)
		}
	}
}
