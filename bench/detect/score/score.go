// Package score scores drift verdicts against a stream's ground truth for
// the detection benchmark (bench/detect).
//
// The unit is a (window, model, family, subject): a subject of one window
// of one model. A unit is judged when at least one of its rows was judged
// (it has a threshold, and is not marked insufficient data), and flagged
// when at least one of its rows is marked drifted, whatever its severity
// (SEV-4 included). Then, over a scenario:
//
//	recall           = detected / changed
//	                   changed:  (window, model) with at least one target change
//	                   detected: those in which every target subject is flagged
//	false-alarm rate = false alarms / judged
//	                   false alarm: a flagged unit that no change (target or
//	                   consequence) is behind
//	                   judged: every judged unit, changed or not
//
// A Scope restricts both sides to the subjects a detector can judge (for
// Evidently, the features and the prediction), so that two detectors are
// compared on the same things. It deliberately reads no files: the caller
// turns rows or another tool's verdicts into Units.
package score

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/driftwatch/driftwatch/bench/detect/scenario"
	"github.com/driftwatch/driftwatch/stats/drift"
)

// Row is a metric row as `driftwatch replay` writes it (CONTRACT.md
// section 3), with what scoring asks of it.
type Row struct {
	drift.Row
}

// Judged says the row was judged: it has a threshold (or a threshold
// source) and is not "insufficient data" (CONTRACT.md section 3: reported,
// not judged). A drifted row is always judged.
func (r Row) Judged() bool {
	if r.Drifted {
		return true
	}
	if r.ThresholdSource == drift.SourceInsufficient {
		return false
	}
	return r.Threshold != 0 || r.ThresholdSource != ""
}

// String is the row as evidence: family/subject/metric=value (threshold, p, n, severity).
func (r Row) String() string {
	p := ""
	if r.PValue != nil {
		p = fmt.Sprintf(", p=%.3g", *r.PValue)
	}
	sev := ""
	if r.Severity != "" {
		sev = ", " + r.Severity
	}
	return fmt.Sprintf("%s/%s/%s=%.4g (threshold %.4g%s, n=%d, %s%s)", r.Family, r.Subject, r.Metric, r.Value, r.Threshold, p, r.NCurrent, srcOrNone(r.ThresholdSource), sev)
}

func srcOrNone(s string) string {
	if s == "" {
		return "not judged"
	}
	return s
}

// Unit is one judged or flagged (window, model, family, subject), with the
// rows behind its verdict as evidence.
type Unit struct {
	Window  int
	Model   string
	Family  string
	Subject string
	Judged  bool
	Flagged bool
	// Evidence: the drifted rows when flagged, else the judged ones.
	Evidence []string
	// Drifted holds the unit's drifted rows (none for another tool's
	// verdicts).
	Drifted []Row
}

func (u Unit) key() unitKey { return unitKey{u.Window, u.Model, u.Family, u.Subject} }

type unitKey struct {
	window                 int
	model, family, subject string
}

// FromRows turns metric rows into units. Rows written again for the same
// key (model, model_version, window_start, family, subject, metric) count
// once, the later line winning, as CONTRACT.md section 3 says. Windows are
// numbered from start in steps of window.
func FromRows(rows []Row, start time.Time, window time.Duration) []Unit {
	type rowKey struct {
		model, version          string
		at                      int64
		family, subject, metric string
	}
	last := map[rowKey]int{}
	for i, r := range rows {
		last[rowKey{r.Model, r.ModelVersion, r.WindowStart.UnixNano(), r.Family, r.Subject, r.Metric}] = i
	}
	idx := make([]int, 0, len(last))
	for _, i := range last {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	units := map[unitKey]*Unit{}
	var order []unitKey
	for _, i := range idx {
		r := rows[i]
		w := int(r.WindowStart.Sub(start) / window)
		k := unitKey{w, r.Model, r.Family, r.Subject}
		u := units[k]
		if u == nil {
			u = &Unit{Window: w, Model: r.Model, Family: r.Family, Subject: r.Subject}
			units[k] = u
			order = append(order, k)
		}
		switch {
		case r.Drifted:
			if !u.Flagged {
				u.Evidence = nil
			}
			u.Flagged, u.Judged = true, true
			u.Evidence = append(u.Evidence, r.String())
			u.Drifted = append(u.Drifted, r)
		case r.Judged():
			u.Judged = true
			if !u.Flagged {
				u.Evidence = append(u.Evidence, r.String())
			}
		}
	}
	out := make([]Unit, 0, len(order))
	for _, k := range order {
		out = append(out, *units[k])
	}
	return out
}

// Scope says whether a (family, subject) is scored; nil scores everything.
type Scope func(family, subject string) bool

// FeaturesAndPrediction is the scope of a detector that judges the
// features' and the prediction's distributions only (Evidently's
// DataDriftPreset): family data (not the dataset subject "*" nor the
// multivariate rows) and family prediction, subject prediction.
func FeaturesAndPrediction(family, subject string) bool {
	return family == drift.FamilyData && subject != "*" && subject != drift.SubjectMultivariate ||
		family == drift.FamilyPrediction && subject == drift.FamilyPrediction
}

// Miss is a changed (window, model) not detected, with the target subjects
// that were not flagged and the rows that show it.
type Miss struct {
	Window   int
	Model    string
	Subjects []string // family/subject of each unflagged target
	What     []string // the truth's description of each
	Evidence []string
}

// Result is a scenario's score.
type Result struct {
	Changed, Detected  int // (window, model) with a target change; those detected
	Judged, FalseAlarm int // judged units; flagged ones with no change behind them
	Misses             []Miss
	FalseAlarms        []Unit
}

// Recall is Detected / Changed; NaN when nothing changed.
func (r Result) Recall() float64 { return ratio(r.Detected, r.Changed) }

// FalseAlarmRate is FalseAlarm / Judged; NaN when nothing was judged.
func (r Result) FalseAlarmRate() float64 { return ratio(r.FalseAlarm, r.Judged) }

func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// Score scores units against the truth's changes within scope (nil: all).
func Score(changes []scenario.Change, units []Unit, scope Scope) Result {
	in := func(family, subject string) bool { return scope == nil || scope(family, subject) }
	changed := map[unitKey]scenario.Change{}
	type wm struct {
		window int
		model  string
	}
	targets := map[wm][]scenario.Change{}
	var order []wm
	for _, c := range changes {
		if !in(c.Family, c.Subject) {
			continue
		}
		changed[unitKey{c.Window, c.Model, c.Family, c.Subject}] = c
		if c.Target {
			k := wm{c.Window, c.Model}
			if targets[k] == nil {
				order = append(order, k)
			}
			targets[k] = append(targets[k], c)
		}
	}
	byKey := map[unitKey]Unit{}
	var res Result
	for _, u := range units {
		if !in(u.Family, u.Subject) {
			continue
		}
		byKey[u.key()] = u
		if !u.Judged {
			continue
		}
		res.Judged++
		if _, ok := changed[u.key()]; u.Flagged && !ok {
			res.FalseAlarm++
			res.FalseAlarms = append(res.FalseAlarms, u)
		}
	}
	slices.SortFunc(order, func(a, b wm) int {
		return cmp.Or(cmp.Compare(a.window, b.window), cmp.Compare(a.model, b.model))
	})
	for _, k := range order {
		res.Changed++
		var miss Miss
		for _, c := range targets[k] {
			u := byKey[unitKey{c.Window, c.Model, c.Family, c.Subject}]
			if u.Flagged {
				continue
			}
			miss.Subjects = append(miss.Subjects, c.Family+"/"+c.Subject)
			miss.What = append(miss.What, c.What)
			if len(u.Evidence) == 0 {
				miss.Evidence = append(miss.Evidence, c.Family+"/"+c.Subject+": no judged row")
			}
			miss.Evidence = append(miss.Evidence, u.Evidence...)
		}
		if len(miss.Subjects) == 0 {
			res.Detected++
			continue
		}
		miss.Window, miss.Model = k.window, k.model
		res.Misses = append(res.Misses, miss)
	}
	return res
}
