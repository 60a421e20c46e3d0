package main

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/driftwatch/driftwatch/bench/detect/scenario"
	"github.com/driftwatch/driftwatch/bench/detect/score"
	"github.com/driftwatch/driftwatch/stats/drift"
)

// Goal of issue 16 on this benchmark.
const (
	goalRecall     = 0.95
	goalFalseAlarm = 0.005
)

// render writes DETECTION.md from the outcomes; every figure comes from
// them.
func render(outs []outcome, v versionInfo, evReason string, o options) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	if o.set == "aside" {
		p("# Detection benchmark: streams kept aside\n\n")
		p("Written by `make bench-detect` (bench/detect -set aside) on %s; do not edit by hand.\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
		p("The same kinds of change as bench/DETECTION.md, at other window sizes (200 to 50,000 records), strengths and seeds (scenario.Aside), which driftwatch's defaults were not tuned on. Evidently is not run here.\n\n")
	} else {
		p("# Detection benchmark\n\n")
		p("Written by `make bench-detect` (bench/detect) on %s; do not edit by hand.\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	}
	p("Streams of our own (bench/detect/scenario, on internal/synth), each %d hourly windows with the change starting in window %d (0-based), ground truth written beside them (`truth.json`). driftwatch runs with its defaults: `driftwatch baseline` on the reference file (JSON lines with timestamps), `driftwatch replay` over the stream (`--labels` where labels arrive late), no configuration file. Evidently runs `DataDriftPreset` (its automatic test choice and default thresholds) per window and model against the same reference (bench/detect/evidently_run.py).\n\n", scenario.Windows, scenario.ChangeFrom)
	p("Goal (issue 16): recall >= %.2f on every scenario with a change, false alarms <= %.1f%% on every scenario, and fewer false alarms than Evidently where it judges the same thing.\n\n", goalRecall, 100*goalFalseAlarm)

	p("## Definitions\n\n")
	p("- **unit**: a (window, model, family, subject). It is **judged** when at least one of its rows has a threshold (`threshold` not 0 or a `threshold_source`) and is not `insufficient_samples`, and **flagged** when at least one of its rows is `drifted: true`, whatever its severity (SEV-4 included). Rows written again for a key (late labels) count once, the last line winning.\n")
	p("- **changed**: the truth lists, per window and model, the (family, subject) that truly changed: **targets** (where the change was injected) and **consequences** (subjects whose measured quantity the change moves too, e.g. the prediction of a model reading a shifted feature, or a feature's out-of-range share after a shift). Mean shifts below %.2f sd, scale changes within %.0f%% and quality breakage of under %.0f%% of records are no change.\n", scenario.MinMaterialShift, 100*scenario.MinMaterialScale, 100*scenario.MinMaterialShare)
	p("- **recall** = detected / changed windows, over the (window, model) with a target change; detected when every target subject of it is flagged.\n")
	p("- **false-alarm rate** = flagged units with no change (target or consequence) behind them / all judged units (changed or not).\n")
	p("- **on Evidently's subjects**: the same, restricted to what Evidently's DataDriftPreset judges: family `data` (features, not `*`) and family `prediction`, subject `prediction`. Evidently's units are its per-column verdicts (every column it returns is judged; a failed drift test is flagged). Where a scenario's targets lie outside these subjects, recall there is n/a.\n\n")

	p("## Results\n\n")
	if evReason != "" {
		p("**Evidently could not be run**: %s. Its columns are empty.\n\n", evReason)
	}
	p("| scenario | streams x windows x records | changed (targets) | driftwatch recall | driftwatch false alarms | driftwatch on Evidently's subjects: recall, false alarms | Evidently recall, false alarms | goal |\n")
	p("| --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, o := range outs {
		ev := "not run"
		switch {
		case o.ev != nil:
			ev = fmt.Sprintf("%s, %s", pct(o.ev.Recall()), rate(*o.ev))
			if o.evFailures > 0 {
				ev += fmt.Sprintf(" (%d windows failed)", o.evFailures)
			}
		case o.evErr != "":
			ev = "failed: " + mdEscape(o.evErr)
		}
		p("| %s | %d x %d x %s | %s | %s | %s | %s, %s | %s | %s |\n", o.s.Name, len(o.seeds), o.truth.Windows, thousands(o.truth.Records*len(o.truth.Models)),
			targets(o.truth), recallCell(o.dw), rate(o.dw), pct(o.dwEv.Recall()), rate(o.dwEv), ev, goalCell(o))
	}
	p("\n")

	p("## Where the goal is missed\n\n")
	any := false
	for _, o := range outs {
		notes := missNotes(o)
		if len(notes) == 0 {
			continue
		}
		any = true
		p("### %s\n\n", o.s.Name)
		for _, n := range notes {
			p("- %s\n", n)
		}
		p("\n")
	}
	if !any {
		p("Nowhere.\n\n")
	}

	p("## driftwatch's false alarms by metric, over every scenario\n\n")
	p("%s\n", byMetric(outs))

	p("## Scenarios\n\n")
	p("| scenario | stream | truth per window |\n| --- | --- | --- |\n")
	for _, o := range outs {
		p("| %s | %s | %s |\n", o.s.Name, mdEscape(o.s.About), mdEscape(truthSummary(o.truth)))
	}
	p("\n")

	p("## Versions and command\n\n")
	p("- driftwatch: commit %s (%s), %s\n", orUnknown(v.commit), orUnknown(v.driftwatch), v.goVersion)
	if v.evidently != "" {
		p("- Evidently %s, pandas %s, Python %s\n", v.evidently, v.pandas, v.python)
	} else {
		p("- Evidently: not run (%s)\n", orUnknown(evReason))
	}
	p("- streams: %d per scenario, scenario i (0-based, in the table's order) of stream k from seed %d + 1000k + i (`-set %s`, `-seed`, `-reps`)\n", max(o.reps, 1), o.seed, o.set)
	p("- reproduce: `make bench-detect` (creates the virtualenv `.venv-golden` from `stats/testdata/golden/requirements.txt` with pip, then `go run ./bench/detect -python .venv-golden/bin/python`); one scenario: `go run ./bench/detect -scenarios mean_shift -report /tmp/d.md`. The streams, baselines, rows and verdicts stay in `%s` for inspection.\n", "$TMPDIR/driftwatch-bench-detect")
	return b.String()
}

func recallCell(r score.Result) string {
	if r.Changed == 0 {
		return "n/a (no change)"
	}
	return fmt.Sprintf("%s (%d/%d)", pct(r.Recall()), r.Detected, r.Changed)
}

func pct(x float64) string {
	if math.IsNaN(x) {
		return "n/a"
	}
	return fmt.Sprintf("%.3f", x)
}

func rate(r score.Result) string {
	if r.Judged == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f%% (%d/%s)", 100*r.FalseAlarmRate(), r.FalseAlarm, thousands(r.Judged))
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func mdEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", "\\|"), "\n", " ")
}

// targets lists the target subjects with the windows they changed in.
func targets(t scenario.Truth) string {
	type span struct {
		first, last, n int
	}
	spans := map[string]*span{}
	var keys []string
	for _, c := range t.Changes {
		if !c.Target {
			continue
		}
		k := c.Family + "/" + c.Subject
		if len(t.Models) > 1 {
			k = c.Model + " " + k
		}
		s := spans[k]
		if s == nil {
			s = &span{first: c.Window, last: c.Window}
			spans[k] = s
			keys = append(keys, k)
		}
		s.first, s.last, s.n = min(s.first, c.Window), max(s.last, c.Window), s.n+1
	}
	if len(keys) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range keys {
		s := spans[k]
		parts = append(parts, fmt.Sprintf("%s (w%d-%d)", k, s.first, s.last))
	}
	return strings.Join(parts, ", ")
}

func truthSummary(t scenario.Truth) string {
	var parts []string
	seen := map[string]bool{}
	for _, c := range t.Changes {
		role := "consequence"
		if c.Target {
			role = "target"
		}
		k := fmt.Sprintf("%s %s/%s (%s): %s", c.Model, c.Family, c.Subject, role, c.What)
		if t.Models[0] == c.Model && len(t.Models) == 1 {
			k = fmt.Sprintf("%s/%s (%s): %s", c.Family, c.Subject, role, c.What)
		}
		if !seen[k] {
			seen[k] = true
			parts = append(parts, fmt.Sprintf("w%d %s", c.Window, k))
		}
	}
	if len(parts) == 0 {
		return "no change"
	}
	if len(parts) > 8 {
		parts = append(parts[:8], fmt.Sprintf("... (%d more distinct; see truth.json)", len(parts)-8))
	}
	return strings.Join(parts, "; ")
}

func goalMisses(o outcome) (recall, falseAlarms, vsEvidently bool) {
	recall = o.dw.Changed > 0 && o.dw.Recall() < goalRecall
	falseAlarms = o.dw.Judged > 0 && o.dw.FalseAlarmRate() > goalFalseAlarm
	if o.ev != nil && o.ev.Judged > 0 && o.dwEv.Judged > 0 {
		d, e := o.dwEv.FalseAlarmRate(), o.ev.FalseAlarmRate()
		vsEvidently = !(d < e || d == 0 && e == 0)
	}
	return recall, falseAlarms, vsEvidently
}

func goalCell(o outcome) string {
	r, f, e := goalMisses(o)
	var miss []string
	if r {
		miss = append(miss, "recall")
	}
	if f {
		miss = append(miss, "false alarms")
	}
	if e {
		miss = append(miss, "not fewer false alarms than Evidently")
	}
	if len(miss) == 0 {
		if o.ev == nil {
			return "met (Evidently not compared)"
		}
		return "met"
	}
	return "**missed**: " + strings.Join(miss, ", ")
}

// missNotes says where o misses the goal, with the rows that show it.
func missNotes(o outcome) []string {
	r, f, e := goalMisses(o)
	var notes []string
	if r {
		n := fmt.Sprintf("recall %s: %d of %d changed windows not detected.", pct(o.dw.Recall()), len(o.dw.Misses), o.dw.Changed)
		for i, m := range o.dw.Misses {
			if i == 4 {
				n += fmt.Sprintf(" ... and %d more.", len(o.dw.Misses)-4)
				break
			}
			ev := m.Evidence
			if len(ev) > 2 {
				ev = ev[:2]
			}
			n += fmt.Sprintf(" Window %d (%s): %s (%s) not flagged: `%s`.", m.Window, m.Model, strings.Join(m.Subjects, ", "), strings.Join(m.What, "; "), strings.Join(ev, "`, `"))
		}
		notes = append(notes, n)
	}
	if f {
		notes = append(notes, fmt.Sprintf("false alarms %s: %s", rate(o.dw), falseAlarmGroups(o.dw.FalseAlarms)))
	}
	if e {
		notes = append(notes, fmt.Sprintf("on Evidently's subjects driftwatch has %s false alarms against Evidently's %s: driftwatch's %s; Evidently's %s",
			rate(o.dwEv), rate(*o.ev), falseAlarmGroups(o.dwEv.FalseAlarms), falseAlarmGroups(o.ev.FalseAlarms)))
	}
	return notes
}

// falseAlarmGroups groups false alarms by the metrics of their drifted
// rows, most frequent first, with one row each.
func falseAlarmGroups(us []score.Unit) string {
	if len(us) == 0 {
		return "none"
	}
	type group struct {
		key     string
		n       int
		windows []int
		example string
	}
	groups := map[string]*group{}
	for _, u := range us {
		for _, ev := range u.Evidence {
			key := ev
			if i := strings.IndexAny(ev, "= "); i > 0 {
				key = ev[:i]
			}
			if model, _, _ := strings.Cut(u.Model, ", seed "); model != "" {
				key = model + " " + key // the seed goes to the example, not the group
			}
			g := groups[key]
			if g == nil {
				g = &group{key: key, example: fmt.Sprintf("%s, w%d: `%s`", u.Model, u.Window, ev)}
				groups[key] = g
			}
			g.n++
			g.windows = append(g.windows, u.Window)
		}
	}
	list := make([]*group, 0, len(groups))
	for _, g := range groups {
		list = append(list, g)
	}
	slices.SortFunc(list, func(a, b *group) int { return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.key, b.key)) })
	var parts []string
	for i, g := range list {
		if i == 6 {
			parts = append(parts, fmt.Sprintf("and %d more kinds", len(list)-6))
			break
		}
		parts = append(parts, fmt.Sprintf("%s in %d windows, e.g. %s", g.key, g.n, g.example))
	}
	return strings.Join(parts, "; ")
}

// byMetric tabulates driftwatch's false alarms over every scenario by the
// family, subject and metric of their drifted rows (feature names folded
// into "<feature>"; the subjects of all features, "*" and "*multivariate",
// and variants, "variant=<name>", as they are), with their
// severities and the scenarios they came from.
func byMetric(outs []outcome) string {
	type agg struct {
		key        string
		n          int
		severities map[string]int
		scenarios  map[string]int
		example    string
	}
	groups := map[string]*agg{}
	for _, o := range outs {
		for _, u := range o.dw.FalseAlarms {
			for _, r := range u.Drifted {
				subject := r.Subject
				if !strings.HasPrefix(subject, "*") && (r.Family == drift.FamilyData || r.Family == drift.FamilyQuality && subject != "prediction") {
					subject = "<feature>"
				}
				key := r.Family + "/" + subject + "/" + r.Metric
				g := groups[key]
				if g == nil {
					g = &agg{key: key, severities: map[string]int{}, scenarios: map[string]int{}, example: fmt.Sprintf("%s, %s w%d: %s", o.s.Name, u.Model, u.Window, r)}
					groups[key] = g
				}
				g.n++
				g.severities[cmp.Or(r.Severity, "none")]++
				g.scenarios[o.s.Name]++
			}
		}
	}
	if len(groups) == 0 {
		return "None.\n"
	}
	list := make([]*agg, 0, len(groups))
	for _, g := range groups {
		list = append(list, g)
	}
	slices.SortFunc(list, func(a, b *agg) int { return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.key, b.key)) })
	counts := func(m map[string]int) string {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
		}
		return strings.Join(parts, ", ")
	}
	var b strings.Builder
	b.WriteString("Drifted rows behind the false alarms of every stream (a unit flagged by several rows counts each).\n\n")
	b.WriteString("| family/subject/metric | rows | severity | scenarios | example |\n| --- | --- | --- | --- | --- |\n")
	for _, g := range list {
		fmt.Fprintf(&b, "| %s | %d | %s | %s | `%s` |\n", g.key, g.n, counts(g.severities), counts(g.scenarios), mdEscape(g.example))
	}
	return b.String()
}
