package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/internal/synth"
	"github.com/driftwatch/driftwatch/internal/testservers"
)

// api calls run's API with token; it answers the status and body, 0 while
// run does not listen yet.
func (r *rig) api(method, path, token, body string) (int, []byte) {
	r.t.Helper()
	req, err := http.NewRequest(method, "http://"+r.httpAddr+"/api/v1"+path, strings.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestSilenceEndToEnd: a silence made through `driftwatch run`'s API
// keeps a model's alerts from a real Alertmanager while the other model's
// arrive, the alert audit trail says why; expired through the API, the
// alerts still firing are sent. Both writes are in the API's audit trail
// (ClickHouse) with the token's name.
func TestSilenceEndToEnd(t *testing.T) {
	amURL := testservers.AlertmanagerURL(t)
	instance := "silence-" + strconv36(time.Now().UnixNano())
	r := newRigWith(t, "", func(s *synth.Config) {
		for i := range s.Models {
			for j := range s.Models[i].Drifts {
				s.Models[i].Drifts[j].FromWindow = 4
			}
		}
	})
	const token = "operator-token-for-the-silence-test"
	t.Setenv("DRIFTWATCH_TEST_OPERATOR", token)
	r.httpYAML = "  auth:\n    tokens: [{name: oncall, role: operator, token_env: DRIFTWATCH_TEST_OPERATOR}]\n"
	r.alertsYAML = fmt.Sprintf("alerts:\n  labels: {instance: %q}\n  alertmanager:\n    urls: [%q]\n    resend_interval: 1s\n", instance, amURL)
	r.config()
	d := r.start()
	var silence struct {
		ID string `json:"id"`
	}
	deadline := time.Now().Add(faultTimeout)
	for {
		code, body := r.api("POST", "/silences", token, fmt.Sprintf(`{"matchers": {"model": "churn", "instance": %q}, "duration": "1h", "comment": "known change"}`, instance))
		if code == http.StatusCreated {
			if err := json.Unmarshal(body, &silence); err != nil {
				t.Fatal(err)
			}
			break
		}
		if (code != 0 && code != http.StatusServiceUnavailable) || time.Now().After(deadline) {
			t.Fatalf("silence: %d %s\nlog:\n%s", code, body, r.logTail())
		}
		time.Sleep(100 * time.Millisecond) // poll until run listens and has opened ClickHouse
	}

	r.produce(seq(9)...) // window 8's records close window 7
	r.waitWindows(d, 8*len(r.scen.Models))
	expected := r.scen.Expected()
	held := func(model string) map[string]bool {
		out := map[string]bool{}
		for _, a := range testservers.AlertmanagerAlerts(t, amURL, map[string]string{"instance": instance, "model": model, "alertname": "DriftwatchDrift"}) {
			out[a.Labels["subject"]] = true
		}
		return out
	}
	// fraud's drift alerts arrive; churn's are recorded as silenced.
	for {
		fraud := held("fraud")
		var audit []struct {
			State, Subject, Error string
			Delivered             bool
		}
		_, body := r.api("GET", "/audit?model=churn", token, "")
		_ = json.Unmarshal(body, &audit)
		silenced := map[string]bool{}
		for _, a := range audit {
			if a.State == "firing" && !a.Delivered && strings.Contains(a.Error, "silenced by "+silence.ID) {
				silenced[a.Subject] = true
			}
		}
		done := true
		for _, f := range expected["fraud"] {
			done = done && fraud[f]
		}
		for _, f := range expected["churn"] {
			done = done && silenced[f]
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("fraud's alerts %v, churn's silenced %v; want %v and %v\nlog:\n%s", fraud, silenced, expected["fraud"], expected["churn"], r.logTail())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if churn := held("churn"); len(churn) > 0 {
		t.Fatalf("churn's alerts %v reached Alertmanager while silenced", churn)
	}

	// Expired: churn's alerts, still firing, are sent.
	if code, body := r.api("DELETE", "/silences/"+silence.ID, token, ""); code != http.StatusOK {
		t.Fatalf("expire: %d %s", code, body)
	}
	for {
		churn := held("churn")
		done := true
		for _, f := range expected["churn"] {
			done = done && churn[f]
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the silence ended Alertmanager holds churn's %v, want %v\nlog:\n%s", churn, expected["churn"], r.logTail())
		}
		time.Sleep(200 * time.Millisecond)
	}
	var writes []struct {
		Who, Action, Target string
	}
	_, body := r.api("GET", "/audit/writes", token, "")
	if err := json.Unmarshal(body, &writes); err != nil || len(writes) != 2 || writes[0].Action != "expire_silence" || writes[1].Action != "create_silence" ||
		writes[0].Who != "oncall" || writes[1].Target != silence.ID {
		t.Errorf("the API's audit trail %+v (%v), want the silence made and expired by oncall", writes, err)
	}
	r.stop(d)
}
