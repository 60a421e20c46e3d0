package clickhouse

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/sinks"
)

// MaxExcerptBytes is how many bytes of a dead letter's Excerpt
// dead_letters keeps: the first MaxExcerptBytes, cut back (by at most three
// bytes) to the start of a UTF-8 character, so a multi-byte character is
// never split. Bytes that are not UTF-8 are kept as they are. size_bytes
// keeps the record's full size, so a cut excerpt is visible as shorter.
const MaxExcerptBytes = 1024

// deadLetterColumns is dead_letters' column list, in the order
// WriteDeadLetters appends values.
const deadLetterColumns = "topic, kafka_partition, kafka_offset, record_time, received_at, dead_letter_topic, reason, model, size_bytes, excerpt, inserted_at, record_time_ms"

// baselineColumns is baselines' column list, in the order WriteBaselines
// appends values.
const baselineColumns = "baseline_id, model, model_version, created_at, source, features, reference_rows, document, inserted_at"

// epoch is the earliest time the tables' DateTime columns hold.
var epoch = time.Unix(0, 0)

// WriteDeadLetters inserts dls into dead_letters as one INSERT and returns
// once the server acknowledged it, within Config.CommitTimeout (or ctx's
// earlier deadline). A row's key is (Topic, Partition, Offset): writing a
// dead letter again (a retry) replaces it when parts merge, like a retried
// Commit (read with FINAL or argMax before that). RecordTime and ReceivedAt
// are stored in UTC, in whole seconds before ClickHouse 20.3 and in
// milliseconds after; Excerpt is cut to MaxExcerptBytes.
//
// Every dead letter is written: the times are informational. RecordTime,
// the record's Kafka timestamp, is kept as it is in record_time_ms (unix
// milliseconds; -1 for Kafka's "no timestamp"), and in record_time only
// when a DateTime holds it (MinTime to MaxTime); otherwise record_time
// holds ReceivedAt, and the row counts as RejectTimeClamped (see
// Instrument). A ReceivedAt out of that range (the zero time) becomes the
// sink's clock; a Size is clamped to 0 to 4 GiB. The table is partitioned
// by month of record_time; a failed call whose dead letters span months
// may leave one month's, which the retry replaces.
// Safe for concurrent use; dls is not kept.
func (s *Sink) WriteDeadLetters(ctx context.Context, dls []sinks.DeadLetter) error {
	if len(dls) == 0 {
		return nil
	}
	excerpts := make([]string, len(dls))
	stored := make([]deadLetterTimes, len(dls))
	clamped, example := 0, ""
	for i := range dls {
		d := &dls[i]
		st := &stored[i]
		st.received = d.ReceivedAt
		if !fits(st.received) {
			st.received = s.now()
		}
		st.record = d.RecordTime
		if !fits(st.record) {
			st.record = st.received
			if clamped++; clamped == 1 {
				example = fmt.Sprintf("%s/%d@%d Kafka timestamp %d ms", d.Topic, d.Partition, d.Offset, d.RecordTime.UnixMilli())
			}
		}
		st.size = clampUint32(max(d.Size, 0))
		excerpts[i] = truncateUTF8(d.Excerpt, MaxExcerptBytes)
	}
	s.reject("dead_letters", RejectTimeClamped, clamped, example)
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CommitTimeout)
	defer cancel()
	version := uint64(s.now().UnixNano())
	token := func() string {
		h := newHasher()
		for i := range dls {
			d := &dls[i]
			h.str(d.Topic)
			h.num(uint64(d.Partition))
			h.num(uint64(d.Offset))
			h.time(stored[i].record)
			h.time(stored[i].received)
			h.num(uint64(d.RecordTime.UnixMilli()))
			h.str(d.DeadLetterTopic)
			h.str(d.Reason)
			h.str(d.Model)
			h.num(uint64(stored[i].size))
			h.str(excerpts[i])
		}
		return h.token()
	}
	err := s.send(ctx, "dead_letters", deadLetterColumns, token, len(dls), func(b driver.Batch, i int) error {
		d := &dls[i]
		st := &stored[i]
		if err := b.Append(d.Topic, d.Partition, d.Offset, st.record.UTC(), st.received.UTC(),
			d.DeadLetterTopic, d.Reason, d.Model, st.size, excerpts[i], version, d.RecordTime.UnixMilli()); err != nil {
			return fmt.Errorf("dead letter %s/%d@%d: %w", d.Topic, d.Partition, d.Offset, err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("insert %d dead letters into dead_letters: %w", len(dls), err)
	}
	return nil
}

// deadLetterTimes are the values of a dead letter's row that
// WriteDeadLetters fits into the table.
type deadLetterTimes struct {
	record, received time.Time
	size             uint32
}

// truncateUTF8 returns the first max bytes of s, or fewer so as not to
// cut a UTF-8 character in two: when the character s[max] belongs to
// started before max, it is left out whole. Bytes that are not UTF-8 are
// cut at max.
func truncateUTF8(s string, max int) string {
	if len(s) <= max {
		return s
	}
	for i := max; i >= 0 && i > max-utf8.UTFMax; i-- {
		if !utf8.RuneStart(s[i]) {
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if valid := r != utf8.RuneError || size > 1; valid && i < max && i+size > max {
			return s[:i]
		}
		break
	}
	return s[:max]
}

// WriteBaselines inserts bs into baselines as one INSERT and returns once
// the server acknowledged it, within Config.CommitTimeout (or ctx's earlier
// deadline). A row's key is (model, baseline_id): writing a baseline again
// replaces it when parts merge (read with FINAL or argMax before that).
//
// The columns: baseline_id, model, model_version (the baseline's
// ModelVersion, "" when the reference's version is not known), created_at
// (CreatedAt in UTC, whole seconds before ClickHouse 20.3), source (the
// source argument, for example where the baseline was loaded from, or,
// when it is "", the baseline's own Source: where its reference rows came
// from), features (the number of features, not counting the prediction),
// reference_rows (Rows), and document: the baseline as the baselines
// package writes it (Baseline.Save's indented JSON, with its final newline),
// so baselines.Load reads it back.
//
// A nil baseline, one without an id or model, or one created before 1970
// (including the zero time) fails the whole call before anything is sent,
// with an error IsRetryable calls permanent. Safe for concurrent use; bs
// is not kept or changed.
func (s *Sink) WriteBaselines(ctx context.Context, bs []*baselines.Baseline, source string) error {
	if len(bs) == 0 {
		return nil
	}
	docs := make([][]byte, len(bs))
	for i, b := range bs {
		var why string
		switch {
		case b == nil:
			why = "nil baseline"
		case b.ID == "" || b.Model == "":
			why = "id and model are required"
		case b.CreatedAt.Before(epoch):
			why = "created at " + b.CreatedAt.UTC().Format(time.RFC3339Nano) + ", before 1970"
		}
		if why == "" {
			var err error
			if docs[i], err = encodeBaseline(b); err != nil {
				return fmt.Errorf("insert %d baselines into baselines: %w: %w", len(bs), errInvalidRow, err)
			}
			continue
		}
		id := "(nil)"
		if b != nil {
			id = b.ID
		}
		return fmt.Errorf("insert %d baselines into baselines: baseline %d %s: %w: %s", len(bs), i, id, errInvalidRow, why)
	}
	src := func(b *baselines.Baseline) string {
		if source != "" {
			return source
		}
		return b.Source
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CommitTimeout)
	defer cancel()
	version := uint64(s.now().UnixNano())
	token := func() string {
		h := newHasher()
		for i, b := range bs {
			h.str(b.ID)
			h.str(b.Model)
			h.str(src(b))
			h.str(string(docs[i])) // holds every other column
		}
		return h.token()
	}
	err := s.send(ctx, "baselines", baselineColumns, token, len(bs), func(batch driver.Batch, i int) error {
		b := bs[i]
		if err := batch.Append(b.ID, b.Model, b.ModelVersion, b.CreatedAt.UTC(), src(b),
			clampUint32(len(b.Features)), b.Rows, string(docs[i]), version); err != nil {
			return fmt.Errorf("baseline %s: %w", b.ID, err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("insert %d baselines into baselines: %w", len(bs), err)
	}
	return nil
}

// encodeBaseline is b as Baseline.Save writes it: indented by two spaces,
// with a final newline (TestEncodeBaselineIsSave holds it to that).
func encodeBaseline(b *baselines.Baseline) ([]byte, error) {
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode baseline %s: %w", b.ID, err)
	}
	return append(data, '\n'), nil
}

// clampUint32 is n, a count, as a UInt32 column holds it: at most
// math.MaxUint32.
func clampUint32(n int) uint32 {
	if uint64(n) > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(n)
}
