package pipeline

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/driftwatch/driftwatch/stats/drift"
)

// modelRows is one window's rows of model version v: two features (a
// drifted), the prediction, the dataset share, performance, label
// coverage, fairness per attribute and per group, and a variant.
func modelRows(v string, start time.Time, psiA float64) []drift.Row {
	r := func(family, subject, metric string, value float64, primary, drifted bool, severity string) drift.Row {
		return drift.Row{Model: "m", ModelVersion: v, WindowStart: start, WindowEnd: start.Add(time.Hour), Family: family, Subject: subject,
			Metric: metric, Value: value, Threshold: 0.2, Primary: primary, Drifted: drifted, Severity: severity}
	}
	return []drift.Row{
		r(drift.FamilyData, "a", drift.MetricPSI, psiA, true, psiA >= 0.2, "SEV-3"),
		r(drift.FamilyData, "a", drift.MetricKS, 0.3, false, true, "SEV-4"),
		r(drift.FamilyData, "b", drift.MetricPSI, 0.01, true, false, ""),
		r(drift.FamilyPrediction, "prediction", drift.MetricPSI, 0.05, true, false, ""),
		r(drift.FamilyPrediction, "variant=challenger", drift.MetricPSI, 0.5, true, true, "SEV-4"),
		r(drift.FamilyData, "*", drift.MetricWeightedDrift, 0.5, true, true, ""),
		r(drift.FamilyConcept, "performance", drift.MetricAccuracy, 0.91, false, false, ""),
		r(drift.FamilyLabel, "label", drift.MetricLabelCoverage, 0.4, false, false, ""),
		r(drift.FamilyFairness, "gender", drift.MetricParityDifference, 0.07, false, false, ""),
		r(drift.FamilyFairness, "gender=f", drift.MetricSelectionRate, 0.3, false, false, ""),
	}
}

// TestModelGauges: committed rows set the verdict gauges of their model
// version; an older window's late re-emission does not overwrite a newer
// one's; groups and variants get no series; a model keeps the series of
// its newest maxVersions versions only, however many come and go.
func TestModelGauges(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := newModelMetrics(reg)
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	m.observe(modelRows("1", t0, 0.4))
	want := `
# HELP driftwatch_drift_score The deciding metric's value (the subject's rule: psi, jensen_shannon, ...) of each subject in its newest window.
# TYPE driftwatch_drift_score gauge
driftwatch_drift_score{family="data",model="m",model_version="1",subject="a"} 0.4
driftwatch_drift_score{family="data",model="m",model_version="1",subject="b"} 0.01
driftwatch_drift_score{family="prediction",model="m",model_version="1",subject="prediction"} 0.05
# HELP driftwatch_drifted_subjects Subjects whose verdict is drifted in the newest window, per family.
# TYPE driftwatch_drifted_subjects gauge
driftwatch_drifted_subjects{family="data",model="m",model_version="1"} 1
driftwatch_drifted_subjects{family="prediction",model="m",model_version="1"} 0
# HELP driftwatch_dataset_drift_share Share of the features that drifted in the newest window, weighted by drift.importance (weighted_drift_share).
# TYPE driftwatch_dataset_drift_share gauge
driftwatch_dataset_drift_share{model="m",model_version="1"} 0.5
# HELP driftwatch_performance Performance over the newest window's labelled records: accuracy, precision, recall, f1, mae, rmse.
# TYPE driftwatch_performance gauge
driftwatch_performance{metric="accuracy",model="m",model_version="1"} 0.91
# HELP driftwatch_fairness Fairness per segment attribute, newest window: demographic_parity_diff, disparate_impact, equal_opportunity_diff, equalized_odds_diff, parity_diff_change.
# TYPE driftwatch_fairness gauge
driftwatch_fairness{attribute="gender",metric="demographic_parity_diff",model="m",model_version="1"} 0.07
# HELP driftwatch_label_coverage Share of the newest window's records with a label.
# TYPE driftwatch_label_coverage gauge
driftwatch_label_coverage{model="m",model_version="1"} 0.4
# HELP driftwatch_window_breaches Rows drifted in the newest window, per severity.
# TYPE driftwatch_window_breaches gauge
driftwatch_window_breaches{model="m",model_version="1",severity="SEV-1"} 0
driftwatch_window_breaches{model="m",model_version="1",severity="SEV-2"} 0
driftwatch_window_breaches{model="m",model_version="1",severity="SEV-3"} 1
driftwatch_window_breaches{model="m",model_version="1",severity="SEV-4"} 2
`
	names := []string{"driftwatch_drift_score", "driftwatch_drifted_subjects", "driftwatch_dataset_drift_share", "driftwatch_performance",
		"driftwatch_fairness", "driftwatch_label_coverage", "driftwatch_window_breaches"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	// A newer window, then the older one again (late labels): the newer stays.
	m.observe(modelRows("1", t0.Add(time.Hour), 0.1))
	m.observe(modelRows("1", t0, 0.4))
	if got := testutil.ToFloat64(m.score.WithLabelValues("m", "1", "data", "a")); got != 0.1 {
		t.Errorf("score of a after an older window's re-emission: %v, want the newer window's 0.1", got)
	}
	if got := testutil.ToFloat64(m.drifted.WithLabelValues("m", "1", "data", "a")); got != 0 {
		t.Errorf("verdict of a: %v, want the newer window's 0", got)
	}
	// One commit of two windows (late labels re-emit several): the newer
	// window's counts, in whichever order the rows come.
	for _, v := range []string{"x", "y"} {
		older, newer := modelRows(v, t0, 0.4), modelRows(v, t0.Add(time.Hour), 0.1)
		rows := append(older, newer...)
		if v == "y" {
			rows = append(newer, older...)
		}
		m.observe(rows)
		if got := testutil.ToFloat64(m.driftedSubjects.WithLabelValues("m", v, "data")); got != 0 {
			t.Errorf("version %s: %v data subjects drifted, want the newer window's 0", v, got)
		}
		if got := testutil.ToFloat64(m.breaches.WithLabelValues("m", v, "SEV-3")); got != 0 {
			t.Errorf("version %s: %v SEV-3 breaches, want the newer window's 0", v, got)
		}
	}
	// Versions come and go: 20 of them, 24 windows each.
	for v := range 20 {
		for w := range 24 {
			m.observe(modelRows(fmt.Sprint(v+2), t0.Add(time.Duration(24*v+w+2)*time.Hour), 0.3))
		}
	}
	if n := testutil.CollectAndCount(reg, "driftwatch_drift_score"); n != 3*maxVersions {
		t.Errorf("%d score series after 21 versions, want %d (3 subjects of the newest %d versions)", n, 3*maxVersions, maxVersions)
	}
	if got := testutil.ToFloat64(m.score.WithLabelValues("m", "21", "data", "a")); got != 0.3 {
		t.Errorf("the newest version's score %v", got)
	}
	if n := testutil.CollectAndCount(reg, "driftwatch_window_breaches"); n != 4*maxVersions {
		t.Errorf("%d breach series, want %d", n, 4*maxVersions)
	}
	if len(m.newest) > 40*maxVersions {
		t.Errorf("%d remembered series keys after 21 versions: the map grows", len(m.newest))
	}
}
