// Package history reads metric rows (CONTRACT.md section 3), as written by
// `driftwatch replay --output` and the file sink, and groups them the way a
// report reads them: per model version, its windows in time order and, per
// (family, subject, metric), one row per window; per judged subject, the row
// that decides its verdict.
//
// Rows mark the deciding row ("deciding", drift.Row.Primary). Rows written
// before that mark existed carry none: then it is found again from the
// policy: the subject's rule metric
// (drift.Policy Features, else Numeric or Categorical, chosen by the rows the
// subject has: ks, anderson_darling, cramer_von_mises, t_test, wasserstein
// or energy only exist for numeric subjects). When no row has that metric (a preset choosing rules per
// window, or another policy than the one that wrote the rows), the judged
// distance or test row with the worst verdict decides: with
// drift.require_significance every row of a subject shares one meaning of
// drifted, so any judged row tells the verdict.
//
// It deliberately computes no statistic and draws nothing.
package history

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/driftwatch/driftwatch/stats/drift"
)

// Key names one series of rows of a model version.
type Key struct{ Family, Subject, Metric string }

// Window is one window of a model version.
type Window struct{ Start, End time.Time }

// Track is one row per window of its Version, aligned with Version.Windows;
// nil where the window has no such row.
type Track []*drift.Row

// Subject is a judged subject (families data, prediction and label, except
// the dataset's "*") and its deciding row per window.
type Subject struct {
	Family, Name string
	Numeric      bool  // the subject has a numeric-only metric
	Deciding     Track // the row carrying the verdict; nil where not judged
}

// Version is what a report needs of one model version.
type Version struct {
	Model, Version string
	Windows        []Window // by start, ascending
	// Subjects: the prediction first, then the label, then features by
	// name.
	Subjects []Subject
	Tracks   map[Key]Track
}

// Track returns the rows of one series, nil if the version has none.
func (v *Version) Track(family, subject, metric string) Track {
	return v.Tracks[Key{family, subject, metric}]
}

// DriftShare is the dataset's verdict per window: data, "*",
// weighted_drift_share (drifted at >= its threshold, 0.5 by default).
func (v *Version) DriftShare() Track {
	return v.Track(drift.FamilyData, "*", drift.MetricWeightedDrift)
}

// Metrics returns the metrics written for family and subject, sorted: for
// example the performance metrics (concept, "performance") or the latency
// quantiles (serving, "latency_ms").
func (v *Version) Metrics(family, subject string) []string {
	var out []string
	for k := range v.Tracks {
		if k.Family == family && k.Subject == subject {
			out = append(out, k.Metric)
		}
	}
	slices.Sort(out)
	return out
}

// Alerts returns the rows that drifted with a severity, by window, then
// severity (SEV-1 first), family, subject and metric.
func (v *Version) Alerts() []*drift.Row {
	var out []*drift.Row
	for _, t := range v.Tracks {
		for _, r := range t {
			if r != nil && r.Drifted && r.Severity != "" {
				out = append(out, r)
			}
		}
	}
	slices.SortFunc(out, func(a, b *drift.Row) int {
		return cmpRows(a, b, func(r *drift.Row) string { return r.Severity })
	})
	return out
}

func cmpRows(a, b *drift.Row, first func(*drift.Row) string) int {
	if c := a.WindowStart.Compare(b.WindowStart); c != 0 {
		return c
	}
	return strings.Compare(first(a)+"\x00"+a.Family+"\x00"+a.Subject+"\x00"+a.Metric,
		first(b)+"\x00"+b.Family+"\x00"+b.Subject+"\x00"+b.Metric)
}

// numericOnly are the metrics written only for numeric subjects (ks,
// anderson_darling, cramer_von_mises, t_test, wasserstein, energy).
var numericOnly = func() map[string]bool {
	out := make(map[string]bool)
	for m := range drift.Metrics {
		if !drift.Computable(m, false) {
			out[m] = true
		}
	}
	return out
}()

// Read decodes JSON lines of rows and groups them per model version, sorted
// by model and version. p gives the rules that pick each subject's deciding
// row where rows do not mark it. A row written again for the same key
// replaces the earlier one (the newest wins, as in the contract). Blank
// lines are skipped; a line that does not decode is an error naming it.
func Read(r io.Reader, p drift.Policy) ([]*Version, error) {
	var all []drift.Row
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		var row drift.Row
		if err := json.Unmarshal(b, &row); err != nil {
			return nil, fmt.Errorf("decode metric row on line %d: %w", line, err)
		}
		if row.Model == "" || row.WindowStart.IsZero() {
			return nil, fmt.Errorf("decode metric row on line %d: no model or window_start", line)
		}
		all = append(all, row)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read metric rows: %w", err)
	}
	return Group(all, p), nil
}

// Group groups rows per model version, sorted by model and version, as
// Read does; a row later in rows replaces an earlier one of the same key.
func Group(all []drift.Row, p drift.Policy) []*Version {
	type vkey struct{ model, version string }
	type rkey struct {
		start time.Time
		Key
	}
	rows := map[vkey]map[rkey]drift.Row{}
	for _, row := range all {
		k := vkey{row.Model, row.ModelVersion}
		if rows[k] == nil {
			rows[k] = map[rkey]drift.Row{}
		}
		rows[k][rkey{row.WindowStart.UTC(), Key{row.Family, row.Subject, row.Metric}}] = row
	}

	var out []*Version
	for k, rs := range rows {
		v := &Version{Model: k.model, Version: k.version, Tracks: map[Key]Track{}}
		ends := map[time.Time]time.Time{}
		for rk, r := range rs {
			ends[rk.start] = r.WindowEnd.UTC()
		}
		for s, e := range ends {
			v.Windows = append(v.Windows, Window{s, e})
		}
		slices.SortFunc(v.Windows, func(a, b Window) int { return a.Start.Compare(b.Start) })
		index := make(map[time.Time]int, len(v.Windows))
		for i, w := range v.Windows {
			index[w.Start] = i
		}
		for rk, r := range rs {
			t := v.Tracks[rk.Key]
			if t == nil {
				t = make(Track, len(v.Windows))
				v.Tracks[rk.Key] = t
			}
			t[index[rk.start]] = &r
		}
		v.Subjects = subjects(v, p)
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b *Version) int {
		return strings.Compare(a.Model+"\x00"+a.Version, b.Model+"\x00"+b.Version)
	})
	return out
}

// subjects finds the judged subjects of v and their deciding rows.
func subjects(v *Version, p drift.Policy) []Subject {
	byName := map[[2]string]*Subject{}
	for k := range v.Tracks {
		switch k.Family {
		case drift.FamilyData, drift.FamilyPrediction, drift.FamilyLabel:
		default:
			continue
		}
		if k.Subject == "*" || !distribution[k.Metric] {
			continue // the dataset's shares; mode_share, positive_rate, label_coverage ...
		}
		s := byName[[2]string{k.Family, k.Subject}]
		if s == nil {
			s = &Subject{Family: k.Family, Name: k.Subject}
			byName[[2]string{k.Family, k.Subject}] = s
		}
		s.Numeric = s.Numeric || numericOnly[k.Metric]
	}
	var out []Subject
	for _, s := range byName {
		rule := p.Categorical.Metric
		if s.Numeric {
			rule = p.Numeric.Metric
		}
		if r, ok := p.Features[s.Name]; ok && s.Family != drift.FamilyLabel {
			rule = r.Metric
		}
		s.Deciding = marked(v, s.Family, s.Name)
		if s.Deciding == nil {
			s.Deciding = v.Track(s.Family, s.Name, rule)
		}
		if s.Deciding == nil {
			s.Deciding = worst(v, s.Family, s.Name)
		}
		out = append(out, *s)
	}
	rank := map[string]int{drift.FamilyPrediction: 0, drift.FamilyLabel: 1, drift.FamilyData: 2}
	slices.SortFunc(out, func(a, b Subject) int {
		if c := rank[a.Family] - rank[b.Family]; c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// marked returns the rows marked deciding of a subject, per window; nil
// when none is (rows written before the mark existed).
func marked(v *Version, family, subject string) Track {
	var t Track
	for k, rows := range v.Tracks {
		if k.Family != family || k.Subject != subject {
			continue
		}
		for i, r := range rows {
			if r != nil && r.Primary {
				if t == nil {
					t = make(Track, len(v.Windows))
				}
				t[i] = r
			}
		}
	}
	return t
}

// worst picks, per window, the judged distribution row of a subject with the
// worst verdict: drifted before not, then the most severe, then the first
// metric by name (so the choice is stable).
func worst(v *Version, family, subject string) Track {
	t := make(Track, len(v.Windows))
	for k, rows := range v.Tracks {
		if k.Family != family || k.Subject != subject || !distribution[k.Metric] {
			continue
		}
		for i, r := range rows {
			if r != nil && r.ThresholdSource != "" && (t[i] == nil || worse(r, t[i])) {
				t[i] = r
			}
		}
	}
	return t
}

func worse(a, b *drift.Row) bool {
	if a.Drifted != b.Drifted {
		return a.Drifted
	}
	if sa, sb := sevRank(a.Severity), sevRank(b.Severity); sa != sb {
		return sa < sb
	}
	return a.Metric < b.Metric
}

// sevRank orders severities, SEV-1 first and none last.
func sevRank(s string) string {
	if s == "" {
		return "~"
	}
	return s
}

// distribution are the metrics comparing a subject's distribution with the
// baseline's (CONTRACT.md section 3, family data), null_rate excepted: it is
// a share, not gated, and not a rule.
var distribution = func() map[string]bool {
	out := make(map[string]bool)
	for m := range drift.Metrics {
		out[m] = m != drift.MetricNullRate
	}
	return out
}()
