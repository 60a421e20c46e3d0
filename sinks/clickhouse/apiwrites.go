package clickhouse

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/driftwatch/driftwatch/sinks"
)

// silenceColumns and apiWriteColumns are the column lists of silences and
// api_writes, in the order their writers append values.
const (
	silenceColumns  = "silence_id, matchers, starts_at, ends_at, created_by, comment, inserted_at"
	apiWriteColumns = "at, at_ns, who, role, action, target, detail, inserted_at"
)

// WriteSilence writes a state of a silence into silences, within
// Config.CommitTimeout; the newest written state of an id counts.
func (s *Sink) WriteSilence(ctx context.Context, x sinks.Silence) error {
	if !fits(x.StartsAt) || !fits(x.EndsAt) {
		return fmt.Errorf("silence %s: a time out of the table's range (%s to %s)", x.ID, timeText(x.StartsAt), timeText(x.EndsAt))
	}
	matchers, err := json.Marshal(x.Matchers)
	if err != nil {
		return fmt.Errorf("silence %s: %w", x.ID, err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CommitTimeout)
	defer cancel()
	version := uint64(x.UpdatedAt.UnixNano())
	if x.UpdatedAt.IsZero() {
		version = uint64(s.now().UnixNano())
	}
	err = s.send(ctx, "silences", silenceColumns, nil, 1, func(b driver.Batch, _ int) error {
		return b.Append(x.ID, string(matchers), x.StartsAt.UTC(), x.EndsAt.UTC(), x.CreatedBy, x.Comment, version)
	})
	if err != nil {
		return fmt.Errorf("insert silence %s into silences: %w", x.ID, err)
	}
	return nil
}

// LoadSilences reads back the silences (their newest states) that end
// after since.
func (s *Sink) LoadSilences(ctx context.Context, since time.Time) ([]sinks.Silence, error) {
	rs, err := s.conn.Query(ctx, `SELECT silence_id, matchers, starts_at, ends_at, created_by, comment, inserted_at
		FROM silences FINAL WHERE ends_at > `+s.timeLiteral(since)+` ORDER BY ends_at, silence_id`)
	if err != nil {
		return nil, fmt.Errorf("read silences: %w", err)
	}
	defer rs.Close()
	var out []sinks.Silence
	for rs.Next() {
		var x sinks.Silence
		var matchers string
		var version uint64
		if err := rs.Scan(&x.ID, &matchers, &x.StartsAt, &x.EndsAt, &x.CreatedBy, &x.Comment, &version); err != nil {
			return nil, fmt.Errorf("read silences: %w", err)
		}
		if err := json.Unmarshal([]byte(matchers), &x.Matchers); err != nil {
			return nil, fmt.Errorf("read silences: silence %s: matchers: %w", x.ID, err)
		}
		x.StartsAt, x.EndsAt, x.UpdatedAt = x.StartsAt.UTC(), x.EndsAt.UTC(), time.Unix(0, int64(version)).UTC()
		out = append(out, x)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read silences: %w", err)
	}
	return out, nil
}

// WriteAPIWrite records one write made through the API into api_writes,
// within Config.CommitTimeout. A retry of the same record is deduplicated
// where the server can (insert_deduplication_token).
func (s *Sink) WriteAPIWrite(ctx context.Context, w sinks.APIWrite) error {
	if !fits(w.At) {
		return fmt.Errorf("api write %s: time %s out of the table's range", w.Action, timeText(w.At))
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CommitTimeout)
	defer cancel()
	token := func() string {
		h := newHasher()
		for _, x := range []string{w.Who, w.Role, w.Action, w.Target, w.Detail} {
			h.str(x)
		}
		h.time(w.At)
		return h.token()
	}
	err := s.send(ctx, "api_writes", apiWriteColumns, token, 1, func(b driver.Batch, _ int) error {
		return b.Append(w.At.UTC(), uint64(w.At.UnixNano()), w.Who, w.Role, w.Action, w.Target, w.Detail, uint64(s.now().UnixNano()))
	})
	if err != nil {
		return fmt.Errorf("insert into api_writes: %w", err)
	}
	return nil
}

// APIWrites reads the API's audit trail from since on, newest first, at
// most limit (0 or more than DefaultRowLimit: DefaultRowLimit).
func (s *Sink) APIWrites(ctx context.Context, since time.Time, limit int) ([]sinks.APIWrite, error) {
	if limit <= 0 || limit > DefaultRowLimit {
		limit = DefaultRowLimit
	}
	rs, err := s.conn.Query(ctx, `SELECT at_ns, who, role, action, target, detail FROM api_writes FINAL
		WHERE at >= `+s.timeLiteral(since.Truncate(time.Second))+` AND at_ns >= ? ORDER BY at_ns DESC, who LIMIT `+fmt.Sprint(limit), uint64(max(since.UnixNano(), 0)))
	if err != nil {
		return nil, fmt.Errorf("read api_writes: %w", err)
	}
	defer rs.Close()
	var out []sinks.APIWrite
	for rs.Next() {
		var w sinks.APIWrite
		var ns uint64
		if err := rs.Scan(&ns, &w.Who, &w.Role, &w.Action, &w.Target, &w.Detail); err != nil {
			return nil, fmt.Errorf("read api_writes: %w", err)
		}
		w.At = time.Unix(0, int64(ns)).UTC()
		out = append(out, w)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read api_writes: %w", err)
	}
	return out, nil
}
