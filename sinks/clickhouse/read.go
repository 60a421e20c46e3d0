package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/sinks"
	"github.com/driftwatch/driftwatch/stats/drift"
)

// DefaultRowLimit is Rows' limit when the filter gives none, and the most
// AlertHistory returns. The HTTP API asks Rows for no more than this.
const DefaultRowLimit = 10_000

// MaxRowLimit is the most rows Rows returns, to a caller that asks for
// more than DefaultRowLimit (RowFilter.Limit): a report over 7 days of
// hourly windows of a model with 30 features reads some 50,000 rows. A
// row takes a few hundred bytes in memory, so a million is a few hundred
// MB: a caller that may need more reads shorter ranges.
const MaxRowLimit = 1_000_000

// startRange returns the conditions on window_start of the range [from,
// to) (a zero bound: open), and false when no stored window can start in
// it. The bounds are rounded up to what the server stores (whole seconds
// before 20.3, milliseconds after), which selects exactly the stored
// starts in the range; bounds beyond what a DateTime holds (MinTime,
// MaxTime) are open or select nothing, as they must.
func (s *Sink) startRange(from, to time.Time) ([]string, bool) {
	prec := time.Second
	if s.features.DateTime64 {
		prec = time.Millisecond
	}
	ceil := func(t time.Time) time.Time {
		if c := t.Truncate(prec); c.Before(t) {
			return c.Add(prec)
		}
		return t
	}
	var where []string
	if !from.IsZero() && from.After(MinTime) {
		if from = ceil(from); from.After(MaxTime) {
			return nil, false
		}
		where = append(where, "window_start >= "+s.timeLiteral(from))
	}
	if !to.IsZero() {
		if !to.After(MinTime) {
			return nil, false
		}
		if to = ceil(to); !to.After(MaxTime) {
			where = append(where, "window_start < "+s.timeLiteral(to))
		}
	}
	return where, true
}

// Rows reads the metric rows f selects as dashboards read them (FINAL:
// the newest version of each key), ordered by window, version, family,
// subject and metric, at most f.Limit of them: DefaultRowLimit when it is
// 0 or less, MaxRowLimit when it is more than that. A caller that must
// know whether it got them all asks for one more than it can use. f.Model
// is required.
func (s *Sink) Rows(ctx context.Context, f sinks.RowFilter) ([]drift.Row, error) {
	if f.Model == "" {
		return nil, fmt.Errorf("read rows from drift_metrics: a model is required")
	}
	where, args := []string{"model = ?"}, []any{f.Model}
	for _, c := range []struct{ col, v string }{{"model_version", f.Version}, {"family", f.Family}, {"subject", f.Subject}} {
		if c.v != "" {
			where, args = append(where, c.col+" = ?"), append(args, c.v)
		}
	}
	starts, ok := s.startRange(f.From, f.To)
	if !ok {
		return nil, nil
	}
	where = append(where, starts...)
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = DefaultRowLimit
	case limit > MaxRowLimit:
		limit = MaxRowLimit
	}
	q := `SELECT model, model_version, window_start, window_end, family, subject, metric, value, p_value,
		threshold, drifted, severity, n_current, n_reference, baseline_id, threshold_source, mde, deciding
		FROM drift_metrics FINAL WHERE ` + strings.Join(where, " AND ") + `
		ORDER BY window_start, model_version, family, subject, metric LIMIT ` + fmt.Sprint(limit)
	rs, err := s.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read rows from drift_metrics: %w", err)
	}
	defer rs.Close()
	var out []drift.Row
	for rs.Next() {
		var x drift.Row
		var drifted, deciding uint8
		if err := rs.Scan(&x.Model, &x.ModelVersion, &x.WindowStart, &x.WindowEnd, &x.Family, &x.Subject, &x.Metric, &x.Value, &x.PValue,
			&x.Threshold, &drifted, &x.Severity, &x.NCurrent, &x.NReference, &x.BaselineID, &x.ThresholdSource, &x.MDE, &deciding); err != nil {
			return nil, fmt.Errorf("read rows from drift_metrics: %w", err)
		}
		x.WindowStart, x.WindowEnd, x.Drifted, x.Primary = x.WindowStart.UTC(), x.WindowEnd.UTC(), drifted == 1, deciding == 1
		out = append(out, x)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read rows from drift_metrics: %w", err)
	}
	return out, nil
}

// Windows returns the summaries (window_summaries FINAL: the newest
// version of each window) of model's windows that start in [from, to) (a
// zero bound: open), of version only unless it is "", ordered by version,
// then start, for reports: Model, Version, Start, End (UTC), BaselineID,
// Records and Distributions, which is nil for a window written before the
// column existed (or with none). LabelState, the late-label join's
// internal state, is not read (LoadLabelJoin reads it). A distributions
// value that does not decode is an error naming its window. There is no
// limit: a caller bounds the range (a year of hourly windows is under
// 9,000 summaries).
func (s *Sink) Windows(ctx context.Context, model, version string, from, to time.Time) ([]sinks.WindowSummary, error) {
	if model == "" {
		return nil, fmt.Errorf("read window_summaries: a model is required")
	}
	where, args := []string{"model = ?"}, []any{model}
	if version != "" {
		where, args = append(where, "model_version = ?"), append(args, version)
	}
	starts, ok := s.startRange(from, to)
	if !ok {
		return nil, nil
	}
	where = append(where, starts...)
	rs, err := s.conn.Query(ctx, `SELECT model_version, window_start, window_end, baseline_id, records, distributions
		FROM window_summaries FINAL WHERE `+strings.Join(where, " AND ")+` ORDER BY model_version, window_start`, args...)
	if err != nil {
		return nil, fmt.Errorf("read window_summaries: %w", err)
	}
	defer rs.Close()
	var out []sinks.WindowSummary
	for rs.Next() {
		w := sinks.WindowSummary{Model: model}
		var dists string
		if err := rs.Scan(&w.Version, &w.Start, &w.End, &w.BaselineID, &w.Records, &dists); err != nil {
			return nil, fmt.Errorf("read window_summaries: %w", err)
		}
		w.Start, w.End = w.Start.UTC(), w.End.UTC()
		if w.Distributions, err = decodeDistributions(dists); err != nil {
			return nil, fmt.Errorf("read window_summaries: window %s %s %s to %s: %w",
				model, w.Version, w.Start.Format(time.RFC3339Nano), w.End.Format(time.RFC3339Nano), err)
		}
		out = append(out, w)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read window_summaries: %w", err)
	}
	return out, nil
}

// Baselines returns model's baselines as WriteBaselines stored them
// (baselines FINAL: the newest write of each), ordered by created_at (then
// id), each decoded and validated by baselines.Decode, as baselines.Load
// reads a file. A document that does not decode is an error naming its
// baseline.
func (s *Sink) Baselines(ctx context.Context, model string) ([]*baselines.Baseline, error) {
	if model == "" {
		return nil, fmt.Errorf("read baselines: a model is required")
	}
	rs, err := s.conn.Query(ctx, `SELECT baseline_id, document FROM baselines FINAL WHERE model = ? ORDER BY created_at, baseline_id`, model)
	if err != nil {
		return nil, fmt.Errorf("read baselines: %w", err)
	}
	defer rs.Close()
	var out []*baselines.Baseline
	for rs.Next() {
		var id, doc string
		if err := rs.Scan(&id, &doc); err != nil {
			return nil, fmt.Errorf("read baselines: %w", err)
		}
		b, err := baselines.Decode([]byte(doc), fmt.Sprintf("%s of model %s (ClickHouse table baselines)", id, model))
		if err != nil {
			return nil, fmt.Errorf("read baselines: %w", err)
		}
		out = append(out, b)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read baselines: %w", err)
	}
	return out, nil
}

// Verdicts returns, per version of model, its newest window's summary:
// the subjects that drifted and the worst severity.
func (s *Sink) Verdicts(ctx context.Context, model string) ([]sinks.WindowVerdict, error) {
	// Aliases differ from the column names: 18.16 resolves a name to an
	// alias of the same SELECT, also inside its aggregates.
	rs, err := s.conn.Query(ctx, `SELECT model_version, max(window_start) AS v_start,
			argMax(window_end, window_start) AS v_end, argMax(baseline_id, window_start) AS v_baseline,
			argMax(records, window_start) AS v_records, argMax(subjects, window_start) AS v_subjects,
			argMax(drifted_subjects, window_start) AS v_drifted, argMax(max_severity, window_start) AS v_severity
		FROM window_summaries FINAL WHERE model = ? GROUP BY model_version ORDER BY model_version`, model)
	if err != nil {
		return nil, fmt.Errorf("read verdicts from window_summaries: %w", err)
	}
	defer rs.Close()
	var out []sinks.WindowVerdict
	for rs.Next() {
		v := sinks.WindowVerdict{Model: model}
		var subjects uint32
		if err := rs.Scan(&v.Version, &v.Start, &v.End, &v.BaselineID, &v.Records, &subjects, &v.DriftedSubjects, &v.MaxSeverity); err != nil {
			return nil, fmt.Errorf("read verdicts from window_summaries: %w", err)
		}
		v.Start, v.End, v.Subjects = v.Start.UTC(), v.End.UTC(), int64(subjects)
		out = append(out, v)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read verdicts from window_summaries: %w", err)
	}
	return out, nil
}

// AlertHistory returns the audit trail's records (alert_history FINAL) of
// model ("" for every model, and driftwatch's own) sent at or after since,
// newest first, at most limit (0 or more than DefaultRowLimit:
// DefaultRowLimit).
func (s *Sink) AlertHistory(ctx context.Context, model string, since time.Time, limit int) ([]sinks.AlertRecord, error) {
	if limit <= 0 || limit > DefaultRowLimit {
		limit = DefaultRowLimit
	}
	where, args := "sent_at >= "+s.timeLiteral(since), []any{}
	if model != "" {
		where, args = where+" AND model = ?", append(args, model)
	}
	rs, err := s.conn.Query(ctx, `SELECT model, model_version, window_start, window_end, family, subject, metric, state, severity,
		value, threshold, fingerprint, receiver, sent_at, delivered, error_message, alertname, evidence
		FROM alert_history FINAL WHERE `+where+` ORDER BY sent_at DESC, fingerprint LIMIT `+fmt.Sprint(limit), args...)
	if err != nil {
		return nil, fmt.Errorf("read alert_history: %w", err)
	}
	defer rs.Close()
	var out []sinks.AlertRecord
	for rs.Next() {
		var r sinks.AlertRecord
		var delivered uint8
		if err := rs.Scan(&r.Model, &r.Version, &r.WindowStart, &r.WindowEnd, &r.Family, &r.Subject, &r.Metric, &r.State, &r.Severity,
			&r.Value, &r.Threshold, &r.Fingerprint, &r.Receiver, &r.SentAt, &delivered, &r.Error, &r.Alertname, &r.Evidence); err != nil {
			return nil, fmt.Errorf("read alert_history: %w", err)
		}
		r.WindowStart, r.WindowEnd, r.SentAt, r.Delivered = r.WindowStart.UTC(), r.WindowEnd.UTC(), r.SentAt.UTC(), delivered == 1
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read alert_history: %w", err)
	}
	return out, nil
}
