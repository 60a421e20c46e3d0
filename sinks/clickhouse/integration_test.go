package clickhouse

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/driftwatch/driftwatch/internal/testservers"
	"github.com/driftwatch/driftwatch/sinks"
	"github.com/driftwatch/driftwatch/stats/drift"
	"github.com/driftwatch/driftwatch/windows"
)

// The integration tests run against the server that
// deploy/servers/clickhouse.sh starts:
//
//	bash deploy/servers/clickhouse.sh start
//	eval "$(bash deploy/servers/clickhouse.sh env)"
//	go test ./sinks/clickhouse/
//
// Each test works in a database of its own, created and dropped by the test.

// serverConfig returns the configuration of the test server, or skips the
// test (fails it in CI).
func serverConfig(t testing.TB) Config {
	t.Helper()
	ch := testservers.ClickHouseServer(t)
	return Config{
		Addr:                 ch.Addr,
		Database:             ch.Database,
		Username:             ch.User,
		Password:             Secret(ch.Password),
		DialTimeout:          5 * time.Second,
		CommitTimeout:        30 * time.Second,
		MigrationLockTimeout: 30 * time.Second,
	}
}

// freshDatabase creates an empty database for one test, drops it at the
// end, and returns the config that uses it and a plain connection to it for
// checking what the sink wrote.
func freshDatabase(t testing.TB) (Config, driver.Conn) {
	t.Helper()
	ch := testservers.ClickHouseServer(t)
	cfg := serverConfig(t).withDefaults()
	cfg.Database = ch.CreateDatabase(t, "dwtest")
	return cfg, ch.Open(t, cfg.Database)
}

// stepClock is testservers.StepClock, under the name integration_tables_test.go uses.
var stepClock = testservers.StepClock

func openSink(t testing.TB, cfg Config, opts ...Option) *Sink {
	t.Helper()
	s, err := Open(context.Background(), cfg, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func commit(t *testing.T, s *Sink, rows []drift.Row) {
	t.Helper()
	a := s.Appender(context.Background())
	if err := a.Append(rows...); err != nil {
		t.Fatalf("Append: %v", err)
	}
	if err := a.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

func count(t *testing.T, conn driver.Conn, query string) uint64 {
	t.Helper()
	var n uint64
	if err := conn.QueryRow(context.Background(), query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestIntegrationMigrateTwice(t *testing.T) {
	cfg, conn := freshDatabase(t)
	s := openSink(t, cfg)
	if got, want := s.Applied(), []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}; !slices.Equal(got, want) {
		t.Errorf("first Open applied %v, want %v", got, want)
	}
	again := openSink(t, cfg)
	if got := again.Applied(); len(got) != 0 {
		t.Errorf("second Open applied %v, want nothing", got)
	}
	if n := count(t, conn, "SELECT count() FROM schema_migrations"); n != 13 {
		t.Errorf("schema_migrations holds %d rows, want 13", n)
	}
	var tables []string
	rows, err := conn.Query(context.Background(), "SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	want := []string{"alert_history", "api_writes", "baselines", "dead_letters", "detector_state", "drift_metrics", "drift_metrics_latest", "labels", "prediction_keys", "schema_migrations", "silences", "window_summaries"}
	if !slices.Equal(tables, want) {
		t.Errorf("tables = %v, want %v (and no leftover lock)", tables, want)
	}
}

// TestIntegrationConcurrentOpen starts several instances on an empty
// database at once: one applies the migrations, the others wait for the lock
// and find nothing to do.
func TestIntegrationConcurrentOpen(t *testing.T) {
	cfg, conn := freshDatabase(t)
	const n = 4
	applied := make([][]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s, err := Open(context.Background(), cfg)
			errs[i] = err
			if err == nil {
				applied[i] = s.Applied()
				s.Close()
			}
		})
	}
	wg.Wait()
	total := 0
	for i := range n {
		if errs[i] != nil {
			t.Errorf("instance %d: %v", i, errs[i])
		}
		total += len(applied[i])
	}
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if total != len(ms) {
		t.Errorf("instances applied %v between them, want each of %d migrations once", applied, len(ms))
	}
	if got := count(t, conn, "SELECT count() FROM schema_migrations"); got != uint64(len(ms)) {
		t.Errorf("schema_migrations holds %d rows, want %d", got, len(ms))
	}
}

// TestIntegrationStaleLock: a lock left by an instance that died while
// migrating makes Open fail after MigrationLockTimeout with an error that
// names the table; once it is dropped, Open succeeds.
func TestIntegrationStaleLock(t *testing.T) {
	cfg, conn := freshDatabase(t)
	if err := conn.Exec(context.Background(), lockDDL); err != nil {
		t.Fatal(err)
	}
	cfg.MigrationLockTimeout = time.Second
	_, err := Open(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), cfg.Database+"."+lockTable) {
		t.Fatalf("Open with a stale lock: error = %v, want one naming %s.%s", err, cfg.Database, lockTable)
	}
	if err := conn.Exec(context.Background(), "DROP TABLE "+lockTable); err != nil {
		t.Fatal(err)
	}
	openSink(t, cfg)
}

// TestIntegrationVersionGate: the DDL the server got is the one its
// version selects; on Debian's 18.16 that is plain String and DateTime.
func TestIntegrationVersionGate(t *testing.T) {
	cfg, conn := freshDatabase(t)
	s := openSink(t, cfg)
	v := s.ServerVersion()
	f := s.Features()
	if f != FeaturesFor(v) {
		t.Errorf("features %+v, want FeaturesFor(%s) = %+v", f, v, FeaturesFor(v))
	}
	if v.Major == 18 && f != (Features{}) {
		t.Errorf("ClickHouse %s gets features %+v, want none", v, f)
	}
	want := map[string]string{"model": "String", "window_start": "DateTime('UTC')", "p_value": "Nullable(Float64)", "mde": "Nullable(Float64)", "drifted": "UInt8", "inserted_at": "UInt64"}
	if f.LowCardinality {
		want["model"] = "LowCardinality(String)"
	}
	if f.DateTime64 {
		want["window_start"] = "DateTime64(3, 'UTC')"
	}
	for col, typ := range want {
		var got string
		if err := conn.QueryRow(context.Background(), "SELECT type FROM system.columns WHERE database = currentDatabase() AND table = 'drift_metrics' AND name = ?", col).Scan(&got); err != nil {
			t.Fatalf("type of %s: %v", col, err)
		}
		if got != typ {
			t.Errorf("drift_metrics.%s is %s on ClickHouse %s, want %s", col, got, v, typ)
		}
	}
	joinWant := map[[2]string]string{
		{"window_summaries", "label_state"}:  "String",
		{"prediction_keys", "model"}:         "String",
		{"prediction_keys", "event_time_ms"}: "Int64",
		{"prediction_keys", "prediction"}:    "Float64",
		{"labels", "label_time"}:             "DateTime('UTC')",
		{"labels", "label"}:                  "String",
	}
	if f.LowCardinality {
		joinWant[[2]string{"prediction_keys", "model"}] = "LowCardinality(String)"
	}
	if f.DateTime64 {
		joinWant[[2]string{"labels", "label_time"}] = "DateTime64(3, 'UTC')"
	}
	for tc, typ := range joinWant {
		var got string
		if err := conn.QueryRow(context.Background(), "SELECT type FROM system.columns WHERE database = currentDatabase() AND table = ? AND name = ?", tc[0], tc[1]).Scan(&got); err != nil {
			t.Fatalf("type of %s.%s: %v", tc[0], tc[1], err)
		}
		if got != typ {
			t.Errorf("%s.%s is %s on ClickHouse %s, want %s", tc[0], tc[1], got, v, typ)
		}
	}
	for _, table := range []string{"drift_metrics", "prediction_keys", "labels"} {
		var engine string
		if err := conn.QueryRow(context.Background(), "SELECT engine FROM system.tables WHERE database = currentDatabase() AND name = ?", table).Scan(&engine); err != nil {
			t.Fatal(err)
		}
		if engine != "ReplacingMergeTree" {
			t.Errorf("%s engine = %s, want ReplacingMergeTree", table, engine)
		}
	}
	t.Logf("ClickHouse %s: features %+v", v, f)
}

type metricRow struct {
	subject, metric string
	value           float64
	pValue, mde     *float64
	drifted         uint8
	severity        string
}

func readMetrics(t *testing.T, conn driver.Conn, query string) []metricRow {
	t.Helper()
	rows, err := conn.Query(context.Background(), query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []metricRow
	for rows.Next() {
		var r metricRow
		if err := rows.Scan(&r.subject, &r.metric, &r.value, &r.pValue, &r.mde, &r.drifted, &r.severity); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestIntegrationRetryDoesNotDoubleCount commits three rows, then commits
// the same keys again (a retry, with one value recomputed): raw storage may
// hold both versions until a merge, but FINAL, argMax and
// drift_metrics_latest each return every row once, with the newest values.
func TestIntegrationRetryDoesNotDoubleCount(t *testing.T) {
	cfg, conn := freshDatabase(t)
	s := openSink(t, cfg, WithClock(stepClock()))
	// No background merge may collapse the duplicates before they are
	// counted.
	if err := conn.Exec(context.Background(), "SYSTEM STOP MERGES drift_metrics"); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	commit(t, s, testRows(start, 0.25))
	commit(t, s, testRows(start, 0.27)) // the retry, psi recomputed
	commit(t, s, testRows(start, 0.27)) // and an identical retry

	// Stored: all three commits, or on servers with insert deduplication
	// tokens the first two (the identical retry is dropped at insert).
	want := uint64(9)
	if s.Features().InsertDedupToken {
		want = 6
	}
	if raw := count(t, conn, "SELECT count() FROM drift_metrics"); raw != want {
		t.Errorf("stored rows before merges = %d, want %d on ClickHouse %s", raw, want, s.ServerVersion())
	}

	const cols = "subject, metric, value, p_value, mde, drifted, severity"
	p, mde := 0.003, 0.07
	latest := []metricRow{
		{subject: "amount", metric: "ks", value: 0.04, pValue: &p},
		{subject: "amount", metric: "psi", value: 0.27, mde: &mde},
		{subject: "country", metric: "jensen_shannon", value: 0.31, drifted: 1, severity: "SEV-3"},
	}
	for name, q := range map[string]string{
		"FINAL":  "SELECT " + cols + " FROM drift_metrics FINAL ORDER BY subject, metric",
		"view":   "SELECT " + cols + " FROM drift_metrics_latest ORDER BY subject, metric",
		"argMax": "SELECT subject, metric, argMax(value, inserted_at), argMax(p_value, inserted_at), argMax(mde, inserted_at), argMax(drifted, inserted_at), argMax(severity, inserted_at) FROM drift_metrics GROUP BY model, model_version, window_start, family, subject, metric ORDER BY subject, metric",
	} {
		got := readMetrics(t, conn, q)
		if !equalMetrics(got, latest) {
			t.Errorf("%s read %s, want %s", name, fmtMetrics(got), fmtMetrics(latest))
		}
	}

	// A merge collapses the stored duplicates for good.
	if err := conn.Exec(context.Background(), "SYSTEM START MERGES drift_metrics"); err != nil {
		t.Fatal(err)
	}
	if err := conn.Exec(context.Background(), "OPTIMIZE TABLE drift_metrics FINAL"); err != nil {
		t.Fatal(err)
	}
	if n := count(t, conn, "SELECT count() FROM drift_metrics"); n != 3 {
		t.Errorf("rows after OPTIMIZE FINAL = %d, want 3", n)
	}
	if got := readMetrics(t, conn, "SELECT "+cols+" FROM drift_metrics ORDER BY subject, metric"); !equalMetrics(got, latest) {
		t.Errorf("after merge read %s, want %s", fmtMetrics(got), fmtMetrics(latest))
	}
}

func equalMetrics(a, b []metricRow) bool {
	eqp := func(x, y *float64) bool { return x == nil && y == nil || x != nil && y != nil && *x == *y }
	return slices.EqualFunc(a, b, func(x, y metricRow) bool {
		return x.subject == y.subject && x.metric == y.metric && x.value == y.value &&
			eqp(x.pValue, y.pValue) && eqp(x.mde, y.mde) && x.drifted == y.drifted && x.severity == y.severity
	})
}

func fmtMetrics(rs []metricRow) string {
	var b strings.Builder
	f := func(p *float64) string {
		if p == nil {
			return "NULL"
		}
		return fmt.Sprint(*p)
	}
	for _, r := range rs {
		fmt.Fprintf(&b, "[%s %s %v p=%s mde=%s %d %q]", r.subject, r.metric, r.value, f(r.pValue), f(r.mde), r.drifted, r.severity)
	}
	return b.String()
}

func TestIntegrationRollbackWritesNothing(t *testing.T) {
	cfg, conn := freshDatabase(t)
	s := openSink(t, cfg)
	a := s.Appender(context.Background())
	if err := a.Append(testRows(time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC), 0.25)...); err != nil {
		t.Fatal(err)
	}
	if err := a.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(); err == nil {
		t.Error("Commit after Rollback: no error")
	}
	if n := count(t, conn, "SELECT count() FROM drift_metrics"); n != 0 {
		t.Errorf("drift_metrics holds %d rows after a rollback, want 0", n)
	}
	got, err := s.Committed(context.Background())
	if err != nil || len(got) != 0 {
		t.Errorf("Committed after a rollback = %v, %v; want empty", got, err)
	}
}

// TestIntegrationCommitted: Committed is the newest window with a summary,
// per model version; rows without one (a late report, rows whose summary
// was never written) do not move it.
func TestIntegrationCommitted(t *testing.T) {
	cfg, _ := freshDatabase(t)
	s := openSink(t, cfg, WithClock(stepClock()))
	if got, err := s.Committed(context.Background()); err != nil || len(got) != 0 {
		t.Fatalf("Committed on an empty table = %v, %v; want empty", got, err)
	}
	h := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	at := func(model, version string, start time.Time) ([]drift.Row, sinks.WindowSummary) {
		rows := testRows(start, 0.1)
		for i := range rows {
			rows[i].Model, rows[i].ModelVersion = model, version
		}
		w := summaryOf(start, 4000)
		w.Model, w.Version = model, version
		return rows, w
	}
	commitWindows(t, s)(at("fraud", "1.4.2", h))
	commitWindows(t, s)(at("fraud", "1.4.2", h.Add(2*time.Hour)))
	commitWindows(t, s)(at("fraud", "1.4.2", h.Add(time.Hour)))   // out of order
	commitWindows(t, s)(at("fraud", "1.4.2", h.Add(2*time.Hour))) // a retry
	commitWindows(t, s)(at("fraud", "1.5.0", h.Add(5*time.Hour)))
	commitWindows(t, s)(at("churn", "2.0.1", h.AddDate(0, -1, 0))) // the month before: another partition
	late := drift.Late(&windows.LateReport{Key: windows.Key{Model: "fraud", Version: "1.4.2"}, Start: h, End: h.Add(time.Hour), BaselineID: "b", Records: 7})
	commit(t, s, []drift.Row{late})
	rowsOnly, _ := at("fraud", "1.5.0", h.Add(9*time.Hour)) // rows whose summary is missing
	commit(t, s, rowsOnly)

	got, err := s.Committed(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[windows.Key]time.Time{
		{Model: "fraud", Version: "1.4.2"}: h.Add(3 * time.Hour),
		{Model: "fraud", Version: "1.5.0"}: h.Add(6 * time.Hour),
		{Model: "churn", Version: "2.0.1"}: h.AddDate(0, -1, 0).Add(time.Hour),
	}
	if len(got) != len(want) {
		t.Errorf("Committed = %v, want %v", got, want)
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || !g.Equal(w) || g.Location() != time.UTC {
			t.Errorf("Committed[%v] = %v, want %v (UTC)", k, g, w)
		}
	}
}

func TestIntegrationBadPasswordIsNotLeaked(t *testing.T) {
	cfg := serverConfig(t)
	cfg.Password = "definitely-wrong-password"
	_, err := Open(context.Background(), cfg)
	if err == nil {
		t.Fatal("Open with a wrong password succeeded")
	}
	if strings.Contains(err.Error(), string(cfg.Password)) {
		t.Errorf("error shows the password: %v", err)
	}
	if IsRetryable(err) {
		t.Errorf("wrong password is retryable: %v", err)
	}
	t.Logf("error: %v", err)
}

// TestIntegrationTLS connects to the server's TLS port: verified against
// the test CA, and (for completeness) without verification; a client that
// does not trust the CA is refused, and that is not worth retrying.
func TestIntegrationTLS(t *testing.T) {
	cfg, _ := freshDatabase(t)
	addr, ca := os.Getenv("DRIFTWATCH_CLICKHOUSE_TLS_ADDR"), os.Getenv("DRIFTWATCH_CLICKHOUSE_CA_FILE")
	if addr == "" || ca == "" {
		t.Skip("DRIFTWATCH_CLICKHOUSE_TLS_ADDR or DRIFTWATCH_CLICKHOUSE_CA_FILE is not set")
	}
	cfg.Addr = []string{addr}
	for name, tc := range map[string]TLS{
		"verified":    {Enabled: true, CAFile: ca},
		"server name": {Enabled: true, CAFile: ca, ServerName: "localhost"},
		"insecure":    {Enabled: true, InsecureSkipVerify: true},
	} {
		c := cfg
		c.TLS = tc
		s, err := Open(context.Background(), c)
		if err != nil {
			t.Errorf("%s: Open over TLS: %v", name, err)
			continue
		}
		commit(t, s, testRows(time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC), 0.25))
		s.Close()
	}
	c := cfg
	c.TLS = TLS{Enabled: true} // system roots do not know the test CA
	_, err := Open(context.Background(), c)
	if err == nil || IsRetryable(err) {
		t.Errorf("Open with an untrusted server certificate: error = %v (retryable %t), want a permanent error", err, IsRetryable(err))
	}
	c.TLS = TLS{Enabled: true, CAFile: ca, ServerName: "not-the-server.example"}
	if _, err := Open(context.Background(), c); err == nil || IsRetryable(err) {
		t.Errorf("Open with a wrong server name: error = %v (retryable %t), want a permanent error", err, IsRetryable(err))
	}
}
