package html

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/driftwatch/driftwatch/internal/report/history"
	"github.com/driftwatch/driftwatch/stats/drift"
)

// finding is one thing that went wrong in a model version over the
// period: a subject's verdict (or one judged figure) that drifted in some
// of its windows.
type finding struct {
	Version          string
	Family, Subject  string
	Metric           string
	Severity         string // the worst of its windows; "" for drifted without an alert rule
	First, Last      time.Time
	Drifted, Windows int  // windows drifted, windows judged
	Ongoing          bool // drifted in the version's newest window
	Value, Threshold float64
	PValue           *float64
	Below            bool // drifted below its threshold (performance, throughput, disparate impact)
	Anchor           string
	// Also names the other metrics of the same subject that drifted too
	// (performance, a fairness attribute), folded into this finding.
	Also []string
}

// what says what the finding is about, for a person.
func (f *finding) What() string {
	switch f.Family {
	case drift.FamilyData:
		if f.Subject == "*" {
			return "dataset drift share"
		}
		if f.Subject == drift.SubjectMultivariate {
			return "the features taken together (" + strings.ReplaceAll(f.Metric, "_", " ") + ")"
		}
		return "feature " + f.Subject
	case drift.FamilyPrediction:
		if strings.HasPrefix(f.Subject, "variant=") {
			return "variant " + strings.TrimPrefix(f.Subject, "variant=") + " against the champion"
		}
		if f.Metric == drift.MetricPositiveRate || f.Metric == drift.MetricModeShare {
			return "prediction " + strings.ReplaceAll(f.Metric, "_", " ")
		}
		return "prediction distribution"
	case drift.FamilyLabel:
		return "label distribution"
	case drift.FamilyConcept:
		if v, ok := strings.CutPrefix(f.Subject, "variant="); ok {
			return "variant " + v + " against the champion: " + strings.ReplaceAll(f.Metric, "_", " ") + also(f.Also)
		}
		if f.Subject == "error_stream" {
			return "error stream change (" + f.Metric + ")" + also(f.Also)
		}
		if f.Subject == drift.SubjectEstimated {
			return "performance estimated without labels: " + f.Metric + also(f.Also)
		}
		return "performance: " + f.Metric + also(f.Also)
	case drift.FamilyFairness:
		return "fairness " + f.Subject + ": " + strings.ReplaceAll(f.Metric, "_", " ") + also(f.Also)
	case drift.FamilyQuality:
		return "data quality " + f.Subject + ": " + strings.ReplaceAll(f.Metric, "_", " ")
	case drift.FamilyServing:
		return "serving " + strings.ReplaceAll(f.Metric, "_", " ")
	}
	return f.Family + " " + f.Subject + " " + f.Metric
}

// also names the folded metrics: " (and recall, mae)".
func also(metrics []string) string {
	if len(metrics) == 0 {
		return ""
	}
	return " (and " + listText(metrics) + ")"
}

// Figure is the finding's newest drifted value against its threshold.
func (f *finding) Figure() string {
	op := "≥"
	if f.Below {
		op = "<"
	}
	switch {
	case f.Family == drift.FamilyQuality && f.Metric == drift.MetricLateRecords:
		return fmt.Sprintf("%s late records", num(f.Value))
	case f.Metric == drift.MetricPositiveRate:
		return fmt.Sprintf("positive rate %s, moved more than %s from the baseline's", num(f.Value), num(f.Threshold))
	case f.Subject == "error_stream":
		return fmt.Sprintf("%s signalled %s change points", f.Metric, num(f.Value))
	case isTest(f.Metric) && f.PValue != nil:
		return fmt.Sprintf("%s p = %s < %s", f.Metric, num(*f.PValue), num(f.Threshold))
	}
	return fmt.Sprintf("%s %s %s %s", f.Metric, num(f.Value), op, num(f.Threshold))
}

// Span says since when and how often.
func (f *finding) Span() string {
	s := fmt.Sprintf("since %s, %d of %s", f.First.Format("Jan 2 15:04"), f.Drifted, plural(f.Windows, "window"))
	if f.Ongoing {
		return s + ", still drifting"
	}
	return s + ", last " + f.Last.Format("Jan 2 15:04")
}

// SevClass is the finding's CSS class.
func (f *finding) SevClass() string { return sevClass(f.Severity) }

func sevClass(sev string) string {
	if sev == "" {
		return "drifted"
	}
	return strings.ToLower(sev)
}

// findings returns what drifted in v, the worst first: by severity, then
// ongoing before over, then the earliest.
func findings(v *history.Version) []finding {
	var out []finding
	n := len(v.Windows)
	add := func(family, subject string, t history.Track) {
		f := finding{Version: v.Version, Family: family, Subject: subject}
		for i, r := range t {
			if r == nil {
				continue
			}
			f.Windows++
			if !r.Drifted {
				continue
			}
			if f.Drifted == 0 {
				f.First = r.WindowStart
			}
			f.Drifted++
			f.Last = r.WindowStart
			f.Ongoing = i == n-1
			f.Metric, f.Value, f.Threshold, f.PValue = r.Metric, r.Value, r.Threshold, r.PValue
			f.Below = below(r)
			if sevRank(r.Severity) < sevRank(f.Severity) {
				f.Severity = r.Severity
			}
		}
		if f.Drifted > 0 {
			f.Anchor = sectionAnchor(v.Version, family, subject)
			if f.Metric == drift.MetricPositiveRate || f.Metric == drift.MetricModeShare {
				f.Anchor = anchor(v.Version, drift.FamilyPrediction, "", "")
			}
			out = append(out, f)
		}
	}
	judged := map[history.Key]bool{}
	for _, s := range v.Subjects {
		add(s.Family, s.Name, s.Deciding)
		for k := range v.Tracks {
			if k.Family == s.Family && k.Subject == s.Name {
				judged[k] = true
			}
		}
	}
	keys := make([]history.Key, 0, len(v.Tracks))
	for k := range v.Tracks {
		if !judged[k] || k.Metric == drift.MetricNullRate {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b history.Key) int {
		return cmp.Or(cmp.Compare(a.Family, b.Family), cmp.Compare(a.Subject, b.Subject), cmp.Compare(a.Metric, b.Metric))
	})
	for _, k := range keys {
		if k.Family == drift.FamilyData && k.Subject == "*" && k.Metric != drift.MetricWeightedDrift {
			continue // drifted_share says the same as weighted_drift_share
		}
		before := len(out)
		add(k.Family, k.Subject, v.Tracks[k])
		if len(out) > before {
			out[len(out)-1].Metric = k.Metric
		}
	}
	slices.SortStableFunc(out, func(a, b finding) int {
		return cmp.Or(cmp.Compare(sevRank(a.Severity), sevRank(b.Severity)),
			-cmpBool(a.Ongoing, b.Ongoing), a.First.Compare(b.First), cmp.Compare(familyRank(a.Family), familyRank(b.Family)))
	})
	return fold(out)
}

// fold folds the findings of one performance subject or one fairness
// attribute into its worst (the first, findings being sorted): one line
// says the model got worse, naming the other metrics that did too.
func fold(fs []finding) []finding {
	var out []finding
	at := map[string]int{}
	for _, f := range fs {
		key := ""
		switch f.Family {
		case drift.FamilyConcept:
			key = f.Version + "\x00" + f.Family + "\x00" + f.Subject
		case drift.FamilyFairness:
			key = f.Version + "\x00" + f.Family + "\x00" + f.Anchor // per attribute
		}
		if i, ok := at[key]; ok && key != "" {
			out[i].Also = append(out[i].Also, strings.ReplaceAll(f.Metric, "_", " "))
			out[i].First = minTime(out[i].First, f.First)
			continue
		}
		if key != "" {
			at[key] = len(out)
		}
		out = append(out, f)
	}
	return out
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// sevRank orders severities: SEV-1 first, drifted without one last.
func sevRank(s string) int {
	if len(s) == 5 && strings.HasPrefix(s, "SEV-") {
		return int(s[4] - '0')
	}
	return 9
}

// familyRank orders families as the report reads them.
func familyRank(f string) int {
	return slices.Index([]string{drift.FamilyConcept, drift.FamilyPrediction, drift.FamilyData, drift.FamilyFairness, drift.FamilyLabel, drift.FamilyServing, drift.FamilyQuality}, f)
}

// below says whether r's metric is drifted below its threshold.
func below(r *drift.Row) bool {
	switch r.Metric {
	case drift.MetricAccuracy, drift.MetricPrecision, drift.MetricRecall, drift.MetricThroughput, drift.MetricDisparateImpact:
		return true
	}
	return false
}

func isTest(metric string) bool { return drift.Metrics[metric] }

// sectionAnchor is the id of the part of the page that shows a family
// and subject: a drifted subject's charts, a fairness attribute's, or the
// family's section.
func sectionAnchor(version, family, subject string) string {
	switch family {
	case drift.FamilyData:
		if subject == "*" || subject == drift.SubjectMultivariate {
			return anchor(version, "", "", "")
		}
		return anchor(version, family, subject, "")
	case drift.FamilyPrediction, drift.FamilyLabel:
		if strings.HasPrefix(subject, "variant=") {
			return anchor(version, "variants", "", "")
		}
		if family == drift.FamilyPrediction && subject == "prediction" {
			return anchor(version, family, subject, "")
		}
		return anchor(version, family, "", "")
	case drift.FamilyFairness:
		a, _, _ := strings.Cut(subject, "=")
		return anchor(version, family, a, "")
	}
	return anchor(version, family, "", "")
}

// anchor is the id of a part of the page.
func anchor(version, family, subject, metric string) string {
	var b strings.Builder
	for _, r := range "v" + version + "-" + family + "-" + subject {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			fmt.Fprintf(&b, "_%x", r)
		}
	}
	return b.String()
}

// num formats a figure for a person: 3 significant digits, whole numbers
// from 1,000 on with thousands separators.
func num(v float64) string {
	switch {
	case v == 0:
		return "0"
	case math.Abs(v) >= 1e15:
		return "∞"
	case math.Abs(v) >= 1000:
		return thousands(int64(math.Round(v)))
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}
