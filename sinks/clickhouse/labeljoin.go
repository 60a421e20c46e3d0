package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/consumer"
	"github.com/driftwatch/driftwatch/windows"
)

// The late-label join (windows.JoinState) across restarts: each window's
// label base in window_summaries.label_state, the predictions awaiting
// labels in prediction_keys and the labels received in labels, all written
// by Commit (see migrations/0006_label_join.sql) and read back by
// LoadLabelJoin.

// keyColumns is prediction_keys' column list, in the order insertKeys
// appends values.
const keyColumns = "model, model_version, id, event_time_ms, prediction, decided, selected, inline, segments, inserted_at, variant"

// labelColumns is labels' column list, in the order insertLabels appends
// values.
const labelColumns = "model, prediction_id, label_time, label_time_ms, label, label_kind, received_at, inserted_at"

// AppendPredictionKeys adds predictions awaiting their label
// (windows.Closed.Keys) to the pending commit. A key's identity is (Model,
// ID, Variant): writing it again replaces it. Its Time (unix milliseconds) and
// Prediction (NaN included) are kept exactly, on every server. A key whose
// Time is outside MinTime to MaxTime (the table is partitioned by it) is
// left out, counted (RejectTimeOutOfRange; see Instrument). keys is not
// kept.
func (a *appender) AppendPredictionKeys(keys []windows.PredictionKey) error {
	if a.done {
		return errors.New("append to prediction_keys: appender already committed or rolled back")
	}
	out, example := 0, ""
	for i := range keys {
		k := &keys[i]
		if t := time.UnixMilli(k.Time); fits(t) {
			a.keys = append(a.keys, *k)
		} else if out++; out == 1 {
			example = fmt.Sprintf("%s %d at %s", k.Model, k.ID, timeText(t))
		}
	}
	a.s.reject("prediction_keys", RejectTimeOutOfRange, out, example)
	return nil
}

// AppendLabels adds late labels (windows.Closed.Labels) to the pending
// commit. A label's identity is (Model, PredictionID): a later label for
// the same prediction replaces it. Its Time is kept to the millisecond on
// every server (label_time_ms; label_time, for partitions and dashboards,
// holds whole seconds before ClickHouse 20.3); its Value as
// Value.Text() and its kind. A label whose Time is outside MinTime to
// MaxTime (including the zero time) is left out, counted
// (RejectTimeOutOfRange; see Instrument); the others are appended. labels
// is not kept.
func (a *appender) AppendLabels(labels []consumer.Label) error {
	if a.done {
		return errors.New("append to labels: appender already committed or rolled back")
	}
	out, example := 0, ""
	for i := range labels {
		if l := &labels[i]; fits(l.Time) {
			a.labels = append(a.labels, *l)
		} else if out++; out == 1 {
			example = fmt.Sprintf("%s %s at %s", l.Model, l.PredictionID, timeText(l.Time))
		}
	}
	a.s.reject("labels", RejectTimeOutOfRange, out, example)
	return nil
}

func (s *Sink) insertKeys(ctx context.Context, keys []windows.PredictionKey, version uint64) error {
	return s.send(ctx, "prediction_keys", keyColumns, func() string { return keysToken(keys) }, len(keys), func(b driver.Batch, i int) error {
		k := &keys[i]
		if err := b.Append(k.Model, k.Version, k.ID, k.Time, k.Prediction,
			boolUint8(k.Decided), boolUint8(k.Selected), boolUint8(k.Inline), k.Segments, version, k.Variant); err != nil {
			return fmt.Errorf("prediction key %s %d %q: %w", k.Model, k.ID, k.Variant, err)
		}
		return nil
	})
}

func (s *Sink) insertLabels(ctx context.Context, labels []consumer.Label, receivedAt time.Time, version uint64) error {
	return s.send(ctx, "labels", labelColumns, func() string { return labelsToken(labels) }, len(labels), func(b driver.Batch, i int) error {
		l := &labels[i]
		if err := b.Append(l.Model, l.PredictionID, l.Time.UTC(), l.Time.UnixMilli(), l.Value.Text(), l.Value.Kind.String(), receivedAt, version); err != nil {
			return fmt.Errorf("label %s %s: %w", l.Model, l.PredictionID, err)
		}
		return nil
	})
}

// keysToken is the deduplication token of a prediction_keys insert.
func keysToken(keys []windows.PredictionKey) string {
	h := newHasher()
	for i := range keys {
		k := &keys[i]
		h.str(k.Model)
		h.str(k.Version)
		h.num(k.ID)
		h.num(uint64(k.Time))
		h.num(math.Float64bits(k.Prediction))
		h.num(uint64(boolUint8(k.Decided)) | uint64(boolUint8(k.Selected))<<1 | uint64(boolUint8(k.Inline))<<2)
		h.str(k.Segments)
		h.str(k.Variant)
	}
	return h.token()
}

// labelsToken is the deduplication token of a labels insert: its content,
// without received_at and inserted_at, which a retry changes.
func labelsToken(labels []consumer.Label) string {
	h := newHasher()
	for i := range labels {
		l := &labels[i]
		h.str(l.Model)
		h.str(l.PredictionID)
		h.time(l.Time)
		h.str(l.Value.Text())
		h.num(uint64(l.Value.Kind))
	}
	return h.token()
}

// LoadLabelJoin reads what the late-label join kept (windows.JoinState) of
// the last horizon: label bases of windows ending after cutoff, prediction
// keys with event time at or after cutoff, and labels with label time at or
// after cutoff, where cutoff is the newest window end in window_summaries
// (over every model) minus horizon. When window_summaries is empty there is
// no cutoff: no bases, and every key and label kept. On servers before
// ClickHouse 20.3, label times and the cutoff they are compared with are
// whole seconds.
//
// Rows are read with FINAL: the newest version (inserted_at) of each key,
// across partitions too (a label corrected in another month of label time
// reads once, corrected), unless the server's profile sets
// do_not_merge_across_partitions_select_final.
//
// baseline resolves a label base's baseline (windows.UnmarshalLabelBase);
// a base whose baseline it does not know is skipped, and the number skipped
// is the second result. Windows summarised without a label base (labels not
// joined then) are skipped uncounted. A base that does not decode (written
// by a newer driftwatch, or damaged) fails the call, with an error
// IsRetryable calls permanent.
//
// The cutoff and counting queries are each bounded by Config.CommitTimeout;
// the reads, which stream rows and may hold millions of keys, run under ctx
// alone. Safe for concurrent use.
func (s *Sink) LoadLabelJoin(ctx context.Context, horizon time.Duration, baseline func(model, id string) *baselines.Baseline) (windows.JoinState, int, error) {
	var st windows.JoinState
	cutoff, found, err := s.labelCutoff(ctx, horizon)
	if err != nil {
		return st, 0, err
	}
	skipped, keysFrom := 0, int64(math.MinInt64)
	if found {
		if st.Bases, skipped, err = s.loadBases(ctx, cutoff, baseline); err != nil {
			return windows.JoinState{}, 0, err
		}
		keysFrom = cutoff.UnixMilli()
	}
	if st.Keys, err = s.loadKeys(ctx, keysFrom); err != nil {
		return windows.JoinState{}, 0, err
	}
	if st.Labels, err = s.loadLabels(ctx, cutoff); err != nil {
		return windows.JoinState{}, 0, err
	}
	return st, skipped, nil
}

// labelCutoff returns the newest window end in window_summaries minus
// horizon, not before 1970 (the earliest label time), and whether there
// was one; without one it returns 1970.
func (s *Sink) labelCutoff(ctx context.Context, horizon time.Duration) (time.Time, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CommitTimeout)
	defer cancel()
	var n uint64
	var newest time.Time
	if err := s.conn.QueryRow(ctx, "SELECT count(), max(window_end) FROM window_summaries").Scan(&n, &newest); err != nil {
		return time.Time{}, false, fmt.Errorf("read the newest window end from window_summaries: %w", err)
	}
	if n == 0 {
		return epoch, false, nil
	}
	cutoff := newest.UTC().Add(-horizon)
	if cutoff.Before(epoch) {
		cutoff = epoch
	}
	return cutoff, true, nil
}

// timeLiteral is t as a SQL literal comparable with the tables' time
// columns: to the millisecond with DateTime64, else cut to its second as
// DateTime stores times (so a time stored in t's second counts as at or
// after t).
func (s *Sink) timeLiteral(t time.Time) string {
	if s.features.DateTime64 {
		return "toDateTime64('" + t.UTC().Format("2006-01-02 15:04:05.000") + "', 3, 'UTC')"
	}
	return "toDateTime('" + t.UTC().Format("2006-01-02 15:04:05") + "', 'UTC')"
}

// loadBases reads the label bases of windows ending after cutoff.
func (s *Sink) loadBases(ctx context.Context, cutoff time.Time, baseline func(model, id string) *baselines.Baseline) ([]*windows.Window, int, error) {
	rows, err := s.conn.Query(ctx, "SELECT label_state FROM window_summaries FINAL WHERE window_end > "+s.timeLiteral(cutoff))
	if err != nil {
		return nil, 0, fmt.Errorf("read label bases from window_summaries: %w", err)
	}
	defer rows.Close()
	var out []*windows.Window
	skipped := 0
	for rows.Next() {
		var state string
		if err := rows.Scan(&state); err != nil {
			return nil, 0, fmt.Errorf("read label bases from window_summaries: %w", err)
		}
		if state == "" {
			continue
		}
		unknown := false
		w, err := windows.UnmarshalLabelBase([]byte(state), func(model, id string) *baselines.Baseline {
			b := baseline(model, id)
			unknown = b == nil
			return b
		})
		switch {
		case unknown:
			skipped++
		case err != nil:
			return nil, 0, fmt.Errorf("read label bases from window_summaries: %w: %w", errInvalidRow, err)
		default:
			out = append(out, w)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("read label bases from window_summaries: %w", err)
	}
	return out, skipped, nil
}

// rowsAtMost returns how many rows of table match where, counting every
// stored version of a key: at least how many a read with FINAL returns,
// for sizing what holds them.
func (s *Sink) rowsAtMost(ctx context.Context, table, where string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CommitTimeout)
	defer cancel()
	var n uint64
	if err := s.conn.QueryRow(ctx, "SELECT count() FROM "+table+" WHERE "+where).Scan(&n); err != nil {
		return 0, err
	}
	return int(min(n, math.MaxInt32)), nil
}

// loadKeys reads the prediction keys of event time (unix ms) from on.
func (s *Sink) loadKeys(ctx context.Context, from int64) ([]windows.PredictionKey, error) {
	where := "event_time_ms >= " + strconv.FormatInt(from, 10)
	n, err := s.rowsAtMost(ctx, "prediction_keys", where)
	if err != nil {
		return nil, fmt.Errorf("count prediction keys in prediction_keys: %w", err)
	}
	q := "SELECT model, model_version, id, event_time_ms, prediction, decided, selected, inline, segments, variant FROM prediction_keys FINAL WHERE " + where
	rows, err := s.conn.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read prediction keys from prediction_keys: %w", err)
	}
	defer rows.Close()
	out := make([]windows.PredictionKey, 0, n)
	in := newInterner()
	var model, version, segments, variant string
	var decided, selected, inline uint8
	for rows.Next() {
		var k windows.PredictionKey
		if err := rows.Scan(&model, &version, &k.ID, &k.Time, &k.Prediction, &decided, &selected, &inline, &segments, &variant); err != nil {
			return nil, fmt.Errorf("read prediction keys from prediction_keys: %w", err)
		}
		k.Model, k.Version, k.Segments, k.Variant = in.of(model), in.of(version), in.of(segments), in.of(variant)
		k.Decided, k.Selected, k.Inline = decided != 0, selected != 0, inline != 0
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read prediction keys from prediction_keys: %w", err)
	}
	return out, nil
}

// loadLabels reads the labels of label time from cutoff on.
func (s *Sink) loadLabels(ctx context.Context, cutoff time.Time) ([]consumer.Label, error) {
	where := "label_time_ms >= " + strconv.FormatInt(cutoff.UnixMilli(), 10)
	n, err := s.rowsAtMost(ctx, "labels", where)
	if err != nil {
		return nil, fmt.Errorf("count labels in labels: %w", err)
	}
	rows, err := s.conn.Query(ctx, "SELECT model, prediction_id, label_time_ms, label, label_kind FROM labels FINAL WHERE "+where)
	if err != nil {
		return nil, fmt.Errorf("read labels from labels: %w", err)
	}
	defer rows.Close()
	out := make([]consumer.Label, 0, n)
	in := newInterner()
	var model, text, kind string
	var ms int64
	for rows.Next() {
		var l consumer.Label
		if err := rows.Scan(&model, &l.PredictionID, &ms, &text, &kind); err != nil {
			return nil, fmt.Errorf("read labels from labels: %w", err)
		}
		l.Model, l.Time = in.of(model), time.UnixMilli(ms).UTC()
		if l.Value, err = labelValue(in.of(text), kind); err != nil {
			return nil, fmt.Errorf("read labels from labels: label %s %s: %w: %w", l.Model, l.PredictionID, errInvalidRow, err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read labels from labels: %w", err)
	}
	return out, nil
}

// labelValue is the consumer.Value that label_kind and label (its Text())
// stand for. An unknown kind reads as a string: what counts is the text.
func labelValue(text, kind string) (consumer.Value, error) {
	switch kind {
	case consumer.Number.String():
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return consumer.Value{}, fmt.Errorf("number label %q: %w", text, err)
		}
		return consumer.Value{Kind: consumer.Number, Num: f}, nil
	case consumer.Bool.String():
		v := consumer.Value{Kind: consumer.Bool, Str: text}
		if text == "true" {
			v.Num = 1
		}
		return v, nil
	case consumer.Null.String():
		return consumer.Value{}, nil
	default:
		return consumer.Value{Kind: consumer.String, Str: text}, nil
	}
}

// maxInterned bounds an interner: past it, new strings are kept as read.
const maxInterned = 4096

// interner shares one copy of each of the first maxInterned distinct
// strings (models, versions, segments, label classes: few, and repeated on
// millions of rows).
type interner map[string]string

func newInterner() interner { return make(interner) }

func (in interner) of(s string) string {
	if v, ok := in[s]; ok {
		return v
	}
	if len(in) < maxInterned {
		in[s] = s
	}
	return s
}
