package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/driftwatch/driftwatch/sinks"
	"github.com/driftwatch/driftwatch/stats/drift"
)

// DefaultRowLimit is Rows' limit when the filter gives none, and the most
// it returns.
const DefaultRowLimit = 10_000

// Rows reads the metric rows f selects as dashboards read them (FINAL:
// the newest version of each key), ordered by window, family, subject and
// metric. f.Model is required.
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
	if !f.From.IsZero() {
		where = append(where, "window_start >= "+s.timeLiteral(f.From))
	}
	if !f.To.IsZero() {
		where = append(where, "window_start < "+s.timeLiteral(f.To))
	}
	limit := f.Limit
	if limit <= 0 || limit > DefaultRowLimit {
		limit = DefaultRowLimit
	}
	q := `SELECT model, model_version, window_start, window_end, family, subject, metric, value, p_value,
		threshold, drifted, severity, n_current, n_reference, baseline_id, threshold_source, mde
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
		var drifted uint8
		if err := rs.Scan(&x.Model, &x.ModelVersion, &x.WindowStart, &x.WindowEnd, &x.Family, &x.Subject, &x.Metric, &x.Value, &x.PValue,
			&x.Threshold, &drifted, &x.Severity, &x.NCurrent, &x.NReference, &x.BaselineID, &x.ThresholdSource, &x.MDE); err != nil {
			return nil, fmt.Errorf("read rows from drift_metrics: %w", err)
		}
		x.WindowStart, x.WindowEnd, x.Drifted = x.WindowStart.UTC(), x.WindowEnd.UTC(), drifted == 1
		out = append(out, x)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read rows from drift_metrics: %w", err)
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
