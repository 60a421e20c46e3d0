package alerts

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/alerts/alertmanager"
	"github.com/driftwatch/driftwatch/internal/testservers"
	"github.com/driftwatch/driftwatch/sinks/clickhouse"
	"github.com/driftwatch/driftwatch/stats/drift"
)

var alertmanagerOutage = flag.Duration("alertmanager-outage", 15*time.Second,
	"wall-clock length of the Alertmanager outage of TestTransitionsSurviveAlertmanagerOutage (past the retry backoff's cap; 2m to measure a full outage)")

// notification is what an Alertmanager webhook receiver is posted (version
// 4 of its payload), reduced to what the test reads.
type notification struct {
	Status string `json:"status"`
	Alerts []struct {
		Status   string            `json:"status"`
		Labels   map[string]string `json:"labels"`
		StartsAt time.Time         `json:"startsAt"`
		EndsAt   time.Time         `json:"endsAt"`
	} `json:"alerts"`
}

// hookRecorder is an Alertmanager webhook receiver that records the
// notifications it is sent, in order.
type hookRecorder struct {
	URL string
	mu  sync.Mutex
	ns  []notification
}

func newHookRecorder(t *testing.T) *hookRecorder {
	h := &hookRecorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n notification
		if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
			t.Errorf("webhook receiver: decode: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.ns = append(h.ns, n)
		h.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	h.URL = srv.URL
	return h
}

// states are the alert states of the notifications so far, in order, as
// "firing startsAt" or "resolved startsAt endsAt" (RFC 3339, UTC).
func (h *hookRecorder) states() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, n := range h.ns {
		for _, a := range n.Alerts {
			s := a.Status + " " + a.StartsAt.UTC().Format(time.RFC3339Nano)
			if a.Status == "resolved" {
				s += " " + a.EndsAt.UTC().Format(time.RFC3339Nano)
			}
			out = append(out, s)
		}
	}
	return out
}

// deliveryLog records a Client's deliveries, in order.
type deliveryLog struct {
	mu sync.Mutex
	ds []alertmanager.Delivery
}

func (l *deliveryLog) add(d alertmanager.Delivery) {
	l.mu.Lock()
	l.ds = append(l.ds, d)
	l.mu.Unlock()
}

// accepted are the deliveries Alertmanager accepted, in order.
func (l *deliveryLog) accepted() []alertmanager.Delivery {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []alertmanager.Delivery
	for _, d := range l.ds {
		if d.Err == nil && !d.Dropped {
			out = append(out, d)
		}
	}
	return out
}

// poll waits until cond holds, checking it every 100 ms, failing the test
// after within.
func poll(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestTransitionsSurviveAlertmanagerOutage: a SEV-2 fires and resolves
// while Alertmanager (a private one, whose notifications go to a webhook
// receiver of the test) is down, two minutes apart by the engine's clock.
// When Alertmanager returns, the Client posts the fire (its startsAt the
// detection time) and then the resolution (endsAt the resolution time), in
// that order, both within 10 s; Alertmanager notifies the receiver of the
// alert firing, then resolved, with those times; alert_history (ClickHouse,
// through the audit trail) holds both transitions. The outage lasts
// -alertmanager-outage of wall-clock time (default 15 s, past the retry
// backoff's cap).
func TestTransitionsSurviveAlertmanagerOutage(t *testing.T) {
	hook := newHookRecorder(t)
	am := testservers.NewPrivateAlertmanager(t, fmt.Sprintf(`
route:
  receiver: hook
  group_by: [alertname, model, severity]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: %s/notify
        send_resolved: true
`, hook.URL))
	ch := testservers.ClickHouseServer(t)
	ctx := context.Background()
	db := ch.CreateDatabase(t, "dwalerts")
	sink, err := clickhouse.Open(ctx, clickhouse.Config{Addr: ch.Addr, Database: db, Username: ch.User,
		Password: clickhouse.Secret(ch.Password), DialTimeout: 5 * time.Second, CommitTimeout: 30 * time.Second, MigrationLockTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })

	var log deliveryLog
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	// The defaults of alerts.alertmanager otherwise: what runs in production.
	c, err := alertmanager.New(alertmanager.Config{URLs: []string{am.URL}, HTTPClient: &http.Client{Transport: tr}, OnDelivery: log.add})
	if err != nil {
		t.Fatal(err)
	}
	var (
		clockMu sync.Mutex
		clock   time.Time
	)
	setClock := func(at time.Time) { clockMu.Lock(); clock = at; clockMu.Unlock() }
	run := testservers.UniqueName(t, "run")
	m, err := NewManager(ManagerConfig{
		Rules:    Rules{{Name: "DriftwatchOutageDrift", Family: drift.FamilyData, Primary: true, Sev: Sev2, Clear: 1}},
		Notifier: c, Audit: sink.WriteAlertHistory, Receiver: am.URL, Labels: map[string]string{"run": run},
		Now: func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return clock },
	})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := c.Run(runCtx); err != nil {
			t.Errorf("alertmanager client: %v", err)
		}
	})
	wg.Go(func() { m.Run(runCtx) })
	t.Cleanup(func() { cancel(); wg.Wait() })

	// Alertmanager is down (not started). By the engine's clock the alert
	// fires 110 s ago and resolves 20 s ago: both inside a 2-minute outage
	// that ends as Alertmanager returns.
	fireAt := time.Now().Add(-110 * time.Second).Truncate(time.Millisecond).UTC()
	resolveAt := fireAt.Add(90 * time.Second)
	setClock(fireAt)
	observe(t, m, windowRows(0, true))
	setClock(resolveAt)
	observe(t, m, windowRows(1, false))
	if got := m.Counts(); got.Fired != 1 || got.Resolved != 1 {
		t.Fatalf("manager counts %+v, want one fire and one resolution", got)
	}
	time.Sleep(*alertmanagerOutage) // the outage itself
	if st := c.Stats().Total(); st.Sent != 0 || st.Failed == 0 {
		t.Fatalf("during the outage: %+v, want failed attempts and nothing sent", st)
	}
	am.Start()
	back := time.Now()

	poll(t, "Alertmanager accepts the resolution", 2*time.Minute, func() bool {
		return slices.ContainsFunc(log.accepted(), func(d alertmanager.Delivery) bool { return d.Resolved })
	})
	var order []string
	var fireDelay, resolveDelay time.Duration
	for _, d := range log.accepted() {
		if d.Resolved {
			order = append(order, "resolved")
			resolveDelay = d.At.Sub(back)
		} else {
			order = append(order, "firing "+d.Alert.StartsAt.UTC().Format(time.RFC3339Nano))
			if fireDelay == 0 {
				fireDelay = d.At.Sub(back)
			}
		}
	}
	t.Logf("after Alertmanager returned: fire accepted after %v, resolution after %v (outage %v)",
		fireDelay.Round(time.Millisecond), resolveDelay.Round(time.Millisecond), *alertmanagerOutage)
	if want := []string{"firing " + fireAt.Format(time.RFC3339Nano), "resolved"}; !slices.Equal(order, want) {
		t.Errorf("posts Alertmanager accepted: %q, want %q", order, want)
	}
	if resolveDelay > 10*time.Second {
		t.Errorf("the resolution reached Alertmanager %v after it returned, want within 10s", resolveDelay)
	}

	// Alertmanager's own account: the receiver is notified of the alert
	// firing, then resolved, with driftwatch's times; its API no longer
	// lists it (v2 does not list resolved alerts).
	want := []string{"firing " + fireAt.Format(time.RFC3339Nano), "resolved " + fireAt.Format(time.RFC3339Nano) + " " + resolveAt.Format(time.RFC3339Nano)}
	poll(t, "the receiver notified of the alert firing, then resolved", 30*time.Second, func() bool { return len(hook.states()) >= 2 })
	if got := hook.states(); !slices.Equal(got, want) {
		t.Errorf("notifications: %q, want %q", got, want)
	}
	if got := testservers.AlertmanagerAlerts(t, am.URL, map[string]string{"run": run}); len(got) != 0 {
		t.Errorf("Alertmanager lists %+v after the resolution, want nothing", got)
	}

	// The audit trail holds both transitions with their times.
	conn := ch.Open(t, db)
	var rows []string
	poll(t, "alert_history holds both transitions", 30*time.Second, func() bool {
		rs, err := conn.Query(ctx, "SELECT state, severity, sent_at FROM alert_history FINAL ORDER BY sent_at")
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		rows = rows[:0]
		for rs.Next() {
			var state, sev string
			var at time.Time
			if err := rs.Scan(&state, &sev, &at); err != nil {
				t.Fatal(err)
			}
			rows = append(rows, strings.Join([]string{state, sev, at.UTC().Format(time.RFC3339)}, " "))
		}
		return len(rows) >= 2
	})
	if want := []string{"firing SEV-2 " + fireAt.Format(time.RFC3339), "resolved SEV-2 " + resolveAt.Format(time.RFC3339)}; !slices.Equal(rows, want) {
		t.Errorf("alert_history: %q, want %q", rows, want)
	}
}
