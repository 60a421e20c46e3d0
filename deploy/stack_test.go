package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"gopkg.in/yaml.v3"

	"github.com/driftwatch/driftwatch/internal/cli"
	"github.com/driftwatch/driftwatch/internal/synth"
	"github.com/driftwatch/driftwatch/internal/testservers"
)

// TestStackFromServerScripts runs on the servers that deploy/servers/*.sh
// start (make test; no container runtime runs here):
//
//	make servers-up
//	eval "$(for s in clickhouse kafka alertmanager; do bash deploy/servers/$s.sh env; done)"
//	go test -run TestStackFromServerScripts ./deploy/
//
// It works in a Kafka topic, group and ClickHouse database of its own,
// removed at the end, under a model name of its own (the Alertmanager is
// shared), with a Prometheus of its own.

const (
	prometheusDashboardFile = "grafana/driftwatch-prometheus.json"
	// stackPartitions is the predictions topic's partitions, the Compose
	// broker's KAFKA_NUM_PARTITIONS.
	stackPartitions = 3
	// stackWindows of stackRecords records each, drift from window
	// stackDriftFrom on; the stream is sent in two parts (windows before
	// the drift, then the rest), each closing all but its last window,
	// so that the second closes two drifted windows.
	stackWindows, stackRecords, stackDriftFrom = 6, 1000, 3
	// stackWait bounds waiting for one thing: a window in the API, a
	// figure in Prometheus (which scrapes every 15 s, as configured).
	stackWait = 45 * time.Second
)

// TestStackFromServerScripts is issue 17's stack without containers: the
// Compose stack's own configurations (compose/driftwatch.yml,
// prometheus/prometheus.yml), with only the services' addresses moved to
// the test servers and free loopback ports, the baselines directory to a
// temporary one, and topics, group and database to ones of this test's.
// `driftwatch run` consumes a stream that drifts partway from the real
// Kafka broker into the real ClickHouse; a real Prometheus scrapes it.
//
// Before the drift, every verdict gauge in Prometheus is 0; after it, the
// gauges are 1 for exactly the features the generator drifted, and the
// API's verdict lists them. Every query of the Prometheus dashboard
// (driftwatch-prometheus.json, what Grafana's panels ask) is accepted, the
// variables' and the verdict row's with data. The API's metric rows hold
// drift verdicts on exactly those features in the drifted windows and on
// none in the others, its verdicts list what its rows say drifted, and
// the drift rule's alerts about those features reach the Alertmanager.
// The model's name, unique per run, seeds the generator: each run draws
// another stream, and the checks hold for any.
func TestStackFromServerScripts(t *testing.T) {
	brokers := strings.Split(testservers.KafkaEnv(t, testservers.KafkaGate), ",")
	ch := testservers.ClickHouseServer(t)
	amURL := testservers.AlertmanagerURL(t)
	testservers.Prometheus(t) // skip before anything is created
	dir := t.TempDir()

	model := testservers.UniqueName(t, "fraud")
	scen := synth.Demo(time.Now().Add(-48 * time.Hour)) // hourly windows, as windows.size's default; past, as max_future wants
	scen.Models = scen.Models[:1]
	scen.Models[0].Name = model
	scen.Windows, scen.RecordsPerWindow, scen.BadRate, scen.DuplicateRate = stackWindows, stackRecords, 0, 0
	for i := range scen.Models[0].Drifts {
		scen.Models[0].Drifts[i].FromWindow = stackDriftFrom
	}
	version := scen.Models[0].Version
	injected := scen.Expected()[model]
	if len(injected) == 0 {
		t.Fatal("the scenario drifts nothing")
	}
	windowStart := func(w int) time.Time { return scen.Start.Add(time.Duration(w) * scen.Window) }

	// driftwatch.yml: the Compose file, its services here.
	s := &stack{t: t, httpAddr: freeLoopbackAddr(t)}
	dw := readYAMLDoc(t, composeConfigFile)
	topic, dlq := testservers.UniqueName(t, "predictions"), testservers.UniqueName(t, "predictions-dlq")
	labels, labelsDLQ := testservers.UniqueName(t, "labels"), testservers.UniqueName(t, "labels-dlq")
	group := testservers.UniqueName(t, "group")
	database := ch.CreateDatabase(t, "stack")
	baseDir := filepath.Join(dir, "baselines")
	onService(t, "kafka", replace(t, composeConfigFile, dw, "kafka.brokers", brokers))
	replace(t, composeConfigFile, dw, "kafka.topic", topic)
	replace(t, composeConfigFile, dw, "kafka.dead_letter_topic", dlq)
	replace(t, composeConfigFile, dw, "kafka.group", group)
	replace(t, composeConfigFile, dw, "labels.topic", labels)
	replace(t, composeConfigFile, dw, "labels.dead_letter_topic", labelsDLQ)
	onService(t, "alertmanager", replace(t, composeConfigFile, dw, "alerts.alertmanager.urls", []string{amURL}))
	replace(t, composeConfigFile, dw, "baselines.dir", baseDir)
	onService(t, "clickhouse", replace(t, composeConfigFile, dw, "sinks.clickhouse.addr", ch.Addr))
	replace(t, composeConfigFile, dw, "sinks.clickhouse.database", database)
	replace(t, composeConfigFile, dw, "sinks.clickhouse.username", ch.User)
	passwordEnv, _ := lookup(t, composeConfigFile, dw, "sinks.clickhouse.password_env").(string)
	if passwordEnv == "" {
		t.Fatalf("%s: sinks.clickhouse.password_env is not a variable name", composeConfigFile)
	}
	t.Setenv(passwordEnv, ch.Password)
	_, metricsPort, err := net.SplitHostPort(replace(t, composeConfigFile, dw, "http.listen", s.httpAddr).(string))
	if err != nil {
		t.Fatalf("%s: http.listen: %v", composeConfigFile, err)
	}
	cfgPath := filepath.Join(dir, "driftwatch.yml")
	writeYAMLDoc(t, cfgPath, dw)

	// prometheus.yml: the Compose file, its services here, beside the
	// rules it loads (Compose mounts both into /etc/prometheus).
	prom := readYAMLDoc(t, prometheusFile)
	promDir := filepath.Join(dir, "prometheus")
	if err := os.Mkdir(promDir, 0o755); err != nil {
		t.Fatal(err)
	}
	am, err := url.Parse(amURL)
	if err != nil {
		t.Fatalf("DRIFTWATCH_ALERTMANAGER_URL %q: %v", amURL, err)
	}
	onService(t, "alertmanager", replace(t, prometheusFile, prom, "alerting.alertmanagers.0.static_configs.0.targets", []string{am.Host}))
	if job := lookup(t, prometheusFile, prom, "scrape_configs.0.job_name"); job != "driftwatch" {
		t.Fatalf("%s: the first scrape config is job %v, want driftwatch (the job the rules select)", prometheusFile, job)
	}
	old := replace(t, prometheusFile, prom, "scrape_configs.0.static_configs.0.targets", []string{s.httpAddr})
	onService(t, "driftwatch", old)
	if !slices.Equal(stringsOf(t, old), []string{"driftwatch:" + metricsPort}) {
		t.Fatalf("%s scrapes %v, but driftwatch listens on port %s (%s http.listen)", prometheusFile, old, metricsPort, composeConfigFile)
	}
	for _, rules := range stringsOf(t, lookup(t, prometheusFile, prom, "rule_files")) {
		copyFile(t, filepath.Join(filepath.Dir(prometheusFile), rules), filepath.Join(promDir, rules))
	}
	promCfg := filepath.Join(promDir, "prometheus.yml")
	writeYAMLDoc(t, promCfg, prom)

	// Baseline, topics, the stream's first part.
	var ref bytes.Buffer
	if err := scen.Reference(model, 5000, &ref); err != nil {
		t.Fatal(err)
	}
	refPath := filepath.Join(dir, "reference.jsonl")
	if err := os.WriteFile(refPath, ref.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var baseErr bytes.Buffer
	if code := cli.Main(context.Background(), []string{"baseline", "--model", model, "--input", refPath, "--out", baseDir}, io.Discard, &baseErr); code != 0 {
		t.Fatalf("driftwatch baseline: exit %d\n%s", code, baseErr.String())
	}
	prod, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	testservers.CreateTopics(t, prod, stackPartitions, topic)
	testservers.CreateTopics(t, prod, 1, dlq, labels, labelsDLQ)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if resp, err := kadm.NewClient(prod).DeleteGroups(ctx, group); err != nil || resp.Error() != nil {
			t.Logf("delete group %s: %v %v", group, err, resp.Error())
		}
	})
	produce := func(from, to int) {
		t.Helper()
		var recs []*kgo.Record
		if err := scen.Generate(func(m synth.Message) error {
			if m.Window >= from && m.Window < to {
				recs = append(recs, &kgo.Record{Topic: topic, Key: m.Key, Value: m.Value})
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatalf("produce windows %d to %d to %s: %v", from, to-1, topic, err)
		}
	}
	produce(0, stackDriftFrom)

	s.startRun(cfgPath)
	s.prom = testservers.StartPrometheus(t, promCfg)

	// Before the drift: windows 0 to stackDriftFrom-2 closed, every
	// verdict gauge 0 (the API's verdict is checked against the rows
	// below).
	features := make([]string, 0, len(scen.Models[0].Features))
	for _, f := range scen.Models[0].Features {
		features = append(features, f.Name)
	}
	s.waitWindow(model, version, windowStart(stackDriftFrom-2), stackDriftFrom-1)
	clean := s.verdict(model)
	if clean.Records != stackRecords {
		t.Errorf("window %s: %d records, want %d", clean.WindowStart, clean.Records, stackRecords)
	}
	s.waitVerdicts(model, features, nil)

	// After: windows up to stackWindows-2 closed, the last two with the
	// drift (the drift rule's alert waits for two windows).
	produce(stackDriftFrom, stackWindows)
	s.waitWindow(model, version, windowStart(stackWindows-2), stackWindows-1)
	drifted := s.verdict(model)
	if missing := without(injected, drifted.DriftedSubjects); len(missing) > 0 || !isVerdictSeverity(drifted.MaxSeverity) {
		t.Errorf("window %s, drifted: drifted subjects %v (%v missing), worst severity %q; want %v among them, SEV-3 or worse",
			drifted.WindowStart, drifted.DriftedSubjects, missing, drifted.MaxSeverity, injected)
	}
	s.waitVerdicts(model, features, injected)
	s.checkDashboard(model, version)
	s.checkPrometheusWiring(am.Host)

	// Every closed window's rows: drift verdicts (family data, SEV-1 to
	// SEV-3: a feature's deciding metric) on exactly the injected features
	// in the drifted windows, none before; the subjects of all features
	// together (*multivariate) none before, and not judged after (whether
	// the injected shifts move the joint rows past its threshold is the
	// scenario's, not the test's). The API's verdicts list the
	// subjects of their window's drifted rows of any family and severity:
	// before the drift those are false alarms (secondary tests at 5% are
	// SEV-4; fairness and prediction rates are tests too), after it they
	// include every injected feature.
	var rows []struct {
		WindowStart time.Time `json:"window_start"`
		Family      string    `json:"family"`
		Subject     string    `json:"subject"`
		Drifted     bool      `json:"drifted"`
		Severity    string    `json:"severity"`
	}
	if code, err := getJSON(s.api("/rows?model="+url.QueryEscape(model)), &rows); err != nil || code != http.StatusOK {
		t.Fatalf("rows: %d %v", code, err)
	}
	type set = map[string]bool
	verdicts, listed := map[int]set{}, map[int]set{} // by window: features with a drift verdict, subjects of drifted rows
	for _, r := range rows {
		w := int(r.WindowStart.Sub(scen.Start) / scen.Window)
		if listed[w] == nil {
			listed[w], verdicts[w] = set{}, set{}
		}
		if r.Drifted {
			listed[w][r.Subject] = true
		}
		if r.Drifted && r.Family == "data" && isVerdictSeverity(r.Severity) {
			verdicts[w][r.Subject] = true
		}
	}
	for w := range stackWindows - 1 {
		want := []string{}
		if w >= stackDriftFrom {
			want = injected
		}
		if listed[w] == nil {
			t.Errorf("window %d: no rows", w)
		} else if got := slices.Sorted(maps.Keys(verdicts[w])); !slices.Equal(withoutJoint(got, w >= stackDriftFrom), want) {
			t.Errorf("window %d: drift verdicts on %v, want %v", w, got, want)
		}
	}
	// The gauge counts the newest window's drifted subjects.
	newest := verdicts[stackWindows-2]
	if got := s.query(fmt.Sprintf(`driftwatch_drifted_subjects{model=%q,family="data"}`, model)); len(got) != 1 || got[0].Value != float64(len(newest)) {
		t.Errorf("driftwatch_drifted_subjects of family data: %+v, want %d (%v)", got, len(newest), slices.Sorted(maps.Keys(newest)))
	}
	for _, v := range []apiVerdict{clean, drifted} {
		w := int(v.WindowStart.Sub(scen.Start) / scen.Window)
		if got, want := slices.Sorted(slices.Values(v.DriftedSubjects)), slices.Sorted(maps.Keys(listed[w])); !slices.Equal(got, want) {
			t.Errorf("window %d: the API's verdict lists %v, its drifted rows are about %v", w, got, want)
		}
	}

	// driftwatch's own alerts reached the Alertmanager: the drift rule's
	// (two drifted windows) about the injected features.
	s.waitFor("DriftwatchDrift alerts of "+model+" in Alertmanager", func() (bool, string) {
		var drift []string
		for _, a := range testservers.AlertmanagerAlerts(t, amURL, map[string]string{"model": model, "alertname": "DriftwatchDrift", "family": "data"}) {
			drift = append(drift, a.Labels["subject"])
		}
		slices.Sort(drift)
		return slices.Equal(withoutJoint(drift, true), injected), fmt.Sprint(drift)
	})
}

// withoutJoint returns subjects without those of all features together
// ("*multivariate") when all is set.
func withoutJoint(subjects []string, all bool) []string {
	if !all {
		return subjects
	}
	return slices.DeleteFunc(slices.Clone(subjects), func(s string) bool { return strings.HasPrefix(s, "*") })
}

// stack is the test's `driftwatch run` and Prometheus.
type stack struct {
	t        *testing.T
	httpAddr string // driftwatch's http.listen
	prom     string // Prometheus's base URL
	log      lockedBuffer
	done     chan int // run's exit code
}

// startRun runs `driftwatch run --config cfg` in process until the test
// ends; it must then exit 0.
func (s *stack) startRun(cfg string) {
	t := s.t
	ctx, cancel := context.WithCancel(context.Background())
	s.done = make(chan int, 1)
	go func() { s.done <- cli.Main(ctx, []string{"run", "--config", cfg}, io.Discard, &s.log) }()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-s.done:
			if code != 0 {
				t.Errorf("driftwatch run exited %d:\n%s", code, s.log.String())
			}
		case <-time.After(30 * time.Second):
			t.Errorf("driftwatch run did not return within 30 s of its context's end")
		}
	})
}

// waitFor polls cond every 100 ms until it holds, failing the test after
// stackWait with what cond last said, or at once when run exits.
func (s *stack) waitFor(what string, cond func() (bool, string)) {
	s.t.Helper()
	deadline := time.Now().Add(stackWait)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s: not within %v; last seen: %s\ndriftwatch run's log:\n%s", what, stackWait, state, s.log.String())
		}
		select {
		case code := <-s.done:
			s.done <- code // for the cleanup
			s.t.Fatalf("%s: driftwatch run exited %d:\n%s", what, code, s.log.String())
		case <-time.After(100 * time.Millisecond): // poll until the event
		}
	}
}

func (s *stack) api(path string) string { return "http://" + s.httpAddr + "/api/v1" + path }

// apiVerdict is a Verdict of internal/api/openapi.yaml.
type apiVerdict struct {
	ModelVersion    string    `json:"model_version"`
	WindowStart     time.Time `json:"window_start"`
	Records         int64     `json:"records"`
	DriftedSubjects []string  `json:"drifted_subjects"`
	MaxSeverity     string    `json:"max_severity"`
}

// waitWindow waits until GET /verdicts/{model} has version's newest window
// at start and GET /models counts windows committed windows of it.
func (s *stack) waitWindow(model, version string, start time.Time, windows int) {
	s.t.Helper()
	s.waitFor(fmt.Sprintf("window %s of %s %s in the API", start.Format(time.RFC3339), model, version), func() (bool, string) {
		var vs []apiVerdict
		if code, err := getJSON(s.api("/verdicts/"+url.PathEscape(model)), &vs); err != nil || code != http.StatusOK {
			return false, fmt.Sprintf("verdicts: %d %v", code, err)
		}
		if len(vs) != 1 || vs[0].ModelVersion != version || !vs[0].WindowStart.Equal(start) {
			return false, fmt.Sprintf("verdicts %+v", vs)
		}
		var models []struct {
			Model    string `json:"model"`
			Versions []struct {
				Version     string    `json:"version"`
				FirstWindow time.Time `json:"first_window"`
				LastWindow  time.Time `json:"last_window"`
				Windows     int       `json:"windows"`
			} `json:"versions"`
		}
		if code, err := getJSON(s.api("/models"), &models); err != nil || code != http.StatusOK {
			return false, fmt.Sprintf("models: %d %v", code, err)
		}
		if len(models) != 1 || models[0].Model != model || len(models[0].Versions) != 1 {
			return false, fmt.Sprintf("models %+v", models)
		}
		mv := models[0].Versions[0]
		return mv.Version == version && mv.LastWindow.Equal(start) && mv.Windows == windows, fmt.Sprintf("models %+v", models)
	})
}

// verdict is the model's one verdict from GET /verdicts/{model}.
func (s *stack) verdict(model string) apiVerdict {
	s.t.Helper()
	var vs []apiVerdict
	if code, err := getJSON(s.api("/verdicts/"+url.PathEscape(model)), &vs); err != nil || code != http.StatusOK || len(vs) != 1 {
		s.t.Fatalf("verdicts of %s: %d %v %+v", model, code, err, vs)
	}
	return vs[0]
}

// waitVerdicts waits until Prometheus has driftwatch_drift_verdict of
// family data for each of features of model, 1 for those of drifted and 0
// for the others; the subjects of all features together (*multivariate)
// must be 0 when none drifted, and are not judged after (their verdict
// depends on how the injected drift moves the features' joint rows).
func (s *stack) waitVerdicts(model string, features, drifted []string) {
	s.t.Helper()
	want := map[string]float64{}
	for _, f := range features {
		want[f] = 0
	}
	for _, f := range drifted {
		want[f] = 1
	}
	q := fmt.Sprintf(`driftwatch_drift_verdict{model=%q,family="data"}`, model)
	s.waitFor(fmt.Sprintf("Prometheus: %s with %v drifted", q, drifted), func() (bool, string) {
		got, err := testservers.QueryPrometheus(s.prom, q)
		if err != nil {
			return false, err.Error()
		}
		have := map[string]float64{}
		for _, g := range got {
			subject := g.Metric["subject"]
			if strings.HasPrefix(subject, "*") { // the window's rows of all features together (*multivariate)
				if len(drifted) == 0 && g.Value != 0 {
					return false, fmt.Sprintf("%s drifted before the drift", subject)
				}
				continue
			}
			have[subject] = g.Value
		}
		if len(have) != len(want) {
			up, err := testservers.QueryPrometheus(s.prom, `up{job="driftwatch"}`)
			return false, fmt.Sprintf("%v (up: %+v %v)", have, up, err)
		}
		for f, v := range want {
			if x, ok := have[f]; !ok || x != v {
				return false, fmt.Sprint(have)
			}
		}
		return true, ""
	})
}

// checkPrometheusWiring: Prometheus loaded the rules prometheus.yml names
// and sends alerts to the Alertmanager at amHost.
func (s *stack) checkPrometheusWiring(amHost string) {
	t := s.t
	t.Helper()
	var rules struct {
		Data struct {
			Groups []struct {
				File  string `json:"file"`
				Rules []any  `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if code, err := getJSON(s.prom+"/api/v1/rules", &rules); err != nil {
		t.Fatalf("Prometheus rules: %d %v", code, err)
	}
	loaded := 0
	for _, g := range rules.Data.Groups {
		if filepath.Base(g.File) == filepath.Base(rulesFile) {
			loaded += len(g.Rules)
		}
	}
	if loaded == 0 {
		t.Errorf("Prometheus loaded no rule of %s: %+v", rulesFile, rules.Data.Groups)
	}
	s.waitFor("the Alertmanager among Prometheus's active ones", func() (bool, string) {
		var ams struct {
			Data struct {
				Active []struct {
					URL string `json:"url"`
				} `json:"activeAlertmanagers"`
			} `json:"data"`
		}
		if code, err := getJSON(s.prom+"/api/v1/alertmanagers", &ams); err != nil {
			return false, fmt.Sprintf("%d %v", code, err)
		}
		for _, a := range ams.Data.Active {
			if u, err := url.Parse(a.URL); err == nil && u.Host == amHost {
				return true, ""
			}
		}
		return false, fmt.Sprint(ams.Data.Active)
	})
}

// query runs a PromQL query that must succeed.
func (s *stack) query(q string) []testservers.PromSample {
	s.t.Helper()
	got, err := testservers.QueryPrometheus(s.prom, q)
	if err != nil {
		s.t.Fatal(err)
	}
	return got
}

// checkDashboard runs every query of the Prometheus dashboard, its
// variables expanded as Grafana expands them for model and version: each
// must be accepted, and the variables' and the verdict row's panels must
// have data.
func (s *stack) checkDashboard(model, version string) {
	t := s.t
	t.Helper()
	var d struct {
		Panels []struct {
			Type    string `json:"type"`
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Type  string `json:"type"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	b, err := os.ReadFile(prometheusDashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", prometheusDashboardFile, err)
	}
	// A multi-value variable is regex-escaped inside the PromQL string, as
	// Grafana's Prometheus data source does: 1.4.2 becomes 1\\.4\\.2.
	vars := strings.NewReplacer("$model_version", strings.ReplaceAll(regexp.QuoteMeta(version), `\`, `\\`), "$model", model)
	type query struct {
		what, expr string
		data       bool // must return series
	}
	var queries []query
	for _, v := range d.Templating.List {
		if q, ok := v.Query.(map[string]any); ok && v.Type == "query" {
			// label_values(selector, label) is Grafana's: Prometheus
			// answers the selector.
			m := regexp.MustCompile(`^label_values\((.*), *\w+\)$`).FindStringSubmatch(fmt.Sprint(q["query"]))
			if m == nil {
				t.Fatalf("%s: variable %s: query %v is not label_values(selector, label)", prometheusDashboardFile, v.Name, q["query"])
			}
			queries = append(queries, query{"variable " + v.Name, vars.Replace(m[1]), true})
		}
	}
	row, verdictPanels := "", 0
	for _, p := range d.Panels {
		if p.Type == "row" {
			row = p.Title
			continue
		}
		verdicts := strings.HasPrefix(row, "Verdicts")
		if verdicts {
			verdictPanels++
		}
		for _, tg := range p.Targets {
			queries = append(queries, query{fmt.Sprintf("panel %q (row %q)", p.Title, row), vars.Replace(tg.Expr), verdicts})
		}
	}
	if verdictPanels == 0 || len(queries) < 10 {
		t.Fatalf("%s: %d queries, %d panels in a row \"Verdicts...\": not the dashboard this test knows", prometheusDashboardFile, len(queries), verdictPanels)
	}
	for _, q := range queries {
		got, err := testservers.QueryPrometheus(s.prom, q.expr)
		switch {
		case err != nil:
			t.Errorf("%s: %v", q.what, err)
		case q.data && len(got) == 0:
			t.Errorf("%s: no data from %s", q.what, q.expr)
		case len(got) == 0:
			t.Logf("%s: no data yet from %s", q.what, q.expr)
		}
	}
}

// getJSON GETs u and decodes a 200 answer into v; it returns the status.
func getJSON(u string, v any) (int, error) {
	cl := http.Client{Timeout: 10 * time.Second}
	resp, err := cl.Get(u)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, fmt.Errorf("GET %s: read body: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, fmt.Errorf("GET %s: %s: %s", u, resp.Status, bytes.TrimSpace(body))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return resp.StatusCode, fmt.Errorf("GET %s: decode %s: %w", u, body, err)
	}
	return resp.StatusCode, nil
}

// isVerdictSeverity reports whether a severity is a verdict's, SEV-1 to
// SEV-3 (SEV-4 rows are secondary tests at 5%, which false-alarm by design).
func isVerdictSeverity(s string) bool { return s == "SEV-1" || s == "SEV-2" || s == "SEV-3" }

// without is the elements of a that are not in b.
func without(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// readYAMLDoc decodes a YAML file into maps and lists.
func readYAMLDoc(t *testing.T, file string) map[string]any {
	t.Helper()
	var doc map[string]any
	loadYAML(t, file, &doc)
	return doc
}

func writeYAMLDoc(t *testing.T, file string, doc map[string]any) {
	t.Helper()
	b, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// lookup returns the value at path in doc: keys of mappings and indexes of
// lists, separated by dots. A path that leads nowhere fails the test: the
// file no longer has what the test rewrites.
func lookup(t *testing.T, file string, doc map[string]any, path string) any {
	t.Helper()
	parent, key := walk(t, file, doc, path)
	switch p := parent.(type) {
	case map[string]any:
		return p[key]
	case []any:
		i, _ := strconv.Atoi(key)
		return p[i]
	}
	panic("walk returned neither a mapping nor a list")
}

// replace sets the value at path (as in lookup) to v and returns the value
// it had.
func replace(t *testing.T, file string, doc map[string]any, path string, v any) any {
	t.Helper()
	old := lookup(t, file, doc, path)
	parent, key := walk(t, file, doc, path)
	switch p := parent.(type) {
	case map[string]any:
		p[key] = v
	case []any:
		i, _ := strconv.Atoi(key)
		p[i] = v
	}
	return old
}

// walk returns the mapping or list that holds path's last element, and
// that element, failing the test when any element of path is missing.
func walk(t *testing.T, file string, doc map[string]any, path string) (any, string) {
	t.Helper()
	keys := strings.Split(path, ".")
	var node any = doc
	for i, k := range keys {
		missing := func() {
			t.Helper()
			t.Fatalf("%s has no %s (at %q): the stack's configuration changed; change what TestStackFromServerScripts rewrites with it",
				file, path, strings.Join(keys[:i+1], "."))
		}
		var next any
		switch n := node.(type) {
		case map[string]any:
			v, ok := n[k]
			if !ok {
				missing()
			}
			next = v
		case []any:
			j, err := strconv.Atoi(k)
			if err != nil || j < 0 || j >= len(n) {
				missing()
			}
			next = n[j]
		default:
			missing()
		}
		if i == len(keys)-1 {
			return node, k
		}
		node = next
	}
	panic("empty path")
}

// stringsOf is v, a string or a list of strings, as a list.
func stringsOf(t *testing.T, v any) []string {
	t.Helper()
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			s, ok := x.(string)
			if !ok {
				t.Fatalf("%v: %v is not a string", v, x)
			}
			out = append(out, s)
		}
		return out
	}
	t.Fatalf("%v (%T) is neither a string nor a list of strings", v, v)
	return nil
}

// onService fails the test unless each address of old (host:port or a
// URL) is on the Compose service of that name: the value the test
// replaced was the service's address, not something else.
func onService(t *testing.T, service string, old any) {
	t.Helper()
	addrs := stringsOf(t, old)
	if len(addrs) == 0 {
		t.Fatalf("no address of %s to replace", service)
	}
	for _, a := range addrs {
		hostPort := a
		if u, err := url.Parse(a); err == nil && u.Host != "" {
			hostPort = u.Host
		}
		if h, _, err := net.SplitHostPort(hostPort); err != nil || h != service {
			t.Fatalf("%q is not an address of the Compose service %s", a, service)
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// lockedBuffer is a bytes.Buffer safe for concurrent use: run writes its
// log while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
