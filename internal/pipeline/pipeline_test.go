package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/consumer"
	"github.com/driftwatch/driftwatch/sinks"
	"github.com/driftwatch/driftwatch/sinks/jsonl"
	"github.com/driftwatch/driftwatch/stats/drift"
	"github.com/driftwatch/driftwatch/windows"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// failingSink fails every commit after the first ok ones.
type failingSink struct {
	mu      sync.Mutex
	ok      int
	commits int
}

func (s *failingSink) Appender(context.Context) sinks.Appender { return &failingAppender{s: s} }
func (s *failingSink) Close() error                            { return nil }

type failingAppender struct{ s *failingSink }

func (a *failingAppender) Append(...drift.Row) error { return nil }
func (a *failingAppender) Rollback() error           { return nil }
func (a *failingAppender) Commit() error {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	if a.s.commits >= a.s.ok {
		return errors.New("disk full")
	}
	a.s.commits++
	return nil
}

// ackSource emits one batch per hour of records and records the acks.
type ackSource struct {
	base  *baselines.Baseline
	hours int
	mu    sync.Mutex
	acks  []error
}

func (s *ackSource) Counts() consumer.Counts { return consumer.Counts{} }

func (s *ackSource) Run(ctx context.Context, out chan<- consumer.Batch) error {
	defer close(out)
	t0 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	for h := range s.hours {
		bb := consumer.NewBatchBuilder(s.base)
		for i := range 200 {
			ts := t0.Add(time.Duration(h)*time.Hour + time.Duration(i)*time.Second)
			bb.Append(&consumer.Record{PredictionID: "x", Model: "m", ModelVersion: "1", Timestamp: ts,
				Features: map[string]consumer.Value{"x": {Kind: consumer.Number, Num: float64(i % 3)}}, Prediction: consumer.Value{Kind: consumer.Number, Num: 1}})
		}
		b := consumer.Batch{Model: "m", Baseline: s.base, Rec: bb.NewRecordBatch(), Watermark: t0.Add(time.Duration(h+1) * time.Hour),
			Ack: func(err error) { s.mu.Lock(); s.acks = append(s.acks, err); s.mu.Unlock() }}
		bb.Release()
		select {
		case out <- b:
		case <-ctx.Done():
			b.Rec.Release()
			return nil
		}
	}
	return nil
}

func baseline() *baselines.Baseline {
	num := func(name string) baselines.Feature {
		return baselines.Feature{Name: name, Kind: baselines.Numeric, Count: 3, Edges: []float64{0, 1, 2}, Counts: []int64{0, 1, 1, 1}, Sums: []float64{0, 0, 1, 2}, Std: 0.8}
	}
	return &baselines.Baseline{Format: 1, ID: "b", Model: "m", Features: []baselines.Feature{num("x")}, Prediction: num("prediction")}
}

// TestSinkFailureStopsAndNothingIsAcked checks that once a commit fails the
// pipeline stops with that error, and no batch after the committed ones is
// acknowledged as durable.
func TestSinkFailureStopsAndNothingIsAcked(t *testing.T) {
	src := &ackSource{base: baseline(), hours: 6}
	p := &Pipeline{
		Source:    src,
		Windows:   windows.Config{Size: time.Hour, FlushAtEnd: true},
		Evaluator: drift.NewEvaluator(drift.DefaultPolicy(), nil),
		Sink:      &failingSink{ok: 2},
	}
	err := p.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Run = %v, want the sink's error", err)
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	var ok int
	for _, a := range src.acks {
		if a == nil {
			ok++
		}
	}
	// Batch h is in window h only: the first two windows commit, the third
	// fails, and later ones are never committed.
	if ok != 2 || len(src.acks) > 3 {
		t.Fatalf("acks %v: want exactly 2 successes and at most one failure", src.acks)
	}
}

func TestCommitsEveryWindowInOrder(t *testing.T) {
	src := &ackSource{base: baseline(), hours: 5}
	var starts []time.Time
	p := &Pipeline{
		Source:    src,
		Windows:   windows.Config{Size: time.Hour, FlushAtEnd: true},
		Evaluator: drift.NewEvaluator(drift.DefaultPolicy(), nil),
		Sink:      &failingSink{ok: 100},
		OnCommit:  func(r Result) { starts = append(starts, r.Window.Start) },
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(starts) != 5 || len(src.acks) != 5 {
		t.Fatalf("committed %d windows, %d acks", len(starts), len(src.acks))
	}
	for i := 1; i < len(starts); i++ {
		if !starts[i].After(starts[i-1]) {
			t.Fatalf("windows out of order: %v", starts)
		}
	}
	if c := p.Counts(); c.Windows.Closed != 5 || c.Windows.Records != 1000 {
		t.Fatalf("counts %+v", c)
	}
}

// TestServingGauges: committed windows' serving rows set the latency and
// throughput gauges of their model version.
func TestServingGauges(t *testing.T) {
	src := &ackSource{base: baseline(), hours: 2}
	p := &Pipeline{Source: src, Windows: windows.Config{Size: time.Hour, FlushAtEnd: true},
		Evaluator: drift.NewEvaluator(drift.DefaultPolicy(), nil), Sink: &failingSink{ok: 100}}
	reg := prometheus.NewRegistry()
	RegisterMetrics(reg, p)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP driftwatch_serving_throughput_rps Records per second of the newest committed window, per model version.
# TYPE driftwatch_serving_throughput_rps gauge
driftwatch_serving_throughput_rps{model="m",model_version="1"} 0.05555555555555555
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "driftwatch_serving_throughput_rps"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(reg, "driftwatch_serving_latency_ms"); n != 3 {
		t.Errorf("%d latency series, want p50, p95 and p99 of the one model version", n)
	}
	// A variant's latency rows (subject variant=<name>) follow the
	// model's: the gauge keeps the model's.
	head := drift.Row{Model: "m", ModelVersion: "1", WindowStart: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), Family: drift.FamilyServing}
	model, variant := head, head
	model.Subject, model.Metric, model.Value = "latency_ms", drift.MetricLatencyP50, 12
	variant.Subject, variant.Metric, variant.Value = "variant=shadow", drift.MetricLatencyP50, 99
	p.observe(Result{Rows: []drift.Row{model, variant}}, 0)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var p50 []float64
	for _, mf := range mfs {
		if mf.GetName() != "driftwatch_serving_latency_ms" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "quantile" && l.GetValue() == "0.5" {
					p50 = append(p50, m.GetGauge().GetValue())
				}
			}
		}
	}
	if len(p50) != 1 || p50[0] != 12 {
		t.Errorf("latency p50 gauge %v, want the model's 12 (not the shadow's 99)", p50)
	}
}

// scriptSource emits prepared batches, then either returns (bounded) or
// waits for ctx like a daemon's source.
type scriptSource struct {
	batches []func(ack func(error)) consumer.Batch
	acks    []chan error
	wait    bool
}

func (s *scriptSource) Counts() consumer.Counts { return consumer.Counts{} }

func (s *scriptSource) Run(ctx context.Context, out chan<- consumer.Batch) error {
	defer close(out)
	for i, mk := range s.batches {
		b := mk(func(err error) { s.acks[i] <- err })
		select {
		case out <- b:
		case <-ctx.Done():
			b.Rec.Release()
			return nil
		}
	}
	if s.wait {
		<-ctx.Done()
	}
	return nil
}

// TestRestartDoesNotReemitCommittedWindows: a batch with records of a
// committed window and of an open one is not acknowledged, so after a crash
// it is read again; its records of the committed window must not re-open
// that window with part of its records.
func TestRestartDoesNotReemitCommittedWindows(t *testing.T) {
	base := baseline()
	t0 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	mk := func(wm time.Duration, at ...time.Duration) func(func(error)) consumer.Batch {
		return func(ack func(error)) consumer.Batch {
			bb := consumer.NewBatchBuilder(base)
			defer bb.Release()
			for _, d := range at {
				bb.Append(&consumer.Record{PredictionID: "x", Model: "m", ModelVersion: "1", Timestamp: t0.Add(d),
					Features: map[string]consumer.Value{"x": {Kind: consumer.Number, Num: 1}}, Prediction: consumer.Value{Kind: consumer.Number, Num: 1}})
			}
			return consumer.Batch{Model: "m", Baseline: base, Rec: bb.NewRecordBatch(), Watermark: t0.Add(wm), Ack: ack}
		}
	}
	var first []time.Duration
	for i := range 150 {
		first = append(first, time.Duration(i)*10*time.Second) // 00:00-00:25
	}
	batches := []func(func(error)) consumer.Batch{
		mk(25*time.Minute, first...),
		mk(70*time.Minute, 50*time.Minute, 55*time.Minute, 65*time.Minute), // window 0 and 1
		mk(80*time.Minute, 75*time.Minute),                                 // closes window 0 (lateness 10m)
	}
	path := t.TempDir() + "/rows.jsonl"
	newPipeline := func(src Source, sink sinks.Sink, flush bool, onCommit func(Result)) *Pipeline {
		return &Pipeline{Source: src, Sink: sink, OnCommit: onCommit,
			Windows:   windows.Config{Size: time.Hour, Lateness: 10 * time.Minute, FlushAtEnd: flush},
			Evaluator: drift.NewEvaluator(drift.DefaultPolicy(), nil)}
	}

	// Run 1: window 0 commits, then the process dies.
	s1, err := jsonl.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	src1 := &scriptSource{batches: batches, acks: []chan error{make(chan error, 1), make(chan error, 1), make(chan error, 1)}, wait: true}
	ctx, cancel := context.WithCancel(context.Background())
	if err := newPipeline(src1, s1, false, func(Result) { cancel() }).Run(ctx); err != nil {
		t.Fatal(err)
	}
	s1.Close()
	var unacked []func(func(error)) consumer.Batch
	for i, ch := range src1.acks {
		select {
		case err := <-ch:
			if err != nil {
				t.Fatal(err)
			}
		default:
			unacked = append(unacked, batches[i])
		}
	}
	if len(unacked) != 2 {
		t.Fatalf("%d batches unacknowledged after window 0 committed, want 2 (they hold window 1)", len(unacked))
	}

	// Run 2 re-reads the unacknowledged batches to the end.
	s2, err := jsonl.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	src2 := &scriptSource{batches: unacked, acks: []chan error{make(chan error, 1), make(chan error, 1)}}
	p2 := newPipeline(src2, s2, true, nil)
	if err := p2.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c := p2.Counts(); c.Windows.Resumed != 2 {
		t.Errorf("resumed %d records, want the 2 of window 0 in the re-read batch", c.Windows.Resumed)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string][]float64{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var r drift.Row
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		if r.Subject == "x" && r.Metric == drift.MetricNullRate {
			counts[r.WindowStart.Format("15:04")] = append(counts[r.WindowStart.Format("15:04")], float64(r.NCurrent))
		}
	}
	if fmt.Sprint(counts) != "map[00:00:[152] 01:00:[2]]" {
		t.Fatalf("null_rate rows' n_current per window: %v; want window 0 once with all 152 records", counts)
	}
}

// outageSink fails every commit while down is set, and records the window
// of each committed batch of rows.
type outageSink struct {
	mu        sync.Mutex
	down      bool
	committed []time.Time
}

func (s *outageSink) Appender(context.Context) sinks.Appender { return &outageAppender{s: s} }
func (s *outageSink) Close() error                            { return nil }
func (s *outageSink) set(down bool)                           { s.mu.Lock(); s.down = down; s.mu.Unlock() }

type outageAppender struct {
	s    *outageSink
	rows []drift.Row
}

func (a *outageAppender) Append(rows ...drift.Row) error {
	a.rows = append(a.rows, rows...)
	return nil
}
func (a *outageAppender) Rollback() error { return nil }
func (a *outageAppender) Commit() error {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	if a.s.down {
		return errors.New("connection refused")
	}
	a.s.committed = append(a.s.committed, a.rows[0].WindowStart)
	return nil
}

// TestSinkOutageIsRetriedAndCaughtUp: with Retry set, a sink outage pauses
// the job instead of stopping it. Nothing is acknowledged while the sink is
// down, the job reports itself not ready, and when the sink returns every
// window is committed exactly once and acknowledged.
func TestSinkOutageIsRetriedAndCaughtUp(t *testing.T) {
	src := &ackSource{base: baseline(), hours: 6}
	sink := &outageSink{down: true}
	p := &Pipeline{
		Source:    src,
		Windows:   windows.Config{Size: time.Hour, FlushAtEnd: true},
		Evaluator: drift.NewEvaluator(drift.DefaultPolicy(), nil),
		Sink:      sink,
		Retry:     &Retry{Initial: time.Millisecond, Max: 5 * time.Millisecond},
	}
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background()) }()
	deadline := time.Now().Add(10 * time.Second)
	for p.CommitFailures() < 5 {
		if time.Now().After(deadline) {
			t.Fatal("no retries within 10s")
		}
		time.Sleep(time.Millisecond)
	}
	if ok, since := p.Ready(); ok || since.IsZero() {
		t.Errorf("Ready() = %v, %v during the outage", ok, since)
	}
	src.mu.Lock()
	acked := len(src.acks)
	src.mu.Unlock()
	if acked != 0 {
		t.Errorf("%d batches acknowledged while the sink was down", acked)
	}
	sink.set(false)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if ok, _ := p.Ready(); !ok {
		t.Error("not ready after the sink recovered")
	}
	seen := map[time.Time]int{}
	for _, w := range sink.committed {
		seen[w]++
	}
	if len(sink.committed) != 6 || len(seen) != 6 {
		t.Errorf("committed windows %v: want 6, each once", sink.committed)
	}
	for _, a := range src.acks {
		if a != nil {
			t.Errorf("ack error %v", a)
		}
	}
	if len(src.acks) != 6 {
		t.Errorf("%d acks, want 6", len(src.acks))
	}
}

// TestRetryStopsWithTheJob: a sink that never returns does not keep a
// stopping job alive.
func TestRetryStopsWithTheJob(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := &Pipeline{
		Source:    &ackSource{base: baseline(), hours: 3},
		Windows:   windows.Config{Size: time.Hour, FlushAtEnd: true},
		Evaluator: drift.NewEvaluator(drift.DefaultPolicy(), nil),
		Sink:      &outageSink{down: true},
		Retry:     &Retry{Initial: time.Millisecond, Max: 5 * time.Millisecond},
	}
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	for p.CommitFailures() < 2 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "connection refused") && !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

// TestPermanentSinkErrorStops: an error the sink says is not worth retrying
// (bad credentials, say) stops the run at once with nothing acknowledged.
func TestPermanentSinkErrorStops(t *testing.T) {
	src := &ackSource{base: baseline(), hours: 3}
	p := &Pipeline{
		Source:    src,
		Windows:   windows.Config{Size: time.Hour, FlushAtEnd: true},
		Evaluator: drift.NewEvaluator(drift.DefaultPolicy(), nil),
		Sink:      &outageSink{down: true},
		Retry:     &Retry{Initial: time.Millisecond, Max: time.Millisecond, Retryable: func(error) bool { return false }},
	}
	err := p.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "connection refused") || p.CommitFailures() != 1 {
		t.Fatalf("Run = %v after %d attempts, want the sink's error after 1", err, p.CommitFailures())
	}
	for _, a := range src.acks {
		if a == nil {
			t.Fatal("a batch was acknowledged")
		}
	}
}

// auditSource hands n dead letters to Audit, then ends; it records what
// their acknowledgements said.
type auditSource struct {
	p     *Pipeline
	n     int
	mu    sync.Mutex
	dones []error
}

func (s *auditSource) Counts() consumer.Counts { return consumer.Counts{} }

func (s *auditSource) Run(ctx context.Context, out chan<- consumer.Batch) error {
	defer close(out)
	for i := range s.n {
		s.p.Audit(consumer.DeadLetter{Topic: "t", Offset: int64(i), Reason: "not_json", Value: []byte("{"), Timestamp: time.Unix(1, 0), Received: time.Unix(2, 0)},
			func(err error) { s.mu.Lock(); s.dones = append(s.dones, err); s.mu.Unlock() })
	}
	return nil
}

// TestDeadLetterAudit: dead letters are written in batches, retried while
// the writer fails, acknowledged only once written, and a bounded run ends
// once they are; a permanent failure fails them and stops the run.
func TestDeadLetterAudit(t *testing.T) {
	var (
		mu       sync.Mutex
		written  = map[int64]bool{}
		attempts int
	)
	p := &Pipeline{Windows: windows.Config{FlushAtEnd: true}, Evaluator: drift.NewEvaluator(drift.DefaultPolicy(), nil), Sink: &failingSink{ok: 100},
		Retry: &Retry{Initial: time.Millisecond, Max: 5 * time.Millisecond, Retryable: func(err error) bool { return err.Error() != "permanent" }}}
	src := &auditSource{p: p, n: 2500}
	p.Source = src
	p.DeadLetters = func(_ context.Context, dls []sinks.DeadLetter) error {
		mu.Lock()
		defer mu.Unlock()
		if attempts++; attempts <= 2 {
			return errors.New("connection refused")
		}
		if len(dls) > auditBatch {
			t.Errorf("a write of %d dead letters, more than %d", len(dls), auditBatch)
		}
		for _, d := range dls {
			if d.Size != 1 || d.Excerpt != "{" || d.Reason != "not_json" {
				t.Errorf("dead letter %+v", d)
			}
			written[d.Offset] = true
		}
		return nil
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(written) != src.n || len(src.dones) != src.n {
		t.Fatalf("%d written, %d acknowledged, want %d", len(written), len(src.dones), src.n)
	}
	for _, err := range src.dones {
		if err != nil {
			t.Fatalf("acknowledged with %v", err)
		}
	}
	if p.CommitFailures() != 2 {
		t.Errorf("%d failures counted, want 2", p.CommitFailures())
	}

	p = &Pipeline{Windows: windows.Config{FlushAtEnd: true}, Evaluator: drift.NewEvaluator(drift.DefaultPolicy(), nil), Sink: &failingSink{ok: 100},
		Retry:       &Retry{Initial: time.Millisecond, Max: 5 * time.Millisecond, Retryable: func(err error) bool { return err.Error() != "permanent" }},
		DeadLetters: func(context.Context, []sinks.DeadLetter) error { return errors.New("permanent") }}
	src = &auditSource{p: p, n: 3}
	p.Source = src
	if err := p.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "permanent") {
		t.Fatalf("Run = %v, want the permanent write error", err)
	}
	if len(src.dones) != src.n {
		t.Fatalf("%d of %d dead letters acknowledged", len(src.dones), src.n)
	}
	for _, err := range src.dones {
		if err == nil {
			t.Fatal("a dead letter acknowledged as written after a permanent failure")
		}
	}
}

// syncAlerts is an Alerts whose state changes become durable only when the
// test says so: Sync blocks until release is closed.
type syncAlerts struct {
	release  chan struct{}
	observed chan struct{} // one per Observe
}

func (a *syncAlerts) Classify([]drift.Row)      {}
func (a *syncAlerts) Observe([]drift.Row, bool) { a.observed <- struct{}{} }
func (a *syncAlerts) Sync(ctx context.Context) error {
	select {
	case <-a.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TestAckWaitsForDurableAlerts: a window is acknowledged (its offsets may
// be committed) only once the alert state changes it caused are durable,
// so that a job killed right after the acknowledgement finds them when it
// reads its firing alerts back; until then, and if the job stops first,
// it is not acknowledged.
func TestAckWaitsForDurableAlerts(t *testing.T) {
	src := &ackSource{base: baseline(), hours: 1}
	al := &syncAlerts{release: make(chan struct{}), observed: make(chan struct{}, 4)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := &Pipeline{
		Source:    src,
		Windows:   windows.Config{Size: time.Hour, FlushAtEnd: true},
		Evaluator: drift.NewEvaluator(drift.DefaultPolicy(), nil),
		Sink:      &failingSink{ok: 100},
		Alerts:    al,
	}
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	<-al.observed // the window's rows are written and its alerts observed
	src.mu.Lock()
	acks := len(src.acks)
	src.mu.Unlock()
	if acks != 0 {
		t.Fatalf("%d acknowledgements before the alerts were durable", acks)
	}
	close(al.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(src.acks) != 1 || src.acks[0] != nil {
		t.Fatalf("acks %v, want one success", src.acks)
	}

	// A job stopped while its alerts are not durable acknowledges nothing.
	src = &ackSource{base: baseline(), hours: 1}
	al = &syncAlerts{release: make(chan struct{}), observed: make(chan struct{}, 4)}
	ctx2, cancel2 := context.WithCancel(context.Background())
	p = &Pipeline{Source: src, Windows: windows.Config{Size: time.Hour, FlushAtEnd: true},
		Evaluator: drift.NewEvaluator(drift.DefaultPolicy(), nil), Sink: &failingSink{ok: 100}, Alerts: al}
	go func() { done <- p.Run(ctx2) }()
	<-al.observed
	cancel2()
	<-done
	for _, a := range src.acks {
		if a == nil {
			t.Fatalf("acks %v: a window acknowledged whose alerts were never durable", src.acks)
		}
	}
}

// volumeSink is a sink that holds the record counts of earlier windows.
type volumeSink struct {
	failingSink
	volumes []drift.WindowVolume
}

func (s *volumeSink) LoadWindowVolumes(context.Context) ([]drift.WindowVolume, error) {
	return s.volumes, nil
}

// TestRestoresWindowVolumes: the record counts of the windows a sink holds
// reach the evaluator before the first window closes, so a restarted job
// judges its volume against them.
func TestRestoresWindowVolumes(t *testing.T) {
	src := &ackSource{base: baseline(), hours: 2}
	t0 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	sink := &volumeSink{failingSink: failingSink{ok: 100}}
	for d := 1; d <= 3; d++ {
		for h := range 2 {
			start := t0.Add(time.Duration(-d)*24*time.Hour + time.Duration(h)*time.Hour)
			sink.volumes = append(sink.volumes, drift.WindowVolume{Key: windows.Key{Model: "m", Version: "1"}, Start: start, End: start.Add(time.Hour), Records: 400})
		}
	}
	var got []drift.Row
	p := &Pipeline{
		Source:    src,
		Windows:   windows.Config{Size: time.Hour, FlushAtEnd: true},
		Evaluator: drift.NewEvaluator(drift.DefaultPolicy(), nil),
		Sink:      sink,
		OnCommit: func(r Result) {
			for _, row := range r.Rows {
				if row.Metric == drift.MetricVolumeRatio {
					got = append(got, row)
				}
			}
		},
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d volume rows, want 2", len(got))
	}
	for _, r := range got {
		if r.ThresholdSource != drift.SourceHistory || r.Value != 0.5 || !r.Drifted {
			t.Errorf("%+v: want 200 records against the 400 of the restored days, drifted", r)
		}
	}
}
