package clickhouse

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"go.uber.org/goleak"

	"github.com/driftwatch/driftwatch/stats/drift"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/schema-*.sql from the migrations")

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Version
		wantErr string
	}{
		{in: "18.16.1", want: Version{18, 16, 1}},
		{in: "24.8.4.13", want: Version{24, 8, 4}},
		{in: "25.3", want: Version{25, 3, 0}},
		{in: " 20.3.21.2\n", want: Version{20, 3, 21}},
		{in: "18", wantErr: `parse ClickHouse version "18": want major.minor[.patch]`},
		{in: "v18.16", wantErr: `parse ClickHouse version "v18.16": part "v18" is not a number`},
		{in: "", wantErr: `parse ClickHouse version "": want major.minor[.patch]`},
	} {
		got, err := ParseVersion(tc.in)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("ParseVersion(%q) error = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseVersion(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestFeaturesFor(t *testing.T) {
	none := Features{}
	modern := Features{LowCardinality: true, Codecs: true, TTL: true, DateTime64: true, AddColumnIfNotExists: true}
	all := modern
	all.InsertDedupToken = true
	for _, tc := range []struct {
		v    string
		want Features
	}{
		{"18.16.1", none}, // Debian bookworm
		{"19.17.6", none},
		{"20.2.1", none},
		{"20.3.1", modern},
		{"21.8.15", modern},
		{"22.2.3", modern},
		{"22.3.1", all},
		{"24.8.4.13", all},
		{"25.10.1", all},
	} {
		v, err := ParseVersion(tc.v)
		if err != nil {
			t.Fatal(err)
		}
		if got := FeaturesFor(v); got != tc.want {
			t.Errorf("FeaturesFor(%s) = %+v, want %+v", tc.v, got, tc.want)
		}
	}
}

func TestMigrationsOrdered(t *testing.T) {
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for i, m := range ms {
		if m.Version != i+1 {
			t.Errorf("migration %d has version %d", i, m.Version)
		}
		names = append(names, m.Name)
	}
	want := []string{"drift_metrics", "window_summaries", "baselines", "dead_letters", "alert_history", "label_join", "detector_state", "alert_history_evidence", "dead_letters_record_time_ms", "alert_history_alertname_key", "silences_api_writes", "deciding_distributions", "prediction_keys_variant"}
	if !slices.Equal(names, want) {
		t.Errorf("migrations = %v, want %v", names, want)
	}
}

func TestLoadMigrationsRejects(t *testing.T) {
	sql := &fstest.MapFile{Data: []byte("SELECT 1;")}
	for _, tc := range []struct {
		name  string
		files fstest.MapFS
		want  string
	}{
		{"gap", fstest.MapFS{"m/0001_a.sql": sql, "m/0003_c.sql": sql},
			"migration 0003_c: versions must run 1, 2, 3, ... without gaps or repeats; want 0002"},
		{"repeat", fstest.MapFS{"m/0001_a.sql": sql, "m/0001_b.sql": sql},
			"migration 0001_b: versions must run 1, 2, 3, ... without gaps or repeats; want 0002"},
		{"not from one", fstest.MapFS{"m/0002_b.sql": sql},
			"migration 0002_b: versions must run 1, 2, 3, ... without gaps or repeats; want 0001"},
		{"no name", fstest.MapFS{"m/0001.sql": sql}, "migration file 0001.sql: want NNNN_name.sql"},
		{"short number", fstest.MapFS{"m/01_a.sql": sql}, "migration file 01_a.sql: want NNNN_name.sql"},
	} {
		_, err := loadMigrations(tc.files, "m")
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: error = %v, want %q", tc.name, err, tc.want)
		}
	}
	// Files that are not .sql are ignored, and order is by number, not name.
	ms, err := loadMigrations(fstest.MapFS{"m/0002_a.sql": sql, "m/0001_z.sql": sql, "m/README": sql}, "m")
	if err != nil || len(ms) != 2 || ms[0].Name != "z" || ms[1].Name != "a" {
		t.Errorf("loadMigrations = %+v, %v; want 0001_z, 0002_a", ms, err)
	}
}

// render returns every migration's statements for f, as one SQL script.
func render(t *testing.T, f Features) string {
	t.Helper()
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, m := range ms {
		stmts, err := m.Statements(f)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "-- %04d_%s\n", m.Version, m.Name)
		for _, s := range stmts {
			b.WriteString(s + ";\n\n")
		}
	}
	return b.String()
}

// TestSchemaGolden pins the DDL each server generation gets, in
// testdata/golden/schema-<version>.sql (go test -run TestSchemaGolden
// -update rewrites them). testdata/chdb_check.py runs the newest one on a
// current ClickHouse engine.
func TestSchemaGolden(t *testing.T) {
	for _, v := range []string{"18.16.1", "20.3.1", "24.8.4"} {
		ver, _ := ParseVersion(v)
		got := render(t, FeaturesFor(ver))
		path := filepath.Join("testdata", "golden", "schema-"+v+".sql")
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -run TestSchemaGolden -update)", err)
		}
		if got != string(want) {
			t.Errorf("schema for %s differs from %s (run go test -run TestSchemaGolden -update and review the diff)", v, path)
		}
	}
}

func TestSchemaGates(t *testing.T) {
	newer := []string{"LowCardinality", "CODEC", "TTL", "DateTime64", "IF NOT EXISTS label_state", "non_replicated_deduplication_window"}
	old := render(t, Features{})
	for _, s := range newer {
		if strings.Contains(old, s) {
			t.Errorf("18.16 schema uses %s", s)
		}
	}
	// Ten tables, alert_history again with its key of migration 10 and
	// prediction_keys again with its key of migration 13.
	if n := strings.Count(old, "ENGINE = ReplacingMergeTree(inserted_at)"); n != 12 {
		t.Errorf("18.16 schema has %d ReplacingMergeTree(inserted_at) tables, want 12", n)
	}
	cur := render(t, FeaturesFor(Version{24, 8, 0}))
	for _, s := range newer {
		if !strings.Contains(cur, s) {
			t.Errorf("24.8 schema does not use %s", s)
		}
	}
	// The key of drift_metrics is the row's identity in the contract.
	if !strings.Contains(old, "ORDER BY (model, model_version, window_start, family, subject, metric)") {
		t.Error("drift_metrics is not ordered by the contract's row identity")
	}
	// The late-label join's tables are keyed by what identifies a key and a
	// label in the join.
	for _, key := range []string{"ORDER BY (model, id, variant)", "ORDER BY (model, prediction_id)"} {
		if !strings.Contains(old, key) || !strings.Contains(cur, key) {
			t.Errorf("schema has no table with %s", key)
		}
	}
	// Every column a writer names exists in its table (created, or added
	// later), in both generations.
	for _, schema := range []string{old, cur} {
		for table, cols := range map[string]string{
			"drift_metrics":    metricColumns,
			"window_summaries": summaryColumns,
			"dead_letters":     deadLetterColumns,
			"baselines":        baselineColumns,
			"prediction_keys":  keyColumns,
			"labels":           labelColumns,
			"detector_state":   detectorColumns,
			"alert_history":    alertColumns,
			"silences":         silenceColumns,
			"api_writes":       apiWriteColumns,
		} {
			// A table whose key changed is created anew as <table>_next
			// and renamed into place: that one has the columns.
			ddl := schema[strings.Index(schema, "CREATE TABLE IF NOT EXISTS "+table+" "):]
			if i := strings.LastIndex(schema, "CREATE TABLE IF NOT EXISTS "+table+"_next "); i >= 0 {
				ddl = schema[i:]
			}
			ddl = ddl[:strings.Index(ddl, "ENGINE")]
			for c := range strings.SplitSeq(cols, ", ") {
				if !strings.Contains(ddl, "\n    "+c+" ") && !addsColumn(schema, table, c) {
					t.Errorf("%s has no column %s", table, c)
				}
			}
		}
	}
}

// addsColumn reports whether schema adds column c to table.
func addsColumn(schema, table, c string) bool {
	for _, ifNot := range []string{"", "IF NOT EXISTS "} {
		if strings.Contains(schema, "ALTER TABLE "+table+" ADD COLUMN "+ifNot+c+" ") {
			return true
		}
	}
	return false
}

func TestColumnAdded(t *testing.T) {
	const add = "ALTER TABLE window_summaries ADD COLUMN label_state String DEFAULT ''"
	exists := &clickhouse.Exception{Code: codeIllegalColumn, Message: "Cannot add column label_state: column with this name already exists"}
	for _, tc := range []struct {
		stmt string
		err  error
		want bool
	}{
		{add, exists, true},
		{add, fmt.Errorf("exec: %w", exists), true},
		{add, &clickhouse.Exception{Code: codeIllegalColumn, Message: "Wrong column type"}, false},
		{add, &clickhouse.Exception{Code: 60, Message: "Table window_summaries doesn't exist"}, false},
		{add, errors.New("connection reset; column already exists"), false},
		{"ALTER TABLE window_summaries ADD COLUMN IF NOT EXISTS label_state String", exists, false},
		{"CREATE TABLE t (x String)", exists, false},
	} {
		if got := columnAdded(tc.stmt, tc.err); got != tc.want {
			t.Errorf("columnAdded(%q, %v) = %t, want %t", tc.stmt, tc.err, got, tc.want)
		}
	}
}

func TestStatementsSplit(t *testing.T) {
	m := Migration{Version: 1, Name: "x", text: "-- a comment; with a semicolon\nCREATE TABLE a (x {{lc \"String\"}});\n\n-- another\nCREATE VIEW v AS\nSELECT 1;\n"}
	got, err := m.Statements(Features{LowCardinality: true})
	want := []string{"CREATE TABLE a (x LowCardinality(String))", "CREATE VIEW v AS\nSELECT 1"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("Statements = %q, %v; want %q", got, err, want)
	}
	bad := Migration{Version: 2, Name: "bad", text: "CREATE TABLE a (x {{nosuch}})"}
	if _, err := bad.Statements(Features{}); err == nil || !strings.Contains(err.Error(), "parse migration 0002_bad") {
		t.Errorf("unknown template func: error = %v", err)
	}
}

func TestPendingOf(t *testing.T) {
	ms := []Migration{{Version: 1, Name: "a", Checksum: "aaaa"}, {Version: 2, Name: "b", Checksum: "bbbb"}, {Version: 3, Name: "c", Checksum: "cccc"}}
	got, err := pendingOf(ms, map[int]applied{1: {"a", "aaaa"}})
	if err != nil || len(got) != 2 || got[0].Version != 2 || got[1].Version != 3 {
		t.Errorf("pendingOf = %+v, %v; want 2, 3", got, err)
	}
	if got, err := pendingOf(ms, map[int]applied{1: {"a", "aaaa"}, 2: {"b", "bbbb"}, 3: {"c", "cccc"}}); err != nil || len(got) != 0 {
		t.Errorf("pendingOf(all applied) = %+v, %v; want none", got, err)
	}
	_, err = pendingOf(ms, map[int]applied{2: {"b", "b0b0"}})
	if want := "migration 0002_b was changed after it was applied (checksum bbbb, applied b0b0): add a new migration instead"; err == nil || err.Error() != want {
		t.Errorf("changed migration: error = %v, want %q", err, want)
	}
	_, err = pendingOf(ms, map[int]applied{4: {"d", "dddd"}})
	if want := "database records migration 0004_d, which this driftwatch does not have: it was migrated by a newer version"; err == nil || err.Error() != want {
		t.Errorf("unknown migration: error = %v, want %q", err, want)
	}
}

func TestRedaction(t *testing.T) {
	const pw = "hunter2-very-secret"
	cfg := Config{Addr: []string{"db:9440"}, Database: "dw", Username: "writer", Password: pw, TLS: TLS{Enabled: true}}
	type wrapper struct {
		Sink Config
		Ptr  *Config
	}
	var outs []string
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		outs = append(outs, fmt.Sprintf(format, cfg), fmt.Sprintf(format, &cfg), fmt.Sprintf(format, wrapper{cfg, &cfg}), fmt.Sprintf(format, cfg.Password))
	}
	js, err := json.Marshal(wrapper{cfg, &cfg})
	if err != nil {
		t.Fatal(err)
	}
	outs = append(outs, string(js))
	var logs bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&logs, nil), slog.NewTextHandler(&logs, nil)} {
		slog.New(h).Info("open", "clickhouse", cfg, "password", cfg.Password, "ptr", &cfg)
	}
	outs = append(outs, logs.String())
	for _, o := range outs {
		if strings.Contains(o, pw) {
			t.Errorf("password printed: %s", o)
		}
	}
	if got, want := cfg.String(), "clickhouse{addr=db:9440 database=dw user=writer password=[REDACTED] tls=true}"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if !strings.Contains(logs.String(), `"password":"[REDACTED]"`) {
		t.Errorf("slog JSON output does not show the redaction: %s", logs.String())
	}
	if got := (Config{}).Password.String(); got != "" {
		t.Errorf("empty password prints %q, want empty (so a missing password is visible)", got)
	}
	if string(cfg.Password) != pw {
		t.Error("string(Secret) does not give the value back")
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, ""},
		{Config{Addr: []string{"127.0.0.1:39000", "[::1]:9000"}}, ""},
		{Config{Addr: []string{"localhost"}}, `clickhouse addr "localhost": want host:port`},
		{Config{Addr: []string{"localhost:"}}, `clickhouse addr "localhost:": want host:port`},
		{Config{CommitTimeout: -time.Second}, "clickhouse: timeouts and max_open_conns must not be negative"},
		{Config{TLS: TLS{CAFile: "ca.pem"}}, "clickhouse tls: ca_file is set but tls is not enabled"},
	} {
		err := tc.cfg.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || err.Error() != tc.want) {
			t.Errorf("Validate(%v) = %v, want %q", tc.cfg, err, tc.want)
		}
	}
	if _, err := (Config{TLS: TLS{Enabled: true, CAFile: "testdata/nosuch.pem"}}).tlsConfig(); err == nil {
		t.Error("tlsConfig with a missing CA file: no error")
	}
}

func testRows(start time.Time, value float64) []drift.Row {
	p, mde := 0.003, 0.07
	base := drift.Row{Model: "fraud", ModelVersion: "1.4.2", WindowStart: start, WindowEnd: start.Add(time.Hour),
		Family: drift.FamilyData, NCurrent: 4000, NReference: 100000, BaselineID: "fraud-20261120-abc", ThresholdSource: "static"}
	rows := []drift.Row{base, base, base}
	rows[0].Subject, rows[0].Metric, rows[0].Value, rows[0].Threshold, rows[0].MDE = "amount", "psi", value, 0.2, &mde
	rows[1].Subject, rows[1].Metric, rows[1].Value, rows[1].Threshold, rows[1].PValue = "amount", "ks", 0.04, 0.05, &p
	rows[2].Subject, rows[2].Metric, rows[2].Value, rows[2].Threshold, rows[2].Drifted, rows[2].Severity =
		"country", "jensen_shannon", 0.31, 0.1, true, "SEV-3"
	rows[2].Family = drift.FamilyData
	return rows
}

func TestDedupToken(t *testing.T) {
	start := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	a, b := testRows(start, 0.25), testRows(start, 0.25)
	if dedupToken(a) != dedupToken(b) {
		t.Error("equal rows give different tokens")
	}
	for name, change := range map[string]func(r []drift.Row){
		"value":    func(r []drift.Row) { r[0].Value = 0.26 },
		"p_value":  func(r []drift.Row) { r[1].PValue = nil },
		"mde":      func(r []drift.Row) { v := 0.08; r[0].MDE = &v },
		"subject":  func(r []drift.Row) { r[2].Subject = "country2" },
		"window":   func(r []drift.Row) { r[0].WindowStart = r[0].WindowStart.Add(time.Second) },
		"order":    func(r []drift.Row) { r[0], r[1] = r[1], r[0] },
		"fewer":    func(r []drift.Row) { r[2] = r[1] },
		"severity": func(r []drift.Row) { r[2].Severity = "SEV-2" },
		"deciding": func(r []drift.Row) { r[0].Primary = true },
	} {
		c := testRows(start, 0.25)
		change(c)
		if dedupToken(c) == dedupToken(a) {
			t.Errorf("changing %s keeps the token", name)
		}
	}
}

func TestAppenderWithoutServer(t *testing.T) {
	s := &Sink{version: Version{18, 16, 1}, cfg: DefaultConfig(), now: time.Now}
	start := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)

	a := s.Appender(context.Background())
	rows := testRows(start.Add(500*time.Millisecond), 0.25)
	err := a.Append(rows...)
	if err == nil || !errors.Is(err, errInvalidRow) || IsRetryable(err) {
		t.Errorf("sub-second window on 18.16: error = %v, want a permanent invalid-row error", err)
	}
	s.features.DateTime64 = true
	if err := s.Appender(context.Background()).Append(rows...); err != nil {
		t.Errorf("millisecond window with DateTime64: %v", err)
	}
	if err := s.Appender(context.Background()).Append(testRows(start.Add(time.Microsecond), 1)...); !errors.Is(err, errInvalidRow) {
		t.Errorf("microsecond window with DateTime64: error = %v, want invalid row", err)
	}

	// Empty commits and rollbacks need no server.
	a = s.Appender(context.Background())
	if err := a.Commit(); err != nil {
		t.Errorf("empty Commit: %v", err)
	}
	if err := a.Append(testRows(start, 1)...); err == nil {
		t.Error("Append after Commit: no error")
	}
	if err := a.Commit(); err == nil {
		t.Error("second Commit: no error")
	}
	a = s.Appender(context.Background())
	if err := a.Append(testRows(start, 1)...); err != nil {
		t.Fatal(err)
	}
	if err := a.Rollback(); err != nil {
		t.Errorf("Rollback: %v", err)
	}
	if err := a.Commit(); err == nil {
		t.Error("Commit after Rollback: no error")
	}
}

func TestIsRetryable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{context.Canceled, false},
		{fmt.Errorf("insert: %w", context.DeadlineExceeded), true},
		{io.EOF, true},
		{clickhouse.ErrAcquireConnTimeout, true},
		{&clickhouse.Exception{Code: 252, Message: "Too many parts"}, true},
		{fmt.Errorf("insert 3 rows into drift_metrics: %w", &clickhouse.Exception{Code: 241}), true},
		{&clickhouse.Exception{Code: 60, Message: "Table default.drift_metrics doesn't exist"}, false},
		{&clickhouse.Exception{Code: 516, Message: "Authentication failed"}, false},
		{&clickhouse.Exception{Code: 62, Message: "Syntax error"}, false},
		{&column.ColumnConverterError{Op: "Append", To: "Float64", From: "string"}, false},
		{fmt.Errorf("append: %w", errInvalidRow), false},
	} {
		if got := IsRetryable(tc.err); got != tc.want {
			t.Errorf("IsRetryable(%v) = %t, want %t", tc.err, got, tc.want)
		}
	}
}

func TestMain(m *testing.M) {
	flag.Parse()
	// The Sink owns no goroutines, but the connection pool does: Close must
	// stop them.
	goleak.VerifyTestMain(m)
}

// TestOpenUnreachable: a server that is down is worth retrying, and the
// error says where it tried without the password.
func TestOpenUnreachable(t *testing.T) {
	cfg := Config{Addr: []string{"127.0.0.1:1"}, Password: "s3cret-pw", DialTimeout: 2 * time.Second, CommitTimeout: 2 * time.Second}
	_, err := Open(context.Background(), cfg)
	if err == nil {
		t.Fatal("Open of a closed port succeeded")
	}
	if !IsRetryable(err) || !strings.Contains(err.Error(), "127.0.0.1:1") || strings.Contains(err.Error(), "s3cret-pw") {
		t.Errorf("error = %v (retryable %t); want a retryable error naming the address and not the password", err, IsRetryable(err))
	}
}
