package html

// pageTemplate is the page. Its styles are its own; it has no script.
const pageTemplate = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
:root{--ink:#1d1d1f;--muted:#5a5a5f;--line:#d9d9de;--bg:#f6f6f8}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--ink);margin:0;background:#fff;line-height:1.45}
header{background:var(--bg);border-bottom:1px solid var(--line);padding:18px 32px}
header h1{margin:0 0 4px;font-size:24px}
header p{margin:0;color:var(--muted)}
main{max-width:1180px;margin:0 auto;padding:8px 32px 48px}
h2{font-size:20px;margin:32px 0 8px;padding-top:8px;border-top:2px solid var(--ink)}
h3{font-size:16px;margin:24px 0 6px}
a{color:#0060a8}
.sev{display:inline-block;min-width:64px;text-align:center;font-weight:700;font-size:13px;padding:2px 8px;border-radius:4px;border:1px solid #0003}
.sev-1{background:#000;color:#fff}.sev-2{background:#D55E00;color:#fff}.sev-3{background:#E69F00;color:#000}
.sev-4{background:#F0E442;color:#000}.drifted{background:#CC79A7;color:#000}.ok{background:#009E73;color:#fff}
.headline{display:flex;gap:12px;align-items:baseline;margin:10px 0;font-size:16px}
.headline .ver{font-weight:700;white-space:nowrap}
ol.findings{padding-left:0;list-style:none;margin:8px 0}
ol.findings li{display:grid;grid-template-columns:80px 1fr;gap:10px;padding:6px 0;border-bottom:1px solid var(--line)}
ol.findings .what{font-weight:600}
ol.findings .fig{color:var(--muted)}
.note{color:var(--muted);font-size:14px;max-width:860px}
.charts{display:flex;flex-wrap:wrap;gap:12px 20px}
.charts svg{width:calc(50% - 10px);min-width:480px;height:auto;border:1px solid var(--line);border-radius:4px}
.charts.wide svg{width:auto;max-width:100%}
table{border-collapse:collapse;margin:6px 0 14px;font-size:14px}
td,th{border-bottom:1px solid var(--line);padding:4px 10px;text-align:left;vertical-align:top}
th{background:var(--bg)}
td.num{text-align:right;font-variant-numeric:tabular-nums}
nav.toc{font-size:14px;color:var(--muted)}
footer{color:var(--muted);font-size:13px;border-top:1px solid var(--line);margin-top:40px;padding-top:8px}
@media print{.charts svg{break-inside:avoid}h2{break-before:page}}
</style></head><body>
<header><h1>{{.Title}}</h1><p>{{if .Period}}{{.Period}} · {{end}}generated {{.Generated}}</p></header>
<main>
{{if not .CardOnly}}<section id="summary"><h2>Summary</h2>
{{range .Headlines}}<div class="headline"><span class="sev {{.SevClass}}">{{.Severity}}</span><span class="ver">{{$.Model}} {{.Version}}</span><span>{{.Text}}</span></div>
{{end}}
{{if .Findings}}<h3>What to look at, the worst first</h3>
<ol class="findings">{{range .Findings}}<li><span class="sev {{.SevClass}}">{{if .Severity}}{{.Severity}}{{else}}drifted{{end}}</span><span><a class="what" href="#{{.Anchor}}">{{$.Model}} {{.Version}}: {{.What}}</a> <span class="fig">{{.Figure}}; {{.Span}}</span></span></li>
{{end}}</ol>{{if .MoreFindings}}<p class="note">And {{.MoreFindings}} more in the sections below.</p>{{end}}{{end}}
<h3>What fired</h3>
{{if .Fired}}<p>{{if .Recorded}}Alerts and actions recorded in the period (alert_history):{{else}}From metric files (replay, the demo), which send no alerts, what the rows' severities fire:{{end}} {{range $i, $f := .Fired}}{{if $i}}, {{end}}{{$f}}{{end}}.</p>{{else}}<p>Nothing fired in the period.</p>{{end}}
{{if .NoDistributions}}<p class="note">No window distributions were given (replay writes them to &lt;output&gt;.windows.jsonl; ClickHouse keeps them in window_summaries): the report shows scores, not distributions.</p>{{end}}
<nav class="toc">Sections: {{range .Versions}}<a href="#{{.Anchor}}">{{$.Model}} {{.Version}}</a> · {{end}}<a href="#card">model card</a></nav>
</section>
{{range .Versions}}{{$v := .}}<section id="{{.Anchor}}"><h2>{{$.Model}} {{.Version}} <small class="note">{{.Windows}} windows</small></h2>
<div class="charts">{{index .Overview 0}}</div><div class="charts wide">{{index .Overview 1}}</div>
{{if .Subjects}}<h3>Drifted subjects</h3>{{end}}
{{range .Subjects}}<div id="{{.Anchor}}"><h3>{{.Title}}</h3>{{if .Note}}<p class="note">{{.Note}}</p>{{end}}<div class="charts">{{range .Charts}}{{.}}{{end}}</div></div>
{{end}}
{{range .Sections}}<h3 id="{{.Anchor}}">{{.Title}}</h3>{{if .Note}}<p class="note">{{.Note}}</p>{{end}}{{if .Charts}}<div class="charts">{{range .Charts}}{{.}}{{end}}</div>{{end}}{{with .Table}}<table><tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr>{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>{{end}}</table>{{end}}
{{end}}
<h3 id="{{.AlertsAnchor}}">Alerts</h3>{{if .Alerts}}{{if $.Recorded}}<table><tr><th>window</th><th>severity</th><th>state</th><th>alert</th><th>about</th><th>figure</th><th>evidence</th><th>sent to</th></tr>
{{range .Alerts}}<tr><td>{{.When}}</td><td><span class="sev {{.SevClass}}">{{.Severity}}</span></td><td>{{.State}}</td><td>{{.Name}}</td><td>{{.What}}</td><td>{{.Figure}}</td><td>{{.Evidence}}</td><td>{{.Receiver}}</td></tr>
{{end}}</table>{{else}}<p class="note">What the rows' severities fire, one line per episode (consecutive windows of one subject), with the evidence of the window that started it.</p>
<table><tr><th>windows</th><th>severity</th><th>about</th><th>newest figure</th><th>evidence when it started</th></tr>
{{range .Alerts}}<tr><td>{{.When}}</td><td><span class="sev {{.SevClass}}">{{.Severity}}</span></td><td>{{.What}}</td><td>{{.Figure}}</td><td>{{.Evidence}}</td></tr>
{{end}}</table>{{end}}{{else}}<p class="note">{{.NoAlerts}}</p>{{end}}
</section>
{{end}}{{end}}
<section id="card">{{if not .CardOnly}}<h2>Model card: {{.Model}}</h2>{{end}}
{{with .Card}}<h3>Model details</h3><table>{{range .Details}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>{{end}}</table>
{{range .Baselines}}<h3>Baseline {{.ID}}</h3><table>{{range .Provenance}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>{{end}}</table>
{{if .Features.Rows}}<p class="note">Intended data: the reference's features, as the baseline holds them.</p><table><tr>{{range .Features.Head}}<th>{{.}}</th>{{end}}</tr>{{range .Features.Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>{{end}}</table>{{end}}
{{end}}
<h3>Performance</h3>{{with .Performance}}<table><tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr>{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>{{end}}</table>{{else}}<p class="note">No labelled records in the period.</p>{{end}}
<h3>Subgroups</h3>{{if .Note}}<p class="note">{{.Note}}</p>{{end}}
{{if .Subgroups}}<p class="note">Each group's rates over the period, and in parentheses the baseline's at the same decision rule.</p>{{end}}
{{range .Subgroups}}<h4>{{.Title}}</h4><table><tr>{{range .Groups.Head}}<th>{{.}}</th>{{end}}</tr>{{range .Groups.Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>{{end}}</table>
<table><tr>{{range .Summary.Head}}<th>{{.}}</th>{{end}}</tr>{{range .Summary.Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>{{end}}</table>
{{end}}{{end}}
<p class="note">Rates over the period are the windows' rates weighted by their denominators (the rows' n_current); differences are over the groups with at least fairness.min_group_size records, as Fairlearn defines them.</p>
</section>
<footer>driftwatch report{{if .Source}} · data: {{.Source}}{{end}} · figures are driftwatch's metric rows (see CONTRACT.md sections 3 and 5 of the driftwatch repository)</footer>
</main></body></html>
`
