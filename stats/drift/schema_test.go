package drift

import (
	"math"
	"slices"
	"testing"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/windows"
)

// schemaWindow is a window of n records of a baseline with features x
// (numeric, never null in the reference), color (10% null), rare (60%
// null) and gone (never null): x and color present in every record, rare
// and gone absent from every record.
func schemaWindow(n int64) *windows.Window {
	b := baseline()
	b.Rows = 3000
	b.Features = append(b.Features,
		baselines.Feature{Name: "rare", Kind: baselines.Categorical, Count: 1200, Nulls: 1800, Categories: map[string]int64{"r": 1200}},
		baselines.Feature{Name: "gone", Kind: baselines.Categorical, Count: 3000, Categories: map[string]int64{"g": 3000}})
	w := windows.NewWindow(windows.Key{Model: "m", Version: "1"}, t0, t0.Add(3600e9), b, 100)
	w.Records = n
	w.Features[0].Count, w.Features[0].Counts[1] = n, n
	w.Features[1].Count, w.Features[1].Categories["red"] = n, n
	w.Features[2].Nulls, w.Features[2].Absent = n, n
	w.Features[3].Nulls, w.Features[3].Absent = n, n
	w.Prediction.Count, w.Prediction.Categories["yes"] = n, n
	return w
}

// TestSchemaRows: per unknown name its share of the window's records,
// judged above 0.01; new_features counts the names above it;
// vanished_features the baseline features, present in the reference,
// absent from every record; each of those also gets a vanished row.
func TestSchemaRows(t *testing.T) {
	w := schemaWindow(200)
	w.Unknown = map[string]int64{"a_new": 1, "b_new": 50, "c_new": 3}
	rows := NewEvaluator(DefaultPolicy(), nil).Evaluate(w)
	for _, c := range []struct {
		name    string
		value   float64
		drifted bool
	}{{"a_new", 0.005, false}, {"b_new", 0.25, true}, {"c_new", 0.015, true}} {
		r := find(t, rows, FamilyQuality, c.name, MetricUnknownFeatureRate)
		if r.Value != c.value || r.Drifted != c.drifted || r.Threshold != 0.01 || r.NCurrent != 200 || r.NReference != 3000 || r.ThresholdSource != SourceStatic {
			t.Errorf("%s: %+v, want value %v drifted %v over 200 records", c.name, r, c.value, c.drifted)
		}
	}
	if r := find(t, rows, FamilyQuality, "*", MetricNewFeatures); r.Value != 2 || !r.Drifted || r.NCurrent != 200 || r.NReference != 4 {
		t.Errorf("new_features %+v, want 2 drifted", r)
	}
	// rare is null in 60% of the reference: not judged; gone vanished.
	if r := find(t, rows, FamilyQuality, "*", MetricVanishedFeatures); r.Value != 1 || !r.Drifted || r.NReference != 3 || r.ThresholdSource != SourceStatic {
		t.Errorf("vanished_features %+v, want 1 of 3, drifted", r)
	}
	var vanished []string
	for _, r := range rows {
		if r.Metric == MetricVanished {
			vanished = append(vanished, r.Subject)
			if r.Family != FamilyQuality || r.Value != 1 || !r.Drifted {
				t.Errorf("vanished row %+v", r)
			}
		}
	}
	if !slices.Equal(vanished, []string{"gone"}) {
		t.Errorf("vanished rows for %v, want gone", vanished)
	}
	// missing_rate says it too, as before.
	if r := find(t, rows, FamilyQuality, "gone", MetricMissingRate); r.Value != 1 || !r.Drifted {
		t.Errorf("gone's missing_rate %+v", r)
	}
	// Unknown names in order, before new_features.
	var order []string
	for _, r := range rows {
		if r.Metric == MetricUnknownFeatureRate || r.Metric == MetricNewFeatures {
			order = append(order, r.Subject)
		}
	}
	if !slices.Equal(order, []string{"a_new", "b_new", "c_new", "*"}) {
		t.Errorf("rows in order %v", order)
	}
}

// TestSchemaRowsSmallOrQuiet: a window of fewer than min_samples records
// does not judge vanished features; a window whose records carry one
// key of gone, even null, keeps it; no unknown names, no drift; names past
// the cap carried by more than the threshold's share make new_features
// drifted even with none above it by name.
func TestSchemaRowsSmallOrQuiet(t *testing.T) {
	small := NewEvaluator(DefaultPolicy(), nil).Evaluate(schemaWindow(99))
	if r := find(t, small, FamilyQuality, "*", MetricVanishedFeatures); r.Drifted || r.ThresholdSource != SourceInsufficient || r.Value != 1 {
		t.Errorf("99 records: vanished_features %+v, want 1, insufficient", r)
	}
	for _, r := range small {
		if r.Metric == MetricVanished {
			t.Errorf("99 records: %+v", r)
		}
	}
	w := schemaWindow(200)
	w.Features[3].Absent = 199 // one record sent gone as null
	rows := NewEvaluator(DefaultPolicy(), nil).Evaluate(w)
	if r := find(t, rows, FamilyQuality, "*", MetricVanishedFeatures); r.Value != 0 || r.Drifted {
		t.Errorf("gone in one record: %+v", r)
	}
	if r := find(t, rows, FamilyQuality, "*", MetricNewFeatures); r.Value != 0 || r.Drifted {
		t.Errorf("no unknown names: new_features %+v", r)
	}
	for _, dropped := range []struct {
		n       int64
		drifted bool
	}{{2, false}, {3, true}} { // 2/200 = 0.01 is not above 0.01
		w := schemaWindow(200)
		w.Unknown = map[string]int64{"a_new": 1}
		w.UnknownDropped = dropped.n
		rows := NewEvaluator(DefaultPolicy(), nil).Evaluate(w)
		if r := find(t, rows, FamilyQuality, "*", MetricNewFeatures); r.Value != 0 || r.Drifted != dropped.drifted {
			t.Errorf("%d pairs past the cap: new_features %+v, want drifted %v", dropped.n, r, dropped.drifted)
		}
	}
}

// TestServingErrorRows: error_rate is failed over all records, judged
// against drift.slo.max_error_rate when set; error_share per class is
// over the failed records; label coverage is over the served records.
func TestServingErrorRows(t *testing.T) {
	w := schemaWindow(1000)
	w.Failed, w.ErrorClasses = 600, map[string]int64{"timeout": 400, "oom": 150, baselines.OtherCategory: 50}
	w.Labels.Count = 100
	p := DefaultPolicy()
	rows := NewEvaluator(p, nil).Evaluate(w)
	if r := find(t, rows, FamilyServing, "errors", MetricErrorRate); r.Value != 0.6 || r.NCurrent != 1000 || r.Drifted || r.ThresholdSource != "" {
		t.Errorf("error_rate without an objective: %+v", r)
	}
	for class, want := range map[string]float64{"timeout": 400.0 / 600, "oom": 150.0 / 600, baselines.OtherCategory: 50.0 / 600} {
		if r := find(t, rows, FamilyServing, "errors="+class, MetricErrorShare); r.Value != want || r.NCurrent != 600 || r.Drifted {
			t.Errorf("error_share of %s: %+v, want %v", class, r, want)
		}
	}
	if r := find(t, rows, FamilyLabel, "label", MetricLabelCoverage); r.Value != 0.25 || r.NCurrent != 400 {
		t.Errorf("label_coverage %+v, want 100 of the 400 served", r)
	}
	p.SLO.MaxErrorRate = 0.05
	rows = NewEvaluator(p, nil).Evaluate(w)
	if r := find(t, rows, FamilyServing, "errors", MetricErrorRate); !r.Drifted || r.Threshold != 0.05 || r.ThresholdSource != SourceStatic {
		t.Errorf("error_rate 0.6 against 0.05: %+v", r)
	}
	w.Failed, w.ErrorClasses = 0, nil
	rows = NewEvaluator(p, nil).Evaluate(w)
	if r := find(t, rows, FamilyServing, "errors", MetricErrorRate); r.Value != 0 || r.Drifted {
		t.Errorf("no failures: %+v", r)
	}
	for _, r := range rows {
		if r.Metric == MetricErrorShare {
			t.Errorf("no failures, yet %+v", r)
		}
	}
	if math.IsNaN(find(t, rows, FamilyLabel, "label", MetricLabelCoverage).Value) {
		t.Error("label coverage NaN")
	}
}
