package clickhouse

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/sinks"
	"github.com/driftwatch/driftwatch/stats/drift"
)

// TestIntegrationReadRowsAndVerdicts: Rows returns the newest version of
// each row its filter selects (by version, family, subject, window range,
// limit), in order; Verdicts returns each version's newest window summary.
func TestIntegrationReadRowsAndVerdicts(t *testing.T) {
	cfg, _ := freshDatabase(t)
	s := openSink(t, cfg, WithClock(stepClock()))
	h := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	commitWindows(t, s)(append(testRows(h, 0.05), testRows(h.Add(time.Hour), 0.3)...), summaryOf(h, 4000), summaryOf(h.Add(time.Hour), 3900))
	other := testRows(h, 0.01)
	for i := range other {
		other[i].ModelVersion = "1.5.0"
	}
	w := summaryOf(h, 100)
	w.Version = "1.5.0"
	commitWindows(t, s)(other, w)
	// The first window written again (late labels): its newer version wins.
	again := testRows(h, 0.06)
	commitWindows(t, s)(again, summaryOf(h, 4000))
	ctx := context.Background()

	all, err := s.Rows(ctx, sinks.RowFilter{Model: "fraud"})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 9 || !slices.IsSortedFunc(all, func(a, b drift.Row) int { return a.WindowStart.Compare(b.WindowStart) }) {
		t.Fatalf("%d rows of fraud (want 9, by window): %+v", len(all), all)
	}
	for _, c := range []struct {
		name string
		f    sinks.RowFilter
		want int
		psi  float64 // amount's psi in the first row, when want > 0
	}{
		{"one version", sinks.RowFilter{Model: "fraud", Version: "1.4.2"}, 6, 0.06},
		{"the first window, rewritten", sinks.RowFilter{Model: "fraud", Version: "1.4.2", Subject: "amount", To: h.Add(time.Hour)}, 2, 0.06},
		{"from the second window", sinks.RowFilter{Model: "fraud", Version: "1.4.2", From: h.Add(time.Hour), Family: drift.FamilyData}, 3, 0.3},
		{"a subject", sinks.RowFilter{Model: "fraud", Subject: "country"}, 3, 0},
		{"limit", sinks.RowFilter{Model: "fraud", Limit: 2}, 2, 0},
		{"another model", sinks.RowFilter{Model: "churn"}, 0, 0},
	} {
		got, err := s.Rows(ctx, c.f)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if len(got) != c.want {
			t.Errorf("%s: %d rows, want %d: %+v", c.name, len(got), c.want, got)
			continue
		}
		if c.psi != 0 {
			i := slices.IndexFunc(got, func(r drift.Row) bool { return r.Subject == "amount" && r.Metric == "psi" })
			if i < 0 || got[i].Value != c.psi || i > 0 && got[i-1].Metric > got[i].Metric {
				t.Errorf("%s: amount's psi row %d of %+v, want value %v in metric order", c.name, i, got, c.psi)
			}
		}
	}
	if _, err := s.Rows(ctx, sinks.RowFilter{}); err == nil {
		t.Error("rows without a model: no error")
	}

	vs, err := s.Verdicts(ctx, "fraud")
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 || vs[0].Version != "1.4.2" || !vs[0].Start.Equal(h.Add(time.Hour)) || vs[0].Records != 3900 ||
		!slices.Equal(vs[0].DriftedSubjects, []string{"country"}) || vs[0].MaxSeverity != "SEV-3" || vs[1].Version != "1.5.0" || !vs[1].Start.Equal(h) {
		t.Errorf("verdicts %+v", vs)
	}
}

// TestIntegrationAlertHistoryRead: AlertHistory returns the audit trail's
// records of a model since a time, newest first, limited.
func TestIntegrationAlertHistoryRead(t *testing.T) {
	cfg, _ := freshDatabase(t)
	s := openSink(t, cfg, WithClock(stepClock()))
	h := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	rec := func(model, state string, sent time.Time) sinks.AlertRecord {
		return sinks.AlertRecord{Model: model, Version: "1.4.2", WindowStart: h, WindowEnd: h.Add(time.Hour), Family: drift.FamilyData,
			Subject: "amount", Metric: "psi", State: state, Alertname: "DriftwatchDrift", Severity: "SEV-3", Value: 0.3, Threshold: 0.2,
			Fingerprint: "fp-" + model, Receiver: "http://am:9093", SentAt: sent, Delivered: true, Evidence: "[]"}
	}
	ctx := context.Background()
	if err := s.WriteAlertHistory(ctx, []sinks.AlertRecord{rec("fraud", "firing", h.Add(70*time.Minute)), rec("fraud", "resolved", h.Add(190*time.Minute)),
		rec("churn", "firing", h.Add(80*time.Minute))}); err != nil {
		t.Fatal(err)
	}
	got, err := s.AlertHistory(ctx, "fraud", h, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].State != "resolved" || got[1].State != "firing" || !got[0].Delivered || got[0].Alertname != "DriftwatchDrift" {
		t.Errorf("fraud's history %+v, want resolved then firing", got)
	}
	if got, _ := s.AlertHistory(ctx, "", h.Add(75*time.Minute), 0); len(got) != 2 {
		t.Errorf("every model since 03:15: %d records, want 2", len(got))
	}
	if got, _ := s.AlertHistory(ctx, "", h, 1); len(got) != 1 || got[0].State != "resolved" {
		t.Errorf("limit 1: %+v", got)
	}
}
