// Package alerts decides how urgent a metric row is. It defines the severity
// tiers on-call engineers are paged by and classifies rows into them; later
// it also delivers them to Alertmanager.
//
// The tiers:
//
//	SEV-1  harmful outputs, accuracy collapse, pipeline or model down: page now
//	SEV-2  significant degradation, fairness breach, high error rate: page within 15 minutes
//	SEV-3  drift warnings on features or predictions, elevated latency: business hours
//	SEV-4  approaching thresholds, minor anomalies: logged for the weekly review
//
// It deliberately does not compute statistics; it reads verdicts.
package alerts

import "github.com/driftwatch/driftwatch/stats/drift"

// Severity is a tier, "SEV-1" (most urgent) to "SEV-4", or "" for none.
type Severity string

// The tiers.
const (
	Sev1 Severity = "SEV-1"
	Sev2 Severity = "SEV-2"
	Sev3 Severity = "SEV-3"
	Sev4 Severity = "SEV-4"
)

// Classify sets the Severity of each row by the default rules: a subject's
// own verdict (its Primary row) that drifted is a drift warning, SEV-3, and
// so is a data-quality breach of a feature (a null-rate rise, absent keys,
// wrong types, out-of-range values, unseen categories: each is a verdict of
// its own), a prediction rate shift (positive_rate), and a latency quantile
// above its SLO; throughput below its floor
// is SEV-2 (the model may be down), and so are a fairness breach (parity,
// disparate impact, equal opportunity past its limit) and concept drift
// (accuracy, precision or recall significantly below the reference's); any
// other drifted row (a secondary
// test, late records) is a minor anomaly, SEV-4; rows that did not drift
// get none.
func Classify(rows []drift.Row) {
	for i := range rows {
		r := &rows[i]
		switch {
		case !r.Drifted:
			r.Severity = ""
		case r.Family == drift.FamilyServing && r.Metric == drift.MetricThroughput:
			r.Severity = string(Sev2) // traffic fell below its floor: the model may be down
		case r.Family == drift.FamilyFairness:
			r.Severity = string(Sev2) // a fairness breach
		case r.Family == drift.FamilyConcept && r.Subject == "error_stream":
			// A detector's change point: ADWIN's (with its bound on false
			// alarms) is a drift warning; Page-Hinkley's and DDM's, which
			// false-alarm on long stable streams at their defaults, are
			// corroboration for the review.
			r.Severity = string(Sev4)
			if r.Metric == drift.MetricADWIN {
				r.Severity = string(Sev3)
			}
		case r.Family == drift.FamilyConcept:
			r.Severity = string(Sev2) // performance fell significantly below the reference's
		case r.Primary, r.Family == drift.FamilyServing, r.Metric == drift.MetricPositiveRate,
			r.Family == drift.FamilyQuality && r.Metric != drift.MetricLateRecords:
			r.Severity = string(Sev3)
		default:
			r.Severity = string(Sev4)
		}
	}
}
