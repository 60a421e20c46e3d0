package clickhouse

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/consumer"
	"github.com/driftwatch/driftwatch/sinks"
	"github.com/driftwatch/driftwatch/stats/drift"
	"github.com/driftwatch/driftwatch/windows"
)

// Integration tests of window_summaries, dead_letters and baselines; see
// integration_test.go for the server they need.

// commitWindows returns a func that commits rows and window summaries in
// one Commit.
func commitWindows(t *testing.T, s *Sink) func(rows []drift.Row, ws ...sinks.WindowSummary) {
	t.Helper()
	return func(rows []drift.Row, ws ...sinks.WindowSummary) {
		t.Helper()
		if err := tryCommit(context.Background(), s, rows, ws...); err != nil {
			t.Fatalf("Commit: %v", err)
		}
	}
}

func tryCommit(ctx context.Context, s *Sink, rows []drift.Row, ws ...sinks.WindowSummary) error {
	a, ok := s.Appender(ctx).(windowAppender)
	if !ok {
		return errors.New("the appender has no AppendWindow")
	}
	if err := a.Append(rows...); err != nil {
		return err
	}
	for _, w := range ws {
		if err := a.AppendWindow(w); err != nil {
			return err
		}
	}
	return a.Commit()
}

// summaryRow is a window_summaries row as read back.
type summaryRow struct {
	model, version string
	start, end     time.Time
	baselineID     string
	records        int64
	subjects       uint32
	drifted        []string
	maxSeverity    string
	closedAt       time.Time
	insertedAt     uint64
}

const summarySelect = "SELECT model, model_version, window_start, window_end, baseline_id, records, subjects, drifted_subjects, max_severity, closed_at, inserted_at FROM window_summaries"

func readSummaries(t *testing.T, conn driver.Conn, query string) []summaryRow {
	t.Helper()
	rows, err := conn.Query(context.Background(), query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []summaryRow
	for rows.Next() {
		var r summaryRow
		if err := rows.Scan(&r.model, &r.version, &r.start, &r.end, &r.baselineID, &r.records, &r.subjects,
			&r.drifted, &r.maxSeverity, &r.closedAt, &r.insertedAt); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func (r summaryRow) matches(w sinks.WindowSummary, subjects uint32, drifted []string, sev string, closedAt time.Time) bool {
	return r.model == w.Model && r.version == w.Version && r.start.Equal(w.Start) && r.end.Equal(w.End) &&
		r.baselineID == w.BaselineID && r.records == w.Records && r.subjects == subjects &&
		slices.Equal(r.drifted, drifted) && r.maxSeverity == sev && r.closedAt.Equal(closedAt) &&
		r.start.Location() == time.UTC && r.closedAt.Location() == time.UTC
}

// TestIntegrationWindowSummary commits two windows' rows with their
// summaries, one window without rows, and a late report's row: each
// summary holds what its rows tell, with the commit's inserted_at.
func TestIntegrationWindowSummary(t *testing.T) {
	cfg, conn := freshDatabase(t)
	closed := time.Date(2026, 11, 23, 12, 0, 7, 0, time.UTC)
	s := openSink(t, cfg, WithClock(func() time.Time { return closed })) // one commit
	h := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)

	rows := testRows(h, 0.25) // amount psi and ks, country js drifted at SEV-3
	pred := rows[0]
	pred.Family, pred.Subject, pred.Metric, pred.Drifted, pred.Severity = drift.FamilyPrediction, "prediction", "psi", true, "SEV-2"
	nulls := rows[0]
	nulls.Family, nulls.Metric = drift.FamilyQuality, drift.MetricNullRate // amount in another family
	rows = append(rows, pred, nulls)
	next := testRows(h.Add(time.Hour), 0.01)
	next[2].Drifted, next[2].Severity = false, ""
	late := testRows(h.Add(-time.Hour), 0.5)[:1] // no summary in this commit
	empty := summaryOf(h.Add(2*time.Hour), 0)
	empty.BaselineID = "fraud-20261120-abc"

	commitWindows(t, s)(slices.Concat(rows, next, late), summaryOf(h, 4000), summaryOf(h.Add(time.Hour), 3900), empty)

	got := readSummaries(t, conn, summarySelect+" FINAL ORDER BY window_start")
	if len(got) != 3 {
		t.Fatalf("window_summaries holds %d rows, want 3: %+v", len(got), got)
	}
	if !got[0].matches(summaryOf(h, 4000), 3, []string{"country", "prediction"}, "SEV-2", closed) {
		t.Errorf("summary of the drifted window = %+v", got[0])
	}
	if !got[1].matches(summaryOf(h.Add(time.Hour), 3900), 2, []string{}, "", closed) {
		t.Errorf("summary of the quiet window = %+v", got[1])
	}
	if !got[2].matches(empty, 0, []string{}, "", closed) {
		t.Errorf("summary of the window without rows = %+v", got[2])
	}
	var metricsAt uint64
	if err := conn.QueryRow(context.Background(), "SELECT any(inserted_at) FROM drift_metrics").Scan(&metricsAt); err != nil {
		t.Fatal(err)
	}
	for _, r := range got {
		if r.insertedAt != metricsAt || r.insertedAt != uint64(closed.UnixNano()) {
			t.Errorf("summary %s inserted_at %d, want the rows' %d (the commit's clock)", r.start, r.insertedAt, metricsAt)
		}
	}
	if n := count(t, conn, "SELECT count() FROM drift_metrics"); n != uint64(len(rows)+len(next)+len(late)) {
		t.Errorf("drift_metrics holds %d rows, want %d", n, len(rows)+len(next)+len(late))
	}
}

// TestIntegrationSummaryOnlyCommit: a window whose features all lacked
// samples commits its summary alone, and counts as committed.
func TestIntegrationSummaryOnlyCommit(t *testing.T) {
	cfg, conn := freshDatabase(t)
	s := openSink(t, cfg, WithClock(stepClock()))
	h := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	commitWindows(t, s)(nil, summaryOf(h, 12))
	if n := count(t, conn, "SELECT count() FROM drift_metrics"); n != 0 {
		t.Errorf("drift_metrics holds %d rows, want 0", n)
	}
	got := readSummaries(t, conn, summarySelect)
	if len(got) != 1 || got[0].records != 12 || got[0].subjects != 0 || len(got[0].drifted) != 0 || got[0].maxSeverity != "" {
		t.Errorf("window_summaries = %+v, want the one summary with no subjects", got)
	}
	done, err := s.Committed(context.Background())
	if k := (windows.Key{Model: "fraud", Version: "1.4.2"}); err != nil || len(done) != 1 || !done[k].Equal(h.Add(time.Hour)) {
		t.Errorf("Committed = %v, %v; want fraud 1.4.2 up to %s", done, err, h.Add(time.Hour))
	}
}

// TestIntegrationSummaryRetry commits a window three times (a retry with
// recomputed figures, then an identical retry): FINAL reads one summary,
// the newest, and the rows are not double-counted either.
func TestIntegrationSummaryRetry(t *testing.T) {
	cfg, conn := freshDatabase(t)
	s := openSink(t, cfg, WithClock(stepClock()))
	for _, table := range []string{"drift_metrics", "window_summaries"} {
		if err := conn.Exec(context.Background(), "SYSTEM STOP MERGES "+table); err != nil {
			t.Fatal(err)
		}
	}
	h := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	commitWindows(t, s)(testRows(h, 0.25), summaryOf(h, 4000))
	retried := testRows(h, 0.27)
	retried[2].Severity = "SEV-2"
	commitWindows(t, s)(retried, summaryOf(h, 4100))
	commitWindows(t, s)(retried, summaryOf(h, 4100))

	stored := uint64(3)
	if s.Features().InsertDedupToken {
		stored = 2 // the identical retry is dropped at insert
	}
	if n := count(t, conn, "SELECT count() FROM window_summaries"); n != stored {
		t.Errorf("stored summaries before merges = %d, want %d", n, stored)
	}
	if n := count(t, conn, "SELECT count() FROM window_summaries FINAL"); n != 1 {
		t.Errorf("summaries read with FINAL = %d, want 1", n)
	}
	if n := count(t, conn, "SELECT toUInt64(sum(records)) FROM window_summaries FINAL"); n != 4100 {
		t.Errorf("records summed over FINAL = %d, want 4100 (the newest summary, once)", n)
	}
	got := readSummaries(t, conn, summarySelect+" FINAL")
	if len(got) != 1 || got[0].maxSeverity != "SEV-2" || !slices.Equal(got[0].drifted, []string{"country"}) {
		t.Errorf("summary after retries = %+v, want the newest (SEV-2)", got)
	}
	if n := count(t, conn, "SELECT count() FROM drift_metrics FINAL"); n != 3 {
		t.Errorf("metric rows read with FINAL = %d, want 3", n)
	}
	if n := count(t, conn, "SELECT toUInt64(countIf(value = 0.27)) FROM drift_metrics FINAL"); n != 1 {
		t.Errorf("recomputed psi rows read with FINAL = %d, want 1", n)
	}
}

// TestIntegrationCrashBetweenInserts: a Commit whose summary insert fails
// after its rows were written leaves a window that Committed does not
// report; the retry writes the summary and replaces the rows.
func TestIntegrationCrashBetweenInserts(t *testing.T) {
	cfg, conn := freshDatabase(t)
	s := openSink(t, cfg, WithClock(stepClock()))
	ctx := context.Background()
	h := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	commitWindows(t, s)(testRows(h, 0.25), summaryOf(h, 4000))

	// The summary insert fails: its table is out of the way.
	if err := conn.Exec(ctx, "RENAME TABLE window_summaries TO window_summaries_away"); err != nil {
		t.Fatal(err)
	}
	next := h.Add(time.Hour)
	err := tryCommit(ctx, s, testRows(next, 0.3), summaryOf(next, 4000))
	if err == nil || !strings.Contains(err.Error(), "into window_summaries") || IsRetryable(err) {
		t.Fatalf("Commit without window_summaries: error = %v (retryable %t), want a permanent error naming window_summaries", err, IsRetryable(err))
	}
	if err := conn.Exec(ctx, "RENAME TABLE window_summaries_away TO window_summaries"); err != nil {
		t.Fatal(err)
	}
	if n := count(t, conn, "SELECT count() FROM drift_metrics WHERE window_start = toDateTime('2026-11-23 03:00:00', 'UTC')"); n != 3 {
		t.Fatalf("the failed commit left %d metric rows, want its 3 (the rows go first)", n)
	}
	done, err := s.Committed(ctx)
	if k := (windows.Key{Model: "fraud", Version: "1.4.2"}); err != nil || !done[k].Equal(next) {
		t.Errorf("Committed after the failed commit = %v, %v; want fraud 1.4.2 up to %s (the window with rows but no summary is not committed)", done, err, next)
	}

	commitWindows(t, s)(testRows(next, 0.3), summaryOf(next, 4000)) // the retry
	done, err = s.Committed(ctx)
	if k := (windows.Key{Model: "fraud", Version: "1.4.2"}); err != nil || !done[k].Equal(next.Add(time.Hour)) {
		t.Errorf("Committed after the retry = %v, %v; want fraud 1.4.2 up to %s", done, err, next.Add(time.Hour))
	}
	if n := count(t, conn, "SELECT count() FROM drift_metrics FINAL"); n != 6 {
		t.Errorf("metric rows read with FINAL = %d, want 6 (3 per window, none twice)", n)
	}
	if n := count(t, conn, "SELECT count() FROM window_summaries FINAL"); n != 2 {
		t.Errorf("summaries read with FINAL = %d, want 2", n)
	}
}

type deadLetterRow struct {
	topic                  string
	partition              int32
	offset                 int64
	recordTime, receivedAt time.Time
	dlTopic, reason, model string
	size                   uint32
	excerpt                string
	insertedAt             uint64
}

func readDeadLetters(t *testing.T, conn driver.Conn, query string) []deadLetterRow {
	t.Helper()
	rows, err := conn.Query(context.Background(), query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []deadLetterRow
	for rows.Next() {
		var r deadLetterRow
		if err := rows.Scan(&r.topic, &r.partition, &r.offset, &r.recordTime, &r.receivedAt, &r.dlTopic, &r.reason,
			&r.model, &r.size, &r.excerpt, &r.insertedAt); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestIntegrationDeadLetters writes dead letters, reads them back (times in
// UTC at the server's precision, the excerpt cut on a character boundary),
// and writes them again: FINAL reads each once, with the newest values.
func TestIntegrationDeadLetters(t *testing.T) {
	cfg, conn := freshDatabase(t)
	s := openSink(t, cfg, WithClock(stepClock()))
	if err := conn.Exec(context.Background(), "SYSTEM STOP MERGES dead_letters"); err != nil {
		t.Fatal(err)
	}
	berlin := time.FixedZone("CET", 3600)
	rec := time.Date(2026, 11, 23, 10, 15, 3, 120e6, berlin)
	got := time.Date(2026, 11, 23, 10, 15, 4, 999e6, berlin)
	long := strings.Repeat("é", MaxExcerptBytes) // 2 bytes each
	long = "{" + long                            // so that byte 1024 is the middle of an é
	dls := []sinks.DeadLetter{
		{Topic: "predictions", Partition: 2, Offset: 41, RecordTime: rec, ReceivedAt: got, DeadLetterTopic: "predictions.dlq",
			Reason: "not_json", Size: 7, Excerpt: "{broken"},
		{Topic: "predictions", Partition: 2, Offset: 42, RecordTime: rec, ReceivedAt: got, DeadLetterTopic: "predictions.dlq",
			Reason: "too_big", Model: "fraud", Size: len(long), Excerpt: long},
		{Topic: "predictions", Partition: 0, Offset: 42, RecordTime: rec.AddDate(0, -1, 0), ReceivedAt: got, DeadLetterTopic: "predictions.dlq",
			Reason: "missing_field", Model: "churn", Size: 2, Excerpt: "{}"},
	}
	if err := s.WriteDeadLetters(context.Background(), dls); err != nil {
		t.Fatal(err)
	}
	prec := time.Second
	if s.Features().DateTime64 {
		prec = time.Millisecond
	}
	const cols = "SELECT topic, kafka_partition, kafka_offset, record_time, received_at, dead_letter_topic, reason, model, size_bytes, excerpt, inserted_at FROM dead_letters"
	read := readDeadLetters(t, conn, cols+" FINAL ORDER BY kafka_partition, kafka_offset")
	if len(read) != 3 {
		t.Fatalf("dead_letters holds %d rows, want 3", len(read))
	}
	byOffset := map[[2]int64]sinks.DeadLetter{}
	for _, d := range dls {
		byOffset[[2]int64{int64(d.Partition), d.Offset}] = d
	}
	for _, r := range read {
		d := byOffset[[2]int64{int64(r.partition), r.offset}]
		want := d.Excerpt
		if len(want) > MaxExcerptBytes {
			want = want[:MaxExcerptBytes-1] // the é across byte 1024 is left out whole
		}
		if r.topic != d.Topic || r.dlTopic != d.DeadLetterTopic || r.reason != d.Reason || r.model != d.Model ||
			r.size != uint32(d.Size) || r.excerpt != want || !utf8.ValidString(r.excerpt) ||
			!r.recordTime.Equal(d.RecordTime.Truncate(prec)) || !r.receivedAt.Equal(d.ReceivedAt.Truncate(prec)) ||
			r.recordTime.Location() != time.UTC || r.receivedAt.Location() != time.UTC {
			t.Errorf("dead letter %s/%d@%d read back as %+v (excerpt %d bytes), want %+v", d.Topic, d.Partition, d.Offset, r, len(r.excerpt), d)
		}
	}

	// A retry, with one reason changed: stored twice until a merge, read once.
	dls[0].Reason = "not_json_object"
	if err := s.WriteDeadLetters(context.Background(), dls); err != nil {
		t.Fatal(err)
	}
	if n := count(t, conn, "SELECT count() FROM dead_letters"); n != 6 {
		t.Errorf("stored dead letters before merges = %d, want 6", n)
	}
	if n := count(t, conn, "SELECT count() FROM dead_letters FINAL"); n != 3 {
		t.Errorf("dead letters read with FINAL = %d, want 3", n)
	}
	read = readDeadLetters(t, conn, cols+" FINAL WHERE kafka_offset = 41")
	if len(read) != 1 || read[0].reason != "not_json_object" {
		t.Errorf("retried dead letter = %+v, want the newest reason", read)
	}
}

// TestIntegrationBaselines writes baselines, reads their documents back
// as baselines.Load reads a file, and writes them again: FINAL reads each
// once.
func TestIntegrationBaselines(t *testing.T) {
	cfg, conn := freshDatabase(t)
	s := openSink(t, cfg, WithClock(stepClock()))
	ctx := context.Background()
	if err := conn.Exec(ctx, "SYSTEM STOP MERGES baselines"); err != nil {
		t.Fatal(err)
	}
	a := testBaseline(t)
	b := *a
	b.ID, b.Model, b.ModelVersion, b.Source = "churn-1", "churn", "", "production 2026-11-01/2026-11-08"
	if err := s.WriteBaselines(ctx, []*baselines.Baseline{a, &b}, ""); err != nil {
		t.Fatal(err)
	}
	type row struct {
		id, model, version string
		created            time.Time
		source             string
		features           uint32
		refRows            int64
		document           string
	}
	read := func() []row {
		rows, err := conn.Query(ctx, "SELECT baseline_id, model, model_version, created_at, source, features, reference_rows, document FROM baselines FINAL ORDER BY model")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.model, &r.version, &r.created, &r.source, &r.features, &r.refRows, &r.document); err != nil {
				t.Fatal(err)
			}
			out = append(out, r)
		}
		return out
	}
	got := read()
	if len(got) != 2 {
		t.Fatalf("baselines holds %d rows, want 2", len(got))
	}
	prec := time.Second
	if s.Features().DateTime64 {
		prec = time.Millisecond
	}
	for i, want := range []*baselines.Baseline{&b, a} { // ordered by model
		r := got[i]
		doc, _ := encodeBaseline(want)
		if r.id != want.ID || r.model != want.Model || r.version != want.ModelVersion || r.source != want.Source ||
			!r.created.Equal(want.CreatedAt.Truncate(prec)) || r.created.Location() != time.UTC ||
			r.features != uint32(len(want.Features)) || r.refRows != want.Rows || r.document != string(doc) {
			t.Errorf("baseline %s read back as %+v", want.ID, r)
		}
		path := filepath.Join(t.TempDir(), "b.json")
		if err := os.WriteFile(path, []byte(r.document), 0o644); err != nil {
			t.Fatal(err)
		}
		loaded, err := baselines.Load(path)
		if err != nil || loaded.ID != want.ID || !loaded.CreatedAt.Equal(want.CreatedAt) || len(loaded.Features) != 3 {
			t.Errorf("baselines.Load of the document of %s = %+v, %v", want.ID, loaded, err)
		}
	}

	// Written again with a source of the caller's: replaced, not doubled.
	if err := s.WriteBaselines(ctx, []*baselines.Baseline{a, &b}, "/etc/driftwatch/baselines"); err != nil {
		t.Fatal(err)
	}
	if n := count(t, conn, "SELECT count() FROM baselines"); n != 4 {
		t.Errorf("stored baselines before merges = %d, want 4", n)
	}
	got = read()
	if len(got) != 2 || got[0].source != "/etc/driftwatch/baselines" || got[1].source != "/etc/driftwatch/baselines" {
		t.Errorf("baselines after the second write = %+v, want each once with the caller's source", got)
	}
}

// TestIntegrationWriteErrors: the new writes fail like drift_metrics
// inserts do: a missing table is permanent and named, a cancelled context
// is permanent, and running out of Config.CommitTimeout is worth a retry.
func TestIntegrationWriteErrors(t *testing.T) {
	cfg, conn := freshDatabase(t)
	s := openSink(t, cfg, WithClock(stepClock()))
	h := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	dl := []sinks.DeadLetter{{Topic: "p", RecordTime: h, ReceivedAt: h, Reason: "not_json", Size: 1, Excerpt: "x"}}
	bs := []*baselines.Baseline{testBaseline(t)}
	writes := map[string]func(ctx context.Context) error{
		"window_summaries": func(ctx context.Context) error { return tryCommit(ctx, s, nil, summaryOf(h, 1)) },
		"dead_letters":     func(ctx context.Context) error { return s.WriteDeadLetters(ctx, dl) },
		"baselines":        func(ctx context.Context) error { return s.WriteBaselines(ctx, bs, "test") },
		"prediction_keys": func(ctx context.Context) error {
			a := s.Appender(ctx).(joinAppender)
			if err := a.AppendPredictionKeys([]windows.PredictionKey{{Model: "fraud", ID: 1, Time: h.UnixMilli()}}); err != nil {
				return err
			}
			return a.Commit()
		},
		"labels": func(ctx context.Context) error {
			a := s.Appender(ctx).(joinAppender)
			if err := a.AppendLabels([]consumer.Label{{PredictionID: "p", Model: "fraud", Time: h, Value: consumer.Value{Kind: consumer.Number, Num: 1}}}); err != nil {
				return err
			}
			return a.Commit()
		},
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for table, write := range writes {
		if err := write(cancelled); err == nil || IsRetryable(err) || !strings.Contains(err.Error(), table) {
			t.Errorf("%s with a cancelled context: error = %v (retryable %t), want a permanent error naming the table", table, err, IsRetryable(err))
		}
		s.cfg.CommitTimeout = time.Nanosecond
		err := write(context.Background())
		s.cfg.CommitTimeout = cfg.CommitTimeout
		if err == nil || !IsRetryable(err) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), table) {
			t.Errorf("%s past CommitTimeout: error = %v (retryable %t), want a retryable deadline error naming the table", table, err, IsRetryable(err))
		}
		if err := conn.Exec(context.Background(), "DROP TABLE "+table); err != nil {
			t.Fatal(err)
		}
		if err := write(context.Background()); err == nil || IsRetryable(err) || !strings.Contains(err.Error(), "into "+table) {
			t.Errorf("%s without its table: error = %v (retryable %t), want a permanent error naming the table", table, err, IsRetryable(err))
		}
	}
}
