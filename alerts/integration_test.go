package alerts

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/alerts/alertmanager"
	"github.com/driftwatch/driftwatch/internal/testservers"
)

// TestFlappingDoesNotFlapInAlertmanager feeds a Manager, delivering to the
// real Alertmanager (deploy/servers/alertmanager.sh), a subject whose
// verdict alternates window after window: nothing reaches Alertmanager.
// Two breaching windows in a row fire it, once; alternating again never
// resolves it; two clear windows do.
func TestFlappingDoesNotFlapInAlertmanager(t *testing.T) {
	base := testservers.AlertmanagerURL(t)
	t.Cleanup(http.DefaultTransport.(*http.Transport).CloseIdleConnections) // for goleak, if the package grows a TestMain
	run := testservers.UniqueName(t, "run")
	c, err := alertmanager.New(alertmanager.Config{URLs: []string{base}, ResendInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() { cancel(); <-done }()
	m, err := NewManager(ManagerConfig{Notifier: c, Labels: map[string]string{"run": run}})
	if err != nil {
		t.Fatal(err)
	}
	held := func() int {
		n := 0
		for _, a := range testservers.AlertmanagerAlerts(t, base, map[string]string{"run": run}) {
			if a.Labels["alertname"] == "DriftwatchDrift" {
				n++
			}
		}
		return n
	}
	settle := func() { time.Sleep(1500 * time.Millisecond) } // past a resend and a post
	w := 0
	feed := func(verdicts ...bool) {
		for _, d := range verdicts {
			observe(t, m, windowRows(w, d))
			w++
		}
	}
	feed(true, false, true, false, true, false, true, false)
	settle()
	if n := held(); n != 0 {
		t.Fatalf("alternating verdicts: Alertmanager holds %d drift alerts, want 0", n)
	}
	feed(true, true)
	settle()
	if n := held(); n != 1 {
		t.Fatalf("two breaching windows: Alertmanager holds %d drift alerts, want 1", n)
	}
	feed(false, true, false, true, false, true)
	settle()
	if n := held(); n != 1 {
		t.Fatalf("alternating while firing: Alertmanager holds %d drift alerts, want the one still", n)
	}
	feed(false, false)
	settle()
	if n := held(); n != 0 {
		t.Fatalf("two clear windows: Alertmanager holds %d drift alerts, want 0 (resolved)", n)
	}
	if c := m.Counts(); c.Fired != 1 || c.Resolved != 1 {
		t.Errorf("counts %+v: want one fire and one resolution over 18 windows", c)
	}
}
