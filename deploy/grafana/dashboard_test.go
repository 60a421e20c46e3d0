package grafana_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/driftwatch/driftwatch/internal/testservers"
	chsink "github.com/driftwatch/driftwatch/sinks/clickhouse"
	"github.com/driftwatch/driftwatch/stats/drift"
)

// The integration test runs against the server that
// deploy/servers/clickhouse.sh starts:
//
//	bash deploy/servers/clickhouse.sh start
//	eval "$(bash deploy/servers/clickhouse.sh env)"
//	go test ./deploy/grafana/
//
// It works in databases of its own, created and dropped by the test.

const (
	dashboardFile = "driftwatch.json"
	pluginType    = "grafana-clickhouse-datasource"

	// The plugin's target formats (the backend's sqlutil.FormatQueryOption).
	formatTimeSeries = 0
	formatTable      = 1
)

// tables are driftwatch's ClickHouse tables and view (sinks/clickhouse
// migrations); a dashboard query may read nothing else.
var tables = []string{"drift_metrics", "drift_metrics_latest", "window_summaries", "baselines", "dead_letters", "alert_history"}

// wantColumns are the columns each query must return, in order: what its
// panel's field overrides, display names and value mappings refer to. A
// query of the dashboard without an entry here fails the test, so a new
// panel states what it reads.
var wantColumns = map[string][]string{
	"variable model":              {"model"},
	"variable model_version":      {"model_version"},
	"variable metric":             {"metric"},
	"Windows in range/A":          {"windows"},
	"Records in range/A":          {"records"},
	"Drifted subjects/A":          {"drifted_subjects"},
	"Worst severity/A":            {"worst_severity"},
	"Dead letters/A":              {"dead_letters"},
	"Feature drift: ${metric}/A":  {"time", "subject", "value"},
	"Feature drift: ${metric}/B":  {"time", "subject", "threshold_line"},
	"Drift verdicts by subject/A": {"time", "series", "level"},
	"Prediction drift/A":          {"time", "metric", "value"},
	"Insufficient data/A":         {"window", "subject", "metrics", "records"},
	"Null rate per feature/A":     {"time", "subject", "value"},
	"Late records/A":              {"time", "late_records"},
	"Dead letters by reason/A":    {"time", "reason", "records"},
	"Label coverage and delay/A":  {"time", "series", "coverage"},
	"Label coverage and delay/B":  {"time", "series", "delay_s"},
	"Model performance/A":         {"time", "series", "value"},
	"Model performance/B":         {"time", "series", "floor_line"},
	"Fairness/A":                  {"time", "series", "value"},
	"Fairness/B":                  {"time", "series", "limit_line"},
	"Windows/A":                   {"window_start", "window_end", "records", "subjects", "drifted", "drifted_list", "max_severity", "baseline_id", "closed_at"},
	"Alert history/A":             {"sent_at", "window_start", "family", "subject", "metric", "state", "severity", "value", "threshold", "receiver", "delivered", "error_message"},
	"Baselines/A":                 {"baseline_id", "model_version", "created_at", "source", "features", "reference_rows"},
}

// driftScoreQuery names the feature drift panel's series query, the one
// TestIntegrationDriftScoreRetriedCommit writes twice under.
const driftScoreQuery = "Feature drift: ${metric}/A"

type dashboard struct {
	UID           string `json:"uid"`
	Title         string `json:"title"`
	SchemaVersion int    `json:"schemaVersion"`
	Templating    struct {
		List []variable `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type variable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Datasource *datasourceRef  `json:"datasource"`
	Query      json.RawMessage `json:"query"`
	Current    struct {
		Value any `json:"value"`
	} `json:"current"`
}

type panel struct {
	ID         int            `json:"id"`
	Type       string         `json:"type"`
	Title      string         `json:"title"`
	Datasource *datasourceRef `json:"datasource"`
	Targets    []struct {
		RefID      string         `json:"refId"`
		Datasource *datasourceRef `json:"datasource"`
		EditorType string         `json:"editorType"`
		Format     int            `json:"format"`
		RawSQL     string         `json:"rawSql"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // of a collapsed row
}

// query is one SQL query of the dashboard.
type query struct {
	name       string // "variable <name>" or "<panel title>/<refId>"
	sql        string // as written in the dashboard
	timeSeries bool   // the plugin turns its result into time series
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("parse %s: %v", dashboardFile, err)
	}
	return d
}

// collectQueries returns every query of d: query variables first, then the
// panels' targets in order. It fails the test for a panel without a query,
// a target without SQL, or a query that is not the ClickHouse plugin's.
func collectQueries(t *testing.T, d dashboard) []query {
	t.Helper()
	var qs []query
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		if v.Datasource == nil || v.Datasource.Type != pluginType {
			t.Errorf("variable %s: datasource %+v, want type %s", v.Name, v.Datasource, pluginType)
		}
		var sql string
		var obj struct {
			EditorType string `json:"editorType"`
			RawSQL     string `json:"rawSql"`
		}
		if err := json.Unmarshal(v.Query, &sql); err != nil {
			if err := json.Unmarshal(v.Query, &obj); err != nil {
				t.Errorf("variable %s: query is neither a string nor an object: %v", v.Name, err)
			}
			sql = obj.RawSQL
		}
		if strings.TrimSpace(sql) == "" {
			t.Errorf("variable %s has no query", v.Name)
			continue
		}
		qs = append(qs, query{name: "variable " + v.Name, sql: sql})
	}
	var walk func(ps []panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if p.Type == "row" {
				walk(p.Panels)
				continue
			}
			if len(p.Targets) == 0 {
				t.Errorf("panel %d %q has no query", p.ID, p.Title)
			}
			for _, tg := range p.Targets {
				name := p.Title + "/" + tg.RefID
				ds := tg.Datasource
				if ds == nil {
					ds = p.Datasource
				}
				if ds == nil || ds.Type != pluginType {
					t.Errorf("%s: datasource %+v, want type %s", name, ds, pluginType)
				}
				if tg.EditorType != "sql" {
					t.Errorf("%s: editorType %q, want sql", name, tg.EditorType)
				}
				if tg.Format != formatTimeSeries && tg.Format != formatTable {
					t.Errorf("%s: format %d, want %d (time series) or %d (table)", name, tg.Format, formatTimeSeries, formatTable)
				}
				if strings.TrimSpace(tg.RawSQL) == "" {
					t.Errorf("panel %d %q: target %s has no SQL", p.ID, p.Title, tg.RefID)
					continue
				}
				qs = append(qs, query{name: name, sql: tg.RawSQL, timeSeries: tg.Format == formatTimeSeries})
			}
		}
	}
	walk(d.Panels)
	return qs
}

// grafanaEnv expands a query as Grafana and the ClickHouse plugin do before
// it reaches the server: first the dashboard's template variables (Grafana's
// frontend), then the plugin's macros (its backend, through sqlds).
type grafanaEnv struct {
	from, to time.Time
	interval time.Duration
	vars     map[string]string // single values of the dashboard's variables
}

var (
	// Grafana's variable syntaxes: ${name}, ${name:format}, [[name]], $name.
	varRe = regexp.MustCompile(`\$\{(\w+)(?::(\w+))?\}|\[\[(\w+)\]\]|\$(\w+)`)
	// sqlds' macro syntax: $__name or $__name(args), args up to the first ')'.
	macroRe = regexp.MustCompile(`\$__(\w+)(?:\(([^)]*)\))?`)
)

// expand returns sql with variables and macros replaced. It fails on a
// variable the dashboard does not define, a format or macro this expander
// does not know (add it, as Grafana or the plugin expands it, before using
// it), and on any '$' left over.
func (e grafanaEnv) expand(sql string) (string, error) {
	var errs []error
	out := varRe.ReplaceAllStringFunc(sql, func(m string) string {
		sm := varRe.FindStringSubmatch(m)
		name, format := sm[1], sm[2]
		switch {
		case sm[3] != "":
			name = sm[3]
		case sm[4] != "":
			if strings.HasPrefix(sm[4], "__") {
				return m // a macro, expanded below; Grafana leaves unknown $__ names alone
			}
			name = sm[4]
		}
		v, ok := e.vars[name]
		if !ok {
			errs = append(errs, fmt.Errorf("unknown variable %s", m))
			return m
		}
		switch format {
		case "":
			return v // the plugin's format for a single value: as is
		case "sqlstring":
			return "'" + strings.ReplaceAll(v, "'", "''") + "'"
		default:
			errs = append(errs, fmt.Errorf("variable format %q in %s: unknown to this test", format, m))
			return m
		}
	})
	dt := func(t time.Time) string { return fmt.Sprintf("toDateTime(%d)", t.Unix()) }
	seconds := int64(max(e.interval.Seconds(), 1))
	out = macroRe.ReplaceAllStringFunc(out, func(m string) string {
		sm := macroRe.FindStringSubmatch(m)
		name := sm[1]
		var args []string
		if strings.Contains(m, "(") {
			for a := range strings.SplitSeq(sm[2], ",") {
				args = append(args, strings.TrimSpace(a))
			}
		}
		arg := func() (string, bool) {
			if len(args) != 1 || args[0] == "" {
				errs = append(errs, fmt.Errorf("macro %s: want one argument", m))
				return "", false
			}
			return args[0], true
		}
		switch name {
		case "timeFilter":
			col, ok := arg()
			if !ok {
				return m
			}
			return fmt.Sprintf("%s >= %s AND %s <= %s", col, dt(e.from), col, dt(e.to))
		case "fromTime":
			return dt(e.from)
		case "toTime":
			return dt(e.to)
		case "interval_s":
			return strconv.FormatInt(seconds, 10)
		case "timeInterval":
			col, ok := arg()
			if !ok {
				return m
			}
			return fmt.Sprintf("toStartOfInterval(toDateTime(%s), INTERVAL %d second)", col, seconds)
		default:
			errs = append(errs, fmt.Errorf("macro %s: unknown to this test's expander", m))
			return m
		}
	})
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	if i := strings.IndexByte(out, '$'); i >= 0 {
		return "", fmt.Errorf("'$' left after expansion at %q", out[i:min(len(out), i+30)])
	}
	return out, nil
}

// fromRe finds the tables a query reads, and whether it reads them FINAL.
var fromRe = regexp.MustCompile(`(?i)\b(?:FROM|JOIN)\s+([A-Za-z_][\w.]*)(\s+FINAL\b)?`)

// readsLatest reports why sql may count a retried write twice, or "" when
// every table it reads is read FINAL, through drift_metrics_latest, or with
// argMax(..., inserted_at).
func readsLatest(sql string) string {
	ms := fromRe.FindAllStringSubmatch(sql, -1)
	if len(ms) == 0 {
		return "reads no table"
	}
	for _, m := range ms {
		table := m[1]
		if !slices.Contains(tables, table) {
			return fmt.Sprintf("reads %s, which is not a driftwatch table", table)
		}
		if m[2] == "" && table != "drift_metrics_latest" && !strings.Contains(sql, "argMax(") {
			return fmt.Sprintf("reads %s without FINAL, drift_metrics_latest or argMax(..., inserted_at)", table)
		}
	}
	return ""
}

func TestExpand(t *testing.T) {
	from := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	env := grafanaEnv{from: from, to: from.Add(time.Hour), interval: 30 * time.Second,
		vars: map[string]string{"model": "fraud", "model_version": "1.4.2", "odd": "o'brien"}}
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: "model = ${model:sqlstring}", want: "model = 'fraud'"},
		{in: "model = '${model}' AND v = '$model_version' AND x = '[[model]]'", want: "model = 'fraud' AND v = '1.4.2' AND x = 'fraud'"},
		{in: "a = ${odd:sqlstring}", want: "a = 'o''brien'"},
		{in: "WHERE $__timeFilter(window_start)", want: "WHERE window_start >= toDateTime(1795132800) AND window_start <= toDateTime(1795136400)"},
		{in: "$__fromTime, $__toTime, $__interval_s", want: "toDateTime(1795132800), toDateTime(1795136400), 30"},
		{in: "$__timeInterval(t)", want: "toStartOfInterval(toDateTime(t), INTERVAL 30 second)"},
		{in: "${nope}", err: "unknown variable"},
		{in: "$__from", err: "unknown to this test's expander"},
		{in: "$__timeFilter_ms(t)", err: "unknown to this test's expander"},
		{in: "$__timeFilter()", err: "want one argument"},
		{in: "${model:csv}", err: "unknown to this test"},
		{in: "SELECT '$'", err: "left after expansion"},
	} {
		got, err := env.expand(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("expand(%q) = %q, %v; want an error containing %q", tc.in, got, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("expand(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestReadsLatest(t *testing.T) {
	for sql, ok := range map[string]bool{
		"SELECT * FROM drift_metrics FINAL WHERE 1":                             true,
		"SELECT * FROM drift_metrics_latest":                                    true,
		"SELECT x FROM (SELECT min(a) AS x FROM dead_letters FINAL)":            true,
		"SELECT argMax(value, inserted_at) FROM drift_metrics GROUP BY subject": true,
		"SELECT * FROM drift_metrics WHERE 1":                                   false,
		"SELECT x FROM (SELECT count() AS x FROM window_summaries) WHERE x > 0": false,
		"SELECT * FROM system.parts":                                            false,
		"SELECT * FROM alert_history FINAL JOIN baselines ON a = b":             false,
		"SELECT * FROM alert_history FINAL JOIN baselines FINAL ON a = b":       true,
		"SELECT 1": false,
	} {
		if got := readsLatest(sql) == ""; got != ok {
			t.Errorf("readsLatest(%q) = %q, want ok=%t", sql, readsLatest(sql), ok)
		}
	}
}

// The seeded data: the dashboard's time range, and the variable values the
// panels are run with.
var (
	rangeFrom = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	rangeTo   = rangeFrom.Add(24 * time.Hour)
	panelVars = map[string]string{"model": "fraud", "model_version": "1.4.2", "metric": "psi"}
)

func testEnv() grafanaEnv {
	return grafanaEnv{from: rangeFrom, to: rangeTo, interval: 5 * time.Minute, vars: panelVars}
}

// TestDashboard checks the dashboard without a server: its identity, its
// variables, that every panel has a query, and that every query expands and
// reads only the newest version of each row.
func TestDashboard(t *testing.T) {
	d := loadDashboard(t)
	if d.UID != "driftwatch" || d.Title == "" {
		t.Errorf("uid %q title %q, want uid driftwatch and a title", d.UID, d.Title)
	}
	if d.SchemaVersion < 36 {
		t.Errorf("schemaVersion %d, want 36 or later (Grafana 9+, plugin v4)", d.SchemaVersion)
	}
	vars := map[string]variable{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v
	}
	for _, name := range []string{"datasource", "model", "model_version", "metric"} {
		if _, ok := vars[name]; !ok {
			t.Errorf("no template variable %s", name)
		}
	}
	if v := vars["metric"].Current.Value; v != "psi" {
		t.Errorf("variable metric defaults to %v, want psi", v)
	}
	qs := collectQueries(t, d)
	seen := map[string]bool{}
	for _, q := range qs {
		if seen[q.name] {
			t.Errorf("two queries are named %q: give panels distinct titles", q.name)
		}
		seen[q.name] = true
		if _, ok := wantColumns[q.name]; !ok {
			t.Errorf("%s: no entry in wantColumns: add the columns its panel reads", q.name)
		}
		sql, err := testEnv().expand(q.sql)
		if err != nil {
			t.Errorf("%s: %v", q.name, err)
			continue
		}
		if why := readsLatest(sql); why != "" {
			t.Errorf("%s %s, so a retried write counts twice:\n%s", q.name, why, sql)
		}
	}
	for name := range wantColumns {
		if !seen[name] {
			t.Errorf("wantColumns has %q, which is no query of the dashboard", name)
		}
	}
	if !seen[driftScoreQuery] {
		t.Errorf("no query %q", driftScoreQuery)
	}
}

// freshDatabase creates an empty database for one test, drops it at the
// end, and returns the sink configuration that uses it and a plain
// connection to it; it skips the test (fails it in CI) when no server is
// configured.
func freshDatabase(t *testing.T) (chsink.Config, driver.Conn) {
	t.Helper()
	ch := testservers.ClickHouseServer(t)
	cfg := chsink.Config{
		Addr:                 ch.Addr,
		Database:             ch.CreateDatabase(t, "dwgrafana"),
		Username:             ch.User,
		Password:             chsink.Secret(ch.Password),
		DialTimeout:          5 * time.Second,
		CommitTimeout:        30 * time.Second,
		MigrationLockTimeout: 30 * time.Second,
	}
	return cfg, ch.Open(t, cfg.Database)
}

func openSink(t *testing.T, cfg chsink.Config) *chsink.Sink {
	t.Helper()
	s, err := chsink.Open(context.Background(), cfg, chsink.WithClock(testservers.StepClock()))
	if err != nil {
		t.Fatalf("open sink: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func commit(t *testing.T, s *chsink.Sink, rows []drift.Row) {
	t.Helper()
	a := s.Appender(context.Background())
	if err := a.Append(rows...); err != nil {
		t.Fatalf("append: %v", err)
	}
	if err := a.Commit(); err != nil {
		t.Fatalf("commit: %v", err)
	}
}

// modelWindows are the seeded windows of each model version: hourly,
// mostly inside [rangeFrom, rangeTo], one of fraud 1.4.2 before it.
var modelWindows = []struct {
	model, version string
	windows        []int // hours after rangeFrom
}{
	{"fraud", "1.4.2", []int{-12, 0, 1, 2, 3, 4, 5}},
	{"fraud", "1.4.1", []int{0, 1}},
	{"churn", "2.0.0", []int{2}},
}

type seedFeature struct {
	name    string
	numeric bool
}

var seedFeatures = []seedFeature{{"amount", true}, {"age", true}, {"country", false}}

// A rule per kind, as the default policy has them: numeric features by psi,
// categorical ones by jensen_shannon; tests are judged on their p-value.
var (
	numericMetrics     = []string{"psi", "ks", "jensen_shannon", "wasserstein", "hellinger"}
	categoricalMetrics = []string{"chi2", "psi", "jensen_shannon", "hellinger", "l_infinity"}
	metricThresholds   = map[string]float64{"psi": 0.2, "ks": 0.05, "chi2": 0.05, "jensen_shannon": 0.1, "wasserstein": 0.1, "hellinger": 0.1, "l_infinity": 0.1}
	testMetrics        = map[string]bool{"ks": true, "chi2": true}
)

// shift is how far subject's distribution moved in window i (hours after
// rangeFrom) of model version mv: amount drifts steadily from hour 3, country
// jumps at hour 4, the prediction at hour 5, age stays put.
func shift(mv, subject string, i int) float64 {
	if mv != "fraud/1.4.2" {
		return 0.02
	}
	switch subject {
	case "amount":
		return 0.04 + 0.07*float64(max(i, 0))
	case "country":
		if i == 4 {
			return 0.3
		}
	case "prediction":
		if i == 5 {
			return 0.45
		}
	}
	return 0.02
}

// metricRows returns the drift rows of one window, as the pipeline writes
// them (after alerts.Classify), labelled rows included (labelledRows).
// stale rows are an earlier, different version of the same keys: values,
// thresholds, verdicts and severities all differ, so a query that reads
// them instead of (or besides) the newest version gives a different
// answer.
func metricRows(model, version string, hour int, stale bool) []drift.Row {
	start := rangeFrom.Add(time.Duration(hour) * time.Hour)
	head := drift.Row{Model: model, ModelVersion: version, WindowStart: start, WindowEnd: start.Add(time.Hour),
		NCurrent: 5000, NReference: 100000, BaselineID: model + "-" + version + "-base", ThresholdSource: drift.SourceStatic}
	mv := model + "/" + version
	var rows []drift.Row
	add := func(family, subject, metric string, value float64, pValue *float64, threshold float64, drifted, primary bool) {
		r := head
		r.Family, r.Subject, r.Metric, r.Value, r.PValue, r.Threshold, r.Drifted = family, subject, metric, value, pValue, threshold, drifted
		switch {
		case !drifted:
		case primary:
			r.Severity = "SEV-3"
		default:
			r.Severity = "SEV-4"
		}
		if family == drift.FamilyPrediction && drifted {
			r.Severity = map[string]string{"psi": "SEV-1", "jensen_shannon": "SEV-2"}[metric]
			if r.Severity == "" {
				r.Severity = "SEV-4"
			}
		}
		if stale {
			r.Value += 0.5
			if r.Threshold > 0 {
				r.Threshold -= 0.05 // below the final one: min(threshold) over both versions differs
			}
			r.Drifted = !r.Drifted
			r.Severity = ""
			if r.Drifted {
				r.Severity = "SEV-1"
			}
		}
		rows = append(rows, r)
	}
	subject := func(family, name string, metrics []string, primary string) {
		s := shift(mv, name, hour)
		for _, m := range metrics {
			thr := metricThresholds[m]
			if testMetrics[m] {
				p := math.Exp(-40 * s)
				add(family, name, m, s/2, &p, thr, p < thr, m == primary)
				continue
			}
			v := s * map[string]float64{"psi": 1, "jensen_shannon": 0.5, "wasserstein": 0.8, "hellinger": 0.45, "l_infinity": 0.6}[m]
			add(family, name, m, v, nil, thr, v >= thr, m == primary)
		}
	}
	for _, f := range seedFeatures {
		n := len(rows)
		if f.numeric {
			subject(drift.FamilyData, f.name, numericMetrics, "psi")
		} else {
			subject(drift.FamilyData, f.name, categoricalMetrics, "jensen_shannon")
		}
		// Some windows too small to judge some subjects: age every third
		// hour in the final version, amount in the stale one, so that a
		// query reading both versions lists other subjects.
		short := map[bool]string{false: "age", true: "amount"}[stale]
		if f.name == short && hour%3 == 1 {
			for i := range rows[n:] {
				if r := &rows[n+i]; !r.Drifted && r.Metric != "psi" {
					r.ThresholdSource = drift.SourceInsufficient
				}
			}
		}
	}
	subject(drift.FamilyPrediction, "prediction", numericMetrics, "psi")
	for _, name := range []string{"amount", "age", "country", "prediction"} {
		rate := 0.01
		if mv == "fraud/1.4.2" && name == "age" && hour == 2 {
			rate = 0.2
		}
		add(drift.FamilyQuality, name, "null_rate", rate, nil, 0.11, rate > 0.11, false)
	}
	if mv == "fraud/1.4.2" && (hour == 2 || hour == 4) {
		add(drift.FamilyQuality, "*", "late_records", 7, nil, 0, true, false)
	}
	labelledRows(mv, hour, add, func() {
		r := &rows[len(rows)-1] // the row add just appended: reported without a verdict
		r.Threshold, r.ThresholdSource, r.NReference = 0, "", 0
	})
	return rows
}

// labelledRows adds, through add, the rows a window gets from its labels:
// label coverage, delays and drift (family label), performance and the
// error-stream detectors (family concept), and fairness by segment. After
// each row that is reported without a verdict (threshold_source empty) it
// calls unjudged. fraud 1.4.2's newest windows are still waiting for
// labels (coverage falls), its accuracy and recall fall below their floors
// from hour 4 and its gender gap breaches the limits at hour 5; fraud
// 1.4.1's baseline holds no scored outcomes (no floors), and churn's labels
// came with its records (no delays) and its fairness limits are not set.
func labelledRows(mv string, hour int, add func(family, subject, metric string, value float64, pValue *float64, threshold float64, drifted, primary bool), unjudged func()) {
	p := func(v float64) *float64 { return &v }
	coverage := 0.9
	if mv == "fraud/1.4.2" {
		coverage = max(0.9-0.15*float64(max(hour, 0)), 0.15)
	}
	add(drift.FamilyLabel, "label", "label_coverage", coverage, nil, 0, false, false)
	unjudged()
	if mv != "churn/2.0.0" {
		add(drift.FamilyLabel, "label", "label_delay_p50_s", 3600*float64(6+hour%3), nil, 0, false, false)
		unjudged()
		add(drift.FamilyLabel, "label", "label_delay_p95_s", 3600*float64(30+hour%5), nil, 0, false, false)
		unjudged()
	}
	add(drift.FamilyLabel, "label", "psi", 0.03, nil, 0.2, false, true)

	acc, prec, rec := 0.92, 0.81, 0.74
	if mv == "fraud/1.4.2" && hour >= 4 {
		acc, rec = 0.84, 0.55
	}
	for _, m := range []struct {
		metric     string
		value, ref float64
	}{{"accuracy", acc, 0.93}, {"precision", prec, 0.82}, {"recall", rec, 0.75}} {
		if mv == "fraud/1.4.1" {
			add(drift.FamilyConcept, "performance", m.metric, m.value, nil, 0, false, false)
			unjudged()
			continue
		}
		floor := m.ref - 0.05
		pv := 0.4
		if m.value < floor {
			pv = 0.001
		}
		add(drift.FamilyConcept, "performance", m.metric, m.value, p(pv), floor, pv < 0.05, m.metric == "accuracy")
	}
	add(drift.FamilyConcept, "performance", "f1", 2*prec*rec/(prec+rec), nil, 0, false, false)
	unjudged()
	for _, m := range []string{"adwin", "page_hinkley", "ddm"} {
		changes := 0.0
		if mv == "fraud/1.4.2" && hour == 4 && m != "page_hinkley" {
			changes = 1
		}
		add(drift.FamilyConcept, "error_stream", m, changes, nil, 0, changes > 0, false)
	}

	for _, attr := range []struct {
		name     string
		groups   [2]string
		sel, tpr [2]float64
	}{
		{"gender", [2]string{"f", "m"}, [2]float64{0.10, 0.12}, [2]float64{0.70, 0.75}},
		{"age_band", [2]string{"18-29", "30-39"}, [2]float64{0.11, 0.11}, [2]float64{0.72, 0.73}},
	} {
		if mv == "fraud/1.4.2" && hour == 5 && attr.name == "gender" {
			attr.sel, attr.tpr = [2]float64{0.04, 0.16}, [2]float64{0.50, 0.78}
		}
		for i, g := range attr.groups {
			add(drift.FamilyFairness, attr.name+"="+g, "selection_rate", attr.sel[i], nil, 0, false, false)
			unjudged()
			add(drift.FamilyFairness, attr.name+"="+g, "true_positive_rate", attr.tpr[i], nil, 0, false, false)
			unjudged()
		}
		lo, hi := min(attr.sel[0], attr.sel[1]), max(attr.sel[0], attr.sel[1])
		for _, m := range []struct {
			metric string
			value  float64
			limit  float64
			below  bool
		}{
			{"demographic_parity_diff", hi - lo, 0.1, false},
			{"disparate_impact", lo / hi, 0.8, true},
			{"equal_opportunity_diff", math.Abs(attr.tpr[0] - attr.tpr[1]), 0.1, false},
		} {
			if mv == "churn/2.0.0" {
				add(drift.FamilyFairness, attr.name, m.metric, m.value, nil, 0, false, false)
				unjudged()
				continue
			}
			drifted := m.value > m.limit
			if m.below {
				drifted = m.value < m.limit
			}
			add(drift.FamilyFairness, attr.name, m.metric, m.value, nil, m.limit, drifted, m.metric == "demographic_parity_diff")
		}
		change, pv := hi-lo-0.02, 0.5
		if change > 0.05 {
			pv = 0.01
		}
		add(drift.FamilyFairness, attr.name, "parity_diff_change", change, p(pv), 0.05, pv < 0.05, false)
	}
}

// seed writes the test data into the database of cfg: drift_metrics through
// the sink, one commit per window, and the other tables with PrepareBatch.
// With retried, every table gets a stale version of each row first and the
// final version after it (a larger inserted_at), with merges stopped so
// that both stay on disk while the test reads.
func seed(t *testing.T, retried bool) driver.Conn {
	t.Helper()
	cfg, conn := freshDatabase(t)
	s := openSink(t, cfg)
	ctx := context.Background()
	if retried {
		for _, table := range []string{"drift_metrics", "window_summaries", "baselines", "dead_letters", "alert_history"} {
			if err := conn.Exec(ctx, "SYSTEM STOP MERGES "+table); err != nil {
				t.Fatalf("stop merges of %s: %v", table, err)
			}
		}
	}
	versions := []bool{false}
	if retried {
		versions = []bool{true, false}
	}
	for _, stale := range versions {
		version := uint64(2_000_000_000)
		if stale {
			version = 1_000_000_000
		}
		var metrics, final []drift.Row
		for _, mw := range modelWindows {
			for _, h := range mw.windows {
				rows := metricRows(mw.model, mw.version, h, stale)
				commit(t, s, rows)
				metrics = append(metrics, rows...)
				final = append(final, metricRows(mw.model, mw.version, h, false)...)
			}
		}
		seedWindowSummaries(t, conn, metrics, stale, version)
		seedDeadLetters(t, conn, stale, version)
		seedBaselines(t, conn, stale, version)
		seedAlerts(t, conn, final, stale, version)
	}
	return conn
}

// insert appends rows to table's named columns in one batch.
func insert(t *testing.T, conn driver.Conn, table, columns string, rows [][]any) {
	t.Helper()
	ctx := context.Background()
	b, err := conn.PrepareBatch(ctx, "INSERT INTO "+table+" ("+columns+")")
	if err != nil {
		t.Fatalf("prepare insert into %s: %v", table, err)
	}
	defer b.Close()
	for _, r := range rows {
		if err := b.Append(r...); err != nil {
			t.Fatalf("append to %s: %v", table, err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatalf("insert %d rows into %s: %v", len(rows), table, err)
	}
}

func seedWindowSummaries(t *testing.T, conn driver.Conn, metrics []drift.Row, stale bool, version uint64) {
	t.Helper()
	type key struct {
		model, version string
		start          time.Time
	}
	type summary struct {
		end      time.Time
		baseline string
		subjects map[string]bool
		drifted  []string
		severity string
	}
	var order []key
	sums := map[key]*summary{}
	for _, r := range metrics {
		k := key{r.Model, r.ModelVersion, r.WindowStart}
		s := sums[k]
		if s == nil {
			s = &summary{end: r.WindowEnd, baseline: r.BaselineID, subjects: map[string]bool{}}
			sums[k] = s
			order = append(order, k)
		}
		if r.Family == drift.FamilyQuality {
			continue
		}
		subj := r.Family + "/" + r.Subject
		s.subjects[subj] = true
		if r.Drifted && !slices.Contains(s.drifted, subj) {
			s.drifted = append(s.drifted, subj)
		}
		if r.Severity != "" && (s.severity == "" || r.Severity < s.severity) {
			s.severity = r.Severity
		}
	}
	var rows [][]any
	for i, k := range order {
		s := sums[k]
		records, closed := int64(5000+100*i), s.end.Add(10*time.Minute)
		if stale {
			records, closed = 1, s.end.Add(5*time.Minute)
		}
		rows = append(rows, []any{k.model, k.version, k.start, s.end, s.baseline, records, uint32(len(s.subjects)), s.drifted, s.severity, closed, version})
	}
	insert(t, conn, "window_summaries", "model, model_version, window_start, window_end, baseline_id, records, subjects, drifted_subjects, max_severity, closed_at, inserted_at", rows)
}

func seedDeadLetters(t *testing.T, conn driver.Conn, stale bool, version uint64) {
	t.Helper()
	letters := []struct {
		partition int32
		offset    int64
		minutes   int // record time after rangeFrom
		reason    string
		model     string
	}{
		{0, 100, 10, "not_json", ""},
		{0, 101, 70, "missing_field", "fraud"},
		{1, 55, 75, "wrong_type", "fraud"},
		{1, 56, 200, "bad_timestamp", "fraud"},
		{1, 57, 203, "bad_timestamp", "fraud"},
		{2, 9, 80, "missing_field", "churn"},
		{2, 10, -20 * 60, "too_big", "fraud"},
	}
	var rows [][]any
	for _, l := range letters {
		at := rangeFrom.Add(time.Duration(l.minutes) * time.Minute)
		received, excerpt, size := at.Add(2*time.Second), `{"prediction_id": "p-`+strconv.FormatInt(l.offset, 10)+`"`, uint32(412)
		if stale {
			received, excerpt, size = at.Add(time.Second), "", 0
		}
		rows = append(rows, []any{"predictions", l.partition, l.offset, at, received, "predictions.dlq", l.reason, l.model, size, excerpt, version})
	}
	insert(t, conn, "dead_letters", "topic, kafka_partition, kafka_offset, record_time, received_at, dead_letter_topic, reason, model, size_bytes, excerpt, inserted_at", rows)
}

func seedBaselines(t *testing.T, conn driver.Conn, stale bool, version uint64) {
	t.Helper()
	var rows [][]any
	for i, mw := range modelWindows {
		features, refRows := uint32(len(seedFeatures)), int64(100000+1000*i)
		if stale {
			features, refRows = 0, 0
		}
		created := rangeFrom.Add(-time.Duration(48+24*i) * time.Hour)
		rows = append(rows, []any{mw.model + "-" + mw.version + "-base", mw.model, mw.version, created, "training.parquet", features, refRows, `{"features": []}`, version})
	}
	insert(t, conn, "baselines", "baseline_id, model, model_version, created_at, source, features, reference_rows, document, inserted_at", rows)
}

// seedAlerts records a firing alert for every row of final (the final
// version of the drift rows) whose severity pages or warns (SEV-1 to SEV-3);
// the stale version of each is a failed delivery.
func seedAlerts(t *testing.T, conn driver.Conn, final []drift.Row, stale bool, version uint64) {
	t.Helper()
	var rows [][]any
	for _, r := range final {
		if r.Severity == "" || r.Severity == "SEV-4" {
			continue
		}
		sent, delivered, errMsg := r.WindowEnd.Add(11*time.Minute), uint8(1), ""
		if stale {
			sent, delivered, errMsg = r.WindowEnd.Add(10*time.Minute), 0, "context deadline exceeded"
		}
		fp := fmt.Sprintf("%x", []byte(r.Model+"/"+r.ModelVersion+"/"+r.Family+"/"+r.Subject+"/"+r.Metric))
		rows = append(rows, []any{r.Model, r.ModelVersion, r.WindowStart, r.WindowEnd, r.Family, r.Subject, r.Metric,
			"firing", r.Severity, r.Value, r.Threshold, fp, "oncall", sent, delivered, errMsg, version})
	}
	insert(t, conn, "alert_history", "model, model_version, window_start, window_end, family, subject, metric, state, severity, value, threshold, fingerprint, receiver, sent_at, delivered, error_message, inserted_at", rows)
}

// result is what a query returned: its columns and its rows, each value
// formatted so that results compare exactly.
type result struct {
	columns []string
	types   []string
	rows    [][]string
}

func run(t *testing.T, conn driver.Conn, sql string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		t.Fatalf("query failed: %v\n%s", err, sql)
	}
	defer rows.Close()
	var res result
	cts := rows.ColumnTypes()
	for _, ct := range cts {
		res.columns = append(res.columns, ct.Name())
		res.types = append(res.types, ct.DatabaseTypeName())
	}
	for rows.Next() {
		dest := make([]any, len(cts))
		for i, ct := range cts {
			dest[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatalf("scan: %v\n%s", err, sql)
		}
		row := make([]string, len(dest))
		for i, d := range dest {
			row[i] = format(reflect.ValueOf(d).Elem())
		}
		res.rows = append(res.rows, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read rows: %v\n%s", err, sql)
	}
	return res
}

func format(v reflect.Value) string {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "NULL"
		}
		v = v.Elem()
	}
	switch x := v.Interface().(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

// TestIntegrationDashboardQueries runs every query of the dashboard on
// seeded data. Each must succeed, return its panel's columns and at least
// one row (time series sorted by a DateTime first column), and return the
// same result on a database where every row of every table was written
// twice, a stale version first, with merges stopped.
func TestIntegrationDashboardQueries(t *testing.T) {
	qs := collectQueries(t, loadDashboard(t))
	once := seed(t, false)
	retried := seed(t, true)
	ctx := context.Background()
	checkDuplicates := func(when string) {
		for _, table := range []string{"drift_metrics", "window_summaries", "baselines", "dead_letters", "alert_history"} {
			var raw, final uint64
			if err := retried.QueryRow(ctx, "SELECT count() FROM "+table).Scan(&raw); err != nil {
				t.Fatal(err)
			}
			if err := retried.QueryRow(ctx, "SELECT count() FROM "+table+" FINAL").Scan(&final); err != nil {
				t.Fatal(err)
			}
			if final == 0 || raw != 2*final {
				t.Fatalf("%s: %s holds %d rows, %d after FINAL; want every row twice, or the retried check proves nothing", when, table, raw, final)
			}
		}
	}
	checkDuplicates("before the queries")
	env := testEnv()
	for _, q := range qs {
		t.Run(q.name, func(t *testing.T) {
			sql, err := env.expand(q.sql)
			if err != nil {
				t.Fatal(err)
			}
			got := run(t, once, sql)
			if want := wantColumns[q.name]; !slices.Equal(got.columns, want) {
				t.Errorf("columns %v, want %v", got.columns, want)
			}
			if len(got.rows) == 0 {
				t.Fatalf("no rows on the seeded data:\n%s", sql)
			}
			t.Logf("%d rows; first %v", len(got.rows), got.rows[0])
			if q.timeSeries {
				if !strings.HasPrefix(got.types[0], "DateTime") {
					t.Errorf("time series whose first column %s is %s, want a DateTime", got.columns[0], got.types[0])
				}
				for i := 1; i < len(got.rows); i++ {
					if got.rows[i][0] < got.rows[i-1][0] {
						t.Errorf("time series not sorted by time: row %d %v after %v", i, got.rows[i], got.rows[i-1])
						break
					}
				}
			}
			if name, ok := strings.CutPrefix(q.name, "variable "); ok {
				if v, used := panelVars[name]; used && !slices.ContainsFunc(got.rows, func(r []string) bool { return r[0] == v }) {
					t.Errorf("variable %s offers %v, not the seeded %q", name, got.rows, v)
				}
			}
			if again := run(t, retried, sql); !reflect.DeepEqual(again.rows, got.rows) {
				t.Errorf("rows written twice (a stale version, then the final one) change the result:\nonce:    %v\nretried: %v\n%s", got.rows, again.rows, sql)
			}
		})
	}
	checkDuplicates("after the queries")
}

// TestIntegrationDriftScoreRetriedCommit commits one window's rows, then
// the same rows again (a retried commit: later inserted_at), and checks
// that the drift score panel shows each feature's score once. The same
// query without FINAL shows them twice, so the check can fail.
func TestIntegrationDriftScoreRetriedCommit(t *testing.T) {
	var sqlTemplate string
	for _, q := range collectQueries(t, loadDashboard(t)) {
		if q.name == driftScoreQuery {
			sqlTemplate = q.sql
		}
	}
	sql, err := testEnv().expand(sqlTemplate)
	if err != nil {
		t.Fatalf("%s: %v", driftScoreQuery, err)
	}
	cfg, conn := freshDatabase(t)
	s := openSink(t, cfg)
	ctx := context.Background()
	if err := conn.Exec(ctx, "SYSTEM STOP MERGES drift_metrics"); err != nil {
		t.Fatal(err)
	}
	rows := metricRows("fraud", "1.4.2", 3, false)
	commit(t, s, rows)
	once := run(t, conn, sql)
	if want := len(seedFeatures); len(once.rows) != want {
		t.Fatalf("written once: %d rows %v, want one per feature (%d)", len(once.rows), once.rows, want)
	}

	commit(t, s, rows)
	var raw uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM drift_metrics").Scan(&raw); err != nil {
		t.Fatal(err)
	}
	wantRaw := 2 * len(rows)
	if s.Features().InsertDedupToken {
		wantRaw = len(rows) // the identical retry is dropped at insert
	}
	if raw != uint64(wantRaw) {
		t.Fatalf("drift_metrics holds %d rows after the retried commit, want %d", raw, wantRaw)
	}
	if twice := run(t, conn, sql); !reflect.DeepEqual(twice.rows, once.rows) {
		t.Errorf("written twice: %v\nwant the once-written %v", twice.rows, once.rows)
	}
	if wantRaw == 2*len(rows) {
		noFinal := strings.Replace(sql, "drift_metrics FINAL", "drift_metrics", 1)
		if got := run(t, conn, noFinal); len(got.rows) != 2*len(once.rows) {
			t.Errorf("without FINAL: %d rows, want %d (the duplicates this test guards against)", len(got.rows), 2*len(once.rows))
		}
	}
}
