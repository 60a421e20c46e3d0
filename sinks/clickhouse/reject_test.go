package clickhouse

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/driftwatch/driftwatch/sinks"
	"github.com/driftwatch/driftwatch/windows"
)

// TestRejectsCountedAndLoggedOncePerInsert: rows out of a DateTime's range
// are left out without an error, counted by table and reason (Rejected and
// driftwatch_sink_rejected_rows_total), and logged once per call, not once
// per row; the appender keeps the others.
func TestRejectsCountedAndLoggedOncePerInsert(t *testing.T) {
	s := &Sink{version: Version{18, 16, 1}, cfg: DefaultConfig(), now: time.Now}
	reg := prometheus.NewRegistry()
	var logged bytes.Buffer
	s.Instrument(reg, slog.New(slog.NewTextHandler(&logged, nil)))
	h := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	old := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	a := s.Appender(context.Background()).(*appender)
	if err := a.Append(append(testRows(old, 1), testRows(h, 1)...)...); err != nil {
		t.Fatal(err)
	}
	if err := a.AppendWindow(summaryOf(old, 1)); err != nil {
		t.Fatal(err)
	}
	if err := a.AppendPredictionKeys([]windows.PredictionKey{{Model: "fraud", ID: 1, Time: old.UnixMilli()}, {Model: "fraud", ID: 2, Time: h.UnixMilli()}}); err != nil {
		t.Fatal(err)
	}
	if len(a.rows) != 3 || len(a.wins) != 0 || len(a.keys) != 1 {
		t.Errorf("kept %d rows, %d windows, %d keys; want 3, 0, 1", len(a.rows), len(a.wins), len(a.keys))
	}
	_ = a.Rollback()
	rec := sinks.AlertRecord{Model: "fraud", Version: "1.4.2", WindowStart: old, WindowEnd: old.Add(time.Hour), State: "firing", SentAt: h}
	if err := s.WriteAlertHistory(context.Background(), []sinks.AlertRecord{rec, rec}); err != nil {
		t.Fatalf("WriteAlertHistory of records it cannot hold: %v, want them left out", err)
	}
	for table, want := range map[string]int64{"drift_metrics": 3, "window_summaries": 1, "prediction_keys": 1, "alert_history": 2} {
		if got := s.Rejected(table, RejectTimeOutOfRange); got != want {
			t.Errorf("Rejected(%s) = %d, want %d", table, got, want)
		}
		c, err := s.rejects.counter.GetMetricWithLabelValues(table, RejectTimeOutOfRange)
		if err != nil {
			t.Fatal(err)
		}
		if got := testutil.ToFloat64(c); got != float64(want) {
			t.Errorf("driftwatch_sink_rejected_rows_total{table=%s} = %g, want %d", table, got, want)
		}
	}
	if n := strings.Count(logged.String(), "\n"); n != 4 {
		t.Errorf("logged %d lines, want one per call that left rows out (4):\n%s", n, logged.String())
	}
	if !strings.Contains(logged.String(), "1900-01-01T00:00:00Z") {
		t.Errorf("log does not name the first row's time:\n%s", logged.String())
	}
}
