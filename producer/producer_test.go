package producer

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/goleak"

	"github.com/driftwatch/driftwatch/consumer"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testTimeout bounds a wait for records a test expects.
const testTimeout = 30 * time.Second

// fake starts an in-process broker with the topics predictions (3
// partitions) and labels (1); it stops when the test ends.
func fake(t testing.TB) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "predictions"), kfake.SeedTopics(1, "labels"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// stall holds every produce request c receives until the returned release
// is called (at the latest when the test ends).
func stall(t testing.TB, c *kfake.Cluster) (release func()) {
	ch := make(chan struct{})
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.SleepControl(func() { <-ch })
		return nil, nil, false
	})
	var released bool
	release = func() {
		if !released {
			released = true
			close(ch)
		}
	}
	t.Cleanup(release) // before c.Close, which cleanups run after
	return release
}

// start returns a Producer on c with its metrics on a registry of its
// own, and a clock an hour past at; it is closed when the test ends.
func start(t testing.TB, c *kfake.Cluster, cfg Config) (*Producer, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg.Brokers, cfg.Registerer = c.ListenAddrs(), reg
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return at.Add(time.Hour) }
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if err := p.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return p, reg
}

// metric returns the value of the metric name with the given label values
// (name=value pairs) in reg, or -1 when it has none.
func metric(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for i := 0; i < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					found = found || lp.GetName() == labels[i] && lp.GetValue() == labels[i+1]
				}
				if !found {
					continue next
				}
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return -1
}

// outcomes returns the records_total of topic by outcome.
func counts(t *testing.T, reg *prometheus.Registry, topic string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, o := range []string{"sent", "invalid", "dropped", "failed"} {
		out[o] = metric(t, reg, "driftwatch_producer_records_total", "topic", topic, "outcome", o)
	}
	return out
}

func sameCounts(t *testing.T, what string, got, want map[string]float64) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: records_total %v, want %v", what, got, want)
			return
		}
	}
}

// readAll reads n records of topic from its start through a client with
// the options opts (the brokers among them).
func readAll(t *testing.T, topic string, n int, opts ...kgo.Opt) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(append(opts, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records of %s: %v", len(recs), n, topic, ctx.Err())
		}
		fs.EachError(func(topic string, p int32, err error) { t.Logf("fetch %s/%d: %v", topic, p, err) })
		recs = append(recs, fs.Records()...)
	}
	return recs
}

// TestDelivers: predictions and labels reach their topics keyed by
// prediction id, each as the record the consumer reads back, every record
// of an id in the same partition; they are counted as sent.
func TestDelivers(t *testing.T) {
	c := fake(t)
	p, reg := start(t, c, Config{})
	ids := []string{"a", "b", "c", "d", "e", "f", "a", "b"} // a and b twice: same key, same partition
	for i, id := range ids {
		pr := sample(id)
		pr.Time = at.Add(time.Duration(i) * time.Second)
		if err := p.LogPrediction(pr); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.LogLabel(Label{PredictionID: "a", Model: "fraud", Value: "fraud"}); err != nil { // Time: now
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	partition := map[string]int32{}
	for _, r := range readAll(t, "predictions", len(ids), kgo.SeedBrokers(c.ListenAddrs()...)) {
		rec, err := consumer.Decode(r.Value, 0)
		if err != nil {
			t.Fatalf("%s: %v", r.Value, err)
		}
		if string(r.Key) != rec.PredictionID || rec.Model != "fraud" || len(rec.Features) != 4 {
			t.Errorf("record key %q, value %s", r.Key, r.Value)
		}
		if q, ok := partition[string(r.Key)]; ok && q != r.Partition {
			t.Errorf("key %q in partitions %d and %d", r.Key, q, r.Partition)
		}
		partition[string(r.Key)] = r.Partition
	}
	if len(partition) != 6 {
		t.Errorf("keys %v, want a to f", partition)
	}
	r := readAll(t, "labels", 1, kgo.SeedBrokers(c.ListenAddrs()...))[0]
	l, err := consumer.DecodeLabel(r.Value, 0)
	if err != nil || string(r.Key) != "a" || l.PredictionID != "a" || !l.Time.Equal(at.Add(time.Hour)) || l.Value.Text() != "fraud" {
		t.Errorf("label key %q value %s: %+v, %v", r.Key, r.Value, l, err)
	}
	sameCounts(t, "predictions", counts(t, reg, "predictions"), map[string]float64{"sent": 8, "invalid": 0, "dropped": 0, "failed": 0})
	sameCounts(t, "labels", counts(t, reg, "labels"), map[string]float64{"sent": 1, "invalid": 0, "dropped": 0, "failed": 0})
	if b := metric(t, reg, "driftwatch_producer_buffered_records"); b != 0 {
		t.Errorf("buffered_records %v after Flush, want 0", b)
	}
}

// TestInvalid: a prediction or label that breaks the contract is refused
// at once with the consumer's reason, counted as invalid, and not sent.
func TestInvalid(t *testing.T) {
	c := fake(t)
	p, reg := start(t, c, Config{MaxRecordBytes: 4096})
	with := func(f func(*Prediction)) Prediction {
		pr := sample("x")
		f(&pr)
		return pr
	}
	preds := []struct {
		p            Prediction
		code, detail string
	}{
		{with(func(p *Prediction) { p.ID = "" }), consumer.ReasonMissingField, "prediction_id is empty"},
		{with(func(p *Prediction) { p.Model = "" }), consumer.ReasonMissingField, "model is empty"},
		{with(func(p *Prediction) { p.ModelVersion = "" }), consumer.ReasonMissingField, "model_version is empty"},
		{with(func(p *Prediction) { p.Prediction = nil }), consumer.ReasonMissingField, "prediction"},
		{with(func(p *Prediction) { p.Prediction = true }), consumer.ReasonWrongType, "prediction: want number or string"},
		{with(func(p *Prediction) { p.Features["amount"] = []float64{1} }), consumer.ReasonWrongType, "features.amount: want a number, string, bool or nil, got []float64"},
		{with(func(p *Prediction) { p.Features["amount"] = map[string]any{} }), consumer.ReasonWrongType, "features.amount: want a number, string, bool or nil"},
		{with(func(p *Prediction) { p.Features["amount"] = math.NaN() }), consumer.ReasonWrongType, "features.amount: NaN is not a number JSON can hold"},
		{with(func(p *Prediction) { p.Features["amount"] = float32(math.Inf(1)) }), consumer.ReasonWrongType, "features.amount: +Inf"},
		{with(func(p *Prediction) { p.Scores["fraud"] = math.Inf(-1) }), consumer.ReasonWrongType, "scores.fraud: -Inf"},
		{with(func(p *Prediction) { p.Prediction = math.NaN() }), consumer.ReasonWrongType, "prediction: NaN"},
		{with(func(p *Prediction) { p.Label = struct{}{} }), consumer.ReasonWrongType, "label: want a number"},
		{with(func(p *Prediction) { p.Time = time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC) }), consumer.ReasonBadTimestamp, "outside the accepted"},
		{with(func(p *Prediction) { p.Time = consumer.MaxEventTime }), consumer.ReasonBadTimestamp, "outside the accepted"},
		{with(func(p *Prediction) { p.Time = at.Add(2*time.Hour + time.Millisecond) }), consumer.ReasonBadTimestamp, "more than 1h0m0s ahead of the clock"},
		{with(func(p *Prediction) { p.Features["blob"] = strings.Repeat("x", 4096) }), consumer.ReasonTooBig, ""},
	}
	for _, c := range preds {
		err := p.LogPrediction(c.p)
		var de *consumer.DecodeError
		if !errors.As(err, &de) || de.Code != c.code || !strings.Contains(de.Detail, c.detail) || !strings.Contains(err.Error(), `prediction "`+c.p.ID+`"`) {
			t.Errorf("LogPrediction: %v; want %s: ...%s... naming the prediction", err, c.code, c.detail)
		}
	}
	labels := []struct {
		l            Label
		code, detail string
	}{
		{Label{Model: "fraud", Value: 1}, consumer.ReasonMissingField, "prediction_id is empty"},
		{Label{PredictionID: "x", Value: 1}, consumer.ReasonMissingField, "model is empty"},
		{Label{PredictionID: "x", Model: "fraud"}, consumer.ReasonMissingField, "label"},
		{Label{PredictionID: "x", Model: "fraud", Value: []int{1}}, consumer.ReasonWrongType, "label: want a number, string, bool or nil"},
		{Label{PredictionID: "x", Model: "fraud", Value: math.Inf(1)}, consumer.ReasonWrongType, "label: +Inf"},
		{Label{PredictionID: "x", Model: "fraud", Value: 1, Time: time.Unix(0, 0)}, consumer.ReasonBadTimestamp, "outside the accepted"},
		{Label{PredictionID: strings.Repeat("x", 4096), Model: "fraud", Value: 1}, consumer.ReasonTooBig, ""},
	}
	for _, c := range labels {
		err := p.LogLabel(c.l)
		var de *consumer.DecodeError
		if !errors.As(err, &de) || de.Code != c.code || !strings.Contains(de.Detail, c.detail) {
			t.Errorf("LogLabel(%+v): %v; want %s: ...%s...", c.l, err, c.code, c.detail)
		}
	}
	// The clock's edge: exactly max_future ahead is accepted; labels are
	// not held to it (as the consumer holds them to the range only).
	if err := p.LogPrediction(with(func(p *Prediction) { p.Time = at.Add(2 * time.Hour) })); err != nil {
		t.Errorf("a prediction max_future ahead: %v", err)
	}
	if err := p.LogLabel(Label{PredictionID: "x", Model: "fraud", Value: 1, Time: at.Add(48 * time.Hour)}); err != nil {
		t.Errorf("a label two days ahead: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sameCounts(t, "predictions", counts(t, reg, "predictions"), map[string]float64{"sent": 1, "invalid": float64(len(preds)), "dropped": 0, "failed": 0})
	sameCounts(t, "labels", counts(t, reg, "labels"), map[string]float64{"sent": 1, "invalid": float64(len(labels)), "dropped": 0, "failed": 0})
}

// TestMaxFutureConfig: MaxFuture sets the max_future rule, 0 is the
// consumer's default (1h), and a negative one turns it off.
func TestMaxFutureConfig(t *testing.T) {
	c := fake(t)
	for _, tc := range []struct {
		max time.Duration
		ok  bool
	}{{0, false}, {time.Minute, false}, {3 * time.Hour, true}, {-1, true}} {
		p, _ := start(t, c, Config{MaxFuture: tc.max})
		pr := sample("x")
		pr.Time = at.Add(3 * time.Hour) // two hours ahead of start's clock
		if err := p.LogPrediction(pr); (err == nil) != tc.ok {
			t.Errorf("MaxFuture %v, a prediction two hours ahead: %v, want accepted %v", tc.max, err, tc.ok)
		}
	}
}

// TestBufferFull: with Buffer records waiting (the broker stalls), a
// prediction or label is dropped at once, reported and counted, and the
// buffered gauge shows the waiting record; the drops leave the waiting
// record alone, which is sent once the broker answers.
func TestBufferFull(t *testing.T) {
	c := fake(t)
	release := stall(t, c)
	p, reg := start(t, c, Config{Buffer: 1})
	if err := p.LogPrediction(sample("a")); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := p.LogPrediction(sample("b")); err != ErrBufferFull {
			t.Errorf("LogPrediction with a full buffer: %v, want ErrBufferFull", err)
		}
	}
	if err := p.LogLabel(Label{PredictionID: "a", Model: "fraud", Value: 1}); err != ErrBufferFull {
		t.Errorf("LogLabel with a full buffer: %v, want ErrBufferFull", err)
	}
	if b := metric(t, reg, "driftwatch_producer_buffered_records"); b != 1 {
		t.Errorf("buffered_records %v, want 1", b)
	}
	release()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sameCounts(t, "predictions", counts(t, reg, "predictions"), map[string]float64{"sent": 1, "invalid": 0, "dropped": 3, "failed": 0})
	sameCounts(t, "labels", counts(t, reg, "labels"), map[string]float64{"sent": 0, "invalid": 0, "dropped": 1, "failed": 0})
	if err := p.LogLabel(Label{PredictionID: "a", Model: "fraud", Value: 1}); err != nil {
		t.Errorf("LogLabel once the buffer drained: %v", err)
	}
}

// TestCloseFlushes: Close delivers what waits; afterwards records are
// refused with ErrClosed, and a second Close does nothing.
func TestCloseFlushes(t *testing.T) {
	c := fake(t)
	p, reg := start(t, c, Config{Opts: []kgo.Opt{kgo.ManualFlushing()}}) // nothing leaves before Close flushes
	const n = 50
	for i := range n {
		if err := p.LogPrediction(sample(NewID())); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	sameCounts(t, "predictions", counts(t, reg, "predictions"), map[string]float64{"sent": n, "failed": 0})
	if got := len(readAll(t, "predictions", n, kgo.SeedBrokers(c.ListenAddrs()...))); got != n {
		t.Errorf("read %d records, want %d", got, n)
	}
	if err := p.LogPrediction(sample("late")); err != ErrClosed {
		t.Errorf("LogPrediction after Close: %v, want ErrClosed", err)
	}
	if err := p.LogLabel(Label{PredictionID: "a", Model: "fraud", Value: 1}); err != ErrClosed {
		t.Errorf("LogLabel after Close: %v, want ErrClosed", err)
	}
	if err := p.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestCloseDeadline: records still waiting when Close's deadline passes
// (the broker stalls) fail, are counted, and Close says how many; it does
// not wait for the broker.
func TestCloseDeadline(t *testing.T) {
	c := fake(t)
	stall(t, c)
	p, reg := start(t, c, Config{})
	for _, id := range []string{"a", "b"} {
		if err := p.LogPrediction(sample(id)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := p.Close(ctx)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "2 records not delivered") {
		t.Errorf("Close past its deadline: %v, want 2 records not delivered", err)
	}
	sameCounts(t, "predictions", counts(t, reg, "predictions"), map[string]float64{"sent": 0, "failed": 2})
	if b := metric(t, reg, "driftwatch_producer_buffered_records"); b != 0 {
		t.Errorf("buffered_records %v after Close, want 0", b)
	}
}

// TestNew: a Config without brokers, and a second Producer on the same
// registerer, are refused; without a Registerer, nothing is registered.
func TestNew(t *testing.T) {
	if _, err := New(Config{}); err == nil || !strings.Contains(err.Error(), "no brokers") {
		t.Errorf("New without brokers: %v", err)
	}
	c := fake(t)
	_, reg := start(t, c, Config{})
	if _, err := New(Config{Brokers: c.ListenAddrs(), Registerer: reg}); err == nil || !strings.Contains(err.Error(), "register metrics") {
		t.Errorf("a second Producer on one registerer: %v", err)
	}
	p, err := New(Config{Brokers: c.ListenAddrs()})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestFailedCounted: a record the consumer would accept but the client
// cannot send (larger than franz-go's batch limit, 1,000,012 bytes by
// default, and under MaxRecordBytes, 1 MiB) is queued, fails, is counted
// as failed and logged; the records around it are sent.
func TestFailedCounted(t *testing.T) {
	c := fake(t)
	var log bytes.Buffer
	p, reg := start(t, c, Config{Log: slog.New(slog.NewTextHandler(&log, nil))})
	big := sample("big")
	big.Features["blob"] = strings.Repeat("x", 1_000_100)
	for _, pr := range []Prediction{sample("a"), big, sample("b")} {
		if err := p.LogPrediction(pr); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := p.Close(ctx); err != nil { // once it returns, every outcome is counted
		t.Fatal(err)
	}
	sameCounts(t, "predictions", counts(t, reg, "predictions"), map[string]float64{"sent": 2, "invalid": 0, "dropped": 0, "failed": 1})
	if !strings.Contains(log.String(), "records not delivered") || !strings.Contains(log.String(), "MESSAGE_TOO_LARGE") || strings.Count(log.String(), "\n") > 1 {
		t.Errorf("log:\n%s\nwant one line on the record not delivered", log.String())
	}
}
