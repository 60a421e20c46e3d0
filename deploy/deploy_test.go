package deploy

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/driftwatch/driftwatch/internal/testservers"
)

// The integration test (TestInhibitRules) runs against the server that
// deploy/servers/alertmanager.sh starts:
//
//	bash deploy/servers/alertmanager.sh start
//	eval "$(bash deploy/servers/alertmanager.sh env)"
//	go test ./deploy/
//
// It posts alerts with model names of its own and resolves them at the end.

const (
	alertmanagerFile     = "alertmanager.yml"
	alertmanagerTestFile = "servers/alertmanager-test.yml"
	rulesFile            = "prometheus/driftwatch-rules.yml"
	rulesTestFile        = "prometheus/driftwatch-rules.test.yml"
	metricsSource        = "../internal/pipeline/metrics.go"
)

// TestAlertmanagerConfigs: amtool (Alertmanager 0.25's, from the package
// alertmanager.sh installs) accepts both configurations.
func TestAlertmanagerConfigs(t *testing.T) {
	amtool := testservers.Amtool(t)
	for _, file := range []string{alertmanagerFile, alertmanagerTestFile} {
		out, err := exec.Command(amtool, "check-config", file).CombinedOutput()
		if err != nil {
			t.Errorf("amtool check-config %s: %v\n%s", file, err, out)
		}
	}
}

// TestAlertmanagerRoutes: each severity reaches its receiver, in the example
// configuration and in the test server's.
func TestAlertmanagerRoutes(t *testing.T) {
	amtool := testservers.Amtool(t)
	for _, tc := range []struct {
		file   string
		labels []string
		want   string
	}{
		{alertmanagerFile, []string{"severity=SEV-1", "model=fraud", "alertname=DriftwatchModelDown"}, "page"},
		{alertmanagerFile, []string{"severity=SEV-2", "model=fraud", "alertname=DriftwatchFairnessBreach"}, "page"},
		{alertmanagerFile, []string{"severity=SEV-3", "model=fraud", "alertname=DriftwatchDrift"}, "team-channel"},
		{alertmanagerFile, []string{"severity=SEV-4", "model=fraud", "alertname=DriftwatchDrift"}, "weekly-review"},
		{alertmanagerFile, []string{"severity=SEV-2", "alertname=DriftwatchSinkFailing"}, "page"},
		{alertmanagerFile, []string{"severity=critical", "alertname=Other"}, "team-channel"},
		{alertmanagerFile, []string{"alertname=NoSeverity"}, "team-channel"},
		{alertmanagerTestFile, []string{"severity=SEV-1", "model=fraud"}, "sev1"},
		{alertmanagerTestFile, []string{"severity=SEV-2", "model=fraud"}, "sev2"},
		{alertmanagerTestFile, []string{"severity=SEV-3", "model=fraud"}, "sev3"},
		{alertmanagerTestFile, []string{"severity=SEV-4", "model=fraud"}, "sev4"},
		{alertmanagerTestFile, []string{"alertname=NoSeverity"}, "default"},
	} {
		args := append([]string{"config", "routes", "test", "--config.file=" + tc.file}, tc.labels...)
		cmd := exec.Command(amtool, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Errorf("amtool %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
			continue
		}
		if got := strings.TrimSpace(string(out)); got != tc.want {
			t.Errorf("%s: %v routes to %q, want %q", tc.file, tc.labels, got, tc.want)
		}
	}
}

// amConfig is the part of an Alertmanager configuration these tests read.
type amConfig struct {
	Route struct {
		GroupBy []string `yaml:"group_by"`
		Routes  []struct {
			Matchers            []string `yaml:"matchers"`
			Receiver            string   `yaml:"receiver"`
			GroupWait           string   `yaml:"group_wait"`
			ActiveTimeIntervals []string `yaml:"active_time_intervals"`
		} `yaml:"routes"`
	} `yaml:"route"`
	TimeIntervals []struct {
		Name          string `yaml:"name"`
		TimeIntervals []struct {
			Weekdays []string `yaml:"weekdays"`
			Times    []struct {
				Start string `yaml:"start_time"`
				End   string `yaml:"end_time"`
			} `yaml:"times"`
		} `yaml:"time_intervals"`
	} `yaml:"time_intervals"`
	InhibitRules []map[string]any `yaml:"inhibit_rules"`
}

func loadYAML(t *testing.T, file string, v any) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// TestAlertmanagerConfigShape: what amtool does not check. The test
// server's inhibit rules are the example's (so TestInhibitRules tests the
// example's), the example groups by model version, SEV-3 notifies only in
// business hours (Monday to Friday, 09:00 to 17:00), and SEV-2 waits less
// than 15 minutes.
func TestAlertmanagerConfigShape(t *testing.T) {
	var prod, test amConfig
	loadYAML(t, alertmanagerFile, &prod)
	loadYAML(t, alertmanagerTestFile, &test)
	if len(prod.InhibitRules) == 0 || !reflect.DeepEqual(prod.InhibitRules, test.InhibitRules) {
		t.Errorf("inhibit_rules differ:\n%s: %v\n%s: %v", alertmanagerFile, prod.InhibitRules, alertmanagerTestFile, test.InhibitRules)
	}
	if want := []string{"alertname", "model", "model_version"}; !reflect.DeepEqual(prod.Route.GroupBy, want) {
		t.Errorf("group_by %v, want %v", prod.Route.GroupBy, want)
	}
	found := map[string]bool{}
	for _, r := range prod.Route.Routes {
		switch {
		case slices.Equal(r.Matchers, []string{`severity="SEV-2"`}):
			found["SEV-2"] = true
			if d, err := time.ParseDuration(r.GroupWait); err != nil || d >= 15*time.Minute {
				t.Errorf("SEV-2 group_wait %q, want under 15m", r.GroupWait)
			}
		case slices.Equal(r.Matchers, []string{`severity="SEV-3"`}):
			found["SEV-3"] = true
			if !slices.Equal(r.ActiveTimeIntervals, []string{"business-hours"}) {
				t.Errorf("SEV-3 active_time_intervals %v, want [business-hours]", r.ActiveTimeIntervals)
			}
		}
	}
	if !found["SEV-2"] || !found["SEV-3"] {
		t.Errorf("routes for SEV-2 and SEV-3 not found: %v", found)
	}
	var bh []string
	for _, ti := range prod.TimeIntervals {
		if ti.Name != "business-hours" {
			continue
		}
		for _, i := range ti.TimeIntervals {
			for _, tr := range i.Times {
				bh = append(bh, fmt.Sprintf("%v %s-%s", i.Weekdays, tr.Start, tr.End))
			}
		}
	}
	if want := []string{"[monday:friday] 09:00-17:00"}; !slices.Equal(bh, want) {
		t.Errorf("business-hours %q, want %q", bh, want)
	}
}

// alert is one alert TestInhibitRules posts, and the state it must reach.
type alert struct {
	name                                        string // for messages
	alertname, severity, family, model, version string
	// inhibitedBy names the alerts that may inhibit it, separated by " or "
	// (Alertmanager records the first inhibitor it finds, and which of two
	// matching ones it meets first is up to it); "" means active.
	inhibitedBy string
}

// TestInhibitRules posts alerts to the real Alertmanager, whose test
// configuration carries the example's inhibit rules, and checks which are
// inhibited and by what. Inhibitors are posted first, as driftwatch must.
func TestInhibitRules(t *testing.T) {
	base := testservers.AlertmanagerURL(t)
	m, other := testservers.UniqueName(t, "m"), testservers.UniqueName(t, "other")
	q, r := testservers.UniqueName(t, "q"), testservers.UniqueName(t, "r")
	alerts := []alert{
		// (a) a SEV-1 silences the model's SEV-2..4, whatever the version
		// or family, and nothing of another model.
		{"m down", "DriftwatchModelDown", "SEV-1", "serving", m, "1", ""},
		{"m fairness", "DriftwatchFairnessBreach", "SEV-2", "fairness", m, "2", "m down or m down v2"},
		{"m drift", "DriftwatchDrift", "SEV-3", "data", m, "1", "m down or m down v2"},
		{"m near", "DriftwatchDrift", "SEV-4", "data", m, "1", "m down or m down v2"},
		{"m down v2", "DriftwatchModelDown", "SEV-1", "serving", m, "2", ""},
		{"other drift", "DriftwatchDrift", "SEV-3", "data", other, "1", ""},
		// (b) a quality SEV-2 silences data and prediction drift of the
		// same model version, up to its own severity.
		{"q quality", "DriftwatchDataQuality", "SEV-2", "quality", q, "1", ""},
		{"q drift", "DriftwatchDrift", "SEV-3", "data", q, "1", "q quality"},
		{"q prediction", "DriftwatchPredictionDrift", "SEV-2", "prediction", q, "1", "q quality"},
		{"q drift v2", "DriftwatchDrift", "SEV-3", "data", q, "2", ""},
		{"q concept", "DriftwatchPerformanceDrop", "SEV-3", "concept", q, "1", ""},
		// ... and a quality SEV-3 does not silence a SEV-2 drift.
		{"r quality", "DriftwatchDataQuality", "SEV-3", "quality", r, "1", ""},
		{"r prediction", "DriftwatchPredictionDrift", "SEV-2", "prediction", r, "1", ""},
		{"r drift", "DriftwatchDrift", "SEV-4", "data", r, "1", "r quality"},
	}
	labels := func(a alert) map[string]string {
		return map[string]string{
			"alertname": a.alertname, "severity": a.severity, "family": a.family,
			"model": a.model, "model_version": a.version, "subject": a.name, "source": "driftwatch",
		}
	}
	now := time.Now().UTC()
	post := func(ends time.Time, as ...alert) {
		t.Helper()
		var body []map[string]any
		for _, a := range as {
			body = append(body, map[string]any{"labels": labels(a), "startsAt": now, "endsAt": ends})
		}
		testservers.PostAlerts(t, base, body...)
	}
	var inhibitors, targets []alert
	for _, a := range alerts {
		if a.inhibitedBy == "" {
			inhibitors = append(inhibitors, a)
		} else {
			targets = append(targets, a)
		}
	}
	post(now.Add(10*time.Minute), inhibitors...)
	post(now.Add(10*time.Minute), targets...)
	t.Cleanup(func() { post(time.Now().UTC(), alerts...) })

	// The inhibitor learns of new alerts asynchronously: poll until every
	// alert is in its expected state, or report the last states seen.
	var problems []string
	for deadline := time.Now().Add(15 * time.Second); ; {
		problems = problems[:0]
		fps := map[string]string{} // name -> fingerprint
		states := map[string]testservers.AlertStatus{}
		for _, model := range []string{m, other, q, r} {
			for _, got := range testservers.AlertmanagerAlerts(t, base, map[string]string{"model": model}) {
				fps[got.Labels["subject"]] = got.Fingerprint
				states[got.Labels["subject"]] = got.Status
			}
		}
		for _, a := range alerts {
			st, ok := states[a.name]
			switch {
			case !ok:
				problems = append(problems, a.name+": not listed")
			case a.inhibitedBy == "" && (st.State != "active" || len(st.InhibitedBy) != 0):
				problems = append(problems, fmt.Sprintf("%s: %+v, want active", a.name, st))
			case a.inhibitedBy != "" && (st.State != "suppressed" || !inhibitedByOneOf(st.InhibitedBy, fps, strings.Split(a.inhibitedBy, " or "))):
				problems = append(problems, fmt.Sprintf("%s: %+v, want suppressed by %s (fingerprints %v)", a.name, st, a.inhibitedBy, fps))
			}
		}
		if len(problems) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// inhibitedByOneOf reports whether got names exactly one inhibitor, and that
// one is among the alerts named (fps maps names to fingerprints).
func inhibitedByOneOf(got []string, fps map[string]string, names []string) bool {
	return len(got) == 1 && slices.ContainsFunc(names, func(n string) bool { return fps[n] != "" && fps[n] == got[0] })
}

// ruleFile is a Prometheus rule file, decoded strictly.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// TestPrometheusRules: the rule file is well formed, has the health alerts
// issue 7 asks for, gives each a SEV-n severity, a summary and a
// description, and reads only driftwatch_* metrics that driftwatch
// registers (so a renamed metric breaks this test, not the alert).
func TestPrometheusRules(t *testing.T) {
	data, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var rf ruleFile
	if err := dec.Decode(&rf); err != nil {
		t.Fatalf("%s: %v", rulesFile, err)
	}
	src, err := os.ReadFile(metricsSource)
	if err != nil {
		t.Fatal(err)
	}
	exported := map[string]bool{}
	for _, m := range regexp.MustCompile(`Name:\s*"(driftwatch_\w+)"`).FindAllSubmatch(src, -1) {
		exported[string(m[1])] = true
	}
	if len(exported) < 10 {
		t.Fatalf("found only %d metric names in %s: has its registration changed?", len(exported), metricsSource)
	}
	metricRef := regexp.MustCompile(`driftwatch_\w+`)
	seen := map[string]bool{}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" || r.Expr == "" {
				t.Errorf("group %s: a rule without alert or expr: %+v", g.Name, r)
				continue
			}
			if seen[r.Alert] {
				t.Errorf("alert %s defined twice", r.Alert)
			}
			seen[r.Alert] = true
			if !slices.Contains([]string{"SEV-1", "SEV-2", "SEV-3", "SEV-4"}, r.Labels["severity"]) {
				t.Errorf("%s: severity %q, want SEV-1 to SEV-4", r.Alert, r.Labels["severity"])
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: no summary or description", r.Alert)
			}
			if r.For != "" {
				if _, err := time.ParseDuration(r.For); err != nil {
					t.Errorf("%s: for %q: %v", r.Alert, r.For, err)
				}
			}
			for _, name := range metricRef.FindAllString(r.Expr, -1) {
				if !exported[name] {
					t.Errorf("%s reads %s, which driftwatch does not export (%s)", r.Alert, name, metricsSource)
				}
			}
		}
	}
	for _, want := range []string{"DriftwatchDown", "DriftwatchSinkFailing", "DriftwatchNoWindowsClosed", "DriftwatchHighDeadLetterRate", "DriftwatchConsumerLag"} {
		if !seen[want] {
			t.Errorf("no alert %s", want)
		}
	}
}

// TestPromtool checks the rules and runs their unit tests with promtool,
// which make test installs (deploy/servers/promtool.sh: Debian's prometheus
// package). Without it the test is skipped, or fails if CI is set.
func TestPromtool(t *testing.T) {
	promtool := testservers.Promtool(t)
	for _, args := range [][]string{{"check", "rules", rulesFile}, {"test", "rules", rulesTestFile}} {
		if out, err := exec.Command(promtool, args...).CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
