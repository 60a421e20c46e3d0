package drift

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/stats/perf"
	"github.com/driftwatch/driftwatch/windows"
)

// fairnessWindow is a window with the groups of attribute gender set to
// the given decisions and outcomes.
func fairnessWindow(groups map[string][2]perf.Confusion) *windows.Window {
	w := window([]int64{0, 300, 300, 300}, []float64{0, 0, 300, 600}, map[string]int64{"red": 450, "blue": 450}, 100)
	w.Groups = map[string]map[string]*windows.Group{"gender": {}}
	for name, g := range groups {
		w.Groups["gender"][name] = &windows.Group{Decisions: g[0], Outcomes: g[1]}
	}
	return w
}

// handWindow's groups (minimum group size 30):
//
//	group  records selected  labelled TP FN FP TN  TPR  FPR    accuracy precision
//	f      100     40        50       12  8 15 15  0.6  0.5    27/50    12/27
//	m      120     30        60       18  2  3 37  0.9  0.075  55/60    18/21
//	u      100     50        20        5  5 10  0  0.5  1      5/20     5/15   (labelled < 30)
//	x      10      5         5         1  2  0  2  1/3  0      3/5      1/1    (records < 30)
//
// Over f and m: TPR gap 0.3, FPR gap 0.425, so equalized odds 0.425 (with
// u or x, whose labelled records are too few, it would be 0.925 or 0.5667).
func handWindow() *windows.Window {
	dec := func(n, sel float64) perf.Confusion { return perf.Confusion{FP: sel, TN: n - sel} }
	return fairnessWindow(map[string][2]perf.Confusion{
		"f": {dec(100, 40), {TP: 12, FN: 8, FP: 15, TN: 15}},
		"m": {dec(120, 30), {TP: 18, FN: 2, FP: 3, TN: 37}},
		"u": {dec(100, 50), {TP: 5, FN: 5, FP: 10, TN: 0}},
		"x": {dec(10, 5), {TP: 1, FN: 2, FP: 0, TN: 2}},
	})
}

// TestFairnessLabelledRows: each group's false positive rate, accuracy and
// precision with its denominator as n_current, and the attribute's
// equalized odds difference over the groups of at least min_group_size
// labelled records, on a window computed by hand.
func TestFairnessLabelledRows(t *testing.T) {
	rows := NewEvaluator(DefaultPolicy(), nil).Evaluate(handWindow())
	want := []struct {
		subject, metric string
		value           float64
		n               int64
		insufficient    bool
	}{
		{"gender=f", MetricSelectionRate, 0.4, 100, false},
		{"gender=f", MetricTruePositiveRate, 0.6, 20, false},
		{"gender=f", MetricFalsePositiveRate, 0.5, 30, false},
		{"gender=f", MetricAccuracy, 27.0 / 50, 50, false},
		{"gender=f", MetricPrecision, 12.0 / 27, 27, false},
		{"gender=m", MetricTruePositiveRate, 0.9, 20, false},
		{"gender=m", MetricFalsePositiveRate, 3.0 / 40, 40, false},
		{"gender=m", MetricAccuracy, 55.0 / 60, 60, false},
		{"gender=m", MetricPrecision, 18.0 / 21, 21, false},
		// u: enough records, too few labelled ones.
		{"gender=u", MetricSelectionRate, 0.5, 100, false},
		{"gender=u", MetricFalsePositiveRate, 1, 10, true},
		{"gender=u", MetricAccuracy, 0.25, 20, true},
		{"gender=u", MetricPrecision, 5.0 / 15, 15, true},
		// x: too few records.
		{"gender=x", MetricSelectionRate, 0.5, 10, true},
		{"gender=x", MetricTruePositiveRate, 1.0 / 3, 3, true},
		{"gender=x", MetricFalsePositiveRate, 0, 2, true},
		{"gender=x", MetricAccuracy, 0.6, 5, true},
		{"gender=x", MetricPrecision, 1, 1, true},
		{"gender", MetricOpportunityDiff, 0.3, 330, false},
		{"gender", MetricEqualizedOddsDiff, 0.425, 135, false},
	}
	for _, w := range want {
		r := find(t, rows, FamilyFairness, w.subject, w.metric)
		if math.Abs(r.Value-w.value) > 1e-12 || r.NCurrent != w.n || (r.ThresholdSource == SourceInsufficient) != w.insufficient {
			t.Errorf("%s %s: value %v n_current %d source %q; want %v, %d, insufficient %v", w.subject, w.metric, r.Value, r.NCurrent, r.ThresholdSource, w.value, w.n, w.insufficient)
		}
		if r.Drifted || r.Threshold != 0 || r.PValue != nil || r.MDE != nil {
			t.Errorf("%s %s: judged without a limit: %+v", w.subject, w.metric, r)
		}
	}
	// A group never selected among its labelled records has no precision
	// row; one without labels no label-based rows.
	w := fairnessWindow(map[string][2]perf.Confusion{
		"a": {{FP: 10, TN: 30}, {FN: 5, TN: 20}},
		"b": {{FP: 10, TN: 30}, {}},
	})
	got := map[string]bool{}
	for _, r := range NewEvaluator(DefaultPolicy(), nil).Evaluate(w) {
		if r.Family == FamilyFairness {
			got[r.Subject+" "+r.Metric] = true
		}
	}
	for k, want := range map[string]bool{
		"gender=a true_positive_rate": true, "gender=a false_positive_rate": true, "gender=a accuracy": true, "gender=a precision": false,
		"gender=b selection_rate": true, "gender=b true_positive_rate": false, "gender=b false_positive_rate": false, "gender=b accuracy": false,
		"gender equalized_odds_diff": false, // one group of 25 labelled records: nothing to compare
	} {
		if got[k] != want {
			t.Errorf("row %s written %v, want %v", k, got[k], want)
		}
	}
}

// TestEqualizedOddsJudged: equalized_odds_diff is judged against
// Fairness.MaxEqualizedOddsDifference when it is set, and only then.
func TestEqualizedOddsJudged(t *testing.T) {
	for _, c := range []struct {
		limit   float64
		drifted bool
		source  string
	}{
		{0, false, ""},
		{0.4, true, SourceStatic},
		{0.425, false, SourceStatic}, // at the limit passes
		{0.5, false, SourceStatic},
	} {
		p := DefaultPolicy()
		p.Fairness.MaxEqualizedOddsDifference = c.limit
		for _, rows := range [][]Row{NewEvaluator(p, nil).Evaluate(handWindow()), NewEvaluator(p, nil).EvaluateLabels(handWindow())} {
			r := find(t, rows, FamilyFairness, "gender", MetricEqualizedOddsDiff)
			if r.Drifted != c.drifted || r.Threshold != c.limit || r.ThresholdSource != c.source {
				t.Errorf("limit %v: drifted %v threshold %v source %q, want %v %v %q", c.limit, r.Drifted, r.Threshold, r.ThresholdSource, c.drifted, c.limit, c.source)
			}
			// The other limits are not set: their rows stay unjudged.
			if o := find(t, rows, FamilyFairness, "gender", MetricOpportunityDiff); o.Drifted || o.ThresholdSource != "" {
				t.Errorf("limit %v: equal_opportunity_diff judged: %+v", c.limit, o)
			}
		}
	}
}

// TestFairnessPeriodRates: summing value*n_current and n_current of each
// per-group row over windows gives the rate of the period's merged counts.
func TestFairnessPeriodRates(t *testing.T) {
	a, b := handWindow(), fairnessWindow(map[string][2]perf.Confusion{
		"f": {{FP: 7, TN: 50}, {TP: 3, FN: 9, FP: 2, TN: 31}},
		"m": {{FP: 44, TN: 19}, {TP: 30, FN: 1, FP: 6, TN: 4}},
		"u": {{FP: 1, TN: 2}, {TN: 1}},
		"x": {{FP: 3, TN: 60}, {TP: 2, FN: 3, FP: 1, TN: 40}},
	})
	type sum struct{ num, den float64 }
	sums := map[string]*sum{}
	e := NewEvaluator(DefaultPolicy(), nil)
	for _, w := range []*windows.Window{a, b} {
		for _, r := range e.Evaluate(w) {
			if r.Family != FamilyFairness || r.Subject == "gender" {
				continue
			}
			k := r.Subject + " " + r.Metric
			if sums[k] == nil {
				sums[k] = &sum{}
			}
			sums[k].num += r.Value * float64(r.NCurrent)
			sums[k].den += float64(r.NCurrent)
		}
	}
	checked := 0
	for name, g := range handWindow().Groups["gender"] {
		o, d := g.Outcomes, g.Decisions
		o.Merge(b.Groups["gender"][name].Outcomes)
		d.Merge(b.Groups["gender"][name].Decisions)
		for metric, rate := range map[string]func() (float64, bool){
			MetricSelectionRate: d.SelectionRate, MetricTruePositiveRate: o.Recall, MetricFalsePositiveRate: o.FPR,
			MetricAccuracy: o.Accuracy, MetricPrecision: o.Precision,
		} {
			want, _ := rate()
			s := sums["gender="+name+" "+metric]
			if s == nil {
				t.Errorf("gender=%s %s: no rows", name, metric)
				continue
			}
			if got := s.num / s.den; math.Abs(got-want) > 1e-12 {
				t.Errorf("gender=%s %s over the period: %v from the rows, %v from the merged counts", name, metric, got, want)
			}
			checked++
		}
	}
	if checked != 20 {
		t.Errorf("checked %d rates, want 20", checked)
	}
}

// TestReferenceGroups: the reference's per-group decisions and outcomes
// at two thresholds, from a baseline built from a small labelled
// reference, counted by hand.
func TestReferenceGroups(t *testing.T) {
	type row struct {
		score  float64
		segs   map[string]string
		label  string // "" none
		before bool   // the label is added before the segments
	}
	f, m := map[string]string{"gender": "f"}, map[string]string{"gender": "m"}
	ref := []row{
		{0.9, f, "1", false}, {0.7, f, "0", false}, {0.2, f, "1", false}, {0.1, f, "0", false}, {0.4, f, "0", false},
		{0.6, f, "", false},
		{0.5, map[string]string{"gender": "f", "region": "north"}, "1", false},
		{0.8, m, "1", false}, {0.55, m, "true", false}, {0.3, m, "1", false}, {0.45, m, "0", false}, {0.05, m, "1", false},
		{0.95, m, "0", true},
		{0.99, nil, "1", false}, // no segments: in no group
	}
	b := baselines.NewBuilder("m", baselines.BuildOptions{Now: func() time.Time { return t0 }})
	for _, r := range ref {
		b.AddNumber("x", r.score)
		b.AddPredictionNumber(r.score)
		if r.before && r.label != "" {
			b.AddLabel(r.label, r.score, true)
		}
		for attr, g := range r.segs {
			b.AddSegment(attr, g, r.score)
		}
		if !r.before && r.label != "" {
			b.AddLabel(r.label, r.score, true)
		}
		b.EndRow()
	}
	bl, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	type group = windows.Group
	c := func(tp, fn, fp, tn float64) perf.Confusion { return perf.Confusion{TP: tp, FN: fn, FP: fp, TN: tn} }
	sel := func(n, s float64) perf.Confusion { return perf.Confusion{FP: s, TN: n - s} }
	for _, tc := range []struct {
		threshold float64
		want      map[string]map[string]group
	}{
		{0.5, map[string]map[string]group{
			"gender": {
				// f: selected 0.9, 0.7, 0.6, 0.5; labelled 0.9 TP, 0.7 FP, 0.2 FN, 0.1 TN, 0.4 TN, 0.5 TP.
				"f": {Decisions: sel(7, 4), Outcomes: c(2, 1, 1, 2)},
				// m: selected 0.8, 0.55, 0.95; 0.8 TP, 0.55 TP ("true"), 0.3 FN, 0.45 TN, 0.05 FN, 0.95 FP.
				"m": {Decisions: sel(6, 3), Outcomes: c(2, 2, 1, 1)},
			},
			"region": {"north": {Decisions: sel(1, 1), Outcomes: c(1, 0, 0, 0)}},
		}},
		{0.3, map[string]map[string]group{
			"gender": {
				"f": {Decisions: sel(7, 5), Outcomes: c(2, 1, 2, 1)},
				"m": {Decisions: sel(6, 5), Outcomes: c(3, 1, 2, 0)},
			},
			"region": {"north": {Decisions: sel(1, 1), Outcomes: c(1, 0, 0, 0)}},
		}},
	} {
		d := windows.Decision{Threshold: tc.threshold, Positive: []string{"1", "true"}}
		if got := ReferenceGroups(bl, d); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("threshold %v:\n got %+v\nwant %+v", tc.threshold, got, tc.want)
		}
	}
	// The reference's rates then follow as a window's: f at 0.5.
	g := ReferenceGroups(bl, windows.DefaultDecision())["gender"]["f"]
	tpr, _ := g.Outcomes.Recall()
	fpr, _ := g.Outcomes.FPR()
	acc, _ := g.Outcomes.Accuracy()
	prec, _ := g.Outcomes.Precision()
	if tpr != 2.0/3 || fpr != 1.0/3 || acc != 4.0/6 || prec != 2.0/3 {
		t.Errorf("f at 0.5: tpr %v fpr %v accuracy %v precision %v", tpr, fpr, acc, prec)
	}

	// A baseline without group outcomes (older, or unlabelled): decisions
	// only. Without groups: nil.
	old := *bl
	old.GroupOutcomes = nil
	for attr, gs := range ReferenceGroups(&old, windows.DefaultDecision()) {
		for name, g := range gs {
			if g.Outcomes != (perf.Confusion{}) || g.Decisions.N() == 0 {
				t.Errorf("%s=%s without group outcomes: %+v", attr, name, g)
			}
		}
	}
	old.Groups = nil
	if got := ReferenceGroups(&old, windows.DefaultDecision()); got != nil {
		t.Errorf("no groups: %+v", got)
	}
}
