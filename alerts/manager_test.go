package alerts

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/alerts/actions"
	"github.com/driftwatch/driftwatch/alerts/alertmanager"
	"github.com/driftwatch/driftwatch/sinks"
	"github.com/driftwatch/driftwatch/stats/drift"
)

type fakeNotifier struct {
	fired     []alertmanager.Alert
	resolved  []map[string]string
	forgotten []map[string]string
}

func (f *fakeNotifier) Fire(a alertmanager.Alert) { f.fired = append(f.fired, a) }
func (f *fakeNotifier) Resolve(l map[string]string, _ time.Time) {
	f.resolved = append(f.resolved, l)
}
func (f *fakeNotifier) Forget(l map[string]string) { f.forgotten = append(f.forgotten, l) }

type fakeAudit struct {
	mu    sync.Mutex
	fail  int // calls to fail first
	calls int
	recs  []sinks.AlertRecord
}

func (f *fakeAudit) write(_ context.Context, recs []sinks.AlertRecord) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.calls <= f.fail {
		return errors.New("clickhouse down")
	}
	f.recs = append(f.recs, recs...)
	return nil
}

func (f *fakeAudit) written() []sinks.AlertRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sinks.AlertRecord(nil), f.recs...)
}

func TestManagerDeliversAndAudits(t *testing.T) {
	n := &fakeNotifier{}
	audit := &fakeAudit{fail: 2}
	now := t0.Add(30 * time.Hour)
	m, err := NewManager(ManagerConfig{Notifier: n, Audit: audit.write, Receiver: "http://am:9093", Labels: map[string]string{"env": "prod", "model": "not-this"},
		DashboardURL: "https://grafana/d/driftwatch?var-model={model}", RunbookURL: "https://runbooks/{subject}", Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()
	for w, d := range []bool{true, true, false, false} {
		observe(t, m, windowRows(w, d))
	}
	if len(n.fired) != 1 || len(n.resolved) != 1 {
		t.Fatalf("fired %d, resolved %d; want one each", len(n.fired), len(n.resolved))
	}
	a := n.fired[0]
	if a.Labels["env"] != "prod" || a.Labels["model"] != "fraud" || a.Labels["alertname"] != "DriftwatchDrift" || !a.StartsAt.Equal(now) {
		t.Errorf("alert labels %v, starts %s: want the extra label added, not replacing the alert's, and detection time", a.Labels, a.StartsAt)
	}
	if a.Annotations["dashboard"] != "https://grafana/d/driftwatch?var-model=fraud" || a.Annotations["runbook_url"] != "https://runbooks/amount" ||
		!strings.Contains(a.Annotations["description"], "data/psi=0.3 (threshold 0.2") || !strings.Contains(a.Annotations["summary"], "fraud 1") {
		t.Errorf("annotations %v", a.Annotations)
	}
	if n.resolved[0]["env"] != "prod" || Fingerprint(n.resolved[0]) != Fingerprint(a.Labels) {
		t.Errorf("resolved labels %v, want the fired alert's %v", n.resolved[0], a.Labels)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(audit.written()) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	recs := audit.written()
	if len(recs) != 2 || recs[0].State != StateFiring || recs[1].State != StateResolved {
		t.Fatalf("audit records %+v, want firing then resolved", recs)
	}
	r := recs[0]
	if r.Alertname != "DriftwatchDrift" || r.Severity != "SEV-3" || r.Metric != "psi" || r.Value != 0.3 || r.Receiver != "http://am:9093" || !r.Delivered ||
		!strings.Contains(r.Evidence, `"metric":"psi"`) || r.Fingerprint != Fingerprint(a.Labels) || !r.WindowStart.Equal(t0.Add(time.Hour)) {
		t.Errorf("audit record %+v", r)
	}
	c := m.Counts()
	if c.Fired != 1 || c.Resolved != 1 || c.Firing != 0 || c.Audited != 2 || c.AuditFailures != 2 || c.AuditDropped != 0 {
		t.Errorf("counts %+v", c)
	}
}

func TestManagerAuditQueueIsBounded(t *testing.T) {
	audit := &fakeAudit{fail: 1 << 30}
	m, err := NewManager(ManagerConfig{Audit: audit.write, AuditQueue: 3, Rules: Rules{{Name: "minor", Sev: Sev4}}})
	if err != nil {
		t.Fatal(err)
	}
	for w := range 10 { // fires, resolves, fires, ...: one record per window
		m.Observe(windowRows(w, w%3 == 0), true)
	}
	if c := m.Counts(); c.AuditDropped == 0 || len(m.pending) != 3 {
		t.Errorf("counts %+v with %d pending, want 3 kept and the rest dropped and counted", c, len(m.pending))
	}
}

func TestManagerActions(t *testing.T) {
	var got []actions.Action
	accept := true
	m, err := NewManager(ManagerConfig{Retrain: DefaultRetrain(), Rollback: DefaultRollback(),
		Trigger: func(a actions.Action) bool { got = append(got, a); return accept }})
	if err != nil {
		t.Fatal(err)
	}
	// Drift on amount (SEV-3) fires at window 1: a retrain, with evidence.
	observe(t, m, windowRows(0, true))
	observe(t, m, windowRows(1, true))
	if len(got) != 1 || got[0].Kind != actions.KindRetrain || got[0].Model != "fraud" || got[0].Reason != "DriftwatchDrift" ||
		len(got[0].Evidence) == 0 || got[0].ID != actions.MakeID("retrain", "fraud", "1", t0.Add(time.Hour)) {
		t.Fatalf("actions %+v, want one retrain of fraud 1", got)
	}
	// Version 2 comes a day later and its accuracy collapses (SEV-1):
	// a rollback (and a retrain) for it. Version 1's collapse is no
	// rollback: nothing older to go back to.
	collapse := func(version string, w int) []drift.Row {
		r := windowRows(w, false)[0]
		r.ModelVersion, r.Family, r.Subject, r.Metric, r.Primary, r.Value, r.NCurrent = version, drift.FamilyConcept, "performance", drift.MetricAccuracy, false, 0.2, 500
		return []drift.Row{r}
	}
	got = nil
	observe(t, m, collapse("1", 2))
	if len(got) != 1 || got[0].Kind != actions.KindRetrain {
		t.Fatalf("version 1's collapse: actions %+v, want a retrain only", got)
	}
	got = nil
	observe(t, m, collapse("2", 24))
	kinds := []string{}
	for _, a := range got {
		kinds = append(kinds, a.Kind+" "+a.ModelVersion)
	}
	if strings.Join(kinds, ",") != "retrain 2,rollback 2" {
		t.Fatalf("version 2's collapse: actions %v, want retrain and rollback of version 2", kinds)
	}
	// Three days into version 3 it is no longer new.
	got = nil
	observe(t, m, collapse("3", 30))
	observe(t, m, collapse("3", 30+72))
	for _, a := range got {
		if a.Kind == actions.KindRollback && a.WindowStart.Equal(t0.Add(102*time.Hour)) {
			t.Errorf("rollback three days into a version: %+v", a)
		}
	}
	// A trigger the dispatcher suppresses is not counted.
	before := m.Counts()
	accept = false
	observe(t, m, collapse("4", 200))
	if c := m.Counts(); c.Retrains != before.Retrains || c.Rollbacks != before.Rollbacks {
		t.Errorf("suppressed actions counted: %+v after %+v", c, before)
	}
	if err := (ActionPolicy{Severity: "SEV-9", Families: []string{"data"}}).Validate(); err == nil {
		t.Error("severity SEV-9 accepted")
	}
	if err := (ActionPolicy{Severity: Sev1, Families: []string{"dat"}}).Validate(); err == nil {
		t.Error("family dat accepted")
	}
}

// TestManagerSyncWaitsForTheAuditTrail: Sync returns once the audit records
// of the state changes observed before it are written, through failed
// writes retried, and not before; a Sync whose context ends first says so.
func TestManagerSyncWaitsForTheAuditTrail(t *testing.T) {
	audit := &fakeAudit{fail: 1}
	m, err := NewManager(ManagerConfig{Audit: audit.write})
	if err != nil {
		t.Fatal(err)
	}
	m.Observe(windowRows(0, true), true)
	m.Observe(windowRows(1, true), true) // fires: one record queued
	if c := m.Counts(); c.Fired != 1 {
		t.Fatalf("counts %+v: the test wants one alert fired", c)
	}
	// Without Run, nothing is written: Sync waits until its context ends.
	short, cancelShort := context.WithCancel(context.Background())
	cancelShort()
	if err := m.Sync(short); err == nil {
		t.Fatal("Sync returned nil with its record unwritten")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()
	if err := m.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if recs := audit.written(); len(recs) != 1 || recs[0].State != StateFiring {
		t.Fatalf("Sync returned with %v written, want the firing record", recs)
	}
	if c := m.Counts(); c.AuditFailures != 1 || c.Audited != 1 {
		t.Fatalf("counts %+v: want a failed write, then the record written", c)
	}
	m.Observe(windowRows(2, true), true) // nothing changes: nothing to wait for
	if err := m.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// Without an audit trail there is nothing to wait for.
	bare, err := NewManager(ManagerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	bare.Observe(windowRows(0, true), true)
	bare.Observe(windowRows(1, true), true)
	if err := bare.Sync(short); err != nil {
		t.Fatalf("Sync without Audit: %v", err)
	}
}

// observe feeds rows to m and makes what changed known (Observe, Sync).
func observe(t *testing.T, m *Manager, rows []drift.Row) {
	t.Helper()
	m.Observe(rows, true)
	if err := m.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestManagerHandover: a model's firing alert follows its windows from one
// instance to the next through the audit trail: the first stops re-sending
// it without resolving it, the second reads it back before its first rows
// of the model and resolves it when the subject clears.
func TestManagerHandover(t *testing.T) {
	audit := &fakeAudit{}
	load := func(_ context.Context, model string) ([]sinks.AlertRecord, error) {
		newest := make(map[string]sinks.AlertRecord)
		for _, r := range audit.written() {
			if r.Model == model {
				newest[r.Fingerprint] = r
			}
		}
		var out []sinks.AlertRecord
		for _, r := range newest {
			if r.State == StateFiring {
				out = append(out, r)
			}
		}
		return out, nil
	}
	start := func(n *fakeNotifier) *Manager {
		m, err := NewManager(ManagerConfig{Notifier: n, Audit: audit.write, Load: load})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- m.Run(ctx) }()
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
		})
		return m
	}
	na, nb := &fakeNotifier{}, &fakeNotifier{}
	a, b := start(na), start(nb)
	for w := range 2 {
		rows := windowRows(w, true)
		if err := a.Own(context.Background(), rows); err != nil {
			t.Fatal(err)
		}
		observe(t, a, rows)
	}
	if len(na.fired) != 1 || a.Counts().Firing != 1 {
		t.Fatalf("a fired %d, firing %d; want 1", len(na.fired), a.Counts().Firing)
	}
	a.Handover()
	if len(na.forgotten) != 1 || Fingerprint(na.forgotten[0]) != Fingerprint(na.fired[0].Labels) || len(na.resolved) != 0 || a.Counts().Firing != 0 {
		t.Fatalf("a forgot %v, resolved %d, firing %d: want its alert forgotten, not resolved", na.forgotten, len(na.resolved), a.Counts().Firing)
	}
	for w := 2; w < 4; w++ {
		rows := windowRows(w, false)
		if err := b.Own(context.Background(), rows); err != nil {
			t.Fatal(err)
		}
		observe(t, b, rows)
	}
	if len(nb.fired) != 1 || len(nb.resolved) != 1 || Fingerprint(nb.resolved[0]) != Fingerprint(na.fired[0].Labels) {
		t.Fatalf("b fired %d, resolved %v; want a's alert read back and resolved", len(nb.fired), nb.resolved)
	}
}
