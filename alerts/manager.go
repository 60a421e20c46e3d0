package alerts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/driftwatch/driftwatch/alerts/actions"
	"github.com/driftwatch/driftwatch/alerts/alertmanager"
	"github.com/driftwatch/driftwatch/sinks"
	"github.com/driftwatch/driftwatch/stats/drift"
)

// Notifier delivers alerts: alertmanager.Client.
type Notifier interface {
	Fire(a alertmanager.Alert)
	Resolve(labels map[string]string, at time.Time)
	// Forget stops re-sending a firing alert without resolving it.
	Forget(labels map[string]string)
}

// ManagerConfig configures a Manager.
type ManagerConfig struct {
	Rules Rules // nil: DefaultRules
	// Notifier, when set, gets every alert that fires or resolves.
	Notifier Notifier
	// DashboardURL and RunbookURL become the alerts' dashboard and
	// runbook_url annotations; {model}, {model_version} and {subject} in
	// them are replaced. A rule's own runbook URL wins over RunbookURL.
	DashboardURL, RunbookURL string
	// Labels are added to every alert's labels (e.g. env, cluster); they
	// cannot replace the alert's own.
	Labels map[string]string
	// Receiver and ActionReceiver name where the Notifier and Trigger
	// deliver (URLs, topic), for the audit trail.
	Receiver, ActionReceiver string
	// Audit, when set, writes the audit trail (sinks/clickhouse's
	// WriteAlertHistory): every state change and action, with its
	// evidence, written by Run in batches, retried until it succeeds or
	// Run's context ends; past AuditQueue waiting records the oldest are
	// dropped and counted.
	Audit      func(ctx context.Context, recs []sinks.AlertRecord) error
	AuditQueue int // default 1024
	// Trigger, when set, takes the retrain and rollback actions that
	// firing alerts call for (actions.Dispatcher's Trigger: it returns
	// false when one was triggered for the model version within its
	// interval).
	Trigger func(actions.Action) bool
	// Retrain and Rollback say which alerts call for an action.
	Retrain, Rollback ActionPolicy
	// OnEvent, when set, is called with every state change after it was
	// handed to the Notifier.
	OnEvent func(Event)
	// Load, when set, reads a model's firing alerts back from the audit
	// trail (as Restore takes them), for Own: scale-out, where a model's
	// alerts follow the instance that merges its windows.
	Load func(ctx context.Context, model string) ([]sinks.AlertRecord, error)
	// Silences, when set, mutes the alerts one of them matches as they
	// fire: not sent to the Notifier, no action taken, recorded in the
	// audit trail as silenced. Unmute sends those still firing once no
	// silence matches them any more.
	Silences *Silences
	Log      *slog.Logger
	Now      func() time.Time
}

// ActionPolicy says which firing alerts call for an action: those of the
// Families at Severity or more severe. NewVersionWithin, for rollback, also
// asks that the model version be new: its first window at most that long
// before the alert's window, with an earlier version of the model seen
// before it (one to roll back to).
type ActionPolicy struct {
	Severity         Severity      `yaml:"severity"`
	Families         []string      `yaml:"families"`
	NewVersionWithin time.Duration `yaml:"new_version_within"`
}

// DefaultRetrain: drift warnings or worse on inputs, outputs, labels,
// performance or fairness.
func DefaultRetrain() ActionPolicy {
	return ActionPolicy{Severity: Sev3, Families: []string{drift.FamilyData, drift.FamilyPrediction, drift.FamilyLabel, drift.FamilyConcept, drift.FamilyFairness}}
}

// DefaultRollback: a page (SEV-1) about performance, serving or the
// predictions within two days of a new version's first window.
func DefaultRollback() ActionPolicy {
	return ActionPolicy{Severity: Sev1, Families: []string{drift.FamilyConcept, drift.FamilyServing, drift.FamilyPrediction}, NewVersionWithin: 48 * time.Hour}
}

// Validate reports a severity or family that is not one. The zero policy
// (no families) calls for nothing.
func (p ActionPolicy) Validate() error {
	if len(p.Families) > 0 && rank(p.Severity) > 4 {
		return fmt.Errorf("severity %q: want SEV-1, SEV-2, SEV-3 or SEV-4", p.Severity)
	}
	for _, f := range p.Families {
		if !slices.Contains(families, f) {
			return fmt.Errorf("family %q: want one of %v", f, families)
		}
	}
	if p.NewVersionWithin < 0 {
		return fmt.Errorf("new_version_within %s: must not be negative", p.NewVersionWithin)
	}
	return nil
}

func (p *ActionPolicy) calls(ev *Event) bool {
	return len(p.Families) > 0 && rank(ev.Severity) <= rank(p.Severity) && slices.Contains(p.Families, ev.Family)
}

// Manager turns committed rows into alerts: it runs the Engine, logs each
// change of state, and hands it to the Notifier. Observe is called by the
// pipeline's commit stage after each commit, one call at a time.
type Manager struct {
	cfg    ManagerConfig
	engine *Engine
	// engineMu guards engine and owned: Handover comes from the windows
	// stage, the rest from the commit stage.
	engineMu sync.Mutex
	owned    map[string]bool // with cfg.Load: models whose alerts were read back since the last Handover

	// firstSeen holds, per model, the first window start of each version.
	firstSeen map[string]map[string]time.Time

	mu      sync.Mutex
	counts  ManagerCounts
	pending []sinks.AlertRecord // audit records waiting for Run
	wake    chan struct{}
	// queued counts the audit records ever queued, settled those written
	// or dropped; progress is closed (and replaced) whenever settled grows.
	queued, settled uint64
	progress        chan struct{}
	undelivered     []timedEvent           // state changes observed, waiting for Sync
	muted           map[string]*timedEvent // silenced firing alerts, by Fingerprint

	// deliverMu makes deliver and Unmute one at a time, so that an alert
	// unmuted as it resolves is not sent after its resolution.
	deliverMu sync.Mutex
}

// ManagerCounts are the state changes so far, by state.
type ManagerCounts struct {
	Fired, Resolved int64
	Firing          int64 // alerts firing now
	Audited         int64 // audit records written
	AuditDropped    int64 // audit records dropped for AuditQueue
	AuditFailures   int64 // failed audit writes (each retried)
	Retrains        int64 // retrain actions triggered
	Rollbacks       int64 // rollback actions triggered
	Silenced        int64 // firing alerts muted by a silence
	Unmuted         int64 // muted alerts sent when their silence ended
	// ResolvedForgotten counts resolutions the engine forgot to stay
	// bounded: a late re-emission of a window before such a one may fire
	// its alert again.
	ResolvedForgotten int64
}

// NewManager returns a Manager; the rules must be valid.
func NewManager(cfg ManagerConfig) (*Manager, error) {
	if cfg.Rules == nil {
		cfg.Rules = DefaultRules()
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.AuditQueue <= 0 {
		cfg.AuditQueue = 1024
	}
	e, err := NewEngine(cfg.Rules)
	if err != nil {
		return nil, err
	}
	for name, p := range map[string]ActionPolicy{"retrain": cfg.Retrain, "rollback": cfg.Rollback} {
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("alerts.actions.%s: %w", name, err)
		}
	}
	return &Manager{cfg: cfg, engine: e, wake: make(chan struct{}, 1), progress: make(chan struct{}), firstSeen: make(map[string]map[string]time.Time)}, nil
}

// Classify sets the rows' severities by the Manager's rules.
func (m *Manager) Classify(rows []drift.Row) { m.engine.rules.classify(rows) }

// Counts returns a snapshot. Safe for concurrent use.
func (m *Manager) Counts() ManagerCounts {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.counts
}

// Observe feeds committed rows to the engine (complete: every row of their
// windows, as they closed) and queues the audit records of what changed;
// Sync delivers it once they are written.
func (m *Manager) Observe(rows []drift.Row, complete bool) {
	m.engineMu.Lock() // firstSeen is read by Unmute's actions
	for i := range rows {
		r := &rows[i]
		vs := m.firstSeen[r.Model]
		if vs == nil {
			vs = make(map[string]time.Time)
			m.firstSeen[r.Model] = vs
		}
		if t, ok := vs[r.ModelVersion]; !ok || r.WindowStart.Before(t) {
			vs[r.ModelVersion] = r.WindowStart
		}
	}
	events := m.engine.Observe(rows, complete)
	firing := m.engine.Firing()
	m.engineMu.Unlock()
	if len(events) == 0 {
		return
	}
	now := m.cfg.Now()
	timed := make([]timedEvent, len(events))
	for i := range events {
		timed[i] = timedEvent{Event: events[i], at: now}
		r := m.auditRecord(&events[i], now)
		if events[i].State == StateFiring && m.cfg.Silences != nil {
			if s, ok := m.cfg.Silences.Match(m.labels(&events[i]), now); ok {
				timed[i].silence = s.ID
				r.Delivered, r.Error = false, fmt.Sprintf("silenced by %s until %s", s.ID, s.EndsAt.UTC().Format(time.RFC3339))
			}
		}
		m.record(r)
	}
	m.mu.Lock()
	for i := range events {
		if events[i].State == StateFiring {
			m.counts.Fired++
		} else {
			m.counts.Resolved++
		}
	}
	m.undelivered = append(m.undelivered, timed...)
	m.counts.Firing = int64(firing)
	m.counts.ResolvedForgotten = m.engine.forgotten
	m.mu.Unlock()
}

// Handover, with ManagerConfig.Load set, forgets every alert, because the
// models' windows may be
// merged by another instance from now on (scale-out: the partials
// partitions moved): the Notifier stops re-sending the firing ones without
// resolving them, and a model's firing alerts are read back (Own) before
// its next rows are observed, from the audit trail its previous owner
// wrote before its windows were acknowledged.
func (m *Manager) Handover() {
	if m.cfg.Load == nil {
		return // one instance owns every model: its state stays
	}
	m.engineMu.Lock()
	defer m.engineMu.Unlock()
	for k, st := range m.engine.alerts {
		if st.firing && m.cfg.Notifier != nil {
			ev := Event{Rule: m.engine.rules[k.rule], Severity: m.engine.rules[k.rule].Sev, Model: k.model, Version: k.version, Family: k.family, Subject: k.subject}
			m.cfg.Notifier.Forget(m.labels(&ev))
		}
	}
	clear(m.engine.alerts)
	clear(m.engine.resolved)
	clear(m.owned)
	m.mu.Lock()
	clear(m.muted)
	m.counts.Firing = 0
	m.mu.Unlock()
}

// Own reads back, with ManagerConfig.Load, the firing alerts of the models
// of rows not read back since the last Handover (or since the start); it
// does nothing without Load.
func (m *Manager) Own(ctx context.Context, rows []drift.Row) error {
	if m.cfg.Load == nil {
		return nil
	}
	var models []string
	m.engineMu.Lock()
	for i := range rows {
		if model := rows[i].Model; !m.owned[model] && !slices.Contains(models, model) {
			models = append(models, model)
		}
	}
	m.engineMu.Unlock()
	for _, model := range models {
		recs, err := m.cfg.Load(ctx, model)
		if err != nil {
			return fmt.Errorf("read back the firing alerts of model %s: %w", model, err)
		}
		m.Restore(recs)
		m.engineMu.Lock()
		if m.owned == nil {
			m.owned = make(map[string]bool)
		}
		m.owned[model] = true
		m.engineMu.Unlock()
	}
	return nil
}

// timedEvent is a state change waiting for Sync, with when it was seen
// and the silence that muted it, if one did.
type timedEvent struct {
	Event
	at      time.Time
	silence string
}

// deliver logs the state changes observed and not yet delivered, hands
// them to the Notifier and OnEvent, and takes the actions firing alerts
// call for.
func (m *Manager) deliver() {
	m.deliverMu.Lock()
	defer m.deliverMu.Unlock()
	m.mu.Lock()
	events := m.undelivered
	m.undelivered = nil
	m.mu.Unlock()
	for i := range events {
		ev, now := &events[i].Event, events[i].at
		level := slog.LevelWarn
		if ev.State == StateResolved || ev.Severity == Sev4 {
			level = slog.LevelInfo
		}
		fp := Fingerprint(m.labels(ev))
		m.mu.Lock()
		wasMuted := m.muted[fp] != nil
		switch {
		case events[i].silence != "":
			if m.muted == nil {
				m.muted = make(map[string]*timedEvent)
			}
			m.muted[fp] = &events[i]
			m.counts.Silenced++
		case ev.State == StateResolved:
			delete(m.muted, fp)
		}
		m.mu.Unlock()
		if events[i].silence != "" {
			m.cfg.Log.Info("alert silenced", "alertname", ev.Rule.Alert, "severity", ev.Severity, "model", ev.Model, "model_version", ev.Version,
				"family", ev.Family, "subject", ev.Subject, "silence", events[i].silence)
			if m.cfg.OnEvent != nil {
				m.cfg.OnEvent(*ev)
			}
			continue
		}
		m.cfg.Log.Log(context.Background(), level, "alert "+ev.State, "alertname", ev.Rule.Alert, "severity", ev.Severity,
			"model", ev.Model, "model_version", ev.Version, "family", ev.Family, "subject", ev.Subject,
			"window_start", ev.WindowStart, "windows", ev.Windows, "evidence", evidence(ev.Evidence))
		if n := m.cfg.Notifier; n != nil && !(wasMuted && ev.State == StateResolved) { // a muted alert was never sent
			if ev.State == StateFiring {
				n.Fire(m.alert(ev, now))
			} else {
				n.Resolve(m.labels(ev), now)
			}
		}
		if m.cfg.OnEvent != nil {
			m.cfg.OnEvent(*ev)
		}
		if ev.State == StateFiring {
			m.act(ev, now)
		}
	}
}

// Unmute sends the muted alerts that no silence matches at now (their
// silence ended or was expired) and still fire: to the Notifier, with the
// actions they call for, recorded as delivered. It returns how many. Safe
// to call while the pipeline commits.
func (m *Manager) Unmute(now time.Time) int {
	if m.cfg.Silences == nil {
		return 0
	}
	m.deliverMu.Lock()
	defer m.deliverMu.Unlock()
	m.mu.Lock()
	var due []*timedEvent
	for fp, ev := range m.muted {
		if _, still := m.cfg.Silences.Match(m.labels(&ev.Event), now); !still {
			due = append(due, ev)
			delete(m.muted, fp)
		}
	}
	m.counts.Unmuted += int64(len(due))
	m.mu.Unlock()
	m.engineMu.Lock() // act reads firstSeen, which Observe writes
	defer m.engineMu.Unlock()
	for _, ev := range due {
		m.cfg.Log.Warn("alert firing after its silence", "alertname", ev.Rule.Alert, "severity", ev.Severity, "model", ev.Model,
			"model_version", ev.Version, "family", ev.Family, "subject", ev.Subject, "silence", ev.silence)
		if n := m.cfg.Notifier; n != nil {
			n.Fire(m.alert(&ev.Event, now))
		}
		r := m.auditRecord(&ev.Event, now)
		if r.Delivered {
			r.Error = "sent when silence " + ev.silence + " ended"
		}
		m.record(r)
		m.act(&ev.Event, now)
	}
	return len(due)
}

// alert is ev as Alertmanager gets it, detected at now.
func (m *Manager) alert(ev *Event, now time.Time) alertmanager.Alert {
	subst := strings.NewReplacer("{model}", ev.Model, "{model_version}", ev.Version, "{subject}", ev.Subject)
	summary := ev.Rule.Summary
	if summary == "" {
		summary = ev.Rule.Name
	}
	ann := map[string]string{
		"summary": fmt.Sprintf("%s %s: %s (%s)", ev.Model, ev.Version, summary, ev.Subject),
		"description": fmt.Sprintf("%s breached rule %s in %d consecutive window(s), the newest %s to %s: %s",
			ev.Subject, ev.Rule.Name, ev.Windows, ev.WindowStart.UTC().Format(time.RFC3339), ev.WindowEnd.UTC().Format(time.RFC3339), evidence(ev.Evidence)),
	}
	if m.cfg.DashboardURL != "" {
		ann["dashboard"] = subst.Replace(m.cfg.DashboardURL)
	}
	if rb := ev.Rule.Runbook; rb != "" {
		ann["runbook_url"] = subst.Replace(rb)
	} else if m.cfg.RunbookURL != "" {
		ann["runbook_url"] = subst.Replace(m.cfg.RunbookURL)
	}
	return alertmanager.Alert{Labels: m.labels(ev), Annotations: ann, StartsAt: now}
}

// labels are ev's labels with the configured ones added.
func (m *Manager) labels(ev *Event) map[string]string {
	l := ev.Labels()
	for k, v := range m.cfg.Labels {
		if _, own := l[k]; !own {
			l[k] = v
		}
	}
	return l
}

// evidence is rows as "family/metric=value (threshold t, p=…, n=…)".
func evidence(rows []drift.Row) string {
	parts := make([]string, 0, min(len(rows), 8))
	for i, r := range rows {
		if i == 8 {
			parts = append(parts, fmt.Sprintf("and %d more", len(rows)-8))
			break
		}
		s := fmt.Sprintf("%s/%s=%.4g (threshold %.4g", r.Family, r.Metric, r.Value, r.Threshold)
		if r.PValue != nil {
			s += fmt.Sprintf(", p=%.3g", *r.PValue)
		}
		parts = append(parts, s+fmt.Sprintf(", n=%d)", r.NCurrent))
	}
	return strings.Join(parts, "; ")
}

// auditRecord is ev as the audit trail keeps it.
func (m *Manager) auditRecord(ev *Event, at time.Time) sinks.AlertRecord {
	r := sinks.AlertRecord{Model: ev.Model, Version: ev.Version, WindowStart: ev.WindowStart, WindowEnd: ev.WindowEnd,
		Family: ev.Family, Subject: ev.Subject, State: ev.State, Alertname: ev.Rule.Alert, Severity: string(ev.Severity),
		Fingerprint: Fingerprint(m.labels(ev)), Receiver: m.cfg.Receiver, SentAt: at, Delivered: m.cfg.Notifier != nil}
	if len(ev.Evidence) > 0 {
		r.Metric, r.Value, r.Threshold = ev.Evidence[0].Metric, ev.Evidence[0].Value, ev.Evidence[0].Threshold
	}
	if b, err := json.Marshal(ev.Evidence); err == nil {
		r.Evidence = string(b)
	} else {
		r.Evidence, r.Error = "[]", "evidence: "+err.Error()
	}
	if !r.Delivered {
		r.Error = "no alertmanager configured: logged only"
	}
	return r
}

// record queues r for the audit trail, dropping the oldest past the bound.
func (m *Manager) record(r sinks.AlertRecord) {
	if m.cfg.Audit == nil {
		return
	}
	m.mu.Lock()
	if len(m.pending) >= m.cfg.AuditQueue {
		m.pending = m.pending[1:]
		m.counts.AuditDropped++
		m.settle(1)
	}
	m.pending = append(m.pending, r)
	m.queued++
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Run writes the audit trail until ctx ends, then makes one last attempt
// at what is waiting (bounded by a few seconds). Without Audit it waits for
// ctx.
func (m *Manager) Run(ctx context.Context) error {
	if m.cfg.Audit == nil {
		<-ctx.Done()
		return nil
	}
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval, b.MaxElapsedTime = 500*time.Millisecond, 30*time.Second, 0
	for {
		select {
		case <-ctx.Done():
			flush, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			m.flush(flush)
			cancel()
			return nil
		case <-m.wake:
		}
		for !m.flush(ctx) && sleep(ctx, b.NextBackOff()) {
		}
		b.Reset()
	}
}

// sleep waits d; it reports false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// flush writes what is waiting; it reports whether nothing is left.
func (m *Manager) flush(ctx context.Context) bool {
	m.mu.Lock()
	batch := m.pending
	m.pending = nil
	m.mu.Unlock()
	if len(batch) == 0 {
		return true
	}
	if err := m.cfg.Audit(ctx, batch); err != nil {
		m.cfg.Log.Warn("alert audit trail write failed; retrying", "records", len(batch), "err", err)
		m.mu.Lock()
		m.counts.AuditFailures++
		m.pending = append(batch, m.pending...)
		if over := len(m.pending) - m.cfg.AuditQueue; over > 0 {
			m.pending = m.pending[over:]
			m.counts.AuditDropped += int64(over)
			m.settle(over)
		}
		m.mu.Unlock()
		return false
	}
	m.mu.Lock()
	m.counts.Audited += int64(len(batch))
	m.settle(len(batch))
	m.mu.Unlock()
	return true
}

// settle notes n audit records written or dropped, waking Sync. The
// caller holds m.mu.
func (m *Manager) settle(n int) {
	m.settled += uint64(n)
	close(m.progress)
	m.progress = make(chan struct{})
}

// Sync makes the state changes observed so far known: it waits until the
// audit record of each is written (or, past AuditQueue, dropped and
// counted), so that a job restarted after it reads them back, then logs
// them, hands them to the Notifier and OnEvent and takes the actions
// firing alerts call for. An alert is thus announced only once it is on
// record. It returns ctx's error, delivering nothing, if ctx ends first.
// Run must be running when there is an Audit.
func (m *Manager) Sync(ctx context.Context) error {
	m.mu.Lock()
	target := m.queued
	for m.settled < target {
		progress := m.progress
		m.mu.Unlock()
		select {
		case <-progress:
		case <-ctx.Done():
			return fmt.Errorf("wait for the alert audit trail: %w", ctx.Err())
		}
		m.mu.Lock()
	}
	m.mu.Unlock()
	m.deliver()
	return nil
}

// Fingerprint is an alert's identity in the audit trail: a hash of its
// sorted labels.
func Fingerprint(labels map[string]string) string {
	names := make([]string, 0, len(labels))
	for k := range labels {
		names = append(names, k)
	}
	slices.Sort(names)
	h := sha256.New()
	for _, k := range names {
		h.Write([]byte(k))
		h.Write([]byte{0xff})
		h.Write([]byte(labels[k]))
		h.Write([]byte{0xff})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// Restore takes back alerts that were firing when driftwatch stopped (the
// audit trail's newest record of each, sinks/clickhouse's
// LoadFiringAlerts): each fires again, as one breaching window of its rule,
// and resolves like any other once its subject has been clear for the
// rule's Clear windows. Records whose alertname and severity no rule has
// are skipped and counted.
func (m *Manager) Restore(recs []sinks.AlertRecord) (restored, skipped int) {
	now := m.cfg.Now()
	m.engineMu.Lock()
	defer m.engineMu.Unlock()
	for _, r := range recs {
		i := slices.IndexFunc(m.engine.rules, func(x Rule) bool { return x.Alert == r.Alertname && string(x.Sev) == r.Severity })
		if i < 0 {
			skipped++
			continue
		}
		k := alertKey{i, r.Model, r.Version, r.Family, r.Subject}
		m.engine.alerts[k] = &alertState{firing: true, windows: []verdict{{start: r.WindowStart, end: r.WindowEnd, breach: true}}}
		ev := Event{State: StateFiring, Rule: m.engine.rules[i], Severity: m.engine.rules[i].Sev, Model: r.Model, Version: r.Version,
			Family: r.Family, Subject: r.Subject, WindowStart: r.WindowStart, WindowEnd: r.WindowEnd, Windows: 1}
		var rows []drift.Row
		if json.Unmarshal([]byte(r.Evidence), &rows) == nil {
			ev.Evidence = rows
		}
		if n := m.cfg.Notifier; n != nil {
			a := m.alert(&ev, r.SentAt)
			a.Annotations["description"] += " (still firing after a driftwatch restart)"
			n.Fire(a)
		}
		restored++
	}
	m.mu.Lock()
	m.counts.Firing = int64(m.engine.Firing())
	m.mu.Unlock()
	if restored+skipped > 0 {
		m.cfg.Log.Info("firing alerts read back", "alerts", restored, "without_their_rule", skipped, "at", now)
	}
	return restored, skipped
}

// act triggers the actions ev calls for.
func (m *Manager) act(ev *Event, now time.Time) {
	if m.cfg.Trigger == nil {
		return
	}
	for _, kind := range []string{actions.KindRetrain, actions.KindRollback} {
		p := &m.cfg.Retrain
		if kind == actions.KindRollback {
			p = &m.cfg.Rollback
			if !m.newVersion(ev, p.NewVersionWithin) {
				continue
			}
		}
		if !p.calls(ev) {
			continue
		}
		a := actions.Action{ID: actions.MakeID(kind, ev.Model, ev.Version, ev.WindowStart), Kind: kind, Model: ev.Model, ModelVersion: ev.Version,
			Reason: ev.Rule.Alert, Severity: string(ev.Severity), WindowStart: ev.WindowStart, WindowEnd: ev.WindowEnd, Evidence: ev.Evidence, At: now}
		if !m.cfg.Trigger(a) {
			continue // one of its kind for this version within the interval already
		}
		m.cfg.Log.Warn("action triggered", "action", kind, "model", ev.Model, "model_version", ev.Version, "reason", ev.Rule.Alert,
			"severity", ev.Severity, "subject", ev.Subject, "window_start", ev.WindowStart, "evidence", evidence(ev.Evidence))
		r := m.auditRecord(ev, now)
		r.State, r.Receiver, r.Error = "action:"+kind, m.cfg.ActionReceiver, ""
		m.record(r)
		m.mu.Lock()
		if kind == actions.KindRetrain {
			m.counts.Retrains++
		} else {
			m.counts.Rollbacks++
		}
		m.mu.Unlock()
	}
}

// newVersion reports whether ev's model version first showed up within
// within of ev's window, after another version of its model.
func (m *Manager) newVersion(ev *Event, within time.Duration) bool {
	vs := m.firstSeen[ev.Model]
	first, ok := vs[ev.Version]
	if !ok || ev.WindowStart.Sub(first) > within {
		return false
	}
	for v, t := range vs {
		if v != ev.Version && t.Before(first) {
			return true
		}
	}
	return false
}
