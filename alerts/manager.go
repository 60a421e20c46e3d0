package alerts

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/driftwatch/driftwatch/alerts/alertmanager"
	"github.com/driftwatch/driftwatch/stats/drift"
)

// Notifier delivers alerts: alertmanager.Client.
type Notifier interface {
	Fire(a alertmanager.Alert)
	Resolve(labels map[string]string, at time.Time)
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
	// OnEvent, when set, is called with every state change after it was
	// handed to the Notifier (the audit trail, actions).
	OnEvent func(Event)
	Log     *slog.Logger
	Now     func() time.Time
}

// Manager turns committed rows into alerts: it runs the Engine, logs each
// change of state, and hands it to the Notifier. Observe is called by the
// pipeline's commit stage after each commit, one call at a time.
type Manager struct {
	cfg    ManagerConfig
	engine *Engine

	mu     sync.Mutex
	counts ManagerCounts
}

// ManagerCounts are the state changes so far, by state.
type ManagerCounts struct {
	Fired, Resolved int64
	Firing          int64 // alerts firing now
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
	e, err := NewEngine(cfg.Rules)
	if err != nil {
		return nil, err
	}
	return &Manager{cfg: cfg, engine: e}, nil
}

// Classify sets the rows' severities by the Manager's rules.
func (m *Manager) Classify(rows []drift.Row) { m.engine.rules.Classify(rows) }

// Counts returns a snapshot. Safe for concurrent use.
func (m *Manager) Counts() ManagerCounts {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.counts
}

// Observe feeds committed rows to the engine (complete: every row of their
// windows, as they closed) and delivers what changed.
func (m *Manager) Observe(rows []drift.Row, complete bool) {
	events := m.engine.Observe(rows, complete)
	if len(events) == 0 {
		return
	}
	now := m.cfg.Now()
	for i := range events {
		ev := &events[i]
		level := slog.LevelWarn
		if ev.State == StateResolved || ev.Severity == Sev4 {
			level = slog.LevelInfo
		}
		m.cfg.Log.Log(context.Background(), level, "alert "+ev.State, "alertname", ev.Rule.Alert, "severity", ev.Severity,
			"model", ev.Model, "model_version", ev.Version, "family", ev.Family, "subject", ev.Subject,
			"window_start", ev.WindowStart, "windows", ev.Windows, "evidence", evidence(ev.Evidence))
		if n := m.cfg.Notifier; n != nil {
			if ev.State == StateFiring {
				n.Fire(m.alert(ev, now))
			} else {
				n.Resolve(m.labels(ev), now)
			}
		}
		if m.cfg.OnEvent != nil {
			m.cfg.OnEvent(*ev)
		}
	}
	m.mu.Lock()
	for i := range events {
		if events[i].State == StateFiring {
			m.counts.Fired++
		} else {
			m.counts.Resolved++
		}
	}
	m.counts.Firing = int64(m.engine.Firing())
	m.mu.Unlock()
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
