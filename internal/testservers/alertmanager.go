package testservers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// AlertmanagerGate is the variable whose presence says an Alertmanager is
// configured (Env's gate); its value is the server's base URL, such as
// http://127.0.0.1:39097.
const AlertmanagerGate = "DRIFTWATCH_ALERTMANAGER_URL"

// alertmanagerTimeout bounds one request to Alertmanager.
const alertmanagerTimeout = 10 * time.Second

// AlertmanagerEnv is Env for a DRIFTWATCH_ALERTMANAGER_* variable, gated by
// AlertmanagerGate.
func AlertmanagerEnv(t testing.TB, key string) string {
	t.Helper()
	return Env(t, AlertmanagerGate, key)
}

// AlertmanagerURL returns the base URL of the Alertmanager that
// deploy/servers/alertmanager.sh starts (DRIFTWATCH_ALERTMANAGER_URL,
// without a trailing slash), or skips the test under Env's rule. The
// server is shared by every test package that runs at the same time:
// a test gives its alerts a label value of its own (UniqueName) and
// filters on it.
func AlertmanagerURL(t testing.TB) string {
	t.Helper()
	return strings.TrimRight(AlertmanagerEnv(t, AlertmanagerGate), "/")
}

// Amtool returns the path of Alertmanager's amtool, which the
// prometheus-alertmanager package that deploy/servers/alertmanager.sh
// installs ships. When it is not on PATH the test is skipped, or fails if
// CI is set, as in Env.
func Amtool(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("amtool")
	if err != nil {
		const how = "install it with bash deploy/servers/alertmanager.sh start (Debian's prometheus-alertmanager), as make test does"
		if os.Getenv("CI") != "" {
			t.Fatalf("amtool is not on PATH in CI: %s", how)
		}
		t.Skipf("amtool is not on PATH: %s", how)
	}
	return path
}

// GettableAlert is an alert as Alertmanager's API v2 returns it from
// GET /api/v2/alerts (its gettableAlert), reduced to what tests read.
type GettableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	UpdatedAt    time.Time         `json:"updatedAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
	Status       AlertStatus       `json:"status"`
	// Receivers names the receivers the alert's routes lead to.
	Receivers []Receiver `json:"receivers"`
}

// AlertStatus is an alert's state in Alertmanager: "active", "suppressed"
// (inhibited or silenced) or "unprocessed", with the fingerprints of the
// alerts that inhibit it and the ids of the silences that silence it.
type AlertStatus struct {
	State       string   `json:"state"`
	InhibitedBy []string `json:"inhibitedBy"`
	SilencedBy  []string `json:"silencedBy"`
}

// Receiver is a receiver named in a GettableAlert.
type Receiver struct {
	Name string `json:"name"`
}

// AlertmanagerAlerts returns the alerts the Alertmanager at baseURL holds
// whose labels equal filter (each an equality matcher; nil or empty: every
// alert), whether active, inhibited, silenced or unprocessed, in the
// server's order. Resolved alerts (endsAt past) are not listed: a test sees
// a resolution as its alert leaving the list. Any error fails the test.
func AlertmanagerAlerts(t testing.TB, baseURL string, filter map[string]string) []GettableAlert {
	t.Helper()
	q := url.Values{}
	for _, s := range []string{"active", "inhibited", "silenced", "unprocessed"} {
		q.Set(s, "true")
	}
	names := make([]string, 0, len(filter))
	for name := range filter {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		q.Add("filter", name+"="+quoteMatcherValue(filter[name]))
	}
	u := strings.TrimRight(baseURL, "/") + "/api/v2/alerts?" + q.Encode()
	alerts, err := getAlerts(u)
	if err != nil {
		t.Fatal(err)
	}
	return alerts
}

func getAlerts(u string) ([]GettableAlert, error) {
	cl := http.Client{Timeout: alertmanagerTimeout}
	resp, err := cl.Get(u)
	if err != nil {
		return nil, fmt.Errorf("get alerts: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("get alerts from %s: read body: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("get alerts from %s: %s: %s", u, resp.Status, strings.TrimSpace(string(body)))
	}
	var alerts []GettableAlert
	if err := json.Unmarshal(body, &alerts); err != nil {
		return nil, fmt.Errorf("decode alerts from %s: %w", u, err)
	}
	return alerts, nil
}

// quoteMatcherValue quotes v as the value of an Alertmanager matcher
// (label="value"): backslash, double quote and newline are escaped.
func quoteMatcherValue(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v) + `"`
}

// PostAlerts posts alerts (postableAlert objects) to the Alertmanager at
// baseURL, failing the test on any error.
func PostAlerts(t testing.TB, baseURL string, alerts ...map[string]any) {
	t.Helper()
	body, err := json.Marshal(alerts)
	if err != nil {
		t.Fatal(err)
	}
	cl := http.Client{Timeout: alertmanagerTimeout}
	resp, err := cl.Post(strings.TrimRight(baseURL, "/")+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("post alerts: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		t.Fatalf("post alerts: %s: %s", resp.Status, msg)
	}
}
