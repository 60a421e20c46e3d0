package clickhouse

import (
	"context"
	"fmt"
	"math"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/driftwatch/driftwatch/sinks"
)

// alertColumns is alert_history's column list, in the order
// WriteAlertHistory appends values.
const alertColumns = "model, model_version, window_start, window_end, family, subject, metric, state, severity, value, threshold, fingerprint, receiver, sent_at, delivered, error_message, alertname, evidence, inserted_at"

// WriteAlertHistory inserts the audit trail's records into alert_history as
// one INSERT, within Config.CommitTimeout. A record's key is (model,
// version, window start, family, subject, metric, state): writing it again
// (a retry, or its delivery outcome) replaces it when parts merge. Times
// before 1970 fail the call, permanently. Safe for concurrent use; recs is
// not kept.
func (s *Sink) WriteAlertHistory(ctx context.Context, recs []sinks.AlertRecord) error {
	if len(recs) == 0 {
		return nil
	}
	for i := range recs {
		r := &recs[i]
		if r.WindowStart.Before(epoch) || r.WindowEnd.Before(epoch) || r.SentAt.Before(epoch) {
			return fmt.Errorf("insert %d records into alert_history: %s %s %s: %w: a time before 1970", len(recs), r.Model, r.Alertname, r.State, errInvalidRow)
		}
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
