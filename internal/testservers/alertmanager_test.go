package testservers

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

// alertsResponse is GET /api/v2/alerts as Alertmanager 0.25 answered it.
const alertsResponse = `[{"annotations":{"summary":"s"},"endsAt":"2026-11-23T16:19:52.000Z","fingerprint":"eca068e5b63e4e2f","receivers":[{"name":"sev4"}],"startsAt":"2026-11-23T16:18:52.000Z","status":{"inhibitedBy":["0123456789abcdef"],"silencedBy":[],"state":"suppressed"},"updatedAt":"2026-11-23T16:18:52.727Z","generatorURL":"http://x/","labels":{"alertname":"ProbeX","model":"probe","severity":"SEV-4","subject":"a\"b\\c"}}]`

func TestAlertmanagerAlerts(t *testing.T) {
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, alertsResponse)
	}))
	defer srv.Close()

	alerts := AlertmanagerAlerts(t, srv.URL+"/", map[string]string{"subject": `a"b\c`, "model": "probe"})

	if got.Method != http.MethodGet || got.URL.Path != "/api/v2/alerts" {
		t.Errorf("request %s %s, want GET /api/v2/alerts", got.Method, got.URL.Path)
	}
	q := got.URL.Query()
	for _, s := range []string{"active", "inhibited", "silenced", "unprocessed"} {
		if q.Get(s) != "true" {
			t.Errorf("query %s=%q, want true", s, q.Get(s))
		}
	}
	if want := []string{`model="probe"`, `subject="a\"b\\c"`}; !reflect.DeepEqual(q["filter"], want) {
		t.Errorf("filters %q, want %q", q["filter"], want)
	}
	want := []GettableAlert{{
		Labels:       map[string]string{"alertname": "ProbeX", "model": "probe", "severity": "SEV-4", "subject": `a"b\c`},
		Annotations:  map[string]string{"summary": "s"},
		StartsAt:     time.Date(2026, 11, 23, 16, 18, 52, 0, time.UTC),
		EndsAt:       time.Date(2026, 11, 23, 16, 19, 52, 0, time.UTC),
		UpdatedAt:    time.Date(2026, 11, 23, 16, 18, 52, 727e6, time.UTC),
		GeneratorURL: "http://x/",
		Fingerprint:  "eca068e5b63e4e2f",
		Status:       AlertStatus{State: "suppressed", InhibitedBy: []string{"0123456789abcdef"}, SilencedBy: []string{}},
		Receivers:    []Receiver{{Name: "sev4"}},
	}}
	if !reflect.DeepEqual(alerts, want) {
		t.Errorf("alerts\n got %+v\nwant %+v", alerts, want)
	}

	AlertmanagerAlerts(t, srv.URL, nil)
	if f := got.URL.Query()["filter"]; len(f) != 0 {
		t.Errorf("no filter asked for, sent %q", f)
	}
}

func TestAlertmanagerAlertsErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		failed string
	}{
		{name: "bad filter", status: http.StatusBadRequest, body: `"bad matcher format: x"`, failed: `400 Bad Request: "bad matcher format: x"`},
		{name: "not json", status: http.StatusOK, body: `<html>`, failed: "decode alerts from "},
		{name: "not a list", status: http.StatusOK, body: `{"labels":{}}`, failed: "decode alerts from "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			}))
			defer srv.Close()
			if failed := runRecorded(t, func(r *recorder) { AlertmanagerAlerts(r, srv.URL, nil) }).failed; !strings.Contains(failed, tc.failed) {
				t.Errorf("failed with %q, want %q", failed, tc.failed)
			}
		})
	}
	t.Run("no server", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		if failed := runRecorded(t, func(r *recorder) { AlertmanagerAlerts(r, srv.URL, nil) }).failed; !strings.Contains(failed, "get alerts: ") {
			t.Errorf("failed with %q, want a get error", failed)
		}
	})
}

// runRecorded runs f with a recorder in a goroutine of its own (its Skip
// and Fatal end that goroutine) and returns the recorder.
func runRecorded(t *testing.T, f func(r *recorder)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r
}

func TestAlertmanagerURL(t *testing.T) {
	t.Setenv(AlertmanagerGate, "http://127.0.0.1:39097/")
	if got := AlertmanagerURL(t); got != "http://127.0.0.1:39097" {
		t.Errorf("AlertmanagerURL = %q", got)
	}
}

func TestAmtool(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, tc := range []struct{ ci, skipped, failed string }{
		{skipped: "amtool is not on PATH: install it with bash deploy/servers/alertmanager.sh start"},
		{ci: "true", failed: "amtool is not on PATH in CI"},
	} {
		t.Setenv("CI", tc.ci)
		r := runRecorded(t, func(r *recorder) { Amtool(r) })
		if !strings.Contains(r.skipped, tc.skipped) || (tc.skipped == "") != (r.skipped == "") ||
			!strings.Contains(r.failed, tc.failed) || (tc.failed == "") != (r.failed == "") {
			t.Errorf("CI=%q: skipped %q, failed %q; want %q, %q", tc.ci, r.skipped, r.failed, tc.skipped, tc.failed)
		}
	}
}

func TestQuoteMatcherValue(t *testing.T) {
	for in, want := range map[string]string{
		"":          `""`,
		"fraud":     `"fraud"`,
		`a"b`:       `"a\"b"`,
		`a\b`:       `"a\\b"`,
		"a\nb":      `"a\nb"`,
		"gender=f,": `"gender=f,"`,
	} {
		if got := quoteMatcherValue(in); got != want {
			t.Errorf("quoteMatcherValue(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestAlertmanagerRoundTrip posts an alert to the real server's API v2 and
// reads it back with AlertmanagerAlerts: labels (one with characters that
// must be escaped in a filter), annotations, times, state and the receiver
// deploy/servers/alertmanager-test.yml routes its severity to; then
// resolves it.
func TestAlertmanagerRoundTrip(t *testing.T) {
	base := AlertmanagerURL(t)
	model := UniqueName(t, "model")
	labels := map[string]string{
		"alertname": "DriftwatchTestservers", "severity": "SEV-3", "source": "driftwatch",
		"model": model, "model_version": "1.0.0", "family": "data", "subject": `amount "usd" \ eur`,
	}
	starts := time.Now().UTC().Truncate(time.Millisecond)
	ends := starts.Add(10 * time.Minute)
	PostAlerts(t, base, map[string]any{
		"labels": labels, "annotations": map[string]string{"summary": "round trip"},
		"startsAt": starts, "endsAt": ends, "generatorURL": "http://127.0.0.1/driftwatch",
	})

	alerts := AlertmanagerAlerts(t, base, map[string]string{"model": model, "subject": labels["subject"]})
	if len(alerts) != 1 {
		t.Fatalf("%d alerts for model %s, want 1: %+v", len(alerts), model, alerts)
	}
	a := alerts[0]
	if !reflect.DeepEqual(a.Labels, labels) || a.Annotations["summary"] != "round trip" {
		t.Errorf("labels %v annotations %v, want %v and the summary", a.Labels, a.Annotations, labels)
	}
	if !a.StartsAt.Equal(starts) || !a.EndsAt.Equal(ends) || a.Fingerprint == "" || a.GeneratorURL != "http://127.0.0.1/driftwatch" {
		t.Errorf("startsAt %v endsAt %v fingerprint %q generatorURL %q, want %v %v, a fingerprint, the URL",
			a.StartsAt, a.EndsAt, a.Fingerprint, a.GeneratorURL, starts, ends)
	}
	if a.Status.State != "active" || len(a.Status.InhibitedBy) != 0 || len(a.Status.SilencedBy) != 0 {
		t.Errorf("status %+v, want active", a.Status)
	}
	if !reflect.DeepEqual(a.Receivers, []Receiver{{Name: "sev3"}}) {
		t.Errorf("receivers %v, want sev3", a.Receivers)
	}
	if other := AlertmanagerAlerts(t, base, map[string]string{"model": model, "subject": "amount"}); len(other) != 0 {
		t.Errorf("filter subject=amount matched %+v", other)
	}

	// Resolved: endsAt now. It leaves the list at once.
	PostAlerts(t, base, map[string]any{"labels": labels, "startsAt": starts, "endsAt": time.Now().UTC()})
	if left := AlertmanagerAlerts(t, base, map[string]string{"model": model}); len(left) != 0 {
		t.Errorf("resolved alert still listed: %+v", left)
	}
}
