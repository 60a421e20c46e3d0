package html

import (
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/internal/report/chart"
	"github.com/driftwatch/driftwatch/internal/report/history"
	"github.com/driftwatch/driftwatch/sinks"
	"github.com/driftwatch/driftwatch/stats/drift"
)

// svg marks a chart's SVG as safe (package chart escapes every text it
// writes), or drops a chart without data: the page draws no empty chart.
func svg(b []byte) template.HTML {
	if chart.Empty(b) {
		return ""
	}
	return template.HTML(b) //nolint:gosec // our own escaped SVG
}

func points(v *history.Version, t history.Track, value func(*drift.Row) (float64, bool)) []chart.Point {
	var p []chart.Point
	for i, r := range t {
		if r == nil {
			continue
		}
		if x, ok := value(r); ok {
			p = append(p, chart.Point{T: v.Windows[i].Start, V: x})
		}
	}
	return p
}

func rowValue(r *drift.Row) (float64, bool)     { return r.Value, true }
func rowThreshold(r *drift.Row) (float64, bool) { return r.Threshold, r.ThresholdSource != "" }

func versionSections(in *Input, v *history.Version, fs []finding, wins map[windowKey]sinks.WindowSummary) versionView {
	out := versionView{Version: v.Version, Windows: len(v.Windows), Findings: fs, Anchor: anchor(v.Version, "", "", ""),
		AlertsAnchor: anchor(v.Version, "alerts", "", "")}

	// Overview: the dataset's share and the verdict heat map.
	share := v.DriftShare()
	out.Overview = append(out.Overview, svg(chart.Line{
		Title: "Dataset drift share", Desc: "share of the judged features that drifted, weighted by importance, per window",
		Unit: "share of features", Series: []chart.Series{{Name: "weighted drift share", Points: points(v, share, rowValue)}},
		Steps: points(v, share, rowThreshold), ThresholdName: "dataset drifted at",
	}.SVG()))
	out.Overview = append(out.Overview, svg(heat(v).SVG()))

	// Drifted subjects: distributions and scores.
	for _, s := range v.Subjects {
		if !slices.ContainsFunc(s.Deciding, func(r *drift.Row) bool { return r != nil && r.Drifted }) {
			continue
		}
		out.Subjects = append(out.Subjects, subjectCharts(in, v, s, wins))
	}
	if len(out.Subjects) == 0 && len(v.Subjects) > 0 {
		// Nothing drifted: still show the prediction's distribution.
		for _, s := range v.Subjects {
			if s.Family == drift.FamilyPrediction && s.Name == "prediction" {
				sv := subjectCharts(in, v, s, wins)
				sv.Title = "Prediction (did not drift)"
				out.Subjects = append(out.Subjects, sv)
			}
		}
	}

	add := func(s section, family, subject string) {
		if s.Anchor == "" {
			s.Anchor = anchor(v.Version, family, subject, "")
		}
		out.Sections = append(out.Sections, s)
	}
	add(predictionSection(v), drift.FamilyPrediction, "")
	add(labelSection(v), drift.FamilyLabel, "")
	add(performanceSection(in, v), drift.FamilyConcept, "")
	add(servingSection(v), drift.FamilyServing, "")
	if s, ok := variantSection(v); ok {
		add(s, "variants", "")
	}
	for _, s := range fairnessSection(v) {
		add(s, "", "")
	}
	add(qualitySection(v), drift.FamilyQuality, "")
	out.Alerts = alerts(in, v)
	if len(out.Alerts) == 0 {
		out.NoAlerts = "No alert in the period."
	}
	return out
}

// heat is the verdict grid: every judged subject, then one row per other
// family and subject (concept, fairness, quality, serving), each cell the
// worst row of its window.
func heat(v *history.Version) chart.Heat {
	h := chart.Heat{Title: "Verdicts per window", Desc: "each subject by window, coloured by its verdict and severity (hover for the figures)"}
	for _, w := range v.Windows {
		h.Cols = append(h.Cols, w.Start.UTC().Format("Jan 2 15:04"))
	}
	for _, s := range v.Subjects {
		h.Rows = append(h.Rows, rowLabel(s.Family, s.Name))
		row := make([]chart.Cell, len(v.Windows))
		for i, r := range s.Deciding {
			row[i] = cell(r)
		}
		h.Cells = append(h.Cells, row)
	}
	type fs struct{ family, subject string }
	seen := map[fs]bool{}
	for _, s := range v.Subjects {
		seen[fs{s.Family, s.Name}] = true
	}
	groups := map[fs][]history.Key{}
	for k := range v.Tracks {
		g := fs{k.Family, k.Subject}
		if k.Family == drift.FamilyFairness {
			g.subject = strings.SplitN(k.Subject, "=", 2)[0]
		}
		if seen[g] || k.Family == drift.FamilyData || k.Family == drift.FamilyQuality && k.Subject != "*" {
			continue
		}
		groups[g] = append(groups[g], k)
	}
	// Quality: one row for every feature's quality rates.
	for k := range v.Tracks {
		if k.Family == drift.FamilyQuality && k.Subject != "*" {
			g := fs{drift.FamilyQuality, "features"}
			groups[g] = append(groups[g], k)
		}
	}
	names := make([]fs, 0, len(groups))
	for g := range groups {
		names = append(names, g)
	}
	slices.SortFunc(names, func(a, b fs) int {
		if c := familyRank(a.family) - familyRank(b.family); c != 0 {
			return c
		}
		return strings.Compare(a.subject, b.subject)
	})
	for _, g := range names {
		row := make([]chart.Cell, len(v.Windows))
		for i := range v.Windows {
			var worst *drift.Row
			for _, k := range groups[g] {
				r := v.Tracks[k][i]
				if r == nil || r.ThresholdSource == "" && !r.Drifted {
					continue // reported, not judged
				}
				if worst == nil || worse(r, worst) {
					worst = r
				}
			}
			row[i] = cell(worst)
		}
		if !slices.ContainsFunc(row, func(c chart.Cell) bool { return c.Verdict != chart.Missing }) {
			continue
		}
		h.Rows = append(h.Rows, rowLabel(g.family, g.subject))
		h.Cells = append(h.Cells, row)
	}
	return h
}

func rowLabel(family, subject string) string {
	switch {
	case family == drift.FamilyData:
		return subject
	case family == drift.FamilyQuality && subject == "*":
		return "quality: late records"
	}
	return family + ": " + subject
}

func worse(a, b *drift.Row) bool {
	if a.Drifted != b.Drifted {
		return a.Drifted
	}
	return sevRank(a.Severity) < sevRank(b.Severity)
}

// cell is a row's heat-map cell.
func cell(r *drift.Row) chart.Cell {
	switch {
	case r == nil:
		return chart.Cell{}
	case r.Drifted:
		return chart.Cell{Verdict: chart.Severity(r.Severity), Note: note(r)}
	case r.ThresholdSource == drift.SourceInsufficient:
		return chart.Cell{Verdict: chart.Insufficient, Note: note(r)}
	}
	return chart.Cell{Verdict: chart.OK, Note: note(r)}
}

func note(r *drift.Row) string {
	s := fmt.Sprintf("%s %s = %s (threshold %s", r.Subject, r.Metric, num(r.Value), num(r.Threshold))
	if r.ThresholdSource != "" {
		s += ", " + r.ThresholdSource
	}
	return s + fmt.Sprintf("), n = %d", r.NCurrent)
}

// subjectCharts draws a subject's baseline and newest drifted window's
// distributions, and its deciding score per window against its threshold.
func subjectCharts(in *Input, v *history.Version, s history.Subject, wins map[windowKey]sinks.WindowSummary) subjectView {
	sv := subjectView{Title: rowLabel(s.Family, s.Name), Anchor: anchor(v.Version, s.Family, s.Name, "")}
	if s.Family == drift.FamilyData {
		sv.Title = "Feature " + s.Name
	}
	last := -1
	for i, r := range s.Deciding {
		if r != nil && (r.Drifted || last < 0) {
			last = i
		}
	}
	if last < 0 {
		return sv
	}
	r := s.Deciding[last]
	if d, ok := distributionOf(wins, v.Version, v.Windows[last].Start, s.Family, s.Name); ok {
		bins, unit := cellLabels(d)
		bars := chart.Bars{
			Title:  fmt.Sprintf("%s: baseline and window %s", s.Name, v.Windows[last].Start.UTC().Format("Jan 2 15:04")),
			Desc:   "share of non-null values per cell, the cells the distances are computed on",
			XLabel: unit, Unit: "share of values", Bins: bins,
			Baseline: drift.Shares(d.Reference), Current: drift.Shares(d.Current),
		}
		sv.Charts = append(sv.Charts, svg(bars.SVG()))
	} else if len(wins) > 0 && s.Family != drift.FamilyLabel && !strings.HasPrefix(s.Name, "variant=") {
		sv.Note = "No distribution kept for this window (written before window summaries carried them, or lost in a crash)."
	}
	var mdes []chart.Point
	above := false
	for i, x := range s.Deciding {
		if x != nil && x.MDE != nil && x.Metric == r.Metric {
			mdes = append(mdes, chart.Point{T: v.Windows[i].Start, V: *x.MDE})
			above = above || *x.MDE > x.Threshold && x.ThresholdSource != ""
		}
	}
	same := func(x *drift.Row) bool { return x.Metric == r.Metric }
	line := chart.Line{
		Title: fmt.Sprintf("%s: %s per window", s.Name, r.Metric),
		Desc:  "the deciding score against the threshold of each window (as the window reads it: the configured effect plus sampling noise at its size)",
		Unit:  r.Metric,
		Series: []chart.Series{{Name: r.Metric, Points: points(v, s.Deciding, func(x *drift.Row) (float64, bool) {
			return x.Value, same(x)
		})}},
		Steps: points(v, s.Deciding, func(x *drift.Row) (float64, bool) { return x.Threshold, same(x) && x.ThresholdSource != "" }),
	}
	line.ThresholdName = "threshold"
	if isTest(r.Metric) {
		line.Series[0] = chart.Series{Name: r.Metric + " p-value", Points: points(v, s.Deciding, func(x *drift.Row) (float64, bool) {
			if x.PValue == nil || !same(x) {
				return 0, false
			}
			return *x.PValue, true
		})}
		line.Unit = "p-value"
	}
	if above {
		line.Series = append(line.Series, chart.Series{Name: "minimum detectable effect", Points: mdes})
		sv.Note = strings.TrimSpace(sv.Note + " In some windows the minimum detectable effect is above the threshold: there, a shift of the threshold's size could go unseen.")
	}
	sv.Charts = append(sv.Charts, svg(line.SVG()))
	return sv
}

// distributionOf finds a subject's distribution in a window's summary.
func distributionOf(wins map[windowKey]sinks.WindowSummary, version string, start time.Time, family, subject string) (drift.Distribution, bool) {
	w, ok := wins[windowKey{version, start.UTC()}]
	if !ok {
		return drift.Distribution{}, false
	}
	for _, d := range w.Distributions {
		if d.Family == family && d.Subject == subject && len(d.Reference) > 0 && len(d.Reference) == len(d.Current) {
			return d, true
		}
	}
	return drift.Distribution{}, false
}

// cellLabels names a distribution's cells: value ranges or categories.
func cellLabels(d drift.Distribution) ([]string, string) {
	if d.Kind != string(baselines.Numeric) || len(d.Edges) != len(d.Reference)+1 {
		out := slices.Clone(d.Categories)
		for i, c := range out {
			if c == baselines.OtherCategory && d.OtherCells > 0 {
				out[i] = fmt.Sprintf("%d others", d.OtherCells)
			}
		}
		return out, "category"
	}
	out := make([]string, len(d.Reference))
	for i := range out {
		out[i] = num(d.Edges[i]) + "–" + num(d.Edges[i+1])
	}
	return out, "value range (cells of about equal baseline mass)"
}

// lineOf draws the metrics of one family and subject per window.
func lineOf(v *history.Version, title, desc, unit, family, subject string, metrics []string) chart.Line {
	c := chart.Line{Title: title, Desc: desc, Unit: unit}
	for _, m := range metrics {
		if t := v.Track(family, subject, m); t != nil {
			c.Series = append(c.Series, chart.Series{Name: strings.ReplaceAll(m, "_", " "), Points: points(v, t, rowValue)})
		}
	}
	return c
}

func predictionSection(v *history.Version) section {
	s := section{Title: "Predictions"}
	if t := v.Track(drift.FamilyPrediction, "prediction", drift.MetricPositiveRate); t != nil {
		c := lineOf(v, "Positive rate", "share of positive decisions per window", "share of predictions", drift.FamilyPrediction, "prediction",
			[]string{drift.MetricPositiveRate, drift.MetricModeShare})
		s.Charts = append(s.Charts, svg(c.SVG()))
	} else if t := v.Track(drift.FamilyPrediction, "prediction", drift.MetricModeShare); t != nil {
		s.Charts = append(s.Charts, svg(lineOf(v, "Mode share", "share of predictions in their most common bin or class", "share of predictions",
			drift.FamilyPrediction, "prediction", []string{drift.MetricModeShare}).SVG()))
	} else {
		s.Note = "No prediction rate rows in the period."
	}
	return s
}

func labelSection(v *history.Version) section {
	s := section{Title: "Labels"}
	if v.Track(drift.FamilyLabel, "label", drift.MetricLabelCoverage) == nil {
		s.Note = "No labels arrived in the period: no label coverage, delay or performance."
		return s
	}
	s.Charts = append(s.Charts, svg(lineOf(v, "Label coverage", "share of each window's records that have a label so far", "share of records",
		drift.FamilyLabel, "label", []string{drift.MetricLabelCoverage}).SVG()))
	c := lineOf(v, "Label delay", "how long labels took to arrive after their prediction, in hours", "delay (hours)", drift.FamilyLabel, "label", nil)
	for _, m := range []string{drift.MetricLabelDelayP50, drift.MetricLabelDelayP95} {
		c.Series = append(c.Series, chart.Series{Name: strings.TrimSuffix(strings.TrimPrefix(m, "label_delay_"), "_s"),
			Points: points(v, v.Track(drift.FamilyLabel, "label", m), func(r *drift.Row) (float64, bool) { return r.Value / 3600, true })})
	}
	s.Charts = append(s.Charts, svg(c.SVG()))
	return s
}

// performanceSection draws each performance metric per window, with the
// baseline's value and the drop (or rise) that is judged concept drift as
// a band: a window under the band's lower edge, significantly, drifted.
func performanceSection(in *Input, v *history.Version) section {
	s := section{Title: "Performance", Note: "Once labels arrive. The band spans the baseline's value and the margin of drift.max_performance_drop (drift.max_error_increase for mae): a window significantly past it is concept drift."}
	for _, m := range []string{drift.MetricAccuracy, drift.MetricPrecision, drift.MetricRecall, drift.MetricF1, drift.MetricMAE, drift.MetricRMSE} {
		t := v.Track(drift.FamilyConcept, "performance", m)
		if t == nil {
			continue
		}
		c := lineOf(v, "Performance: "+m, m+" of the labelled records per window", m, drift.FamilyConcept, "performance", []string{m})
		for i, r := range t {
			if r == nil || r.ThresholdSource == "" {
				continue
			}
			lo, hi := r.Threshold, r.Threshold+in.Policy.MaxPerformanceDrop
			if m == drift.MetricMAE {
				lo, hi = r.Threshold/(1+in.Policy.MaxErrorIncrease), r.Threshold
			}
			c.Band = append(c.Band, chart.BandPoint{T: v.Windows[i].Start, Lo: lo, Hi: hi})
		}
		if len(c.Band) > 0 {
			c.BandName = "baseline and its margin"
		}
		s.Charts = append(s.Charts, svg(c.SVG()))
	}
	if len(s.Charts) == 0 {
		s.Note = "No performance rows in the period: no labelled records."
	}
	return s
}

func servingSection(v *history.Version) section {
	s := section{Title: "Serving"}
	lat := lineOf(v, "Latency", "serving latency quantiles per window", "latency (ms)", drift.FamilyServing, "latency_ms",
		[]string{drift.MetricLatencyP50, drift.MetricLatencyP95, drift.MetricLatencyP99})
	for _, m := range []string{drift.MetricLatencyP99, drift.MetricLatencyP95, drift.MetricLatencyP50} {
		if t := v.Track(drift.FamilyServing, "latency_ms", m); t != nil {
			if steps := points(v, t, rowThreshold); len(steps) > 0 {
				lat.Steps, lat.ThresholdName = steps, strings.TrimSuffix(strings.TrimPrefix(m, "latency_"), "_ms")+" objective"
				break
			}
		}
	}
	thr := lineOf(v, "Throughput", "records per second per window", "records per second", drift.FamilyServing, "throughput", []string{drift.MetricThroughput})
	if t := v.Track(drift.FamilyServing, "throughput", drift.MetricThroughput); t != nil {
		if steps := points(v, t, rowThreshold); len(steps) > 0 {
			thr.Steps, thr.ThresholdName = steps, "minimum objective"
		}
	}
	if len(lat.Series) == 0 && len(thr.Series) == 0 {
		s.Note = "No serving rows in the period (records carry no latency_ms)."
		return s
	}
	if len(lat.Series) > 0 {
		s.Charts = append(s.Charts, svg(lat.SVG()))
	} else {
		s.Note = "No latency in the records (latency_ms)."
	}
	s.Charts = append(s.Charts, svg(thr.SVG()))
	return s
}

// variantSection compares each variant with the champion per window.
func variantSection(v *history.Version) (section, bool) {
	s := section{Title: "Champion and challengers", Note: "Each variant's predictions against the champion's in the same window."}
	c := chart.Line{Title: "Variants against the champion", Desc: "the deciding distance of each variant's predictions from the champion's", Unit: "distance"}
	for _, sub := range v.Subjects {
		if !strings.HasPrefix(sub.Name, "variant=") {
			continue
		}
		c.Series = append(c.Series, chart.Series{Name: strings.TrimPrefix(sub.Name, "variant="), Points: points(v, sub.Deciding, rowValue)})
		if c.ThresholdName == "" {
			if st := points(v, sub.Deciding, rowThreshold); len(st) > 0 {
				c.Steps, c.ThresholdName = st, "threshold"
				c.Unit = firstMetric(sub.Deciding)
			}
		}
	}
	if len(c.Series) == 0 {
		return s, false
	}
	s.Charts = append(s.Charts, svg(c.SVG()))
	return s, true
}

func firstMetric(t history.Track) string {
	for _, r := range t {
		if r != nil {
			return r.Metric
		}
	}
	return ""
}

// fairnessSection draws, per segment attribute, each group's selection
// rate and the parity difference against its limit.
func fairnessSection(v *history.Version) []section {
	attrs := map[string][]string{}
	for k := range v.Tracks {
		if k.Family != drift.FamilyFairness {
			continue
		}
		if a, g, ok := strings.Cut(k.Subject, "="); ok {
			if !slices.Contains(attrs[a], g) {
				attrs[a] = append(attrs[a], g)
			}
		} else if _, ok := attrs[k.Subject]; !ok {
			attrs[k.Subject] = nil
		}
	}
	names := make([]string, 0, len(attrs))
	for a := range attrs {
		names = append(names, a)
	}
	slices.Sort(names)
	var out []section
	for _, a := range names {
		s := section{Title: "Fairness: " + a, Anchor: anchor(v.Version, drift.FamilyFairness, a, "")}
		groups := attrs[a]
		slices.Sort(groups)
		sel := chart.Line{Title: a + ": selection rate per group", Desc: "share of positive decisions in each group, per window", Unit: "selection rate"}
		for _, g := range groups {
			if t := v.Track(drift.FamilyFairness, a+"="+g, drift.MetricSelectionRate); t != nil {
				sel.Series = append(sel.Series, chart.Series{Name: g, Points: points(v, t, rowValue)})
			}
		}
		s.Charts = append(s.Charts, svg(sel.SVG()))
		gap := chart.Line{Title: a + ": parity gaps", Desc: "max - min selection rate (demographic parity), true positive rate (equal opportunity) and both rates (equalized odds) over the groups, and the growth of the selection-rate gap against the baseline's, per window", Unit: "difference of rates"}
		for _, m := range []struct{ metric, name string }{
			{drift.MetricParityDifference, "parity diff"}, {drift.MetricOpportunityDiff, "opportunity diff"},
			{"equalized_odds_diff", "equalized odds"}, {drift.MetricParityChange, "gap growth"},
		} {
			t := v.Track(drift.FamilyFairness, a, m.metric)
			if t == nil {
				continue
			}
			gap.Series = append(gap.Series, chart.Series{Name: m.name, Points: points(v, t, rowValue)})
			if gap.ThresholdName == "" {
				if st := points(v, t, func(r *drift.Row) (float64, bool) { return r.Threshold, r.ThresholdSource == drift.SourceStatic }); len(st) > 0 {
					gap.Steps, gap.ThresholdName = st, "limit ("+m.name+")"
				}
			}
		}
		s.Charts = append(s.Charts, svg(gap.SVG()))
		out = append(out, s)
	}
	return out
}

// qualitySection tables the quality rows that drifted: per feature and
// rate, in how many windows, the worst value and its threshold.
func qualitySection(v *history.Version) section {
	s := section{Title: "Data quality"}
	t := &table{Head: []string{"subject", "rate", "windows breached", "worst value", "threshold", "first"}}
	keys := make([]history.Key, 0)
	for k := range v.Tracks {
		if k.Family == drift.FamilyQuality {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b history.Key) int {
		return strings.Compare(a.Subject+"\x00"+a.Metric, b.Subject+"\x00"+b.Metric)
	})
	for _, k := range keys {
		n, worst, thr := 0, math.Inf(-1), 0.0
		first := ""
		for i, r := range v.Tracks[k] {
			if r != nil && r.Drifted {
				if n == 0 {
					first = v.Windows[i].Start.UTC().Format("Jan 2 15:04")
				}
				n++
				if r.Value > worst {
					worst, thr = r.Value, r.Threshold
				}
			}
		}
		if n > 0 {
			t.Rows = append(t.Rows, []string{k.Subject, strings.ReplaceAll(k.Metric, "_", " "), fmt.Sprint(n), num(worst), num(thr), first})
		}
	}
	if len(t.Rows) == 0 {
		s.Note = "No quality rate above its threshold in the period."
		return s
	}
	s.Table = t
	return s
}

// decodeRows decodes a JSON array of metric rows.
func decodeRows(doc string) ([]drift.Row, error) {
	var rows []drift.Row
	if strings.TrimSpace(doc) == "" {
		return nil, nil
	}
	err := json.Unmarshal([]byte(doc), &rows)
	return rows, err
}
