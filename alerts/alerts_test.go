package alerts

import (
	"testing"

	"github.com/driftwatch/driftwatch/stats/drift"
)

func TestClassify(t *testing.T) {
	rows := []drift.Row{
		{Metric: "psi", Drifted: true, Primary: true},
		{Metric: "ks", Drifted: true},
		{Metric: "jensen_shannon", Primary: true},
		{Metric: "null_rate", Drifted: true, Family: drift.FamilyQuality},                             // a quality breach is a verdict
		{Metric: "type_error_rate", Drifted: true, Family: drift.FamilyQuality},                       // ... of its own
		{Metric: "late_records", Drifted: true, Family: drift.FamilyQuality},                          // a minor anomaly
		{Metric: "latency_p99_ms", Drifted: true, Family: drift.FamilyServing},                        // elevated latency
		{Metric: "throughput_rps", Drifted: true, Family: drift.FamilyServing},                        // traffic collapsed: the model may be down
		{Metric: "disparate_impact", Drifted: true, Family: drift.FamilyFairness},                     // a fairness breach
		{Metric: "accuracy", Subject: "performance", Drifted: true, Family: drift.FamilyConcept},      // concept drift
		{Metric: "positive_rate", Drifted: true, Family: drift.FamilyPrediction},                      // a prediction rate shift
		{Metric: "adwin", Subject: "error_stream", Drifted: true, Family: drift.FamilyConcept},        // a change point
		{Metric: "page_hinkley", Subject: "error_stream", Drifted: true, Family: drift.FamilyConcept}, // corroboration
		{Metric: "psi", Severity: "SEV-1"},                                                            // a stale severity is cleared
		// Failed predictions: most of a window's, over 100 records, page
		// whatever the objective; above the objective, SEV-2; a small
		// window's majority is not a page.
		{Metric: "error_rate", Subject: "errors", Value: 0.5, NCurrent: 100, Family: drift.FamilyServing},
		{Metric: "error_rate", Subject: "errors", Value: 0.2, NCurrent: 1000, Drifted: true, Family: drift.FamilyServing},
		{Metric: "error_rate", Subject: "errors", Value: 0.9, NCurrent: 99, Family: drift.FamilyServing},
		{Metric: "error_rate", Subject: "errors", Value: 0.49, NCurrent: 1000, Family: drift.FamilyServing},
		// Schema drift: a new feature's rate is a quality breach; the
		// window-level counts and the volume, minor anomalies.
		{Metric: "unknown_feature_rate", Subject: "new_key", Drifted: true, Family: drift.FamilyQuality},
		{Metric: "vanished_features", Subject: "*", Drifted: true, Family: drift.FamilyQuality},
		{Metric: "volume_ratio", Subject: "*", Drifted: true, Family: drift.FamilyQuality},
	}
	Classify(rows)
	want := []Severity{Sev3, Sev4, "", Sev3, Sev3, Sev4, Sev3, Sev1, Sev2, Sev2, Sev3, Sev3, Sev4, "", Sev1, Sev2, "", "", Sev3, Sev4, Sev4}
	for i, r := range rows {
		if Severity(r.Severity) != want[i] {
			t.Errorf("row %d (%+v): severity %q, want %q", i, r, r.Severity, want[i])
		}
	}
}

// TestClassifyEstimatedPerformance: a drop of the performance estimated
// without labels is a SEV-3 warning, never the accuracy collapse of
// realized accuracy; its band and realized rows are not judged.
func TestClassifyEstimatedPerformance(t *testing.T) {
	rows := []drift.Row{
		{Family: drift.FamilyConcept, Subject: drift.SubjectEstimated, Metric: "accuracy", Value: 0.3, NCurrent: 1000, Drifted: true},
		{Family: drift.FamilyConcept, Subject: drift.SubjectEstimated, Metric: "accuracy_lower", Value: 0.28, NCurrent: 1000},
		{Family: drift.FamilyConcept, Subject: drift.SubjectEstimated, Metric: "accuracy_realized", Value: 0.31, NCurrent: 1000},
		{Family: drift.FamilyConcept, Subject: drift.SubjectEstimated, Metric: "mae", Value: 3, NCurrent: 1000, Drifted: true},
	}
	Classify(rows)
	for i, want := range []Severity{Sev3, "", "", Sev3} {
		if Severity(rows[i].Severity) != want {
			t.Errorf("%s: severity %q, want %q", rows[i].Metric, rows[i].Severity, want)
		}
	}
}
