package alerts

import (
	"strings"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/alerts/actions"
	"github.com/driftwatch/driftwatch/sinks"
)

func TestNewSilenceRefuses(t *testing.T) {
	now := t0
	for _, tc := range []struct {
		name     string
		matchers map[string]string
		end      time.Time
		want     string
	}{
		{"no matcher", nil, now.Add(time.Hour), "at least one matcher"},
		{"bad label", map[string]string{"model-name": "x"}, now.Add(time.Hour), "not a label name"},
		{"empty value", map[string]string{"model": ""}, now.Add(time.Hour), "empty value"},
		{"past", map[string]string{"model": "x"}, now.Add(-time.Minute), "not in the future"},
		{"too long", map[string]string{"model": "x"}, now.Add(MaxSilence + time.Hour), "at most"},
	} {
		if _, err := NewSilence(tc.matchers, time.Time{}, tc.end, "ops", "", now); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	s, err := NewSilence(map[string]string{"model": "fraud"}, time.Time{}, now.Add(time.Hour), "ops", "deploy", now)
	if err != nil || s.ID == "" || !s.StartsAt.Equal(now) {
		t.Fatalf("silence %+v, %v", s, err)
	}
}

// A silence mutes the alerts it matches while it lasts: not sent, no
// action, recorded as silenced; when it ends, those still firing are sent
// and acted on; one that resolved while muted is never sent at all.
func TestSilenceMutesUntilItEnds(t *testing.T) {
	n := &fakeNotifier{}
	audit := &fakeAudit{}
	var triggered []actions.Action
	now := t0.Add(30 * time.Hour)
	silences := &Silences{}
	m, err := NewManager(ManagerConfig{Notifier: n, Audit: audit.write, Silences: silences, Retrain: DefaultRetrain(),
		Trigger: func(a actions.Action) bool { triggered = append(triggered, a); return true }, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSilence(map[string]string{"model": "fraud", "subject": "amount"}, time.Time{}, now.Add(2*time.Hour), "ops", "retraining", now)
	if err != nil {
		t.Fatal(err)
	}
	silences.Put(s)
	observeAudited := func(w int, drifted bool) {
		t.Helper()
		m.Observe(windowRows(w, drifted), true)
		m.flush(t.Context())
		if err := m.Sync(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	observeAudited(0, true)
	observeAudited(1, true) // fires: muted
	if len(n.fired) != 0 || len(triggered) != 0 {
		t.Fatalf("a silenced alert was sent (%d) or acted on (%d)", len(n.fired), len(triggered))
	}
	recs := audit.written()
	if len(recs) != 1 || recs[0].Delivered || !strings.Contains(recs[0].Error, "silenced by "+s.ID) {
		t.Fatalf("audit %+v, want the firing recorded as silenced", recs)
	}
	if got := m.Unmute(now.Add(time.Hour)); got != 0 {
		t.Fatalf("unmuted %d while the silence lasts", got)
	}
	now = now.Add(2 * time.Hour)
	if got := m.Unmute(now); got != 1 || len(n.fired) != 1 || len(triggered) != 1 {
		t.Fatalf("silence ended: unmuted %d, sent %d, actions %d; want 1 each", got, len(n.fired), len(triggered))
	}
	m.flush(t.Context())
	if recs = audit.written(); len(recs) != 3 || !recs[1].Delivered || !strings.Contains(recs[1].Error, "ended") || recs[2].State != "action:retrain" {
		t.Fatalf("audit %+v, want the alert recorded as sent after its silence, then its retrain", recs)
	}
	if m.Unmute(now) != 0 {
		t.Fatal("unmuted twice")
	}
	observeAudited(2, false)
	observeAudited(3, false) // resolves: sent, since it was sent
	if len(n.resolved) != 1 {
		t.Fatalf("resolved %d, want 1", len(n.resolved))
	}

	// Silenced again from the start; it fires and resolves inside the
	// silence: nothing reaches Alertmanager, not even the resolution.
	s2, _ := NewSilence(map[string]string{"alertname": "DriftwatchDrift"}, time.Time{}, now.Add(24*time.Hour), "ops", "", now)
	silences.Put(s2)
	for w, d := range []bool{true, true, false, false} {
		observeAudited(10+w, d)
	}
	if len(n.fired) != 1 || len(n.resolved) != 1 {
		t.Fatalf("sent %d, resolved %d during the second silence; want nothing more", len(n.fired), len(n.resolved))
	}
	if m.Unmute(now.Add(48*time.Hour)) != 0 {
		t.Fatal("a resolved alert sent when its silence ended")
	}
	if c := m.Counts(); c.Silenced != 2 || c.Unmuted != 1 {
		t.Errorf("counts %+v, want 2 silenced, 1 unmuted", c)
	}
}

// Expiring a silence (Put again, newer) ends it; an older state of it
// does not bring it back.
func TestSilencesExpire(t *testing.T) {
	var ss Silences
	s, _ := NewSilence(map[string]string{"model": "fraud"}, time.Time{}, t0.Add(time.Hour), "ops", "", t0)
	ss.Put(s)
	labels := map[string]string{"model": "fraud", "subject": "x"}
	if _, ok := ss.Match(labels, t0.Add(time.Minute)); !ok {
		t.Fatal("not matched")
	}
	if _, ok := ss.Match(map[string]string{"model": "churn"}, t0.Add(time.Minute)); ok {
		t.Fatal("another model matched")
	}
	expired := s
	expired.EndsAt, expired.UpdatedAt = t0.Add(2*time.Minute), t0.Add(2*time.Minute)
	ss.Put(expired)
	ss.Put(s) // a stale read of the store
	if _, ok := ss.Match(labels, t0.Add(3*time.Minute)); ok {
		t.Fatal("matched after its expiry")
	}
	if got := ss.Active(t0.Add(3 * time.Minute)); len(got) != 0 {
		t.Errorf("active %v", got)
	}
	var _ sinks.Silence = s
}
