package alerts

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/stats/drift"
)

var t0 = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)

// windowRows returns window w's rows of model fraud: feature amount's
// verdict (psi, drifted as given) and a clear null rate.
func windowRows(w int, amountDrifted bool) []drift.Row {
	head := drift.Row{Model: "fraud", ModelVersion: "1", WindowStart: t0.Add(time.Duration(w) * time.Hour), WindowEnd: t0.Add(time.Duration(w+1) * time.Hour)}
	psi, nulls := head, head
	psi.Family, psi.Subject, psi.Metric, psi.Primary, psi.Drifted, psi.Value, psi.Threshold = drift.FamilyData, "amount", "psi", true, amountDrifted, 0.3, 0.2
	nulls.Family, nulls.Subject, nulls.Metric = drift.FamilyQuality, "amount", "null_rate"
	return []drift.Row{psi, nulls}
}

func newEngine(t *testing.T, rules Rules) *Engine {
	t.Helper()
	e, err := NewEngine(rules)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// run feeds windows from, from+1, ... with the given drift verdicts of
// amount and returns, per window, the events as "state alertname subject".
func run(e *Engine, from int, verdicts ...bool) []string {
	var out []string
	for i, d := range verdicts {
		var evs []string
		for _, ev := range e.Observe(windowRows(from+i, d), true) {
			evs = append(evs, fmt.Sprintf("%s %s %s", ev.State, ev.Rule.Alert, ev.Subject))
		}
		out = append(out, strings.Join(evs, ","))
	}
	return out
}

func TestEngineFiresAfterForAndResolvesAfterClear(t *testing.T) {
	e := newEngine(t, DefaultRules()) // drift: for 2, clear 2
	got := run(e, 0, false, true, true, true, false, true, false, false, false)
	want := []string{"", "", "firing DriftwatchDrift amount", "", "", "", "", "resolved DriftwatchDrift amount", ""}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("events by window\n got %q\nwant %q", got, want)
	}
	if e.Firing() != 0 || len(e.alerts) != 0 {
		t.Errorf("%d firing, %d alerts kept after the resolution", e.Firing(), len(e.alerts))
	}
}

func TestEngineDoesNotFlap(t *testing.T) {
	e := newEngine(t, DefaultRules())
	// Alternating verdicts never make two breaching windows in a row ...
	for _, evs := range run(e, 0, true, false, true, false, true, false, true, false) {
		if evs != "" {
			t.Fatalf("alternating verdicts gave events %q", evs)
		}
	}
	// ... and once firing, never two clear ones: it stays firing.
	got := run(e, 8, true, true, false, true, false, true, false, true)
	for w, evs := range got {
		if w != 1 && evs != "" || w == 1 && evs != "firing DriftwatchDrift amount" {
			t.Fatalf("events by window %q: want one firing, then nothing", got)
		}
	}
}

func TestEngineEvidenceLabelsAndOrder(t *testing.T) {
	e := newEngine(t, DefaultRules())
	rows := windowRows(0, true)
	down := rows[0]
	down.Family, down.Subject, down.Metric, down.Primary = drift.FamilyServing, "prediction", drift.MetricThroughput, false
	rows = append(rows, down)
	evs := e.Observe(rows, true)
	if len(evs) != 1 || evs[0].Rule.Name != "model_down" || evs[0].Severity != Sev1 {
		t.Fatalf("events %+v, want model_down (SEV-1) only: drift needs two windows", evs)
	}
	ev := evs[0]
	l := ev.Labels()
	if l["alertname"] != "DriftwatchModelDown" || l["severity"] != "SEV-1" || l["model"] != "fraud" || l["model_version"] != "1" ||
		l["family"] != drift.FamilyServing || l["subject"] != "prediction" {
		t.Errorf("labels %v", l)
	}
	if len(ev.Evidence) != 1 || ev.Evidence[0].Metric != drift.MetricThroughput || !ev.WindowStart.Equal(t0) {
		t.Errorf("evidence %+v of window %s", ev.Evidence, ev.WindowStart)
	}
	evs = e.Observe(windowRows(1, true), true)
	if len(evs) != 2 || evs[0].Severity != Sev1 || evs[0].State != StateResolved || evs[1].Rule.Name != "drift" {
		t.Errorf("second window: %+v; want model_down resolved (clear 1; no row is clear) first, then drift firing", evs)
	}
}

// TestEngineClaimsEachRowOnce: a row breaching a severe rule is not also a
// breach of the catch-all minor rule.
func TestEngineClaimsEachRowOnce(t *testing.T) {
	e := newEngine(t, DefaultRules())
	row := windowRows(0, false)[0]
	row.Family, row.Subject, row.Metric, row.Primary, row.Drifted = drift.FamilyFairness, "gender", drift.MetricDisparateImpact, false, true
	evs := e.Observe([]drift.Row{row}, true)
	if len(evs) != 1 || evs[0].Rule.Name != "fairness_breach" {
		t.Errorf("events %+v, want fairness_breach alone", evs)
	}
}

// TestEngineRelabelUpdatesOnlyWhatItCarries: rows re-emitted for an older
// window (late labels) change the alerts they select, and do not count as
// a clear window for the others.
func TestEngineRelabelUpdatesOnlyWhatItCarries(t *testing.T) {
	e := newEngine(t, DefaultRules())
	run(e, 0, true, true) // drift on amount fires at window 1
	acc := windowRows(0, false)[0]
	acc.Family, acc.Subject, acc.Metric, acc.Primary, acc.Drifted, acc.Value, acc.NCurrent = drift.FamilyConcept, "performance", drift.MetricAccuracy, false, true, 0.3, 500
	evs := e.Observe([]drift.Row{acc}, false)
	if len(evs) != 1 || evs[0].Rule.Name != "accuracy_collapse" || evs[0].State != StateFiring {
		t.Fatalf("late labels' rows: events %+v, want accuracy_collapse firing", evs)
	}
	if e.Firing() != 2 {
		t.Errorf("%d alerts firing, want drift's and accuracy's", e.Firing())
	}
	acc.Value, acc.NCurrent, acc.Drifted = 0.3, 50, false // too few labels to judge a hard floor
	acc.WindowStart, acc.WindowEnd = t0.Add(5*time.Hour), t0.Add(6*time.Hour)
	if evs := e.Observe([]drift.Row{acc}, false); len(evs) != 0 {
		t.Errorf("events %+v from a row under min_samples", evs)
	}
}

func TestRulesValidate(t *testing.T) {
	for _, c := range []struct {
		rule Rule
		want string
	}{
		{Rule{Sev: Sev1}, "name: required"},
		{Rule{Name: "x", Sev: "SEV-5"}, `severity "SEV-5"`},
		{Rule{Name: "x", Sev: Sev2, Compare: "=="}, `compare "=="`},
		{Rule{Name: "x", Sev: Sev2, For: -1}, "for -1"},
		{Rule{Name: "x", Sev: Sev2, Clear: 65}, "clear 65"},
		{Rule{Name: "x", Sev: Sev2, Subject: "[a"}, `subject pattern "[a"`},
		{Rule{Name: "x", Sev: Sev2, Family: "dat"}, `family "dat"`},
		{Rule{Name: "x", Sev: Sev2, MinSamples: -1}, "min_samples -1"},
	} {
		err := Rules{c.rule}.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one containing %q", c.rule, err, c.want)
		}
	}
	if err := (Rules{{Name: "a", Sev: Sev1}, {Name: "a", Sev: Sev2}}).Validate(); err == nil || !strings.Contains(err.Error(), "name used twice") {
		t.Errorf("duplicate names: %v", err)
	}
	if err := DefaultRules().Validate(); err != nil {
		t.Errorf("default rules: %v", err)
	}
}

// TestEngineSubjectTakesItsWorst: the secondary tests that drifted with a
// subject's verdict are not a minor alert of their own.
func TestEngineSubjectTakesItsWorst(t *testing.T) {
	e := newEngine(t, Rules{{Name: "drift", Primary: true, Sev: Sev3}, {Name: "minor", Sev: Sev4}})
	rows := windowRows(0, true)
	ks := rows[0]
	ks.Metric, ks.Primary = "ks", false
	evs := e.Observe(append(rows, ks), true)
	if len(evs) != 1 || evs[0].Rule.Name != "drift" {
		t.Fatalf("events %+v, want drift alone", evs)
	}
	rows = windowRows(1, false)
	ks.WindowStart, ks.WindowEnd = rows[0].WindowStart, rows[0].WindowEnd
	if evs := e.Observe(append(rows, ks), true); len(evs) != 1 || evs[0].Rule.Name != "minor" || evs[0].State != StateFiring {
		t.Errorf("a secondary test drifting alone: events %+v, want minor firing", evs)
	}
}

// TestEngineReemissionDoesNotRefire: rows that late labels re-emit for a
// window the alert already fired and resolved over do not fire it again
// (each batch of labels re-emits the window's rows); a window newer than
// the resolution still can.
func TestEngineReemissionDoesNotRefire(t *testing.T) {
	e := newEngine(t, Rules{{Name: "concept", Family: drift.FamilyConcept, Sev: Sev3, For: 1, Clear: 2}})
	adwin := func(w int, drifted bool) []drift.Row {
		x := windowRows(w, false)[0]
		x.Family, x.Subject, x.Metric, x.Primary, x.Drifted = drift.FamilyConcept, "error_stream", "adwin", false, drifted
		return []drift.Row{x}
	}
	var got []string
	observe := func(rows []drift.Row, complete bool) {
		var evs []string
		for _, ev := range e.Observe(rows, complete) {
			evs = append(evs, ev.State)
		}
		got = append(got, strings.Join(evs, ","))
	}
	observe(adwin(0, false), true)
	observe(adwin(1, true), true)  // fires
	observe(adwin(2, false), true) // clear
	observe(adwin(3, false), true) // clear: resolves
	observe(adwin(1, true), false) // window 1 again, with more labels
	observe(adwin(3, false), false)
	observe(adwin(1, true), false)
	observe(adwin(4, true), false) // a window after the resolution: a new breach
	want := []string{"", "firing", "", "resolved", "", "", "", "firing"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("events by observation\n got %q\nwant %q", got, want)
	}
}
