// Package html writes driftwatch's report as one self-contained HTML page:
// its styles inline, its charts inline SVG (package chart), no script and
// nothing fetched, so it opens offline, prints, and its text can be
// selected and searched.
//
// The page reads from the top: what went wrong, where and since when (the
// summary and "what to look at", the worst first); then per model version
// the dataset drift share and a heat map of every subject by window; per
// drifted feature its baseline and window distributions overlaid and its
// score against its threshold; predictions, labels, performance against
// the baseline, serving, variants, fairness and data quality; the alerts
// with their evidence and actions; and the model card (Input.CardOnly
// draws it alone). It deliberately computes no drift statistic: every
// figure is a metric row, a window's distribution or a baseline, or a
// period's aggregate of rows (a rate over windows, weighted by each row's
// n_current, its denominator).
package html

import (
	"cmp"
	"errors"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/driftwatch/driftwatch/internal/report/history"
	"github.com/driftwatch/driftwatch/sinks"
	"github.com/driftwatch/driftwatch/stats/drift"
)

// ErrNoRows is Write's error (wrapped) when in holds no metric row of its
// model and period.
var ErrNoRows = errors.New("no metric rows")

// Write renders in's report.
func Write(w io.Writer, in Input) error {
	p, err := build(&in)
	if err != nil {
		return err
	}
	if err := page.Execute(w, p); err != nil {
		return fmt.Errorf("write report page: %w", err)
	}
	return nil
}

// view is what the template draws.
type view struct {
	Title, Model    string
	Period          string
	Generated       string
	Source          string
	CardOnly        bool
	Headlines       []headline
	Findings        []finding
	MoreFindings    int
	Fired           []string
	Recorded        bool
	Versions        []versionView
	Card            card
	NoDistributions bool
}

// headline is one model version's verdict in a sentence.
type headline struct {
	Version, Severity, SevClass string
	Text                        string
}

// versionView is one model version's sections.
type versionView struct {
	Version      string
	Windows      int
	Overview     []template.HTML
	Subjects     []subjectView
	Sections     []section
	Alerts       []alertView
	NoAlerts     string
	Anchor       string
	Findings     []finding
	AlertsAnchor string
}

// subjectView is one drifted subject: its distributions and its score.
type subjectView struct {
	Title, Anchor, Note string
	Charts              []template.HTML
}

// section is a titled group of charts and notes.
type section struct {
	Title, Note string
	Anchor      string
	Charts      []template.HTML
	Table       *table
}

// table is a plain table.
type table struct {
	Head []string
	Rows [][]string
}

// alertView is one alert, action or would-be alert.
type alertView struct {
	When, Severity, SevClass, Name, State string
	What, Figure, Evidence, Receiver      string

	first   string // an episode's first window
	windows int    // an episode's windows
}

// maxFindings bounds the summary's list; the rest are counted.
const maxFindings = 12

func build(in *Input) (*view, error) {
	if in.Model == "" {
		return nil, fmt.Errorf("report: no model")
	}
	gen := in.Generated
	if gen.IsZero() {
		gen = time.Now()
	}
	versions := history.Group(in.rows(), in.Policy)
	if len(versions) == 0 {
		return nil, fmt.Errorf("report: %w of model %q in the period%s", ErrNoRows, in.Model, periodText(in.From, in.To, " "))
	}
	from, to := in.From, in.To
	for _, v := range versions {
		if n := len(v.Windows); n > 0 {
			if from.IsZero() || v.Windows[0].Start.Before(from) && in.From.IsZero() {
				from = v.Windows[0].Start
			}
			if to.IsZero() || v.Windows[n-1].End.After(to) && in.To.IsZero() {
				to = v.Windows[n-1].End
			}
		}
	}
	p := &view{
		Title: "driftwatch report: " + in.Model, Model: in.Model, Period: periodText(from, to, ""),
		Generated: gen.UTC().Format("2006-01-02 15:04 MST"), Source: in.Source, CardOnly: in.CardOnly,
		Recorded: in.Recorded, NoDistributions: len(in.Windows) == 0,
	}
	if in.CardOnly {
		p.Title = "Model card: " + in.Model
	}
	wins := in.windows()
	var all []finding
	for _, v := range versions {
		fs := findings(v)
		all = append(all, fs...)
		p.Headlines = append(p.Headlines, headlineOf(v, fs))
		if !in.CardOnly {
			p.Versions = append(p.Versions, versionSections(in, v, fs, wins))
		}
	}
	slices.SortStableFunc(all, func(a, b finding) int {
		return cmp.Or(cmp.Compare(sevRank(a.Severity), sevRank(b.Severity)), -cmpBool(a.Ongoing, b.Ongoing), a.First.Compare(b.First))
	})
	if len(all) > maxFindings {
		p.MoreFindings = len(all) - maxFindings
		all = all[:maxFindings]
	}
	p.Findings = all
	p.Fired = fired(in, versions)
	p.Card = buildCard(in, versions)
	return p, nil
}

func periodText(from, to time.Time, lead string) string {
	const layout = "2006-01-02 15:04"
	switch {
	case from.IsZero() && to.IsZero():
		return ""
	case from.IsZero():
		return lead + "before " + to.UTC().Format(layout) + " UTC"
	case to.IsZero():
		return lead + "from " + from.UTC().Format(layout) + " UTC"
	}
	return lead + from.UTC().Format(layout) + " to " + to.UTC().Format(layout) + " UTC"
}

// headlineOf says in one sentence what went wrong in v.
func headlineOf(v *history.Version, fs []finding) headline {
	h := headline{Version: v.Version, Severity: "OK", SevClass: "ok"}
	if len(fs) == 0 {
		h.Text = fmt.Sprintf("nothing drifted in %d windows.", len(v.Windows))
		return h
	}
	worst := fs[0]
	h.Severity, h.SevClass = cmp.Or(worst.Severity, "drifted"), worst.SevClass()
	var features []string
	judged := 0
	first := worst.First
	var parts []string
	for _, s := range v.Subjects {
		if s.Family == drift.FamilyData {
			judged++
		}
	}
	for _, f := range fs {
		if f.First.Before(first) {
			first = f.First
		}
		switch {
		case f.Family == drift.FamilyData && f.Subject == drift.SubjectMultivariate:
			parts = appendOnce(parts, "the features taken together")
		case f.Family == drift.FamilyData && f.Subject != "*" && f.Metric != drift.MetricNullRate:
			features = append(features, f.Subject)
		case f.Family == drift.FamilyPrediction && !strings.HasPrefix(f.Subject, "variant="):
			parts = appendOnce(parts, "the predictions")
		case f.Family == drift.FamilyConcept:
			parts = appendOnce(parts, "performance")
		case f.Family == drift.FamilyFairness:
			parts = appendOnce(parts, "fairness ("+strings.SplitN(f.Subject, "=", 2)[0]+")")
		case f.Family == drift.FamilyLabel:
			parts = appendOnce(parts, "the labels")
		case f.Family == drift.FamilyServing:
			parts = appendOnce(parts, "serving")
		case f.Family == drift.FamilyQuality:
			parts = appendOnce(parts, "data quality")
		}
	}
	if len(features) > 0 {
		slices.Sort(features)
		parts = append([]string{fmt.Sprintf("%d of %d features (%s)", len(features), judged, strings.Join(features, ", "))}, parts...)
	}
	h.Text = fmt.Sprintf("%s drifted since %s UTC; worst: %s, %s.", listText(parts),
		first.UTC().Format("Jan 2 15:04"), worst.What(), worst.Figure())
	return h
}

// plural writes "1 window", "2 windows".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// listText joins "a", "b" and "c" as "a, b and c".
func listText(xs []string) string {
	if len(xs) < 2 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

func appendOnce(xs []string, x string) []string {
	if slices.Contains(xs, x) {
		return xs
	}
	return append(xs, x)
}

// fired lists the alerts of the period by alert name and severity: from
// the audit trail when there is one, else what the rows' severities would
// fire.
func fired(in *Input, versions []*history.Version) []string {
	count := map[string]int{}
	if in.Recorded {
		for _, a := range in.Alerts {
			if a.Model == in.Model && inPeriod(in, a.WindowStart) && (a.State == "firing" || strings.HasPrefix(a.State, "action:")) {
				name := a.Alertname
				if strings.HasPrefix(a.State, "action:") {
					name = strings.TrimPrefix(a.State, "action:") + " triggered"
				}
				count[strings.TrimSpace(a.Severity+" "+name)]++
			}
		}
	} else {
		for _, v := range versions {
			for _, g := range alertGroups(v) {
				count[g[0].Severity+" "+g[0].Family+" "+g[0].Subject]++
			}
		}
	}
	var out []string
	for k, n := range count {
		if in.Recorded {
			out = append(out, fmt.Sprintf("%s ×%d", k, n))
		} else {
			out = append(out, fmt.Sprintf("%s in %s", k, plural(n, "window")))
		}
	}
	slices.Sort(out)
	return out
}

func inPeriod(in *Input, t time.Time) bool {
	return (in.From.IsZero() || !t.Before(in.From)) && (in.To.IsZero() || t.Before(in.To))
}

// alertGroups returns v's rows with a severity grouped as alerts group
// them: per window, family and subject, the worst first in each.
func alertGroups(v *history.Version) [][]*drift.Row {
	type key struct {
		start           time.Time
		family, subject string
	}
	groups := map[key][]*drift.Row{}
	for _, r := range v.Alerts() {
		k := key{r.WindowStart, r.Family, r.Subject}
		groups[k] = append(groups[k], r)
	}
	out := make([][]*drift.Row, 0, len(groups))
	for _, g := range groups {
		slices.SortStableFunc(g, func(a, b *drift.Row) int { return cmp.Compare(sevRank(a.Severity), sevRank(b.Severity)) })
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b []*drift.Row) int {
		return cmp.Or(a[0].WindowStart.Compare(b[0].WindowStart), cmp.Compare(sevRank(a[0].Severity), sevRank(b[0].Severity)),
			cmp.Compare(a[0].Family, b[0].Family), cmp.Compare(a[0].Subject, b[0].Subject))
	})
	return out
}

// alerts lists v's alerts of the period with their evidence: the audit
// trail's records, or the rows' would-be alerts.
func alerts(in *Input, v *history.Version) []alertView {
	var out []alertView
	if in.Recorded {
		recs := slices.Clone(in.Alerts)
		slices.SortStableFunc(recs, func(a, b sinks.AlertRecord) int {
			return cmp.Or(a.WindowStart.Compare(b.WindowStart), a.SentAt.Compare(b.SentAt))
		})
		for _, a := range recs {
			if a.Model != in.Model || a.Version != v.Version || !inPeriod(in, a.WindowStart) {
				continue
			}
			out = append(out, alertView{
				When: a.WindowStart.UTC().Format("Jan 2 15:04"), Severity: a.Severity, SevClass: sevClass(a.Severity),
				Name: a.Alertname, State: a.State, What: a.Family + " " + a.Subject,
				Figure: fmt.Sprintf("%s %s (threshold %s)", a.Metric, num(a.Value), num(a.Threshold)), Evidence: evidence(a.Evidence),
				Receiver: receiver(a),
			})
		}
		return out
	}
	// Episodes: a subject's alert groups in consecutive windows.
	index := map[time.Time]int{}
	for i, w := range v.Windows {
		index[w.Start] = i
	}
	type key struct{ family, subject string }
	open := map[key]int{} // the episode's index in out
	lastWin := map[key]int{}
	for _, g := range alertGroups(v) {
		k, i := key{g[0].Family, g[0].Subject}, index[g[0].WindowStart]
		if j, ok := open[k]; ok && lastWin[k] == i-1 {
			e := &out[j]
			e.windows++
			e.When = fmt.Sprintf("%s → %s (%d windows)", e.first, g[0].WindowStart.UTC().Format("Jan 2 15:04"), e.windows)
			e.Figure = fmt.Sprintf("%s %s", g[0].Metric, num(g[0].Value))
			if sevRank(g[0].Severity) < sevRank(e.Severity) {
				e.Severity, e.SevClass = g[0].Severity, sevClass(g[0].Severity)
			}
			lastWin[k] = i
			continue
		}
		var ev []string
		for n, r := range g {
			if n == 4 {
				ev = append(ev, fmt.Sprintf("and %d more rows", len(g)-4))
				break
			}
			ev = append(ev, fmt.Sprintf("%s %s (threshold %s, n %s)", r.Metric, num(r.Value), num(r.Threshold), thousands(r.NCurrent)))
		}
		first := g[0].WindowStart.UTC().Format("Jan 2 15:04")
		out = append(out, alertView{
			When: first, first: first, windows: 1, Severity: g[0].Severity, SevClass: sevClass(g[0].Severity),
			What: g[0].Family + " " + g[0].Subject, Figure: fmt.Sprintf("%s %s", g[0].Metric, num(g[0].Value)),
			Evidence: strings.Join(ev, "; "),
		})
		open[k], lastWin[k] = len(out)-1, i
	}
	return out
}

// receiver says where an alert went and whether it arrived.
func receiver(a sinks.AlertRecord) string {
	switch {
	case a.Receiver == "":
		return ""
	case a.Delivered:
		return a.Receiver
	}
	return a.Receiver + " (not delivered: " + a.Error + ")"
}

// evidence summarizes an alert's evidence, a JSON array of rows.
func evidence(doc string) string {
	rows, err := decodeRows(doc)
	if err != nil {
		return "(evidence unreadable: " + err.Error() + ")"
	}
	var out []string
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%s %s %s (threshold %s, n %d)", r.Subject, r.Metric, num(r.Value), num(r.Threshold), r.NCurrent))
	}
	return strings.Join(out, "; ")
}

var page = template.Must(template.New("page").Parse(pageTemplate))
