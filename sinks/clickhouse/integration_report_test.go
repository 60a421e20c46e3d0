package clickhouse

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/sinks"
	"github.com/driftwatch/driftwatch/stats/drift"
)

// Integration tests of what reports read back (Rows' deciding, Windows,
// Baselines) and of migration 12; see integration_test.go for the server
// they need.

// asJSON is v as encoding/json writes it, for comparing what was written
// with what was read back field by field (times as RFC 3339, pointers by
// value).
func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// inReadOrder is rows as Rows orders them: by window, version, family,
// subject and metric.
func inReadOrder(rows ...[]drift.Row) []drift.Row {
	out := slices.Concat(rows...)
	slices.SortStableFunc(out, func(a, b drift.Row) int {
		return cmp.Or(a.WindowStart.Compare(b.WindowStart), cmp.Compare(a.ModelVersion, b.ModelVersion),
			cmp.Compare(a.Family, b.Family), cmp.Compare(a.Subject, b.Subject), cmp.Compare(a.Metric, b.Metric))
	})
	return out
}

// decidingRows are testRows with amount's psi and country's
// jensen_shannon the deciding rows, ks not.
func decidingRows(start time.Time, version string, psi float64) []drift.Row {
	rows := testRows(start, psi)
	for i := range rows {
		rows[i].ModelVersion = version
	}
	rows[0].Primary, rows[2].Primary = true, true
	return rows
}

func summaryWith(start time.Time, version string, records int64, ds []drift.Distribution) sinks.WindowSummary {
	w := summaryOf(start, records)
	w.Version, w.Distributions = version, ds
	return w
}

// TestIntegrationReportReads: rows with deciding true and false and window
// summaries with distributions, written through the Appender, read back
// by Rows and Windows as they were written; Windows reads the newest
// version of a window written again (FINAL), of one version or all, in a
// range of starts, ordered by version then start, and fails naming a
// window whose distributions do not decode.
func TestIntegrationReportReads(t *testing.T) {
	cfg, conn := freshDatabase(t)
	s := openSink(t, cfg, WithClock(stepClock()))
	ctx := context.Background()
	for _, table := range []string{"drift_metrics", "window_summaries"} {
		if err := conn.Exec(ctx, "SYSTEM STOP MERGES "+table); err != nil {
			t.Fatal(err)
		}
	}
	h := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	ds := testDistributions()
	r1, r2, r3 := decidingRows(h.Add(time.Hour), "1.4.2", 0.3), decidingRows(h.Add(2*time.Hour), "1.4.2", 0.05), decidingRows(h, "1.5.0", 0.01)
	w1, w2, w3 := summaryWith(h.Add(time.Hour), "1.4.2", 4000, ds[:2]), summaryWith(h.Add(2*time.Hour), "1.4.2", 3900, nil), summaryWith(h, "1.5.0", 100, ds)
	commitWindows(t, s)(slices.Concat(r1, r2), summaryWith(h.Add(time.Hour), "1.4.2", 4000, ds[2:]), w2)
	commitWindows(t, s)(r3, w3)
	r1[1].Primary = true // written again (late labels): deciding and distributions change
	commitWindows(t, s)(r1, w1)

	got, err := s.Rows(ctx, sinks.RowFilter{Model: "fraud"})
	if err != nil {
		t.Fatal(err)
	}
	if g, w := asJSON(t, got), asJSON(t, inReadOrder(r1, r2, r3)); g != w {
		t.Errorf("Rows read\n%s\nwant\n%s", g, w)
	}
	if n := count(t, conn, "SELECT count() FROM drift_metrics_latest WHERE deciding = 1"); n != 7 {
		t.Errorf("drift_metrics_latest has %d deciding rows, want 7", n)
	}

	w2.Distributions = nil // none: read back as nil
	for _, c := range []struct {
		name     string
		version  string
		from, to time.Time
		want     []sinks.WindowSummary
	}{
		{"every version, by version then start", "", time.Time{}, time.Time{}, []sinks.WindowSummary{w1, w2, w3}},
		{"one version", "1.4.2", time.Time{}, time.Time{}, []sinks.WindowSummary{w1, w2}},
		{"from a start", "", h.Add(time.Hour), time.Time{}, []sinks.WindowSummary{w1, w2}},
		{"to a start, exclusive", "", time.Time{}, h.Add(2 * time.Hour), []sinks.WindowSummary{w1, w3}},
		{"from a fraction after a start", "", h.Add(time.Hour + time.Millisecond), time.Time{}, []sinks.WindowSummary{w2}},
		{"to a fraction after a start", "1.4.2", time.Time{}, h.Add(time.Hour + time.Millisecond), []sinks.WindowSummary{w1}},
		{"an empty range", "", h.Add(3 * time.Hour), time.Time{}, nil},
	} {
		got, err := s.Windows(ctx, "fraud", c.version, c.from, c.to)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if g, w := asJSON(t, got), asJSON(t, c.want); g != w {
			t.Errorf("%s: Windows read\n%s\nwant\n%s", c.name, g, w)
		}
	}
	if got, err := s.Windows(ctx, "churn", "", time.Time{}, time.Time{}); err != nil || got != nil {
		t.Errorf("another model's windows: %+v, %v; want none", got, err)
	}
	if _, err := s.Windows(ctx, "", "", time.Time{}, time.Time{}); err == nil {
		t.Error("windows without a model: no error")
	}

	// A distributions value that does not decode fails, naming its window.
	// (INSERT ... SELECT: 18.16 waits for data blocks after an INSERT ...
	// VALUES sent as a query.)
	if err := conn.Exec(ctx, `INSERT INTO window_summaries (model, model_version, window_start, window_end, baseline_id, records, subjects,
		drifted_subjects, max_severity, closed_at, inserted_at, distributions)
		SELECT 'broken', '0.1', toDateTime('2026-11-23 05:00:00', 'UTC'), toDateTime('2026-11-23 06:00:00', 'UTC'), 'b', toInt64(1), toUInt32(0),
			emptyArrayString(), '', toDateTime('2026-11-23 06:00:00', 'UTC'), toUInt64(1), '[{"family":'`); err != nil {
		t.Fatal(err)
	}
	_, err = s.Windows(ctx, "broken", "", time.Time{}, time.Time{})
	if err == nil || !strings.Contains(err.Error(), "window broken 0.1 2026-11-23T05:00:00Z") {
		t.Errorf("undecodable distributions: error %v, want one naming window broken 0.1 2026-11-23T05:00:00Z", err)
	}
}

// TestIntegrationRowsLimit: Rows returns DefaultRowLimit rows unless the
// caller asks for more, and as many as it asks for up to MaxRowLimit.
func TestIntegrationRowsLimit(t *testing.T) {
	cfg, _ := freshDatabase(t)
	s := openSink(t, cfg, WithClock(stepClock()))
	h := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	const n = DefaultRowLimit + 2000
	rows := make([]drift.Row, n)
	for i := range rows {
		rows[i] = testRows(h, 0.1)[0]
		rows[i].Subject = fmt.Sprintf("f%05d", i)
	}
	commit(t, s, rows)
	for _, c := range []struct{ limit, want int }{{0, DefaultRowLimit}, {-1, DefaultRowLimit}, {DefaultRowLimit + 1000, DefaultRowLimit + 1000}, {2 * MaxRowLimit, n}} {
		got, err := s.Rows(context.Background(), sinks.RowFilter{Model: "fraud", Limit: c.limit})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != c.want || got[0].Subject != "f00000" {
			t.Errorf("limit %d: %d rows from %s, want %d from f00000", c.limit, len(got), got[0].Subject, c.want)
		}
	}
}

// TestIntegrationBaselinesRead: Baselines returns a model's baselines as
// WriteBaselines wrote them, the newest write of each, ordered by
// creation, and fails naming a baseline whose document does not decode.
func TestIntegrationBaselinesRead(t *testing.T) {
	cfg, conn := freshDatabase(t)
	s := openSink(t, cfg, WithClock(stepClock()))
	ctx := context.Background()
	if err := conn.Exec(ctx, "SYSTEM STOP MERGES baselines"); err != nil {
		t.Fatal(err)
	}
	older := testBaseline(t)
	older.ID = "fraud-z"
	newer := *older
	newer.ID, newer.CreatedAt, newer.Source = "fraud-a", older.CreatedAt.Add(48*time.Hour), "production 2026-11-20/2026-11-22"
	other := *older
	other.ID, other.Model = "churn-1", "churn"
	if err := s.WriteBaselines(ctx, []*baselines.Baseline{&newer, older, &other}, ""); err != nil {
		t.Fatal(err)
	}
	newer.Source = "written again" // replaces the first write
	if err := s.WriteBaselines(ctx, []*baselines.Baseline{&newer}, ""); err != nil {
		t.Fatal(err)
	}
	got, err := s.Baselines(ctx, "fraud")
	if err != nil {
		t.Fatal(err)
	}
	want := []*baselines.Baseline{older, &newer}
	if len(got) != len(want) {
		t.Fatalf("Baselines read %d, want %d", len(got), len(want))
	}
	for i := range want {
		g, _ := encodeBaseline(got[i])
		w, _ := encodeBaseline(want[i])
		if string(g) != string(w) {
			t.Errorf("baseline %d read back as\n%s\nwant\n%s", i, g, w)
		}
	}
	if got, err := s.Baselines(ctx, "nobody"); err != nil || got != nil {
		t.Errorf("a model without baselines: %v, %v", got, err)
	}
	if _, err := s.Baselines(ctx, ""); err == nil {
		t.Error("baselines without a model: no error")
	}

	for id, doc := range map[string]string{"broken-json": `{"id":`, "broken-invalid": `{"id": "broken-invalid"}`} {
		if err := conn.Exec(ctx, `INSERT INTO baselines (baseline_id, model, model_version, created_at, source, features, reference_rows, document, inserted_at)
			SELECT ?, ?, '', toDateTime('2026-11-20 00:00:00', 'UTC'), 'x', toUInt32(0), toInt64(0), ?, toUInt64(1)`, id, id, doc); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Baselines(ctx, id); err == nil || !strings.Contains(err.Error(), id) {
			t.Errorf("an undecodable document: error %v, want one naming %s", err, id)
		}
	}
}

// Columns driftwatch inserted before migration 12.
const (
	metricColumns11  = "model, model_version, window_start, window_end, family, subject, metric, value, p_value, threshold, drifted, severity, n_current, n_reference, baseline_id, threshold_source, mde, inserted_at"
	summaryColumns11 = "model, model_version, window_start, window_end, baseline_id, records, subjects, drifted_subjects, max_severity, closed_at, label_state, inserted_at"
)

// databaseAt11 migrates cfg's database up to migration 11, as a
// driftwatch before migration 12 did, and returns a Sink on it (not
// opened: no migrations beyond) for writing as that driftwatch did.
func databaseAt11(t *testing.T, cfg Config, conn driver.Conn) *Sink {
	t.Helper()
	ctx := context.Background()
	old := &Sink{conn: conn, cfg: cfg, now: time.Now}
	var v string
	if err := conn.QueryRow(ctx, "SELECT version()").Scan(&v); err != nil {
		t.Fatal(err)
	}
	var err error
	if old.version, err = ParseVersion(v); err != nil {
		t.Fatal(err)
	}
	old.features = FeaturesFor(old.version)
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if applied, err := old.migrateTo(ctx, ms[:11]); err != nil || len(applied) != 11 {
		t.Fatalf("migrations up to 11: applied %v, %v", applied, err)
	}
	return old
}

// TestIntegrationBeforeMigration12: rows and a window summary written
// before migration 12 read back after it with deciding false and nil
// distributions; rows written after it keep theirs, and
// drift_metrics_latest shows deciding. Run again after a failure (not
// recorded), migration 12 succeeds, on 18.16 too.
func TestIntegrationBeforeMigration12(t *testing.T) {
	cfg, conn := freshDatabase(t)
	ctx := context.Background()
	old := databaseAt11(t, cfg, conn)
	h := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	before := testRows(h, 0.3)
	if err := old.send(ctx, "drift_metrics", metricColumns11, nil, len(before), func(b driver.Batch, i int) error {
		r := &before[i]
		return b.Append(r.Model, r.ModelVersion, r.WindowStart, r.WindowEnd, r.Family, r.Subject, r.Metric, r.Value, r.PValue, r.Threshold,
			boolUint8(r.Drifted), r.Severity, r.NCurrent, r.NReference, r.BaselineID, r.ThresholdSource, r.MDE, uint64(1))
	}); err != nil {
		t.Fatal(err)
	}
	w0 := summaryOf(h, 4000)
	if err := old.send(ctx, "window_summaries", summaryColumns11, nil, 1, func(b driver.Batch, _ int) error {
		return b.Append(w0.Model, w0.Version, w0.Start, w0.End, w0.BaselineID, w0.Records, uint32(2), []string{"country"}, "SEV-3", h.Add(time.Hour), "", uint64(1))
	}); err != nil {
		t.Fatal(err)
	}

	s := openSink(t, cfg, WithClock(stepClock()))
	if got := s.Applied(); !slices.Equal(got, []int{12, 13}) { // and 13, the later one
		t.Errorf("Open applied %v, want [12 13]", got)
	}
	after := decidingRows(h.Add(time.Hour), "1.4.2", 0.05)
	w1 := summaryWith(h.Add(time.Hour), "1.4.2", 3900, testDistributions())
	commitWindows(t, s)(after, w1)

	check := func(when string) {
		t.Helper()
		rows, err := s.Rows(ctx, sinks.RowFilter{Model: "fraud"})
		if err != nil {
			t.Fatal(err)
		}
		if g, w := asJSON(t, rows), asJSON(t, inReadOrder(before, after)); g != w {
			t.Errorf("%s: Rows read\n%s\nwant\n%s", when, g, w)
		}
		ws, err := s.Windows(ctx, "fraud", "", time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if g, w := asJSON(t, ws), asJSON(t, []sinks.WindowSummary{w0, w1}); g != w {
			t.Errorf("%s: Windows read\n%s\nwant\n%s", when, g, w)
		}
		if n := count(t, conn, "SELECT count() FROM drift_metrics_latest WHERE deciding = 1"); n != 2 {
			t.Errorf("%s: drift_metrics_latest has %d deciding rows, want 2", when, n)
		}
	}
	check("after migration 12")

	// Migration 12 failed after its statements, before it was recorded:
	// the next Open runs it again.
	for _, q := range []string{
		"CREATE TABLE schema_migrations_kept AS schema_migrations",
		"INSERT INTO schema_migrations_kept SELECT * FROM schema_migrations WHERE version != 12",
		"DROP TABLE schema_migrations",
		"RENAME TABLE schema_migrations_kept TO schema_migrations",
	} {
		if err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if got := openSink(t, cfg).Applied(); !slices.Equal(got, []int{12}) {
		t.Errorf("Open after a failed migration 12 applied %v, want [12]", got)
	}
	check("after migration 12 ran again")
}
