package clickhouse

import (
	"context"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/consumer"
	"github.com/driftwatch/driftwatch/sinks"
	"github.com/driftwatch/driftwatch/windows"
)

// TestIntegrationTimesOutOfRange: rows whose times a DateTime column cannot
// hold never fail, or wrap in, an insert. A commit that carries a window
// of 1900 (its rows, summary and prediction keys) and a label of 1969 beside
// good ones writes the good ones and leaves those out; alert_history takes
// an alert of a 1900 window beside a good one; dead_letters takes dead
// letters whose Kafka timestamp is -1 (none) or of 1960, with the receive
// time in record_time and the timestamp as read in record_time_ms.
func TestIntegrationTimesOutOfRange(t *testing.T) {
	cfg, conn := freshDatabase(t)
	s := openSink(t, cfg, WithClock(stepClock()))
	ctx := context.Background()
	h := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	old := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	ahead := time.Date(2106, 2, 7, 6, 0, 0, 0, time.UTC) // ends past 2106-02-07T06:28:15Z

	a := s.Appender(ctx).(joinAppender)
	rows := append(testRows(h, 0.3), testRows(old, 0.3)...)
	rows = append(rows, testRows(ahead, 0.3)...)
	if err := a.Append(rows...); err != nil {
		t.Fatalf("Append: %v", err)
	}
	for _, w := range []sinks.WindowSummary{summaryOf(h, 10), summaryOf(old, 1), summaryOf(ahead, 1)} {
		if err := a.AppendWindow(w); err != nil {
			t.Fatalf("AppendWindow %s: %v", w.Start, err)
		}
	}
	if err := a.AppendPredictionKeys([]windows.PredictionKey{
		{Model: "fraud", Version: "1.4.2", ID: 1, Time: h.UnixMilli()},
		{Model: "fraud", Version: "1.4.2", ID: 2, Time: old.UnixMilli()},
	}); err != nil {
		t.Fatalf("AppendPredictionKeys: %v", err)
	}
	one := consumer.Value{Kind: consumer.Number, Num: 1}
	if err := a.AppendLabels([]consumer.Label{
		{PredictionID: "good", Model: "fraud", Time: h, Value: one},
		{PredictionID: "old", Model: "fraud", Time: time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC), Value: one},
	}); err != nil {
		t.Fatalf("AppendLabels: %v", err)
	}
	if err := a.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	for q, want := range map[string]uint64{
		"SELECT count() FROM drift_metrics": 3,
		"SELECT count() FROM drift_metrics WHERE window_start != toDateTime('2026-11-23 02:00:00', 'UTC')": 0,
		"SELECT count() FROM window_summaries":                    1,
		"SELECT count() FROM prediction_keys":                     1,
		"SELECT count() FROM labels":                              1,
		"SELECT count() FROM labels WHERE prediction_id = 'good'": 1,
	} {
		if got := count(t, conn, q); got != want {
			t.Errorf("%s = %d, want %d", q, got, want)
		}
	}

	good := sinks.AlertRecord{Model: "fraud", Version: "1.4.2", WindowStart: h, WindowEnd: h.Add(time.Hour), Family: "data", Subject: "amount",
		Metric: "psi", State: "firing", Alertname: "DriftwatchDataDrift", Severity: "SEV-3", Fingerprint: "f1", SentAt: h.Add(2 * time.Hour)}
	bad := good
	bad.WindowStart, bad.WindowEnd, bad.Fingerprint = old, old.Add(time.Hour), "f2"
	for i := range 3 { // the bad record would fail every retry of the trail
		if err := s.WriteAlertHistory(ctx, []sinks.AlertRecord{bad, good}); err != nil {
			t.Fatalf("WriteAlertHistory, attempt %d: %v", i, err)
		}
	}
	if got := count(t, conn, "SELECT count() FROM alert_history FINAL WHERE fingerprint = 'f1'"); got != 1 {
		t.Errorf("alert_history holds %d good records, want 1", got)
	}
	if got := count(t, conn, "SELECT count() FROM alert_history WHERE fingerprint = 'f2'"); got != 0 {
		t.Errorf("alert_history holds %d records of a 1900 window, want none", got)
	}

	received := h.Add(3 * time.Hour)
	dls := []sinks.DeadLetter{
		{Topic: "predictions", Partition: 0, Offset: 1, RecordTime: time.UnixMilli(-1), ReceivedAt: received, Reason: "bad_timestamp", Size: 2, Excerpt: "{}"},
		{Topic: "predictions", Partition: 0, Offset: 2, RecordTime: time.Date(1960, 6, 1, 12, 0, 0, 0, time.UTC), ReceivedAt: received, Reason: "not_json", Size: 1, Excerpt: "{"},
		{Topic: "predictions", Partition: 0, Offset: 3, RecordTime: h, ReceivedAt: received, Reason: "not_json", Size: 1, Excerpt: "["},
	}
	if err := s.WriteDeadLetters(ctx, dls); err != nil {
		t.Fatalf("WriteDeadLetters: %v", err)
	}
	rs, err := conn.Query(ctx, "SELECT kafka_offset, record_time, received_at, record_time_ms FROM dead_letters FINAL ORDER BY kafka_offset")
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	n := 0
	for rs.Next() {
		var off, ms int64
		var rec, got time.Time
		if err := rs.Scan(&off, &rec, &got, &ms); err != nil {
			t.Fatal(err)
		}
		d := dls[off-1]
		wantRec := d.RecordTime
		if off != 3 {
			wantRec = received
		}
		if !rec.Equal(wantRec) || !got.Equal(received) || ms != d.RecordTime.UnixMilli() {
			t.Errorf("dead letter %d: record_time %v, received_at %v, record_time_ms %d; want %v, %v, %d",
				off, rec, got, ms, wantRec, received, d.RecordTime.UnixMilli())
		}
		n++
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	if n != len(dls) {
		t.Errorf("dead_letters holds %d rows, want %d", n, len(dls))
	}
}
