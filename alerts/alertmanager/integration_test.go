package alertmanager

import (
	"maps"
	"net/http"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/internal/testservers"
)

// TestAlertmanagerIntegration runs the client against the real Alertmanager
// that deploy/servers/alertmanager.sh starts (DRIFTWATCH_ALERTMANAGER_URL;
// skipped when unset, failing when CI is set): a fired alert is held with
// its labels, annotations, detection time and an endsAt in the future; once
// resolved it is no longer active.
func TestAlertmanagerIntegration(t *testing.T) {
	base := testservers.AlertmanagerURL(t)
	// AlertmanagerAlerts reads through http.DefaultTransport: close its idle
	// connections for goleak (TestMain).
	t.Cleanup(http.DefaultTransport.(*http.Transport).CloseIdleConnections)
	model := testservers.UniqueName(t, "model") // the server is shared: filter on this
	ds := newDeliveries()
	c := mustNew(t, Config{URLs: []string{base}, HTTPClient: realHTTPClient(t), ResendInterval: time.Minute, OnDelivery: ds.add})
	stop := start(t, c)
	sent := func(n uint64) func() bool {
		return func() bool { return c.Stats().URLs[0].Sent >= n }
	}
	failed := func() {
		t.Helper()
		for _, d := range ds.all() {
			if d.Err != nil {
				t.Fatalf("delivery failed: %v", d.Err)
			}
		}
	}

	a := alert("DriftwatchAlertmanagerClient", "SEV-3", "amount")
	a.Labels["model"] = model
	a.StartsAt = time.Now()
	c.Fire(a)
	ds.waitFor(t, "the fire delivered", sent(1))
	failed()
	got := testservers.AlertmanagerAlerts(t, base, map[string]string{"model": model})
	if len(got) != 1 {
		t.Fatalf("Alertmanager holds %d alerts for model %s, want 1: %+v", len(got), model, got)
	}
	g := got[0]
	if !maps.Equal(g.Labels, a.Labels) || !maps.Equal(g.Annotations, a.Annotations) || g.GeneratorURL != a.GeneratorURL {
		t.Errorf("held %+v, want labels %v, annotations %v", g, a.Labels, a.Annotations)
	}
	if d := g.StartsAt.Sub(a.StartsAt).Abs(); d > time.Millisecond { // the API answers in milliseconds
		t.Errorf("startsAt %v, want the detection time %v", g.StartsAt, a.StartsAt)
	}
	if now := time.Now(); !g.EndsAt.After(now.Add(3*time.Minute)) || g.EndsAt.After(now.Add(4*time.Minute)) {
		t.Errorf("endsAt %v, want about 4 minutes (4 × the resend interval) past the post", g.EndsAt)
	}
	if g.Status.State == "suppressed" {
		t.Errorf("status %+v, want active", g.Status)
	}

	at := time.Now()
	c.Resolve(a.Labels, at)
	ds.waitFor(t, "the resolution delivered", sent(2))
	failed()
	// Alertmanager lists a resolved alert until it is garbage-collected (0.25
	// drops it from the list at once): either way it must not be active.
	after := testservers.AlertmanagerAlerts(t, base, map[string]string{"model": model})
	t.Logf("after Resolve Alertmanager lists %d alerts for the model", len(after))
	for _, g := range after {
		if d := g.EndsAt.Sub(at).Abs(); d > time.Millisecond || g.EndsAt.After(time.Now()) {
			t.Errorf("after Resolve: %+v, want endsAt %v (resolved)", g, at)
		}
	}
	// An alert this client never fired (one from before a restart) is
	// resolved by its labels alone; Alertmanager takes it.
	c.Resolve(map[string]string{"alertname": "DriftwatchAlertmanagerClient", "model": model, "subject": "unknown"}, time.Time{})
	ds.waitFor(t, "the resolution of an unknown alert delivered", sent(3))
	failed()

	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.Firing != 0 || st.URLs[0].Failed != 0 || st.URLs[0].Pending != 0 {
		t.Errorf("stats %+v", st)
	}
}
