// Package html writes the report of issue 19 as one self-contained HTML
// page: its styles inline, its charts inline SVG (package chart), no script
// and nothing fetched, so it opens offline and its text can be selected.
//
// This is a first sketch: a summary, then per model version the dataset
// drift share, the verdict heat map, the score of each drifted subject
// against its threshold, performance, latency and the alerts. Distributions
// (baseline against current) and the model card need data the metric rows
// do not carry, and are not drawn yet.
package html

import (
	"fmt"
	"html/template"
	"io"
	"time"

	"github.com/driftwatch/driftwatch/internal/report/chart"
	"github.com/driftwatch/driftwatch/internal/report/history"
	"github.com/driftwatch/driftwatch/stats/drift"
)

// Write renders the page for versions, generated at now (UTC).
func Write(w io.Writer, versions []*history.Version, now time.Time) error {
	data := struct {
		Generated string
		Versions  []version
	}{Generated: now.UTC().Format(time.RFC3339)}
	for _, v := range versions {
		data.Versions = append(data.Versions, build(v))
	}
	if err := page.Execute(w, data); err != nil {
		return fmt.Errorf("write report page: %w", err)
	}
	return nil
}

type version struct {
	Model, Version       string
	From, To             string
	Windows, DriftedWins int
	Charts               []template.HTML
	Alerts               []*drift.Row
}

func build(v *history.Version) version {
	out := version{Model: v.Model, Version: v.Version, Windows: len(v.Windows), Alerts: v.Alerts()}
	if n := len(v.Windows); n > 0 {
		out.From, out.To = v.Windows[0].Start.Format(time.RFC3339), v.Windows[n-1].End.Format(time.RFC3339)
	}
	add := func(svg []byte) { out.Charts = append(out.Charts, template.HTML(svg)) } // our own well-formed, escaped SVG
	share := v.DriftShare()
	for _, r := range share {
		if r != nil && r.Drifted {
			out.DriftedWins++
		}
	}
	add(chart.Line{Title: "Dataset drift share", Desc: "weighted share of drifted features per window", Unit: "share of features",
		Series: []chart.Series{{Name: "weighted drift share", Points: points(v, share)}}, Threshold: 0.5, ThresholdName: "dataset drifted at 0.5"}.SVG())

	heat := chart.Heat{Title: "Verdicts per window", Desc: "each judged subject by window, coloured by its verdict and severity"}
	for _, w := range v.Windows {
		heat.Cols = append(heat.Cols, w.Start.Format("Jan 2 15:04"))
	}
	for _, s := range v.Subjects {
		heat.Rows = append(heat.Rows, s.Family+": "+s.Name)
		row := make([]chart.Cell, len(s.Deciding))
		for i, r := range s.Deciding {
			row[i] = cell(r)
		}
		heat.Cells = append(heat.Cells, row)
	}
	add(heat.SVG())

	for _, s := range v.Subjects {
		var metric string
		var thr float64
		for _, r := range s.Deciding {
			if r != nil && r.Drifted {
				metric, thr = r.Metric, r.Threshold
			}
		}
		if metric == "" {
			continue
		}
		add(chart.Line{Title: s.Name + ": " + metric + " per window", Desc: "the deciding score of " + s.Name + " against its threshold", Unit: metric,
			Series:    []chart.Series{{Name: metric, Points: points(v, s.Deciding)}},
			Threshold: thr, ThresholdName: fmt.Sprintf("threshold %.3g (latest drifted window)", thr)}.SVG())
	}
	for _, g := range []struct{ family, subject, title, unit string }{
		{drift.FamilyConcept, "performance", "Performance", "score"},
		{drift.FamilyServing, "latency_ms", "Latency percentiles", "latency (ms)"},
	} {
		c := chart.Line{Title: g.title, Desc: g.title + " per window", Unit: g.unit}
		for _, m := range v.Metrics(g.family, g.subject) {
			c.Series = append(c.Series, chart.Series{Name: m, Points: points(v, v.Track(g.family, g.subject, m))})
		}
		add(c.SVG())
	}
	return out
}

func points(v *history.Version, t history.Track) []chart.Point {
	var p []chart.Point
	for i, r := range t {
		if r != nil {
			p = append(p, chart.Point{T: v.Windows[i].Start, V: r.Value})
		}
	}
	return p
}

// cell is a deciding row's heat-map cell.
func cell(r *drift.Row) chart.Cell {
	switch {
	case r == nil:
		return chart.Cell{}
	case r.ThresholdSource == drift.SourceInsufficient:
		return chart.Cell{Verdict: chart.Insufficient, Note: note(r)}
	case r.Drifted:
		return chart.Cell{Verdict: chart.Severity(r.Severity), Note: note(r)}
	}
	return chart.Cell{Verdict: chart.OK, Note: note(r)}
}

func note(r *drift.Row) string {
	return fmt.Sprintf("%s = %.4g (threshold %.4g, %s), n = %d", r.Metric, r.Value, r.Threshold, r.ThresholdSource, r.NCurrent)
}

var page = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>driftwatch report</title>
<style>
body{font-family:sans-serif;max-width:760px;margin:2em auto;color:#222;line-height:1.4}
svg{display:block;max-width:100%;height:auto;margin:1em 0}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}
</style></head><body>
<h1>driftwatch report</h1>
<p>Generated {{.Generated}} (UTC).</p>
<h2>Summary</h2>
<table><tr><th>model</th><th>version</th><th>windows</th><th>dataset drifted</th><th>alerts</th><th>from</th><th>to</th></tr>
{{range .Versions}}<tr><td>{{.Model}}</td><td>{{.Version}}</td><td>{{.Windows}}</td><td>{{.DriftedWins}}</td><td>{{len .Alerts}}</td><td>{{.From}}</td><td>{{.To}}</td></tr>
{{end}}</table>
{{range .Versions}}<section><h2>{{.Model}} {{.Version}}</h2>
{{range .Charts}}{{.}}{{end}}
<h3>Alerts</h3>{{if .Alerts}}<table><tr><th>window</th><th>severity</th><th>family</th><th>subject</th><th>metric</th><th>value</th><th>threshold</th></tr>
{{range .Alerts}}<tr><td>{{.WindowStart.Format "2006-01-02 15:04"}}</td><td>{{.Severity}}</td><td>{{.Family}}</td><td>{{.Subject}}</td><td>{{.Metric}}</td><td>{{printf "%.4g" .Value}}</td><td>{{printf "%.4g" .Threshold}}</td></tr>
{{end}}</table>{{else}}<p>None.</p>{{end}}
</section>
{{end}}</body></html>
`))
