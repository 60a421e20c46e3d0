// Package alerts decides how urgent a metric row is and when rows become an
// alert. It defines the severity tiers on-call engineers are paged by.
//
// The tiers:
//
//	SEV-1  harmful outputs, accuracy collapse, pipeline or model down, most predictions failing: page now
//	SEV-2  significant degradation, fairness breach, high error rate: page within 15 minutes
//	SEV-3  drift warnings on features or predictions, elevated latency: business hours
//	SEV-4  approaching thresholds, minor anomalies: logged for the weekly review
//
// Rules (DefaultRules, or the config's alerts.rules) classify rows into
// tiers and, over consecutive windows, into alerts (Engine), which a
// Manager delivers to Alertmanager (alerts/alertmanager), records in the
// audit trail and turns into retrain and rollback triggers.
//
// It deliberately does not compute statistics; it reads verdicts.
package alerts

// Severity is a tier, "SEV-1" (most urgent) to "SEV-4", or "" for none.
type Severity string

// The tiers.
const (
	Sev1 Severity = "SEV-1"
	Sev2 Severity = "SEV-2"
	Sev3 Severity = "SEV-3"
	Sev4 Severity = "SEV-4"
)
