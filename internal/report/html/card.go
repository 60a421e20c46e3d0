package html

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/internal/report"
	"github.com/driftwatch/driftwatch/internal/report/history"
	"github.com/driftwatch/driftwatch/stats/drift"
	"github.com/driftwatch/driftwatch/windows"
)

// card is the model card, after Google's Model Card Toolkit: details and
// provenance, the intended data (the baseline's features), performance,
// and the subgroup table of every segment attribute, over the period and
// against the baseline.
type card struct {
	Details     [][2]string
	Baselines   []baselineCard
	Performance *table
	Subgroups   []subgroups
	Note        string
}

type baselineCard struct {
	ID         string
	Provenance [][2]string
	Features   table
}

type subgroups struct {
	Title   string
	Groups  table
	Summary table
}

func buildCard(in *Input, versions []*history.Version) card {
	var c card
	var vs []string
	windows, records := 0, int64(0)
	wins := in.windows()
	for _, v := range versions {
		vs = append(vs, v.Version)
		windows += len(v.Windows)
		for _, w := range v.Windows {
			if s, ok := wins[windowKey{v.Version, w.Start.UTC()}]; ok {
				records += s.Records
			}
		}
	}
	c.Details = [][2]string{{"model", in.Model}, {"versions", strings.Join(vs, ", ")}, {"windows in the period", fmt.Sprint(windows)}}
	if records > 0 {
		c.Details = append(c.Details, [2]string{"records in the period", thousands(records)})
	}
	c.Details = append(c.Details, [2]string{"decision", decisionText(in.Policy)})

	// Provenance and intended data: the baselines the rows name.
	var ids []string
	for _, v := range versions {
		for _, t := range v.Tracks {
			for _, r := range t {
				if r != nil && r.BaselineID != "" && !slices.Contains(ids, r.BaselineID) {
					ids = append(ids, r.BaselineID)
				}
			}
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		b := in.baseline(id)
		if b == nil {
			c.Baselines = append(c.Baselines, baselineCard{ID: id, Provenance: [][2]string{{"document", "not found (give the baselines: --baselines DIR, or ClickHouse table baselines)"}}})
			continue
		}
		c.Baselines = append(c.Baselines, baselineOf(b))
	}

	// Performance over the period against the baseline.
	perf := &table{Head: []string{"version", "metric", "period", "baseline", "records behind it"}}
	for _, v := range versions {
		for _, m := range []string{drift.MetricAccuracy, drift.MetricPrecision, drift.MetricRecall, drift.MetricMAE, drift.MetricRMSE} {
			val, n, ok := aggregate(v.Track(drift.FamilyConcept, "performance", m), m == drift.MetricRMSE)
			if !ok {
				continue
			}
			ref := "—"
			for _, r := range v.Track(drift.FamilyConcept, "performance", m) {
				if r != nil && r.ThresholdSource != "" {
					switch m {
					case drift.MetricMAE:
						ref = num(r.Threshold / (1 + in.Policy.MaxErrorIncrease))
					default:
						ref = num(r.Threshold + in.Policy.MaxPerformanceDrop)
					}
				}
			}
			perf.Rows = append(perf.Rows, []string{v.Version, m, num(val), ref, thousands(int64(n))})
		}
	}
	if len(perf.Rows) > 0 {
		c.Performance = perf
	}

	// Subgroups, per version and attribute.
	for _, v := range versions {
		var b *baselines.Baseline
		for _, id := range ids {
			if x := in.baseline(id); x != nil {
				b = x
			}
		}
		c.Subgroups = append(c.Subgroups, subgroupTables(in, v, b)...)
	}
	if len(c.Subgroups) == 0 {
		c.Note = "No segments in the prediction log: no subgroup table (CONTRACT.md section 1, field segments)."
	}
	return c
}

func decisionText(p drift.Policy) string {
	if len(p.Decision.Positive) > 0 {
		return "positive classes " + strings.Join(p.Decision.Positive, ", ") + fmt.Sprintf("; a score is positive at >= %g", p.Decision.Threshold)
	}
	return fmt.Sprintf("a score is positive at >= %g", p.Decision.Threshold)
}

// aggregate is a rate over the windows of a track: the sum of value times
// n_current (its denominator) over the sum of n_current; rms averages
// squares (rmse).
func aggregate(t history.Track, rms bool) (float64, float64, bool) {
	var sum, n float64
	for _, r := range t {
		if r == nil || r.NCurrent <= 0 {
			continue
		}
		x := r.Value
		if rms {
			x *= x
		}
		sum += x * float64(r.NCurrent)
		n += float64(r.NCurrent)
	}
	if n == 0 {
		return 0, 0, false
	}
	if rms {
		return math.Sqrt(sum / n), n, true
	}
	return sum / n, n, true
}

func baselineOf(b *baselines.Baseline) baselineCard {
	bc := baselineCard{ID: b.ID, Provenance: [][2]string{
		{"baseline", b.ID}, {"created", b.CreatedAt.UTC().Format("2006-01-02 15:04 MST")}, {"source", b.Source},
		{"reference rows", thousands(b.Rows)},
	}}
	if b.ModelVersion != "" {
		bc.Provenance = append(bc.Provenance, [2]string{"model version of the reference", b.ModelVersion})
	}
	if b.Cycle != "" {
		bc.Provenance = append(bc.Provenance, [2]string{"seasonal cycle found", b.Cycle})
	}
	bc.Features = table{Head: []string{"feature", "kind", "values", "missing", "range or categories"}}
	for _, f := range append(slices.Clone(b.Features), b.Prediction) {
		bc.Features.Rows = append(bc.Features.Rows, []string{f.Name, string(f.Kind), thousands(f.Count),
			fmt.Sprintf("%.1f%%", 100*f.NullRate()), featureRange(&f)})
	}
	return bc
}

// featureRange describes a baseline feature's values: a numeric one's
// range, mean and standard deviation, a categorical one's most common
// categories with their shares.
func featureRange(f *baselines.Feature) string {
	if f.Kind == baselines.Numeric {
		return fmt.Sprintf("%s to %s, mean %s, sd %s", num(f.Min), num(f.Max), num(f.Mean), num(f.Std))
	}
	cats := slices.Collect(maps.Keys(f.Categories))
	slices.SortFunc(cats, func(a, b string) int {
		if f.Categories[a] != f.Categories[b] {
			return int(f.Categories[b] - f.Categories[a])
		}
		return strings.Compare(a, b)
	})
	var parts []string
	for i, c := range cats {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("%d more", len(cats)-5))
			break
		}
		parts = append(parts, fmt.Sprintf("%s %.0f%%", c, 100*float64(f.Categories[c])/float64(max(f.Count, 1))))
	}
	return strings.Join(parts, ", ")
}

// subgroupTables returns v's subgroup table per segment attribute: per
// group its count and rates over the period and the baseline's selection
// rate; per attribute the parity differences and the four-fifths check.
func subgroupTables(in *Input, v *history.Version, b *baselines.Baseline) []subgroups {
	attrs := map[string][]string{}
	for k := range v.Tracks {
		if a, g, ok := strings.Cut(k.Subject, "="); ok && k.Family == drift.FamilyFairness && !slices.Contains(attrs[a], g) {
			attrs[a] = append(attrs[a], g)
		}
	}
	names := slices.Sorted(maps.Keys(attrs))
	minN := float64(max(in.Policy.Fairness.MinGroupSize, 1))
	var out []subgroups
	for _, a := range names {
		groups := attrs[a]
		slices.Sort(groups)
		sg := subgroups{Title: fmt.Sprintf("%s %s: %s", in.Model, v.Version, a)}
		sg.Groups = table{Head: []string{"group", "count", "selection rate", "true positive rate", "false positive rate", "accuracy"}}
		var ref map[string]windows.Group
		if b != nil {
			ref = drift.ReferenceGroups(b, in.Policy.Decision)[a]
		}
		period, base := map[string]rates{}, map[string]rates{}
		for _, g := range groups {
			subject := a + "=" + g
			get := func(metric string) float64 {
				x, _, ok := aggregate(v.Track(drift.FamilyFairness, subject, metric), false)
				if !ok {
					return math.NaN()
				}
				return x
			}
			_, n, _ := aggregate(v.Track(drift.FamilyFairness, subject, drift.MetricSelectionRate), false)
			r := rates{sel: get(drift.MetricSelectionRate), tpr: get(drift.MetricTruePositiveRate), fpr: get(drift.MetricFalsePositiveRate), acc: get(drift.MetricAccuracy)}
			rr := rates{sel: math.NaN(), tpr: math.NaN(), fpr: math.NaN(), acc: math.NaN()}
			if rg, ok := ref[g]; ok {
				rr = rates{sel: orNaN(rg.Decisions.SelectionRate()), tpr: orNaN(rg.Outcomes.TPR()), fpr: orNaN(rg.Outcomes.FPR()), acc: orNaN(rg.Outcomes.Accuracy())}
				if rg.Decisions.N() >= minN {
					base[g] = rr
				}
			}
			if n >= minN {
				period[g] = r
			}
			sg.Groups.Rows = append(sg.Groups.Rows, []string{g, thousands(int64(n)), pair(r.sel, rr.sel), pair(r.tpr, rr.tpr), pair(r.fpr, rr.fpr), pair(r.acc, rr.acc)})
		}
		spread := func(rs map[string]rates, f func(rates) float64) (float64, bool) {
			lo, hi, k := math.Inf(1), math.Inf(-1), 0
			for _, r := range rs {
				if x := f(r); !math.IsNaN(x) {
					lo, hi, k = min(lo, x), max(hi, x), k+1
				}
			}
			return hi - lo, k >= 2
		}
		show := func(x float64, ok bool) string {
			if !ok {
				return "—"
			}
			return num(x)
		}
		gap := func(rs map[string]rates, f func(rates) float64) string { return show(spread(rs, f)) }
		odds := func(rs map[string]rates) string { // Fairlearn's equalized odds difference
			t, tok := spread(rs, func(r rates) float64 { return r.tpr })
			f, fok := spread(rs, func(r rates) float64 { return r.fpr })
			return show(max(t, f), tok && fok)
		}
		fourFifths := func(rs map[string]rates) string {
			lo, hi, k := math.Inf(1), math.Inf(-1), 0
			for _, r := range rs {
				if !math.IsNaN(r.sel) {
					lo, hi, k = min(lo, r.sel), max(hi, r.sel), k+1
				}
			}
			switch {
			case k < 2 || hi <= 0:
				return "—"
			case lo/hi >= 0.8:
				return fmt.Sprintf("passes (%s ≥ 0.8)", num(lo/hi))
			}
			return fmt.Sprintf("FAILS (%s < 0.8)", num(lo/hi))
		}
		sel := func(r rates) float64 { return r.sel }
		tpr := func(r rates) float64 { return r.tpr }
		sg.Summary = table{Head: []string{"measure", "period", "baseline"}, Rows: [][]string{
			{"demographic parity difference", gap(period, sel), gap(base, sel)},
			{"disparate impact (four-fifths rule)", fourFifths(period), fourFifths(base)},
			{"equal opportunity difference", gap(period, tpr), gap(base, tpr)},
			{"equalized odds difference", odds(period), odds(base)},
		}}
		out = append(out, sg)
	}
	return out
}

// rates are a group's rates over the period or in the baseline; NaN where
// undefined.
type rates struct{ sel, tpr, fpr, acc float64 }

func orNaN(x float64, ok bool) float64 {
	if !ok {
		return math.NaN()
	}
	return x
}

// pair writes a rate over the period and the baseline's.
func pair(period, baseline float64) string {
	if math.IsNaN(baseline) {
		return rate(period)
	}
	return rate(period) + " (" + rate(baseline) + ")"
}

func rate(x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	return fmt.Sprintf("%.3f", x)
}

func thousands(n int64) string { return report.Thousands(n) }
