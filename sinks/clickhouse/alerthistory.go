package clickhouse

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/driftwatch/driftwatch/sinks"
)

// alertColumns is alert_history's column list, in the order
// WriteAlertHistory appends values.
const alertColumns = "model, model_version, window_start, window_end, family, subject, metric, state, severity, value, threshold, fingerprint, receiver, sent_at, delivered, error_message, alertname, evidence, inserted_at"

// WriteAlertHistory inserts the audit trail's records into alert_history as
// one INSERT, within Config.CommitTimeout. A record's key is (model,
// version, window start, family, subject, metric, state): writing it again
// (a retry, or its delivery outcome) replaces it when parts merge. A record
// with a time outside MinTime to MaxTime (its window's start or end, its
// sent time) is left out, counted (RejectTimeOutOfRange; see Instrument),
// and the others are written: one such record never blocks the trail. Safe
// for concurrent use; recs is not kept.
func (s *Sink) WriteAlertHistory(ctx context.Context, recs []sinks.AlertRecord) error {
	out, example := 0, ""
	kept := recs
	for i := range recs {
		r := &recs[i]
		if fits(r.WindowStart) && fits(r.WindowEnd) && fits(r.SentAt) {
			if out > 0 {
				kept = append(kept, *r)
			}
			continue
		}
		if out++; out == 1 {
			kept = slices.Clone(recs[:i])
			example = fmt.Sprintf("%s %s %s %s window %s to %s sent %s", r.Model, r.Version, r.Alertname, r.State, timeText(r.WindowStart), timeText(r.WindowEnd), timeText(r.SentAt))
		}
	}
	s.reject("alert_history", RejectTimeOutOfRange, out, example)
	recs = kept
	if len(recs) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CommitTimeout)
	defer cancel()
	version := uint64(s.now().UnixNano())
	token := func() string {
		h := newHasher()
		for i := range recs {
			r := &recs[i]
			for _, x := range []string{r.Model, r.Version, r.Family, r.Subject, r.Metric, r.State, r.Alertname, r.Severity, r.Fingerprint, r.Receiver, r.Error, r.Evidence} {
				h.str(x)
			}
			h.time(r.WindowStart)
			h.time(r.WindowEnd)
			h.time(r.SentAt)
			h.num(math.Float64bits(r.Value))
			h.num(math.Float64bits(r.Threshold))
			h.num(uint64(boolUint8(r.Delivered)))
		}
		return h.token()
	}
	err := s.send(ctx, "alert_history", alertColumns, token, len(recs), func(b driver.Batch, i int) error {
		r := &recs[i]
		if err := b.Append(r.Model, r.Version, r.WindowStart.UTC(), r.WindowEnd.UTC(), r.Family, r.Subject, r.Metric, r.State, r.Severity,
			r.Value, r.Threshold, r.Fingerprint, r.Receiver, r.SentAt.UTC(), boolUint8(r.Delivered), r.Error, r.Alertname, r.Evidence, version); err != nil {
			return fmt.Errorf("alert %s %s %s: %w", r.Model, r.Alertname, r.State, err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("insert %d records into alert_history: %w", len(recs), err)
	}
	return nil
}

// LoadFiringAlerts returns, per alert (fingerprint), its newest record in
// alert_history when that record says it is firing: the alerts a restarted
// job must go on sending, and resolve when their subject clears.
func (s *Sink) LoadFiringAlerts(ctx context.Context) ([]sinks.AlertRecord, error) {
	// Aliases differ from the column names: 18.16 resolves a name to an
	// alias of the same SELECT, also inside its WHERE and aggregates.
	const q = `SELECT a_model, a_version, a_start, a_end, a_family, a_subject, a_metric, a_severity, a_value, a_threshold,
		fingerprint, a_receiver, a_sent, a_alertname, a_evidence
	FROM (
		SELECT fingerprint,
			argMax(state, sent_at) AS a_state, argMax(model, sent_at) AS a_model, argMax(model_version, sent_at) AS a_version,
			argMax(window_start, sent_at) AS a_start, argMax(window_end, sent_at) AS a_end,
			argMax(family, sent_at) AS a_family, argMax(subject, sent_at) AS a_subject, argMax(metric, sent_at) AS a_metric,
			argMax(severity, sent_at) AS a_severity, argMax(value, sent_at) AS a_value, argMax(threshold, sent_at) AS a_threshold,
			argMax(receiver, sent_at) AS a_receiver, max(sent_at) AS a_sent, argMax(alertname, sent_at) AS a_alertname,
			argMax(evidence, sent_at) AS a_evidence
		FROM alert_history FINAL
		WHERE state IN ('firing', 'resolved')
		GROUP BY fingerprint
	)
	WHERE a_state = 'firing'`
	rows, err := s.conn.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read firing alerts from alert_history: %w", err)
	}
	defer rows.Close()
	var out []sinks.AlertRecord
	for rows.Next() {
		r := sinks.AlertRecord{State: "firing"}
		if err := rows.Scan(&r.Model, &r.Version, &r.WindowStart, &r.WindowEnd, &r.Family, &r.Subject, &r.Metric, &r.Severity, &r.Value, &r.Threshold,
			&r.Fingerprint, &r.Receiver, &r.SentAt, &r.Alertname, &r.Evidence); err != nil {
			return nil, fmt.Errorf("read firing alerts from alert_history: %w", err)
		}
		r.WindowStart, r.WindowEnd, r.SentAt = r.WindowStart.UTC(), r.WindowEnd.UTC(), r.SentAt.UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read firing alerts from alert_history: %w", err)
	}
	return out, nil
}

// LoadActions returns, per model version and action (state action:retrain,
// action:rollback), the newest one the audit trail holds from since on:
// what keeps a restarted job to one action per version per interval.
func (s *Sink) LoadActions(ctx context.Context, since time.Time) ([]sinks.AlertRecord, error) {
	rows, err := s.conn.Query(ctx, `SELECT model, model_version, state, max(sent_at) AS a_sent FROM alert_history FINAL
		WHERE state IN ('action:retrain', 'action:rollback') AND sent_at >= `+s.timeLiteral(since)+`
		GROUP BY model, model_version, state`)
	if err != nil {
		return nil, fmt.Errorf("read actions from alert_history: %w", err)
	}
	defer rows.Close()
	var out []sinks.AlertRecord
	for rows.Next() {
		var r sinks.AlertRecord
		if err := rows.Scan(&r.Model, &r.Version, &r.State, &r.SentAt); err != nil {
			return nil, fmt.Errorf("read actions from alert_history: %w", err)
		}
		r.SentAt = r.SentAt.UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read actions from alert_history: %w", err)
	}
	return out, nil
}
