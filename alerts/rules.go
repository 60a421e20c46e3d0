package alerts

import (
	"errors"
	"fmt"
	"path"
	"slices"

	"github.com/driftwatch/driftwatch/stats/drift"
)

// Rule says which metric rows are a breach, how severe, and when a breach
// becomes an alert: after For consecutive breaching windows of the same
// model version and subject, resolved after Clear consecutive clear ones.
type Rule struct {
	// Name identifies the rule in the config and the audit trail; Alert
	// is the alertname Alertmanager sees (default: Name).
	Name  string `yaml:"name"`
	Alert string `yaml:"alert"`
	// Family, Subject and Metric select rows: "" or "*" is any; Subject and
	// Metric are glob patterns (path.Match: gender=*, latency_p*_ms).
	Family  string `yaml:"family"`
	Subject string `yaml:"subject"`
	Metric  string `yaml:"metric"`
	// Primary selects only a subject's deciding row (its verdict).
	Primary bool `yaml:"primary"`
	// Compare is "drifted" (the row's verdict; the default) or one of >,
	// >=, <, <= against Threshold.
	Compare   string  `yaml:"compare"`
	Threshold float64 `yaml:"threshold"`
	// MinSamples: rows over fewer records (n_current) do not breach.
	MinSamples int64 `yaml:"min_samples"`
	// For and Clear count consecutive windows (defaults 1 and 2).
	For   int      `yaml:"for"`
	Clear int      `yaml:"clear"`
	Sev   Severity `yaml:"severity"`
	// Summary and Runbook become the alert's annotations.
	Summary string `yaml:"summary"`
	Runbook string `yaml:"runbook_url"`
}

// Comparisons of Rule.Compare.
var comparisons = []string{"drifted", ">", ">=", "<", "<="}

// Validate reports what is wrong with r, naming the field.
func (r *Rule) Validate() error {
	switch {
	case r.Name == "":
		return errors.New("name: required")
	case !slices.Contains([]Severity{Sev1, Sev2, Sev3, Sev4}, r.Sev):
		return fmt.Errorf("rule %s: severity %q: want SEV-1, SEV-2, SEV-3 or SEV-4", r.Name, r.Sev)
	case r.Compare != "" && !slices.Contains(comparisons, r.Compare):
		return fmt.Errorf("rule %s: compare %q: want one of %v", r.Name, r.Compare, comparisons)
	case r.For < 0 || r.Clear < 0 || r.For > maxHistory || r.Clear > maxHistory:
		return fmt.Errorf("rule %s: for %d, clear %d: want 1 to %d windows (0: the default)", r.Name, r.For, r.Clear, maxHistory)
	case r.MinSamples < 0:
		return fmt.Errorf("rule %s: min_samples %d: must not be negative", r.Name, r.MinSamples)
	}
	for field, pat := range map[string]string{"subject": r.Subject, "metric": r.Metric} {
		if _, err := path.Match(pat, ""); err != nil {
			return fmt.Errorf("rule %s: %s pattern %q: %w", r.Name, field, pat, err)
		}
	}
	if r.Family != "" && r.Family != "*" && !slices.Contains(families, r.Family) {
		return fmt.Errorf("rule %s: family %q: want one of %v or *", r.Name, r.Family, families)
	}
	return nil
}

var families = []string{drift.FamilyData, drift.FamilyPrediction, drift.FamilyQuality, drift.FamilyServing,
	drift.FamilyFairness, drift.FamilyLabel, drift.FamilyConcept, "performance"}

func (r *Rule) withDefaults() Rule {
	c := *r
	if c.Alert == "" {
		c.Alert = c.Name
	}
	if c.Compare == "" {
		c.Compare = "drifted"
	}
	if c.For == 0 {
		c.For = 1
	}
	if c.Clear == 0 {
		c.Clear = 2
	}
	return c
}

// selects reports whether r is about row x.
func (r *Rule) selects(x *drift.Row) bool {
	glob := func(pat, s string) bool {
		if pat == "" || pat == "*" {
			return true
		}
		ok, _ := path.Match(pat, s)
		return ok
	}
	return (r.Family == "" || r.Family == "*" || r.Family == x.Family) && glob(r.Subject, x.Subject) && glob(r.Metric, x.Metric) &&
		(!r.Primary || x.Primary)
}

// breaches reports whether row x, which r selects, is a breach of r.
func (r *Rule) breaches(x *drift.Row) bool {
	if x.NCurrent < r.MinSamples {
		return false
	}
	switch r.Compare {
	case ">":
		return x.Value > r.Threshold
	case ">=":
		return x.Value >= r.Threshold
	case "<":
		return x.Value < r.Threshold
	case "<=":
		return x.Value <= r.Threshold
	}
	return x.Drifted
}

// Rules is an ordered rule set: a row's severity is that of the first rule
// (most severe first, see Sort) that selects it and that it breaches.
type Rules []Rule

// Validate checks every rule and that names are distinct.
func (rs Rules) Validate() error {
	seen := map[string]bool{}
	for i := range rs {
		if err := rs[i].Validate(); err != nil {
			return fmt.Errorf("alerts.rules[%d]: %w", i, err)
		}
		if seen[rs[i].Name] {
			return fmt.Errorf("alerts.rules[%d]: rule %s: name used twice", i, rs[i].Name)
		}
		seen[rs[i].Name] = true
	}
	return nil
}

// prepared returns the rules with defaults filled, most severe first (the
// order among rules of one severity kept).
func (rs Rules) prepared() Rules {
	out := make(Rules, len(rs))
	for i := range rs {
		out[i] = rs[i].withDefaults()
	}
	slices.SortStableFunc(out, func(a, b Rule) int { return rank(a.Sev) - rank(b.Sev) })
	return out
}

func rank(s Severity) int {
	switch s {
	case Sev1:
		return 1
	case Sev2:
		return 2
	case Sev3:
		return 3
	case Sev4:
		return 4
	}
	return 5
}

// match returns the index of the rule row x breaches, or -1.
func (rs Rules) match(x *drift.Row) int {
	for i := range rs {
		if rs[i].selects(x) && rs[i].breaches(x) {
			return i
		}
	}
	return -1
}

// Classify sets the Severity of each row: that of the first rule it
// breaches, or none.
func (rs Rules) Classify(rows []drift.Row) { rs.prepared().classify(rows) }

// classify is Classify on prepared rules.
func (rs Rules) classify(rows []drift.Row) {
	for i := range rows {
		rows[i].Severity = ""
		if j := rs.match(&rows[i]); j >= 0 {
			rows[i].Severity = string(rs[j].Sev)
		}
	}
}

// DefaultRules follow the severity table (package doc). Alert names are
// what Alertmanager routes and inhibits by (deploy/alertmanager.yml).
func DefaultRules() Rules {
	return Rules{
		{Name: "model_down", Alert: "DriftwatchModelDown", Family: drift.FamilyServing, Metric: drift.MetricThroughput, Sev: Sev1, Clear: 1,
			Summary: "traffic fell below its floor: the model may be down"},
		{Name: "serving_errors", Alert: "DriftwatchServingErrors", Family: drift.FamilyServing, Subject: "errors", Metric: drift.MetricErrorRate,
			Compare: ">=", Threshold: 0.5, MinSamples: 100, Sev: Sev1, Clear: 1, Summary: "most predictions failed"},
		{Name: "accuracy_collapse", Alert: "DriftwatchAccuracyCollapse", Family: drift.FamilyConcept, Subject: "performance", Metric: drift.MetricAccuracy,
			Compare: "<", Threshold: 0.5, MinSamples: 100, Sev: Sev1, Summary: "accuracy below the hard floor"},
		{Name: "prediction_collapse", Alert: "DriftwatchPredictionCollapse", Family: drift.FamilyPrediction, Metric: drift.MetricModeShare, Sev: Sev1,
			Summary: "the predictions collapsed to one value"},
		{Name: "performance_drop", Alert: "DriftwatchPerformanceDrop", Family: drift.FamilyConcept, Subject: "performance", Sev: Sev2,
			Summary: "performance significantly below the reference's"},
		{Name: "estimated_performance_drop", Alert: "DriftwatchEstimatedPerformanceDrop", Family: drift.FamilyConcept, Subject: drift.SubjectEstimated, Sev: Sev3,
			Summary: "performance estimated without labels significantly below the reference's"},
		{Name: "fairness_breach", Alert: "DriftwatchFairnessBreach", Family: drift.FamilyFairness, Sev: Sev2,
			Summary: "a subgroup fairness limit is breached"},
		{Name: "error_rate", Alert: "DriftwatchErrorRate", Family: drift.FamilyServing, Subject: "errors", Metric: drift.MetricErrorRate, Sev: Sev2,
			Summary: "the share of failed predictions is above its objective"},
		{Name: "data_quality", Alert: "DriftwatchDataQuality", Family: drift.FamilyQuality, Metric: "*_rate", Sev: Sev3, For: 1,
			Summary: "data quality breach"},
		{Name: "latency_slo", Alert: "DriftwatchServingLatency", Family: drift.FamilyServing, Metric: "latency_p*_ms", Sev: Sev3, For: 2,
			Summary: "serving latency above its SLO"},
		{Name: "prediction_rate_shift", Alert: "DriftwatchPredictionRateShift", Family: drift.FamilyPrediction, Metric: drift.MetricPositiveRate, Sev: Sev3, For: 2,
			Summary: "the positive prediction rate moved"},
		{Name: "concept_change", Alert: "DriftwatchConceptChange", Family: drift.FamilyConcept, Subject: "error_stream", Metric: drift.MetricADWIN, Sev: Sev3,
			Summary: "ADWIN signalled a change in the error rate"},
		{Name: "drift", Alert: "DriftwatchDrift", Primary: true, Sev: Sev3, For: 2,
			Summary: "drift: the subject's distribution moved away from the baseline's"},
		{Name: "minor", Alert: "DriftwatchMinorAnomaly", Sev: Sev4, For: 1,
			Summary: "a secondary test or minor anomaly, for the weekly review"},
	}
}

// defaultRules are DefaultRules prepared once, for Classify.
var defaultRules = DefaultRules().prepared()

// Classify sets the Severity of each row by DefaultRules.
func Classify(rows []drift.Row) { defaultRules.classify(rows) }
