package alerts

import (
	"cmp"
	"slices"
	"time"

	"github.com/driftwatch/driftwatch/stats/drift"
)

// maxHistory bounds the windows of verdicts an alert keeps, and so a rule's
// For and Clear.
const maxHistory = 64

// Alert states of an Event.
const (
	StateFiring   = "firing"
	StateResolved = "resolved"
)

// Event is an alert's change of state: it fired (Rule.For consecutive
// breaching windows) or resolved (Rule.Clear consecutive clear ones).
type Event struct {
	State    string
	Rule     Rule
	Severity Severity
	Model    string
	Version  string
	Family   string
	Subject  string
	// WindowStart and WindowEnd bound the newest window of the run that
	// decided the change; Evidence holds its rows the rule selected (the
	// breaching ones when it fired).
	WindowStart, WindowEnd time.Time
	Evidence               []drift.Row
	// Windows is how many consecutive windows breached (firing) or were
	// clear (resolved).
	Windows int
}

// Labels are the alert's identity in Alertmanager.
func (e *Event) Labels() map[string]string {
	return map[string]string{
		"alertname": e.Rule.Alert, "severity": string(e.Severity), "model": e.Model, "model_version": e.Version,
		"family": e.Family, "subject": e.Subject, "source": "driftwatch",
	}
}

// Engine turns each window's classified rows into alert state changes. It
// keeps, per rule, model version, family and subject, the verdicts of the
// last windows; it is used by one goroutine.
type Engine struct {
	rules  Rules
	alerts map[alertKey]*alertState
	// resolved holds, per alert that resolved, the start of the newest
	// window of its resolution: rows re-emitted later for that window or
	// an older one (late labels) were part of the run that fired and
	// resolved, and do not fire it again. At most maxResolved are kept,
	// the oldest forgotten first (counted in forgotten).
	resolved  map[alertKey]time.Time
	forgotten int64
}

// maxResolved bounds Engine.resolved.
const maxResolved = 10_000

type alertKey struct {
	rule                            int
	model, version, family, subject string
}

type alertState struct {
	windows []verdict // by window start, at most maxHistory
	firing  bool
}

type verdict struct {
	start, end time.Time
	breach     bool
	evidence   []drift.Row
}

// NewEngine returns an Engine with rules, which must be valid.
func NewEngine(rules Rules) (*Engine, error) {
	if err := rules.Validate(); err != nil {
		return nil, err
	}
	return &Engine{rules: rules.prepared(), alerts: make(map[alertKey]*alertState), resolved: make(map[alertKey]time.Time)}, nil
}

// Rules returns the engine's rules, defaults filled, most severe first.
func (e *Engine) Rules() Rules { return e.rules }

// Observe takes committed rows and returns the alerts whose state changed,
// most severe first. complete says the rows are every row of their windows
// (a window as it closed): an alert of the same model version that no row
// breached in such a window counts the window as clear. Otherwise (rows a
// late label re-emitted) only the alerts the rows select are updated. A row
// breaches the first (most severe) rule it breaches only.
func (e *Engine) Observe(rows []drift.Row, complete bool) []Event {
	type windowKey struct {
		model, version string
		start          time.Time
	}
	groups := make(map[windowKey][]int)
	var order []windowKey
	for i := range rows {
		k := windowKey{rows[i].Model, rows[i].ModelVersion, rows[i].WindowStart}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	slices.SortFunc(order, func(a, b windowKey) int { return a.start.Compare(b.start) })
	var events []Event
	for _, wk := range order {
		idx := groups[wk]
		end := rows[idx[0]].WindowEnd
		touched := make(map[alertKey]*verdict)
		// A subject breaching a severe rule is not also a minor alert in
		// the same window (its secondary tests drifted with it).
		type subjectKey struct{ family, subject string }
		claims := make([]int, len(idx))
		worst := make(map[subjectKey]int)
		for n, i := range idx {
			claims[n] = e.rules.match(&rows[i])
			if c := claims[n]; c >= 0 {
				sk := subjectKey{rows[i].Family, rows[i].Subject}
				if w, ok := worst[sk]; !ok || rank(e.rules[c].Sev) < w {
					worst[sk] = rank(e.rules[c].Sev)
				}
			}
		}
		for n, i := range idx {
			x := &rows[i]
			claim := claims[n]
			if claim >= 0 && rank(e.rules[claim].Sev) > worst[subjectKey{x.Family, x.Subject}] {
				claim = -1
			}
			for r := range e.rules {
				if !e.rules[r].selects(x) {
					continue
				}
				k := alertKey{r, x.Model, x.ModelVersion, x.Family, x.Subject}
				v := touched[k]
				if v == nil {
					v = &verdict{start: wk.start, end: end}
					touched[k] = v
				}
				if r == claim {
					if !v.breach {
						v.evidence = v.evidence[:0]
					}
					v.breach = true
					v.evidence = append(v.evidence, *x)
				} else if !v.breach {
					v.evidence = append(v.evidence, *x)
				}
			}
		}
		if complete {
			for k := range e.alerts {
				if k.model == wk.model && k.version == wk.version && touched[k] == nil {
					touched[k] = &verdict{start: wk.start, end: end}
				}
			}
		}
		keys := make([]alertKey, 0, len(touched))
		for k := range touched {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b alertKey) int {
			return cmp.Or(cmp.Compare(a.rule, b.rule), cmp.Compare(a.family, b.family), cmp.Compare(a.subject, b.subject))
		})
		for _, k := range keys {
			if ev, ok := e.update(k, *touched[k]); ok {
				events = append(events, ev)
			}
		}
	}
	slices.SortStableFunc(events, func(a, b Event) int { return rank(a.Severity) - rank(b.Severity) })
	return events
}

// update records v for the alert k and returns its change of state, if any.
func (e *Engine) update(k alertKey, v verdict) (Event, bool) {
	if through, ok := e.resolved[k]; ok && !v.start.After(through) {
		return Event{}, false // already judged: the alert fired and resolved past this window
	}
	s := e.alerts[k]
	if s == nil {
		if !v.breach {
			return Event{}, false // nothing to watch
		}
		s = &alertState{}
		e.alerts[k] = s
	}
	i, found := slices.BinarySearchFunc(s.windows, v.start, func(w verdict, t time.Time) int { return w.start.Compare(t) })
	if found {
		s.windows[i] = v
	} else {
		s.windows = slices.Insert(s.windows, i, v)
	}
	if len(s.windows) > maxHistory {
		s.windows = slices.Delete(s.windows, 0, len(s.windows)-maxHistory)
	}
	r := &e.rules[k.rule]
	last := func(n int, breach bool) bool {
		if len(s.windows) < n {
			return false
		}
		for _, w := range s.windows[len(s.windows)-n:] {
			if w.breach != breach {
				return false
			}
		}
		return true
	}
	newest := s.windows[len(s.windows)-1]
	ev := Event{Rule: *r, Severity: r.Sev, Model: k.model, Version: k.version, Family: k.family, Subject: k.subject,
		WindowStart: newest.start, WindowEnd: newest.end, Evidence: newest.evidence}
	switch {
	case !s.firing && last(r.For, true):
		s.firing = true
		ev.State, ev.Windows = StateFiring, r.For
		return ev, true
	case s.firing && last(r.Clear, false):
		s.firing = false
		ev.State, ev.Windows = StateResolved, r.Clear
		delete(e.alerts, k)
		e.markResolved(k, newest.start)
		return ev, true
	}
	if !s.firing && !slices.ContainsFunc(s.windows, func(w verdict) bool { return w.breach }) {
		delete(e.alerts, k) // nothing breaching left to count
	}
	return Event{}, false
}

// markResolved remembers that k resolved at the window starting at start,
// forgetting the oldest such mark when maxResolved are kept.
func (e *Engine) markResolved(k alertKey, start time.Time) {
	if _, ok := e.resolved[k]; !ok && len(e.resolved) >= maxResolved {
		var oldest alertKey
		first := true
		for key, t := range e.resolved {
			if first || t.Before(e.resolved[oldest]) {
				oldest, first = key, false
			}
		}
		delete(e.resolved, oldest)
		e.forgotten++
	}
	e.resolved[k] = start
}

// Firing returns the alerts firing now.
func (e *Engine) Firing() int {
	n := 0
	for _, s := range e.alerts {
		if s.firing {
			n++
		}
	}
	return n
}
