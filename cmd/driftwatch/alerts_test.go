package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/driftwatch/driftwatch/alerts/actions"
	"github.com/driftwatch/driftwatch/internal/synth"
	"github.com/driftwatch/driftwatch/internal/testservers"
)

// TestAlertsEndToEnd runs a known-drift stream through `driftwatch run`
// into a real Alertmanager (deploy/servers/alertmanager.sh, routed and
// inhibited as deploy/alertmanager.yml is). The models drift in amount and
// country, monthly_charges and contract, from window 6 to window 10; the
// fraud model's labels (carried by half its records) flip in the same
// windows, so its accuracy collapses below the hard floor. Once windows 0 to
// 7 are committed, Alertmanager holds, each once: churn's drift alerts
// (SEV-3, two breaching windows), fraud's accuracy collapse (SEV-1) and its
// performance drop (SEV-2) and drift alerts, these inhibited by the SEV-1.
// The job is then killed and restarted: it reads the firing alerts back. After
// windows 10 and 11 are clear, every alert resolved, each state change once
// in the log and in alert_history.
func TestAlertsEndToEnd(t *testing.T) {
	amURL := testservers.AlertmanagerURL(t)
	instance := "e2e-" + strconv36(time.Now().UnixNano())
	r := newRigWith(t, "", func(s *synth.Config) {
		s.Windows = 14
		for i := range s.Models {
			m := &s.Models[i]
			for j := range m.Drifts {
				m.Drifts[j].FromWindow, m.Drifts[j].ToWindow = 6, 10
			}
			if m.Name == "fraud" {
				m.LabelShare, m.FlipLabelsFrom, m.FlipLabelsTo = 0.5, 6, 10
			}
		}
	})
	// The retrain trigger's receivers: a webhook that checks signatures,
	// and a topic.
	const secret = "s3cret-for-the-test"
	t.Setenv("DRIFTWATCH_TEST_ACTION_SECRET", secret)
	var hookMu sync.Mutex
	var hooked []actions.Action
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if err := actions.Verify([]byte(secret), req.Header.Get(actions.HeaderTimestamp), req.Header.Get(actions.HeaderSignature), body); err != nil {
			t.Errorf("webhook call with a bad signature: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var a actions.Action
		if err := json.Unmarshal(body, &a); err != nil {
			t.Errorf("webhook body %s: %v", body, err)
		}
		hookMu.Lock()
		hooked = append(hooked, a)
		hookMu.Unlock()
	}))
	t.Cleanup(hook.Close)
	actionsTopic := r.topic + ".actions"
	testservers.CreateTopics(t, r.prod, 1, actionsTopic)
	r.alertsYAML = fmt.Sprintf(`alerts:
  labels: {instance: %q}
  alertmanager:
    urls: [%q]
    resend_interval: 1s
  actions:
    webhook_url: %q
    webhook_secret_env: DRIFTWATCH_TEST_ACTION_SECRET
    topic: %q
`, instance, amURL, hook.URL, actionsTopic)
	r.config()
	expected := r.scen.Expected()

	r.produce(seq(8)...)
	sendWindow8 := func() { r.produce(8) } // its records close window 7
	sendWindow8()
	d := r.start()
	r.waitWindows(d, 8*len(r.scen.Models))

	// Firing: wait until Alertmanager holds what windows 0 to 7 give.
	type alert struct{ name, severity, model, subject string }
	want := map[alert]bool{{"DriftwatchAccuracyCollapse", "SEV-1", "fraud", "performance"}: true}
	for _, m := range r.scen.Models {
		for _, f := range expected[m.Name] {
			want[alert{"DriftwatchDrift", "SEV-3", m.Name, f}] = true
		}
	}
	var got []testservers.GettableAlert
	deadline := time.Now().Add(faultTimeout)
	for {
		got = testservers.AlertmanagerAlerts(t, amURL, map[string]string{"instance": instance})
		have := map[alert]bool{}
		for _, a := range got {
			have[alert{a.Labels["alertname"], a.Labels["severity"], a.Labels["model"], a.Labels["subject"]}] = true
		}
		missing := 0
		for a := range want {
			if !have[a] {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s Alertmanager holds %d alerts, %d expected ones missing:\n%s\nlog:\n%s", faultTimeout, len(got), missing, describe(got), r.logTail())
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("firing after windows 0-7:\n%s", describe(got))
	seen := map[string]bool{}
	for _, a := range got {
		key := fmt.Sprint(a.Labels)
		if seen[key] {
			t.Errorf("alert %v held twice", a.Labels)
		}
		seen[key] = true
		for _, l := range []string{"alertname", "severity", "model", "model_version", "family", "subject"} {
			if a.Labels[l] == "" {
				t.Errorf("alert %v has no label %s", a.Labels, l)
			}
		}
		if a.Annotations["summary"] == "" || !strings.Contains(a.Annotations["description"], "threshold") {
			t.Errorf("alert %v: annotations %v lack a summary or the figures", a.Labels, a.Annotations)
		}
		if !a.EndsAt.After(time.Now()) {
			t.Errorf("alert %v ends at %s: a firing alert must end in the future", a.Labels, a.EndsAt)
		}
		// Routes: the test config routes each severity to its receiver
		// (sev1 ... sev4), as deploy/alertmanager.yml routes them to
		// paging, business hours and the weekly review.
		if want := "sev" + strings.TrimPrefix(a.Labels["severity"], "SEV-"); len(a.Receivers) != 1 || a.Receivers[0].Name != want {
			t.Errorf("alert %v routed to %v, want %s", a.Labels, a.Receivers, want)
		}
		inhibited := len(a.Status.InhibitedBy) > 0
		switch {
		case a.Labels["model"] == "fraud" && a.Labels["severity"] != "SEV-1" && !inhibited:
			t.Errorf("fraud alert %v (%s) is not inhibited by fraud's SEV-1", a.Labels, a.Status.State)
		case a.Labels["model"] == "churn" && inhibited:
			t.Errorf("churn alert %v is inhibited by %v", a.Labels, a.Status.InhibitedBy)
		case a.Labels["model"] == "churn" && a.Labels["alertname"] == "DriftwatchDrift" && a.Labels["severity"] != "SEV-3":
			t.Errorf("churn drift alert %v: want SEV-3", a.Labels)
		}
	}

	// A crash while they fire: the restarted job reads the firing alerts
	// back from alert_history and goes on sending them. The endsAt the
	// killed process set last (4 resend intervals ahead) is read once it
	// is dead; every alert's endsAt must move past it, sent by the new
	// process before any window of its own closes, so that Alertmanager
	// holds them past the old one.
	_ = d.signal(syscall.SIGKILL)
	endsBefore := map[alert]time.Time{}
	for _, a := range testservers.AlertmanagerAlerts(t, amURL, map[string]string{"instance": instance}) {
		endsBefore[alert{a.Labels["alertname"], a.Labels["severity"], a.Labels["model"], a.Labels["subject"]}] = a.EndsAt
	}
	d = r.start()
	r.waitLog("firing alerts read back", 1)
	deadline = time.Now().Add(faultTimeout)
	for {
		refreshed := map[alert]bool{}
		for _, a := range testservers.AlertmanagerAlerts(t, amURL, map[string]string{"instance": instance}) {
			k := alert{a.Labels["alertname"], a.Labels["severity"], a.Labels["model"], a.Labels["subject"]}
			refreshed[k] = a.EndsAt.After(endsBefore[k])
		}
		var stale []alert
		for a := range want {
			if !refreshed[a] {
				stale = append(stale, a)
			}
		}
		if len(stale) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the restart, %d alerts were not sent again (endsAt not past the killed process's, or no longer held): %v\nlog:\n%s", len(stale), stale, r.logTail())
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Resolution: the drift and the flip end with window 10; windows 10
	// and 11 are clear, so every alert resolves (drift's clear is 2).
	r.produce(9, 10, 11, 12, 13)
	r.produceClosers()
	r.waitWindows(d, r.scen.Windows*len(r.scen.Models))
	deadline = time.Now().Add(faultTimeout)
	for {
		got = testservers.AlertmanagerAlerts(t, amURL, map[string]string{"instance": instance})
		left := 0
		for _, a := range got {
			if a.Labels["severity"] != "SEV-4" {
				left++
			}
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the drift ended Alertmanager still holds:\n%s\nlog:\n%s", describe(got), r.logTail())
		}
		time.Sleep(500 * time.Millisecond)
	}
	r.stop(d)
	fired, resolved := strings.Count(readLog(t, r.logPath), `msg="alert firing"`), strings.Count(readLog(t, r.logPath), `msg="alert resolved"`)
	t.Logf("log: %d alerts fired, %d resolved; SEV-4 alerts still held: %d", fired, resolved, len(got))

	// The audit trail: every state change in alert_history, with evidence.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var nFired, nResolved, noEvidence uint64
	if err := r.ch.QueryRow(ctx, `SELECT countIf(state = 'firing'), countIf(state = 'resolved'), countIf(state = 'firing' AND (evidence = '' OR evidence = '[]'))
		FROM alert_history FINAL`).Scan(&nFired, &nResolved, &noEvidence); err != nil {
		t.Fatal(err)
	}
	t.Logf("alert_history: %d firing, %d resolved", nFired, nResolved)

	// One retrain per model version, across the restart, each with its
	// evidence, by webhook and on the topic.
	hookMu.Lock()
	defer hookMu.Unlock()
	perVersion := map[string]int{}
	for _, a := range hooked {
		perVersion[a.Kind+" "+a.Model+" "+a.ModelVersion]++
		if len(a.Evidence) == 0 || a.Reason == "" {
			t.Errorf("action %+v without its evidence or reason", a)
		}
	}
	t.Logf("webhook calls: %v", perVersion)
	for _, m := range r.scen.Models {
		if k := "retrain " + m.Name + " " + m.Version; perVersion[k] != 1 {
			t.Errorf("%d webhook calls %q, want 1", perVersion[k], k)
		}
	}
	if len(perVersion) != len(r.scen.Models) {
		t.Errorf("webhook calls %v, want one retrain per model version", perVersion)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(r.brokers...), kgo.ConsumeTopics(actionsTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var onTopic int
	pollCtx, stopPoll := context.WithTimeout(context.Background(), 10*time.Second)
	defer stopPoll()
	for onTopic < len(hooked) && pollCtx.Err() == nil {
		cl.PollFetches(pollCtx).EachRecord(func(rec *kgo.Record) {
			var a actions.Action
			if err := json.Unmarshal(rec.Value, &a); err != nil || string(rec.Key) != a.Model+"/"+a.ModelVersion {
				t.Errorf("action record key %q value %s: %v", rec.Key, rec.Value, err)
			}
			onTopic++
		})
	}
	if onTopic != len(hooked) {
		t.Errorf("%d action records on %s, %d webhook calls", onTopic, actionsTopic, len(hooked))
	}
	if int(nFired) != fired || int(nResolved) != resolved || noEvidence > 0 {
		t.Errorf("alert_history holds %d firing (%d without evidence) and %d resolved records; the log says %d and %d", nFired, noEvidence, nResolved, fired, resolved)
	}
}

func describe(as []testservers.GettableAlert) string {
	var b strings.Builder
	for _, a := range as {
		fmt.Fprintf(&b, "  %s %s %s %s/%s state=%s inhibited_by=%d\n", a.Labels["alertname"], a.Labels["severity"], a.Labels["model"],
			a.Labels["family"], a.Labels["subject"], a.Status.State, len(a.Status.InhibitedBy))
	}
	return b.String()
}

func strconv36(n int64) string { return strconv.FormatInt(n, 36) }

func readLog(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
