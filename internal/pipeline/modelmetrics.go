package pipeline

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/driftwatch/driftwatch/stats/drift"
)

// maxVersions is how many versions of a model keep their series: the
// newest by window; an older one's series are deleted, so that the label
// sets stay bounded while versions come and go.
const maxVersions = 5

// modelMetrics are the gauges of what the newest committed windows said
// per model version: the verdict figures a Prometheus-only dashboard and
// alerting need. Label sets are bounded: subjects are the baselines'
// features, "prediction" and "label" (not groups or variants); fairness
// figures are per attribute; metrics and severities are fixed sets; and
// at most maxVersions versions per model.
type modelMetrics struct {
	score, threshold, drifted *prometheus.GaugeVec // model, model_version, family, subject
	driftedSubjects           *prometheus.GaugeVec // model, model_version, family
	datasetShare              *prometheus.GaugeVec // model, model_version
	performance               *prometheus.GaugeVec // model, model_version, metric
	fairness                  *prometheus.GaugeVec // model, model_version, attribute, metric
	labelCoverage             *prometheus.GaugeVec // model, model_version
	labelDelay                *prometheus.GaugeVec // model, model_version, quantile
	breaches                  *prometheus.GaugeVec // model, model_version, severity
	commitDelay, writeTime    prometheus.Histogram

	names    map[*prometheus.GaugeVec]string
	mu       sync.Mutex
	newest   map[string]time.Time            // series key -> window start of its value
	versions map[string]map[string]time.Time // model -> version -> newest window start
}

func newModelMetrics(reg prometheus.Registerer) *modelMetrics {
	vm := []string{"model", "model_version"}
	names := map[*prometheus.GaugeVec]string{}
	gauge := func(name, help string, extra ...string) *prometheus.GaugeVec {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, append(slices.Clone(vm), extra...))
		reg.MustRegister(g)
		names[g] = name
		return g
	}
	m := &modelMetrics{
		score:           gauge("driftwatch_drift_score", "The deciding metric's value (the subject's rule: psi, jensen_shannon, ...) of each subject in its newest window.", "family", "subject"),
		threshold:       gauge("driftwatch_drift_threshold", "The threshold the deciding metric was judged against (as the window reads it), per subject, newest window.", "family", "subject"),
		drifted:         gauge("driftwatch_drift_verdict", "1 when the subject drifted in its newest window, 0 when not.", "family", "subject"),
		driftedSubjects: gauge("driftwatch_drifted_subjects", "Subjects whose verdict is drifted in the newest window, per family.", "family"),
		datasetShare:    gauge("driftwatch_dataset_drift_share", "Share of the features that drifted in the newest window, weighted by drift.importance (weighted_drift_share)."),
		performance:     gauge("driftwatch_performance", "Performance over the newest window's labelled records: accuracy, precision, recall, f1, mae, rmse.", "metric"),
		fairness:        gauge("driftwatch_fairness", "Fairness per segment attribute, newest window: demographic_parity_diff, disparate_impact, equal_opportunity_diff, equalized_odds_diff, parity_diff_change.", "attribute", "metric"),
		labelCoverage:   gauge("driftwatch_label_coverage", "Share of the newest window's records with a label."),
		labelDelay:      gauge("driftwatch_label_delay_seconds", "Label delay quantiles of the newest window's labels.", "quantile"),
		breaches:        gauge("driftwatch_window_breaches", "Rows drifted in the newest window, per severity.", "severity"),
		commitDelay: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "driftwatch_window_commit_delay_seconds",
			Help:    "From a window's end (event time) to its rows committed (wall clock): the allowed lateness, the watermark's wait and the evaluation and write.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 16)}),
		writeTime: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "driftwatch_sink_write_seconds",
			Help:    "Time to write one window's (or late report's, or late labels') rows to the sink, retries included.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}),
		names:    names,
		newest:   make(map[string]time.Time),
		versions: make(map[string]map[string]time.Time),
	}
	reg.MustRegister(m.commitDelay, m.writeTime)
	return m
}

// observe sets the gauges from the rows of one commit. A value is replaced
// only by one of the same or a newer window (late labels re-emit older
// windows).
func (m *modelMetrics) observe(rows []drift.Row) {
	m.mu.Lock()
	defer m.mu.Unlock()
	// A commit holds one window, or (late labels) several: counts are per
	// window, and the newest window's set the gauges.
	type vkey struct {
		model, version, family string
		window                 time.Time
	}
	type skey struct {
		model, version string
		window         time.Time
	}
	drifted := map[vkey]int{}
	severities := map[skey]map[string]int{}
	for i := range rows {
		r := &rows[i]
		m.seen(r.Model, r.ModelVersion, r.WindowStart)
		set := func(g *prometheus.GaugeVec, v float64, labels ...string) {
			key := m.names[g] + "\x00" + strings.Join(labels, "\x00")
			if t, ok := m.newest[key]; ok && r.WindowStart.Before(t) {
				return
			}
			m.newest[key] = r.WindowStart
			g.WithLabelValues(labels...).Set(v)
		}
		mv := []string{r.Model, r.ModelVersion}
		switch {
		case r.Primary && (r.Family == drift.FamilyData && r.Subject != "*" || r.Subject == "prediction" || r.Subject == "label"):
			set(m.score, r.Value, append(mv, r.Family, r.Subject)...)
			set(m.threshold, r.Threshold, append(mv, r.Family, r.Subject)...)
			set(m.drifted, b2f(r.Drifted), append(mv, r.Family, r.Subject)...)
			k := vkey{r.Model, r.ModelVersion, r.Family, r.WindowStart}
			drifted[k] += int(b2f(r.Drifted))
		case r.Family == drift.FamilyData && r.Subject == "*" && r.Metric == drift.MetricWeightedDrift:
			set(m.datasetShare, r.Value, mv...)
		case r.Family == drift.FamilyConcept && r.Subject == "performance":
			set(m.performance, r.Value, append(mv, r.Metric)...)
		case r.Family == drift.FamilyFairness && !strings.Contains(r.Subject, "="):
			set(m.fairness, r.Value, append(mv, r.Subject, r.Metric)...)
		case r.Family == drift.FamilyLabel && r.Metric == drift.MetricLabelCoverage:
			set(m.labelCoverage, r.Value, mv...)
		case r.Family == drift.FamilyLabel && r.Metric == drift.MetricLabelDelayP50:
			set(m.labelDelay, r.Value, append(mv, "0.5")...)
		case r.Family == drift.FamilyLabel && r.Metric == drift.MetricLabelDelayP95:
			set(m.labelDelay, r.Value, append(mv, "0.95")...)
		}
		if r.Drifted && r.Severity != "" {
			k := skey{r.Model, r.ModelVersion, r.WindowStart}
			if severities[k] == nil {
				severities[k] = map[string]int{}
			}
			severities[k][r.Severity]++
		}
	}
	// Map order: of two windows in one commit, the newer must win whatever
	// order they come in, so each is applied only if not older than what
	// is set.
	newer := func(key string, window time.Time) bool {
		if t, ok := m.newest[key]; ok && window.Before(t) {
			return false
		}
		m.newest[key] = window
		return true
	}
	for k, n := range drifted {
		if newer("driftwatch_drifted_subjects\x00"+k.model+"\x00"+k.version+"\x00"+k.family, k.window) {
			m.driftedSubjects.WithLabelValues(k.model, k.version, k.family).Set(float64(n))
		}
	}
	for k, bySeverity := range severities {
		if newer("driftwatch_window_breaches\x00"+k.model+"\x00"+k.version, k.window) {
			for _, sev := range []string{"SEV-1", "SEV-2", "SEV-3", "SEV-4"} {
				m.breaches.WithLabelValues(k.model, k.version, sev).Set(float64(bySeverity[sev]))
			}
		}
	}
}

// seen records a window of model version and deletes the series of the
// model's oldest version past maxVersions.
func (m *modelMetrics) seen(model, version string, start time.Time) {
	vs := m.versions[model]
	if vs == nil {
		vs = make(map[string]time.Time)
		m.versions[model] = vs
	}
	if start.After(vs[version]) {
		vs[version] = start
	}
	if len(vs) <= maxVersions {
		return
	}
	oldest := ""
	for v, t := range vs {
		if oldest == "" || t.Before(vs[oldest]) {
			oldest = v
		}
	}
	delete(vs, oldest)
	match := prometheus.Labels{"model": model, "model_version": oldest}
	for _, g := range []*prometheus.GaugeVec{m.score, m.threshold, m.drifted, m.driftedSubjects, m.datasetShare,
		m.performance, m.fairness, m.labelCoverage, m.labelDelay, m.breaches} {
		g.DeletePartialMatch(match)
	}
	for key := range m.newest {
		if _, rest, _ := strings.Cut(key, "\x00"); rest == model+"\x00"+oldest || strings.HasPrefix(rest, model+"\x00"+oldest+"\x00") {
			delete(m.newest, key)
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
