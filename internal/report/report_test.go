package report

import (
	"testing"

	"github.com/driftwatch/driftwatch/stats/drift"
)

func TestThousands(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 112000: "112,000", -1234567: "-1,234,567"} {
		if got := Thousands(in); got != want {
			t.Errorf("Thousands(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestVerdict(t *testing.T) {
	rows := []drift.Row{
		{Family: drift.FamilyData, Subject: "amount", Metric: drift.MetricPSI, Value: 0.93, Threshold: 0.2, Drifted: true, Primary: true},
		{Family: drift.FamilyData, Subject: "amount", Metric: drift.MetricKS, Value: 0.4, Drifted: true},
		{Family: drift.FamilyPrediction, Subject: "prediction", Metric: drift.MetricJensenShannon, Value: 0.12, Threshold: 0.1, Drifted: true, Primary: true},
		{Family: drift.FamilyQuality, Subject: "age", Metric: drift.MetricNullRate, Drifted: true},
	}
	want := "DRIFT prediction js=0.12 (>=0.1), amount psi=0.93 (>=0.2); 1 quality warning(s)"
	if got := Verdict(rows); got != want {
		t.Errorf("Verdict = %q\nwant      %q", got, want)
	}
	if got := Verdict(rows[1:2]); got != "ok" {
		t.Errorf("secondary drift alone = %q, want ok", got)
	}
	// A serving row an alert rule breached (most predictions failed) is
	// shown with its severity, drifted or not.
	failing := drift.Row{Family: drift.FamilyServing, Subject: "errors", Metric: drift.MetricErrorRate, Value: 0.6, Severity: "SEV-1"}
	quiet := drift.Row{Family: drift.FamilyServing, Subject: "errors", Metric: drift.MetricErrorRate, Value: 0.01}
	if got, want := Verdict([]drift.Row{failing, quiet}), "SERVING errors error_rate=0.6 (SEV-1)"; got != want {
		t.Errorf("Verdict = %q, want %q", got, want)
	}
	if got, want := Verdict(append(rows, failing)), "DRIFT prediction js=0.12 (>=0.1), amount psi=0.93 (>=0.2); SERVING errors error_rate=0.6 (SEV-1); 1 quality warning(s)"; got != want {
		t.Errorf("Verdict = %q\nwant      %q", got, want)
	}
}
